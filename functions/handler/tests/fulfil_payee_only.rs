//! Only the payee answers for a transfer, on both stores: a PUT or PUT /error from another DFSP
//! or from the payer gets 3100 back and leaves the transfer as it was (state, hashes, positions,
//! no callback to either party), so the payee's own answer then commits; the payee's answer
//! addressed to someone other than the payer still aborts, as in Mojaloop (TTK bug fix #2697).

mod support;

use std::sync::Arc;

use handler::envelope::{Action, Envelope, Status};
use handler::outbox::{Report, Route};
use handler::transfers::fulfil::fulfil;
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{HashKind, LedgerStore};
use support::*;

const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
const LATER: Timestamp = Timestamp::from_unix_ms(NOW.unix_ms() + 1_000);
const NOT_PAYEE: &str =
    "Generic validation error - fspiop-source does not match payee fsp on the Fulfil callback response";
const NOT_PAYER: &str =
    "Generic validation error - fspiop-destination does not match payer fsp on the Fulfil callback response";

on_both_stores!(
    answers_from_anyone_but_the_payee_change_nothing,
    the_payee_still_commits_after_a_stranger_replayed_its_answer,
    a_strangers_answer_in_the_payees_batch_does_not_stop_the_commit,
    a_stranger_cannot_read_a_committed_transfer_by_replaying_the_fulfil,
    the_payees_answer_to_the_wrong_destination_still_aborts,
);

/// Every kind of answer a non-payee can send: PUT COMMITTED, RESERVED and ABORTED, and PUT /error.
fn non_payee_answers(id: &TransferId, sender: &str) -> Vec<Envelope> {
    vec![
        fulfil_event(id, "COMMITTED", Some(TTK_FULFILMENT), sender, CONTENT_TYPE, LATER),
        fulfil_event(id, "RESERVED", Some(TTK_FULFILMENT), sender, CONTENT_TYPE, LATER),
        fulfil_event(id, "ABORTED", None, sender, CONTENT_TYPE, LATER),
        error_event(id, "5104", "Transaction declined", sender, LATER),
    ]
}

async fn answers_from_anyone_but_the_payee_change_nothing(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "40").await;
    for sender in ["otherfsp", "payerfsp"] {
        for answer in non_payee_answers(&id, sender) {
            let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
            assert_refused_to(&report, sender, answer.metadata.event.action);
            assert_untouched(store.as_ref(), &id).await;
        }
    }
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::from_whole(40), "the reservation stands");
    assert_eq!(store.balance(scheme.payee.id).await.unwrap().0, Amount::ZERO);
    commit_as_payee(store.as_ref(), &id, LATER).await;
    assert_eq!(store.balance(scheme.payee.id).await.unwrap().0, -Amount::from_whole(40));
}

/// A stranger sends the payee's body before the payee does: were its hash stored, the payee's
/// own answer would count as a duplicate in flight and never commit.
async fn the_payee_still_commits_after_a_stranger_replayed_its_answer(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "5").await;
    let payees = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    let replayed = sent_by(&payees, "otherfsp");
    let refused = fulfil(store.as_ref(), &[replayed.to_json()], LATER).await.unwrap();
    assert_refused_to(&refused, "otherfsp", Action::Commit);
    assert_untouched(store.as_ref(), &id).await;
    let report = fulfil(store.as_ref(), &[payees.to_json()], LATER).await.unwrap();
    assert_eq!(report.emitted.len(), 1, "{report:?}");
    assert_eq!(report.emitted[0].envelope.metadata.event.action, Action::Commit);
    position(store.as_ref(), &bodies(&report), LATER).await.unwrap();
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Committed);
}

async fn a_strangers_answer_in_the_payees_batch_does_not_stop_the_commit(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "6").await;
    let mut batch: Vec<String> = non_payee_answers(&id, "otherfsp").iter().map(Envelope::to_json).collect();
    batch.push(fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER).to_json());
    let report = fulfil(store.as_ref(), &batch, LATER).await.unwrap();
    let (to_position, to_sender): (Vec<_>, Vec<_>) =
        report.emitted.iter().partition(|it| it.route != Route::Notification);
    assert_eq!(to_sender.len(), 4, "one 3100 per stranger's answer: {report:?}");
    assert!(to_sender.iter().all(|it| it.envelope.to == "otherfsp"), "{report:?}");
    assert_eq!(to_position.len(), 1, "{report:?}");
    assert_eq!(to_position[0].route, Route::Position { account: scheme.payee.id });
    assert_eq!(to_position[0].envelope.metadata.event.action, Action::Commit);
    let positions = Report { emitted: to_position.into_iter().cloned().collect(), dead_letters: vec![] };
    position(store.as_ref(), &bodies(&positions), LATER).await.unwrap();
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Committed);
    assert_eq!(store.balance(scheme.payee.id).await.unwrap().0, -Amount::from_whole(6));
}

