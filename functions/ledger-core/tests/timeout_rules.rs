//! Table-driven timeout rules: `decide_timeout` for every transfer state, one millisecond before,
//! exactly at and one millisecond after its expiration (`expirationDate < now` expires).

use ledger_core::state::{TransferState, TRANSFER_STATES};
use ledger_core::time::Timestamp;
use ledger_core::timeout::{decide_timeout, TimeoutAction};

use TransferState::*;

const EXPIRATION: Timestamp = Timestamp::from_unix_ms(1_700_000_000_000);

#[test]
fn every_state_before_at_and_after_expiration() {
    // What the scan does once the expiration has passed; before it and at it, nothing.
    let after = [
        (ReceivedPrepare, Some(TimeoutAction::ExpirePrepared)),
        (Reserved, Some(TimeoutAction::ExpireReserved)),
        (ReceivedFulfil, None),
        (Committed, None),
        (Failed, None),
        (ReservedTimeout, None),
        (ReceivedReject, None),
        (AbortedRejected, None),
        (ReceivedError, None),
        (AbortedError, None),
        (ExpiredPrepared, None),
        (ExpiredReserved, None),
        (Invalid, None),
        (Settled, None),
    ];
    assert_eq!(after.map(|(state, _)| state), TRANSFER_STATES, "the table covers every state in order");
    for (state, expected) in after {
        check(state, -1, None);
        check(state, 0, None);
        check(state, 1, expected);
        check(state, 86_400_000, expected);
    }
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

/// Decides `state` at `EXPIRATION + offset_ms` and compares the action.
#[track_caller]
fn check(state: TransferState, offset_ms: i64, expected: Option<TimeoutAction>) {
    let now = EXPIRATION.plus_ms(offset_ms);
    assert_eq!(decide_timeout(state, EXPIRATION, now), expected, "{} at expiration {offset_ms:+} ms", state.name());
}
