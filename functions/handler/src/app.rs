//! The custom handler's HTTP surface: one route per function for the Functions host's
//! invocations, the proxied FSPIOP routes, and the readiness answer.
//!
//! An invocation runs its function, publishes what the function emitted (only after its
//! commit), keeps dead letters in the store, and answers `{Outputs, Logs, ReturnValue}` with 200.
//! A transient fault (database or hub unavailable, a conflicting writer) answers 500 instead, so
//! the host's retry policy delivers the same batch again, which every function handles.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, NewDeadLetter, StoreError};
use switch_handler::invocation::EVENTS_BINDING;
use switch_handler::{InvocationRequest, InvocationResponse};

use crate::edge::{handle, EdgeRequest};
use crate::notification::{notify, Notifier};
use crate::outbox::{Report, Route};
use crate::publish::{Hub, OutgoingEvent, PublishError, Publisher};

/// Everything the functions share, built once per process.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn LedgerStore>,
    pub publisher: Arc<dyn Publisher>,
    pub notifier: Notifier,
    pub rules: PrepareRules,
    /// The clock, injected so tests can fix time.
    pub now: fn() -> Timestamp,
}

/// Why an invocation failed in a way worth a retry.
#[derive(Debug, thiserror::Error)]
enum Transient {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("publish: {0}")]
    Publish(#[from] PublishError),
}

/// The handler's router: function routes, FSPIOP routes, readiness.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(|| async { "ready" }))
        .route("/health", get(|| async { axum::Json(serde_json::json!({"status": "OK"})) }))
        .route("/prepare", post(prepare_function))
        .route("/position", post(position_function))
        .route("/fulfil", post(fulfil_function))
        .route("/get", post(get_function))
        .route("/notification", post(notification_function))
        .route("/timeout", post(timeout_function))
        .route("/transfers", axum::routing::any(fspiop))
        .route("/transfers/{*rest}", axum::routing::any(fspiop))
        .with_state(app)
}

async fn fspiop(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|it| (name.as_str().to_lowercase(), it.to_string())))
        .collect();
    let request = EdgeRequest { method: method.to_string(), path: uri.path().to_string(), headers, body: body.to_vec() };
    let response = handle(app.publisher.as_ref(), &request, (app.now)()).await;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match response.body {
        Some(body) => (status, [("content-type", "application/json")], body).into_response(),
        None => status.into_response(),
    }
}

/// Decodes an Event Hubs invocation into its event bodies, or says why it cannot.
fn event_bodies(body: &[u8]) -> Result<Vec<String>, String> {
    let batch = InvocationRequest::from_slice(body).and_then(|it| it.into_event_batch(EVENTS_BINDING));
    match batch {
        Ok(batch) => Ok(batch.bodies().map(str::to_string).collect()),
        // Not worth a retry: the same bytes would fail again. The host checkpoints past it.
        Err(err) => Err(format!("undecodable invocation: {err}")),
    }
}

macro_rules! batch_function {
    ($name:ident, $run:expr) => {
        async fn $name(State(app): State<App>, body: Bytes) -> Response {
            let bodies = match event_bodies(&body) {
                Ok(bodies) => bodies,
                Err(reason) => return logged(reason),
            };
            let now = (app.now)();
            let outcome: Result<Report, StoreError> = $run(&app, &bodies, now).await;
            finish(&app, bodies.len(), outcome, now).await
        }
    };
}

batch_function!(prepare_function, |app: &App, bodies: &[String], now| {
    let (store, rules) = (app.store.clone(), app.rules);
    let bodies = bodies.to_vec();
    async move { crate::prepare::prepare(store.as_ref(), &bodies, now, rules).await }
});
batch_function!(position_function, |app: &App, bodies: &[String], now| {
    let store = app.store.clone();
    let bodies = bodies.to_vec();
    async move { crate::position::position(store.as_ref(), &bodies, now).await }
});
batch_function!(fulfil_function, |app: &App, bodies: &[String], now| {
    let store = app.store.clone();
    let bodies = bodies.to_vec();
    async move { crate::fulfil::fulfil(store.as_ref(), &bodies, now).await }
});
batch_function!(get_function, |app: &App, bodies: &[String], now| {
    let store = app.store.clone();
    let bodies = bodies.to_vec();
    async move { crate::get::get(store.as_ref(), &bodies, now).await }
});

async fn notification_function(State(app): State<App>, body: Bytes) -> Response {
    let bodies = match event_bodies(&body) {
        Ok(bodies) => bodies,
        Err(reason) => return logged(reason),
    };
    match notify(app.store.as_ref(), &app.notifier, &bodies, (app.now)()).await {
        Ok(n_sent) => logged(format!("notification: {} events, {n_sent} callbacks sent", bodies.len())),
        Err(err) => retry(&Transient::from(err)),
    }
}

async fn timeout_function(State(app): State<App>) -> Response {
    let now = (app.now)();
    let scan = match crate::timeout::scan(app.store.as_ref(), now).await {
        Ok(scan) => scan,
        Err(err) => return retry(&Transient::from(err)),
    };
    if let Err(err) = publish(&app, &scan.report, now).await {
        return retry(&err);
    }
    match crate::timeout::finish(app.store.as_ref(), &scan.finished).await {
        Ok(()) => logged(format!("timeout: {} expired entries handled", scan.finished.len())),
        Err(err) => retry(&Transient::from(err)),
    }
}

/// Publishes a committed batch's events and keeps its dead letters, then answers the host.
async fn finish(app: &App, n_events: usize, outcome: Result<Report, StoreError>, now: Timestamp) -> Response {
    let report = match outcome {
        Ok(report) => report,
        Err(err) => return retry(&Transient::from(err)),
    };
    match publish(app, &report, now).await {
        Ok(()) => logged(format!(
            "{n_events} events, {} emitted, {} dead letters",
            report.emitted.len(),
            report.dead_letters.len()
        )),
        Err(err) => retry(&err),
    }
}

async fn publish(app: &App, report: &Report, now: Timestamp) -> Result<(), Transient> {
    let mut position = Vec::new();
    let mut notification = Vec::new();
    for emitted in &report.emitted {
        match emitted.route {
            Route::Position { account } => position.push(OutgoingEvent::keyed(account.to_string(), emitted.envelope.to_json())),
            Route::Notification => notification.push(OutgoingEvent::unkeyed(emitted.envelope.to_json())),
        }
    }
    app.publisher.publish(Hub::TransferPosition, position).await?;
    app.publisher.publish(Hub::NotificationEvent, notification).await?;
    let dead: Vec<NewDeadLetter> = report
        .dead_letters
        .iter()
        .map(|it| NewDeadLetter {
            source: "function".to_string(),
            event_id: None,
            transfer_id: None,
            body: it.body.clone(),
            reason: it.reason.clone(),
            created: now,
        })
        .collect();
    app.store.record_dead_letters(&dead).await?;
    Ok(())
}

fn logged(line: String) -> Response {
    let mut response = InvocationResponse::new();
    response.log(line);
    response.into_response()
}

/// A 500 makes the host retry the same batch (its retry policy), which the functions handle.
fn retry(err: &Transient) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("transient: {err}")).into_response()
}
