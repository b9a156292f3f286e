//! ILP conditions and fulfilments: 32-byte values, base64url without padding on the wire.
//!
//! The ledger only accepts a fulfilment whose SHA-256 equals the transfer's condition
//! (`condition == base64url(sha256(fulfilment))`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;

/// Length of a condition or fulfilment in bytes.
pub const ILP_VALUE_BYTES: usize = 32;
/// Length of its base64url text without padding.
pub const ILP_VALUE_TEXT_LENGTH: usize = 43;

/// The SHA-256 hash the payee's fulfilment must match.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IlpCondition([u8; ILP_VALUE_BYTES]);

/// The 32-byte preimage of a condition.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IlpFulfilment([u8; ILP_VALUE_BYTES]);

impl IlpCondition {
    /// Parses `^[A-Za-z0-9-_]{43}$` that decodes to 32 bytes.
    pub fn from_base64url(text: &str) -> Option<IlpCondition> {
        decode_ilp_value(text).map(IlpCondition)
    }

    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn from_bytes(bytes: [u8; ILP_VALUE_BYTES]) -> IlpCondition {
        IlpCondition(bytes)
    }
}

impl IlpFulfilment {
    pub fn from_base64url(text: &str) -> Option<IlpFulfilment> {
        decode_ilp_value(text).map(IlpFulfilment)
    }

    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn from_bytes(bytes: [u8; ILP_VALUE_BYTES]) -> IlpFulfilment {
        IlpFulfilment(bytes)
    }

    /// The condition this fulfilment satisfies.
    pub fn condition(&self) -> IlpCondition {
        IlpCondition(Sha256::digest(self.0).into())
    }

    pub fn satisfies(&self, condition: &IlpCondition) -> bool {
        self.condition() == *condition
    }
}

fn decode_ilp_value(text: &str) -> Option<[u8; ILP_VALUE_BYTES]> {
    if text.len() != ILP_VALUE_TEXT_LENGTH {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    bytes.try_into().ok()
}

impl fmt::Debug for IlpCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IlpCondition({})", self.to_base64url())
    }
}

impl fmt::Debug for IlpFulfilment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IlpFulfilment({})", self.to_base64url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Testing Toolkit's `validFulfillment` / `validCondition` pair.
    const TTK_FULFILMENT: &str = "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA";
    const TTK_CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";

    #[test]
    fn the_testing_toolkit_pair_matches() {
        let fulfilment = IlpFulfilment::from_base64url(TTK_FULFILMENT).unwrap();
        let condition = IlpCondition::from_base64url(TTK_CONDITION).unwrap();
        assert!(fulfilment.satisfies(&condition));
        assert_eq!(fulfilment.condition().to_base64url(), TTK_CONDITION);
        assert_eq!(fulfilment.to_base64url(), TTK_FULFILMENT);
    }

    #[test]
    fn malformed_values_are_rejected() {
        assert!(IlpCondition::from_base64url("").is_none());
        assert!(IlpCondition::from_base64url(&TTK_CONDITION[..42]).is_none());
        assert!(IlpCondition::from_base64url(&format!("{TTK_CONDITION}=")).is_none());
        assert!(IlpCondition::from_base64url(&TTK_CONDITION.replace('-', "+")).is_none());
        let other = IlpFulfilment::from_bytes([7; 32]);
        assert!(!other.satisfies(&IlpCondition::from_base64url(TTK_CONDITION).unwrap()));
    }
}
