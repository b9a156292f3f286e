//! The duplicate-check hash of a received body, byte for byte what Mojaloop stores.
//!
//! central-services-shared `hash.js` computes `base64(SHA-256(JSON.stringify(payload)))` and
//! drops the last character (the `=` a 32-byte digest always ends in), where `payload` is
//! `JSON.parse` of the raw body. So the hash is of Node's *re-serialisation*, not of the raw
//! bytes: whitespace goes, keys keep their received order, and numbers are re-printed by
//! JavaScript's rules. [`stringify_like_js`] reproduces that printing:
//! - every number is an IEEE double, printed shortest-round-trip: `1.0` prints `1`, `1e2` prints
//!   `100`, `1e21` prints `1e+21`, `0.0000001` prints `1e-7`, and integers beyond 2^53 lose
//!   precision (`12345678901234567890` prints `12345678901234567000`);
//! - object keys that are array indices (`"0"`, `"17"`, below 2^32 − 1) come first in numeric
//!   order, the rest in received order; a repeated key keeps its first position and last value;
//! - strings escape only `"`, `\` and control characters (`\b \f \n \r \t`, else `\u00xx`).
//!
//! Known gaps, all in bodies the schema rejects or no FSP sends: JSON that Node accepts but
//! serde_json does not (lone surrogate escapes, numbers beyond ±1.8e308, nesting deeper than 128,
//! invalid UTF-8) is refused here as malformed instead of being hashed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};
use std::fmt::Write;

use crate::error::FspiopError;
use crate::json::parse_json_body;

/// JavaScript prints numbers in plain notation while their decimal exponent is below this.
const JS_PLAIN_EXPONENT_MAX: i32 = 21;
/// ... and above this (`0.000001` is plain, `1e-7` is not).
const JS_PLAIN_EXPONENT_MIN: i32 = -6;
/// Property keys that are canonical integers below this are array indices in JavaScript.
const JS_ARRAY_INDEX_LIMIT: u64 = u32::MAX as u64;

/// The hash type is the ledger's own: the wire only knows how to compute it.
pub use ledger_core::prepare::RequestHash;

/// Hashes a raw body; 3104 or 3101 if it is too large or not JSON.
pub fn hash_body(body: &[u8]) -> Result<RequestHash, FspiopError> {
    parse_json_body(body).map(|value| hash_json(&value))
}

/// Hashes a parsed body (parsed with key order preserved, as `parse_json_body` does): 43
/// characters of standard base64.
pub fn hash_json(value: &Value) -> RequestHash {
    let digest = Sha256::digest(stringify_like_js(value).as_bytes());
    let mut encoded = STANDARD.encode(digest);
    // Mojaloop slices off the last character, which for a 32-byte digest is the only '='.
    encoded.pop();
    RequestHash::new(encoded)
}

