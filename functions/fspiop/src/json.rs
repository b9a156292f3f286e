//! The first read of every received FSPIOP body: the size limit (3104), then JSON syntax (3101).
//!
//! The body parsers (`transfers`) and the duplicate-check hash (`hash`) both start from the value
//! read here, so a body is refused for size or syntax the same way whichever reads it first.

use serde_json::Value;

use crate::error::{ErrorCode, FspiopError};

/// Largest body the API allows (5 MiB, the FSPIOP `Content-Length` note). `headers` checks a
/// declared `Content-Length` against it before the body is read.
pub const CONTENT_LENGTH_BYTES_MAX: u64 = 5_242_880;
/// The detail of every 3104, whether the header or the body showed the size.
pub(crate) const PAYLOAD_TOO_LARGE: &str = "Payload size is too large";
/// hapi's wording for a body that is not JSON, kept so the text reads as Mojaloop's would.
const INVALID_JSON: &str = "Invalid request payload JSON format";

/// Parses a received JSON body: 3104 over the size limit, 3101 if it is not JSON.
///
/// Numbers are read exactly and object keys keep their received order, so the value re-prints
/// as Node's `JSON.stringify(JSON.parse(body))` would (see `hash`).
pub fn parse_json_body(body: &[u8]) -> Result<Value, FspiopError> {
    if CONTENT_LENGTH_BYTES_MAX < body.len() as u64 {
        return Err(FspiopError::with_detail(ErrorCode::TooLargePayload, PAYLOAD_TOO_LARGE));
    }
    serde_json::from_slice(body).map_err(|_| FspiopError::with_detail(ErrorCode::MalformedSyntax, INVALID_JSON))
}
