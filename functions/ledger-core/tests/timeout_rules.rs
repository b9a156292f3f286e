//! Table-driven timeout rules: `decide_due_entry` for every transfer state, before, at and after
//! its expiration, while a step is in flight and once the transfer is stranded.

use ledger_core::state::{TransferState, TRANSFER_STATES};
use ledger_core::time::Timestamp;
use ledger_core::timeout::{
    decide_due_entry, DueEntry, EntryFate, FollowUp, TimeoutAction, TimeoutDecision, REDRIVE_GRACE_MS,
    REDRIVE_INTERVAL_MAX_MS,
};

use EntryFate::*;
use TransferState::*;

const EXPIRATION: Timestamp = Timestamp::from_unix_ms(1_700_000_000_000);
/// When a waiting transfer entered its state: a little before its expiration.
const CHANGED: Timestamp = Timestamp::from_unix_ms(EXPIRATION.unix_ms() - 1_000);
/// One scan tick after the expiration.
const TICK_MS: i64 = 1_000;

fn at(offset_ms: i64) -> Timestamp {
    EXPIRATION.plus_ms(offset_ms)
}

fn entry(state: TransferState, state_changed: Timestamp, due: Timestamp) -> DueEntry {
    DueEntry { state, state_changed, expiration: EXPIRATION, due, payee_error: false }
}

fn decision(
    expire: Option<TimeoutAction>,
    follow_up: Option<FollowUp>,
    stranded: bool,
    entry: EntryFate,
) -> TimeoutDecision {
    TimeoutDecision { expire, follow_up, stranded, entry }
}

#[test]
fn every_state_one_tick_after_its_expiration() {
    let after = at(TICK_MS);
    let recheck = Recheck(after.plus_ms(REDRIVE_GRACE_MS));
    let waits = Recheck(CHANGED.plus_ms(REDRIVE_GRACE_MS));
    let table = [
        (
            ReceivedPrepare,
            decision(Some(TimeoutAction::ExpirePrepared), Some(FollowUp::TimeoutReceived), false, Remove),
        ),
        (Reserved, decision(Some(TimeoutAction::ExpireReserved), Some(FollowUp::TimeoutReserved), false, recheck)),
        // In flight: the fulfil was accepted a second before expiry; its commit is on its way.
        (ReceivedFulfil, decision(None, None, false, waits)),
        (Committed, decision(None, None, false, Remove)),
        (Failed, decision(None, None, false, Remove)),
        (ReservedTimeout, decision(None, None, false, waits)),
        (ReceivedReject, decision(None, None, false, waits)),
        (AbortedRejected, decision(None, None, false, Remove)),
        (ReceivedError, decision(None, None, false, waits)),
        (AbortedError, decision(None, None, false, Remove)),
        (ExpiredPrepared, decision(None, Some(FollowUp::TimeoutReceived), false, Remove)),
        (ExpiredReserved, decision(None, None, false, Remove)),
        (Invalid, decision(None, None, false, Remove)),
        (Settled, decision(None, None, false, Remove)),
    ];
    assert_eq!(table.map(|(state, _)| state), TRANSFER_STATES, "the table covers every state in order");
    for (state, expected) in table {
        assert_eq!(decide_due_entry(&entry(state, CHANGED, EXPIRATION), after), expected, "{}", state.name());
    }
}

#[test]
fn nothing_expires_before_or_at_its_expiration() {
    for state in TRANSFER_STATES {
        for offset_ms in [-1, 0] {
            let found = decide_due_entry(&entry(state, CHANGED, at(-5_000)), at(offset_ms));
            let expected = match state.is_final() {
                true => Remove,
                false => Recheck(EXPIRATION),
            };
            assert_eq!(found.expire, None, "{} at expiration {offset_ms:+} ms", state.name());
            assert_eq!(found.entry, expected, "{} at expiration {offset_ms:+} ms", state.name());
            assert!(!found.stranded);
        }
    }
}

