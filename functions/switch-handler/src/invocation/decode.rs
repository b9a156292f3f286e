//! Tolerant readers for values the host may have JSON-encoded once more (Json.NET double encoding).
//!
//! The host serialises each binding value with `JObject.FromObject`, and when that throws (strings,
//! numbers, arrays) with `JsonConvert.SerializeObject` instead, so a value can arrive as real JSON
//! or as a JSON string holding that JSON (azure.md §1.4). Each reader here is told the kind it
//! wants and peels string layers until it gets it, so both encodings decode to the same thing.
//! Every reader takes the value by ownership: a batch of large event bodies is moved, not copied.

use serde_json::{Map, Value};

use super::error::{InvocationError, JsonKind, ENCODING_LAYERS_MAX};

/// Peels JSON-string layers off `value` until `accept` holds. A string that does not parse as JSON
/// is an error here: these are the places where the host's own encoding is expected.
fn peel(
    mut value: Value,
    field: &str,
    expected: JsonKind,
    accept: impl Fn(&Value) -> bool,
) -> Result<Value, InvocationError> {
    for _ in 0..=ENCODING_LAYERS_MAX {
        if accept(&value) {
            return Ok(value);
        }
        value = match value {
            Value::Null => return Err(InvocationError::Missing { field: field.to_owned() }),
            Value::String(text) => match serde_json::from_str::<Value>(&text) {
                Ok(inner) => inner,
                Err(_) => return Err(InvocationError::NotEncodedJson { field: field.to_owned(), expected }),
            },
            other => {
                return Err(InvocationError::WrongType {
                    field: field.to_owned(),
                    expected,
                    found: JsonKind::of(&other),
                })
            }
        };
    }
    Err(InvocationError::TooManyEncodingLayers { field: field.to_owned() })
}

/// An array, or a string holding one.
pub fn array(value: Value, field: &str) -> Result<Vec<Value>, InvocationError> {
    match peel(value, field, JsonKind::Array, Value::is_array)? {
        Value::Array(items) => Ok(items),
        other => Err(wrong_type(field, JsonKind::Array, &other)),
    }
}

/// An object, or a string holding one.
pub fn object(value: Value, field: &str) -> Result<Map<String, Value>, InvocationError> {
    match peel(value, field, JsonKind::Object, Value::is_object)? {
        Value::Object(map) => Ok(map),
        other => Err(wrong_type(field, JsonKind::Object, &other)),
    }
}

/// An integer that fits `i64`, or a string holding one (`"1021"` as well as `1021`).
pub fn integer(value: Value, field: &str) -> Result<i64, InvocationError> {
    let value = peel(value, field, JsonKind::Integer, |v| v.is_number())?;
    match value.as_i64() {
        Some(n) => Ok(n),
        None if value.is_u64() => {
            Err(InvocationError::OutOfRange { field: field.to_owned(), value: value.to_string() })
        }
        None => Err(wrong_type(field, JsonKind::Integer, &value)),
    }
}

/// A boolean, a string holding one, or .NET's `"True"`/`"False"` spelling of one.
pub fn boolean(value: Value, field: &str) -> Result<bool, InvocationError> {
    if let Value::String(text) = &value {
        if text.eq_ignore_ascii_case("true") {
            return Ok(true);
        }
        if text.eq_ignore_ascii_case("false") {
            return Ok(false);
        }
    }
    match peel(value, field, JsonKind::Bool, Value::is_boolean)? {
        Value::Bool(b) => Ok(b),
        other => Err(wrong_type(field, JsonKind::Bool, &other)),
    }
}

/// A string. When its text is itself a JSON string literal (the host quoted it once more, e.g.
/// `"\"stringTest\""`), the quotes are peeled; any other text is kept byte for byte, so
/// `"12884903936"` stays a string and an event body `{"id":…}` is not reparsed into an object.
///
/// Only text starting with `"` can be a JSON string literal, so the common case costs no parse.
pub fn text(value: Value, field: &str) -> Result<String, InvocationError> {
    let mut text = match value {
        Value::String(text) => text,
        Value::Null => return Err(InvocationError::Missing { field: field.to_owned() }),
        other => return Err(wrong_type(field, JsonKind::String, &other)),
    };
    for layer in 0..=ENCODING_LAYERS_MAX {
        if !text.trim_start().starts_with('"') {
            return Ok(text);
        }
        let Ok(inner) = serde_json::from_str::<String>(&text) else {
            return Ok(text);
        };
        if layer == ENCODING_LAYERS_MAX {
            return Err(InvocationError::TooManyEncodingLayers { field: field.to_owned() });
        }
        text = inner;
    }
    Ok(text)
}

/// A string, or a number taken as its decimal text. For identifiers the .NET side may type as
/// numbers in some versions (an event's `Offset` was a `long` before it became a string).
pub fn scalar_text(value: Value, field: &str) -> Result<String, InvocationError> {
    match value {
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => text(other, field),
    }
}

