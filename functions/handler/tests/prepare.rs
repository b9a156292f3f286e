//! The prepare function against real stores (a SQLite file and a MariaDB database): new,
//! invalid, modified, duplicate and redelivered prepares, and what each emits.

use fspiop::datetime::format_fspiop_datetime;

mod support;

use std::sync::Arc;

use handler::envelope::{Action, EventKind, Status};
use handler::outbox::Route;
use handler::transfers::prepare::prepare;
use ledger_core::amount::Amount;
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_store::LedgerStore;
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };

on_both_stores!(
    a_valid_prepare_is_recorded_and_reserved_next,
    an_invalid_prepare_is_recorded_and_the_payer_told,
    a_modified_duplicate_gets_3106,
    a_redelivered_batch_re_emits_the_same_position_event,
    a_duplicate_of_a_finished_transfer_resends_its_state,
    an_unreadable_event_is_a_dead_letter,
);

async fn a_valid_prepare_is_recorded_and_reserved_next(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "100.5", NOW);
    let report = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    assert!(report.dead_letters.is_empty());
    assert_eq!(report.emitted.len(), 1);
    let emitted = &report.emitted[0];
    assert_eq!(emitted.route, Route::Position { account: scheme.payer.id });
    assert_eq!(
        (emitted.envelope.metadata.event.kind, emitted.envelope.metadata.event.action),
        (EventKind::Position, Action::Prepare)
    );
    assert_eq!(emitted.envelope.payload_bytes().unwrap(), event.payload_bytes().unwrap(), "the body travels on");
    let record = store.transfer(&id).await.unwrap().expect("recorded");
    assert_eq!(record.current.state, TransferState::ReceivedPrepare);
    assert_eq!(record.amount, Amount::parse_fspiop("100.5").unwrap());
    assert_eq!(record.payer_account, Some(scheme.payer.id));
}

async fn an_invalid_prepare_is_recorded_and_the_payer_told(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "nobodyfsp", "1", NOW);
    let report = prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let callback = only_notification(&report);
    assert_eq!((callback.from.as_str(), callback.to.as_str()), ("Hub", "payerfsp"));
    assert_eq!(callback.metadata.event.state.status, Status::Error);
    let body = json(callback);
    assert_eq!(body["errorInformation"]["errorCode"], "3100");
    assert_eq!(
        body["errorInformation"]["errorDescription"],
        "Generic validation error - Participant nobodyfsp not found"
    );
    let record = store.transfer(&id).await.unwrap().expect("recorded");
    assert_eq!(record.current.state, TransferState::Invalid);
    assert_eq!(record.error.map(|it| it.0), Some(3100));
}

async fn a_modified_duplicate_gets_3106(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (id, first) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    prepare(store.as_ref(), &[first.to_json()], NOW, RULES).await.unwrap();
    let modified = prepare_event_with_id(&id, "payerfsp", "payeefsp", "2", NOW.plus_ms(10));
    let report = prepare(store.as_ref(), &[modified.to_json()], NOW, RULES).await.unwrap();
    let body = json(only_notification(&report));
    assert_eq!(body["errorInformation"]["errorCode"], "3106");
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().amount, Amount::from_whole(1), "the first body stands");
}

async fn a_redelivered_batch_re_emits_the_same_position_event(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    let (_, other) = prepare_event("payerfsp", "payeefsp", "2", NOW);
    let batch = [event.to_json(), other.to_json(), event.to_json()];
    let first = prepare(store.as_ref(), &batch, NOW, RULES).await.unwrap();
    assert_eq!(first.emitted.len(), 2, "a repeat inside the batch is answered once");
    let again = prepare(store.as_ref(), &batch, NOW.plus_ms(1000), RULES).await.unwrap();
    assert_eq!(event_ids(&again), event_ids(&first));
    assert!(again.emitted.iter().all(|it| matches!(it.route, Route::Position { .. })));
    assert_eq!(store.state_history(&id).await.unwrap().len(), 1, "nothing recorded twice");
}

async fn a_duplicate_of_a_finished_transfer_resends_its_state(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (id, event) = prepare_event("payerfsp", "nobodyfsp", "1", NOW);
    prepare(store.as_ref(), &[event.to_json()], NOW, RULES).await.unwrap();
    let report = prepare(store.as_ref(), &[event.to_json()], NOW.plus_ms(5), RULES).await.unwrap();
    let callback = only_notification(&report);
    assert_eq!(callback.metadata.event.action, Action::PrepareDuplicate);
    assert_eq!(callback.content.headers["fspiop-source"], "Hub");
    let body = json(callback);
    assert_eq!(body["transferState"], "ABORTED");
    assert_eq!(body["completedTimestamp"], format_fspiop_datetime(NOW));
    assert_eq!(store.state_history(&id).await.unwrap().len(), 1);
}

async fn an_unreadable_event_is_a_dead_letter(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let (_, event) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    let report = prepare(store.as_ref(), &["not json".to_string(), event.to_json()], NOW, RULES).await.unwrap();
    assert_eq!(report.dead_letters.len(), 1);
    assert_eq!(report.dead_letters[0].body, "not json");
    assert_eq!(report.emitted.len(), 1, "the rest of the batch goes on");
}
