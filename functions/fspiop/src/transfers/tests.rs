//! The transfers wire module's tests: parsing in Mojaloop's order with its error texts, the
//! per-version rules, the Hub's bodies, and property tests of the round trip.

use super::*;
use crate::json::CONTENT_LENGTH_BYTES_MAX;
use crate::wire::truncate_chars;
use serde_json::json;

/// The Testing Toolkit's `validFulfillment` / `validCondition` pair.
const TTK_FULFILMENT: &str = "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA";
const TTK_CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";
const UUID_V4: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";
const UUID_V7: &str = "01890f33-6e8c-7b1a-9d8e-0123456789ab";
const ULID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const VERSIONS: [ApiVersion; 3] = [ApiVersion::V1_0, ApiVersion::V1_1, ApiVersion::V2_0];

fn valid_post() -> Value {
    json!({
        "transferId": UUID_V4,
        "payerFsp": "payerfsp",
        "payeeFsp": "payeefsp",
        "amount": {"amount": "60.1234", "currency": "USD"},
        "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNlOiB1SXlweUYzY3pYSXBFdzVVc05TYWh3CkVuY3J5cHRpb246IG5vbmUKUGF5bWVudC1JZDogMTMyMzZhM2ItOGZhOC00MTYzLTg0NDctNGMzZWQzZGE5OGE3CgpDb250ZW50LUxlbmd0aDogMTM1CkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vanNvbgpTZW5kZXItSWRlbnRpZmllcjogOTI4MDYzOTEKCiJ7XCJmZWVcIjowLFwidHJhbnNmZXJDb2RlXCI6XCJpbnZvaWNlXCIsXCJkZWJpdE5hbWVcIjpcImFsaWNlIGNvb3BlclwiLFwiY3JlZGl0TmFtZVwiOlwibWVyIGNoYW50XCIsXCJkZWJpdElkZW50aWZpZXJcIjpcIjkyODA2MzkxXCJ9IgA",
        "condition": TTK_CONDITION,
        "expiration": "2016-05-24T08:38:08.699-04:00",
        "extensionList": {"extension": [{"key": "k1", "value": "v1"}, {"key": "k2", "value": "v2"}]}
    })
}

fn valid_put() -> Value {
    json!({"fulfilment": TTK_FULFILMENT, "completedTimestamp": "2016-05-24T08:38:08.699Z", "transferState": "COMMITTED"})
}

fn valid_error() -> Value {
    json!({"errorInformation": {"errorCode": "5101", "errorDescription": "Payee rejected quote"}})
}

