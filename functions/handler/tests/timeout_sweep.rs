//! The timeout function past the plain expiries, against real stores: a fulfilled transfer whose
//! commit is in flight at its expiration is waited for, not expired; one whose commit was lost
//! is committed by re-driving it; a lost `timeout-reserved`, abort or abort-validation is
//! re-driven with the event id the pipeline gave it (so a late original changes nothing), and
//! counted; a backlog larger than a batch is worked off by one invocation, batch by batch.

mod support;

use std::sync::Arc;
use std::time::Duration;

use handler::app::router;
use handler::envelope::{Action, Envelope};
use handler::outbox::{Report, Route};
use handler::transfers::fulfil::fulfil;
use handler::transfers::notification::{callbacks, NotificationConfig, Parties};
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use handler::transfers::timeout::{finish, scan, Scan, TIMEOUT_SCAN_BATCH_MAX};
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::timeout::REDRIVE_GRACE_MS;
use ledger_store::LedgerStore;
use plumbing::publish::local::IngestRequest;
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
/// Every test transfer expires at NOW + 60 s.
const EXPIRATION: Timestamp = Timestamp::from_unix_ms(NOW.unix_ms() + 60_000);
/// The first timer tick after the expiration.
const EXPIRED: Timestamp = Timestamp::from_unix_ms(EXPIRATION.unix_ms() + 1_000);

on_both_stores!(
    a_commit_in_flight_at_expiry_is_waited_for,
    a_lost_commit_is_re_driven_and_the_transfer_commits,
    a_lost_timeout_reserved_is_re_driven_after_its_grace,
    lost_aborts_are_re_driven_with_the_stored_error,
    one_invocation_works_off_a_backlog_in_batches,
);

/// Scans at `now` and, as the timeout invocation does once it has published, cleans up.
async fn scan_and_finish(store: &dyn LedgerStore, now: Timestamp) -> Scan {
    let run = scan(store, now).await.unwrap();
    finish(store, &run).await.unwrap();
    run
}

async fn reserve(store: &dyn LedgerStore) -> TransferId {
    let (id, event) = prepare_event("payerfsp", "payeefsp", "30", NOW);
    let prepared = prepare(store, &[event.to_json()], NOW, RULES).await.unwrap();
    position(store, &bodies(&prepared), NOW).await.unwrap();
    id
}

fn only_position(report: &Report) -> &Envelope {
    assert_eq!(report.emitted.len(), 1, "{report:?}");
    assert!(matches!(report.emitted[0].route, Route::Position { .. }), "{report:?}");
    &report.emitted[0].envelope
}

/// Who gets a callback for a notification event, with what (status code or state).
async fn told(store: &dyn LedgerStore, event: &Envelope) -> Vec<(String, String)> {
    let config = NotificationConfig {
        confirm_to_payee: true,
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: Duration::ZERO,
    };
    let record = store.transfer(&TransferId::parse(&event.id).unwrap()).await.unwrap().unwrap();
    let parties: Parties = [(record.transfer_id.clone(), (record.payer, record.payee))].into();
    let mut told: Vec<(String, String)> = callbacks(&parties, &config, event)
        .into_iter()
        .map(|it| {
            let body: serde_json::Value = serde_json::from_slice(&it.body).unwrap();
            let what =
                body["errorInformation"]["errorCode"].as_str().or(body["transferState"].as_str()).unwrap().to_string();
            (it.recipient.to_string(), what)
        })
        .collect();
    told.sort();
    told
}

fn pair(fsp: &str, what: &str) -> (String, String) {
    (fsp.to_string(), what.to_string())
}

async fn a_commit_in_flight_at_expiry_is_waited_for(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref()).await;
    let answered = EXPIRATION.plus_ms(-1_000);
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, answered);
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], answered).await.unwrap();
    // The tick after expiry finds it RECEIVED_FULFIL: the payee answered in time, so it commits.
    let run = scan_and_finish(store.as_ref(), EXPIRED).await;
    assert_eq!(run.n_due, 1);
    assert!(run.report.emitted.is_empty() && run.stranded.is_empty(), "{run:?}");
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::ReceivedFulfil);
    assert_eq!(
        scan(store.as_ref(), EXPIRED.plus_ms(1_000)).await.unwrap().n_due,
        0,
        "not looked at again before its grace"
    );
    // The commit arrives; the transfer leaves the work-list with it.
    let committed = position(store.as_ref(), &bodies(&fulfilled), EXPIRED.plus_ms(2_000)).await.unwrap();
    assert_eq!(
        told(store.as_ref(), only_notification(&committed)).await,
        [pair("payeefsp", "COMMITTED"), pair("payerfsp", "COMMITTED")]
    );
    assert_eq!(store.balance(scheme.payee.id).await.unwrap().0, -Amount::from_whole(30));
    assert_eq!(
        scan(store.as_ref(), EXPIRED.plus_ms(86_400_000)).await.unwrap().n_due,
        0,
        "nothing left on the work-list"
    );
}

