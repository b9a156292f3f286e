//! The handler as the Functions host sees it, over real HTTP: readiness, a proxied FSPIOP request,
//! and Event Hubs invocations in the host's double-encoded JSON driving prepare and position,
//! with every published event caught by a recording local hubs endpoint.

mod support;

use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use handler::app::router;
use ledger_core::time::Timestamp;
use serde_json::{json, Value};
use support::*;

fn fixed_now() -> Timestamp {
    NOW
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_goes_from_the_fspiop_edge_through_prepare_and_position() {
    let (store, path) = sqlite().await;
    let scheme = provision(store.as_ref(), "1000").await;
    let (hubs, hubs_url) = recording_hubs().await;
    let app = app_publishing_to(store.clone(), &hubs_url, fixed_now);
    let handler = serve_router(router(app)).await;
    let client = reqwest::Client::new();
    // Readiness: any answer on `/`.
    assert!(client.get(format!("{handler}/")).send().await.unwrap().status().is_success());
    // The FSPIOP edge, as API Management would proxy it.
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "transferId": id, "payerFsp": "payerfsp", "payeeFsp": "payeefsp",
        "amount": {"amount": "12.5", "currency": "USD"}, "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25l",
        "condition": TTK_CONDITION, "expiration": format_fspiop_datetime(NOW.plus_ms(60_000)),
    });
    let response = client
        .post(format!("{handler}/transfers"))
        .header("accept", "application/vnd.interoperability.transfers+json;version=1")
        .header("content-type", CONTENT_TYPE)
        .header("date", format_http_date(NOW))
        .header("fspiop-source", "payerfsp")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let prepares = taken_events(&hubs, "transfer-prepare");
    assert_eq!(prepares.len(), 1);
    // The prepare function, invoked by the host with the batch.
    let bodies: Vec<String> = prepares.iter().map(|(_, it)| it.clone()).collect();
    let answer: Value = client
        .post(format!("{handler}/prepare"))
        .json(&invocation(&bodies, &[None]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["Logs"][0].as_str().unwrap().contains("1 emitted"), "{answer}");
    assert!(answer.get("Outputs").is_some() && answer.get("ReturnValue").is_some());
    let positions = taken_events(&hubs, "transfer-position");
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].0.as_deref(), Some(scheme.payer.id.to_string().as_str()), "keyed by the payer's account");
    // The position function.
    let keys: Vec<Option<String>> = positions.iter().map(|(key, _)| key.clone()).collect();
    let bodies: Vec<String> = positions.into_iter().map(|(_, it)| it).collect();
    let status =
        client.post(format!("{handler}/position")).json(&invocation(&bodies, &keys)).send().await.unwrap().status();
    assert!(status.is_success());
    assert_eq!(taken_events(&hubs, "notification-event").len(), 1, "the payee is to be told");
    assert_eq!(
        store.balance(scheme.payer.id).await.unwrap().0,
        ledger_core::amount::Amount::parse_fspiop("12.5").unwrap()
    );
    // An invocation the handler cannot read is answered (and checkpointed), not retried.
    let answer: Value = client.post(format!("{handler}/prepare")).body("{").send().await.unwrap().json().await.unwrap();
    assert!(answer["Logs"][0].as_str().unwrap().starts_with("undecodable invocation"), "{answer}");
    remove_sqlite(path);
}

/// The handler reads every invocation the host may send: `host.json`'s batch size is within
/// what the function routes are sized for, and a batch several times axum's default body limit
/// is read and answered (here: events no function can read, kept as dead letters), not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_large_events_is_read_not_refused() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let functions = switch_handler::FunctionApp::load(&root).unwrap();
    let batch_max = functions.host.event_hubs.max_event_batch_size.expect("host.json sets maxEventBatchSize");
    assert!(batch_max as usize <= handler::app::INVOCATION_EVENTS_MAX, "host.json batches of {batch_max}");

    let (store, path) = sqlite().await;
    let (_, hubs_url) = recording_hubs().await;
    let app = app_publishing_to(store.clone(), &hubs_url, fixed_now);
    let handler = serve_router(router(app)).await;
    let large = "\"".repeat(plumbing::limits::HUB_EVENT_BYTES_MAX - 1_024);
    let bodies = vec![large; 8];
    let response = reqwest::Client::new()
        .post(format!("{handler}/prepare"))
        .json(&invocation(&bodies, &vec![None; 8]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["Logs"][0].as_str().unwrap().contains("8 dead letters"), "{answer}");
    assert_eq!(store.dead_letters(100).await.unwrap().len(), 8);
    remove_sqlite(path);
}
