//! The notification function over real HTTP: DFSP simulators on 127.0.0.1 record every callback,
//! the pipeline runs on a real store, and the callbacks are checked against Mojaloop's matrix and
//! header rules, plus retries, redelivery and dead letters.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use handler::fulfil::fulfil;
use handler::get::get;
use handler::outbox::Route;
use handler::timeout::scan;
use handler::notification::{
    notify, NotificationConfig, Notifier, ENDPOINT_TRANSFER_ERROR, ENDPOINT_TRANSFER_POST, ENDPOINT_TRANSFER_PUT,
};
use handler::position::position;
use handler::prepare::prepare;
use ledger_core::account::{LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
const LATER: Timestamp = Timestamp::from_unix_ms(NOW.unix_ms() + 1_000);

on_both_stores!(
    the_payee_gets_the_payers_post_and_the_payer_the_payees_put,
    a_refusal_reaches_the_payer_from_the_hub,
    the_reserved_flow_sends_a_committed_put_and_a_patch,
    a_redelivered_batch_is_sent_once,
    failing_endpoints_are_retried_then_dead_lettered,
    aborts_and_timeouts_reach_both_parties,
    duplicates_and_gets_answer_the_requester,
);

/// One callback as a DFSP received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A DFSP simulator: records every request; answers 503 to the first `failures` requests.
#[derive(Clone, Default)]
struct Simulator {
    received: Arc<Mutex<Vec<Received>>>,
    failures: Arc<Mutex<usize>>,
}

async fn record(State(sim): State<Simulator>, method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    sim.received.lock().unwrap().push(Received { method: method.to_string(), path: uri.path().to_string(), headers, body: body.to_vec() });
    let mut failures = sim.failures.lock().unwrap();
    match *failures {
        0 => StatusCode::OK,
        _ => {
            *failures -= 1;
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

async fn start_simulator() -> (Simulator, String) {
    let sim = Simulator::default();
    let app = axum::Router::new().fallback(record).with_state(sim.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (sim, base)
}

async fn register_endpoints(store: &dyn LedgerStore, base: &str) {
    for name in ["payerfsp", "payeefsp"] {
        let participant = store.participant(&fsp(name)).await.unwrap().unwrap();
        let endpoints = [
            (ENDPOINT_TRANSFER_POST, format!("{base}/{name}/transfers")),
            (ENDPOINT_TRANSFER_PUT, format!("{base}/{name}/transfers/{{{{transferId}}}}")),
            (ENDPOINT_TRANSFER_ERROR, format!("{base}/{name}/transfers/{{{{transferId}}}}/error")),
        ];
        for (kind, url) in endpoints {
            store.set_endpoint(participant.id, kind, &url, NOW).await.unwrap();
        }
    }
}

fn notifier() -> Notifier {
    let config = NotificationConfig {
        confirm_to_payee: true,
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: Duration::from_millis(5),
    };
    Notifier::new(config).unwrap()
}

async fn setup(store: &dyn LedgerStore, funding: &str) -> (Simulator, Notifier) {
    provision(store, funding).await;
    let (sim, base) = start_simulator().await;
    register_endpoints(store, &base).await;
    (sim, notifier())
}

fn take(sim: &Simulator) -> Vec<Received> {
    std::mem::take(&mut *sim.received.lock().unwrap())
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers.get(name).and_then(|it| it.to_str().ok()).unwrap_or("")
}

async fn the_payee_gets_the_payers_post_and_the_payer_the_payees_put(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&reserved), NOW).await.unwrap(), 1);
    let post = take(&sim).remove(0);
    assert_eq!((post.method.as_str(), post.path.as_str()), ("POST", "/payeefsp/transfers"));
    assert_eq!(post.body, event.payload_bytes().unwrap(), "the payer's body, verbatim");
    assert_eq!(header(&post, "fspiop-source"), "payerfsp");
    assert_eq!(header(&post, "fspiop-uri"), "/transfers");
    assert_eq!(header(&post, "fspiop-http-method"), "POST");
    assert_eq!(header(&post, "content-type"), CONTENT_TYPE);
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    let committed = position(store.as_ref(), &bodies(&fulfilled), LATER).await.unwrap();
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&committed), LATER).await.unwrap(), 2);
    let received = take(&sim);
    let to_payer = received.iter().find(|it| it.path.starts_with("/payerfsp")).expect("the payer is told");
    assert_eq!((to_payer.method.as_str(), to_payer.path.clone()), ("PUT", format!("/payerfsp/transfers/{id}")));
    assert_eq!(to_payer.body, answer.payload_bytes().unwrap());
    assert_eq!(header(to_payer, "fspiop-source"), "payeefsp");
    // Mojaloop removes Accept on PUT callbacks (TTK's get_transfers checks there is none), and the
    // callback client adds no header of its own.
    assert_eq!(header(to_payer, "accept"), "", "no Accept on a PUT callback");
    let to_payee = received.iter().find(|it| it.path.starts_with("/payeefsp")).expect("the payee is told");
    assert_eq!((header(to_payee, "fspiop-source"), header(to_payee, "fspiop-destination")), ("Hub", "payeefsp"));
}