/// `base` with the value at a JSON pointer set (`Some`) or removed (`None`).
fn edited(mut base: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = base.pointer_mut(parent).unwrap();
    match (parent, value) {
        (Value::Object(map), Some(value)) => {
            map.insert(key.to_string(), value);
        }
        (Value::Object(map), None) => {
            map.shift_remove(key);
        }
        (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value,
        (other, _) => panic!("cannot edit {other}"),
    }
    base
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// Mojaloop cuts descriptions to 128 characters; expected texts are written out in full.
fn cut(text: &str) -> String {
    truncate_chars(text, crate::error::ERROR_DESCRIPTION_CHARS_MAX).to_string()
}

fn assert_error(result: Result<(), FspiopError>, code: u16, description: &str, case: &str) {
    let error = result.expect_err(case);
    assert_eq!((error.code().number(), error.description()), (code, cut(description).as_str()), "{case}");
    assert_eq!(error.http_status(), 400, "{case}");
}

fn post_result(body: &Value, version: ApiVersion) -> Result<(), FspiopError> {
    parse_transfers_post(&bytes(body), version).map(|_| ())
}

fn pattern(path: &str, source: &str) -> String {
    format!("Generic validation error - /requestBody{path} must match pattern \"{source}\"")
}

#[test]
fn a_valid_prepare_parses_into_ledger_types() {
    for version in VERSIONS {
        let body = bytes(&valid_post());
        let parsed = parse_transfers_post(&body, version).unwrap();
        let prepare = &parsed.request;
        assert_eq!(prepare.transfer_id.as_str(), UUID_V4);
        assert_eq!((prepare.payer_fsp.as_str(), prepare.payee_fsp.as_str()), ("payerfsp", "payeefsp"));
        assert_eq!((prepare.amount, prepare.currency.code()), (Amount::from_units(601_234), "USD"));
        assert_eq!(prepare.condition.to_base64url(), TTK_CONDITION);
        assert_eq!(prepare.expiration.unix_ms(), 1_464_093_488_699);
        assert_eq!(prepare.extension_list.as_ref().map(|list| list.extension.len()), Some(2));
        assert_eq!(parsed.hash, crate::hash::hash_body(&body).unwrap());
    }
}

#[test]
fn bodies_that_are_not_json_objects() {
    let malformed = "Malformed syntax - Invalid request payload JSON format";
    for body in [&b""[..], b"{", b"{\"transferId\":}", b"\xfe\xff", b"{} x"] {
        assert_error(parse_transfers_post(body, ApiVersion::V1_1).map(|_| ()), 3101, malformed, &format!("{body:?}"));
    }
    for body in ["[]", "null", "\"x\"", "5", "true"] {
        let result = parse_transfers_put(body.as_bytes(), ApiVersion::V2_0).map(|_| ());
        assert_error(result, 3101, "Malformed syntax - /requestBody must be object", body);
    }
    let huge = vec![b' '; CONTENT_LENGTH_BYTES_MAX as usize + 1];
    assert_error(
        parse_transfers_error(&huge, ApiVersion::V1_1).map(|_| ()),
        3104,
        "Too large payload - Payload size is too large",
        "huge",
    );
}

#[test]
fn every_required_prepare_field_is_reported_missing() {
    for field in ["transferId", "payeeFsp", "payerFsp", "amount", "ilpPacket", "condition", "expiration"] {
        let body = edited(valid_post(), &format!("/{field}"), None);
        let description = format!("Missing mandatory element - /requestBody must have required property '{field}'");
        for version in VERSIONS {
            assert_error(post_result(&body, version), 3102, &description, field);
        }
    }
    let body = edited(valid_post(), "/amount/currency", None);
    let description = "Missing mandatory element - /requestBody/amount must have required property 'currency'";
    assert_error(post_result(&body, ApiVersion::V1_1), 3102, description, "currency");
    assert!(post_result(&edited(valid_post(), "/extensionList", None), ApiVersion::V2_0).is_ok());
}

#[test]
fn wrong_json_types_are_malformed_syntax() {
    let cases = [
        ("/transferId", json!(5), "/transferId must be string"),
        ("/payerFsp", Value::Null, "/payerFsp must be string"),
        ("/amount", json!("100"), "/amount must be object"),
        ("/amount/amount", json!(100), "/amount/amount must be string"),
        ("/amount/currency", json!(840), "/amount/currency must be string"),
        ("/ilpPacket", json!(["a"]), "/ilpPacket must be string"),
        ("/condition", json!({}), "/condition must be string"),
        ("/expiration", json!(1_464_079_088_699_i64), "/expiration must be string"),
        ("/extensionList", json!([]), "/extensionList must be object"),
        ("/extensionList/extension", json!({}), "/extensionList/extension must be array"),
        ("/extensionList/extension/1", json!("k=v"), "/extensionList/extension/1 must be object"),
        ("/extensionList/extension/0/key", json!(true), "/extensionList/extension/0/key must be string"),
        ("/extensionList/extension/0/value", json!(1.5), "/extensionList/extension/0/value must be string"),
    ];
    for (pointer, value, message) in cases {
        let body = edited(valid_post(), pointer, Some(value));
        for version in VERSIONS {
            assert_error(
                post_result(&body, version),
                3101,
                &format!("Malformed syntax - /requestBody{message}"),
                pointer,
            );
        }
    }
}

#[test]
fn field_rules_are_generic_validation_errors() {
    let long_fsp = "f".repeat(33);
    let long_packet = "A".repeat(ILP_PACKET_CHARS_MAX + 1);
    let ilp_value = "^[A-Za-z0-9-_]{43}$";
    let packet = "^[A-Za-z0-9-_]+[=]{0,2}$";
    let cases: Vec<(&str, Value, String)> = vec![
        ("/payeeFsp", json!(""), "Generic validation error - /requestBody/payeeFsp must NOT have fewer than 1 characters".into()),
        ("/payerFsp", json!(long_fsp), "Generic validation error - /requestBody/payerFsp must NOT have more than 32 characters".into()),
        ("/amount/currency", json!("XYZ"), "Generic validation error - /requestBody/amount/currency must be equal to one of the allowed values".into()),
        ("/amount/currency", json!("usd"), "Generic validation error - /requestBody/amount/currency must be equal to one of the allowed values".into()),
        ("/amount/amount", json!("1.50"), pattern("/amount/amount", AMOUNT_PATTERN)),
        ("/amount/amount", json!("-1"), pattern("/amount/amount", AMOUNT_PATTERN)),
        ("/amount/amount", json!("01"), pattern("/amount/amount", AMOUNT_PATTERN)),
        ("/amount/amount", json!("1.12345"), pattern("/amount/amount", AMOUNT_PATTERN)),
        ("/amount/amount", json!("1234567890123456789"), pattern("/amount/amount", AMOUNT_PATTERN)),
        ("/ilpPacket", json!(""), "Generic validation error - /requestBody/ilpPacket must NOT have fewer than 1 characters".into()),
        ("/ilpPacket", json!(long_packet), "Generic validation error - /requestBody/ilpPacket must NOT have more than 32768 characters".into()),
        ("/ilpPacket", json!("AYIB==="), pattern("/ilpPacket", packet)),
        ("/ilpPacket", json!("AY IB"), pattern("/ilpPacket", packet)),
        ("/ilpPacket", json!("=="), pattern("/ilpPacket", packet)),
        ("/condition", json!(&TTK_CONDITION[..42]), pattern("/condition", ilp_value)),
        ("/condition", json!(format!("{TTK_CONDITION}=")), pattern("/condition", ilp_value)),
        ("/condition", json!(TTK_CONDITION.replace('-', "+")), pattern("/condition", ilp_value)),
        ("/condition", json!("A".repeat(49)), "Generic validation error - /requestBody/condition must NOT have more than 48 characters".into()),
        ("/expiration", json!("2016-05-24T08:38:08Z"), pattern("/expiration", DATETIME_PATTERN)),
        ("/expiration", json!("2016-02-30T08:38:08.699Z"), pattern("/expiration", DATETIME_PATTERN)),
        ("/extensionList/extension", json!([]), "Generic validation error - /requestBody/extensionList/extension must NOT have fewer than 1 items".into()),
        ("/extensionList/extension/0/key", json!(""), "Generic validation error - /requestBody/extensionList/extension/0/key must NOT have fewer than 1 characters".into()),
        ("/extensionList/extension/1/key", json!("k".repeat(33)), "Generic validation error - /requestBody/extensionList/extension/1/key must NOT have more than 32 characters".into()),
        ("/extensionList/extension/1/value", json!("v".repeat(129)), "Generic validation error - /requestBody/extensionList/extension/1/value must NOT have more than 128 characters".into()),
    ];
    for (pointer, value, description) in cases {
        let body = edited(valid_post(), pointer, Some(value));
        for version in VERSIONS {
            assert_error(post_result(&body, version), 3100, &description, pointer);
        }
    }
    let seventeen = json!(vec![json!({"key": "k", "value": "v"}); EXTENSIONS_MAX + 1]);
    let body = edited(valid_post(), "/extensionList/extension", Some(seventeen));
    let description =
        "Generic validation error - /requestBody/extensionList/extension must NOT have more than 16 items";
    assert_error(post_result(&body, ApiVersion::V1_1), 3100, description, "17 extensions");
    let body = edited(valid_post(), "/extensionList/extension/0", Some(json!({"key": "k"})));
    let description =
        "Missing mandatory element - /requestBody/extensionList/extension/0 must have required property 'value'";
    assert_error(post_result(&body, ApiVersion::V1_1), 3102, description, "extension without value");
    let body = edited(valid_post(), "/extensionList", Some(json!({})));
    let description = "Missing mandatory element - /requestBody/extensionList must have required property 'extension'";
    assert_error(post_result(&body, ApiVersion::V2_0), 3102, description, "empty extension list");
}

#[test]
fn limits_are_inclusive() {
    let cases = [
        ("/payerFsp", json!("f".repeat(FSP_ID_LENGTH_MAX))),
        ("/ilpPacket", json!("A".repeat(ILP_PACKET_CHARS_MAX))),
        ("/ilpPacket", json!("AYIB==")),
        ("/amount/amount", json!("123456789012345678.1234")),
        ("/amount/amount", json!("0")),
        ("/extensionList/extension/0/key", json!("k".repeat(EXTENSION_KEY_CHARS_MAX))),
        ("/extensionList/extension/0/value", json!("é".repeat(EXTENSION_VALUE_CHARS_MAX))),
        ("/extensionList/extension", json!(vec![json!({"key": "k", "value": "v"}); EXTENSIONS_MAX])),
    ];
    for (pointer, value) in cases {
        assert!(post_result(&edited(valid_post(), pointer, Some(value)), ApiVersion::V2_0).is_ok(), "{pointer}");
    }
}

#[test]
fn transfer_ids_follow_the_served_spec_on_every_version() {
    // ml-api-adapter serves one spec for every version: a ULID or a UUID v7 with a 1.0 or 1.1
    // Content-Type is accepted, as TTK's v2 profile sends its explicitly-1.0 RESERVED answers.
    let description = pattern("/transferId", TRANSFER_ID_PATTERN);
    let cases = [
        (UUID_V4, true),
        ("3d4a8f57-1c3e-11ee-be56-0242ac120002", true),
        (UUID_V7, true),
        (ULID, true),
        ("B51EC534-EE48-4575-B6A9-EAD2955B8069", false),
        ("b51ec534-ee48-8575-b6a9-ead2955b8069", false),
        ("01arz3ndektsv4rrffq69g5fav", false),
        ("", false),
    ];
    for (id, ok) in cases {
        let body = edited(valid_post(), "/transferId", Some(json!(id)));
        for version in VERSIONS {
            match ok {
                true => {
                    assert_eq!(parse_transfers_post(&bytes(&body), version).unwrap().request.transfer_id.as_str(), id)
                }
                false => assert_error(post_result(&body, version), 3100, &description, id),
            }
        }
    }
}

#[test]
fn unknown_fields_are_ignored_in_v1_and_refused_in_v2() {
    let too_many = |path: &str| format!("Too many elements - /requestBody{path} must NOT have additional properties");
    let cases = [
        ("/note", ""),
        ("/amount/note", "/amount"),
        ("/extensionList/note", "/extensionList"),
        ("/extensionList/extension/0/note", "/extensionList/extension/0"),
    ];
    for (pointer, path) in cases {
        let body = edited(valid_post(), pointer, Some(json!("x")));
        assert!(post_result(&body, ApiVersion::V1_0).is_ok(), "{pointer}");
        assert!(post_result(&body, ApiVersion::V1_1).is_ok(), "{pointer}");
        assert_error(post_result(&body, ApiVersion::V2_0), 3103, &too_many(path), pointer);
    }
    let put = edited(valid_put(), "/transferId", Some(json!(UUID_V4)));
    assert!(parse_transfers_put(&bytes(&put), ApiVersion::V1_1).is_ok());
    assert_error(parse_transfers_put(&bytes(&put), ApiVersion::V2_0).map(|_| ()), 3103, &too_many(""), "put");
    let error = edited(valid_error(), "/errorInformation/note", Some(json!("x")));
    assert!(parse_transfers_error(&bytes(&error), ApiVersion::V1_1).is_ok());
    let result = parse_transfers_error(&bytes(&error), ApiVersion::V2_0).map(|_| ());
    assert_error(result, 3103, &too_many("/errorInformation"), "error");
}

#[test]
fn the_first_failure_follows_schema_order_not_body_order() {
    // Required beats everything else at the same level.
    let body = edited(edited(valid_post(), "/expiration", None), "/transferId", Some(json!(5)));
    let missing = "Missing mandatory element - /requestBody must have required property 'expiration'";
    assert_error(post_result(&body, ApiVersion::V1_1), 3102, missing, "missing and mistyped");
    let body = edited(edited(valid_post(), "/note", Some(json!(1))), "/payeeFsp", None);
    let missing = "Missing mandatory element - /requestBody must have required property 'payeeFsp'";
    assert_error(post_result(&body, ApiVersion::V2_0), 3102, missing, "missing and extra");
    // The first missing property in the schema's `required` order, whatever the body order.
    let body = edited(edited(valid_post(), "/condition", None), "/payerFsp", None);
    let missing = "Missing mandatory element - /requestBody must have required property 'payerFsp'";
    assert_error(post_result(&body, ApiVersion::V1_1), 3102, missing, "two missing");
    // An unknown property beats a bad property value in v2.0.
    let body = edited(edited(valid_post(), "/note", Some(json!(1))), "/transferId", Some(json!("x")));
    assert_error(
        post_result(&body, ApiVersion::V2_0),
        3103,
        "Too many elements - /requestBody must NOT have additional properties",
        "extra",
    );
    // Properties in schema order: amount is checked before expiration even if it comes later.
    let reordered = r#"{"expiration":"bad","transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069","payerFsp":"a","payeeFsp":"b","ilpPacket":"AA","condition":"GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM","amount":{"amount":"1.0","currency":"XYZ"}}"#;
    let result = parse_transfers_post(reordered.as_bytes(), ApiVersion::V1_1).map(|_| ());
    let currency = "Generic validation error - /requestBody/amount/currency must be equal to one of the allowed values";
    assert_error(result, 3100, currency, "schema order");
    // Within a value, the type comes before the pattern.
    let body = edited(valid_post(), "/transferId", Some(json!(["x"])));
    assert_error(
        post_result(&body, ApiVersion::V2_0),
        3101,
        "Malformed syntax - /requestBody/transferId must be string",
        "type first",
    );
}

#[test]
fn a_put_parses_and_names_its_action() {
    let parsed = parse_transfers_put(&bytes(&valid_put()), ApiVersion::V1_1).unwrap();
    let fulfil = parsed.request;
    let condition = IlpCondition::from_base64url(TTK_CONDITION).unwrap();
    assert!(fulfil.fulfilment.unwrap().satisfies(&condition));
    assert_eq!(fulfil.completed_timestamp.map(Timestamp::unix_ms), Some(1_464_079_088_699));
    assert_eq!(fulfil.action(), FulfilAction::Commit);
    let actions =
        [("RECEIVED", FulfilAction::Commit), ("RESERVED", FulfilAction::Reserve), ("ABORTED", FulfilAction::Reject)];
    for (state, action) in actions {
        let body = json!({ "transferState": state });
        let fulfil = parse_transfers_put(&bytes(&body), ApiVersion::V2_0).unwrap().request;
        assert_eq!((fulfil.action(), fulfil.fulfilment, fulfil.completed_timestamp), (action, None, None));
    }
}

#[test]
fn put_field_rules() {
    let enum_error = "Generic validation error - /requestBody/transferState must be equal to one of the allowed values";
    let cases = [
        (
            "/transferState",
            None,
            3102,
            "Missing mandatory element - /requestBody must have required property 'transferState'".to_string(),
        ),
        ("/transferState", Some(json!("SETTLED")), 3100, enum_error.to_string()),
        ("/transferState", Some(json!("committed")), 3100, enum_error.to_string()),
        (
            "/transferState",
            Some(json!(3)),
            3101,
            "Malformed syntax - /requestBody/transferState must be string".to_string(),
        ),
        ("/fulfilment", Some(json!("short")), 3100, pattern("/fulfilment", "^[A-Za-z0-9-_]{43}$")),
        (
            "/fulfilment",
            Some(Value::Null),
            3101,
            "Malformed syntax - /requestBody/fulfilment must be string".to_string(),
        ),
        ("/completedTimestamp", Some(json!("2016-05-24")), 3100, pattern("/completedTimestamp", DATETIME_PATTERN)),
        (
            "/extensionList",
            Some(json!({"extension": []})),
            3100,
            "Generic validation error - /requestBody/extensionList/extension must NOT have fewer than 1 items"
                .to_string(),
        ),
    ];
    for (pointer, value, code, description) in cases {
        let body = edited(valid_put(), pointer, value);
        for version in VERSIONS {
            assert_error(parse_transfers_put(&bytes(&body), version).map(|_| ()), code, &description, pointer);
        }
    }
}

#[test]
fn conditions_and_fulfilments_with_spare_bits_set_decode_like_node() {
    // 'N' differs from 'M' only in the two bits past the 256th; Node's Buffer ignores them.
    let spare_bits = format!("{}N", &TTK_CONDITION[..42]);
    assert_eq!(IlpCondition::from_base64url(&spare_bits), None, "the strict decoder refuses it");
    let body = edited(valid_post(), "/condition", Some(json!(spare_bits)));
    let parsed = parse_transfers_post(&bytes(&body), ApiVersion::V1_1).unwrap();
    assert_eq!(parsed.request.condition, IlpCondition::from_base64url(TTK_CONDITION).unwrap());
    let fulfilment = format!("{}B", &TTK_FULFILMENT[..42]);
    let put =
        parse_transfers_put(&bytes(&json!({"transferState": "COMMITTED", "fulfilment": fulfilment})), ApiVersion::V1_1)
            .unwrap();
    assert_eq!(put.request.fulfilment, IlpFulfilment::from_base64url(TTK_FULFILMENT));
}

#[test]
fn a_payee_error_is_forwarded_verbatim() {
    let parsed = parse_transfers_error(&bytes(&valid_error()), ApiVersion::V2_0).unwrap();
    let abort = parsed.request;
    assert_eq!((abort.error_code.number(), abort.error_description.as_str()), (5101, "Payee rejected quote"));
    let error = abort.to_error();
    assert_eq!(
        error.to_json(),
        r#"{"errorInformation":{"errorCode":"5101","errorDescription":"Payee rejected quote"}}"#
    );
    let undefined = edited(valid_error(), "/errorInformation/errorCode", Some(json!("5900")));
    let abort = parse_transfers_error(&bytes(&undefined), ApiVersion::V1_1).unwrap().request;
    assert!(!abort.error_code.is_defined_by_api());
}

#[test]
fn error_body_field_rules() {
    let info = "/errorInformation";
    let cases = [
        ("/errorInformation", None, 3102, "Missing mandatory element - /requestBody must have required property 'errorInformation'".to_string()),
        ("/errorInformation/errorCode", None, 3102, "Missing mandatory element - /requestBody/errorInformation must have required property 'errorCode'".to_string()),
        ("/errorInformation/errorDescription", None, 3102, "Missing mandatory element - /requestBody/errorInformation must have required property 'errorDescription'".to_string()),
        ("/errorInformation", Some(json!("x")), 3101, "Malformed syntax - /requestBody/errorInformation must be object".to_string()),
        ("/errorInformation/errorCode", Some(json!(5101)), 3101, "Malformed syntax - /requestBody/errorInformation/errorCode must be string".to_string()),
        ("/errorInformation/errorCode", Some(json!("510")), 3100, pattern(&format!("{info}/errorCode"), "^[1-9]\\d{3}$")),
        ("/errorInformation/errorCode", Some(json!("0101")), 3100, pattern(&format!("{info}/errorCode"), "^[1-9]\\d{3}$")),
        ("/errorInformation/errorDescription", Some(json!("")), 3100, "Generic validation error - /requestBody/errorInformation/errorDescription must NOT have fewer than 1 characters".to_string()),
        ("/errorInformation/errorDescription", Some(json!("d".repeat(129))), 3100, "Generic validation error - /requestBody/errorInformation/errorDescription must NOT have more than 128 characters".to_string()),
    ];
    for (pointer, value, code, description) in cases {
        let body = edited(valid_error(), pointer, value);
        for version in VERSIONS {
            assert_error(parse_transfers_error(&bytes(&body), version).map(|_| ()), code, &description, pointer);
        }
    }
}

#[test]
fn hub_bodies_print_in_central_ledgers_field_order() {
    let at = Timestamp::from_unix_ms(1_464_079_088_699);
    let fulfilment = IlpFulfilment::from_base64url(TTK_FULFILMENT).unwrap();
    let put = TransfersIdPutResponse::from_hub(at, TransferStateEnum::Committed, Some(&fulfilment), None);
    assert_eq!(
        put.to_json(),
        r#"{"completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"COMMITTED","fulfilment":"UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA"}"#
    );
    let patch = TransfersIdPatchResponse::from_hub(None, at, TransferStateEnum::Committed, None);
    assert_eq!(patch.to_json(), r#"{"completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"COMMITTED"}"#);
    let cause = FspiopError::from(&ledger_core::rejection::Rejection::InvalidFulfilment).cause_extension();
    let id = TransferId::parse(UUID_V4).unwrap();
    let aborted = TransfersIdPatchResponse::from_hub(
        Some(&id),
        at,
        TransferStateEnum::Aborted,
        Some(ExtensionList { extension: vec![cause] }),
    );
    assert_eq!(
        aborted.to_json(),
        concat!(
            r#"{"transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069","completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"ABORTED","#,
            r#""extensionList":{"extension":[{"key":"cause","value":"3100: Generic validation error - invalid fulfilment"}]}}"#
        )
    );
    let settled = TransfersIdPutResponse::from_hub(at, TransferStateEnum::Settled, None, None);
    assert_eq!(settled.to_json(), r#"{"completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"SETTLED"}"#);
}

#[test]
fn wire_types_round_trip_through_serde_and_the_parser() {
    let prepare = parse_transfers_post(&bytes(&valid_post()), ApiVersion::V2_0).unwrap().request;
    let wire = TransfersPostRequest::from(&prepare);
    let reparsed = parse_transfers_post(&serde_json::to_vec(&wire).unwrap(), ApiVersion::V2_0).unwrap().request;
    assert_eq!(reparsed, prepare);
    let from_serde: TransfersPostRequest = serde_json::from_value(valid_post()).unwrap();
    assert_eq!(from_serde.amount, Money { currency: "USD".into(), amount: "60.1234".into() });
    let put: TransfersIdPutResponse = serde_json::from_value(valid_put()).unwrap();
    assert_eq!(put.transfer_state, "COMMITTED");
    let error: ErrorInformationObject = serde_json::from_value(valid_error()).unwrap();
    assert_eq!(error.error_information.error_code, "5101");
}

#[test]
fn completed_timestamps_must_be_recent() {
    let now = Timestamp::from_unix_ms(1_700_000_000_000);
    let future = "Generic validation error - completedTimestamp fails because future timestamp was provided";
    let past = "Generic validation error - completedTimestamp fails because provided timestamp exceeded the maximum timeout duration";
    let cases = [
        (COMPLETED_TIMESTAMP_FUTURE_MS_MAX, None),
        (COMPLETED_TIMESTAMP_FUTURE_MS_MAX + 1, Some(future)),
        (-COMPLETED_TIMESTAMP_PAST_MS_MAX, None),
        (-COMPLETED_TIMESTAMP_PAST_MS_MAX - 1, Some(past)),
        (0, None),
    ];
    for (offset_ms, expected) in cases {
        let result = check_completed_timestamp(now.plus_ms(offset_ms), now);
        match expected {
            None => assert!(result.is_ok(), "{offset_ms}"),
            Some(description) => assert_error(result, 3100, description, &offset_ms.to_string()),
        }
    }
}

#[test]
fn path_ids_are_decoded_and_follow_the_transfer_id_pattern() {
    // Blank once decoded: an unknown URI (TTK bug fix #849), not an invalid id.
    for blank in ["", " ", "\t", "%20", "%20%20", "%09"] {
        let error = parse_path_transfer_id(blank).unwrap_err();
        assert_eq!(
            (error.code(), error.http_status(), error.description()),
            (ErrorCode::UnknownUri, 404, "Unknown URI - Not Found"),
            "{blank:?}"
        );
    }
    assert_eq!(parse_path_transfer_id(UUID_V4).unwrap().as_str(), UUID_V4);
    assert_eq!(parse_path_transfer_id(ULID).unwrap().as_str(), ULID);
    assert_eq!(
        parse_path_transfer_id(&format!("%62{}", &UUID_V4[1..])).unwrap().as_str(),
        UUID_V4,
        "an escaped letter"
    );
    let invalid = cut(&format!("Generic validation error - /path/ID must match pattern \"{TRANSFER_ID_PATTERN}\""));
    for wrong in ["x", "%2", "%zz", "%20x", "%FF%FE"] {
        assert_error(parse_path_transfer_id(wrong).map(|_| ()), 3100, &invalid, wrong);
    }
}

fn uuid_v4(bits: u128) -> String {
    let hex = format!("{bits:032x}");
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

proptest::proptest! {
    #[test]
    fn any_valid_prepare_parses_back_to_its_values(
        id_bits in proptest::prelude::any::<u128>(),
        payer in "[a-z0-9]{1,32}",
        payee in "[a-zA-Z0-9 ]{1,32}",
        units in 0_i128..10_i128.pow(22),
        currency in proptest::sample::select(vec!["USD", "XXX", "JPY", "KWD", "TZS"]),
        condition in proptest::prelude::any::<[u8; 32]>(),
        expiration_ms in 0_i64..253_402_300_799_999,
        version in proptest::sample::select(VERSIONS.to_vec()),
    ) {
        let prepare = TransferPrepare {
            transfer_id: TransferId::parse(&uuid_v4(id_bits)).unwrap(),
            payee_fsp: FspId::parse(&payee).unwrap(),
            payer_fsp: FspId::parse(&payer).unwrap(),
            amount: Amount::from_units(units),
            currency: Currency::parse(currency).unwrap(),
            ilp_packet: IlpPacket::parse("AYIB").unwrap(),
            condition: IlpCondition::from_bytes(condition),
            expiration: Timestamp::from_unix_ms(expiration_ms),
            extension_list: None,
        };
        let body = serde_json::to_vec(&TransfersPostRequest::from(&prepare)).unwrap();
        let parsed = parse_transfers_post(&body, version).unwrap();
        proptest::prop_assert_eq!(parsed.request, prepare);
        proptest::prop_assert_eq!(parsed.hash, crate::hash::hash_body(&body).unwrap());
    }
}

#[test]
fn ilp_packets_and_extensions_keep_their_text() {
    assert_eq!(IlpPacket::parse("AYIB==").map(|it| it.as_str().to_string()), Some("AYIB==".to_string()));
    assert_eq!(IlpPacket::parse(""), None);
    assert_eq!(IlpPacket::parse("A=B"), None);
    let extension = Extension::truncated(&"k".repeat(40), &"v".repeat(200));
    assert_eq!((extension.key.len(), extension.value.len()), (EXTENSION_KEY_CHARS_MAX, EXTENSION_VALUE_CHARS_MAX));
}
