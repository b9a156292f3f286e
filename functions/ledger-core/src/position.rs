//! Position decisions for a whole batch of position messages across many accounts.
//!
//! The store loads every account the batch names (locked, in sorted order) and the current
//! state of every transfer; [`decide_batch`] then works purely in memory:
//!
//! | step | what |
//! |---|---|
//! | 1 | bin the messages by account (ascending), then by action in [`ACTION_ORDER`] |
//! | 2 | per message: check the transfer's state, apply the rule, carry the running position |
//! | 3 | return one outcome per message, the journal rows in apply order, and final positions |
//!
//! Nothing is written unless the caller writes all of it in one transaction. A message whose
//! transfer is no longer in the state the action expects is `Stale`: that is how a redelivered
//! batch becomes a no-op, because the first delivery already moved the state on.

use std::collections::{BTreeMap, HashMap};

use crate::account::NetDebitCap;
use crate::amount::Amount;
use crate::ids::{AccountId, TransferId};
use crate::rejection::Rejection;
use crate::state::TransferState;

/// What a position message asks for (Mojaloop's position actions, without FX).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionAction {
    /// Reserve the payer's position (keyed by the payer).
    Prepare,
    /// Commit: lower the payee's position (keyed by the payee).
    Commit,
    /// Commit requested with `transferState: RESERVED` (v1.1 PATCH flow), keyed by the payee.
    Reserve,
    /// The payee sent PUT /error: release the payer's reservation.
    Abort,
    /// The fulfil failed validation: release the payer's reservation.
    AbortValidation,
    /// The timeout handler expired a reserved transfer: release the payer's reservation.
    TimeoutReserved,
}

/// The order actions are applied in within one account's bin: releases before reservations,
/// so a batch frees headroom before it spends it.
pub const ACTION_ORDER: [PositionAction; 6] = [
    PositionAction::Commit,
    PositionAction::Reserve,
    PositionAction::Abort,
    PositionAction::AbortValidation,
    PositionAction::TimeoutReserved,
    PositionAction::Prepare,
];

impl PositionAction {
    /// The state the transfer must be in for the action to apply.
    pub fn expected_state(self) -> TransferState {
        match self {
            PositionAction::Prepare => TransferState::ReceivedPrepare,
            PositionAction::Commit | PositionAction::Reserve => TransferState::ReceivedFulfil,
            PositionAction::Abort | PositionAction::AbortValidation => TransferState::ReceivedError,
            PositionAction::TimeoutReserved => TransferState::ReservedTimeout,
        }
    }

    /// The state the transfer reaches when the action applies.
    pub fn applied_state(self) -> TransferState {
        match self {
            PositionAction::Prepare => TransferState::Reserved,
            PositionAction::Commit | PositionAction::Reserve => TransferState::Committed,
            PositionAction::Abort | PositionAction::AbortValidation => TransferState::AbortedError,
            PositionAction::TimeoutReserved => TransferState::ExpiredReserved,
        }
    }

    fn order_idx(self) -> usize {
        ACTION_ORDER.iter().position(|it| *it == self).expect("every action is in ACTION_ORDER")
    }
}

/// One message of a position batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionMessage {
    /// The POSITION account whose position changes (the message's partition key).
    pub account: AccountId,
    pub action: PositionAction,
    pub transfer_id: TransferId,
    /// The transfer amount, always positive.
    pub amount: Amount,
}

/// An account's values as loaded under lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionAccount {
    /// Net debit position: positive means the DFSP owes.
    pub position: Amount,
    pub reserved: Amount,
    /// The DFSP's SETTLEMENT account value: negative when funded.
    pub settlement_balance: Amount,
    pub net_debit_cap: Option<NetDebitCap>,
}

impl PositionAccount {
    /// How much of its net debit cap the account uses, in whole percent rounded down: position
    /// and reservations over the cap, 0 while the DFSP is in credit. `None` without a cap, or with
    /// a zero cap (no debit is allowed at all, so no share of it can be told).
    pub fn ndc_used_percent(&self) -> Option<u64> {
        let cap = self.net_debit_cap?.value().units();
        if cap <= 0 {
            return None;
        }
        let used = (self.position + self.reserved).units().max(0);
        Some(u64::try_from(used.saturating_mul(100) / cap).unwrap_or(u64::MAX))
    }
}

