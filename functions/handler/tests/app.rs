//! The handler as the Functions host sees it, over real HTTP: readiness, a proxied FSPIOP request,
//! and Event Hubs invocations in the host's double-encoded JSON driving prepare and position,
//! with every published event caught by a recording local hubs endpoint.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use handler::app::{router, App};
use handler::notification::{NotificationConfig, Notifier};
use handler::publish::local::IngestRequest;
use handler::publish::LocalHubsPublisher;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use serde_json::{json, Value};
use support::*;

type Hubs = Arc<Mutex<Vec<(String, IngestRequest)>>>;

async fn ingest(State(hubs): State<Hubs>, Path(hub): Path<String>, Json(request): Json<IngestRequest>) -> axum::http::StatusCode {
    hubs.lock().unwrap().push((hub, request));
    axum::http::StatusCode::ACCEPTED
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn fixed_now() -> Timestamp {
    NOW
}


fn taken(hubs: &Hubs, hub: &str) -> Vec<(Option<String>, String)> {
    let mut all = hubs.lock().unwrap();
    let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|(name, _)| name == hub);
    *all = rest;
    mine.into_iter().flat_map(|(_, it)| it.events.into_iter().map(|event| (event.partition_key, event.body))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_goes_from_the_fspiop_edge_through_prepare_and_position() {
    let (store, path) = sqlite().await;
    let scheme = provision(store.as_ref(), "1000").await;
    let hubs = Hubs::default();
    let hubs_url = serve(axum::Router::new().route("/hubs/{hub}/events", axum::routing::post(ingest)).with_state(hubs.clone())).await;
    let config = NotificationConfig { confirm_to_payee: true, hub_content_version: fspiop::ApiVersion::V1_1, backoff_initial: Duration::from_millis(5) };
    let app = App {
        store: store.clone(),
        publisher: Arc::new(LocalHubsPublisher::new(hubs_url.parse().unwrap()).unwrap()),
        notifier: Notifier::new(config).unwrap(),
        rules: PrepareRules { on_us_transfers_allowed: false },
        now: fixed_now,
        journal: None,
        signature_keys: None,
    };
    let handler = serve(router(app)).await;
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
    let prepares = taken(&hubs, "transfer-prepare");
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
    let positions = taken(&hubs, "transfer-position");
    assert_eq!(positions.len(), 1);
    assert_eq!(positions[0].0.as_deref(), Some(scheme.payer.id.to_string().as_str()), "keyed by the payer's account");
    // The position function.
    let keys: Vec<Option<String>> = positions.iter().map(|(key, _)| key.clone()).collect();
    let bodies: Vec<String> = positions.into_iter().map(|(_, it)| it).collect();
    let status = client.post(format!("{handler}/position")).json(&invocation(&bodies, &keys)).send().await.unwrap().status();
    assert!(status.is_success());
    assert_eq!(taken(&hubs, "notification-event").len(), 1, "the payee is to be told");
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, ledger_core::amount::Amount::parse_fspiop("12.5").unwrap());
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
    let hubs = Hubs::default();
    let hubs_url = serve(axum::Router::new().route("/hubs/{hub}/events", axum::routing::post(ingest)).with_state(hubs.clone())).await;
    let config = NotificationConfig { confirm_to_payee: true, hub_content_version: fspiop::ApiVersion::V1_1, backoff_initial: Duration::from_millis(5) };
    let app = App {
        store: store.clone(),
        publisher: Arc::new(LocalHubsPublisher::new(hubs_url.parse().unwrap()).unwrap()),
        notifier: Notifier::new(config).unwrap(),
        rules: PrepareRules { on_us_transfers_allowed: false },
        now: fixed_now,
        journal: None,
        signature_keys: None,
    };
    let handler = serve(router(app)).await;
    let large = "\"".repeat(handler::edge::HUB_EVENT_BYTES_MAX - 1_024);
    let bodies = vec![large; 8];
    let response = reqwest::Client::new().post(format!("{handler}/prepare")).json(&invocation(&bodies, &[None; 8])).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["Logs"][0].as_str().unwrap().contains("8 dead letters"), "{answer}");
    assert_eq!(store.dead_letters(100).await.unwrap().len(), 8);
    remove_sqlite(path);
}
