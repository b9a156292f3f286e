//! Header validation for the `transfers` resource, as ml-api-adapter does it before looking at a
//! body, and the API versions the switch speaks.
//!
//! The checks and their order are central-services-shared's `headerValidation` plugin (Accept,
//! Date, Content-Length, Content-Type) followed by the OpenAPI header schema (FSPIOP-Source
//! required). The first failure is returned. Headers come in through [`HeaderSource`], a lookup
//! by lower-case name, so any HTTP layer can call this without a framework.
//!
//! One ordering difference is accepted: Mojaloop checks the header *schema* (a missing
//! FSPIOP-Source) only after the body schema, so a request that has both a missing FSPIOP-Source
//! and an invalid body gets the body's error there and the header's error here.

use ledger_core::ids::{FspId, FSP_ID_LENGTH_MAX};
use ledger_core::time::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::datetime::parse_http_date;
use crate::error::{ErrorCode, FspiopError};
use crate::json::PAYLOAD_TOO_LARGE;
use crate::schema::{invalid_error, missing_error, JsonPath};
use crate::wire::{Extension, ExtensionList};

/// The body limit, which `Content-Length` is checked against before any body is read.
pub use crate::json::CONTENT_LENGTH_BYTES_MAX;

/// The media type of the transfers resource, without parameters.
const TRANSFERS_MEDIA_TYPE: &str = "application/vnd.interoperability.transfers+json";
/// What follows the media type's `;` before the version number.
const VERSION_PARAMETER: &str = "version=";

const REQUIRE_ACCEPT_HEADER: &str = "Accept is required";
const INVALID_ACCEPT_HEADER: &str = "Invalid accept header";
const REQUESTED_VERSION_NOT_SUPPORTED: &str =
    "The Client requested an unsupported version, see extension list for supported version(s).";
const REQUIRE_DATE_HEADER: &str = "Missing required date header";
const INVALID_DATE_HEADER: &str = "Invalid date header";
const REQUIRE_CONTENT_TYPE_HEADER: &str = "Content-type is required";
const INVALID_CONTENT_TYPE_HEADER: &str = "Invalid content-type header";
const SUPPLIED_VERSION_NOT_SUPPORTED: &str = "Client supplied a protocol version which is not supported by the server";

/// Read access to request headers by lower-case name.
pub trait HeaderSource {
    /// The value of the header `name` (given in lower case), if the request has it.
    fn header(&self, name: &str) -> Option<&str>;
}

/// Keys must already be lower case, as Node and most HTTP layers store them.
impl<S: BuildHasher> HeaderSource for HashMap<String, String, S> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// Keys must already be lower case.
impl HeaderSource for BTreeMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str)
    }
}

/// Pairs in any case; the first pair with the name wins.
impl<K: AsRef<str>, V: AsRef<str>> HeaderSource for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter().find(|(key, _)| key.as_ref().eq_ignore_ascii_case(name)).map(|(_, value)| value.as_ref())
    }
}

/// The HTTP methods of the transfers API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        let methods = [
            ("GET", Method::Get),
            ("POST", Method::Post),
            ("PUT", Method::Put),
            ("PATCH", Method::Patch),
            ("DELETE", Method::Delete),
        ];
        methods.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)).map(|(_, method)| *method)
    }

    /// Requests that start an exchange carry `Accept`; callbacks (PUT, PATCH) need not.
    fn requires_accept(self) -> bool {
        matches!(self, Method::Get | Method::Post | Method::Delete)
    }
}

/// A `Content-Type` version the switch accepts, which also picks the body rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    V1_0,
    V1_1,
    V2_0,
}

impl ApiVersion {
    /// In the order of ml-api-adapter's default `PROTOCOL_VERSIONS.CONTENT.VALIDATELIST`, which
    /// is the order a 3001 lists them in.
    pub const SUPPORTED: [ApiVersion; 3] = [ApiVersion::V1_1, ApiVersion::V1_0, ApiVersion::V2_0];

    pub fn parse(text: &str) -> Option<ApiVersion> {
        ApiVersion::SUPPORTED.into_iter().find(|version| version.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1_0 => "1.0",
            ApiVersion::V1_1 => "1.1",
            ApiVersion::V2_0 => "2.0",
        }
    }