/// The loaded world a batch is decided against.
#[derive(Debug, Clone, Default)]
pub struct PositionSnapshot {
    pub accounts: BTreeMap<AccountId, PositionAccount>,
    /// The latest state of each transfer the batch names; absent if the transfer is unknown.
    pub transfer_states: HashMap<TransferId, TransferState>,
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PositionOutcome {
    /// The position moved by `change` and the transfer reached `state`.
    Applied { state: TransferState, change: Amount },
    /// A prepare was refused: the transfer becomes ABORTED_REJECTED.
    Rejected { rejection: Rejection },
    /// The transfer is not in the state the action expects (a redelivery, or a race with the
    /// timeout handler): nothing changes.
    Stale { found: Option<TransferState> },
    /// The message names an account the ledger does not have: nothing changes.
    AccountMissing,
}

/// One row of the position journal (`participantPositionChange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionChange {
    pub message_idx: usize,
    pub account: AccountId,
    pub transfer_id: TransferId,
    pub change: Amount,
    /// The running position after this change.
    pub value: Amount,
    pub reserved: Amount,
}

/// The outcome of a whole batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionDecision {
    /// One outcome per input message, at the message's index.
    pub outcomes: Vec<PositionOutcome>,
    /// Journal rows in the order they were applied.
    pub changes: Vec<PositionChange>,
    /// Final values of the accounts whose position changed.
    pub positions: BTreeMap<AccountId, Amount>,
}

/// Decides a batch: see the module documentation for the phases.
pub fn decide_batch(snapshot: &PositionSnapshot, messages: &[PositionMessage]) -> PositionDecision {
    let mut accounts = snapshot.accounts.clone();
    let mut states: HashMap<&TransferId, TransferState> = HashMap::new();
    let mut outcomes = vec![PositionOutcome::AccountMissing; messages.len()];
    let mut changes = Vec::new();
    for message_idx in batch_order(messages) {
        let message = &messages[message_idx];
        let state = states
            .get(&message.transfer_id)
            .copied()
            .or_else(|| snapshot.transfer_states.get(&message.transfer_id).copied());
        let outcome = match accounts.get_mut(&message.account) {
            Some(account) => decide_message(account, state, message),
            None => PositionOutcome::AccountMissing,
        };
        match &outcome {
            PositionOutcome::Applied { state, change } => {
                let account = &accounts[&message.account];
                states.insert(&message.transfer_id, *state);
                changes.push(PositionChange {
                    message_idx,
                    account: message.account,
                    transfer_id: message.transfer_id.clone(),
                    change: *change,
                    value: account.position,
                    reserved: account.reserved,
                });
            }
            PositionOutcome::Rejected { .. } => {
                states.insert(&message.transfer_id, TransferState::AbortedRejected);
            }
            PositionOutcome::Stale { .. } | PositionOutcome::AccountMissing => (),
        }
        outcomes[message_idx] = outcome;
    }
    let positions = changes.iter().map(|it| (it.account, accounts[&it.account].position)).collect();
    PositionDecision { outcomes, changes, positions }
}

/// Message indices sorted by account, then action order, then arrival.
fn batch_order(messages: &[PositionMessage]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..messages.len()).collect();
    order.sort_by_key(|idx| (messages[*idx].account, messages[*idx].action.order_idx(), *idx));
    order
}

fn decide_message(
    account: &mut PositionAccount,
    state: Option<TransferState>,
    message: &PositionMessage,
) -> PositionOutcome {
    assert!(message.amount.is_positive() || message.amount == Amount::ZERO, "position amounts are never negative");
    if state != Some(message.action.expected_state()) {
        return PositionOutcome::Stale { found: state };
    }
    let change = match message.action {
        PositionAction::Prepare => match check_headroom(account, message.amount) {
            Ok(()) => message.amount,
            Err(rejection) => return PositionOutcome::Rejected { rejection },
        },
        PositionAction::Commit
        | PositionAction::Reserve
        | PositionAction::Abort
        | PositionAction::AbortValidation
        | PositionAction::TimeoutReserved => -message.amount,
    };
    account.position += change;
    PositionOutcome::Applied { state: message.action.applied_state(), change }
}

/// Liquidity cover first (4001), then the net debit cap (4200), both against the position
/// including reservations already made in this batch.
fn check_headroom(account: &PositionAccount, amount: Amount) -> Result<(), Rejection> {
    let effective = account.position + account.reserved;
    let liquidity_cover = -account.settlement_balance;
    if liquidity_cover - effective < amount {
        return Err(Rejection::PayerInsufficientLiquidity);
    }
    let cap = match account.net_debit_cap {
        Some(cap) => cap.value(),
        None => return Err(Rejection::PayerLimitExceeded),
    };
    if cap - effective < amount {
        return Err(Rejection::PayerLimitExceeded);
    }
    Ok(())
}
