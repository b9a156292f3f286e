//! The admin API over real HTTP, on both stores, reading types as central-ledger's Joi schemas
//! do: every seeded endpoint type registered and served, unknown ones refused as central-ledger
//! refuses them, numeric and boolean strings accepted where Joi converts them, and what Joi lets
//! through refused afterwards with central-ledger's codes.

mod operator_support;
mod support;

use std::sync::Arc;

use fspiop::admin::ENDPOINT_TYPES;
use ledger_store::{LedgerStore, ENDPOINT_TYPE_LENGTH_MAX};
use operator_support::{provision, start, transfer_id};
use serde_json::{json, Value};
use support::NOW;

fn fixed_now() -> ledger_core::time::Timestamp {
    NOW
}

/// The value TTK's provisioning registers for a type: a template on its callback base.
fn template(kind: &str) -> String {
    let base = "http://127.0.0.1:4040";
    match kind {
        "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET" | "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT" => {
            format!("{base}/parties/{{{{partyIdType}}}}/{{{{partyIdentifier}}}}/{{{{partySubIdOrType}}}}")
        }
        "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR" => {
            format!("{base}/participants/{{{{partyIdType}}}}/{{{{partyIdentifier}}}}/{{{{partySubIdOrType}}}}/error")
        }
        "FSPIOP_CALLBACK_URL_TRANSFER_PUT" => format!("{base}/transfers/{{{{transferId}}}}"),
        _ => format!("{base}/{}", kind.to_lowercase()),
    }
}