async fn a_lost_commit_is_re_driven_and_the_transfer_commits(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref()).await;
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, NOW.plus_ms(1));
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], NOW.plus_ms(1)).await.unwrap();
    let lost = only_position(&fulfilled).clone();
    // The commit never reaches the position function. At expiry the transfer has waited a
    // minute for it: stranded, so the commit is sent again, with the id it had.
    let counted = plumbing::telemetry::stranded_transfers();
    let run = scan(store.as_ref(), EXPIRED).await.unwrap();
    handler::transfers::timeout::record_stranded(&run);
    assert!(plumbing::telemetry::stranded_transfers() > counted, "counted in the metric");
    assert_eq!(
        run.stranded,
        [(id.clone(), TransferState::ReceivedFulfil, Some(ledger_core::timeout::FollowUp::Commit))]
    );
    let again = only_position(&run.report);
    assert_eq!(run.report.emitted[0].route, Route::Position { account: scheme.payee.id });
    assert_eq!(
        (again.metadata.event.id.as_str(), again.metadata.event.action),
        (lost.metadata.event.id.as_str(), Action::Commit)
    );
    finish(store.as_ref(), &run).await.unwrap();
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::ReceivedFulfil, "not expired");
    let committed = position(store.as_ref(), &bodies(&run.report), EXPIRED).await.unwrap();
    let notification = only_notification(&committed).clone();
    assert_eq!(
        told(store.as_ref(), &notification).await,
        [pair("payeefsp", "COMMITTED"), pair("payerfsp", "COMMITTED")]
    );
    assert_eq!(json(&notification)["fulfilment"], TTK_FULFILMENT);
    assert_eq!(
        (store.balance(scheme.payer.id).await.unwrap().0, store.balance(scheme.payee.id).await.unwrap().0),
        (Amount::from_whole(30), -Amount::from_whole(30))
    );
    // The original arrives after all: nothing moves twice, and its notification is the same event.
    let late = position(store.as_ref(), &[lost.to_json()], EXPIRED).await.unwrap();
    assert_eq!(event_ids(&late), std::slice::from_ref(&notification.metadata.event.id));
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::from_whole(30));
    assert_eq!(
        scan(store.as_ref(), EXPIRED.plus_ms(86_400_000)).await.unwrap().n_due,
        0,
        "the commit removed the entry"
    );
}

async fn a_lost_timeout_reserved_is_re_driven_after_its_grace(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref()).await;
    let first = scan_and_finish(store.as_ref(), EXPIRED).await;
    let lost = only_position(&first.report).clone();
    assert_eq!(lost.metadata.event.action, Action::TimeoutReserved);
    // Lost on its way to the position function: nothing happens within the grace ...
    let within = scan_and_finish(store.as_ref(), EXPIRED.plus_ms(REDRIVE_GRACE_MS - 1_000)).await;
    assert_eq!(within.n_due, 0);
    // ... and after it the same event goes again, counted as stranded.
    let after = scan_and_finish(store.as_ref(), EXPIRED.plus_ms(REDRIVE_GRACE_MS + 1_000)).await;
    assert_eq!(after.stranded.len(), 1);
    assert_eq!(event_ids(&after.report), std::slice::from_ref(&lost.metadata.event.id));
    assert_eq!(store.state_history(&id).await.unwrap().len(), 3, "RESERVED_TIMEOUT recorded once");
    let released =
        position(store.as_ref(), &bodies(&after.report), EXPIRED.plus_ms(REDRIVE_GRACE_MS + 2_000)).await.unwrap();
    assert_eq!(
        told(store.as_ref(), only_notification(&released)).await,
        [pair("payeefsp", "3303"), pair("payerfsp", "3303")]
    );
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO);
    assert_eq!(
        scan(store.as_ref(), EXPIRED.plus_ms(86_400_000)).await.unwrap().n_due,
        0,
        "released: off the work-list"
    );
}

