//! Timeout decisions: what the timeout function does with an entry of its work-list that has come
//! due.
//!
//! Every transfer that is not final has one entry on the work-list, due at its expiration first.
//! The transaction that makes a transfer final removes its entry, so what comes due is either a
//! transfer to expire or one still waiting on a pipeline step (a position event, or the
//! notification of its expiry) after its expiration:
//!
//! | state | decision | entry |
//! |---|---|---|
//! | RECEIVED_PREPARE | → EXPIRED_PREPARED (3303); `timeout-received`: the payer is told | removed |
//! | RESERVED | → RESERVED_TIMEOUT (3303); `timeout-reserved` to position, which releases the payer and tells both | rechecked after [`REDRIVE_GRACE_MS`] |
//! | RESERVED_TIMEOUT | `timeout-reserved` again: at once when the scan that marked it may not have published it, else once stranded | rechecked |
//! | RECEIVED_FULFIL | the payee's fulfil was accepted before expiry, so it commits (central-ledger never expires it): once stranded, the `commit` again | rechecked |
//! | RECEIVED_ERROR | once stranded, the `abort` (the payee's error) or `abort-validation` (the Hub's refusal) again | rechecked |
//! | RECEIVED_REJECT | nothing in this switch finishes it (it is never left in it): reported as stranded | rechecked |
//! | EXPIRED_PREPARED | its scan may not have published `timeout-received`: again | removed |
//! | any other final state | nothing | removed |
//!
//! A transfer is *stranded* when it has waited [`REDRIVE_GRACE_MS`] in its state for the step
//! that would finish it: that event was lost (or is very late). The event is emitted again with
//! the id the pipeline gives it, so if the first one does arrive, the second changes nothing.
//! A stranded transfer that stays stranded is rechecked at doubling intervals (the time it has
//! waited), at most [`REDRIVE_INTERVAL_MAX_MS`] apart.

use crate::state::TransferState;
use crate::time::Timestamp;

/// How long a transfer may wait in a state for the pipeline step that finishes it before it is
/// stranded and re-driven. Every step takes well under a second; this leaves room for retries
/// of a batch (the host's retry policy) without re-driving events that are merely slow.
pub const REDRIVE_GRACE_MS: i64 = 30_000;
/// Longest time between two re-drives of a transfer that stays stranded.
pub const REDRIVE_INTERVAL_MAX_MS: i64 = 3_600_000;

/// The state change the timeout function records when a transfer expires (with a 3303 error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutAction {
    /// RECEIVED_PREPARE → EXPIRED_PREPARED; the payer gets 3303. No position was taken.
    ExpirePrepared,
    /// RESERVED → RESERVED_TIMEOUT, then a `timeout-reserved` position message releases the
    /// payer's reservation (→ EXPIRED_RESERVED) and both parties get 3303.
    ExpireReserved,
}

impl TimeoutAction {
    pub fn next_state(self) -> TransferState {
        match self {
            TimeoutAction::ExpirePrepared => TransferState::ExpiredPrepared,
            TimeoutAction::ExpireReserved => TransferState::ReservedTimeout,
        }
    }
}

/// The pipeline event the timeout function emits for a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// The notification of an EXPIRED_PREPARED transfer: 3303 to the payer.
    TimeoutReceived,
    /// The position step of a RESERVED_TIMEOUT transfer (payer's account).
    TimeoutReserved,
    /// The position step of a RECEIVED_FULFIL transfer (payee's account).
    Commit,
    /// The position step of a RECEIVED_ERROR transfer whose error is the payee's own.
    Abort,
    /// The position step of a RECEIVED_ERROR transfer whose answer the Hub refused.
    AbortValidation,
}

/// What becomes of a work-list entry once the follow-up is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryFate {
    /// The transfer is final (or will be, by what was just recorded and published).
    Remove,
    /// The transfer still waits on a step: look at it again then.
    Recheck(Timestamp),
}

