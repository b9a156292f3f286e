//! The admin API's bodies, path parameters and queries read as central-ledger's Joi schemas
//! read them: what converts, what is refused, and that every refusal is 3101.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::*;

/// The outcome of a parse: `Ok` with a debug view of the value, or `Err` with the code and
/// the description.
fn check<T: std::fmt::Debug>(res: Result<T, FspiopError>) -> Result<String, (u16, String)> {
    res.map(|it| format!("{it:?}")).map_err(|err| (err.code().number(), err.description().to_string()))
}

fn body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[track_caller]
fn refused<T: std::fmt::Debug>(res: Result<T, FspiopError>, code: u16, description: &str) {
    assert_eq!(check(res), Err((code, description.to_string())));
}

#[test]
fn a_participant_is_read_with_jois_conversions() {
    let create = |value: Value| parse_participant_create(&body(value));
    let read = create(json!({"name": "payerfsp", "currency": "USD"})).unwrap();
    assert_eq!(
        (read.name.as_str(), read.currency.map(|it| it.code().to_string()), read.is_proxy),
        ("payerfsp", Some("USD".to_string()), false)
    );
    // Joi's name is only a length: any characters pass.
    assert_eq!(create(json!({"name": "x y", "currency": "USD"})).unwrap().name.as_str(), "x y");
    assert_eq!(create(json!({"name": "payerfsp"})).unwrap().currency, None, "currency is optional to Joi");
    for (is_proxy, expected) in [
        (json!(true), true),
        (json!("TRUE"), true),
        (json!(1), true),
        (json!("1"), true),
        (json!(0), false),
        (json!(""), false),
        (json!(null), false),
        (json!("false"), false),
    ] {
        assert_eq!(
            create(json!({"name": "p1", "currency": "USD", "isProxy": is_proxy})).unwrap().is_proxy,
            expected,
            "{is_proxy}"
        );
    }
}

#[test]
fn every_joi_refusal_of_central_ledger_is_3101() {
    let create = |value: Value| parse_participant_create(&body(value));
    refused(create(json!({"currency": "USD"})), 3101, "Malformed syntax - \"name\" is required");
    refused(create(json!({"name": 7, "currency": "USD"})), 3101, "Malformed syntax - \"name\" must be a string");
    refused(
        create(json!({"name": "", "currency": "USD"})),
        3101,
        "Malformed syntax - \"name\" is not allowed to be empty",
    );
    refused(
        create(json!({"name": "x", "currency": "USD"})),
        3101,
        "Malformed syntax - \"name\" length must be at least 2 characters long",
    );
    refused(
        create(json!({"name": "x".repeat(31), "currency": "USD"})),
        3101,
        "Malformed syntax - \"name\" length must be less than or equal to 30 characters long",
    );
    refused(
        create(json!({"name": "newfsp", "currency": "USD", "colour": "red"})),
        3101,
        "Malformed syntax - \"colour\" is not allowed",
    );
    refused(
        create(json!({"name": "newfsp", "currency": "US"})),
        3101,
        "Malformed syntax - \"currency\" must be one of the ISO 4217 currency codes",
    );
    refused(
        create(json!({"name": "newfsp", "isProxy": "yes"})),
        3101,
        "Malformed syntax - \"isProxy\" must be a boolean",
    );
    refused(create(json!([1])), 3101, "Malformed syntax - \"value\" must be of type object");
    refused(parse_participant_create(b""), 3101, "Malformed syntax - \"value\" must be of type object");
    // A body hapi cannot parse never reaches Joi: a 400 Boom, answered as 3000.
    refused(parse_participant_create(b"{not json"), 3000, "Generic client error - Invalid request payload JSON format");
}

#[test]
fn booleans_and_endpoints_take_any_string_joi_takes() {
    assert!(parse_is_active(&body(json!({"isActive": "true"}))).unwrap());
    assert!(!parse_is_active(&body(json!({"isActive": "False"}))).unwrap());
    refused(parse_is_active(&body(json!({"isActive": 1}))), 3101, "Malformed syntax - \"isActive\" must be a boolean");
    refused(
        parse_is_active(&body(json!({"isActive": null}))),
        3101,
        "Malformed syntax - \"isActive\" must be a boolean",
    );
    refused(parse_is_active(&body(json!({}))), 3101, "Malformed syntax - \"isActive\" is required");
    let endpoint = parse_endpoint(&body(json!({"type": "NOPE", "value": "x"}))).unwrap();
    assert_eq!(endpoint, ("NOPE".to_string(), "x".to_string()), "any type passes the schema");
    refused(
        parse_endpoint(&body(json!({"type": "", "value": "x"}))),
        3101,
        "Malformed syntax - \"type\" is not allowed to be empty",
    );
    refused(
        parse_endpoint(&body(json!({"type": "FSPIOP_CALLBACK_URL_QUOTES"}))),
        3101,
        "Malformed syntax - \"value\" is required",
    );
}

