//! The settlement API's bodies, path parameters and queries read as central-settlement's routes
//! (swagger.json through hapi-openapi and enjoi) read them, with its codes: 3102 missing, 3101
//! for strings, dates, enumerations and non-integers, 3100 for everything else.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::*;

fn body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[track_caller]
fn refused<T: std::fmt::Debug>(res: Result<T, FspiopError>, code: u16, description: &str) {
    let res = res.map_err(|err| (err.code().number(), err.description().to_string()));
    assert_eq!(res.map(|it| format!("{it:?}")), Err((code, description.to_string())));
}

#[test]
fn path_ids_go_through_javascripts_number() {
    for (text, id) in [("1", 1), (" 2 ", 2), ("0x1A", 26), ("1e2", 100), ("0", 0), ("-3", -3)] {
        assert_eq!(parse_id_param(text, "id").unwrap(), id, "{text:?}");
    }
    refused(parse_id_param("abc", "id"), 3100, "Generic validation error - 'id' URI path parameter");
    refused(parse_id_param("1.5", "sid"), 3101, "Malformed syntax - 'sid' URI path parameter");
}

#[test]
fn a_window_close_takes_an_empty_reason_and_only_closed() {
    assert_eq!(parse_window_close(&body(json!({"state": "CLOSED", "reason": ""}))).unwrap(), "");
    let close = |value: Value| parse_window_close(&body(value));
    refused(close(json!({"state": "CLOSE", "reason": "r"})), 3101, "Malformed syntax - \"state\" must be [CLOSED]");
    refused(close(json!({"state": 5, "reason": "r"})), 3101, "Malformed syntax - \"state\" must be [CLOSED]");
    refused(close(json!({"state": "CLOSED", "reason": 5})), 3101, "Malformed syntax - \"reason\" must be a string");
    refused(close(json!({"state": "CLOSED"})), 3102, "Missing mandatory element - \"reason\" is required");
    refused(
        close(json!({"state": "CLOSED", "reason": "r", "x": 1})),
        3100,
        "Generic validation error - \"x\" is not allowed",
    );
    refused(close(json!("CLOSED")), 3100, "Generic validation error - \"payload\" must be of type object");
    refused(parse_window_close(b"{"), 3000, "Generic client error - Invalid request payload JSON format");
}

#[test]
fn settlement_windows_convert_numeric_string_ids() {
    let create = |windows: Value| {
        parse_settlement_create(&body(
            json!({"settlementModel": "DEFERREDNETUSD", "reason": "r", "settlementWindows": windows}),
        ))
    };
    assert_eq!(create(json!([{"id": "1"}, {"id": 2, "note": "kept"}])).unwrap().windows, vec![1, 2]);
    assert_eq!(create(json!([{"id": "-4"}])).unwrap().windows, vec![-4], "Joi takes any integer");
    refused(create(json!([])), 3100, "Generic validation error - \"settlementWindows\" must contain at least 1 items");
    refused(
        create(json!([{"id": 1}, {"id": "1"}])),
        3100,
        "Generic validation error - \"settlementWindows[1]\" contains a duplicate value",
    );
    refused(
        create(json!([{"id": "a"}])),
        3100,
        "Generic validation error - \"settlementWindows[0].id\" must be a number",
    );
    refused(create(json!([{"id": 1.5}])), 3101, "Malformed syntax - \"settlementWindows[0].id\" must be an integer");
    refused(create(json!([{}])), 3102, "Missing mandatory element - \"settlementWindows[0].id\" is required");
    refused(create(json!([1])), 3100, "Generic validation error - \"settlementWindows[0]\" must be of type object");
    refused(create(json!({"id": 1})), 3100, "Generic validation error - \"settlementWindows\" must be an array");
    let without_model = parse_settlement_create(&body(json!({"reason": "r", "settlementWindows": [{"id": 1}]})));
    refused(without_model, 3102, "Missing mandatory element - \"settlementModel\" is required");
    assert_eq!(
        parse_settlement_create(&body(json!({"settlementModel": "M", "reason": "", "settlementWindows": [{"id": 1}]})))
            .unwrap()
            .reason,
        ""
    );
}

