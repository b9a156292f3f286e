//! A local hubs ingestion endpoint that records what the handler publishes, and a router served
//! on a free port: the two ends of a handler under test over real HTTP.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::Json;
use handler::state::App;
use handler::transfers::notification::{NotificationConfig, Notifier};
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use plumbing::publish::local::IngestRequest;
use plumbing::publish::LocalHubsPublisher;

/// Every ingestion request, with the hub it was for, in arrival order.
pub type Hubs = Arc<Mutex<Vec<(String, IngestRequest)>>>;

/// Serves `app` on a free loopback port; its base URL.
pub async fn serve_router(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A recording ingestion endpoint and its base URL (for `LocalHubsPublisher`).
pub async fn recording_hubs() -> (Hubs, String) {
    let hubs = Hubs::default();
    let url = serve_router(
        axum::Router::new().route("/hubs/{hub}/events", axum::routing::post(record)).with_state(hubs.clone()),
    )
    .await;
    (hubs, url)
}

async fn record(
    State(hubs): State<Hubs>,
    Path(hub): Path<String>,
    Json(request): Json<IngestRequest>,
) -> axum::http::StatusCode {
    hubs.lock().unwrap().push((hub, request));
    axum::http::StatusCode::ACCEPTED
}

/// The `(partition key, body)` of every event published to `hub` since the last call, in order.
pub fn taken_events(hubs: &Hubs, hub: &str) -> Vec<(Option<String>, String)> {
    let mut all = hubs.lock().unwrap();
    let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|(name, _)| name == hub);
    *all = rest;
    mine.into_iter().flat_map(|(_, it)| it.events.into_iter().map(|event| (event.partition_key, event.body))).collect()
}

/// The handler's state as a test runs it: `store`, publishing to the ingestion endpoint at
/// `hubs_url`, the clock `now`, callbacks without backoff, no journal, no signatures.
pub fn app_publishing_to(store: Arc<dyn LedgerStore>, hubs_url: &str, now: fn() -> Timestamp) -> App {
    let config = NotificationConfig {
        confirm_to_payee: true,
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: std::time::Duration::ZERO,
    };
    App {
        store,
        publisher: Arc::new(LocalHubsPublisher::new(hubs_url.parse().unwrap()).unwrap()),
        notifier: Notifier::new(config).unwrap(),
        rules: PrepareRules { on_us_transfers_allowed: false },
        now,
        journal: None,
        signature_keys: None,
    }
}
