//! The notification function over real HTTP: DFSP simulators on 127.0.0.1 record every callback,
//! the pipeline runs on a real store, and the callbacks are checked against Mojaloop's matrix and
//! header rules, plus retries, redelivery and dead letters.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use handler::app::router;
use handler::outbox::Route;
use handler::state::App;
use handler::transfers::fulfil::fulfil;
use handler::transfers::get::get;
use handler::transfers::notification::{notify, NotificationConfig, Notifier};
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use handler::transfers::timeout::scan;
use journal::Journal;
use jws::keys::PublicKey;
use jws::validate::{InboundRequest, Validator};
use ledger_core::account::{LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use plumbing::publish::LocalHubsPublisher;
use serde_json::Value;
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
    with_jws_sign_hub_callbacks_carry_a_signature_the_hubs_key_verifies,
    hub_callbacks_carry_the_schemes_version_and_answers_to_a_put_carry_the_puts,
);

on_both_stores_with_journal!(the_journal_holds_a_transfers_requests_and_callbacks_once);

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

async fn record(
    State(sim): State<Simulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    sim.received.lock().unwrap().push(Received {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers,
        body: body.to_vec(),
    });
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

/// A notifier with the handler's default callback version (1.0).
fn notifier() -> Notifier {
    notifier_at(handler::process::CALLBACK_CONTENT_VERSION_DEFAULT)
}

fn notifier_at(hub_content_version: fspiop::ApiVersion) -> Notifier {
    let config =
        NotificationConfig { confirm_to_payee: true, hub_content_version, backoff_initial: Duration::from_millis(5) };
    Notifier::new(config).unwrap()
}

const V1_0: &str = "application/vnd.interoperability.transfers+json;version=1.0";
const V2_0: &str = "application/vnd.interoperability.transfers+json;version=2.0";

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
    assert!(
        received[0].path.starts_with("/payerfsp"),
        "the payer before the payee's confirmation, as ml-api-adapter sends them"
    );
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
    assert_eq!(
        (received[0].method.as_str(), received[0].path.clone()),
        ("PUT", format!("/payerfsp/transfers/{id}/error"))
    );
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
    assert_eq!(
        (put_body["transferState"].as_str(), put_body["fulfilment"].as_str()),
        (Some("COMMITTED"), Some(TTK_FULFILMENT))
    );
    let patch_body: serde_json::Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(patch_body["transferState"], "COMMITTED");
    assert!(patch_body.get("fulfilment").is_none());
    assert_eq!(header(patch, "fspiop-http-method"), "PATCH");
    // The Hub is at 1.0 here; both answer the payee's RESERVED in its 1.1 (TTK's
    // patch_notification.json), and the payer hears first.
    assert_eq!((header(put, "content-type"), header(patch, "content-type")), (CONTENT_TYPE, CONTENT_TYPE));
    assert_eq!((header(put, "fspiop-source"), header(patch, "fspiop-source")), ("Hub", "Hub"));
    assert!(received[0].path.starts_with("/payerfsp"), "{received:?}");
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
    assert_eq!(take(&sim).len(), handler::transfers::notification::CALLBACK_ATTEMPTS_MAX as usize);
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
async fn run_notify(
    store: &dyn LedgerStore,
    sim: &Simulator,
    notifier: &Notifier,
    bodies: Vec<String>,
    at: Timestamp,
) -> Vec<(String, String, String)> {
    notify(store, notifier, &bodies, at).await.unwrap();
    let mut seen: Vec<(String, String, String)> = take(sim)
        .into_iter()
        .map(|it| {
            let body: serde_json::Value = serde_json::from_slice(&it.body).unwrap_or_default();
            let what = body["errorInformation"]["errorCode"]
                .as_str()
                .or(body["transferState"].as_str())
                .unwrap_or("")
                .to_string();
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
    let wrong = fulfil_event(
        &id,
        "COMMITTED",
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "payeefsp",
        CONTENT_TYPE,
        LATER,
    );
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
    let notifications: Vec<String> = run
        .report
        .emitted
        .iter()
        .filter(|it| it.route == Route::Notification)
        .map(|it| it.envelope.to_json())
        .collect();
    let positions: Vec<String> = run
        .report
        .emitted
        .iter()
        .filter(|it| it.route != Route::Notification)
        .map(|it| it.envelope.to_json())
        .collect();
    let released = position(store.as_ref(), &positions, expired).await.unwrap();
    let all = [notifications, bodies(&released)].concat();
    let callbacks = run_notify(store.as_ref(), &sim, &notifier, all, expired).await;
    assert_eq!(
        callbacks,
        seen(&[("payeefsp", "PUT", "3303"), ("payerfsp", "PUT", "3303"), ("payerfsp", "PUT", "3303")])
    );
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

async fn with_jws_sign_hub_callbacks_carry_a_signature_the_hubs_key_verifies(store: Arc<dyn LedgerStore>) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let notifier = notifier.with_signing(jws_keys(&[("JWS_HUB_PRIVATE_KEY", jws_fixture("hub-private.pem"))]));
    let validator =
        Validator::new([("Hub".to_string(), PublicKey::from_pem(&jws_fixture("hub-public.pem")).unwrap())].into());
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    notify(store.as_ref(), &notifier, &bodies(&reserved), NOW).await.unwrap();
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    let committed = position(store.as_ref(), &bodies(&fulfilled), LATER).await.unwrap();
    notify(store.as_ref(), &notifier, &bodies(&committed), LATER).await.unwrap();
    let received = take(&sim);
    assert_eq!(received.len(), 3, "{received:?}");
    for callback in &received {
        let from_hub = header(callback, "fspiop-source") == "Hub";
        let opt = |name: &str| Some(header(callback, name)).filter(|it| !it.is_empty());
        let inbound = InboundRequest {
            source: opt("fspiop-source"),
            destination: opt("fspiop-destination"),
            uri: opt("fspiop-uri"),
            http_method: opt("fspiop-http-method"),
            date: opt("date"),
            signature: opt("fspiop-signature"),
            body: &callback.body,
        };
        match from_hub {
            // The payee's confirmation: made by the Hub, signed with its key.
            true => {
                assert_eq!(validator.validate(&inbound), Ok(()), "{callback:?}");
                assert_eq!(header(callback, "fspiop-uri"), format!("/transfers/{id}"));
            }
            // Forwarded messages keep their sender's (here: no) signature.
            false => assert_eq!(header(callback, "fspiop-signature"), "", "{callback:?}"),
        }
    }
    assert_eq!(received.iter().filter(|it| header(it, "fspiop-source") == "Hub").count(), 1);
    // A tampered copy of the Hub's callback is refused by the same validator.
    let signed = received.iter().find(|it| header(it, "fspiop-source") == "Hub").unwrap();
    let mut body = signed.body.clone();
    body.push(b' ');
    body.insert(0, b'[');
    let inbound = InboundRequest {
        source: Some("Hub"),
        destination: Some(header(signed, "fspiop-destination")),
        uri: Some(header(signed, "fspiop-uri")),
        http_method: Some(header(signed, "fspiop-http-method")),
        date: Some(header(signed, "date")),
        signature: Some(header(signed, "fspiop-signature")),
        body: &body,
    };
    assert!(validator.validate(&inbound).is_err());
}

/// Each callback of one notify run as (recipient, method, error code or state, Content-Type).
async fn run_notify_versions(
    store: &dyn LedgerStore,
    sim: &Simulator,
    notifier: &Notifier,
    bodies: Vec<String>,
    at: Timestamp,
) -> Vec<(String, String, String, String)> {
    notify(store, notifier, &bodies, at).await.unwrap();
    let mut seen: Vec<(String, String, String, String)> = take(sim)
        .into_iter()
        .map(|it| {
            let body: serde_json::Value = serde_json::from_slice(&it.body).unwrap_or_default();
            let what = body["errorInformation"]["errorCode"]
                .as_str()
                .or(body["transferState"].as_str())
                .unwrap_or("")
                .to_string();
            let who = it.path.split('/').nth(1).unwrap_or("").to_string();
            let version = header(&it, "content-type").rsplit('=').next().unwrap_or("").to_string();
            (who, it.method, what, version)
        })
        .collect();
    seen.sort();
    seen
}

fn seen_versions(rows: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    rows.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect()
}

/// The Hub at 2.0 and DFSPs at 1.1 (or 1.0), so each callback's version says which rule chose it.
async fn hub_callbacks_carry_the_schemes_version_and_answers_to_a_put_carry_the_puts(store: Arc<dyn LedgerStore>) {
    let (sim, _) = setup(store.as_ref(), "1000").await;
    let notifier = notifier_at(fspiop::ApiVersion::V2_0);
    // A refused prepare and a GET: the configured version.
    let (refused, event) = prepare_event("payerfsp", "nobodyfsp", "1", NOW);
    let report = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, bodies(&report), NOW).await;
    assert_eq!(callbacks, seen_versions(&[("payerfsp", "PUT", "3100", "2.0")]));
    let report = get(store.as_ref(), &[get_event(refused.as_str(), "payerfsp", NOW).to_json()], NOW).await.unwrap();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, bodies(&report), NOW).await;
    assert_eq!(callbacks, seen_versions(&[("payerfsp", "PUT", "ABORTED", "2.0")]));
    // A commit: the payee's PUT forwarded as sent (1.0 here), the confirmation from the Hub.
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", V1_0, LATER);
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    let committed = position(store.as_ref(), &bodies(&fulfilled), LATER).await.unwrap();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, bodies(&committed), LATER).await;
    assert_eq!(
        callbacks,
        seen_versions(&[("payeefsp", "PUT", "COMMITTED", "2.0"), ("payerfsp", "PUT", "COMMITTED", "1.0")])
    );
    // The payee's PUT again, and a modified one: answered in the PUT's version (TTK's
    // fulfill_commit.json), not the Hub's.
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, bodies(&report), LATER).await;
    assert_eq!(callbacks, seen_versions(&[("payeefsp", "PUT", "COMMITTED", "1.0")]));
    let modified = fulfil_event(
        &id,
        "COMMITTED",
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "payeefsp",
        CONTENT_TYPE,
        LATER,
    );
    let report = fulfil(store.as_ref(), &[modified.to_json()], LATER).await.unwrap();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, bodies(&report), LATER).await;
    assert_eq!(callbacks, seen_versions(&[("payeefsp", "PUT", "3106", "1.1")]));
    // A wrong fulfilment aborts: both parties' 3100 in the configured version (TTK's #2697).
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let wrong = fulfil_event(
        &id,
        "RESERVED",
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "payeefsp",
        CONTENT_TYPE,
        LATER,
    );
    let invalid = fulfil(store.as_ref(), &[wrong.to_json()], LATER).await.unwrap();
    let (patch, to_position): (Vec<_>, Vec<_>) = invalid.emitted.iter().partition(|it| it.route == Route::Notification);
    let released =
        position(store.as_ref(), &to_position.iter().map(|it| it.envelope.to_json()).collect::<Vec<_>>(), LATER)
            .await
            .unwrap();
    let all = [patch.iter().map(|it| it.envelope.to_json()).collect(), bodies(&released)].concat();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, all, LATER).await;
    let expected = [
        ("payeefsp", "PATCH", "ABORTED", "1.1"),
        ("payeefsp", "PUT", "3100", "2.0"),
        ("payerfsp", "PUT", "3100", "2.0"),
    ];
    assert_eq!(callbacks, seen_versions(&expected));
    // A 2.0 payee gets its PATCH in 2.0.
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let reserved = fulfil_event(&id, "RESERVED", Some(TTK_FULFILMENT), "payeefsp", V2_0, LATER);
    let fulfilled = fulfil(store.as_ref(), &[reserved.to_json()], LATER).await.unwrap();
    let committed = position(store.as_ref(), &bodies(&fulfilled), LATER).await.unwrap();
    let callbacks = run_notify_versions(store.as_ref(), &sim, &notifier, bodies(&committed), LATER).await;
    assert_eq!(
        callbacks,
        seen_versions(&[("payeefsp", "PATCH", "COMMITTED", "2.0"), ("payerfsp", "PUT", "COMMITTED", "2.0")])
    );
}

