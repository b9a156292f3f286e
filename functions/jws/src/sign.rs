//! The hub's signer: the `FSPIOP-Signature` value (and the `FSPIOP-URI` and
//! `FSPIOP-HTTP-Method` values it commits to) for an outgoing callback, the way Mojaloop's
//! signer builds them (sdk-standard-components `jwsSigner`):
//!
//! - protected header: JSON `{"alg":"RS256","FSPIOP-URI":…,"FSPIOP-HTTP-Method":…,
//!   "FSPIOP-Source":…}` plus `"FSPIOP-Destination"` and `"Date"` when the callback carries
//!   them, in that key order, compact;
//! - signing input: `base64url(protected header) "." base64url(body)`, RS256;
//! - header value: JSON `{"signature":…,"protectedHeader":…}`, both base64url without padding.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use serde::Serialize;

use crate::keys::{Algorithm, PrivateKey};
use crate::{base64url, SignatureHeader};

/// The API resources an `FSPIOP-URI` starts at: Mojaloop's list, plus the v2.0 FX resources
/// the switch also serves.
const URI_RESOURCES: [&str; 13] = [
    "participants",
    "parties",
    "quotes",
    "bulkQuotes",
    "transfers",
    "bulkTransfers",
    "transactionRequests",
    "thirdpartyRequests",
    "authorizations",
    "consents",
    "consentRequests",
    "fxQuotes",
    "fxTransfers",
];

/// What is signed about an outgoing request.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// `PUT`, `POST`, …; signed upper-cased.
    pub method: &'a str,
    /// The callback URL (or its path); `FSPIOP-URI` is derived from it.
    pub url: &'a str,
    pub source: &'a str,
    /// Signed only when present and non-empty, as Mojaloop does.
    pub destination: Option<&'a str>,
    /// The `Date` header; signed only when present and non-empty.
    pub date: Option<&'a str>,
    /// The body exactly as it will be sent.
    pub body: &'a [u8],
}

/// The headers the caller sets on the request; all three must go out together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `FSPIOP-Signature`.
    pub signature: String,
    /// `FSPIOP-URI`.
    pub uri: String,
    /// `FSPIOP-HTTP-Method`.
    pub http_method: String,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// Mojaloop signs bodies only; a GET has nothing to sign.
    #[error("cannot sign a request without a body")]
    EmptyBody,
    #[error("URL {0:?} names no FSPIOP resource to build FSPIOP-URI from")]
    UrlWithoutResource(String),
    #[error("the signing operation failed")]
    Crypto,
}

/// Signs outgoing callbacks with the hub's key.
#[derive(Debug)]
pub struct Signer {
    key: PrivateKey,
}

#[derive(Serialize)]
struct ProtectedHeader<'a> {
    alg: &'a str,
    #[serde(rename = "FSPIOP-URI")]
    uri: &'a str,
    #[serde(rename = "FSPIOP-HTTP-Method")]
    http_method: &'a str,
    #[serde(rename = "FSPIOP-Source")]
    source: &'a str,
    #[serde(rename = "FSPIOP-Destination", skip_serializing_if = "Option::is_none")]
    destination: Option<&'a str>,
    #[serde(rename = "Date", skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
}

impl Signer {
    pub fn new(key: PrivateKey) -> Signer {
        Signer { key }
    }

    pub fn sign(&self, request: &SignRequest<'_>) -> Result<SignedHeaders, SignError> {
        if request.body.is_empty() {
            return Err(SignError::EmptyBody);
        }
        let uri = fspiop_uri(request.url).ok_or_else(|| SignError::UrlWithoutResource(request.url.to_string()))?;
        let http_method = request.method.to_ascii_uppercase();
        let header = ProtectedHeader {
            alg: Algorithm::Rs256.as_str(),
            uri: &uri,
            http_method: &http_method,
            source: request.source,
            destination: request.destination.filter(|it| !it.is_empty()),
            date: request.date.filter(|it| !it.is_empty()),
        };
        // Serialising string fields cannot fail.
        let protected = base64url::encode(&serde_json::to_vec(&header).expect("protected header serialises"));
        let signing_input = format!("{protected}.{}", base64url::encode(request.body));
        let signature = base64url::encode(&self.rs256(signing_input.as_bytes())?);
        let value = SignatureHeader { signature, protected_header: protected };
        Ok(SignedHeaders { signature: value.to_json(), uri, http_method })
    }

    fn rs256(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let pair = self.key.pair();
        let mut signature = vec![0; pair.public_modulus_len()];
        // PKCS#1 v1.5 is deterministic; the random source is part of the API only.
        match pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature) {
            Ok(()) => Ok(signature),
            Err(_) => Err(SignError::Crypto),
        }
    }
}

/// The `FSPIOP-URI` for a URL, as Mojaloop's signer derives it: the rest of the URL from the
/// last `/` that starts a known resource (`/transfers/…`), or, failing that, from the last
/// `/` followed by nothing or by another `/` (a quirk of Mojaloop's expression, kept so both
/// sides agree). The query string, if any, stays part of it.
pub fn fspiop_uri(url: &str) -> Option<String> {
    let starts = url.char_indices().filter(|(_, c)| *c == '/').map(|(idx, _)| idx).rev();
    for start in starts {
        let rest = &url[start + 1..];
        let resource_follows = URI_RESOURCES.iter().any(|it| after_segment(rest, it));
        if resource_follows || after_segment(rest, "") {
            return Some(url[start..].to_string());
        }
    }
    None
}

/// Whether `rest` is `segment` alone or `segment` followed by `/`.
fn after_segment(rest: &str, segment: &str) -> bool {
    match rest.strip_prefix(segment) {
        Some(tail) => tail.is_empty() || tail.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fspiop_uri_follows_mojaloops_expression() {
        let cases = [
            ("https://someswitch.com:443/prefix/parties/MSISDN/12345678", Some("/parties/MSISDN/12345678")),
            ("http://payerfsp:4000/transfers/b51e/error", Some("/transfers/b51e/error")),
            ("/transfers", Some("/transfers")),
            ("http://fxp/api/fxTransfers/1?x=2", Some("/fxTransfers/1?x=2")),
            ("http://host/", Some("/")),
            ("http://host/unknown/1", Some("//host/unknown/1")),
            ("transfers", None),
        ];
        for (url, expected) in cases {
            assert_eq!(fspiop_uri(url).as_deref(), expected, "{url}");
        }
    }
}
