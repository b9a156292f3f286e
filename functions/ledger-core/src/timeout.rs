//! Timeout decisions: what the periodic scan does with a transfer whose expiration has passed.

use crate::state::TransferState;
use crate::time::Timestamp;

/// What the timeout scan does with one expired transfer.
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

/// Decides whether a transfer times out now. Only transfers still waiting on a party expire:
/// once the payee has answered (RECEIVED_FULFIL, RECEIVED_ERROR) the pipeline finishes them.
pub fn decide_timeout(state: TransferState, expiration: Timestamp, now: Timestamp) -> Option<TimeoutAction> {
    if now <= expiration {
        return None;
    }
    match state {
        TransferState::ReceivedPrepare => Some(TimeoutAction::ExpirePrepared),
        TransferState::Reserved => Some(TimeoutAction::ExpireReserved),
        _ => None,
    }
}
