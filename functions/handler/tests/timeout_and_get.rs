//! The timeout scan and the get function against real stores: expiry of prepared and reserved
//! transfers, a scan that dies before its cleanup, and every answer GET can give.

mod support;

use std::sync::Arc;

use handler::envelope::{Action, Status};
use handler::outbox::Route;
use handler::transfers::get::get;
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use handler::transfers::timeout::{finish, scan};
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
/// Past every test transfer's expiration (NOW + 60 s).
const EXPIRED: Timestamp = Timestamp::from_unix_ms(NOW.unix_ms() + 61_000);

on_both_stores!(
    a_prepared_transfer_expires_and_the_payer_hears_3303,
    a_reserved_transfer_expires_through_the_position_step,
    a_scan_that_dies_before_cleanup_is_repeated_safely,
    nothing_expires_early_and_finished_transfers_are_cleaned_up,
    get_answers_parties_and_refuses_others,
);

async fn a_prepared_transfer_expires_and_the_payer_hears_3303(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let run = scan(store.as_ref(), EXPIRED).await.unwrap();
    let callback = only_notification(&run.report);
    assert_eq!(
        (callback.metadata.event.action, callback.from.as_str(), callback.to.as_str()),
        (Action::TimeoutReceived, "Hub", "payerfsp")
    );
    assert_eq!(json(callback)["errorInformation"]["errorCode"], "3303");
    let record = store.transfer(&id).await.unwrap().unwrap();
    assert_eq!((record.current.state, record.error.map(|it| it.0)), (TransferState::ExpiredPrepared, Some(3303)));
    finish(store.as_ref(), &run).await.unwrap();
    assert_eq!(scan(store.as_ref(), EXPIRED).await.unwrap().n_due, 0, "a final transfer leaves the work-list");
}

async fn a_reserved_transfer_expires_through_the_position_step(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "30").await;
    let run = scan(store.as_ref(), EXPIRED).await.unwrap();
    assert_eq!(run.report.emitted.len(), 1);
    assert_eq!(run.report.emitted[0].route, Route::Position { account: scheme.payer.id });
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::ReservedTimeout);
    let notified = position(store.as_ref(), &bodies(&run.report), EXPIRED).await.unwrap();
    let callback = only_notification(&notified);
    assert_eq!((callback.metadata.event.action, callback.metadata.event.state.code), (Action::TimeoutReserved, 3303));
    assert_eq!(json(callback)["errorInformation"]["errorCode"], "3303");
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::ExpiredReserved);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO);
}

async fn a_scan_that_dies_before_cleanup_is_repeated_safely(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "30").await;
    let first = scan(store.as_ref(), EXPIRED).await.unwrap();
    // No publish and no cleanup: the process died. The next tick must carry it on.
    let second = scan(store.as_ref(), EXPIRED.plus_ms(15_000)).await.unwrap();
    assert_eq!(event_ids(&second.report), event_ids(&first.report));
    assert_eq!(store.state_history(&id).await.unwrap().len(), 3, "RESERVED_TIMEOUT recorded once");
    finish(store.as_ref(), &second).await.unwrap();
    assert_eq!(scan(store.as_ref(), EXPIRED.plus_ms(30_000)).await.unwrap().n_due, 0, "moved on to its recheck");
}

async fn nothing_expires_early_and_finished_transfers_are_cleaned_up(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "30").await;
    let early = scan(store.as_ref(), NOW.plus_ms(60_000)).await.unwrap();
    assert!(early.report.emitted.is_empty() && early.finished.is_empty());
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, NOW.plus_ms(1));
    let fulfilled =
        handler::transfers::fulfil::fulfil(store.as_ref(), &[answer.to_json()], NOW.plus_ms(1)).await.unwrap();
    position(store.as_ref(), &bodies(&fulfilled), NOW.plus_ms(1)).await.unwrap();
    let run = scan(store.as_ref(), EXPIRED).await.unwrap();
    assert_eq!(run.n_due, 0, "a committed transfer left the work-list with its commit");
    assert!(run.report.emitted.is_empty(), "a committed transfer does not time out");
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Committed);
}

async fn get_answers_parties_and_refuses_others(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    store.create_participant(&fsp("thirdfsp"), NOW).await.unwrap();
    let id = reserve(store.as_ref(), "30").await;
    let unknown = TransferId::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    let batch = [
        get_event(id.as_str(), "payeefsp", NOW).to_json(),
        get_event(unknown.as_str(), "payerfsp", NOW).to_json(),
        get_event(id.as_str(), "thirdfsp", NOW).to_json(),
        get_event(id.as_str(), "strangerfsp", NOW).to_json(),
    ];
    let report = get(store.as_ref(), &batch, NOW).await.unwrap();
    assert_eq!(report.emitted.len(), 3, "the unknown requester gets nothing: {report:?}");
    let state = &report.emitted[0].envelope;
    assert_eq!(
        (state.from.as_str(), state.to.as_str(), state.metadata.event.state.status),
        ("Hub", "payeefsp", Status::Success)
    );
    assert_eq!(json(state)["transferState"], "RESERVED");
    // Worded as central-ledger words them (TTK's get_transfers.json checks the 3208 text).
    let not_found = json(&report.emitted[1].envelope)["errorInformation"].clone();
    assert_eq!(not_found["errorCode"], "3208");
    assert_eq!(
        not_found["errorDescription"],
        "Transfer ID not found - Provided Transfer ID was not found on the server."
    );
    let not_a_party = json(&report.emitted[2].envelope)["errorInformation"].clone();
    assert_eq!(
        (not_a_party["errorCode"].as_str(), not_a_party["errorDescription"].as_str()),
        (Some("3000"), Some("Generic client error"))
    );
    // An aborted transfer carries its error as the `cause` extension.
    let (invalid, event) = prepare_event("payerfsp", "nobodyfsp", "1", NOW);
    prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let report = get(store.as_ref(), &[get_event(invalid.as_str(), "payerfsp", NOW).to_json()], NOW).await.unwrap();
    let body = json(only_notification(&report));
    assert_eq!(body["transferState"], "ABORTED");
    assert_eq!(body["extensionList"]["extension"][0]["key"], "cause");
    assert_eq!(
        body["extensionList"]["extension"][0]["value"],
        "3100: Generic validation error - Participant nobodyfsp not found"
    );
}

async fn reserve(store: &dyn LedgerStore, amount: &str) -> TransferId {
    let (id, event) = prepare_event("payerfsp", "payeefsp", amount, NOW);
    let prepared = prepare(store, &[event.to_json()], NOW, RULES).await.unwrap();
    position(store, &bodies(&prepared), NOW).await.unwrap();
    id
}