#[test]
fn the_seeded_endpoint_types_are_known_case_insensitively() {
    assert_eq!(ENDPOINT_TYPES.len(), 62);
    for (name, _) in ENDPOINT_TYPES {
        assert_eq!(endpoint_type(name), Some(name));
    }
    for name in [
        "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR",
        "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET",
        "FSPIOP_CALLBACK_URL_PARTICIPANT_DELETE",
        "TP_CB_URL_SERVICES_PUT_ERROR",
    ] {
        assert_eq!(endpoint_type(name), Some(name));
    }
    assert_eq!(endpoint_type("fspiop_callback_url_transfer_put"), Some("FSPIOP_CALLBACK_URL_TRANSFER_PUT"));
    assert_eq!(
        endpoint_type("FSPIOP_CALLBACK_URL_TRANSFER_PUT "),
        None,
        "MySQL's NO PAD collation keeps trailing spaces"
    );
    assert_eq!(endpoint_type("NOPE"), None);
    let ids: Vec<u16> = ENDPOINT_TYPES.iter().map(|(_, id)| *id).collect();
    assert_eq!((ids[0], ids[47], ids[48], ids[61]), (1, 48, 50, 63), "the seed's duplicate row takes id 49");
    assert!(ids.windows(2).all(|it| it[0] < it[1]));
    assert_eq!(enums_body()["endpointType"]["TP_CB_URL_CREATE_CREDENTIAL_POST"], 50);
}

#[test]
fn hub_accounts_take_any_type_and_limits_any_limit_type() {
    assert_eq!(
        check(parse_hub_account(&body(json!({"currency": "USD", "type": "NOPE"})))),
        Ok("(Some(Currency(USD)), None)".to_string())
    );
    let (_, kind) = parse_hub_account(&body(json!({"type": "HUB_RECONCILIATION"}))).unwrap();
    assert_eq!(kind, Some(LedgerAccountType::HubReconciliation));
    let read = parse_initial_position_and_limits(&body(
        json!({"currency": "USD", "limit": {"type": "FOO", "value": "1000"}, "initialPosition": "-10.5"}),
    ))
    .unwrap();
    assert_eq!(
        (read.limit.kind.as_str(), read.limit.value, read.initial_position),
        ("FOO", Amount::from_whole(1000), Amount::parse_decimal("-10.5").unwrap())
    );
    let rounded =
        parse_initial_position_and_limits(&body(json!({"limit": {"type": "NET_DEBIT_CAP", "value": 0.123456}})))
            .unwrap();
    assert_eq!(rounded.limit.value, Amount::parse_decimal("0.1235").unwrap(), "DECIMAL(18,4) rounds");
    let initial = |value: Value| parse_initial_position_and_limits(&body(value));
    refused(initial(json!({"currency": "USD"})), 3101, "Malformed syntax - \"limit\" is required");
    refused(
        initial(json!({"limit": {"type": "NET_DEBIT_CAP", "value": -1}})),
        3101,
        "Malformed syntax - \"limit.value\" must be a positive number",
    );
    refused(
        initial(json!({"limit": {"type": "NET_DEBIT_CAP", "value": "1,000"}})),
        3101,
        "Malformed syntax - \"limit.value\" must be a number",
    );
    refused(
        initial(json!({"limit": {"type": "NET_DEBIT_CAP", "value": 1, "alarmPercentage": 5}})),
        3101,
        "Malformed syntax - \"limit.alarmPercentage\" is not allowed",
    );
    refused(
        initial(json!({"limit": {"type": "NET_DEBIT_CAP", "value": "1e20"}})),
        3101,
        "Malformed syntax - \"limit.value\" must be a safe number",
    );
    let update = |value: Value| parse_limit_update(&body(value));
    let read = update(
        json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": "5000.5", "alarmPercentage": "20"}}),
    )
    .unwrap();
    assert_eq!(
        (read.limit.value, read.alarm_percentage),
        (Amount::parse_decimal("5000.5").unwrap(), Amount::from_whole(20))
    );
    refused(
        update(json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 1}})),
        3101,
        "Malformed syntax - \"limit.alarmPercentage\" is required",
    );
    refused(
        update(json!({"limit": {"type": "NET_DEBIT_CAP", "value": -5, "alarmPercentage": 10}})),
        3101,
        "Malformed syntax - \"limit.value\" must be a positive number",
    );
    let out_of_range =
        update(json!({"limit": {"type": "NET_DEBIT_CAP", "value": 123456789012345_i64, "alarmPercentage": 10}}));
    assert_eq!(check(out_of_range).unwrap_err().0, 2001, "more digits than DECIMAL(18,4) holds fail in the database");
}