/// Removes `key` from `map`, matching exactly first and then ignoring ASCII case (the host's
/// binding-data dictionaries are case-insensitive). A JSON `null` counts as absent.
pub fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let value = match map.remove(key) {
        Some(value) => Some(value),
        None => {
            let found = map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
            found.and_then(|k| map.remove(&k))
        }
    };
    value.filter(|v| !v.is_null())
}

/// Like [`take`], but absence is an error naming `parent.key`.
pub fn require(map: &mut Map<String, Value>, parent: &str, key: &str) -> Result<Value, InvocationError> {
    take(map, key).ok_or_else(|| InvocationError::Missing { field: join(parent, key) })
}

/// `parent.key`, or just `key` at the top.
pub fn join(parent: &str, key: &str) -> String {
    match parent.is_empty() {
        true => key.to_owned(),
        false => format!("{parent}.{key}"),
    }
}

fn wrong_type(field: &str, expected: JsonKind, found: &Value) -> InvocationError {
    InvocationError::WrongType { field: field.to_owned(), expected, found: JsonKind::of(found) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn arrays_arrive_plain_or_as_strings_holding_json() {
        assert_eq!(array(json!([1, 2]), "a"), Ok(vec![json!(1), json!(2)]));
        assert_eq!(array(json!("[1,2]"), "a"), Ok(vec![json!(1), json!(2)]));
        assert_eq!(array(json!("\"[1,2]\""), "a"), Ok(vec![json!(1), json!(2)]));
        assert_eq!(
            array(json!("not json"), "a"),
            Err(InvocationError::NotEncodedJson { field: "a".into(), expected: JsonKind::Array })
        );
        assert_eq!(
            array(json!({"x": 1}), "a"),
            Err(InvocationError::WrongType { field: "a".into(), expected: JsonKind::Array, found: JsonKind::Object })
        );
        assert_eq!(array(Value::Null, "a"), Err(InvocationError::Missing { field: "a".into() }));
    }

    #[test]
    fn strings_lose_only_the_hosts_extra_quotes() {
        assert_eq!(text(json!("\"stringTest\""), "s"), Ok("stringTest".into()));
        assert_eq!(text(json!("stringTest"), "s"), Ok("stringTest".into()));
        assert_eq!(text(json!("12884903936"), "s"), Ok("12884903936".into()));
        assert_eq!(text(json!("{\"a\":1}"), "s"), Ok("{\"a\":1}".into()));
        assert_eq!(text(json!("\"{\\\"a\\\":1}\""), "s"), Ok("{\"a\":1}".into()));
        assert_eq!(text(json!("\"unterminated"), "s"), Ok("\"unterminated".into()));
        assert_eq!(text(json!(""), "s"), Ok(String::new()));
    }

    #[test]
    fn layer_limit_is_an_error_not_a_loop() {
        let mut value = json!([1]);
        for _ in 0..=ENCODING_LAYERS_MAX {
            value = Value::String(value.to_string());
        }
        assert_eq!(array(value, "a"), Err(InvocationError::TooManyEncodingLayers { field: "a".into() }));

        let mut quoted = json!("x");
        for _ in 0..=ENCODING_LAYERS_MAX {
            quoted = Value::String(quoted.to_string());
        }
        assert_eq!(text(quoted, "s"), Err(InvocationError::TooManyEncodingLayers { field: "s".into() }));
    }

    #[test]
    fn scalars_accept_both_encodings() {
        assert_eq!(integer(json!(1021), "n"), Ok(1021));
        assert_eq!(integer(json!("1021"), "n"), Ok(1021));
        assert_eq!(
            integer(json!(1.5), "n"),
            Err(InvocationError::WrongType { field: "n".into(), expected: JsonKind::Integer, found: JsonKind::Number })
        );
        assert_eq!(
            integer(json!(u64::MAX), "n"),
            Err(InvocationError::OutOfRange { field: "n".into(), value: u64::MAX.to_string() })
        );
        assert_eq!(boolean(json!("True"), "b"), Ok(true));
        assert_eq!(boolean(json!("\"false\""), "b"), Ok(false));
        assert_eq!(scalar_text(json!(12884903936_i64), "o"), Ok("12884903936".into()));
    }

    #[test]
    fn take_ignores_case_and_treats_null_as_absent() {
        let mut map = json!({"PartitionContext": 1, "sys": 2, "Gone": null});
        let Some(map) = map.as_object_mut() else { panic!("fixture is an object") };
        assert_eq!(take(map, "partitioncontext"), Some(json!(1)));
        assert_eq!(take(map, "Sys"), Some(json!(2)));
        assert_eq!(take(map, "Gone"), None);
        assert_eq!(require(map, "Metadata", "sys"), Err(InvocationError::Missing { field: "Metadata.sys".into() }));
    }
}
