//! The position function: a whole Event Hubs batch of position events (keyed by account) becomes
//! one transaction through the core's batch decision, then one notification per outcome.
//!
//! | step | what |
//! |---|---|
//! | parse | envelopes; the transfer id is the envelope id, the action its event action |
//! | load | the transfers (amount, payer and payee accounts), then the accounts under lock in ascending order, then the transfers' states |
//! | decide | `ledger_core::position::decide_batch`: fixed action order per account, running position |
//! | write | state changes, journal rows, new positions, errors for refused prepares; commit |
//! | emit | a notification per outcome, with an id derived from the transfer and the step |
//!
//! At-least-once: a message whose transfer already shows this action's outcome was processed by
//! an earlier delivery, perhaps one that died before publishing. It changes nothing and emits the
//! same notification again, with the same id, so the notification function can drop the copy.

use std::collections::HashMap;

use fspiop::FspiopError;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId};
use ledger_core::position::{
    decide_batch, PositionAccount, PositionAction, PositionMessage, PositionOutcome, PositionSnapshot,
};
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, NewPositionChange, StoreError, TransferRecord};

use crate::envelope::{Action, Envelope, EventKind, EventState};
use crate::outbox::{Report, Route};
use crate::state_rows::StateRows;

/// A position event with its transfer.
struct Incoming {
    envelope: Envelope,
    action: PositionAction,
    record: TransferRecord,
}

/// Runs one position batch; see the module documentation.
pub async fn position(store: &dyn LedgerStore, bodies: &[String], now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let parsed = parse_batch(bodies, &mut report);
    let ids: Vec<TransferId> = parsed.iter().filter_map(|(it, _)| transfer_id(it)).collect();
    let mut tx = store.begin().await?;
    let records = tx.transfers(&ids).await?;
    let incoming = attach_records(parsed, records, &mut report);
    let messages: Vec<PositionMessage> = incoming.iter().filter_map(message).collect();
    let accounts: Vec<AccountId> = messages.iter().map(|it| it.account).collect();
    let locked = tx.lock_positions(&accounts).await?;
    let current = tx.current_states(&ids).await?;
    let snapshot = PositionSnapshot {
        accounts: locked,
        transfer_states: current.iter().map(|(id, it)| (id.clone(), it.state)).collect(),
    };
    let decision = decide_batch(&snapshot, &messages);
    let stored_seq: HashMap<TransferId, u32> = current.iter().map(|(id, it)| (id.clone(), it.seq)).collect();
    let writes = rows_to_write(&messages, &decision.outcomes, &decision.changes, &stored_seq, now);
    let positions: Vec<(AccountId, Amount)> = decision.positions.iter().map(|(id, value)| (*id, *value)).collect();
    assert_journal_matches(&writes.journal, &positions, &snapshot);
    tx.insert_state_changes(writes.rows.states()).await?;
    tx.insert_position_changes(&writes.journal).await?;
    tx.update_positions(&positions, now).await?;
    tx.insert_errors(writes.rows.errors()).await?;
    // A transfer leaves the timeout work-list in the transaction that makes it final.
    let finished: Vec<TransferId> =
        writes.rows.states().iter().filter(|it| it.state.is_final()).map(|it| it.transfer_id.clone()).collect();
    tx.delete_timeouts_of(&finished).await?;
    tx.commit().await?;
    report_ndc_use(&incoming, &snapshot, &positions);
    let mut outcomes = decision.outcomes.iter();
    for item in &incoming {
        match message(item) {
            // Messages were built from `incoming` in order, so outcomes line up with them.
            Some(_) => emit(item, outcomes.next().expect("one outcome per message"), now, &mut report),
            None => report.dead_letter(&item.envelope.to_json(), "the transfer has no account for this action"),
        }
    }
    Ok(report)
}

