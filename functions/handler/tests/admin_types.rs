//! The admin API over real HTTP, on both stores, reading types as central-ledger's Joi schemas
//! do: every seeded endpoint type registered and served, unknown ones refused as central-ledger
//! refuses them.

mod operator_support;
mod support;

use std::sync::Arc;

use fspiop::admin::ENDPOINT_TYPES;
use ledger_store::{LedgerStore, ENDPOINT_TYPE_LENGTH_MAX};
use operator_support::{provision, start};
use serde_json::json;
use support::NOW;

fn fixed_now() -> ledger_core::time::Timestamp {
    NOW
}

/// The value TTK's provisioning registers for a type: a template on its callback base.
fn template(kind: &str) -> String {
    let base = "http://127.0.0.1:4040";
    match kind {
        "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET" | "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT" => format!("{base}/parties/{{{{partyIdType}}}}/{{{{partyIdentifier}}}}/{{{{partySubIdOrType}}}}"),
        "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR" => format!("{base}/participants/{{{{partyIdType}}}}/{{{{partyIdentifier}}}}/{{{{partySubIdOrType}}}}/error"),
        "FSPIOP_CALLBACK_URL_TRANSFER_PUT" => format!("{base}/transfers/{{{{transferId}}}}"),
        _ => format!("{base}/{}", kind.to_lowercase()),
    }
}

async fn every_seeded_endpoint_type_is_stored_and_served(store: Arc<dyn LedgerStore>) {
    let switch = start(store, fixed_now).await;
    provision(&switch, &["payerfsp"]).await;
    for (kind, _) in ENDPOINT_TYPES {
        assert!(
            kind.chars().count() <= ENDPOINT_TYPE_LENGTH_MAX,
            "{kind} fits the store's column"
        );
        let (status, answer) = switch
            .call(
                "POST",
                "/participants/payerfsp/endpoints",
                Some(json!({"type": kind, "value": template(kind)})),
            )
            .await;
        assert_eq!(status, 201, "{kind}: {answer}");
    }
    let (status, served) = switch
        .call("GET", "/participants/payerfsp/endpoints", None)
        .await;
    assert_eq!(status, 200);
    let served: Vec<(String, String)> = served
        .as_array()
        .unwrap()
        .iter()
        .map(|it| {
            (
                it["type"].as_str().unwrap().to_string(),
                it["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        served.len(),
        ENDPOINT_TYPES.len(),
        "one endpoint per type: {served:?}"
    );
    for (kind, _) in ENDPOINT_TYPES {
        assert!(
            served.contains(&(kind.to_string(), template(kind))),
            "{kind} is served with its template"
        );
    }
    let (_, one) = switch
        .call(
            "GET",
            "/participants/payerfsp/endpoints?type=FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET",
            None,
        )
        .await;
    assert_eq!(
        one,
        json!({"type": "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET", "value": template("FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET")})
    );
    // central-ledger looks the type up case-insensitively and keeps its seeded name.
    let lower = json!({"type": "fspiop_callback_url_quotes", "value": "http://dfsp/quotes"});
    assert_eq!(
        switch
            .call("POST", "/participants/payerfsp/endpoints", Some(lower))
            .await
            .0,
        201
    );
    let (_, quotes) = switch
        .call(
            "GET",
            "/participants/payerfsp/endpoints?type=FSPIOP_CALLBACK_URL_QUOTES",
            None,
        )
        .await;
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
    let (_, after) = switch
        .call("GET", "/participants/payerfsp/endpoints", None)
        .await;
    assert_eq!(after.as_array().unwrap().len(), ENDPOINT_TYPES.len());
    let (_, enums) = switch.call("GET", "/enums", None).await;
    assert_eq!(
        enums["endpointType"]["FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_DELETE"],
        18
    );
}

on_both_stores!(every_seeded_endpoint_type_is_stored_and_served,);