#[test]
fn a_settlement_update_is_accounts_or_an_abort() {
    let update = |value: Value| parse_settlement_update(&body(value));
    assert_eq!(update(json!({"participants": []})).unwrap(), SettlementUpdate::Accounts(Vec::new()));
    let accounts = update(json!({"participants": [{"id": "3", "accounts": [{"id": "15", "state": "PS_TRANSFERS_RECORDED", "reason": "r", "extra": 1}, {"id": 16}]}]})).unwrap();
    let expected = vec![
        AccountStateRequest {
            participant: Some(3),
            account: Some(15),
            state: Some(SettlementState::PsTransfersRecorded),
            reason: Some("r".to_string()),
            external_reference: None,
        },
        AccountStateRequest {
            participant: Some(3),
            account: Some(16),
            state: None,
            reason: None,
            external_reference: None,
        },
    ];
    assert_eq!(accounts, SettlementUpdate::Accounts(expected));
    // An empty reason is falsy to the handler: it neither conflicts with participants nor counts.
    assert!(matches!(update(json!({"participants": [], "reason": ""})), Ok(SettlementUpdate::Accounts(_))));
    let abort = update(json!({"state": "ABORTED", "reason": "r", "externalReference": "x"})).unwrap();
    assert_eq!(abort, SettlementUpdate::Abort { reason: "r".to_string(), external_reference: Some("x".to_string()) });
    refused(
        update(json!({"participants": [], "state": "ABORTED", "reason": "r"})),
        3100,
        "Generic validation error - No other properties are allowed when participants is provided",
    );
    refused(update(json!({"state": "ABORTED"})), 3102, "Missing mandatory element - State and reason are mandatory");
    refused(update(json!({"reason": "r"})), 3102, "Missing mandatory element - State and reason are mandatory");
    refused(
        update(json!({"state": "INVALID", "reason": "r"})),
        3100,
        "Generic validation error - Invalid request payload input",
    );
    refused(update(json!({})), 3100, "Generic validation error - Invalid request payload input");
    refused(
        update(json!({"state": "SETTLED", "reason": "r"})),
        3101,
        "Malformed syntax - \"state\" must be one of [ABORTED, INVALID]",
    );
    // The description is cut at 128 characters.
    let bad_state = "Malformed syntax - \"participants[0].accounts[0].state\" must be one of [PENDING_SETTLEMENT, PS_TRANSFERS_RECORDED, PS_TRANSFERS_R";
    refused(update(json!({"participants": [{"accounts": [{"state": "BAD"}]}]})), 3101, bad_state);
    refused(
        update(json!({"participants": [{"id": "x"}]})),
        3100,
        "Generic validation error - \"participants[0].id\" must be a number",
    );
    refused(
        update(json!({"participants": "all"})),
        3100,
        "Generic validation error - \"participants\" must be an array",
    );
    refused(update(json!({"participants": [], "note": 1})), 3100, "Generic validation error - \"note\" is not allowed");
}

#[test]
fn participant_and_account_updates_take_their_ids_from_the_path() {
    let accounts =
        parse_participant_update(&body(json!({"accounts": [{"id": 15, "state": "SETTLED", "reason": "r"}]})), 3)
            .unwrap();
    assert_eq!(accounts[0].participant, Some(3));
    assert!(parse_participant_update(&body(json!({})), 3).unwrap().is_empty());
    let account = parse_account_update(&body(json!({"state": "SETTLED", "reason": "r"})), 3, 15).unwrap();
    assert_eq!(
        (account.participant, account.account, account.state),
        (Some(3), Some(15), Some(SettlementState::Settled))
    );
    refused(
        parse_account_update(&body(json!({"state": "SETTLED"})), 3, 15),
        3102,
        "Missing mandatory element - \"reason\" is required",
    );
    refused(
        parse_account_update(&body(json!({"reason": "r"})), 3, 15),
        3102,
        "Missing mandatory element - \"state\" is required",
    );
}

#[test]
fn list_queries_convert_and_refuse_as_the_swagger_says() {
    let query = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect::<HashMap<_, _>>()
    };
    let read =
        parse_window_query(&query(&[("participantId", " 5 "), ("state", "OPEN"), ("fromDateTime", "2017-07-20")]))
            .unwrap();
    assert_eq!((read.participant_id, read.state.as_deref()), (Some(5), Some("OPEN")));
    assert_eq!(
        serde_json::to_string(&read.given).unwrap(),
        r#"{"participantId":5,"state":"OPEN","fromDateTime":"2017-07-20T00:00:00.000Z"}"#
    );
    assert!(parse_window_query(&query(&[])).unwrap().given.is_empty());
    refused(
        parse_window_query(&query(&[("participantId", "abc")])),
        3100,
        "Generic validation error - \"participantId\" must be a number",
    );
    refused(
        parse_window_query(&query(&[("participantId", "")])),
        3100,
        "Generic validation error - \"participantId\" must be a number",
    );
    refused(
        parse_window_query(&query(&[("participantId", "1.5")])),
        3101,
        "Malformed syntax - \"participantId\" must be an integer",
    );
    refused(
        parse_window_query(&query(&[("state", "PROCESSING")])),
        3101,
        "Malformed syntax - \"state\" must be one of [OPEN, CLOSED, PENDING_SETTLEMENT, SETTLED, ABORTED]",
    );
    refused(
        parse_window_query(&query(&[("toDateTime", "yesterday")])),
        3101,
        "Malformed syntax - \"toDateTime\" must be in ISO 8601 date format",
    );
    refused(
        parse_window_query(&query(&[("colour", "red"), ("participantId", "x")])),
        3100,
        "Generic validation error - \"participantId\" must be a number",
    );
    refused(
        parse_window_query(&query(&[("settlementWindowId", "1")])),
        3100,
        "Generic validation error - \"settlementWindowId\" is not allowed",
    );
    let read =
        parse_settlements_query(&query(&[("settlementWindowId", "1.5"), ("accountId", "0x10"), ("state", "SETTLING")]))
            .unwrap();
    assert_eq!(
        read.settlement_window_id.and_then(|it| it.to_integer()),
        None,
        "a number, not an integer: it matches nothing"
    );
    assert_eq!(read.account_id.and_then(|it| it.to_integer()), Some(16));
}
