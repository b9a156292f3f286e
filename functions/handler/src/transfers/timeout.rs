//! The timeout function (timer trigger): expires transfers whose expiration has passed and
//! re-drives transfers stranded after it, in batches, two transactions around each publish so
//! that no follow-up is ever lost.
//!
//! The timeout work-list holds one entry per transfer that is not final, due at its expiration;
//! the transaction that makes a transfer final (position commit, abort, `timeout-reserved`,
//! refusal) removes it, so the list holds only transfers that may still need the Hub. The timer
//! fires every second (`functions/bindings/timeout/function.json`).
//!
//! | step | what |
//! |---|---|
//! | 1 | [`scan`]: in one transaction, read the entries due (soonest first, at most [`TIMEOUT_SCAN_BATCH_MAX`]) with their transfers, ask `ledger_core::timeout::decide_due_entry` for each; RECEIVED_PREPARE → EXPIRED_PREPARED, RESERVED → RESERVED_TIMEOUT, each with a 3303 error; commit |
//! | 2 | the caller publishes the report: 3303 to the payer of an EXPIRED_PREPARED transfer; `timeout-reserved` to the position hub (keyed by the payer's account), whose position step then notifies both parties; for a stranded transfer the pipeline event it waits for, again (`crate::transfers::timeout_events`) |
//! | 3 | [`finish`]: remove the entries of transfers now final, move the others to their recheck time |
//! | 4 | the caller counts and logs the stranded transfers ([`record_stranded`]), and runs 1–3 again while a batch came back full, at most [`TIMEOUT_SCAN_BATCHES_MAX`] times |
//! | 5 | until [`TIMEOUT_LOOKAHEAD_MS`] have passed, the caller waits for the next entry to come due ([`next_due`]) and runs 1–4 again |
//!
//! An entry stays where it was until step 3. If the process dies between 1 and 3, the next scan
//! finds the transfer already expired and emits the same follow-up again (same event id), so it
//! is published at least once. Every batch is its own pair of transactions, so a long backlog
//! never holds the store for long, and each batch only reads what it returns (a range of the
//! work-list's due-time key).

use std::collections::HashMap;

use fspiop::FspiopError;
use ledger_core::ids::TransferId;
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::timeout::{decide_due_entry, DueEntry, EntryFate, FollowUp, TimeoutAction};
use ledger_store::{HashKind, LedgerStore, LedgerTx, StoreError, TransferRecord};

use crate::outbox::Report;
use crate::state_rows::StateRows;
use crate::transfers::timeout_events::follow_up_event;

/// Most work-list entries one batch handles (one transaction each side of its publish). A batch
/// takes milliseconds, so many batches fit in a tick; a small one keeps each transaction short,
/// because on SQLite every other function waits for the writer meanwhile.
pub const TIMEOUT_SCAN_BATCH_MAX: usize = 500;
/// Most batches one invocation runs: 100,000 entries, a hundred times what the timer's one
/// second brings at 1,000 transfers/s; what is left waits for the next tick.
pub const TIMEOUT_SCAN_BATCHES_MAX: usize = 200;
/// Most times one batch is read again after colliding with another writer ([`scan`]).
pub const TIMEOUT_CONFLICT_RETRIES_MAX: usize = 3;
/// How long one invocation keeps expiring transfers as they come due, after the entries already
/// due: just under the timer's one second, so it ends before the next tick. Without it a
/// transfer waited up to a whole tick after its expiration before anything happened.
pub const TIMEOUT_LOOKAHEAD_MS: u64 = 900;
/// Shortest wait between two looks within one invocation: bounds the transactions a steady
/// stream of expiries costs, at the price of expiring up to this much after the expiration.
pub const TIMEOUT_LOOK_INTERVAL_MIN_MS: u64 = 100;
const EXPIRED_PREPARED_REASON: &str = "Aborted by Timeout Handler";
const RESERVED_TIMEOUT_REASON: &str = "Marked for expiration by Timeout Handler";

/// What one batch produced: events to publish, then what becomes of its entries once they are.
#[derive(Debug, Default)]
pub struct Scan {
    pub report: Report,
    /// Entries whose transfers are final once the report is published: removed then.
    pub finished: Vec<(TransferId, Timestamp)>,
    /// Entries to look at again: `(transfer, due as read, next due)`.
    pub rechecks: Vec<(TransferId, Timestamp, Timestamp)>,
    /// Transfers found stranded: `(transfer, state, event emitted again)`.
    pub stranded: Vec<(TransferId, TransferState, Option<FollowUp>)>,
    /// How many due entries the batch read.
    pub n_due: usize,
}

impl Scan {
    /// Whether the batch was full, so more entries may be due.
    pub fn more_due(&self) -> bool {
        self.n_due >= TIMEOUT_SCAN_BATCH_MAX
    }
}

