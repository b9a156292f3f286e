//! The validator: checks an inbound request's `FSPIOP-Signature` the way Mojaloop's validator
//! does (sdk-standard-components `jwsValidator`), in its order, and says why it refuses with a
//! closed [`Rejection`]. The handler answers every rejection with FSPIOP error 3105 (Invalid
//! signature); the rejection's text is the error description's detail.
//!
//! 1. a body, an `FSPIOP-Source`, a public key for that source, and the `FSPIOP-URI`,
//!    `FSPIOP-HTTP-Method` and `FSPIOP-Signature` headers;
//! 2. the signature header parses and the protected header decodes to a JSON object whose
//!    `alg` is allowed and fits the source's key;
//! 3. the signature verifies over `protectedHeader "." base64url(body)`;
//! 4. the protected header carries `FSPIOP-URI`, `FSPIOP-HTTP-Method` and `FSPIOP-Source` equal
//!    to the request's headers; its `Date`, if any, equals the request's `Date`; and
//!    `FSPIOP-Destination` is in both or in neither, equal.
//!
//! Which body bytes: Mojaloop's validator re-serialises the parsed JSON body
//! (`JSON.stringify`) before checking, so a signature over the compact form verifies even if
//! the request's bytes had other whitespace. The validator checks the bytes as received first
//! and, if that fails and the body is JSON whose compact form differs, the compact form.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::keys::{Algorithm, PublicKey};
use crate::{base64url, SignatureHeader};

/// Longest `FSPIOP-Signature` value looked at; a 8192-bit RSA signature with a full protected
/// header is under 2 000 characters.
pub const SIGNATURE_HEADER_CHARS_MAX: usize = 8_192;

/// The request, as received. Header values are passed as sent; names are FSPIOP's.
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    pub source: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub uri: Option<&'a str>,
    pub http_method: Option<&'a str>,
    pub date: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// A request header the check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredHeader {
    Source,
    Uri,
    HttpMethod,
    Signature,
}

/// A protected-header field compared with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedField {
    Algorithm,
    Uri,
    HttpMethod,
    Source,
    Destination,
    Date,
}

/// Why a signature is refused. Closed; every case maps to FSPIOP 3105.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("cannot validate JWS without a body")]
    EmptyBody,
    #[error("{0} header missing")]
    MissingHeader(RequiredHeader),
    #[error("no JWS public key for FSPIOP-Source {0:?}")]
    UnknownSource(String),
    #[error("malformed FSPIOP-Signature: {0}")]
    Malformed(&'static str),
    #[error("protected header alg {0:?} is not RS256 or ES256")]
    UnsupportedAlgorithm(String),
    #[error("protected header alg {alg} does not fit the source's {key} key")]
    AlgorithmNotForKey { alg: &'static str, key: &'static str },
    #[error("signature does not verify")]
    BadSignature,
    #[error("protected header lacks {0}")]
    MissingInProtectedHeader(SignedField),
    #[error("{0} in the request does not match the protected header")]
    Mismatch(SignedField),
}

/// Checks signatures against participants' public keys.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    keys: HashMap<String, PublicKey>,
}

impl Validator {
    /// Keys by participant name (the `FSPIOP-Source` value).
    pub fn new(keys: HashMap<String, PublicKey>) -> Validator {
        Validator { keys }
    }

    pub fn has_key(&self, participant: &str) -> bool {
        self.keys.contains_key(participant)
    }

    pub fn validate(&self, request: &InboundRequest<'_>) -> Result<(), Rejection> {
        if request.body.is_empty() {
            return Err(Rejection::EmptyBody);
        }
        let source = required(request.source, RequiredHeader::Source)?;
        let key = self.keys.get(source).ok_or_else(|| Rejection::UnknownSource(source.to_string()))?;
        required(request.uri, RequiredHeader::Uri)?;
        required(request.http_method, RequiredHeader::HttpMethod)?;
        let signature = parse_signature_header(required(request.signature, RequiredHeader::Signature)?)?;
        let protected = decode_protected_header(&signature.protected_header)?;
        check_algorithm(&protected, key)?;
        verify(key, &signature, request.body)?;
        check_protected_header(&protected, request)
    }
}

fn required(value: Option<&str>, header: RequiredHeader) -> Result<&str, Rejection> {
    match value {
        Some(it) if !it.is_empty() => Ok(it),
        _ => Err(Rejection::MissingHeader(header)),
    }
}