    /// `application/vnd.interoperability.transfers+json;version=<v>`, for callbacks.
    pub fn content_type(self) -> String {
        format!("{TRANSFERS_MEDIA_TYPE};{VERSION_PARAMETER}{}", self.as_str())
    }

    /// The version of a transfers `Content-Type` the switch accepts (`None` for anything else),
    /// e.g. to answer a DFSP in the version it spoke.
    pub fn from_content_type(value: &str) -> Option<ApiVersion> {
        ApiVersion::parse(parse_content_type(value)?)
    }

    /// v2.0 schemas are closed: an unknown field is 3103. v1.x ignores unknown fields.
    pub fn rejects_additional_properties(self) -> bool {
        self == ApiVersion::V2_0
    }

    /// `PATCH /transfers/{ID}` exists from v1.1 on; with 1.0 the hub skips those notifications.
    pub fn has_patch(self) -> bool {
        self != ApiVersion::V1_0
    }
}

/// A version listed in `Accept` that the switch supports (a bare major means any minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcceptVersion {
    V1,
    V1_0,
    V1_1,
    V2,
    V2_0,
}

impl AcceptVersion {
    /// ml-api-adapter's default `PROTOCOL_VERSIONS.ACCEPT.VALIDATELIST`, in its order.
    pub const SUPPORTED: [AcceptVersion; 5] =
        [AcceptVersion::V1, AcceptVersion::V1_0, AcceptVersion::V1_1, AcceptVersion::V2, AcceptVersion::V2_0];

    pub fn parse(text: &str) -> Option<AcceptVersion> {
        AcceptVersion::SUPPORTED.into_iter().find(|version| version.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AcceptVersion::V1 => "1",
            AcceptVersion::V1_0 => "1.0",
            AcceptVersion::V1_1 => "1.1",
            AcceptVersion::V2 => "2",
            AcceptVersion::V2_0 => "2.0",
        }
    }
}

/// The checked headers of a transfers request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeaders {
    pub source: FspId,
    /// Absent or empty `FSPIOP-Destination` (the spec says to leave it empty when unknown).
    pub destination: Option<FspId>,
    pub content_version: ApiVersion,
    /// The supported versions the client listed, in its order, without repeats; empty when a
    /// callback carries no `Accept`.
    pub accept_versions: Vec<AcceptVersion>,
    pub date: Timestamp,
    pub content_length: Option<u64>,
}

/// Checks the headers of a request to the transfers resource and returns them parsed, or the
/// first failure in Mojaloop's order: Accept, Date, Content-Length, Content-Type, FSPIOP-Source,
/// FSPIOP-Destination.
pub fn validate_headers<H: HeaderSource + ?Sized>(method: Method, headers: &H) -> Result<RequestHeaders, FspiopError> {
    let accept_versions = check_accept(method, headers.header("accept"))?;
    let date = check_date(headers.header("date"))?;
    let content_length = check_content_length(headers.header("content-length"))?;
    let content_version = check_content_type(headers.header("content-type"))?;
    let source = check_source(headers.header("fspiop-source"))?;
    let destination = check_destination(headers.header("fspiop-destination"))?;
    Ok(RequestHeaders { source, destination, content_version, accept_versions, date, content_length })
}

fn check_accept(method: Method, value: Option<&str>) -> Result<Vec<AcceptVersion>, FspiopError> {
    // Mojaloop tests `request.headers.accept` for truthiness on PUT and PATCH, so an empty
    // Accept there counts as absent; on GET, POST and DELETE an empty one is invalid.
    let value = match value {
        Some(value) if !value.is_empty() || method.requires_accept() => value,
        Some(_) => return Ok(Vec::new()),
        None if method.requires_accept() => {
            return Err(FspiopError::with_detail(ErrorCode::MissingElement, REQUIRE_ACCEPT_HEADER))
        }
        None => return Ok(Vec::new()),
    };
    let listed = parse_accept(value)
        .ok_or_else(|| FspiopError::with_detail(ErrorCode::MalformedSyntax, INVALID_ACCEPT_HEADER))?;
    let mut supported: Vec<AcceptVersion> = Vec::new();
    for version in listed.into_iter().flatten().filter_map(AcceptVersion::parse) {
        if !supported.contains(&version) {
            supported.push(version);
        }
    }
    if supported.is_empty() {
        let versions = AcceptVersion::SUPPORTED.map(AcceptVersion::as_str);
        return Err(unacceptable_version(REQUESTED_VERSION_NOT_SUPPORTED, &versions));
    }
    Ok(supported)
}

