//! The local publisher against a real HTTP server: an axum app bound on 127.0.0.1:0 that stands
//! in for the emulator's ingestion endpoint, records what it receives and answers with a status
//! chosen by the test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use plumbing::publish::{
    publisher_for, Hub, LocalHubsPublisher, OutgoingEvent, PublishError, PublishTarget, Publisher,
};
use serde_json::{json, Value};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Received {
    hub: String,
    content_type: Option<String>,
    body: Value,
}

#[derive(Clone)]
struct Recorder {
    status: StatusCode,
    delay: Duration,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn ingest(
    State(recorder): State<Recorder>,
    Path(hub): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
    recorder.received.lock().expect("not poisoned").push(Received { hub, content_type, body });
    tokio::time::sleep(recorder.delay).await;
    (recorder.status, format!("emulator says {}", recorder.status.as_u16()))
}

/// Starts the recording server; returns its base URL and what it has received so far.
async fn spawn_emulator(status: StatusCode, delay: Duration) -> (reqwest::Url, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().route("/hubs/{hub}/events", post(ingest)).with_state(Recorder {
        status,
        delay,
        received: received.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = reqwest::Url::parse(&format!("http://{address}/")).expect("valid URL");
    (url, received)
}

fn publisher(url: reqwest::Url) -> LocalHubsPublisher {
    LocalHubsPublisher::new(url).expect("client builds")
}

fn events() -> Vec<OutgoingEvent> {
    vec![
        OutgoingEvent::keyed("payerfsp", r#"{"id":"t1","n":1}"#),
        OutgoingEvent::unkeyed("plain text"),
        OutgoingEvent::keyed("payeefsp", r#"{"id":"t2"}"#),
        OutgoingEvent::keyed("payerfsp", r#"{"id":"t1","n":2}"#),
    ]
}

fn received(log: &Arc<Mutex<Vec<Received>>>) -> Vec<Received> {
    log.lock().expect("not poisoned").clone()
}

#[tokio::test]
async fn accepted_events_arrive_at_the_hub_path_in_order_with_keys_and_bodies() {
    let (url, log) = spawn_emulator(StatusCode::ACCEPTED, Duration::ZERO).await;
    let result = publisher(url).publish(Hub::TransferPosition, events()).await;
    assert_eq!(result, Ok(()));
    let got = received(&log);
    assert_eq!(got.len(), 1, "one request per publish: {got:?}");
    assert_eq!(got[0].hub, "transfer-position");
    assert_eq!(got[0].content_type.as_deref(), Some("application/json"));
    let expected = json!({"events": [
        {"partitionKey": "payerfsp", "body": r#"{"id":"t1","n":1}"#},
        {"partitionKey": null, "body": "plain text"},
        {"partitionKey": "payeefsp", "body": r#"{"id":"t2"}"#},
        {"partitionKey": "payerfsp", "body": r#"{"id":"t1","n":2}"#},
    ]});
    assert_eq!(got[0].body, expected);
}

#[tokio::test]
async fn the_publisher_from_configuration_reaches_every_hub() {
    let (url, log) = spawn_emulator(StatusCode::OK, Duration::ZERO).await;
    let base = url.as_str().trim_end_matches('/').to_string();
    let target =
        PublishTarget::from_lookup(|name| (name == "LOCAL_HUBS_URL").then(|| base.clone())).expect("local target");
    let publisher: Arc<dyn Publisher> = publisher_for(target).expect("publisher");
    for hub in Hub::ALL {
        assert_eq!(publisher.publish(hub, vec![OutgoingEvent::unkeyed(hub.name())]).await, Ok(()));
    }
    let got = received(&log);
    let hubs: Vec<&str> = got.iter().map(|r| r.hub.as_str()).collect();
    assert_eq!(hubs, Hub::ALL.map(Hub::name));
    assert!(got.iter().all(|r| r.body["events"][0]["body"] == r.hub.as_str()));
}

#[tokio::test]
async fn an_empty_publish_sends_no_request() {
    let (url, log) = spawn_emulator(StatusCode::ACCEPTED, Duration::ZERO).await;
    assert_eq!(publisher(url).publish(Hub::TransferPrepare, Vec::new()).await, Ok(()));
    assert!(received(&log).is_empty());
}

#[tokio::test]
async fn a_503_is_transient_and_quotes_the_emulator() {
    let (url, _log) = spawn_emulator(StatusCode::SERVICE_UNAVAILABLE, Duration::ZERO).await;
    let error = publisher(url).publish(Hub::TransferFulfil, events()).await.expect_err("503 fails");
    assert!(matches!(error, PublishError::Unavailable { hub: Hub::TransferFulfil, .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("emulator says 503"), "{error}");
}

#[tokio::test]
async fn a_400_is_permanent() {
    let (url, _log) = spawn_emulator(StatusCode::BAD_REQUEST, Duration::ZERO).await;
    let error = publisher(url).publish(Hub::NotificationEvent, events()).await.expect_err("400 fails");
    assert!(matches!(error, PublishError::Rejected { hub: Hub::NotificationEvent, .. }), "{error:?}");
    assert!(!error.is_transient());
}

#[tokio::test]
async fn a_path_the_emulator_does_not_serve_is_an_unknown_hub() {
    let (url, log) = spawn_emulator(StatusCode::ACCEPTED, Duration::ZERO).await;
    let elsewhere = url.join("not-the-emulator/").expect("valid URL");
    let error = publisher(elsewhere).publish(Hub::TransferGet, events()).await.expect_err("404 fails");
    assert!(matches!(error, PublishError::UnknownHub { hub: Hub::TransferGet, .. }), "{error:?}");
    assert!(!error.is_transient());
    assert!(received(&log).is_empty());
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // Bind and release a port, so that nothing listens on it when the publisher connects.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let address = listener.local_addr().expect("bound address");
    drop(listener);
    let url = reqwest::Url::parse(&format!("http://{address}/")).expect("valid URL");
    let error = publisher(url).publish(Hub::AdminTransfer, events()).await.expect_err("nobody listens");
    assert!(matches!(error, PublishError::Unavailable { hub: Hub::AdminTransfer, .. }), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_slow_emulator_is_a_transient_timeout() {
    let (url, _log) = spawn_emulator(StatusCode::ACCEPTED, Duration::from_secs(5)).await;
    let error = LocalHubsPublisher::with_timeout(url, Duration::from_millis(200))
        .expect("client")
        .publish(Hub::SettlementWindowClose, events())
        .await
        .expect_err("times out");
    assert!(matches!(error, PublishError::Timeout { hub: Hub::SettlementWindowClose, .. }), "{error:?}");
    assert!(error.is_transient());
}
