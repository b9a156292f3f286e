//! The FSPIOP data types every resource shares, as they travel: `ExtensionList` and
//! `ErrorInformation`, with the schema's limits on extensions.
//!
//! They sit at the bottom of the crate so that the error body (`error`), the header checks
//! (`headers`) and every resource's bodies (`transfers`, `settlement`) can use them without
//! depending on one another. Plain serde structs, every leaf a string; what a valid value is
//! gets checked by the parsers of the resource that receives it.

use serde::{Deserialize, Serialize};

/// Most extensions an extension list may hold.
pub const EXTENSIONS_MAX: usize = 16;
/// Longest extension key, in characters.
pub const EXTENSION_KEY_CHARS_MAX: usize = 32;
/// Longest extension value, in characters.
pub const EXTENSION_VALUE_CHARS_MAX: usize = 128;

/// One `{key, value}` extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub key: String,
    pub value: String,
}

/// `ExtensionList`: 1 to 16 extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionList {
    pub extension: Vec<Extension>,
}

/// `ErrorInformation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInformation {
    pub error_code: String,
    pub error_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_list: Option<ExtensionList>,
}

/// The body of `PUT /transfers/{ID}/error` and of every synchronous error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInformationObject {
    pub error_information: ErrorInformation,
}

impl Extension {
    /// An extension cut to the schema's limits (32-character key, 128-character value), as
    /// Mojaloop cuts the values it writes.
    pub fn truncated(key: &str, value: &str) -> Extension {
        Extension {
            key: truncate_chars(key, EXTENSION_KEY_CHARS_MAX).to_string(),
            value: truncate_chars(value, EXTENSION_VALUE_CHARS_MAX).to_string(),
        }
    }
}

/// The first `max_chars` characters of `text`, cut on a character boundary.
pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
