//! FSPIOP-Signature (JWS) signing and validation, with keys from files, the environment or
//! Key Vault.
//!
//! The header (mojaloop.md §1.2) is JSON `{"signature": "<base64url>", "protectedHeader":
//! "<base64url>"}`: a JWS whose payload is the request body, sent detached. The protected
//! header carries `alg` and the FSPIOP headers the signature commits to (`FSPIOP-URI`,
//! `FSPIOP-HTTP-Method`, `FSPIOP-Source`, optional `FSPIOP-Destination` and `Date`).
//!
//! # Layout
//!
//! - [`sign`]: [`sign::Signer`], the hub's RS256 signer for outgoing callbacks;
//! - [`validate`]: [`validate::Validator`], the check of inbound requests, with a closed
//!   [`validate::Rejection`] (every case is FSPIOP 3105 at the edge);
//! - [`keys`]: PEM private and public keys (RSA, EC P-256, certificates);
//! - [`error`]: [`error::KeyError`], why a key could not be loaded, shared by everything
//!   below that reads keys;
//! - [`source`]: the [`source::KeySource`] trait, file and environment sources, and
//!   [`source::CachedKeys`], the refreshing cache;
//! - [`keyvault`]: the Azure Key Vault source;
//! - `pem`: PEM and the little DER a certificate's key needs.

pub mod error;
pub mod keys;
pub mod keyvault;
mod pem;
pub mod sign;
pub mod source;
pub mod validate;

pub use pem::PEM_BYTES_MAX;

/// The `FSPIOP-Signature` value. Field order as Mojaloop writes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct SignatureHeader {
    signature: String,
    #[serde(rename = "protectedHeader")]
    protected_header: String,
}

impl SignatureHeader {
    fn to_json(&self) -> String {
        // Two strings always serialise.
        serde_json::to_string(self).expect("signature header serialises")
    }
}

/// JWS's base64url: no padding when written; padding tolerated when read.
mod base64url {
    use base64::alphabet::URL_SAFE;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    use base64::engine::DecodePaddingMode;
    use base64::Engine;

    const WRITE: GeneralPurpose =
        GeneralPurpose::new(&URL_SAFE, GeneralPurposeConfig::new().with_encode_padding(false));
    const READ: GeneralPurpose = GeneralPurpose::new(
        &URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    pub fn encode(bytes: &[u8]) -> String {
        WRITE.encode(bytes)
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        READ.decode(text).ok()
    }
}
