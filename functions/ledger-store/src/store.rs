//! The two handles callers hold: [`LedgerStore`], every store concern plus `begin`, and
//! [`LedgerTx`], every transaction concern plus `commit` (see the crate documentation).

use std::fmt;

use async_trait::async_trait;

use crate::deliveries::DeliveryStore;
use crate::error::StoreError;
use crate::operator::{OperatorStore, SettlementTx};
use crate::reference::ReferenceStore;
use crate::transfers::{TransferStore, TransferTx};
use crate::work_list::WorkListTx;

/// The ledger store, one handle over every store concern (see the crate documentation).
#[async_trait]
pub trait LedgerStore: ReferenceStore + TransferStore + DeliveryStore + OperatorStore + Send + Sync {
    /// Opens a transaction. Writers are serialised per account by row locks (MySQL) or by the
    /// single writer (SQLite).
    async fn begin(&self) -> Result<Box<dyn LedgerTx>, StoreError>;
}

/// One database transaction, every transaction concern; dropping it without commit rolls it
/// back.
#[async_trait]
pub trait LedgerTx: TransferTx + WorkListTx + SettlementTx + Send {
    /// Commits the transaction. Before it does, the store asserts that every position written
    /// in it equals its account's last journal value (see the crate documentation).
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

impl fmt::Debug for dyn LedgerTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerTx")
    }
}
