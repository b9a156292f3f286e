//! The custom handler's HTTP surface, composed at the top of the crate: one route per function
//! for the Functions host's invocations, the proxied FSPIOP routes, the operator APIs'
//! routes (`crate::operator`), and the readiness answer. Nothing below imports this module.
//!
//! An invocation runs its function, publishes what the function emitted (only after its
//! commit), keeps dead letters in the store, and answers `{Outputs, Logs, ReturnValue}` with 200.
//! A transient fault (database or hub unavailable, a conflicting writer) answers 500 instead, so
//! the host's retry policy delivers the same batch again, which every function handles.
//!
//! Every invocation and FSPIOP request runs in its own span (`function.prepare`, …,
//! `fspiop.request`) and ends with one `telemetry::finish_invocation`: span fields, one log
//! line, the metrics. A retry logs its fault; each dead letter logs its transfer id when known.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ledger_core::time::Timestamp;
use ledger_store::{NewDeadLetter, StoreError};
use plumbing::fault::CrashPoint;
use plumbing::limits::{HUB_EVENT_BYTES_MAX, REQUEST_BODY_BYTES_MAX};
use plumbing::publish::{Hub, OutgoingEvent, PublishError};
use plumbing::telemetry::{self, Tally};
use switch_handler::invocation::EVENTS_BINDING;
use switch_handler::{EventBatch, InvocationResponse};
use tracing::Instrument as _;

use crate::envelope::Envelope;
use crate::isolate::{isolating, Reply};
use crate::messages::EdgeRequest;
use crate::outbox::{Report, Route};
use crate::state::App;
use crate::transfers::edge::handle_checked;
use crate::transfers::notification::notify;

/// Why an invocation failed in a way worth a retry.
#[derive(Debug, thiserror::Error)]
enum Transient {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("publish: {0}")]
    Publish(#[from] PublishError),
}

/// When this process's router was built, for `/health`'s `startTime` and `uptime`.
static STARTED: std::sync::OnceLock<(Timestamp, Instant)> = std::sync::OnceLock::new();

/// The host's events per invocation this handler is sized for (`host.json`
/// `extensions.eventHubs.maxEventBatchSize`; a test holds the two together).
pub const INVOCATION_EVENTS_MAX: usize = 100;
/// The largest invocation body a function route reads: every event at the hub's size limit,
/// each escaped once more inside the host's JSON-in-a-string (at most twice its bytes), plus a
/// mebibyte for the metadata arrays. axum's default (2 MB) would refuse a batch of large events
/// with a 413, which the host retries for ever.
pub const INVOCATION_BYTES_MAX: usize = INVOCATION_EVENTS_MAX * 2 * HUB_EVENT_BYTES_MAX + 1_048_576;
const _: () = assert!(INVOCATION_EVENTS_MAX <= crate::isolate::BATCH_EVENTS_MAX);

/// The handler's router: function routes, FSPIOP routes, readiness.
pub fn router(app: App) -> Router {
    STARTED.get_or_init(|| ((app.now)(), Instant::now()));
    Router::new()
        .route("/", get(|| async { "ready" }))
        .route("/health", get(health))
        .route("/prepare", post(prepare_function))
        .route("/position", post(position_function))
        .route("/fulfil", post(fulfil_function))
        .route("/get", post(get_function))
        .route("/notification", post(notification_function))
        .route("/timeout", post(timeout_function))
        .route("/admin", post(admin_function))
        .route("/settlement", post(settlement_function))
        .layer(axum::extract::DefaultBodyLimit::max(INVOCATION_BYTES_MAX))
        .merge(client_routes())
        .fallback(crate::operator::http::unknown_uri)
        .layer(axum::middleware::map_response(crate::operator::http::mojaloop_errors))
        .with_state(app)
}

/// The routes DFSPs and operators reach through the edge: no body larger than the switch
/// carries end to end is read ([`REQUEST_BODY_BYTES_MAX`]; 413 with 3104).
fn client_routes() -> Router<App> {
    Router::new()
        .route("/transfers", axum::routing::any(fspiop))
        .route("/transfers/{*rest}", axum::routing::any(fspiop))
        .merge(crate::operator::admin_api::routes())
        .merge(crate::operator::settlement_api::routes())
        .merge(crate::operator::journal_api::routes())
        .layer(axum::extract::DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX))
}

