//! What the handler answers to an invocation: `{"Outputs":{…},"Logs":[…],"ReturnValue":…}`.
//!
//! Three host behaviours shape this module (azure.md §1.6, from the host's source):
//! - The body must always be this JSON object. A 2xx with an empty body deserialises to `null`
//!   and the host never completes the invocation (it hangs until `functionTimeout`), so
//!   [`InvocationResponse`] has no way to produce an empty body.
//! - Only a 2xx counts; its `Logs` go to the invocation's logger (Application Insights `traces`).
//!   A non-2xx fails the invocation and its body is not read.
//! - **Base64 mangling.** For every output binding except `http` (and for `ReturnValue`) whose
//!   `dataType` is not `binary`, the host tries `Convert.FromBase64String` on the value and, if
//!   that succeeds, passes on the *decoded bytes*. Any string that happens to be valid base64
//!   (`"test"`, `"abcd1234"`, even `""`) is silently replaced by bytes. Objects and arrays are
//!   never touched. [`InvocationResponse::set_output`] and
//!   [`InvocationResponse::set_return_value`] therefore refuse such strings.
//!
//! The `http` output is deserialised by the host into `{StatusCode, Status, Body, Headers}` and
//! skips the base64 step, and as `$return` it is an object, which the step leaves alone. Its body
//! is still restricted to a JSON object, a JSON array or nothing (written `""`, which would decode
//! to zero bytes, i.e. the same empty body): a host version that applied the step to `Body` as
//! well could then change nothing.

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

/// The conventional name of the HTTP output binding in our function.json files.
pub const HTTP_OUTPUT_BINDING: &str = "res";

/// What [`InvocationResponse::to_json`] falls back to if serialisation ever failed (it cannot for
/// these types; the fallback exists so no code path yields an empty body).
const EMPTY_RESPONSE_JSON: &str = r#"{"Outputs":{},"Logs":[],"ReturnValue":null}"#;

/// The host would have replaced this output string with the bytes it decodes to as base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error(
        "output `{binding}` is a string the host would decode as base64 and replace with bytes; \
         send an object or an array instead"
    )]
    WouldBeBase64Decoded { binding: String },
}

/// The answer to one invocation. Serialises with the host's PascalCase keys, always as an object.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationResponse {
    outputs: Map<String, Value>,
    logs: Vec<String>,
    /// Written as `null` when absent: the host reads a missing and a null `ReturnValue` alike.
    return_value: Option<Value>,
}

impl InvocationResponse {
    /// No outputs, no logs, `ReturnValue: null`: the right answer to a batch handled in full.
    pub fn new() -> InvocationResponse {
        InvocationResponse::default()
    }

    /// Adds a line to the invocation's log.
    pub fn log(&mut self, line: impl Into<String>) -> &mut InvocationResponse {
        self.logs.push(line.into());
        self
    }

    /// Sets output binding `binding` (its `name` in function.json), refusing strings the host would
    /// base64-decode. Objects, arrays, numbers, booleans and non-base64 strings pass.
    pub fn set_output(&mut self, binding: &str, value: Value) -> Result<&mut InvocationResponse, ResponseError> {
        refuse_mangled(binding, &value)?;
        self.outputs.insert(binding.to_owned(), value);
        Ok(self)
    }

    /// Sets the `http` output binding `binding` (usually [`HTTP_OUTPUT_BINDING`]).
    pub fn set_http(&mut self, binding: &str, response: HttpOutput) -> &mut InvocationResponse {
        self.outputs.insert(binding.to_owned(), response.to_value());
        self
    }

    /// Sets `ReturnValue` (bound by a `$return` output), refusing strings the host would decode.
    pub fn set_return_value(&mut self, value: Value) -> Result<&mut InvocationResponse, ResponseError> {
        refuse_mangled("$return", &value)?;
        self.return_value = Some(value);
        Ok(self)
    }

    pub fn outputs(&self) -> &Map<String, Value> {
        &self.outputs
    }

    pub fn logs(&self) -> &[String] {
        &self.logs
    }

    pub fn return_value(&self) -> Option<&Value> {
        self.return_value.as_ref()
    }

    /// The body to send: always a JSON object with `Outputs`, `Logs` and `ReturnValue`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| EMPTY_RESPONSE_JSON.to_owned())
    }
}

/// `200 OK` with the JSON body: the invocation succeeded. A function that wants the host to mark
/// the invocation failed (so its retry policy runs) answers a 5xx instead of using this.
impl IntoResponse for InvocationResponse {
    fn into_response(self) -> Response {
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], self.to_json()).into_response()
    }
}

/// The body of an [`HttpOutput`]: JSON structure or nothing, never a bare string.
#[derive(Debug, Clone, PartialEq)]
enum HttpOutputBody {
    Json(Value),
    Empty,
}

/// An `http` output binding value: `{"statusCode":"201","status":"201","body":…,"headers":{…}}`.
///
/// The status is written as a string under both `statusCode` and `status`, and all four keys are
/// always present, because one host version deserialises them as `Required.Always` strings.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpOutput {
    status: u16,
    body: HttpOutputBody,
    headers: BTreeMap<String, String>,
}

