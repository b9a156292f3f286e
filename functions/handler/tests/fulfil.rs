//! The fulfil function against real stores, driven through prepare and position: commits,
//! reserved commits, payee errors, the ledger's own aborts, refusals, duplicates, redelivery and
//! the answers Mojaloop drops (answers from anyone but the payee: `fulfil_payee_only.rs`).

mod support;

use std::sync::Arc;

use handler::envelope::{Action, Envelope};
use handler::outbox::{Report, Route};
use handler::transfers::fulfil::fulfil;
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use ledger_core::amount::Amount;
use ledger_core::ids::{TransferId, WindowId};
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
const LATER: Timestamp = Timestamp::from_unix_ms(NOW.unix_ms() + 1_000);
const V1_0: &str = "application/vnd.interoperability.transfers+json;version=1.0";

on_both_stores!(
    a_commit_is_recorded_in_the_open_window_and_moves_the_payee,
    a_reserved_answer_commits_through_the_reserve_action,
    a_wrong_fulfilment_aborts_and_releases_the_payer,
    a_payee_error_aborts_with_the_payees_code,
    duplicates_resend_the_state_or_get_3106,
    a_late_answer_gets_3303_and_changes_nothing,
    a_redelivered_batch_sends_the_same_position_event,
    aborted_and_v1_0_reserved_answers_are_dropped,
);

async fn a_commit_is_recorded_in_the_open_window_and_moves_the_payee(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "40").await;
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    assert_eq!(report.emitted.len(), 1, "{report:?}");
    assert_eq!(report.emitted[0].route, Route::Position { account: scheme.payee.id });
    assert_eq!(report.emitted[0].envelope.metadata.event.action, Action::Commit);
    let record = store.transfer(&id).await.unwrap().unwrap();
    assert_eq!((record.current.state, record.window), (TransferState::ReceivedFulfil, Some(WindowId(1))));
    assert_eq!(record.fulfilment.map(|it| it.to_base64url()), Some(TTK_FULFILMENT.to_string()));
    let notified = position(store.as_ref(), &bodies(&report), LATER).await.unwrap();
    assert_eq!(
        only_notification(&notified).payload_bytes().unwrap(),
        answer.payload_bytes().unwrap(),
        "the payee's PUT goes to the payer"
    );
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Committed);
    assert_eq!(store.balance(scheme.payee.id).await.unwrap().0, -Amount::from_whole(40));
}

async fn a_reserved_answer_commits_through_the_reserve_action(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "5").await;
    let answer = fulfil_event(&id, "RESERVED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    assert_eq!(report.emitted[0].envelope.metadata.event.action, Action::Reserve);
    let notified = position(store.as_ref(), &bodies(&report), LATER).await.unwrap();
    assert_eq!(only_notification(&notified).metadata.event.action, Action::Reserve);
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Committed);
}

async fn a_wrong_fulfilment_aborts_and_releases_the_payer(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "40").await;
    let wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let answer = fulfil_event(&id, "RESERVED", Some(wrong), "payeefsp", CONTENT_TYPE, LATER);
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    assert_eq!(report.emitted.len(), 2, "position abort-validation and the PATCH to the payee: {report:?}");
    let abort = &report.emitted[0];
    assert_eq!(abort.route, Route::Position { account: scheme.payer.id });
    assert_eq!(abort.envelope.metadata.event.action, Action::AbortValidation);
    assert_eq!(
        json(&abort.envelope)["errorInformation"]["errorDescription"],
        "Generic validation error - invalid fulfilment"
    );
    let patch = &report.emitted[1].envelope;
    assert_eq!((patch.metadata.event.action, patch.to.as_str()), (Action::ReservedAborted, "payeefsp"));
    assert_eq!(json(patch)["transferState"], "ABORTED");
    assert_eq!(
        json(patch)["extensionList"]["extension"][0]["value"],
        "3100: Generic validation error - invalid fulfilment"
    );
    let record = store.transfer(&id).await.unwrap().unwrap();
    assert_eq!((record.current.state, record.error.map(|it| it.0)), (TransferState::ReceivedError, Some(3100)));
    let positions = Report { emitted: vec![abort.clone()], dead_letters: vec![] };
    let notified = position(store.as_ref(), &bodies(&positions), LATER).await.unwrap();
    assert_eq!(only_notification(&notified).metadata.event.state.code, 3100);
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::AbortedError);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO);
}

