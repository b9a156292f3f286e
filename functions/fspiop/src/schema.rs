//! A small JSON-schema checker that reports the same first error, with the same code and text,
//! as Mojaloop's OpenAPI validation (openapi-backend + ajv v8, `allErrors: false`).
//!
//! Why hand-written: Mojaloop answers only the *first* failure, and which one comes first is fixed
//! by ajv's keyword order, not by the order fields appear in the body. For every value ajv checks
//! the JSON type first (HTTP 400, 3101), then, in this order, `enum`, `maxLength`, `minLength`,
//! `pattern` (3100), `maxItems`, `minItems`, `items` for arrays, and `required` (3102),
//! `additionalProperties` (3103), `properties` (in schema order) for objects. The helpers here
//! check exactly one of those steps each; the body parsers in `transfers` call them in that order.
//!
//! Error text is ajv's: `"<instancePath> <message>"`, where openapi-backend validates the body as
//! the property `requestBody` of a wrapper object, so paths start with `/requestBody`.

use serde_json::{Map, Value};

use crate::error::{ErrorCode, FspiopError};

/// A JSON pointer into the request, as ajv reports it.
#[derive(Debug, Clone)]
pub(crate) struct JsonPath(String);

impl JsonPath {
    /// The request body.
    pub(crate) fn body() -> JsonPath {
        JsonPath("/requestBody".to_string())
    }

    /// The request headers (openapi-backend validates them as the object `header`).
    pub(crate) fn headers() -> JsonPath {
        JsonPath("/header".to_string())
    }

    /// A path parameter (openapi-backend validates them as the object `path`).
    pub(crate) fn path_parameter(name: &str) -> JsonPath {
        JsonPath(format!("/path/{name}"))
    }

    pub(crate) fn child(&self, key: &str) -> JsonPath {
        // Only schema property names reach here, and none contains `~` or `/`.
        JsonPath(format!("{}/{key}", self.0))
    }

    pub(crate) fn index(&self, idx: usize) -> JsonPath {
        JsonPath(format!("{}/{idx}", self.0))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// A pattern keyword: the regex text ajv quotes, and a hand-written matcher equivalent to it.
pub(crate) struct Pattern {
    pub(crate) source: &'static str,
    pub(crate) matches: fn(&str) -> bool,
}

/// The string keywords of one schema type.
pub(crate) struct StringRule {
    pub(crate) min_chars: Option<usize>,
    pub(crate) max_chars: Option<usize>,
    pub(crate) pattern: Option<Pattern>,
}

/// The object keywords of one schema type: its properties in schema order and which of them
/// are required, in the schema's `required` order.
pub(crate) struct ObjectRule {
    pub(crate) properties: &'static [&'static str],
    pub(crate) required: &'static [&'static str],
}

/// 3101: the value has the wrong JSON type.
pub(crate) fn type_error(path: &JsonPath, expected: &str) -> FspiopError {
    schema_error(ErrorCode::MalformedSyntax, path, &format!("must be {expected}"))
}

/// 3102: a required property is absent.
pub(crate) fn missing_error(path: &JsonPath, property: &str) -> FspiopError {
    schema_error(ErrorCode::MissingElement, path, &format!("must have required property '{property}'"))
}

/// 3100: a value fails a pattern, enum or length keyword.
pub(crate) fn invalid_error(path: &JsonPath, message: &str) -> FspiopError {
    schema_error(ErrorCode::ValidationError, path, message)
}

fn schema_error(code: ErrorCode, path: &JsonPath, message: &str) -> FspiopError {
    FspiopError::with_detail(code, format!("{} {message}", path.as_str()))
}

/// Checks the type, `required` and (for closed schemas) `additionalProperties` of an object;
/// its properties are the caller's to check next, in schema order.
pub(crate) fn check_object<'a>(
    value: &'a Value,
    path: &JsonPath,
    rule: &ObjectRule,
    closed: bool,
) -> Result<&'a Map<String, Value>, FspiopError> {
    let Value::Object(map) = value else {
        return Err(type_error(path, "object"));
    };
    if let Some(absent) = rule.required.iter().find(|name| !map.contains_key(**name)) {
        return Err(missing_error(path, absent));
    }
    if closed && map.keys().any(|key| !rule.properties.contains(&key.as_str())) {
        return Err(schema_error(ErrorCode::TooManyElements, path, "must NOT have additional properties"));
    }
    Ok(map)
}

/// A property that `check_object` has already found present; absent means a required check
/// was skipped, which is reported as the same 3102 rather than trusted.
pub(crate) fn required<'a>(map: &'a Map<String, Value>, path: &JsonPath, name: &str) -> Result<&'a Value, FspiopError> {
    map.get(name).ok_or_else(|| missing_error(path, name))
}

/// Checks the type, lengths (in characters, as ajv counts them) and pattern of a string.
pub(crate) fn check_string<'a>(value: &'a Value, path: &JsonPath, rule: &StringRule) -> Result<&'a str, FspiopError> {
    let Value::String(text) = value else {
        return Err(type_error(path, "string"));
    };
    let n_chars = text.chars().count();
    if let Some(max) = rule.max_chars.filter(|max| *max < n_chars) {
        return Err(invalid_error(path, &format!("must NOT have more than {max} characters")));
    }
    if let Some(min) = rule.min_chars.filter(|min| n_chars < *min) {
        return Err(invalid_error(path, &format!("must NOT have fewer than {min} characters")));
    }
    if let Some(pattern) = rule.pattern.as_ref().filter(|pattern| !(pattern.matches)(text)) {
        return Err(invalid_error(path, &format!("must match pattern \"{}\"", pattern.source)));
    }
    Ok(text)
}

/// Checks the type and enumeration of a string enum, returning the parsed member.
pub(crate) fn check_enum<T>(
    value: &Value,
    path: &JsonPath,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, FspiopError> {
    let Value::String(text) = value else {
        return Err(type_error(path, "string"));
    };
    parse(text).ok_or_else(|| invalid_error(path, "must be equal to one of the allowed values"))
}

/// Checks the type and item count of an array; its items are the caller's to check next.
pub(crate) fn check_array<'a>(
    value: &'a Value,
    path: &JsonPath,
    min_items: usize,
    max_items: usize,
) -> Result<&'a [Value], FspiopError> {
    let Value::Array(items) = value else {
        return Err(type_error(path, "array"));
    };
    if max_items < items.len() {
        return Err(invalid_error(path, &format!("must NOT have more than {max_items} items")));
    }
    if items.len() < min_items {
        return Err(invalid_error(path, &format!("must NOT have fewer than {min_items} items")));
    }
    Ok(items)
}

/// `[A-Za-z0-9-_]`: the base64url alphabet, which is what the schema's character class means.
pub(crate) fn is_base64url_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}