async fn lost_aborts_are_re_driven_with_the_stored_error(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    // The payee's own error, and a fulfilment the Hub refuses.
    let payee_error = reserve(store.as_ref()).await;
    let refused = reserve(store.as_ref()).await;
    let answers = [
        error_event(&payee_error, "5101", "Payee transaction limit reached", "payeefsp", NOW.plus_ms(1)).to_json(),
        fulfil_event(
            &refused,
            "COMMITTED",
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "payeefsp",
            CONTENT_TYPE,
            NOW.plus_ms(1),
        )
        .to_json(),
    ];
    let answered = fulfil(store.as_ref(), &answers, NOW.plus_ms(1)).await.unwrap();
    let mut lost = event_ids(&answered);
    let run = scan_and_finish(store.as_ref(), EXPIRED).await;
    assert_eq!(run.stranded.len(), 2);
    let mut again = event_ids(&run.report);
    lost.sort();
    again.sort();
    assert_eq!(again, lost, "the events the fulfil function emitted, with their ids");
    assert!(run.report.emitted.iter().all(|it| it.route == Route::Position { account: scheme.payer.id }));
    let released = position(store.as_ref(), &bodies(&run.report), EXPIRED).await.unwrap();
    assert_eq!(released.emitted.len(), 2);
    for emitted in &released.emitted {
        let expected = match TransferId::parse(&emitted.envelope.id).unwrap() == payee_error {
            true => [pair("payeefsp", "5101"), pair("payerfsp", "5101")],
            false => [pair("payeefsp", "3100"), pair("payerfsp", "3100")],
        };
        assert_eq!(told(store.as_ref(), &emitted.envelope).await, expected);
    }
    for id in [&payee_error, &refused] {
        assert_eq!(store.transfer(id).await.unwrap().unwrap().current.state, TransferState::AbortedError);
    }
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO);
    assert_eq!(scan(store.as_ref(), EXPIRED.plus_ms(86_400_000)).await.unwrap().n_due, 0);
}

fn expired_clock() -> Timestamp {
    EXPIRED
}

async fn one_invocation_works_off_a_backlog_in_batches(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    // More prepared transfers than two batches hold, one of them committed before expiry.
    let n_transfers = 2 * TIMEOUT_SCAN_BATCH_MAX + 7;
    let events: Vec<String> =
        (0..n_transfers).map(|_| prepare_event("payerfsp", "payeefsp", "0.01", NOW).1.to_json()).collect();
    let mut prepared = Vec::new();
    for chunk in events.chunks(TIMEOUT_SCAN_BATCH_MAX) {
        prepared.extend(bodies(&prepare(store.as_ref(), chunk, NOW, RULES).await.unwrap()));
    }
    let reserved = position(store.as_ref(), &prepared[..1], NOW).await.unwrap();
    let committed_id = TransferId::parse(&reserved.emitted[0].envelope.id).unwrap();
    let answer =
        fulfil_event(&committed_id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, NOW.plus_ms(1));
    let fulfilled = fulfil(store.as_ref(), &[answer.to_json()], NOW.plus_ms(1)).await.unwrap();
    position(store.as_ref(), &bodies(&fulfilled), NOW.plus_ms(1)).await.unwrap();
    // One timer invocation through the handler's router.
    let (hubs, hubs_url) = recording_hubs().await;
    let app = app_publishing_to(store.clone(), &hubs_url, expired_clock);
    let handler = serve_router(router(app)).await;
    let timer = serde_json::json!({ "Data": { "timer": { "IsPastDue": false } }, "Metadata": {} });
    let answer = reqwest::Client::new().post(format!("{handler}/timeout")).json(&timer).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let published: Vec<(String, IngestRequest)> = hubs.lock().unwrap().drain(..).collect();
    let told: Vec<Envelope> = published
        .iter()
        .flat_map(|(_, request)| request.events.iter().map(|event| Envelope::from_json(&event.body).unwrap()))
        .collect();
    assert_eq!(told.len(), n_transfers - 1, "every expired transfer, in one invocation");
    assert!(told.iter().all(|it| it.metadata.event.action == Action::TimeoutReceived && it.to == "payerfsp"));
    let n_publishes = published.iter().filter(|(_, request)| !request.events.is_empty()).count();
    assert!(n_publishes >= 3, "published batch by batch, not all at once: {n_publishes} publishes");
    assert!(told.iter().all(|it| TransferId::parse(&it.id).unwrap() != committed_id));
    assert_eq!(
        scan(store.as_ref(), EXPIRED.plus_ms(86_400_000)).await.unwrap().n_due,
        0,
        "nothing left on the work-list"
    );
    let expired = store.transfer(&TransferId::parse(&told[0].id).unwrap()).await.unwrap().unwrap();
    assert_eq!(expired.current.state, TransferState::ExpiredPrepared);
}