#[test]
fn a_waiting_transfer_is_re_driven_once_stranded() {
    let stranded_at = CHANGED.plus_ms(REDRIVE_GRACE_MS);
    let now = stranded_at.plus_ms(1);
    let waited_ms = now.unix_ms() - CHANGED.unix_ms();
    let cases = [
        (ReceivedFulfil, false, Some(FollowUp::Commit)),
        (ReceivedError, true, Some(FollowUp::Abort)),
        (ReceivedError, false, Some(FollowUp::AbortValidation)),
        (ReservedTimeout, false, Some(FollowUp::TimeoutReserved)),
        (ReceivedReject, false, None),
    ];
    for (state, payee_error, follow_up) in cases {
        let due = EXPIRATION.plus_ms(REDRIVE_GRACE_MS);
        let mut waiting = entry(state, CHANGED, due);
        waiting.payee_error = payee_error;
        let before = decide_due_entry(&waiting, stranded_at.plus_ms(-1));
        assert_eq!(before, decision(None, None, false, Recheck(stranded_at)), "{} just before", state.name());
        let found = decide_due_entry(&waiting, now);
        assert_eq!(found, decision(None, follow_up, true, Recheck(now.plus_ms(waited_ms))), "{}", state.name());
    }
}

#[test]
fn a_stranded_transfer_is_rechecked_at_doubling_intervals_up_to_the_maximum() {
    let mut now = CHANGED.plus_ms(REDRIVE_GRACE_MS);
    let mut intervals = Vec::new();
    for _ in 0..12 {
        let found = decide_due_entry(&entry(ReceivedFulfil, CHANGED, now), now);
        assert_eq!((found.follow_up, found.stranded), (Some(FollowUp::Commit), true));
        let Recheck(next) = found.entry else { panic!("a waiting transfer keeps its entry") };
        intervals.push(next.unix_ms() - now.unix_ms());
        now = next;
    }
    assert_eq!(&intervals[..4], [REDRIVE_GRACE_MS, 2 * REDRIVE_GRACE_MS, 4 * REDRIVE_GRACE_MS, 8 * REDRIVE_GRACE_MS]);
    assert!(intervals.windows(2).all(|it| it[0] <= it[1]), "{intervals:?}");
    assert_eq!(*intervals.last().unwrap(), REDRIVE_INTERVAL_MAX_MS);
}

#[test]
fn a_mark_whose_scan_may_have_died_is_published_again_at_once() {
    // The scan marked it RESERVED_TIMEOUT a tick after expiry and did not move the entry on.
    let marked = at(TICK_MS);
    let now = marked.plus_ms(TICK_MS);
    let found = decide_due_entry(&entry(ReservedTimeout, marked, EXPIRATION), now);
    let expected = decision(None, Some(FollowUp::TimeoutReserved), false, Recheck(now.plus_ms(REDRIVE_GRACE_MS)));
    assert_eq!(found, expected);
    // Moved on by that scan's cleanup: the position step has its grace.
    let moved = decide_due_entry(&entry(ReservedTimeout, marked, marked.plus_ms(REDRIVE_GRACE_MS)), now);
    assert_eq!(moved, decision(None, None, false, Recheck(marked.plus_ms(REDRIVE_GRACE_MS))));
}

#[test]
fn timeout_actions_lead_to_allowed_states() {
    let cases = [
        (TimeoutAction::ExpirePrepared, ReceivedPrepare, ExpiredPrepared),
        (TimeoutAction::ExpireReserved, Reserved, ReservedTimeout),
    ];
    for (action, from, next) in cases {
        assert_eq!(action.next_state(), next, "{action:?}");
        assert!(from.can_become(next), "{from:?} -> {next:?}");
    }
    // RESERVED_TIMEOUT is only a mark: the position message then releases the payer.
    assert!(ReservedTimeout.can_become(ExpiredReserved));
}

#[test]
fn every_non_final_state_has_a_way_out() {
    // Past its expiration, a transfer that is not final either expires now, or keeps its entry
    // and is looked at again: nothing is dropped from the work-list while it can still change.
    for state in TRANSFER_STATES.into_iter().filter(|it| !it.is_final()) {
        for now in [at(TICK_MS), CHANGED.plus_ms(REDRIVE_GRACE_MS), at(86_400_000)] {
            let found = decide_due_entry(&entry(state, CHANGED, EXPIRATION), now);
            let expired = found.expire.is_some_and(|it| it.next_state().is_final());
            assert!(
                expired || matches!(found.entry, Recheck(next) if next > now),
                "{} at {now:?}: {found:?}",
                state.name()
            );
        }
    }
}