fn later() -> Timestamp {
    LATER
}

/// The bodies of the events published to `hub` so far, taken.
fn published(hubs: &Hubs, hub: &str) -> Vec<String> {
    taken_events(hubs, hub).into_iter().map(|(_, body)| body).collect()
}

/// Invokes a batch function through the handler's route, as the Functions host does.
async fn invoke(client: &reqwest::Client, switch: &str, function: &str, bodies: &[String]) {
    let keys = vec![None; bodies.len()];
    let response = client.post(format!("{switch}/{function}")).json(&invocation(bodies, &keys)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{function}");
}

/// The handler's router over HTTP with the journal, publishing to an ingestion endpoint that
/// records what it is sent.
async fn start_switch(store: Arc<dyn LedgerStore>, notifier: Notifier, journal: Arc<dyn Journal>) -> (String, Hubs) {
    let serve = |app: axum::Router| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    };
    let (recorded, hubs) = recording_hubs().await;
    let app = App {
        store,
        publisher: Arc::new(LocalHubsPublisher::new(hubs.parse().unwrap()).unwrap()),
        notifier,
        rules: RULES,
        now: later,
        journal: Some(journal),
        signature_keys: None,
    };
    (serve(router(app)).await, recorded)
}

/// Sends an event's request to the switch as the DFSP did: its headers, its body.
async fn send(
    client: &reqwest::Client,
    switch: &str,
    method: &str,
    path: &str,
    event: &handler::envelope::Envelope,
) -> u16 {
    let mut request =
        client.request(method.parse().unwrap(), format!("{switch}{path}")).body(event.payload_bytes().unwrap());
    for (name, value) in &event.content.headers {
        request = request.header(name, value);
    }
    // reqwest would otherwise send `Accept: */*`, which the edge refuses.
    if !event.content.headers.contains_key("accept") {
        request = request.header("accept", "application/vnd.interoperability.transfers+json;version=1");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status >= 400 {
        eprintln!("{method} {path}: {status} {}", response.text().await.unwrap());
    }
    status
}

async fn the_journal_holds_a_transfers_requests_and_callbacks_once(
    store: Arc<dyn LedgerStore>,
    journal: Arc<dyn Journal>,
) {
    let (sim, notifier) = setup(store.as_ref(), "1000").await;
    let notifier = notifier.with_journal(journal.clone());
    let (switch, hubs) = start_switch(store.clone(), notifier.clone(), journal).await;
    let client = reqwest::Client::new();
    let (id, event) = prepare_event("payerfsp", "payeefsp", "10", NOW);
    // The DFSP sends its POST twice (a retry); the prepare function journals what the edge
    // accepted, and a redelivered batch journals nothing new: one entry.
    for _ in 0..2 {
        assert_eq!(send(&client, &switch, "POST", "/transfers", &event).await, 202);
    }
    let prepares = published(&hubs, "transfer-prepare");
    assert_eq!(prepares.len(), 2);
    invoke(&client, &switch, "prepare", &prepares).await;
    invoke(&client, &switch, "prepare", &prepares).await;
    let reserves = published(&hubs, "transfer-position");
    let reserved = position(store.as_ref(), &reserves[..1], NOW).await.unwrap();
    notify(store.as_ref(), &notifier, &bodies(&reserved), NOW).await.unwrap();
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    assert_eq!(send(&client, &switch, "PUT", &format!("/transfers/{id}"), &answer).await, 200);
    invoke(&client, &switch, "fulfil", &published(&hubs, "transfer-fulfil")).await;
    let commits = published(&hubs, "transfer-position");
    assert_eq!(commits.len(), 1);
    let committed = position(store.as_ref(), &commits, LATER).await.unwrap();
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&committed), LATER).await.unwrap(), 2);
    // The notification batch redelivered: nothing is sent or journaled twice.
    assert_eq!(notify(store.as_ref(), &notifier, &bodies(&committed), LATER).await.unwrap(), 0);
    assert_eq!(take(&sim).len(), 3);

    let answered = client.get(format!("{switch}/journal/{id}")).send().await.unwrap();
    assert_eq!(answered.status().as_u16(), 200);
    let read: Value = answered.json().await.unwrap();
    assert_eq!((read["transferId"].as_str(), read["more"].as_bool()), (Some(id.as_str()), Some(false)));
    let entries = read["entries"].as_array().unwrap();
    let summary: Vec<(&str, &str, String, u64)> = entries
        .iter()
        .map(|it| {
            let url = it["url"].as_str().unwrap();
            // Callback URLs carry the simulator's port; keep their path.
            let path = url.find("/payerfsp").or_else(|| url.find("/payeefsp")).map_or(url, |at| &url[at..]);
            (
                it["direction"].as_str().unwrap(),
                it["method"].as_str().unwrap(),
                path.to_string(),
                it["httpStatus"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = summary.clone();
    sorted.sort();
    let expected = [
        ("inbound_request", "POST", "/transfers".to_string(), 202),
        ("inbound_request", "PUT", format!("/transfers/{id}"), 200),
        ("outbound_callback", "POST", "/payeefsp/transfers".to_string(), 200),
        ("outbound_callback", "PUT", format!("/payeefsp/transfers/{id}"), 200),
        ("outbound_callback", "PUT", format!("/payerfsp/transfers/{id}"), 200),
    ];
    assert_eq!(sorted, expected, "{read:#}");
    let post = entries.iter().find(|it| it["direction"] == "inbound_request" && it["method"] == "POST").unwrap();
    assert_eq!(
        post["body"].as_str().unwrap().as_bytes(),
        event.payload_bytes().unwrap().as_slice(),
        "the body verbatim"
    );
    assert_eq!(post["source"], "payerfsp");
    assert_eq!(post["destination"], "payeefsp");
    let journaled_headers: Vec<&str> =
        post["headers"].as_array().unwrap().iter().map(|it| it["name"].as_str().unwrap()).collect();
    assert!(
        journaled_headers.contains(&"fspiop-source") && journaled_headers.contains(&"date"),
        "{journaled_headers:?}"
    );
    let confirmation =
        entries.iter().find(|it| it["url"].as_str().unwrap().contains(&format!("/payeefsp/transfers/{id}"))).unwrap();
    assert_eq!(
        (confirmation["source"].as_str(), confirmation["destination"].as_str()),
        (Some("Hub"), Some("payeefsp"))
    );

    // An id a key cannot hold is bad input (400), never a 500; an unknown transfer has no entries.
    let bad = client.get(format!("{switch}/journal/not%20an%20id")).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let unknown: Value =
        client.get(format!("{switch}/journal/{}", uuid::Uuid::new_v4())).send().await.unwrap().json().await.unwrap();
    assert_eq!(unknown["entries"].as_array().map(Vec::len), Some(0));
}