/// The payee's duplicate is answered with the state and the fulfilment; a stranger's copy of it
/// only with 3100.
async fn a_stranger_cannot_read_a_committed_transfer_by_replaying_the_fulfil(store: Arc<dyn LedgerStore>) {
    provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "2").await;
    let payees = commit_as_payee(store.as_ref(), &id, LATER).await;
    let replayed = sent_by(&payees, "otherfsp");
    let report = fulfil(store.as_ref(), &[replayed.to_json()], LATER.plus_ms(5)).await.unwrap();
    assert_refused_to(&report, "otherfsp", Action::Commit);
    assert!(json(only_notification(&report)).get("fulfilment").is_none());
    assert_eq!(
        store.state_history(&id).await.unwrap().len(),
        4,
        "RECEIVED_PREPARE, RESERVED, RECEIVED_FULFIL, COMMITTED"
    );
}

async fn the_payees_answer_to_the_wrong_destination_still_aborts(store: Arc<dyn LedgerStore>) {
    let scheme = provision(store.as_ref(), "1000").await;
    let id = reserve(store.as_ref(), "9").await;
    let mut answer = fulfil_event(&id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, LATER);
    answer.to = "otherfsp".to_string();
    answer.content.headers.insert("fspiop-destination".to_string(), "otherfsp".to_string());
    let report = fulfil(store.as_ref(), &[answer.to_json()], LATER).await.unwrap();
    assert_eq!(report.emitted.len(), 1, "{report:?}");
    let abort = &report.emitted[0];
    assert_eq!(abort.route, Route::Position { account: scheme.payer.id });
    assert_eq!(abort.envelope.metadata.event.action, Action::AbortValidation);
    assert_eq!(json(&abort.envelope)["errorInformation"]["errorDescription"], NOT_PAYER);
    let record = store.transfer(&id).await.unwrap().unwrap();
    assert_eq!((record.current.state, record.error.map(|it| it.0)), (TransferState::ReceivedError, Some(3100)));
    let notified = position(store.as_ref(), &bodies(&report), LATER).await.unwrap();
    assert_eq!(only_notification(&notified).metadata.event.action, Action::AbortValidation);
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::AbortedError);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, Amount::ZERO, "the reservation is released");
}

/// The same request, body byte for byte, as the edge publishes it when `sender` sends it.
fn sent_by(request: &Envelope, sender: &str) -> Envelope {
    let mut copy = request.clone();
    copy.from = sender.to_string();
    copy.content.headers.insert("fspiop-source".to_string(), sender.to_string());
    copy.metadata.event.id = uuid::Uuid::new_v4().to_string();
    copy
}

/// The report holds one callback, 3100 from the Hub to `sender` alone, and nothing for position.
#[track_caller]
fn assert_refused_to(report: &Report, sender: &str, action: Action) {
    let callback = only_notification(report);
    assert_eq!((callback.from.as_str(), callback.to.as_str()), ("Hub", sender), "{report:?}");
    assert_eq!(callback.metadata.event.action, action);
    assert_eq!(callback.metadata.event.state.status, Status::Error);
    assert_eq!(json(callback)["errorInformation"]["errorCode"], "3100");
    assert_eq!(json(callback)["errorInformation"]["errorDescription"], NOT_PAYEE);
    assert!(report.dead_letters.is_empty(), "{report:?}");
}

/// Still RESERVED with nothing recorded for any answer: no state, error, fulfilment or hash.
async fn assert_untouched(store: &dyn LedgerStore, id: &TransferId) {
    let record = store.transfer(id).await.unwrap().unwrap();
    assert_eq!(record.current.state, TransferState::Reserved);
    assert_eq!((record.error, record.fulfilment), (None, None));
    assert_eq!(store.state_history(id).await.unwrap().len(), 2, "RECEIVED_PREPARE, RESERVED");
    let mut tx = store.begin().await.unwrap();
    let ids = [id.clone()];
    assert!(tx.hashes(HashKind::Fulfil, &ids).await.unwrap().is_empty(), "no fulfil hash stored");
    assert!(tx.hashes(HashKind::Error, &ids).await.unwrap().is_empty(), "no error hash stored");
}

/// The payee's own COMMITTED answer, through fulfil and position; returns it.
async fn commit_as_payee(store: &dyn LedgerStore, id: &TransferId, at: Timestamp) -> Envelope {
    let answer = fulfil_event(id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, at);
    let report = fulfil(store, &[answer.to_json()], at).await.unwrap();
    assert_eq!(report.emitted.len(), 1, "{report:?}");
    assert_eq!(report.emitted[0].envelope.metadata.event.action, Action::Commit);
    let notified = position(store, &bodies(&report), at).await.unwrap();
    assert_eq!(only_notification(&notified).metadata.event.action, Action::Commit);
    assert_eq!(store.transfer(id).await.unwrap().unwrap().current.state, TransferState::Committed);
    answer
}

/// A transfer prepared and reserved, from payerfsp to payeefsp.
async fn reserve(store: &dyn LedgerStore, amount: &str) -> TransferId {
    let (id, event): (TransferId, Envelope) = prepare_event("payerfsp", "payeefsp", amount, NOW);
    let prepared = prepare(store, &[event.to_json()], NOW, RULES).await.unwrap();
    position(store, &bodies(&prepared), NOW).await.unwrap();
    assert_eq!(store.transfer(&id).await.unwrap().unwrap().current.state, TransferState::Reserved);
    id
}