/// A work-list entry that has come due, with what the ledger knows of its transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueEntry {
    pub state: TransferState,
    /// When the transfer entered `state`.
    pub state_changed: Timestamp,
    pub expiration: Timestamp,
    /// When the entry came due: the expiration, or a recheck time an earlier scan set.
    pub due: Timestamp,
    /// For RECEIVED_ERROR: the error is the payee's own (`PUT …/error`), not the Hub's refusal
    /// of the payee's answer.
    pub payee_error: bool,
}

/// What the timeout function does with one due entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutDecision {
    /// The state to record now, with a 3303 error.
    pub expire: Option<TimeoutAction>,
    /// The event to emit after the commit.
    pub follow_up: Option<FollowUp>,
    /// Whether the transfer was stranded: counted, logged and re-driven.
    pub stranded: bool,
    pub entry: EntryFate,
}

impl TimeoutDecision {
    fn entry_only(entry: EntryFate) -> TimeoutDecision {
        TimeoutDecision { expire: None, follow_up: None, stranded: false, entry }
    }

    fn expire(action: TimeoutAction, follow_up: FollowUp, entry: EntryFate) -> TimeoutDecision {
        TimeoutDecision { expire: Some(action), follow_up: Some(follow_up), stranded: false, entry }
    }
}

/// Decides what happens to a due entry at `now`: see the module documentation.
pub fn decide_due_entry(entry: &DueEntry, now: Timestamp) -> TimeoutDecision {
    use TransferState::*;
    if entry.state.is_final() {
        // An EXPIRED_PREPARED transfer keeps its entry only until its notification is
        // published, so a remaining entry means that may not have happened.
        let follow_up = (entry.state == ExpiredPrepared).then_some(FollowUp::TimeoutReceived);
        return TimeoutDecision { follow_up, ..TimeoutDecision::entry_only(EntryFate::Remove) };
    }
    if now <= entry.expiration {
        return TimeoutDecision::entry_only(EntryFate::Recheck(entry.expiration));
    }
    let recheck_after_expiry = EntryFate::Recheck(now.plus_ms(REDRIVE_GRACE_MS));
    match entry.state {
        ReceivedPrepare => {
            TimeoutDecision::expire(TimeoutAction::ExpirePrepared, FollowUp::TimeoutReceived, EntryFate::Remove)
        }
        Reserved => {
            TimeoutDecision::expire(TimeoutAction::ExpireReserved, FollowUp::TimeoutReserved, recheck_after_expiry)
        }
        // Marked by a scan whose entry was never moved on: that scan may have died before
        // publishing, so publish now (the same event id), as it would have.
        ReservedTimeout if entry.due <= entry.state_changed => TimeoutDecision {
            follow_up: Some(FollowUp::TimeoutReserved),
            ..TimeoutDecision::entry_only(recheck_after_expiry)
        },
        ReservedTimeout => waiting(entry, Some(FollowUp::TimeoutReserved), now),
        ReceivedFulfil => waiting(entry, Some(FollowUp::Commit), now),
        ReceivedError if entry.payee_error => waiting(entry, Some(FollowUp::Abort), now),
        ReceivedError => waiting(entry, Some(FollowUp::AbortValidation), now),
        // Written only together with its final state (funds out, settlement), so never left
        // in: no pipeline step of this switch takes it on.
        ReceivedReject => waiting(entry, None, now),
        Committed | Failed | AbortedRejected | AbortedError | ExpiredPrepared | ExpiredReserved | Invalid | Settled => {
            unreachable!("final states return above")
        }
    }
}

/// A transfer past its expiration that waits on `follow_up`: re-driven once stranded, else
/// rechecked when it would be.
fn waiting(entry: &DueEntry, follow_up: Option<FollowUp>, now: Timestamp) -> TimeoutDecision {
    let stranded_at = entry.state_changed.plus_ms(REDRIVE_GRACE_MS);
    if now < stranded_at {
        return TimeoutDecision::entry_only(EntryFate::Recheck(stranded_at));
    }
    let waited_ms = now.unix_ms() - entry.state_changed.unix_ms();
    let interval_ms = waited_ms.clamp(REDRIVE_GRACE_MS, REDRIVE_INTERVAL_MAX_MS);
    TimeoutDecision { expire: None, follow_up, stranded: true, entry: EntryFate::Recheck(now.plus_ms(interval_ms)) }
}