/// `GET /health`, shaped like Mojaloop's health answer: 200 with `status: OK` when the ledger
/// store answers, 502 with `DOWN` when it does not.
async fn health(State(app): State<App>) -> Response {
    let (start_time, started) = *STARTED.get_or_init(|| ((app.now)(), Instant::now()));
    let datastore_up = app.store.participants().await.is_ok();
    let status = if datastore_up { "OK" } else { "DOWN" };
    let body = serde_json::json!({
        "status": status,
        "uptime": started.elapsed().as_secs(),
        "startTime": fspiop::datetime::format_fspiop_datetime(start_time),
        "versionNumber": env!("CARGO_PKG_VERSION"),
        "services": [{ "name": "datastore", "status": status }]
    });
    let code = if datastore_up { StatusCode::OK } else { StatusCode::BAD_GATEWAY };
    (code, axum::Json(body)).into_response()
}

/// Runs one invocation in its span, then records it (span fields, log line, metrics).
async fn invocation(
    operation: &'static str,
    function: &'static str,
    consumer: bool,
    work: impl Future<Output = (Response, Tally)>,
) -> Response {
    let span = telemetry::invocation_span(operation, function, consumer);
    let started = Instant::now();
    let (response, tally) = work.instrument(span.clone()).await;
    telemetry::finish_invocation(&span, function, started, tally);
    response
}

async fn fspiop(State(app): State<App>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    invocation("fspiop.request", "fspiop", false, fspiop_request(app, method, uri, headers, body)).await
}

async fn fspiop_request(app: App, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> (Response, Tally) {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|it| (name.as_str().to_lowercase(), it.to_string())))
        .collect();
    let request =
        EdgeRequest { method: method.to_string(), path: uri.path().to_string(), headers, body: body.to_vec() };
    let now = (app.now)();
    let response = handle_checked(app.publisher.as_ref(), app.signature_keys.as_deref(), &request, now).await;
    // An accepted request is journaled by the function that consumes its event (`crate::audit`).
    if response.body.is_some() {
        crate::audit::journal_refusal(app.journal.as_deref(), app.publisher.as_ref(), &request, response.status, now)
            .await;
    }
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // A 5xx asks the caller to send again (the hub was unavailable); anything else is answered.
    // 501 is an answer (the operation is not implemented), not a fault worth a retry.
    let tally = if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
        tracing::warn!(status = status.as_u16(), "FSPIOP request not accepted; the caller should retry");
        Tally::retry(1)
    } else {
        Tally::ok(1, usize::from(status == StatusCode::ACCEPTED), 0)
    };
    let answer = match response.body {
        Some(body) => (status, [("content-type", "application/json")], body).into_response(),
        None => status.into_response(),
    };
    (answer, tally)
}

/// Decodes an Event Hubs invocation into its event bodies, or says why it cannot.
fn event_bodies(body: &[u8]) -> Result<Vec<String>, String> {
    match EventBatch::bodies_from_slice(body, EVENTS_BINDING) {
        Ok(bodies) => Ok(bodies),
        // Not worth a retry: the same bytes would fail again. The host checkpoints past it.
        Err(err) => Err(format!("undecodable invocation: {err}")),
    }
}

/// A route for a batch function: decode the invocation, run `$call` on the batch, then publish
/// and answer through [`finish`], all inside the invocation's span.
macro_rules! batch_function {
    ($name:ident, $function:literal, $reply:expr, |$app:ident, $bodies:ident, $now:ident| $call:expr) => {
        async fn $name(State($app): State<App>, body: Bytes) -> Response {
            let work = async move {
                let bodies = match event_bodies(&body) {
                    Ok(bodies) => bodies,
                    Err(reason) => return undecodable(reason),
                };
                let $now = ($app.now)();
                plumbing::fault::crash_point($function, CrashPoint::BeforeCommit);
                let bodies: Arc<[String]> = bodies.into();
                let outcome: Result<Report, StoreError> =
                    isolating($function, Arc::clone(&bodies), $reply, $now, |all, range| {
                        let $app = $app.clone();
                        async move {
                            let $bodies = &all[range];
                            $call.await
                        }
                    })
                    .await;
                if outcome.is_ok() {
                    plumbing::fault::crash_point($function, CrashPoint::AfterCommit);
                }
                // The accepted requests' journal entries, before their follow-ups are published
                // (`crate::audit`); a journal still away fails the batch as transient.
                let outcome = match outcome {
                    Ok(report) if $reply == Reply::ToSender => {
                        crate::audit::append_durably($app.journal.as_deref(), &crate::audit::accepted_entries(&bodies))
                            .await
                            .map(|()| report)
                    }
                    other => other,
                };
                finish(&$app, bodies.len(), outcome, $now).await
            };
            invocation(concat!("function.", $function), $function, true, work).await
        }
    };
}