async fn a_payee_error_aborts_with_the_payees_code(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "7").await;
    let answer = error_event(&id, "5101", "Payee transaction limit reached", "payeefsp", LATER);
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    assert_eq!(report.emitted[0].route, Route::Position { account: scheme.payer.id });
    assert_eq!(report.emitted[0].envelope.metadata.event.action, Action::Abort);
    let record = store.transfer(&id).await.unwrap().unwrap();
    assert_eq!(record.error, Some((5101, "Payee transaction limit reached".to_string())));
    position(store.as_ref(), &bodies(&report), LATER).await.unwrap();
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::AbortedError);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO);
}

async fn duplicates_resend_the_state_or_get_3106(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "3").await;
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    position(store.as_ref(), &bodies(&report), LATER).await.unwrap();
    let resent = fulfil(store.as_ref(), &[answer.to_json()], LATER.plus_ms(1)).await.unwrap();
    let callback = only_notification(&resent);
    assert_eq!((callback.metadata.event.action, callback.from.as_str()), (Action::FulfilDuplicate, "Hub"));
    assert_eq!(json(callback)["transferState"], "COMMITTED");
    assert_eq!(json(callback)["fulfilment"], TTK_FULFILMENT);
    let modified = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER.plus_ms(7));
    let refused = fulfil(store.as_ref(), &[modified.to_json()], LATER.plus_ms(8)).await.unwrap();
    assert_eq!(json(only_notification(&refused))["errorInformation"]["errorCode"], "3106");
}

async fn a_late_answer_gets_3303_and_changes_nothing(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "3").await;
    let late = Timestamp::from_unix_ms(NOW.unix_ms() + 61_000);
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, late);
    let report = fulfil(store.as_ref(), &[answer.to_json()], late).await.unwrap();
    let callback = only_notification(&report);
    assert_eq!(
        (callback.to.as_str(), json(callback)["errorInformation"]["errorCode"].as_str()),
        ("payeefsp", Some("3303"))
    );
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Reserved);
}

async fn a_redelivered_batch_sends_the_same_position_event(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "3").await;
    let answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let first = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    let again = fulfil(store.as_ref(), &[answer.to_json(), answer.to_json()], LATER.plus_ms(500)).await.unwrap();
    assert_eq!(
        event_ids(&again),
        [event_ids(&first), event_ids(&first)].concat(),
        "both copies re-send the step, nothing else"
    );
    assert_eq!(again.emitted[0].route, first.emitted[0].route);
    assert_eq!(store.state_history(&id).await.unwrap().len(), 3, "RECEIVED_PREPARE, RESERVED, RECEIVED_FULFIL once");
    // The same answer twice in one fresh batch: recorded once, the copy is in flight.
    let other = reserve(store.as_ref(), "4").await;
    let answer = fulfil_event(&other, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let report = fulfil(store.as_ref(), &[answer.to_json(), answer.to_json()], LATER).await.unwrap();
    assert!(
        report.emitted.iter().all(|it| matches!(it.route, Route::Position { .. })),
        "no error to the payee: {report:?}"
    );
    assert_eq!(store.state_history(&other).await.unwrap().len(), 3);
}

async fn aborted_and_v1_0_reserved_answers_are_dropped(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "3").await;
    let rejected = fulfil_event(&id, "ABORTED", None, "payeefsp", CONTENT_TYPE, LATER);
    let reserved_v1_0 = fulfil_event(&id, "RESERVED", Some(TTK_FULFILMENT), "payeefsp", V1_0, LATER);
    let report = fulfil(store.as_ref(), &[rejected.to_json(), reserved_v1_0.to_json()], LATER).await.unwrap();
    assert!(report.emitted.is_empty() && report.dead_letters.is_empty(), "{report:?}");
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Reserved);
}

/// A transfer prepared and reserved, from payerfsp to payeefsp.
async fn reserve(store: &dyn LedgerStore, amount: &str) -> TransferId {
    let (id, event): (TransferId, Envelope) = prepare_event("payerfsp", "payeefsp", amount, NOW);
    let prepared = prepare(store, &[event.to_json()], NOW, RULES).await.unwrap();
    position(store, &bodies(&prepared), NOW).await.unwrap();
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Reserved);
    id
}