fn funds(amount: Value) -> Value {
    json!({"transferId": "9b1c4fbb-b3e6-4d9e-a7f4-1b0b1b0b1b0b", "externalReference": "r", "action": "recordFundsIn", "reason": "r", "amount": amount})
}

#[test]
fn funds_amounts_are_numbers_rounded_to_four_decimals() {
    let start = |value: Value| parse_funds_start(&body(value));
    assert_eq!(start(funds(json!({"amount": 10, "currency": "USD"}))).unwrap().amount, Amount::from_whole(10));
    assert_eq!(
        start(funds(json!({"amount": "10.12345", "currency": "USD"}))).unwrap().amount,
        Amount::parse_decimal("10.1235").unwrap()
    );
    assert_eq!(start(funds(json!({"amount": " 7 "}))).unwrap().currency, None, "the account's currency is used");
    refused(
        start(funds(json!({"amount": "0.00001", "currency": "USD"}))),
        3101,
        "Malformed syntax - \"amount.amount\" must be a positive number",
    );
    refused(
        start(funds(json!({"amount": "-1", "currency": "USD"}))),
        3101,
        "Malformed syntax - \"amount.amount\" must be a positive number",
    );
    refused(
        start(funds(json!({"amount": true, "currency": "USD"}))),
        3101,
        "Malformed syntax - \"amount.amount\" must be a number",
    );
    refused(start(funds(json!({"currency": "USD"}))), 3101, "Malformed syntax - \"amount.amount\" is required");
    refused(start(funds(json!("10"))), 3101, "Malformed syntax - \"No amount provided\" must be of type object");
    let mut no_amount = funds(json!(null));
    no_amount.as_object_mut().unwrap().remove("amount");
    refused(start(no_amount), 3101, "Malformed syntax - \"No amount provided\" is required");
}