/// `JSON.stringify(value)` as Node prints it (compact, see the module notes).
pub fn stringify_like_js(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => out.push_str(&js_number_text(number_as_f64(number))),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (idx, item) in items.iter().enumerate() {
                if 0 < idx {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    // JavaScript orders integer-like keys numerically before all others.
    let mut index_keys: Vec<(u64, &String)> =
        map.keys().filter_map(|key| array_index(key).map(|idx| (idx, key))).collect();
    index_keys.sort_unstable();
    let other_keys = map.keys().filter(|key| array_index(key).is_none());
    out.push('{');
    let keys = index_keys.into_iter().map(|(_, key)| key).chain(other_keys);
    for (idx, key) in keys.enumerate() {
        if 0 < idx {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, &map[key.as_str()]);
    }
    out.push('}');
}

/// A canonical decimal integer below 2^32 − 1 (no sign, no leading zero), as JavaScript
/// recognises array indices.
fn array_index(key: &str) -> Option<u64> {
    let canonical = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) && (key == "0" || !key.starts_with('0'));
    if !canonical || 10 < key.len() {
        return None;
    }
    key.parse::<u64>().ok().filter(|idx| *idx < JS_ARRAY_INDEX_LIMIT)
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if (control as u32) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", control as u32);
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// Every JSON number is a double in JavaScript; integers are rounded to the nearest one.
fn number_as_f64(number: &Number) -> f64 {
    // Without serde_json's arbitrary precision every number is an i64, u64 or f64, so this
    // always has a value; 0 is only a guard.
    number.as_f64().unwrap_or(0.0)
}

/// ECMAScript `Number::toString(x)` for a finite double: the shortest digits that round-trip,
/// in plain notation for decimal exponents -7 < e < 21, else as `d.ddde±x`.
pub(crate) fn js_number_text(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        // -0 prints "0"; JSON cannot carry NaN or infinities, which JavaScript prints as null.
        return if x == 0.0 { "0".to_string() } else { "null".to_string() };
    }
    let scientific = format!("{:e}", x.abs());
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let digits: String = mantissa.chars().filter(|ch| *ch != '.').collect();
    let Ok(exponent) = exponent.parse::<i32>() else {
        return scientific;
    };
    let sign = if x < 0.0 { "-" } else { "" };
    format!("{sign}{}", place_decimal_point(&digits, exponent + 1))
}

/// Writes digits `d1 d2 ... dk` scaled so the decimal point falls after `n` digits.
fn place_decimal_point(digits: &str, n: i32) -> String {
    let k = digits.len() as i32;
    if k <= n && n <= JS_PLAIN_EXPONENT_MAX {
        return format!("{digits}{}", "0".repeat((n - k) as usize));
    }
    if 0 < n && n <= JS_PLAIN_EXPONENT_MAX {
        let (integer, fraction) = digits.split_at(n as usize);
        return format!("{integer}.{fraction}");
    }
    if JS_PLAIN_EXPONENT_MIN < n && n <= 0 {
        return format!("0.{}{digits}", "0".repeat((-n) as usize));
    }
    let exponent = n - 1;
    let exponent_sign = if exponent < 0 { '-' } else { '+' };
    let (first, rest) = digits.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{first}{point}{rest}e{exponent_sign}{}", exponent.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bodies, Node 20's `JSON.stringify(JSON.parse(body))`, and central-services-shared's
    /// `generateSha256` of it, all printed by Node.
    const NODE_VECTORS: [(&str, &str, &str); 3] = [
        (
            "{ \"transferState\" : \"COMMITTED\",\n \"fulfilment\": \"UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA\", \"completedTimestamp\":\"2024-01-01T00:00:00.000Z\" }",
            r#"{"transferState":"COMMITTED","fulfilment":"UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA","completedTimestamp":"2024-01-01T00:00:00.000Z"}"#,
            "fg8h+zlzouPTPxd+ZoTBwsSspU6WowfIOzlLa4bF9GQ",
        ),
        (
            "{\"b\":1,\"2\":2,\"a\":[1.0,1e21,1e-7,0.000001,123456789012345678901,-0,1.5e300,12345678901234567890],\"1\":\"x\\u0001\\\"\\\\/\\u2028é😀\",\"a\":true}",
            "{\"1\":\"x\\u0001\\\"\\\\/\u{2028}é😀\",\"2\":2,\"b\":1,\"a\":true}",
            "HVsTPjo63CdUxG1SR8UGIyfGm8SW5BssW/IwCYsl8O8",
        ),
        (
            r#"{"k":[null,false,{},[]],"n":[0.1,100,1e2,2.5e-5,123.456,5e-324,1.7976931348623157e308,9007199254740993]}"#,
            r#"{"k":[null,false,{},[]],"n":[0.1,100,100,0.000025,123.456,5e-324,1.7976931348623157e+308,9007199254740992]}"#,
            "Py88Fl3/49jtY1YpRqXtlaz9wkFLUOCd799Qa3Gl85s",
        ),
    ];

    /// A TTK-style prepare body and its hash, printed by Node.
    const PREPARE_BODY: &str = r#"{"transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069","payerFsp":"payerfsp","payeeFsp":"payeefsp","amount":{"amount":"100","currency":"USD"},"expiration":"2016-05-24T08:38:08.699-04:00","ilpPacket":"AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNlOiB1SXlweUYzY3pYSXBFdzVVc05TYWh3CkVuY3J5cHRpb246IG5vbmUKUGF5bWVudC1JZDogMTMyMzZhM2ItOGZhOC00MTYzLTg0NDctNGMzZWQzZGE5OGE3CgpDb250ZW50LUxlbmd0aDogMTM1CkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vanNvbgpTZW5kZXItSWRlbnRpZmllcjogOTI4MDYzOTEKCiJ7XCJmZWVcIjowLFwidHJhbnNmZXJDb2RlXCI6XCJpbnZvaWNlXCIsXCJkZWJpdE5hbWVcIjpcImFsaWNlIGNvb3BlclwiLFwiY3JlZGl0TmFtZVwiOlwibWVyIGNoYW50XCIsXCJkZWJpdElkZW50aWZpZXJcIjpcIjkyODA2MzkxXCJ9IgA","condition":"GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM"}"#;
    const PREPARE_HASH: &str = "40cKaqVtlgfFbni3Z1wfF6Tm5mLXaOKF3norMDXyiKk";

    #[test]
    fn hashes_match_node() {
        for (body, stringified, hash) in NODE_VECTORS {
            let value: Value = serde_json::from_str(body).unwrap();
            assert_eq!(stringify_like_js(&value), stringified);
            assert_eq!(crate::hash::hash_body(body.as_bytes()).unwrap().as_str(), hash);
        }
        assert_eq!(crate::hash::hash_body(PREPARE_BODY.as_bytes()).unwrap().as_str(), PREPARE_HASH);
    }

    #[test]
    fn whitespace_and_formatting_do_not_change_the_hash_but_key_order_does() {
        let compact = crate::hash::hash_body(br#"{"a":"1","b":{"c":2}}"#).unwrap();
        let spaced = crate::hash::hash_body(b"{ \"a\" : \"1\" ,\n\t\"b\" : { \"c\" : 2.0 } }").unwrap();
        let reordered = crate::hash::hash_body(br#"{"b":{"c":2},"a":"1"}"#).unwrap();
        assert_eq!(compact, spaced);
        assert_ne!(compact, reordered);
        assert_eq!(compact.as_str().len(), 43);
        assert_eq!(RequestHash::new(compact.as_str().to_string()), compact);
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        // Pairs printed by Node 20: JSON.stringify(JSON.parse(text)).
        let cases = [
            ("1e21", "1e+21"),
            ("1e-7", "1e-7"),
            ("123456789012345678901", "123456789012345680000"),
            ("1.5e300", "1.5e+300"),
            ("12345678901234567890", "12345678901234567000"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("0.000001", "0.000001"),
            ("1e-6", "0.000001"),
            ("123e-20", "1.23e-18"),
            ("4.35", "4.35"),
            ("100.5", "100.5"),
            ("1e20", "100000000000000000000"),
            ("1.2e21", "1.2e+21"),
            ("-1.5e-9", "-1.5e-9"),
            ("0.1e1", "1"),
            ("18446744073709551615", "18446744073709552000"),
            ("18446744073709551616", "18446744073709552000"),
            ("-9223372036854775808", "-9223372036854776000"),
            ("9007199254740993", "9007199254740992"),
            ("2.2250738585072014e-308", "2.2250738585072014e-308"),
            ("1.0", "1"),
            ("-123.0", "-123"),
            ("99999999999999999999999", "1e+23"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("5e-7", "5e-7"),
            ("1234.5678e10", "12345678000000"),
        ];
        for (text, printed) in cases {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(stringify_like_js(&value), printed, "{text}");
        }
    }

    #[test]
    fn array_index_keys_come_first_in_numeric_order() {
        let value: Value =
            serde_json::from_str(r#"{"z":0,"10":1,"2":2,"01":3,"-1":4,"4294967294":5,"4294967295":6,"0":7}"#).unwrap();
        assert_eq!(
            stringify_like_js(&value),
            r#"{"0":7,"2":2,"10":1,"4294967294":5,"z":0,"01":3,"-1":4,"4294967295":6}"#
        );
    }

    #[test]
    fn bodies_that_are_not_json_cannot_be_hashed() {
        for body in [&b""[..], b"{", b"{\"a\":}", b"\xff", b"{\"a\":1e400}"] {
            assert_eq!(crate::hash::hash_body(body).unwrap_err().code(), crate::ErrorCode::MalformedSyntax);
        }
    }

    fn json_values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z0-9]{0,4}", inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn printed_numbers_read_back_to_the_same_double(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let printed = js_number_text(x);
            let read: f64 = printed.parse().unwrap();
            prop_assert_eq!(read, if x == 0.0 { 0.0 } else { x });
        }

        #[test]
        fn stringified_values_are_json_that_reads_back_equal(value in json_values()) {
            let printed = stringify_like_js(&value);
            let reread: Value = serde_json::from_str(&printed).unwrap();
            prop_assert_eq!(stringify_like_js(&reread), printed.clone());
            prop_assert_eq!(crate::hash::hash_body(printed.as_bytes()).unwrap(), crate::hash::hash_json(&value));
        }
    }
}