fn parse_signature_header(value: &str) -> Result<SignatureHeader, Rejection> {
    if SIGNATURE_HEADER_CHARS_MAX < value.len() {
        return Err(Rejection::Malformed("longer than the limit"));
    }
    match serde_json::from_str::<SignatureHeader>(value) {
        Ok(it) => Ok(it),
        Err(_) => Err(Rejection::Malformed("not JSON with string signature and protectedHeader")),
    }
}

fn decode_protected_header(encoded: &str) -> Result<Map<String, Value>, Rejection> {
    let bytes = base64url::decode(encoded).ok_or(Rejection::Malformed("protectedHeader is not base64url"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Rejection::Malformed("protectedHeader is not a JSON object")),
    }
}

fn check_algorithm(protected: &Map<String, Value>, key: &PublicKey) -> Result<(), Rejection> {
    let alg = match protected.get("alg") {
        Some(Value::String(alg)) => alg,
        Some(other) => return Err(Rejection::UnsupportedAlgorithm(other.to_string())),
        None => return Err(Rejection::MissingInProtectedHeader(SignedField::Algorithm)),
    };
    let alg = Algorithm::parse(alg).ok_or_else(|| Rejection::UnsupportedAlgorithm(alg.clone()))?;
    // The key decides the algorithm, so a header cannot pick a weaker check for a key.
    if alg != key.algorithm() {
        return Err(Rejection::AlgorithmNotForKey { alg: alg.as_str(), key: key.algorithm().as_str() });
    }
    Ok(())
}

fn verify(key: &PublicKey, signature: &SignatureHeader, body: &[u8]) -> Result<(), Rejection> {
    let signature_bytes =
        base64url::decode(&signature.signature).ok_or(Rejection::Malformed("signature is not base64url"))?;
    let input = |body: &[u8]| format!("{}.{}", signature.protected_header, base64url::encode(body)).into_bytes();
    if key.verifies(&input(body), &signature_bytes) {
        return Ok(());
    }
    match compact_json(body) {
        Some(compact) if key.verifies(&input(&compact), &signature_bytes) => Ok(()),
        _ => Err(Rejection::BadSignature),
    }
}

/// The body as `JSON.stringify(JSON.parse(body))` would give it, when that differs.
fn compact_json(body: &[u8]) -> Option<Vec<u8>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let compact = serde_json::to_vec(&value).ok()?;
    match compact == body {
        true => None,
        false => Some(compact),
    }
}

fn check_protected_header(protected: &Map<String, Value>, request: &InboundRequest<'_>) -> Result<(), Rejection> {
    let required_fields = [
        (SignedField::Uri, request.uri),
        (SignedField::HttpMethod, request.http_method),
        (SignedField::Source, request.source),
    ];
    for (field, value) in required_fields {
        match protected_value(protected, field) {
            None => return Err(Rejection::MissingInProtectedHeader(field)),
            Some(signed) if Some(signed) != value => return Err(Rejection::Mismatch(field)),
            Some(_) => (),
        }
    }
    // A signed Date must match; an unsigned one is allowed.
    if let Some(signed) = protected_value(protected, SignedField::Date) {
        if request.date != Some(signed) {
            return Err(Rejection::Mismatch(SignedField::Date));
        }
    }
    let destination = request.destination.filter(|it| !it.is_empty());
    match (protected_value(protected, SignedField::Destination), destination) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Rejection::MissingInProtectedHeader(SignedField::Destination)),
        (Some(signed), request) if Some(signed) == request => Ok(()),
        (Some(_), _) => Err(Rejection::Mismatch(SignedField::Destination)),
    }
}

/// A field's value when it is a non-empty string; Mojaloop treats anything else as absent.
fn protected_value(protected: &Map<String, Value>, field: SignedField) -> Option<&str> {
    match protected.get(field.protected_name()) {
        Some(Value::String(it)) if !it.is_empty() => Some(it),
        _ => None,
    }
}

impl SignedField {
    /// The key in the protected header (case-sensitive, unlike HTTP header names).
    pub fn protected_name(self) -> &'static str {
        match self {
            SignedField::Algorithm => "alg",
            SignedField::Uri => "FSPIOP-URI",
            SignedField::HttpMethod => "FSPIOP-HTTP-Method",
            SignedField::Source => "FSPIOP-Source",
            SignedField::Destination => "FSPIOP-Destination",
            SignedField::Date => "Date",
        }
    }
}

impl fmt::Display for SignedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.protected_name())
    }
}

impl fmt::Display for RequiredHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequiredHeader::Source => "FSPIOP-Source",
            RequiredHeader::Uri => "FSPIOP-URI",
            RequiredHeader::HttpMethod => "FSPIOP-HTTP-Method",
            RequiredHeader::Signature => "FSPIOP-Signature",
        })
    }
}