/// How much of its net debit cap each participant whose position moved now uses (metric and,
/// near the cap, a warning: `plumbing::telemetry::record_ndc_used`).
fn report_ndc_use(incoming: &[Incoming], snapshot: &PositionSnapshot, positions: &[(AccountId, Amount)]) {
    let mut owners: HashMap<AccountId, &TransferRecord> = HashMap::new();
    for item in incoming {
        if let Some(message) = message(item) {
            owners.entry(message.account).or_insert(&item.record);
        }
    }
    for (account, position) in positions {
        let (Some(locked), Some(record)) = (snapshot.accounts.get(account), owners.get(account)) else { continue };
        let moved = PositionAccount { position: *position, ..*locked };
        let Some(percent) = moved.ndc_used_percent() else { continue };
        let owner = if record.payer_account == Some(*account) { &record.payer } else { &record.payee };
        plumbing::telemetry::record_ndc_used(owner.as_str(), record.currency.code(), percent);
    }
}

fn parse_batch(bodies: &[String], report: &mut Report) -> Vec<(Envelope, PositionAction)> {
    let mut parsed = Vec::with_capacity(bodies.len());
    for envelope in report.read_envelopes(bodies) {
        match position_action(envelope.metadata.event.action) {
            Some(action) if transfer_id(&envelope).is_some() => parsed.push((envelope, action)),
            _ => report.dead_letter(&envelope.to_json(), "not a position action on a transfer id"),
        }
    }
    parsed
}

fn transfer_id(envelope: &Envelope) -> Option<TransferId> {
    TransferId::parse(&envelope.id)
}

fn position_action(action: Action) -> Option<PositionAction> {
    match action {
        Action::Prepare => Some(PositionAction::Prepare),
        Action::Commit => Some(PositionAction::Commit),
        Action::Reserve => Some(PositionAction::Reserve),
        Action::Abort => Some(PositionAction::Abort),
        Action::AbortValidation => Some(PositionAction::AbortValidation),
        Action::TimeoutReserved => Some(PositionAction::TimeoutReserved),
        _ => None,
    }
}

fn attach_records(
    parsed: Vec<(Envelope, PositionAction)>,
    records: HashMap<TransferId, TransferRecord>,
    report: &mut Report,
) -> Vec<Incoming> {
    let mut incoming = Vec::with_capacity(parsed.len());
    for (envelope, action) in parsed {
        let id = transfer_id(&envelope).expect("checked when parsed");
        match records.get(&id) {
            Some(record) => incoming.push(Incoming { envelope, action, record: record.clone() }),
            None => report.dead_letter(&envelope.to_json(), format!("transfer {id} is not recorded")),
        }
    }
    incoming
}

/// The core's message: keyed by the payee's account for commits, by the payer's otherwise.
fn message(item: &Incoming) -> Option<PositionMessage> {
    let account = match item.action {
        PositionAction::Commit | PositionAction::Reserve => item.record.payee_account,
        _ => item.record.payer_account,
    }?;
    Some(PositionMessage {
        account,
        action: item.action,
        transfer_id: item.record.transfer_id.clone(),
        amount: item.record.amount,
    })
}

#[derive(Default)]
struct Writes {
    rows: StateRows,
    journal: Vec<NewPositionChange>,
}

fn rows_to_write(
    messages: &[PositionMessage],
    outcomes: &[PositionOutcome],
    changes: &[ledger_core::position::PositionChange],
    stored_seq: &HashMap<TransferId, u32>,
    now: Timestamp,
) -> Writes {
    assert_eq!(messages.len(), outcomes.len(), "one outcome per message");
    let mut writes = Writes::default();
    let mut seq_of_message = vec![0_u32; messages.len()];
    for (idx, outcome) in outcomes.iter().enumerate() {
        let id = &messages[idx].transfer_id;
        let stored = stored_seq.get(id).copied().unwrap_or(0);
        seq_of_message[idx] = match outcome {
            PositionOutcome::Applied { state, .. } => writes.rows.push(id, stored, *state, None, now),
            PositionOutcome::Rejected { rejection } => writes.rows.push_refused(
                id,
                stored,
                TransferState::AbortedRejected,
                &FspiopError::from_rejection(rejection),
                now,
            ),
            PositionOutcome::Stale { .. } | PositionOutcome::AccountMissing => continue,
        };
    }
    writes.journal = changes
        .iter()
        .map(|it| NewPositionChange {
            account: it.account,
            transfer_id: it.transfer_id.clone(),
            seq: journal_seq(messages, &seq_of_message, it),
            change: it.change,
            value: it.value,
            reserved: it.reserved,
            created: now,
        })
        .collect();
    writes
}

