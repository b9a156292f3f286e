//! The HTTP trigger when the host does *not* forward or proxy the request: `Data.<binding>` is the
//! host's JSON picture of the request (`GetRequestAsJObject`, azure.md §1.8).
//!
//! Our HTTP functions are HTTP-in/HTTP-out only and host.json sets `enableProxyingHttpRequest`, so
//! in production axum sees the real request and this shape is not used. It is decoded anyway for a
//! function that gains another binding (which turns proxying off for it) and for the emulator.
//!
//! What the host writes, from its source:
//! - `Query` is an object in older hosts and a string holding one in newer hosts; a key repeated in
//!   the query string arrives as one comma-joined value.
//! - `Headers` maps each name to an array of strings.
//! - `Body` is present only when the request had a positive `Content-Length` (a chunked body is
//!   dropped by the host); it is a string, except for `application/octet-stream` and `multipart/*`
//!   where it is the bytes as base64.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::decode::{self, join};
use super::error::{InvocationError, JsonKind};
use super::InvocationRequest;

/// The request body as the host passed it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpBody {
    /// No body, or one the host did not pass on (no `Content-Length`).
    Empty,
    Text(String),
    /// `application/octet-stream` and `multipart/*`, decoded from the host's base64.
    Binary(Vec<u8>),
}

/// A decoded HTTP-trigger invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTriggerRequest {
    /// The full original URL, query string included.
    pub url: String,
    /// As the client sent it (ASP.NET Core keeps the case; clients send upper case).
    pub method: String,
    pub query: BTreeMap<String, String>,
    /// Names as the host wrote them; look them up with [`HttpTriggerRequest::header`].
    pub headers: BTreeMap<String, Vec<String>>,
    /// Route parameters of the function's `route` template; absent optional ones are left out.
    pub params: BTreeMap<String, String>,
    pub body: HttpBody,
}

impl HttpTriggerRequest {
    /// Decodes the request bound to `binding` (the trigger's `name` in function.json).
    pub fn decode(mut request: InvocationRequest, binding: &str) -> Result<HttpTriggerRequest, InvocationError> {
        let field = join("Data", binding);
        let mut req = decode::object(decode::require(&mut request.data, "Data", binding)?, &field)?;
        let url = decode::text(decode::require(&mut req, &field, "Url")?, &join(&field, "Url"))?;
        let method = decode::text(decode::require(&mut req, &field, "Method")?, &join(&field, "Method"))?;
        let query = flat_map(&mut req, &field, "Query")?;
        let headers = header_map(&mut req, &field)?;
        let params = flat_map(&mut req, &field, "Params")?;
        let binary = is_binary(&headers);
        let body = match decode::take(&mut req, "Body") {
            None => HttpBody::Empty,
            Some(Value::String(text)) if binary => HttpBody::Binary(base64_bytes(&text, &join(&field, "Body"))?),
            Some(Value::String(text)) => HttpBody::Text(text),
            Some(other) => return Err(wrong_type(&join(&field, "Body"), JsonKind::String, &other)),
        };
        Ok(HttpTriggerRequest { url, method, query, headers, params, body })
    }

    /// The first value of header `name`, compared without regard to ASCII case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

/// An object of scalar values (`Query`, `Params`), plain or as a string holding one. Arrays are
/// comma-joined the way the host joins repeated query keys; `null` values are left out.
fn flat_map(
    req: &mut Map<String, Value>,
    parent: &str,
    key: &str,
) -> Result<BTreeMap<String, String>, InvocationError> {
    let field = join(parent, key);
    let Some(value) = decode::take(req, key) else {
        return Ok(BTreeMap::new());
    };
    let mut flat = BTreeMap::new();
    for (name, value) in decode::object(value, &field)? {
        let item_field = join(&field, &name);
        let text = match value {
            Value::Null => continue,
            Value::Array(items) => strings(items, &item_field)?.join(","),
            other => decode::scalar_text(other, &item_field)?,
        };
        flat.insert(name, text);
    }
    Ok(flat)
}

fn header_map(req: &mut Map<String, Value>, parent: &str) -> Result<BTreeMap<String, Vec<String>>, InvocationError> {
    let field = join(parent, "Headers");
    let Some(value) = decode::take(req, "Headers") else {
        return Ok(BTreeMap::new());
    };
    let mut headers = BTreeMap::new();
    for (name, value) in decode::object(value, &field)? {
        let item_field = join(&field, &name);
        let values = match value {
            Value::Null => Vec::new(),
            Value::Array(items) => strings(items, &item_field)?,
            other => vec![decode::scalar_text(other, &item_field)?],
        };
        headers.insert(name, values);
    }
    Ok(headers)
}

fn strings(items: Vec<Value>, field: &str) -> Result<Vec<String>, InvocationError> {
    items.into_iter().enumerate().map(|(index, item)| decode::scalar_text(item, &format!("{field}[{index}]"))).collect()
}

/// Mirrors the host's `IsMediaTypeOctetOrMultipart`: those bodies arrive as base64.
fn is_binary(headers: &BTreeMap<String, Vec<String>>) -> bool {
    let content_type = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, values)| values.first());
    let Some(content_type) = content_type else {
        return false;
    };
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    media_type == "application/octet-stream" || media_type.contains("multipart/")
}

fn base64_bytes(text: &str, field: &str) -> Result<Vec<u8>, InvocationError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| InvocationError::InvalidBase64 { field: field.to_owned(), reason: e.to_string() })
}

fn wrong_type(field: &str, expected: JsonKind, found: &Value) -> InvocationError {
    InvocationError::WrongType { field: field.to_owned(), expected, found: JsonKind::of(found) }
}