async fn a_refusal_reaches_the_payer_from_the_hub(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "5").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let refused = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    notify(store.as_ref(), &notifier, &bodies(&refused), NOW).await.unwrap();
    let received = take(&sim);
    assert_eq!(received.len(), 1);
    assert_eq!((received[0].method.as_str(), received[0].path.clone()), ("PUT", format!("/payerfsp/transfers/{id}/error")));
    assert_eq!(header(&received[0], "fspiop-source"), "Hub");
    assert_eq!(header(&received[0], "fspiop-uri"), format!("/transfers/{id}/error"));
    let body: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["errorInformation"]["errorCode"], "4001");
}

async fn the_reserved_flow_sends_a_committed_put_and_a_patch(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let answer = fulfil_event(&id, "RESERVED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    let committed = position(store.as_ref(), &bodies(&fulfilled), LATER).await.unwrap();
    notify(store.as_ref(), &notifier, &bodies(&committed), LATER).await.unwrap();
    let received = take(&sim);
    let put = received.iter().find(|it| it.method == "PUT").expect("a PUT to the payer");
    let patch = received.iter().find(|it| it.method == "PATCH").expect("a PATCH to the payee");
    assert_eq!(put.path, format!("/payerfsp/transfers/{id}"));
    assert_eq!(patch.path, format!("/payeefsp/transfers/{id}"));
    let put_body: serde_json::Value = serde_json::from_slice(&put.body).unwrap();
    assert_eq!((put_body["transferState"].as_str(), put_body["fulfilment"].as_str()), (Some("COMMITTED"), Some(TTK_FULFILMENT)));
    let patch_body: serde_json::Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(patch_body["transferState"], "COMMITTED");
    assert!(patch_body.get("fulfilment").is_none());
    assert_eq!(header(patch, "fspiop-http-method"), "PATCH");
}

async fn a_redelivered_batch_is_sent_once(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let (_, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let batch = [bodies(&reserved), bodies(&reserved)].concat();
    assert_eq!(notify(store.as_ref(), &notifier, &batch, NOW).await.unwrap(), 1);
    // The position step re-run after a crash emits the same event again.
    let again = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&again), NOW).await.unwrap(), 0);
    assert_eq!(take(&sim).len(), 1);
}

async fn failing_endpoints_are_retried_then_dead_lettered(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let (_, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    *sim.failures.lock().unwrap() = 2;
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&reserved), NOW).await.unwrap(), 1);
    assert_eq!(take(&sim).len(), 3, "two 503s, then delivered");
    let (_, other) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    let prepared = prepare(store.as_ref(), &[other.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    *sim.failures.lock().unwrap() = 100;
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&reserved), NOW).await.unwrap(), 0);
    assert_eq!(take(&sim).len(), handler::notification::CALLBACK_ATTEMPTS_MAX as usize);
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].reason.contains("503"), "{}", dead[0].reason);
    // A payee without endpoints: Mojaloop's 1001, kept as a dead letter.
    let silent = store.create_participant(&fsp("silentfsp"), NOW).await.unwrap();
    let account = store.create_account(silent.id, usd(), LedgerAccountType::Position, true, NOW).await.unwrap();
    store.set_net_debit_cap(account.id, NetDebitCap::new(Amount::from_whole(10)).unwrap(), NOW).await.unwrap();
    let (_, to_silent) = prepare_event("payerfsp", "silentfsp", "1", NOW);
    let prepared = prepare(store.as_ref(), &[to_silent.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&reserved), NOW).await.unwrap(), 0);
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert!(dead[0].reason.starts_with("1001"), "{}", dead[0].reason);
    assert!(take(&sim).is_empty());
}

