//! The ledger store: one transactional, batch-shaped API over the central-ledger tables, with
//! an embedded SQLite implementation (the default) and a MySQL/MariaDB one (Azure).
//!
//! # Traits per concern, one handle
//! The API is cut by concern, one trait each, so that a reader finds a concern's contract, its
//! SQLite statements and their MySQL twins side by side:
//!
//! | concern | outside a transaction | inside a [`LedgerTx`] |
//! |---|---|---|
//! | participants, accounts, limits, endpoints | [`ReferenceStore`] | |
//! | transfers and positions | [`TransferStore`] (reads) | [`TransferTx`] (locks, loads, writes) |
//! | notification deliveries, dead letters | [`DeliveryStore`] | |
//! | the timeout work-list | | [`WorkListTx`] |
//! | operator APIs and settlement | [`OperatorStore`] | [`SettlementTx`] |
//!
//! Callers hold one handle: [`LedgerStore`] (`Arc<dyn LedgerStore>`) is every store
//! concern plus [`LedgerStore::begin`], and [`LedgerTx`] (`Box<dyn LedgerTx>`) every transaction
//! concern plus [`LedgerTx::commit`]. Methods of the concern traits are callable on those trait
//! objects and on generic `S: LedgerStore` without importing anything more; code that calls
//! them on a concrete store (`SqliteStore`, `MysqlStore`) imports `ledger_store::prelude::*`.
//!
//! # Layout
//! - `store` holds the two handles, [`LedgerStore`] and [`LedgerTx`]; `error` the one error
//!   type, [`StoreError`]. This file only declares modules and re-exports.
//! - `<concern>/mod.rs` holds the concern's trait and row types; `<concern>/sqlite.rs` and
//!   `<concern>/mysql.rs` are its two implementations, written to be read side by side:
//!   `reference`, `transfers`, `deliveries`, `work_list`, `operator`.
//! - `sqlite/` and `mysql/` hold what a backend's concerns share: opening the database and its
//!   migrations (under `migrations/`, applied on open and idempotent), the store and
//!   transaction types, error translation, and how values are encoded (`sqlite/amounts.rs`,
//!   `mysql/columns.rs`).
//! - `statements` shapes multi-row statements and `IN` lists the same way for both backends;
//!   `text` fits texts to their columns; `decode` reads stored text back into ledger values;
//!   `checks` holds the assertions every transaction runs where money is written.
//!
//! A transaction loads what a batch needs (positions under row locks in ascending account
//! order, transfer states, duplicate-check hashes), lets the core decide, writes every row kind
//! with one multi-row statement, and commits. Dropping a transaction without
//! [`LedgerTx::commit`] rolls it back: a batch commits whole or not at all.
//!
//! # Invariants
//! - State journals are insert-only: `transfer_state_change` rows are keyed by the transfer and
//!   a per-transfer `seq` and never updated, so two racing writers of the same next state
//!   collide on the key ([`StoreError::Conflict`]) instead of both succeeding. Both backends key
//!   every child row of a transfer on a sequential `transfer_seq`, not on the (mostly random)
//!   transfer id, so new rows append instead of landing on random pages.
//! - Every position update comes with a journal row whose `value` is the running position.
//! - Exactly one settlement window is OPEN: the database enforces it with a unique marker.
//! - A notification is recorded once per (event id, recipient): recording the pair again is a
//!   no-op, so re-emitted events are not delivered twice.
//! - The timeout work-list (`transfer_timeout`) has one entry per transfer that may still need
//!   the timeout function, keyed by when it is next due; the store never decides which: callers
//!   remove an entry in the transaction that makes its transfer final
//!   ([`WorkListTx::delete_timeouts_of`]), and a moved entry never comes back once removed.
//!
//! # Assertions where money is written
//! Each transaction checks what its callers promise (`checks`), TigerBeetle style: a bug
//! crashes before anything commits instead of writing a wrong ledger. Cheap checks are
//! `assert!`: a position is updated, or journaled, only on an account locked in this
//! transaction; journal rows run from the locked value (each row's value is the previous one
//! plus its change); and the position written equals the account's last journal value.
//! Costlier ones are `debug_assert!`: a transfer's next state `seq` is the previous one plus
//! one, and the child rows of a batch land on their own transfers.

mod checks;
mod decode;
pub mod deliveries;
mod error;
mod mysql;
pub mod operator;
pub mod reference;
mod sqlite;
mod statements;
mod store;
mod text;
pub mod transfers;
pub mod work_list;

pub use crate::deliveries::{
    DeadLetterRecord, DeliveryKey, DeliveryStore, NewDeadLetter, NewDelivery, DEAD_LETTER_BODY_BYTES_MAX,
    DEAD_LETTER_REASON_BYTES_MAX, DEAD_LETTER_SOURCE_LENGTH_MAX, EVENT_ID_LENGTH_MAX, RECIPIENT_LENGTH_MAX,
    TRANSFER_ID_LENGTH_MAX,
};
pub use crate::error::StoreError;
pub use crate::mysql::{connect_pool as mysql_pool, MysqlStore, MysqlStoreConfig};
pub use crate::operator::{OperatorStore, SettlementTx, Window};
pub use crate::reference::{ReferenceStore, ENDPOINT_TYPE_LENGTH_MAX, ENDPOINT_VALUE_LENGTH_MAX};
pub use crate::sqlite::SqliteStore;
pub use crate::statements::{STATEMENT_ROWS_MAX, STATEMENT_SHAPES};
pub use crate::store::{LedgerStore, LedgerTx};
pub use crate::transfers::{
    CurrentState, HashKind, NewFulfilment, NewPositionChange, NewStateChange, NewTransfer, NewTransferError,
    TransferRecord, TransferStore, TransferTx, ERROR_DESCRIPTION_LENGTH_MAX, STATE_REASON_LENGTH_MAX,
};
pub use crate::work_list::WorkListTx;

/// Every trait of the store, for code that calls the concerns' methods on a concrete store.
pub mod prelude {
    pub use crate::deliveries::DeliveryStore;
    pub use crate::operator::{OperatorStore, SettlementTx};
    pub use crate::reference::ReferenceStore;
    pub use crate::store::{LedgerStore, LedgerTx};
    pub use crate::transfers::{TransferStore, TransferTx};
    pub use crate::work_list::WorkListTx;
}