batch_function!(prepare_function, "prepare", Reply::ToSender, |app, bodies, now| {
    crate::transfers::prepare::prepare(app.store.as_ref(), bodies, now, app.rules)
});
batch_function!(position_function, "position", Reply::None, |app, bodies, now| crate::transfers::position::position(
    app.store.as_ref(),
    bodies,
    now
));
batch_function!(fulfil_function, "fulfil", Reply::ToSender, |app, bodies, now| crate::transfers::fulfil::fulfil(
    app.store.as_ref(),
    bodies,
    now
));
batch_function!(get_function, "get", Reply::ToSender, |app, bodies, now| crate::transfers::get::get(
    app.store.as_ref(),
    bodies,
    now
));
batch_function!(admin_function, "admin", Reply::None, |app, bodies, now| crate::operator::admin_transfer::admin(
    app.store.as_ref(),
    bodies,
    now
));
batch_function!(settlement_function, "settlement", Reply::None, |app, bodies, now| {
    crate::operator::settlement::settlement(app.store.as_ref(), bodies, now)
});

async fn notification_function(State(app): State<App>, body: Bytes) -> Response {
    invocation("function.notification", "notification", true, notification_invocation(app, body)).await
}

async fn notification_invocation(app: App, body: Bytes) -> (Response, Tally) {
    let bodies = match event_bodies(&body) {
        Ok(bodies) => bodies,
        Err(reason) => return undecodable(reason),
    };
    match notify(app.store.as_ref(), &app.notifier, &bodies, (app.now)()).await {
        Ok(n_sent) => (
            logged(format!("notification: {} events, {n_sent} callbacks sent", bodies.len())),
            Tally::ok(bodies.len(), n_sent, 0),
        ),
        Err(err) => retry(&Transient::from(err), bodies.len()),
    }
}

async fn timeout_function(State(app): State<App>) -> Response {
    invocation("function.timeout", "timeout", true, timeout_invocation(app)).await
}