/// Step 1: see the module documentation. A batch that collides with another writer (a fulfil or
/// position step recording the next state of one of its transfers at the same moment, which
/// happens at expiry) is read again at once, up to [`TIMEOUT_CONFLICT_RETRIES_MAX`] times: the
/// re-read sees that state, and the rest of the batch does not wait for the next tick.
pub async fn scan(store: &dyn LedgerStore, now: Timestamp) -> Result<Scan, StoreError> {
    let mut n_retries = 0;
    loop {
        match scan_once(store, now).await {
            Err(StoreError::Conflict(reason)) if n_retries < TIMEOUT_CONFLICT_RETRIES_MAX => {
                n_retries += 1;
                tracing::debug!(%reason, "timeout batch collided with another writer; reading it again");
            }
            outcome => return outcome,
        }
    }
}

async fn scan_once(store: &dyn LedgerStore, now: Timestamp) -> Result<Scan, StoreError> {
    let mut tx = store.begin().await?;
    let due = tx.due_timeouts(now, TIMEOUT_SCAN_BATCH_MAX).await?;
    let ids: Vec<TransferId> = due.iter().map(|(id, _)| id.clone()).collect();
    let records = tx.transfers(&ids).await?;
    let payee_errors = payee_errors(tx.as_mut(), &records).await?;
    let mut result = Scan { n_due: due.len(), ..Scan::default() };
    let mut rows = StateRows::default();
    for (id, due_at) in &due {
        let Some(record) = records.get(id) else {
            // The entry's transfer row is gone (the key references it, so only by hand): nothing
            // the Hub can finish.
            result.finished.push((id.clone(), *due_at));
            continue;
        };
        decide_one(record, *due_at, payee_errors.contains_key(id), now, &mut rows, &mut result);
    }
    tx.insert_state_changes(rows.states()).await?;
    tx.insert_errors(rows.errors()).await?;
    tx.commit().await?;
    Ok(result)
}

/// Step 3: removes the entries of transfers now final and moves the others on.
pub async fn finish(store: &dyn LedgerStore, scan: &Scan) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.delete_timeouts(&scan.finished).await?;
    tx.move_timeouts(&scan.rechecks).await?;
    tx.commit().await
}

/// The earliest due time of an entry due before `until`, if any: when the next batch has work.
pub async fn next_due(store: &dyn LedgerStore, until: Timestamp) -> Result<Option<Timestamp>, StoreError> {
    let mut tx = store.begin().await?;
    let first = tx.due_timeouts(until, 1).await?;
    tx.commit().await?;
    Ok(first.first().map(|(_, due)| *due))
}

/// Step 4: one metric count and one log line, with its transfer id, per stranded transfer.
pub fn record_stranded(scan: &Scan) {
    for (id, state, follow_up) in &scan.stranded {
        plumbing::telemetry::record_stranded(id.as_str(), state.name(), follow_up.map(follow_up_name));
    }
}

/// Which RECEIVED_ERROR transfers hold the payee's own error (`PUT …/error`, whose hash the
/// fulfil function keeps apart from PUT answers' hashes).
async fn payee_errors(
    tx: &mut dyn LedgerTx,
    records: &HashMap<TransferId, TransferRecord>,
) -> Result<HashMap<TransferId, ledger_core::prepare::RequestHash>, StoreError> {
    let errored: Vec<TransferId> = records
        .values()
        .filter(|it| it.current.state == TransferState::ReceivedError)
        .map(|it| it.transfer_id.clone())
        .collect();
    match errored.is_empty() {
        true => Ok(HashMap::new()),
        false => tx.hashes(HashKind::Error, &errored).await,
    }
}

fn decide_one(
    record: &TransferRecord,
    due: Timestamp,
    payee_error: bool,
    now: Timestamp,
    rows: &mut StateRows,
    result: &mut Scan,
) {
    let entry = DueEntry {
        state: record.current.state,
        state_changed: record.current.changed,
        expiration: record.expiration,
        due,
        payee_error,
    };
    let decision = decide_due_entry(&entry, now);
    let id = &record.transfer_id;
    if let Some(action) = decision.expire {
        let expired = FspiopError::from_rejection(&Rejection::TransferExpired);
        let reason = match action {
            TimeoutAction::ExpirePrepared => EXPIRED_PREPARED_REASON,
            TimeoutAction::ExpireReserved => RESERVED_TIMEOUT_REASON,
        };
        let state = action.next_state();
        let seq = rows.push(id, record.current.seq, state, Some(reason.to_string()), now);
        rows.push_error(id, seq, &expired, now);
    }
    if let Some(follow_up) = decision.follow_up {
        follow_up_event(record, follow_up, now, &mut result.report);
    }
    if decision.stranded {
        result.stranded.push((id.clone(), record.current.state, decision.follow_up));
    }
    match decision.entry {
        EntryFate::Remove => result.finished.push((id.clone(), due)),
        EntryFate::Recheck(next) => result.rechecks.push((id.clone(), due, next)),
    }
}

fn follow_up_name(follow_up: FollowUp) -> &'static str {
    match follow_up {
        FollowUp::TimeoutReceived => "timeout-received",
        FollowUp::TimeoutReserved => "timeout-reserved",
        FollowUp::Commit => "commit",
        FollowUp::Abort => "abort",
        FollowUp::AbortValidation => "abort-validation",
    }
}
