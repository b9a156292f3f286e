//! Transfers and positions: the reads of a transfer outside a transaction ([`TransferStore`])
//! and, inside one ([`TransferTx`]), what the prepare, position, fulfil and timeout functions
//! load and write: positions locked in ascending account order, transfer states and
//! duplicate-check hashes, then multi-row inserts of transfers and their child rows (state
//! changes, position journal rows, errors, fulfilments, hashes) and the new positions.
//!
//! `sqlite.rs` and `mysql.rs` implement both traits; every write goes through the transaction's
//! `checks` first (see the crate documentation).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use ledger_core::amount::Amount;
use ledger_core::condition::{IlpCondition, IlpFulfilment};
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, TransferId, WindowId};
use ledger_core::position::PositionAccount;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;

use crate::error::StoreError;

pub(crate) mod mysql;
pub(crate) mod sqlite;

/// Longest reason text a state change keeps (`transferStateChange.reason VARCHAR(512)`).
pub const STATE_REASON_LENGTH_MAX: usize = 512;
/// Longest error description kept (`transferError.errorDescription VARCHAR(128)`).
pub const ERROR_DESCRIPTION_LENGTH_MAX: usize = 128;

/// A new transfer as prepare persists it (transfer row, first state, timeout entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    pub transfer_id: TransferId,
    pub payer: FspId,
    pub payee: FspId,
    /// The payer side's account (+amount): the payer's POSITION account, or for internal
    /// transfers the debited account. `None` when validation failed before it was known.
    pub payer_account: Option<AccountId>,
    /// The payee side's account (−amount).
    pub payee_account: Option<AccountId>,
    pub amount: Amount,
    pub currency: Currency,
    /// `None` for internal transfers and for prepares whose condition did not decode.
    pub condition: Option<IlpCondition>,
    pub expiration: Timestamp,
    pub ilp_packet: String,
    pub hash: RequestHash,
    /// RECEIVED_PREPARE, or INVALID when validation failed.
    pub state: TransferState,
    pub reason: Option<String>,
    pub created: Timestamp,
    pub extensions: Vec<(String, String)>,
}

/// An appended transfer state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStateChange {
    pub transfer_id: TransferId,
    /// One more than the transfer's latest `seq`.
    pub seq: u32,
    pub state: TransferState,
    pub reason: Option<String>,
    pub created: Timestamp,
}

/// An appended position journal row, linked to the state change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPositionChange {
    pub account: AccountId,
    pub transfer_id: TransferId,
    pub seq: u32,
    pub change: Amount,
    pub value: Amount,
    pub reserved: Amount,
    pub created: Timestamp,
}

/// Which duplicate-check table a hash belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    Prepare,
    Fulfil,
    Error,
}

/// A transfer's error (one per transfer: `transferError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransferError {
    pub transfer_id: TransferId,
    pub seq: u32,
    pub code: u16,
    pub description: String,
    pub created: Timestamp,
}

/// A payee's accepted fulfilment, tagged with the settlement window that was OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFulfilment {
    pub transfer_id: TransferId,
    pub fulfilment: Option<IlpFulfilment>,
    pub completed: Timestamp,
    pub window: WindowId,
    pub created: Timestamp,
}

/// A transfer's latest state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentState {
    pub state: TransferState,
    pub seq: u32,
    pub changed: Timestamp,
}

/// A transfer with everything a GET, a fulfil or a callback needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub transfer_id: TransferId,
    pub payer: FspId,
    pub payee: FspId,
    pub payer_account: Option<AccountId>,
    pub payee_account: Option<AccountId>,
    pub amount: Amount,
    pub currency: Currency,
    pub condition: Option<IlpCondition>,
    pub expiration: Timestamp,
    pub ilp_packet: String,
    pub created: Timestamp,
    pub current: CurrentState,
    pub fulfilment: Option<IlpFulfilment>,
    pub window: Option<WindowId>,
    pub error: Option<(u16, String)>,
    pub extensions: Vec<(String, String)>,
}

/// Transfers read outside a transaction: what a GET, a callback or an operator needs.
#[async_trait]
pub trait TransferStore: Send + Sync {
    /// A transfer with its latest state, or `None`.
    async fn transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>, StoreError>;

    /// Several transfers with their latest states, read together (one round of queries for a
    /// whole batch); ids with no transfer are absent from the map.
    async fn transfers(&self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError>;

    /// A transfer's state journal, oldest first.
    async fn state_history(&self, id: &TransferId) -> Result<Vec<CurrentState>, StoreError>;

    /// An account's position journal, oldest first: `(transfer, change, running value)`.
    async fn position_journal(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Option<TransferId>, Amount, Amount)>, StoreError>;
}

/// The transfer and position writes of one transaction (see the module documentation).
#[async_trait]
pub trait TransferTx: Send {
    /// Locks the POSITION accounts (ascending id, so concurrent batches cannot deadlock) and
    /// their participants' SETTLEMENT accounts in the same currency, and returns what the
    /// position decision needs. Unknown accounts are absent from the result.
    async fn lock_positions(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError>;

    /// Locks accounts and returns their `(value, reserved)` for balance moves that are not
    /// position decisions (funds in/out, settlement transfers).
    async fn lock_balances(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<BTreeMap<AccountId, (Amount, Amount)>, StoreError>;

    /// Latest state of each known transfer.
    async fn current_states(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError>;

    /// Stored duplicate-check hashes of each id that has one.
    async fn hashes(
        &mut self,
        kind: HashKind,
        ids: &[TransferId],
    ) -> Result<HashMap<TransferId, RequestHash>, StoreError>;

    /// Full records of the known transfers.
    async fn transfers(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError>;

    /// Inserts transfers with their prepare hash, first state (seq 1), extensions and timeout
    /// entry. [`StoreError::Conflict`] if any id exists.
    async fn insert_transfers(&mut self, rows: &[NewTransfer]) -> Result<(), StoreError>;

    /// Inserts fulfil or error duplicate-check hashes.
    async fn insert_hashes(
        &mut self,
        kind: HashKind,
        rows: &[(TransferId, RequestHash, Timestamp)],
    ) -> Result<(), StoreError>;

    /// Appends state changes. A transfer whose latest state this transaction read or wrote must
    /// move on by one `seq` per row (asserted in debug builds); a taken `(transfer, seq)` is
    /// [`StoreError::Conflict`].
    async fn insert_state_changes(&mut self, rows: &[NewStateChange]) -> Result<(), StoreError>;

    /// Appends position journal rows, in order. Each account must have been locked in this
    /// transaction, and each row's `value` must be the previous row's (or the locked value) plus
    /// its `change` (asserted).
    async fn insert_position_changes(&mut self, rows: &[NewPositionChange]) -> Result<(), StoreError>;

    /// Sets accounts' values. Each must have been locked in this transaction, and an account
    /// journaled in it gets its last journal value (asserted, and again at commit).
    async fn update_positions(&mut self, rows: &[(AccountId, Amount)], changed: Timestamp) -> Result<(), StoreError>;

    async fn insert_errors(&mut self, rows: &[NewTransferError]) -> Result<(), StoreError>;

    async fn insert_fulfilments(&mut self, rows: &[NewFulfilment]) -> Result<(), StoreError>;
}