/// The callbacks of one notify run, as (recipient path prefix, method, error code or state).
async fn run_notify(store: &dyn LedgerStore, sim: &Simulator, notifier: &Notifier, bodies: Vec<String>, at: Timestamp) -> Vec<(String, String, String)> {
    notify(store, notifier, &bodies, at).await.unwrap();
    let mut seen: Vec<(String, String, String)> = take(sim)
        .into_iter()
        .map(|it| {
            let body: serde_json::Value = serde_json::from_slice(&it.body).unwrap_or_default();
            let what = body["errorInformation"]["errorCode"].as_str().or(body["transferState"].as_str()).unwrap_or("").to_string();
            let who = it.path.split('/').nth(1).unwrap_or("").to_string();
            (who, it.method, what)
        })
        .collect();
    seen.sort();
    seen
}

fn seen(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect()
}

async fn aborts_and_timeouts_reach_both_parties(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    // The payee's own error: the payer gets it as sent, the payee a copy from the Hub.
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let abort = error_event(&id, "5101", "Payee limit", "payeefsp", LATER);
    let aborted = fulfil(store.as_ref(), &[abort.to_json()], LATER).await.unwrap();
    let released = position(store.as_ref(), &bodies(&aborted), LATER).await.unwrap();
    let callbacks = run_notify(store.as_ref(), &sim, &notifier, bodies(&released), LATER).await;
    assert_eq!(callbacks, seen(&[("payeefsp", "PUT", "5101"), ("payerfsp", "PUT", "5101")]));
    // A wrong fulfilment: 3100 to both.
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let wrong = fulfil_event(&id, "COMMITTED", Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "payeefsp", CONTENT_TYPE, LATER);
    let invalid = fulfil(store.as_ref(), &[wrong.to_json()], LATER).await.unwrap();
    let released = position(store.as_ref(), &bodies(&invalid), LATER).await.unwrap();
    let callbacks = run_notify(store.as_ref(), &sim, &notifier, bodies(&released), LATER).await;
    assert_eq!(callbacks, seen(&[("payeefsp", "PUT", "3100"), ("payerfsp", "PUT", "3100")]));
    // Timeouts: a prepared transfer tells the payer, a reserved one both parties.
    let (_, waiting) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    let (_, reserved) = prepare_event("payerfsp", "payeefsp", "2", NOW);
    prepare(store.as_ref(), &[waiting.to_json()], NOW, RULES).await.unwrap();
    let prepared = prepare(store.as_ref(), &[reserved.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let expired = Timestamp::from_unix_ms(NOW.unix_ms() + 61_000);
    let run = scan(store.as_ref(), expired).await.unwrap();
    let notifications: Vec<String> =
        run.report.emitted.iter().filter(|it| it.route == Route::Notification).map(|it| it.envelope.to_json()).collect();
    let positions: Vec<String> =
        run.report.emitted.iter().filter(|it| it.route != Route::Notification).map(|it| it.envelope.to_json()).collect();
    let released = position(store.as_ref(), &positions, expired).await.unwrap();
    let all = [notifications, bodies(&released)].concat();
    let callbacks = run_notify(store.as_ref(), &sim, &notifier, all, expired).await;
    assert_eq!(callbacks, seen(&[("payeefsp", "PUT", "3303"), ("payerfsp", "PUT", "3303"), ("payerfsp", "PUT", "3303")]));
}

async fn duplicates_and_gets_answer_the_requester(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let modified = prepare_event_with_id(&id, "payerfsp", "payeefsp", "11", NOW);
    let report = prepare(store.as_ref(), &[modified.to_json()], NOW, RULES).await.unwrap();
    let callbacks = run_notify(store.as_ref(), &sim, &notifier, bodies(&report), NOW).await;
    assert_eq!(callbacks, seen(&[("payerfsp", "PUT", "3106")]));
    let unknown = uuid::Uuid::new_v4().to_string();
    let gets = [get_event(id.as_str(), "payeefsp", NOW).to_json(), get_event(&unknown, "payerfsp", NOW).to_json()];
    let report = get(store.as_ref(), &gets, NOW).await.unwrap();
    let callbacks = run_notify(store.as_ref(), &sim, &notifier, bodies(&report), NOW).await;
    assert_eq!(callbacks, seen(&[("payeefsp", "PUT", "RESERVED"), ("payerfsp", "PUT", "3208")]));
}