/// The `seq` of the state change a journal row belongs to: a row belongs to a message of this
/// batch, about the same transfer, that appended a state.
fn journal_seq(
    messages: &[PositionMessage],
    seq_of_message: &[u32],
    change: &ledger_core::position::PositionChange,
) -> u32 {
    assert_eq!(
        messages[change.message_idx].transfer_id, change.transfer_id,
        "a journal row belongs to its message's transfer"
    );
    let seq = seq_of_message[change.message_idx];
    assert!(seq > 0, "transfer {}: a position change without a state change", change.transfer_id);
    seq
}

/// What is written to positions holds together before it is: every account updated was locked
/// by this transaction, its journal's last running value is its new position, and (checked in
/// debug builds, as it walks every row) each row's value is the one before plus its change.
fn assert_journal_matches(
    journal: &[NewPositionChange],
    positions: &[(AccountId, Amount)],
    snapshot: &PositionSnapshot,
) {
    let mut last: HashMap<AccountId, Amount> = HashMap::with_capacity(positions.len());
    for row in journal {
        let locked = snapshot.accounts.get(&row.account);
        assert!(locked.is_some(), "account {} journaled without its lock", row.account);
        if cfg!(debug_assertions) {
            let before = last.get(&row.account).copied().or(locked.map(|it| it.position)).expect("locked");
            debug_assert_eq!(
                before + row.change,
                row.value,
                "account {}: a running value is the one before plus the change",
                row.account
            );
        }
        last.insert(row.account, row.value);
    }
    for (account, value) in positions {
        assert!(snapshot.accounts.contains_key(account), "position {account} updated without its lock");
        assert_eq!(
            last.get(account),
            Some(value),
            "account {account}: the journal's running value is the new position"
        );
    }
}

fn emit(item: &Incoming, outcome: &PositionOutcome, now: Timestamp, report: &mut Report) {
    match outcome {
        PositionOutcome::Applied { .. } => report.emit(Route::Notification, outcome_event(item, now)),
        PositionOutcome::Rejected { rejection } => {
            report.emit(Route::Notification, refusal_event(item, rejection, now))
        }
        // Already applied by an earlier delivery: say again what that delivery said.
        PositionOutcome::Stale { found: Some(state) } if *state == item.action.applied_state() => {
            report.emit(Route::Notification, outcome_event(item, now))
        }
        PositionOutcome::Stale { found: Some(TransferState::AbortedRejected) }
            if item.action == PositionAction::Prepare =>
        {
            let rejection = stored_refusal(&item.record);
            report.emit(Route::Notification, refusal_event(item, &rejection, now));
        }
        PositionOutcome::Stale { .. } => (),
        PositionOutcome::AccountMissing => {
            report.dead_letter(&item.envelope.to_json(), "the transfer's account is missing")
        }
    }
}

/// The notification of an applied action: same payload and state (an abort-validation carries
/// its 3100), the action names what happened.
fn outcome_event(item: &Incoming, now: Timestamp) -> Envelope {
    let event = &item.envelope.metadata.event;
    item.envelope.next_step(EventKind::Notification, event.action, event.state.clone(), now)
}

fn refusal_event(item: &Incoming, rejection: &Rejection, now: Timestamp) -> Envelope {
    let error = FspiopError::from_rejection(rejection);
    item.envelope
        .next_step(EventKind::Notification, Action::Prepare, EventState::error(&error), now)
        .with_error(&error)
        .from_hub_to(item.record.payer.as_str())
}

/// Which refusal an earlier delivery recorded (4001 or 4200).
fn stored_refusal(record: &TransferRecord) -> Rejection {
    match record.error.as_ref().map(|it| it.0) {
        Some(4001) => Rejection::PayerInsufficientLiquidity,
        _ => Rejection::PayerLimitExceeded,
    }
}