/// `^single(,single)*$` with single = `<media type>(\s?;\s?version=\d+(\.\d+)?)?`: each item's
/// version, `None` for an item without one (which matches no supported version).
fn parse_accept(value: &str) -> Option<Vec<Option<&str>>> {
    value.split(',').map(parse_accept_item).collect()
}

fn parse_accept_item(item: &str) -> Option<Option<&str>> {
    let parameters = item.strip_prefix(TRANSFERS_MEDIA_TYPE)?;
    if parameters.is_empty() {
        return Some(None);
    }
    let version = parse_version_parameter(parameters)?;
    let (major, minor) = match version.split_once('.') {
        Some((major, minor)) => (major, Some(minor)),
        None => (version, None),
    };
    (is_digits(major) && minor.is_none_or(is_digits)).then_some(Some(version))
}

fn check_date(value: Option<&str>) -> Result<Timestamp, FspiopError> {
    let value = value.ok_or_else(|| FspiopError::with_detail(ErrorCode::MissingElement, REQUIRE_DATE_HEADER))?;
    parse_http_date(value).ok_or_else(|| FspiopError::with_detail(ErrorCode::MalformedSyntax, INVALID_DATE_HEADER))
}

fn check_content_length(value: Option<&str>) -> Result<Option<u64>, FspiopError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let length = match value.parse::<u64>() {
        Ok(length) if is_digits(value) => length,
        // A length too long for u64 is certainly too large; anything else is not an integer.
        _ if is_digits(value) => u64::MAX,
        _ => {
            let detail = format!("{}/content-length must be integer", JsonPath::headers().as_str());
            return Err(FspiopError::with_detail(ErrorCode::MalformedSyntax, detail));
        }
    };
    if CONTENT_LENGTH_BYTES_MAX < length {
        return Err(FspiopError::with_detail(ErrorCode::TooLargePayload, PAYLOAD_TOO_LARGE));
    }
    Ok(Some(length))
}

fn check_content_type(value: Option<&str>) -> Result<ApiVersion, FspiopError> {
    let value =
        value.ok_or_else(|| FspiopError::with_detail(ErrorCode::MissingElement, REQUIRE_CONTENT_TYPE_HEADER))?;
    let version = parse_content_type(value)
        .ok_or_else(|| FspiopError::with_detail(ErrorCode::MalformedSyntax, INVALID_CONTENT_TYPE_HEADER))?;
    ApiVersion::parse(version).ok_or_else(|| {
        let versions = ApiVersion::SUPPORTED.map(ApiVersion::as_str);
        unacceptable_version(SUPPLIED_VERSION_NOT_SUPPORTED, &versions)
    })
}

/// `^<media type>\s?;\s?version=(\d+\.\d+)$`: the version.
fn parse_content_type(value: &str) -> Option<&str> {
    let version = parse_version_parameter(value.strip_prefix(TRANSFERS_MEDIA_TYPE)?)?;
    let (major, minor) = version.split_once('.')?;
    (is_digits(major) && is_digits(minor)).then_some(version)
}

/// `\s?;\s?version=<rest>`: the rest.
fn parse_version_parameter(parameters: &str) -> Option<&str> {
    let parameters = skip_one_js_space(parameters).strip_prefix(';')?;
    skip_one_js_space(parameters).strip_prefix(VERSION_PARAMETER)
}

fn check_source(value: Option<&str>) -> Result<FspId, FspiopError> {
    let value = value.ok_or_else(|| missing_error(&JsonPath::headers(), "fspiop-source"))?;
    fsp_id_header(value, "fspiop-source")
}

