//! Differential vectors: outcomes that Mojaloop's own code (ajv, Joi with moment, the
//! header-validation regexes, the duplicate-check hash on Node) computed for the same inputs, kept
//! in `fixtures/`. Each case must give the same code and description, or the same hash, here.

use fspiop::datetime::parse_http_date;
use fspiop::headers::{validate_headers, Method};
use fspiop::{parse_transfers_error, parse_transfers_post, parse_transfers_put, ApiVersion, FspiopError};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/mojaloop_validators.json");

fn fixture(section: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(FIXTURE).unwrap();
    all[section].as_array().unwrap().clone()
}

/// `"<code> <description>"` as the fixture writes an error, or `OK`.
fn outcome(result: Result<(), FspiopError>) -> String {
    match result {
        Ok(()) => "OK".to_string(),
        Err(error) => format!("{} {}", error.code(), error.description()),
    }
}

#[test]
fn body_outcomes_match_ajv() {
    let cases = fixture("bodies");
    assert!(100 < cases.len());
    for case in cases {
        let version = ApiVersion::parse(case["version"].as_str().unwrap()).unwrap();
        let body = case["body"].as_str().unwrap().as_bytes();
        let result = match case["kind"].as_str().unwrap() {
            "post" => parse_transfers_post(body, version).map(|_| ()),
            "put" => parse_transfers_put(body, version).map(|_| ()),
            "error" => parse_transfers_error(body, version).map(|_| ()),
            other => panic!("unknown kind {other}"),
        };
        assert_eq!(outcome(result), case["expected"].as_str().unwrap(), "{case}");
    }
}

#[test]
fn date_outcomes_match_joi() {
    let cases = fixture("dates");
    assert!(cases.iter().any(|case| case["unixMs"].is_null()) && cases.iter().any(|case| case["unixMs"].is_i64()));
    for case in cases {
        let parsed = parse_http_date(case["date"].as_str().unwrap()).map(|at| at.unix_ms());
        assert_eq!(parsed, case["unixMs"].as_i64(), "{case}");
    }
}

#[test]
fn accept_and_content_type_outcomes_match_the_header_plugin() {
    for case in fixture("headers") {
        let method = Method::parse(case["method"].as_str().unwrap()).unwrap();
        let mut headers = vec![("date", "Tue, 24 May 2016 08:38:08 GMT"), ("fspiop-source", "payerfsp")];
        if let Some(accept) = case["accept"].as_str() {
            headers.push(("accept", accept));
        }
        if let Some(content_type) = case["contentType"].as_str() {
            headers.push(("content-type", content_type));
        }
        let got = match validate_headers(method, headers.as_slice()) {
            Ok(parsed) => format!("OK {}", parsed.content_version.as_str()),
            Err(error) => format!("{} {}", error.code(), error.description()),
        };
        assert_eq!(got, case["expected"].as_str().unwrap(), "{case}");
    }
}

#[test]
fn hashes_match_node() {
    let cases = fixture("hashes");
    assert!(50 < cases.len());
    for case in cases {
        let hash = fspiop::hash::hash_body(case["body"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(hash.as_str(), case["hash"].as_str().unwrap(), "{case}");
    }
}