/// Runs the timeout function's batches until none comes back full, then again at each due time
/// before the next tick (see `crate::transfers::timeout`), so a transfer is expired at its expiration
/// instead of up to a tick after it.
async fn timeout_invocation(app: App) -> (Response, Tally) {
    let lookahead = std::time::Duration::from_millis(crate::transfers::timeout::TIMEOUT_LOOKAHEAD_MS);
    let deadline = Instant::now() + lookahead;
    let mut tally = Tally::ok(0, 0, 0);
    loop {
        let now = (app.now)();
        if let Err(response) = timeout_batches(&app, now, &mut tally).await {
            return response;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let next =
            match crate::transfers::timeout::next_due(app.store.as_ref(), now.plus_ms(left.as_millis() as i64)).await {
                Ok(next) => next,
                Err(err) => return retry(&Transient::from(err), tally.batch_size),
            };
        let Some(due) = next else { break };
        // Due means due before the clock: wake a millisecond after, but never look more often
        // than every TIMEOUT_LOOK_INTERVAL_MIN_MS, so a steady stream of expiries is taken in
        // batches rather than one transaction pair each.
        let due_in_ms = (due.unix_ms() - (app.now)().unix_ms() + 1).max(0) as u64;
        let wait =
            std::time::Duration::from_millis(due_in_ms.max(crate::transfers::timeout::TIMEOUT_LOOK_INTERVAL_MIN_MS));
        if Instant::now() + wait >= deadline {
            break;
        }
        tokio::time::sleep(wait).await;
    }
    (logged(format!("timeout: {} due entries handled", tally.batch_size)), tally)
}

/// The batches of one look at the work-list, at `now`, each scanned, published and finished.
async fn timeout_batches(app: &App, now: Timestamp, tally: &mut Tally) -> Result<(), (Response, Tally)> {
    for _ in 0..crate::transfers::timeout::TIMEOUT_SCAN_BATCHES_MAX {
        let scan = crate::transfers::timeout::scan(app.store.as_ref(), now)
            .await
            .map_err(|err| retry(&Transient::from(err), tally.batch_size))?;
        tally.batch_size += scan.n_due;
        if scan.n_due > 0 {
            plumbing::fault::crash_point("timeout", CrashPoint::AfterCommit);
        }
        publish(app, &scan.report, now).await.map_err(|err| retry(&err, tally.batch_size))?;
        crate::transfers::timeout::record_stranded(&scan);
        crate::transfers::timeout::finish(app.store.as_ref(), &scan)
            .await
            .map_err(|err| retry(&Transient::from(err), tally.batch_size))?;
        tally.n_emitted += scan.report.emitted.len();
        tally.n_dead_letters += scan.report.dead_letters.len();
        if !scan.more_due() {
            break;
        }
    }
    Ok(())
}

/// Publishes a committed batch's events and keeps its dead letters, then answers the host.
async fn finish(app: &App, n_events: usize, outcome: Result<Report, StoreError>, now: Timestamp) -> (Response, Tally) {
    let report = match outcome {
        Ok(report) => report,
        Err(err) => return retry(&Transient::from(err), n_events),
    };
    match publish(app, &report, now).await {
        Ok(()) => (
            logged(format!(
                "{n_events} events, {} emitted, {} dead letters",
                report.emitted.len(),
                report.dead_letters.len()
            )),
            Tally::ok(n_events, report.emitted.len(), report.dead_letters.len()),
        ),
        Err(err) => retry(&err, n_events),
    }
}

async fn publish(app: &App, report: &Report, now: Timestamp) -> Result<(), Transient> {
    let mut position = Vec::new();
    let mut notification = Vec::new();
    for emitted in &report.emitted {
        match emitted.route {
            Route::Position { account } => {
                position.push(OutgoingEvent::keyed(account.to_string(), emitted.envelope.to_json()))
            }
            // Keyed by transfer, so a re-emitted notification lands on the partition of the
            // first and the notification function sees the repeat after the delivery record,
            // never beside it on another partition.
            Route::Notification => {
                let transfer_id = emitted.envelope.content.uri_params.id.clone();
                notification.push(OutgoingEvent::keyed(transfer_id, emitted.envelope.to_json()))
            }
        }
    }
    app.publisher.publish(Hub::TransferPosition, position).await?;
    app.publisher.publish(Hub::NotificationEvent, notification).await?;
    let dead: Vec<NewDeadLetter> = report
        .dead_letters
        .iter()
        .map(|it| {
            let envelope = Envelope::from_json(&it.body).ok();
            match &envelope {
                Some(envelope) => tracing::error!(transfer_id = %envelope.id, reason = %it.reason, "dead letter"),
                None => tracing::error!(reason = %it.reason, "dead letter (unreadable event)"),
            }
            NewDeadLetter {
                source: "function".to_string(),
                event_id: envelope.as_ref().map(|it| it.metadata.event.id.clone()),
                transfer_id: envelope.map(|it| it.id),
                body: it.body.clone(),
                reason: it.reason.clone(),
                created: now,
            }
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

/// An invocation the host sent that cannot be read: answered 200 (the same bytes would fail
/// again), so the host checkpoints past it.
fn undecodable(reason: String) -> (Response, Tally) {
    tracing::error!("{reason}");
    (logged(reason), Tally::undecodable())
}

/// A 500 makes the host retry the same batch (its retry policy), which the functions handle.
fn retry(err: &Transient, batch_size: usize) -> (Response, Tally) {
    tracing::warn!(error = %err, "transient fault; answering 500 so the host delivers the batch again");
    ((StatusCode::INTERNAL_SERVER_ERROR, format!("transient: {err}")).into_response(), Tally::retry(batch_size))
}
