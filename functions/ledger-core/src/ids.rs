//! Identifiers: transfers (UUID or ULID), FSP names, and the ledger's own numeric keys.

use std::fmt;

/// Longest FSP name the FSPIOP `FspId` type allows.
pub const FSP_ID_LENGTH_MAX: usize = 32;
const UUID_LENGTH: usize = 36;
const ULID_LENGTH: usize = 26;

/// A transfer id as the payer chose it: a lower-case UUID (versions 1 to 7) or a ULID.
///
/// The FSPIOP v1.1 schema only allows UUID versions 1 to 5; which flavour an API version
/// accepts is the wire crate's business, the ledger accepts both.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransferId(String);

/// The shape of a [`TransferId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferIdKind {
    /// A UUID with the given version digit (1..=7).
    Uuid(u8),
    Ulid,
}

impl TransferId {
    /// Accepts `^[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$` or
    /// `^[0-9A-HJKMNP-TV-Z]{26}$`.
    pub fn parse(text: &str) -> Option<TransferId> {
        transfer_id_kind(text).map(|_| TransferId(text.to_string()))
    }

    pub fn kind(&self) -> TransferIdKind {
        transfer_id_kind(&self.0).expect("a TransferId was checked when it was parsed")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn transfer_id_kind(text: &str) -> Option<TransferIdKind> {
    let bytes = text.as_bytes();
    match bytes.len() {
        UUID_LENGTH => uuid_version(bytes).map(TransferIdKind::Uuid),
        ULID_LENGTH if bytes.iter().all(|b| is_crockford(*b)) => Some(TransferIdKind::Ulid),
        _ => None,
    }
}

fn uuid_version(bytes: &[u8]) -> Option<u8> {
    for (idx, byte) in bytes.iter().enumerate() {
        let ok = match idx {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => matches!(byte, b'0'..=b'9' | b'a'..=b'f'),
        };
        if !ok {
            return None;
        }
    }
    let version = bytes[14];
    let variant = bytes[19];
    if !(b'1'..=b'7').contains(&version) || !matches!(variant, b'8' | b'9' | b'a' | b'b') {
        return None;
    }
    Some(version - b'0')
}

fn is_crockford(byte: u8) -> bool {
    matches!(byte, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z')
}

impl fmt::Display for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransferId({})", self.0)
    }
}

/// An FSP's name (FSPIOP `FspId`): 1 to 32 characters, compared exactly.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FspId(String);

impl FspId {
    pub fn parse(text: &str) -> Option<FspId> {
        let n_chars = text.chars().count();
        if n_chars == 0 || FSP_ID_LENGTH_MAX < n_chars {
            return None;
        }
        Some(FspId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Mojaloop compares FSP names case-insensitively in the fulfil route check and the
    /// payer-equals-payee rule.
    pub fn eq_ignore_case(&self, other: &FspId) -> bool {
        self.0.to_lowercase() == other.0.to_lowercase()
    }
}

impl fmt::Display for FspId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FspId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FspId({})", self.0)
    }
}

/// The ledger's key of a participant (`participantId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u64);

/// The ledger's key of a participant-currency account (`participantCurrencyId`): the unit
/// whose position changes are serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u64);

/// The ledger's key of a settlement window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowId(pub u64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for WindowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_ids_accept_uuids_and_ulids_only() {
        let cases = [
            ("b51ec534-ee48-4575-b6a9-ead2955b8069", Some(TransferIdKind::Uuid(4))),
            ("01890f33-6e8c-7b1a-9d8e-0123456789ab", Some(TransferIdKind::Uuid(7))),
            ("01ARZ3NDEKTSV4RRFFQ69G5FAV", Some(TransferIdKind::Ulid)),
            ("B51EC534-EE48-4575-B6A9-EAD2955B8069", None),
            ("b51ec534-ee48-8575-b6a9-ead2955b8069", None),
            ("b51ec534-ee48-4575-c6a9-ead2955b8069", None),
            ("b51ec534ee48-4575-b6a9-ead2955b80690", None),
            ("01ARZ3NDEKTSV4RRFFQ69G5FAU", None),
            ("01arz3ndektsv4rrffq69g5fav", None),
            ("", None),
            (" ", None),
        ];
        for (text, kind) in cases {
            assert_eq!(TransferId::parse(text).map(|it| it.kind()), kind, "{text}");
        }
    }

    #[test]
    fn fsp_ids_are_one_to_thirty_two_characters() {
        assert!(FspId::parse("payerfsp").is_some());
        assert!(FspId::parse(&"x".repeat(32)).is_some());
        assert!(FspId::parse(&"x".repeat(33)).is_none());
        assert!(FspId::parse("").is_none());
        let upper = FspId::parse("PayerFSP").unwrap();
        assert!(upper.eq_ignore_case(&FspId::parse("payerfsp").unwrap()));
        assert_ne!(upper, FspId::parse("payerfsp").unwrap());
    }
}
