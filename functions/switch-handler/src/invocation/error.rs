//! The one closed error type of invocation decoding, with the JSON kinds and the limit its
//! messages name.

use std::fmt;

use serde_json::Value;

/// How many string layers a value may be wrapped in. The host adds at most one, and an event body
/// inside an array one more; anything deeper is not the host talking. The readers in `decode`
/// peel up to this many; [`InvocationError::TooManyEncodingLayers`] reports a value past it.
pub const ENCODING_LAYERS_MAX: usize = 4;

/// What a JSON value is, as named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    /// A number that fits `i64` or `u64`.
    Integer,
    /// Any other number (a fraction or an exponent).
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    /// The kind of `value`, telling integers apart from other numbers.
    pub fn of(value: &Value) -> JsonKind {
        match value {
            Value::Null => JsonKind::Null,
            Value::Bool(_) => JsonKind::Bool,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonKind::Integer,
            Value::Number(_) => JsonKind::Number,
            Value::String(_) => JsonKind::String,
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Integer => "an integer",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        })
    }
}

/// Why an invocation body could not be decoded. `field` is a path in the body as the host wrote
/// it, e.g. `Metadata.SequenceNumberArray[3]`, so a message points at the offending value.
///
/// Every variant is a fault of the sender (the Functions host, or whatever stands in for it), never
/// of an event's content: event bodies are handed on as text and judged by the function logic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    #[error("the invocation body is not JSON: {reason}")]
    NotJson { reason: String },

    #[error("`{field}` is missing or null")]
    Missing { field: String },

    #[error("`{field}` should be {expected}, found {found}")]
    WrongType { field: String, expected: JsonKind, found: JsonKind },

    /// The host double-encodes some values as a JSON string holding JSON; this one was a string
    /// but held no JSON at all.
    #[error("`{field}` should be {expected} or a string holding one, found a string that is not JSON")]
    NotEncodedJson { field: String, expected: JsonKind },

    #[error("`{field}` is wrapped in more than {ENCODING_LAYERS_MAX} layers of JSON strings")]
    TooManyEncodingLayers { field: String },

    /// The per-event metadata arrays must line up with the events, index by index.
    #[error("`{field}` has {found} entries but the batch has {expected} events")]
    LengthMismatch { field: String, expected: usize, found: usize },

    #[error("`{field}` is out of range: {value}")]
    OutOfRange { field: String, value: String },

    #[error("`{field}` is not valid base64: {reason}")]
    InvalidBase64 { field: String, reason: String },
}
