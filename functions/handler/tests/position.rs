//! The position function against real stores: reservation after a prepare, refusals for
//! liquidity and the cap, commits, redelivered batches, and events it cannot process.

mod support;

use std::sync::Arc;

use handler::envelope::{Action, EventKind, EventState, Status};
use handler::outbox::{Report, Route};
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_store::{LedgerStore, NewStateChange};
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };

on_both_stores!(
    a_reservation_forwards_the_payers_request_to_the_payee,
    short_liquidity_is_refused_with_4001_and_nothing_moves,
    a_redelivered_batch_changes_nothing_and_says_the_same_again,
    a_commit_lowers_the_payee_and_reports_the_commit,
    events_it_cannot_process_are_dead_letters,
);

async fn a_reservation_forwards_the_payers_request_to_the_payee(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "100.5", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let report = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let callback = only_notification(&report);
    assert_eq!(callback.metadata.event.action, Action::Prepare);
    assert_eq!(callback.metadata.event.state.status, Status::Success);
    assert_eq!((callback.from.as_str(), callback.to.as_str()), ("payerfsp", "payeefsp"));
    assert_eq!(callback.payload_bytes().unwrap(), event.payload_bytes().unwrap(), "the payer's body, verbatim");
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Reserved);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::parse_fspiop("100.5").unwrap());
}

async fn short_liquidity_is_refused_with_4001_and_nothing_moves(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "50").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "60", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let report = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let callback = only_notification(&report);
    assert_eq!((callback.from.as_str(), callback.to.as_str()), ("Hub", "payerfsp"));
    assert_eq!(json(callback)["errorInformation"]["errorCode"], "4001");
    let record = store.transfer(&id).await.unwrap().unwrap();
    assert_eq!(record.current.state, TransferState::AbortedRejected);
    assert_eq!(record.error.map(|it| it.0), Some(4001));
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO);
    assert_eq!(store.balance(scheme.payer_settlement.id).await.unwrap().0, -Amount::from_whole(50));
}

async fn a_redelivered_batch_changes_nothing_and_says_the_same_again(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "100").await;
    let (_, fits) = prepare_event("payerfsp", "payeefsp", "60", NOW);
    let (_, too_big) = prepare_event("payerfsp", "payeefsp", "60", NOW);
    let prepared = prepare(store.as_ref(), &[fits.to_json(), too_big.to_json()], NOW, RULES).await.unwrap();
    let first = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    let journal = store.position_journal(scheme.payer.id).await.unwrap();
    let again = position(store.as_ref(), &bodies(&prepared), NOW.plus_ms(1_000)).await.unwrap();
    assert_eq!(event_ids(&again), event_ids(&first));
    assert_eq!(json(&again.emitted[1].envelope), json(&first.emitted[1].envelope), "the refusal is repeated");
    assert_eq!(store.position_journal(scheme.payer.id).await.unwrap(), journal);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::from_whole(60));
}

async fn a_commit_lowers_the_payee_and_reports_the_commit(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "25", NOW);
    let prepared = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let reserved = position(store.as_ref(), &bodies(&prepared), NOW).await.unwrap();
    // What the fulfil function records before it sends the commit on.
    record_state(store.as_ref(), &id, 3, TransferState::ReceivedFulfil).await;
    let commit =
        reserved.emitted[0].envelope.next_step(EventKind::Position, Action::Commit, EventState::success(), NOW);
    let report = position(store.as_ref(), &[commit.to_json()], NOW).await.unwrap();
    assert_eq!(only_notification(&report).metadata.event.action, Action::Commit);
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Committed);
    assert_eq!(store.balance(scheme.payee.id).await.unwrap().0, -Amount::from_whole(25));
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::from_whole(25));
}

async fn events_it_cannot_process_are_dead_letters(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (_, unknown) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    let position_event = unknown.next_step(EventKind::Position, Action::Prepare, EventState::success(), NOW);
    let batch = [
        "{}".to_string(),
        unknown.next(EventKind::Position, Action::Get, EventState::success(), NOW).to_json(),
        position_event.to_json(),
    ];
    let report: Report = position(store.as_ref(), &batch, NOW).await.unwrap();
    assert_eq!(report.dead_letters.len(), 3, "{report:?}");
    assert!(report.emitted.iter().all(|it| it.route == Route::Notification));
    assert!(report.emitted.is_empty());
}

async fn record_state(store: &dyn LedgerStore, id: &TransferId, seq: u32, state: TransferState) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_state_changes(&[NewStateChange { transfer_id: id.clone(), seq, state, reason: None, created: NOW }])
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