impl HttpOutput {
    /// A JSON object body, with `Content-Type: application/json`.
    pub fn object(status: u16, body: Map<String, Value>) -> HttpOutput {
        HttpOutput::json(status, Value::Object(body))
    }

    /// A JSON array body, with `Content-Type: application/json`.
    pub fn array(status: u16, body: Vec<Value>) -> HttpOutput {
        HttpOutput::json(status, Value::Array(body))
    }

    /// No body (e.g. `202 Accepted`). The host needs a non-null `body`, so it is written as `""`,
    /// which the host sends as a zero-length body.
    pub fn empty(status: u16) -> HttpOutput {
        HttpOutput { status, body: HttpOutputBody::Empty, headers: BTreeMap::new() }
    }

    /// Adds or replaces a response header.
    pub fn header(mut self, name: &str, value: &str) -> HttpOutput {
        self.headers.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    /// The binding value as the host reads it.
    pub fn to_value(&self) -> Value {
        let status = Value::String(self.status.to_string());
        let body = match &self.body {
            HttpOutputBody::Json(value) => value.clone(),
            HttpOutputBody::Empty => Value::String(String::new()),
        };
        let headers = self.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let mut map = Map::new();
        map.insert("statusCode".to_owned(), status.clone());
        map.insert("status".to_owned(), status);
        map.insert("body".to_owned(), body);
        map.insert("headers".to_owned(), Value::Object(headers));
        Value::Object(map)
    }

    fn json(status: u16, body: Value) -> HttpOutput {
        HttpOutput { status, body: HttpOutputBody::Json(body), headers: BTreeMap::new() }
            .header("Content-Type", "application/json")
    }
}

fn refuse_mangled(binding: &str, value: &Value) -> Result<(), ResponseError> {
    match value {
        Value::String(text) if host_would_base64_decode(text) => {
            Err(ResponseError::WouldBeBase64Decoded { binding: binding.to_owned() })
        }
        _ => Ok(()),
    }
}

/// Whether .NET's `Convert.FromBase64String` accepts `text`, i.e. whether the host would replace
/// this output string with bytes. Its rules: spaces, tabs, CR and LF are ignored; what remains is
/// a multiple of four characters from `A–Z a–z 0–9 + /`, ending in at most two `=`. The empty
/// string qualifies (it decodes to zero bytes).
pub fn host_would_base64_decode(text: &str) -> bool {
    let significant: Vec<u8> = text.bytes().filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n')).collect();
    if !significant.len().is_multiple_of(4) {
        return false;
    }
    let padding = significant.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return false;
    }
    let digits = &significant[..significant.len() - padding];
    digits.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn base64_detection_follows_dotnet() {
        // "RESERVED" and "transfer" show how ordinary words fall into the trap.
        for mangled in ["", "test", "abcd1234", "QQ==", "QUI=", "ab cd", "ab\r\ncd", "+/+/", "RESERVED", "transfer"] {
            assert!(host_would_base64_decode(mangled), "{mangled:?} would be decoded");
        }
        for safe in ["abc", "a===", "====", "ab=c", "{\"a\":1}", "héhé", "OK!!", "COMMITTED"] {
            assert!(!host_would_base64_decode(safe), "{safe:?} would pass");
        }
    }

    #[test]
    fn outputs_refuse_base64_strings_but_take_structure() {
        let mut response = InvocationResponse::new();
        assert_eq!(
            response.set_output("out", json!("abcd1234")),
            Err(ResponseError::WouldBeBase64Decoded { binding: "out".into() })
        );
        assert_eq!(
            response.set_return_value(json!("test")),
            Err(ResponseError::WouldBeBase64Decoded { binding: "$return".into() })
        );
        assert!(response.set_output("out", json!({"transferId": "abcd1234"})).is_ok());
        assert!(response.set_output("list", json!(["abcd1234"])).is_ok());
        assert!(response.set_output("text", json!("not base64!")).is_ok());
        assert_eq!(response.outputs().len(), 3);
    }

    #[test]
    fn empty_response_is_the_full_object() {
        assert_eq!(InvocationResponse::new().to_json(), EMPTY_RESPONSE_JSON);
        let mut response = InvocationResponse::new();
        response.log("batch of 2");
        let parsed: Value = serde_json::from_str(&response.to_json()).unwrap_or_default();
        assert_eq!(parsed, json!({"Outputs": {}, "Logs": ["batch of 2"], "ReturnValue": null}));
    }

    #[test]
    fn http_output_writes_all_four_keys_with_string_status() {
        let mut body = Map::new();
        body.insert("status".into(), json!("OK"));
        let value = HttpOutput::object(200, body).to_value();
        assert_eq!(
            value,
            json!({"statusCode": "200", "status": "200", "body": {"status": "OK"},
                   "headers": {"Content-Type": "application/json"}})
        );
        let accepted = HttpOutput::empty(202).to_value();
        assert_eq!(accepted, json!({"statusCode": "202", "status": "202", "body": "", "headers": {}}));
    }
}
