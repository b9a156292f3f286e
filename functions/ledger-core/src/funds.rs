//! Funds in and out: operator-driven moves between a DFSP's SETTLEMENT account and the Hub's
//! HUB_RECONCILIATION account, each recorded as an internal transfer.
//!
//! Sign conventions (central-ledger): a funded SETTLEMENT account is negative, so funds in
//! lowers it; HUB_RECONCILIATION rises by the same amount. Funds out first reserves on the
//! SETTLEMENT account (it rises), then commits on the Hub side, or aborts and reverses.

use crate::amount::Amount;
use crate::rejection::Rejection;
use crate::state::TransferState;
use crate::time::Timestamp;

/// How long an internal transfer stays valid (`INTERNAL_TRANSFER_VALIDITY_SECONDS`, 5 days).
pub const INTERNAL_TRANSFER_VALIDITY_MS: i64 = 432_000 * 1000;

/// An operator's funds action (the admin API's `action` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundsAction {
    In,
    OutPrepareReserve,
    OutCommit,
    OutAbort,
}

/// Which side of the pair an entry moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundsSide {
    Settlement,
    HubReconciliation,
}

/// One balance move with the running value after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundsMove {
    pub side: FundsSide,
    pub change: Amount,
    pub value: Amount,
}

/// The two balances a funds action touches, as loaded under lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundsBalances {
    pub settlement: Amount,
    pub hub_reconciliation: Amount,
}

/// The states to append, in order, and the balance moves to journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsDecision {
    pub states: Vec<TransferState>,
    pub moves: Vec<FundsMove>,
    /// Set when the ledger aborted the action itself (funds out beyond the balance).
    pub aborted: bool,
}

/// The transfer a funds action continues; `None` for the first action of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundsTransfer {
    pub state: TransferState,
    pub expiration: Timestamp,
}

/// Decides one funds action on `amount` (positive).
pub fn decide_funds(
    action: FundsAction,
    amount: Amount,
    balances: FundsBalances,
    existing: Option<FundsTransfer>,
    now: Timestamp,
) -> Result<FundsDecision, Rejection> {
    assert!(amount.is_positive(), "funds amounts are positive");
    match (action, existing) {
        (FundsAction::In, None) => Ok(funds_in(amount, balances)),
        (FundsAction::OutPrepareReserve, None) => Ok(funds_out_reserve(amount, balances)),
        (FundsAction::OutCommit, Some(it)) if it.state == TransferState::Reserved => {
            if it.expiration <= now {
                return Err(Rejection::TransferExpired);
            }
            Ok(funds_out_commit(amount, balances))
        }
        (FundsAction::OutAbort, Some(it)) if it.state == TransferState::Reserved => {
            Ok(funds_out_abort(amount, balances))
        }
        (FundsAction::OutCommit | FundsAction::OutAbort, found) => {
            Err(Rejection::IncorrectState { found: found.map(|it| it.state), expected: TransferState::Reserved })
        }
        (FundsAction::In | FundsAction::OutPrepareReserve, Some(_)) => Err(Rejection::ModifiedRequest),
    }
}

fn funds_in(amount: Amount, balances: FundsBalances) -> FundsDecision {
    let hub = balances.hub_reconciliation + amount;
    let settlement = balances.settlement - amount;
    FundsDecision {
        states: vec![
            TransferState::ReceivedPrepare,
            TransferState::Reserved,
            TransferState::ReceivedFulfil,
            TransferState::Committed,
        ],
        moves: vec![
            FundsMove { side: FundsSide::HubReconciliation, change: amount, value: hub },
            FundsMove { side: FundsSide::Settlement, change: -amount, value: settlement },
        ],
        aborted: false,
    }
}

fn funds_out_reserve(amount: Amount, balances: FundsBalances) -> FundsDecision {
    let reserved = balances.settlement + amount;
    if reserved.is_positive() {
        // The DFSP would withdraw more than it has: reserve and reverse at once, as
        // central-ledger does (through RECEIVED_REJECT, like an operator's abort), so the
        // journal shows the attempt.
        return FundsDecision {
            states: vec![
                TransferState::ReceivedPrepare,
                TransferState::Reserved,
                TransferState::ReceivedReject,
                TransferState::AbortedRejected,
            ],
            moves: vec![
                FundsMove { side: FundsSide::Settlement, change: amount, value: reserved },
                FundsMove { side: FundsSide::Settlement, change: -amount, value: balances.settlement },
            ],
            aborted: true,
        };
    }
    FundsDecision {
        states: vec![TransferState::ReceivedPrepare, TransferState::Reserved],
        moves: vec![FundsMove { side: FundsSide::Settlement, change: amount, value: reserved }],
        aborted: false,
    }
}

fn funds_out_commit(amount: Amount, balances: FundsBalances) -> FundsDecision {
    FundsDecision {
        states: vec![TransferState::ReceivedFulfil, TransferState::Committed],
        moves: vec![FundsMove {
            side: FundsSide::HubReconciliation,
            change: -amount,
            value: balances.hub_reconciliation - amount,
        }],
        aborted: false,
    }
}

fn funds_out_abort(amount: Amount, balances: FundsBalances) -> FundsDecision {
    FundsDecision {
        states: vec![TransferState::ReceivedReject, TransferState::AbortedRejected],
        moves: vec![FundsMove { side: FundsSide::Settlement, change: -amount, value: balances.settlement - amount }],
        aborted: false,
    }
}