fn check_destination(value: Option<&str>) -> Result<Option<FspId>, FspiopError> {
    match value {
        None | Some("") => Ok(None),
        Some(value) => fsp_id_header(value, "fspiop-destination").map(Some),
    }
}

/// The adapter's schema types these headers as bare strings; the ledger knows FSPs only by an
/// `FspId` of 1 to 32 characters, so other values are refused up front with the schema's
/// length wording.
fn fsp_id_header(value: &str, name: &str) -> Result<FspId, FspiopError> {
    let path = JsonPath::headers().child(name);
    if value.is_empty() {
        return Err(invalid_error(&path, "must NOT have fewer than 1 characters"));
    }
    FspId::parse(value)
        .ok_or_else(|| invalid_error(&path, &format!("must NOT have more than {FSP_ID_LENGTH_MAX} characters")))
}

/// 3001 (HTTP 406) with the supported versions as `{key: major, value: minor}` extensions, a
/// bare major counting as minor 0 and repeats dropped, as Mojaloop lists them.
fn unacceptable_version(detail: &str, versions: &[&str]) -> FspiopError {
    let mut extension: Vec<Extension> = Vec::new();
    for version in versions {
        let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
        let pair = Extension { key: major.to_string(), value: minor.to_string() };
        if !extension.contains(&pair) {
            extension.push(pair);
        }
    }
    FspiopError::with_detail(ErrorCode::UnacceptableVersion, detail).with_extension_list(ExtensionList { extension })
}

/// One or more ASCII digits (a JavaScript `\d+`).
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Drops at most one leading character of JavaScript's `\s` class.
fn skip_one_js_space(text: &str) -> &str {
    match text.chars().next() {
        Some(ch) if is_js_space(ch) => &text[ch.len_utf8()..],
        _ => text,
    }
}