#[test]
fn funds_actions_ids_and_extensions_follow_central_ledgers_schema() {
    let start = |value: Value| parse_funds_start(&body(value));
    let with = |key: &str, value: Value| {
        let mut it = funds(json!({"amount": "10", "currency": "USD"}));
        it[key] = value;
        it
    };
    assert_eq!(
        start(with("transferId", json!("01ARZ3NDEKTSV4RRFFQ69G5FAV"))).unwrap().transfer_id.as_str(),
        "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    );
    let upper = "9B1C4FBB-B3E6-4D9E-A7F4-1B0B1B0B1B0B";
    let (code, description) = check(start(with("transferId", json!(upper)))).unwrap_err();
    let expected = format!(
        "Malformed syntax - \"transferId\" with value \"{upper}\" fails to match the required pattern: /^(?:[0-9"
    );
    assert_eq!(
        (code, description.as_str()),
        (3101, expected.as_str()),
        "the pattern is cut with the description at 128 characters"
    );
    refused(start(with("action", json!("recordFundsOutCommit"))), 3101, "Malformed syntax - \"action is missing or not supported\" must be one of [recordFundsIn, recordFundsOutPrepareReserve]");
    let mut no_action = funds(json!({"amount": "10"}));
    no_action.as_object_mut().unwrap().remove("action");
    refused(start(no_action), 3101, "Malformed syntax - \"action is missing or not supported\" is required");
    let extensions = json!({"extension": [{"key": "k", "value": "v"}, {"key": "only-key"}]});
    assert_eq!(start(with("extensionList", extensions)).unwrap().extensions, vec![("k".to_string(), "v".to_string())]);
    refused(
        start(with("extensionList", json!({"extension": [{"key": "k", "other": 1}]}))),
        3101,
        "Malformed syntax - \"extensionList.extension[0].other\" is not allowed",
    );
    refused(
        start(with("extensionList", json!({"extension": "k"}))),
        3101,
        "Malformed syntax - \"extensionList.extension\" must be an array",
    );
    let id = TransferId::parse("9b1c4fbb-b3e6-4d9e-a7f4-1b0b1b0b1b0b").unwrap();
    assert_eq!(
        parse_funds_finish(&body(json!({"reason": "r"})), id.clone()).unwrap(),
        None,
        "no action: accepted, nothing to do"
    );
    let commit = parse_funds_finish(&body(json!({"action": "recordFundsOutCommit", "reason": "r"})), id.clone())
        .unwrap()
        .unwrap();
    assert_eq!(commit.action, FundsAction::OutCommit);
    refused(parse_funds_finish(&body(json!({"action": "recordFundsIn", "reason": "r"})), id), 3101, "Malformed syntax - \"action is missing or not supported\" must be one of [recordFundsOutCommit, recordFundsOutAbort]");
}

#[test]
fn path_parameters_are_checked_before_anything_else() {
    assert_eq!(parse_name_param("payerfsp").unwrap().as_str(), "payerfsp");
    refused(parse_name_param("p"), 3101, "Malformed syntax - \"name\" length must be at least 2 characters long");
    for (text, id) in [("7", 7), (" 7 ", 7), ("+7", 7), ("1e1", 10), ("7.0", 7)] {
        assert_eq!(parse_account_id_param(text).unwrap(), AccountId(id), "{text:?}");
    }
    refused(parse_account_id_param("abc"), 3101, "Malformed syntax - \"id\" must be a number");
    refused(parse_account_id_param("1.5"), 3101, "Malformed syntax - \"id\" must be an integer");
    refused(parse_account_id_param("0"), 3101, "Malformed syntax - \"id\" must be a positive number");
    refused(parse_account_id_param("-2"), 3101, "Malformed syntax - \"id\" must be a positive number");
    assert!(parse_funds_transfer_id_param("01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
    assert_eq!(check(parse_funds_transfer_id_param("01arz3ndektsv4rrffq69g5fav")).unwrap_err().0, 3101);
}

#[test]
fn queries_name_only_their_keys() {
    let query = |pairs: &[(&str, &str)]| {
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect::<HashMap<_, _>>()
    };
    let read = parse_limits_query(&query(&[("currency", "USD"), ("type", "NET_DEBIT_CAP")])).unwrap();
    assert_eq!(
        (read.currency.map(|it| it.code().to_string()), read.kind),
        (Some("USD".to_string()), Some("NET_DEBIT_CAP".to_string()))
    );
    assert_eq!(parse_positions_query(&query(&[])).unwrap(), LedgerQuery::default());
    refused(parse_limits_query(&query(&[("foo", "1")])), 3101, "Malformed syntax - \"foo\" is not allowed");
    refused(
        parse_positions_query(&query(&[("type", "NET_DEBIT_CAP")])),
        3101,
        "Malformed syntax - \"type\" is not allowed",
    );
    refused(
        parse_limits_query(&query(&[("currency", "usd")])),
        3101,
        "Malformed syntax - \"currency\" must be one of the ISO 4217 currency codes",
    );
    refused(
        parse_limits_query(&query(&[("type", "")])),
        3101,
        "Malformed syntax - \"type\" is not allowed to be empty",
    );
}

#[test]
fn settlement_models_leave_the_account_type_to_the_handler() {
    let model = |extra: Value| {
        let mut it = json!({
            "name": "DEFERREDNETUSD", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
            "settlementDelay": "DEFERRED", "currency": "USD", "requireLiquidityCheck": "true", "ledgerAccountType": "POSITION",
            "autoPositionReset": true, "settlementAccountType": "SETTLEMENT"
        });
        for (key, value) in extra.as_object().unwrap() {
            it[key] = value.clone();
        }
        parse_settlement_model(&body(it))
    };
    let read = model(json!({})).unwrap();
    assert!(read.require_liquidity_check);
    assert_eq!(read.ledger_account_type, Some(LedgerAccountType::Position));
    assert_eq!(model(json!({"ledgerAccountType": "NOPE"})).unwrap().ledger_account_type, None);
    refused(
        model(json!({"name": "DEFERRED-NET"})),
        3101,
        "Malformed syntax - \"name\" must only contain alpha-numeric characters",
    );
    refused(model(json!({"name": "D"})), 3101, "Malformed syntax - \"name\" length must be at least 2 characters long");
    refused(
        model(json!({"settlementGranularity": "net"})),
        3101,
        "Malformed syntax - \"settlementGranularity\" must be one of [GROSS, NET]",
    );
    refused(
        model(json!({"settlementAccountType": "POSITION"})),
        3101,
        "Malformed syntax - \"settlementAccountType\" must be one of [SETTLEMENT, INTERCHANGE_FEE_SETTLEMENT]",
    );
    refused(
        model(json!({"autoPositionReset": "yes"})),
        3101,
        "Malformed syntax - \"autoPositionReset\" must be a boolean",
    );
}