async fn every_seeded_endpoint_type_is_stored_and_served(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    for (kind, _) in ENDPOINT_TYPES {
        assert!(kind.chars().count() <= ENDPOINT_TYPE_LENGTH_MAX, "{kind} fits the store's column");
        let (status, answer) = switch
            .call("POST", "/participants/payerfsp/endpoints", Some(json!({"type": kind, "value": template(kind)})))
            .await;
        assert_eq!(status, 201, "{kind}: {answer}");
    }
    let (status, served) = switch.call("GET", "/participants/payerfsp/endpoints", None).await;
    assert_eq!(status, 200);
    let served: Vec<(String, String)> = served
        .as_array()
        .unwrap()
        .iter()
        .map(|it| (it["type"].as_str().unwrap().to_string(), it["value"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(served.len(), ENDPOINT_TYPES.len(), "one endpoint per type: {served:?}");
    for (kind, _) in ENDPOINT_TYPES {
        assert!(served.contains(&(kind.to_string(), template(kind))), "{kind} is served with its template");
    }
    let (_, one) =
        switch.call("GET", "/participants/payerfsp/endpoints?type=FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET", None).await;
    assert_eq!(
        one,
        json!({"type": "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET", "value": template("FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET")})
    );
    // central-ledger looks the type up case-insensitively and keeps its seeded name.
    let lower = json!({"type": "fspiop_callback_url_quotes", "value": "http://dfsp/quotes"});
    assert_eq!(switch.call("POST", "/participants/payerfsp/endpoints", Some(lower)).await.0, 201);
    let (_, quotes) =
        switch.call("GET", "/participants/payerfsp/endpoints?type=FSPIOP_CALLBACK_URL_QUOTES", None).await;
    assert_eq!(quotes["value"], "http://dfsp/quotes");
    // An unknown type fails in central-ledger's database layer (500, 2001) and stores nothing;
    // an unknown participant is found missing first.
    let answer = switch
        .refused(
            "POST",
            "/participants/payerfsp/endpoints",
            Some(json!({"type": "FSPIOP_CALLBACK_URL_NOPE", "value": "x"})),
            500,
            "2001",
        )
        .await;
    assert_eq!(
        answer["errorInformation"]["errorDescription"],
        "Internal server error - Endpoint type FSPIOP_CALLBACK_URL_NOPE does not exist"
    );
    switch
        .refused(
            "POST",
            "/participants/nobody/endpoints",
            Some(json!({"type": "FSPIOP_CALLBACK_URL_NOPE", "value": "x"})),
            400,
            "3200",
        )
        .await;
    let (_, after) = switch.call("GET", "/participants/payerfsp/endpoints", None).await;
    assert_eq!(after.as_array().unwrap().len(), ENDPOINT_TYPES.len());
    let (_, enums) = switch.call("GET", "/enums", None).await;
    assert_eq!(enums["endpointType"]["FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_DELETE"], 18);
}

async fn numeric_and_boolean_strings_are_accepted_where_joi_converts_them(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    let update =
        json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": "2500.5", "alarmPercentage": "15"}});
    let (status, limit) = switch.call("PUT", "/participants/payerfsp/limits", Some(update)).await;
    assert_eq!(
        (status, &limit["limit"]),
        (200, &json!({"type": "NET_DEBIT_CAP", "value": 2500.5, "alarmPercentage": 15}))
    );
    let (status, participant) = switch.call("PUT", "/participants/payerfsp", Some(json!({"isActive": "false"}))).await;
    assert_eq!((status, &participant["isActive"]), (200, &json!(0)));
    assert_eq!(switch.call("PUT", "/participants/payerfsp", Some(json!({"isActive": "TRUE"}))).await.0, 200);
    let settlement = switch.account_id("payerfsp", "SETTLEMENT", "USD").await;
    // A JSON number, five decimals (rounded to four), and no currency (the account's is used).
    let body = json!({"transferId": transfer_id(), "externalReference": "r", "action": "recordFundsIn", "reason": "r", "amount": {"amount": 100.12345}});
    let (status, answer) =
        switch.call("POST", &format!("/participants/payerfsp/accounts/{settlement}"), Some(body)).await;
    assert_eq!(status, 202, "{answer}");
    switch.pump().await;
    assert_eq!(switch.balance("payerfsp", "SETTLEMENT", "USD").await, "-100.1235");
    let (status, positions) = switch.call("GET", "/participants/payerfsp/positions?currency=USD", None).await;
    assert_eq!((status, &positions["currency"]), (200, &json!("USD")));
    // A funds-out finish without an action passes the schema and does nothing.
    let finish = format!("/participants/payerfsp/accounts/{settlement}/transfers/{}", transfer_id());
    assert_eq!(switch.call("PUT", &finish, Some(json!({"reason": "r"}))).await.0, 202);
    assert!(switch.hubs.lock().unwrap().is_empty(), "nothing was published");
    let model = json!({
        "name": "DEFAULTDEFERREDNET", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "requireLiquidityCheck": "false", "ledgerAccountType": "POSITION",
        "autoPositionReset": "true", "settlementAccountType": "SETTLEMENT"
    });
    assert_eq!(switch.call("POST", "/settlementModels", Some(model)).await.0, 201);
    let (_, models) = switch.call("GET", "/settlementModels/DEFAULTDEFERREDNET", None).await;
    assert_eq!((&models["requireLiquidityCheck"], &models["autoPositionReset"]), (&json!(0), &json!(1)));
}

async fn what_joi_lets_through_is_refused_as_central_ledger_refuses_it(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    let before: Value = switch.call("GET", "/participants", None).await.1;
    // No currency: central-ledger's database query fails (500, 2001).
    switch.refused("POST", "/participants", Some(json!({"name": "newfsp"})), 500, "2001").await;
    switch
        .refused(
            "POST",
            "/participants/payerfsp/initialPositionAndLimits",
            Some(json!({"limit": {"type": "NET_DEBIT_CAP", "value": 1}})),
            500,
            "2001",
        )
        .await;
    switch
        .refused(
            "PUT",
            "/participants/payerfsp/limits",
            Some(json!({"currency": "USD", "limit": {"type": "OTHER_CAP", "value": 1, "alarmPercentage": 10}})),
            500,
            "2001",
        )
        .await;
    // Account types are looked up after the schema: 3003.
    let answer = switch
        .refused("POST", "/participants/Hub/accounts", Some(json!({"currency": "USD", "type": "NOPE"})), 400, "3003")
        .await;
    assert_eq!(
        answer["errorInformation"]["errorDescription"],
        "Add Party information error - Ledger account type was not found"
    );
    let model = json!({
        "name": "OTHER", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL", "settlementDelay": "DEFERRED",
        "requireLiquidityCheck": true, "ledgerAccountType": "NOPE", "autoPositionReset": true, "settlementAccountType": "SETTLEMENT"
    });
    switch.refused("POST", "/settlementModels", Some(model.clone()), 400, "3003").await;
    let mut immediate_net = model;
    immediate_net["settlementDelay"] = json!("IMMEDIATE");
    switch.refused("POST", "/settlementModels", Some(immediate_net), 400, "3000").await;
    // The schema's own refusals, all 3101: path parameters first, then queries and bodies.
    switch.refused("PUT", "/participants/p/accounts/x", Some(json!({"isActive": "maybe"})), 400, "3101").await;
    switch.refused("GET", "/participants/payerfsp/limits?currency=USD&foo=1", None, 400, "3101").await;
    switch.refused("GET", "/participants/limits?type=", None, 400, "3101").await;
    switch.refused("GET", "/participants/payerfsp/positions?currency=usd", None, 400, "3101").await;
    switch.refused("PUT", "/participants/payerfsp/accounts/1.5", Some(json!({"isActive": true})), 400, "3101").await;
    let finish = "/participants/payerfsp/accounts/1/transfers/not-a-transfer-id";
    switch.refused("PUT", finish, Some(json!({"action": "recordFundsOutCommit", "reason": "r"})), 400, "3101").await;
    assert_eq!(switch.call("GET", "/participants", None).await.1, before, "nothing changed");
    assert!(switch.hubs.lock().unwrap().is_empty(), "nothing was published");
}

on_both_stores!(
    every_seeded_endpoint_type_is_stored_and_served,
    numeric_and_boolean_strings_are_accepted_where_joi_converts_them,
    what_joi_lets_through_is_refused_as_central_ledger_refuses_it,
);