/// JavaScript's `\s`: WhiteSpace and LineTerminator code points.
fn is_js_space(ch: char) -> bool {
    matches!(
        ch,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT_TYPE_1_1: &str = "application/vnd.interoperability.transfers+json;version=1.1";
    const ACCEPT_1: &str = "application/vnd.interoperability.transfers+json;version=1";
    const DATE: &str = "Tue, 24 May 2016 08:38:08 GMT";

    /// An expected failure: code, HTTP status, description.
    type Failure = (u16, u16, &'static str);

    /// A valid POST's headers with `changes` applied: `Some(value)` sets, `None` removes.
    fn headers_with(changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = [
            ("accept", ACCEPT_1),
            ("content-type", CONTENT_TYPE_1_1),
            ("date", DATE),
            ("fspiop-source", "payerfsp"),
            ("fspiop-destination", "payeefsp"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (name, value) in changes {
            headers.retain(|(key, _)| key != name);
            if let Some(value) = value {
                headers.push((name.to_string(), value.to_string()));
            }
        }
        headers
    }

    fn check(method: Method, changes: &[(&str, Option<&str>)]) -> Result<RequestHeaders, FspiopError> {
        validate_headers(method, headers_with(changes).as_slice())
    }

    /// Asserts the failure's code, HTTP status and description.
    fn expect_error(method: Method, changes: &[(&str, Option<&str>)], code: u16, status: u16, description: &str) {
        let error = check(method, changes).expect_err(description);
        assert_eq!(
            (error.code().number(), error.http_status(), error.description()),
            (code, status, description),
            "{changes:?}"
        );
    }

    #[test]
    fn a_valid_post_parses_into_typed_headers() {
        let headers = check(Method::Post, &[]).unwrap();
        assert_eq!(headers.source.as_str(), "payerfsp");
        assert_eq!(headers.destination.as_ref().map(FspId::as_str), Some("payeefsp"));
        assert_eq!(headers.content_version, ApiVersion::V1_1);
        assert_eq!(headers.accept_versions, vec![AcceptVersion::V1]);
        assert_eq!(headers.date.unix_ms(), 1_464_079_088_000);
        assert_eq!(headers.content_length, None);
    }

    #[test]
    fn accept_rules() {
        let missing = "Missing mandatory element - Accept is required";
        let invalid = "Malformed syntax - Invalid accept header";
        let unsupported = "Unacceptable version requested - The Client requested an unsupported version, see extension list for supported version(s).";
        for method in [Method::Get, Method::Post, Method::Delete] {
            expect_error(method, &[("accept", None)], 3102, 400, missing);
            expect_error(method, &[("accept", Some(""))], 3101, 400, invalid);
        }
        let cases: [(&str, Option<Failure>); 14] = [
            ("application/vnd.interoperability.transfers+json;version=1.1", None),
            ("application/vnd.interoperability.transfers+json ; version=2", None),
            ("application/vnd.interoperability.transfers+json;version=3,application/vnd.interoperability.transfers+json;version=2.0", None),
            ("application/vnd.interoperability.transfers+json;version=1.2", Some((3001, 406, unsupported))),
            ("application/vnd.interoperability.transfers+json;version=01", Some((3001, 406, unsupported))),
            // Mojaloop's configured list has no "any version", so a bare media type is refused.
            ("application/vnd.interoperability.transfers+json", Some((3001, 406, unsupported))),
            ("application/vnd.interoperability.transfers+json;version=1, application/vnd.interoperability.transfers+json;version=2", Some((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json  ;version=1", Some((3101, 400, invalid))),
            ("application/vnd.interoperability.quotes+json;version=1", Some((3101, 400, invalid))),
            ("application/json", Some((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json;version=", Some((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json;version=1.", Some((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json;version=1.1;charset=utf-8", Some((3101, 400, invalid))),
            ("Application/vnd.interoperability.transfers+json;version=1", Some((3101, 400, invalid))),
        ];
        for (accept, expected) in cases {
            match expected {
                None => assert!(check(Method::Post, &[("accept", Some(accept))]).is_ok(), "{accept}"),
                Some((code, status, description)) => {
                    expect_error(Method::Post, &[("accept", Some(accept))], code, status, description)
                }
            }
        }
    }

    #[test]
    fn accept_is_optional_on_callbacks_but_checked_when_present() {
        for method in [Method::Put, Method::Patch] {
            assert_eq!(check(method, &[("accept", None)]).unwrap().accept_versions, vec![]);
            assert_eq!(check(method, &[("accept", Some(""))]).unwrap().accept_versions, vec![]);
            expect_error(
                method,
                &[("accept", Some("text/plain"))],
                3101,
                400,
                "Malformed syntax - Invalid accept header",
            );
        }
    }

    #[test]
    fn accept_versions_keep_the_clients_order_without_repeats() {
        let accept = "application/vnd.interoperability.transfers+json;version=2.0,application/vnd.interoperability.transfers+json;version=9,application/vnd.interoperability.transfers+json;version=1,application/vnd.interoperability.transfers+json;version=2.0";
        let headers = check(Method::Get, &[("accept", Some(accept))]).unwrap();
        assert_eq!(headers.accept_versions, vec![AcceptVersion::V2_0, AcceptVersion::V1]);
    }

    #[test]
    fn unsupported_versions_list_the_supported_ones_as_extensions() {
        let accept =
            check(Method::Post, &[("accept", Some("application/vnd.interoperability.transfers+json;version=3"))])
                .unwrap_err();
        assert_eq!(
            accept.to_json(),
            concat!(
                r#"{"errorInformation":{"errorCode":"3001","errorDescription":"Unacceptable version requested - The Client requested an unsupported version, see extension list for supported version(s).","#,
                r#""extensionList":{"extension":[{"key":"1","value":"0"},{"key":"1","value":"1"},{"key":"2","value":"0"}]}}}"#
            )
        );
        let content = check(
            Method::Post,
            &[("content-type", Some("application/vnd.interoperability.transfers+json;version=3.0"))],
        )
        .unwrap_err();
        assert_eq!(
            content.to_json(),
            concat!(
                r#"{"errorInformation":{"errorCode":"3001","errorDescription":"Unacceptable version requested - Client supplied a protocol version which is not supported by the server","#,
                r#""extensionList":{"extension":[{"key":"1","value":"1"},{"key":"1","value":"0"},{"key":"2","value":"0"}]}}}"#
            )
        );
    }

    #[test]
    fn content_type_rules() {
        let invalid = "Malformed syntax - Invalid content-type header";
        let unsupported =
            "Unacceptable version requested - Client supplied a protocol version which is not supported by the server";
        for method in [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete] {
            expect_error(
                method,
                &[("content-type", None)],
                3102,
                400,
                "Missing mandatory element - Content-type is required",
            );
        }
        let cases: [(&str, Result<ApiVersion, Failure>); 11] = [
            ("application/vnd.interoperability.transfers+json;version=1.0", Ok(ApiVersion::V1_0)),
            ("application/vnd.interoperability.transfers+json;version=1.1", Ok(ApiVersion::V1_1)),
            ("application/vnd.interoperability.transfers+json ;\tversion=2.0", Ok(ApiVersion::V2_0)),
            ("application/vnd.interoperability.transfers+json;version=1.2", Err((3001, 406, unsupported))),
            ("application/vnd.interoperability.transfers+json;version=10.0", Err((3001, 406, unsupported))),
            ("application/vnd.interoperability.transfers+json;version=1", Err((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json", Err((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json;version=1.1 ", Err((3101, 400, invalid))),
            ("application/vnd.interoperability.transfers+json;version=1.1,application/vnd.interoperability.transfers+json;version=1.0", Err((3101, 400, invalid))),
            ("application/json", Err((3101, 400, invalid))),
            ("", Err((3101, 400, invalid))),
        ];
        for (content_type, expected) in cases {
            let changes = [("content-type", Some(content_type))];
            match expected {
                Ok(version) => {
                    assert_eq!(check(Method::Post, &changes).unwrap().content_version, version, "{content_type}")
                }
                Err((code, status, description)) => expect_error(Method::Post, &changes, code, status, description),
            }
        }
    }

    #[test]
    fn date_rules() {
        expect_error(
            Method::Put,
            &[("date", None)],
            3102,
            400,
            "Missing mandatory element - Missing required date header",
        );
        let invalid = [
            "",
            "Tue, 24 May 2016 08:38:08",
            "Tue, 24 May 2016 08:38:08 UTC",
            "Wed, 24 May 2016 08:38:08 GMT",
            "Tue, 24 May 16 08:38:08 GMT",
            "Tue, 4 May 2016 08:38:08 GMT",
            "Tue,  24 May 2016 08:38:08 GMT",
            "2016-05-24T08:38:08.000Z",
            "Tue, 31 Apr 2016 08:38:08 GMT",
            "Tue, 24 May 2016 24:00:00 GMT",
            " Tue, 24 May 2016 08:38:08 GMT",
        ];
        for date in invalid {
            expect_error(Method::Post, &[("date", Some(date))], 3101, 400, "Malformed syntax - Invalid date header");
        }
        let lower_case_names = check(Method::Post, &[("date", Some("tue, 24 may 2016 08:38:08 GMT"))]).unwrap();
        assert_eq!(lower_case_names.date.unix_ms(), 1_464_079_088_000);
    }

    #[test]
    fn content_length_rules() {
        let limit = CONTENT_LENGTH_BYTES_MAX.to_string();
        let over = (CONTENT_LENGTH_BYTES_MAX + 1).to_string();
        assert_eq!(
            check(Method::Post, &[("content-length", Some(&limit))]).unwrap().content_length,
            Some(CONTENT_LENGTH_BYTES_MAX)
        );
        assert_eq!(check(Method::Post, &[("content-length", Some("0"))]).unwrap().content_length, Some(0));
        let too_large = "Too large payload - Payload size is too large";
        expect_error(Method::Post, &[("content-length", Some(&over))], 3104, 400, too_large);
        expect_error(Method::Post, &[("content-length", Some("99999999999999999999999"))], 3104, 400, too_large);
        for bad in ["", "-1", "+5", "1.5", "12a"] {
            let description = "Malformed syntax - /header/content-length must be integer";
            expect_error(Method::Post, &[("content-length", Some(bad))], 3101, 400, description);
        }
    }

    #[test]
    fn fspiop_source_and_destination_rules() {
        let missing = "Missing mandatory element - /header must have required property 'fspiop-source'";
        expect_error(Method::Put, &[("fspiop-source", None)], 3102, 400, missing);
        let too_long = "x".repeat(FSP_ID_LENGTH_MAX + 1);
        let source_long = "Generic validation error - /header/fspiop-source must NOT have more than 32 characters";
        expect_error(Method::Post, &[("fspiop-source", Some(&too_long))], 3100, 400, source_long);
        let source_empty = "Generic validation error - /header/fspiop-source must NOT have fewer than 1 characters";
        expect_error(Method::Post, &[("fspiop-source", Some(""))], 3100, 400, source_empty);
        let destination_long =
            "Generic validation error - /header/fspiop-destination must NOT have more than 32 characters";
        expect_error(Method::Post, &[("fspiop-destination", Some(&too_long))], 3100, 400, destination_long);
        assert_eq!(check(Method::Post, &[("fspiop-destination", None)]).unwrap().destination, None);
        assert_eq!(check(Method::Post, &[("fspiop-destination", Some(""))]).unwrap().destination, None);
    }

    #[test]
    fn checks_run_in_mojaloops_order() {
        let everything_wrong: [(&str, Option<&str>); 5] = [
            ("accept", None),
            ("date", None),
            ("content-length", Some("x")),
            ("content-type", None),
            ("fspiop-source", None),
        ];
        let expected = [3102, 3102, 3101, 3102, 3102];
        let descriptions = [
            "Accept is required",
            "Missing required date header",
            "content-length",
            "Content-type is required",
            "fspiop-source",
        ];
        for skip in 0..everything_wrong.len() {
            let error = check(Method::Post, &everything_wrong[skip..]).unwrap_err();
            assert_eq!(error.code().number(), expected[skip]);
            assert!(error.description().contains(descriptions[skip]), "{}", error.description());
        }
    }

    #[test]
    fn header_sources_look_up_lower_case_names() {
        let map: HashMap<String, String> = headers_with(&[]).into_iter().collect();
        assert!(validate_headers(Method::Post, &map).is_ok());
        let tree: BTreeMap<String, String> = headers_with(&[]).into_iter().collect();
        assert!(validate_headers(Method::Post, &tree).is_ok());
        let mixed_case =
            [("Accept", ACCEPT_1), ("Content-Type", CONTENT_TYPE_1_1), ("DATE", DATE), ("FSPIOP-Source", "payerfsp")];
        assert_eq!(validate_headers(Method::Post, &mixed_case[..]).unwrap().source.as_str(), "payerfsp");
    }

    #[test]
    fn versions_print_and_parse() {
        for version in ApiVersion::SUPPORTED {
            assert_eq!(ApiVersion::parse(version.as_str()), Some(version));
        }
        assert_eq!(ApiVersion::V2_0.content_type(), "application/vnd.interoperability.transfers+json;version=2.0");
        for version in ApiVersion::SUPPORTED {
            assert_eq!(ApiVersion::from_content_type(&version.content_type()), Some(version));
        }
        assert_eq!(ApiVersion::from_content_type(CONTENT_TYPE_1_1), Some(ApiVersion::V1_1));
        assert_eq!(
            ApiVersion::from_content_type("application/vnd.interoperability.transfers+json ; version=2.0"),
            Some(ApiVersion::V2_0)
        );
        for other in [
            "application/json",
            "application/vnd.interoperability.transfers+json;version=3.0",
            "application/vnd.interoperability.quotes+json;version=1.1",
            "",
        ] {
            assert_eq!(ApiVersion::from_content_type(other), None, "{other}");
        }
        assert!(ApiVersion::V2_0.rejects_additional_properties());
        assert!(!ApiVersion::V1_1.rejects_additional_properties());
        assert!(!ApiVersion::V1_0.has_patch() && ApiVersion::V1_1.has_patch());
        for version in AcceptVersion::SUPPORTED {
            assert_eq!(AcceptVersion::parse(version.as_str()), Some(version));
        }
        assert_eq!(Method::parse("patch"), Some(Method::Patch));
        assert_eq!(Method::parse("HEAD"), None);
    }
}
