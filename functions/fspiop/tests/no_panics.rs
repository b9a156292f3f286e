//! Property tests: no byte string, JSON value or header set makes any parser panic, and every
//! refusal is a well-formed FSPIOP error.

use fspiop::headers::{validate_headers, Method};
use fspiop::transfers::{parse_json_body, parse_path_transfer_id};
use fspiop::{parse_transfers_error, parse_transfers_post, parse_transfers_put, ApiVersion, FspiopError};
use proptest::prelude::*;
use serde_json::Value;

const VERSIONS: [ApiVersion; 3] = [ApiVersion::V1_0, ApiVersion::V1_1, ApiVersion::V2_0];
const METHODS: [Method; 5] = [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];

/// Field names of every transfers schema, so generated objects often reach deep checks.
const FIELD_NAMES: [&str; 18] = [
    "transferId",
    "payeeFsp",
    "payerFsp",
    "amount",
    "currency",
    "ilpPacket",
    "condition",
    "expiration",
    "extensionList",
    "extension",
    "key",
    "value",
    "fulfilment",
    "completedTimestamp",
    "transferState",
    "errorInformation",
    "errorCode",
    "errorDescription",
];

/// A refusal must carry a real code, a description within the limit and a 4xx/5xx status.
fn assert_well_formed(error: &FspiopError) -> Result<(), TestCaseError> {
    prop_assert!((1_000..=9_999).contains(&error.code().number()));
    prop_assert!(!error.description().is_empty());
    prop_assert!(error.description().chars().count() <= fspiop::error::ERROR_DESCRIPTION_CHARS_MAX);
    prop_assert!((400..=599).contains(&error.http_status()));
    let body: Value = serde_json::from_str(&error.to_json()).unwrap();
    prop_assert!(body["errorInformation"]["errorCode"].is_string());
    Ok(())
}

fn parse_everywhere(body: &[u8]) -> Result<(), TestCaseError> {
    for version in VERSIONS {
        for result in [
            parse_transfers_post(body, version).map(|_| ()),
            parse_transfers_put(body, version).map(|_| ()),
            parse_transfers_error(body, version).map(|_| ()),
        ] {
            if let Err(error) = result {
                assert_well_formed(&error)?;
            }
        }
    }
    Ok(())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(Value::from),
        "\\PC{0,50}".prop_map(Value::String),
        "[A-Za-z0-9_=-]{40,46}".prop_map(Value::String),
        Just(Value::from("b51ec534-ee48-4575-b6a9-ead2955b8069")),
        Just(Value::from("2016-05-24T08:38:08.699Z")),
        Just(Value::from("COMMITTED")),
        Just(Value::from("USD")),
        Just(Value::from("100.5")),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![prop::sample::select(FIELD_NAMES.to_vec()).prop_map(String::from), "\\PC{0,8}"];
    scalar().prop_recursive(5, 64, 10, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..10)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn header_value() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop_oneof![
        "\\PC{0,60}",
        "application/vnd\\.interoperability\\.transfers\\+json[ \t;,]{0,3}(version=[0-9.]{0,5})?(,application/vnd\\.interoperability\\.transfers\\+json;version=[0-9.]{0,4})?",
        "(Sun|Mon|Tue|Wed|Thu|Fri|Sat|xyz), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
        "[0-9+-]{0,25}",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_byte_string_makes_a_body_parser_panic(body in prop::collection::vec(any::<u8>(), 0..200)) {
        parse_everywhere(&body)?;
        if let Err(error) = fspiop::hash::hash_body(&body) {
            assert_well_formed(&error)?;
        }
    }

    #[test]
    fn no_json_value_makes_a_body_parser_panic(value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        parse_everywhere(&body)?;
        // Anything that parses as JSON can be hashed.
        prop_assert!(parse_json_body(&body).is_ok());
        prop_assert_eq!(fspiop::hash::hash_body(&body).unwrap().as_str().len(), 43);
    }

    #[test]
    fn no_header_set_makes_header_validation_panic(
        accept in header_value(),
        content_type in header_value(),
        date in header_value(),
        content_length in header_value(),
        source in header_value(),
        destination in header_value(),
    ) {
        let names = ["accept", "content-type", "date", "content-length", "fspiop-source", "fspiop-destination"];
        let values = [accept, content_type, date, content_length, source, destination];
        let headers: Vec<(&str, String)> = names.iter().zip(values).filter_map(|(name, value)| value.map(|value| (*name, value))).collect();
        for method in METHODS {
            match validate_headers(method, headers.as_slice()) {
                Ok(parsed) => prop_assert!(parsed.source.as_str().chars().count() <= 32),
                Err(error) => assert_well_formed(&error)?,
            }
        }
    }

    #[test]
    fn no_path_id_makes_the_path_parser_panic(raw in "\\PC{0,40}") {
        if let Err(error) = parse_path_transfer_id(&raw) {
            assert_well_formed(&error)?;
        }
    }
}
