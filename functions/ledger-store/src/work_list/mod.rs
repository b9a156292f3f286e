//! The timeout work-list ([`WorkListTx`]): `transfer_timeout`, one entry per transfer that may
//! still need the timeout function, keyed by when it is next due, then by `transfer_seq`. The
//! timeout function scans what is due, and moves or removes what it read; the transaction that
//! makes a transfer final removes its entry.

use async_trait::async_trait;
use ledger_core::ids::TransferId;
use ledger_core::time::Timestamp;

use crate::error::StoreError;

pub(crate) mod mysql;
pub(crate) mod sqlite;

/// The timeout work-list inside one transaction (see the module documentation).
#[async_trait]
pub trait WorkListTx: Send {
    /// Entries of the timeout work-list due before `now` as `(transfer, due)`: soonest first,
    /// then in the order the transfers were stored, at most `limit`. The work-list holds one
    /// entry per transfer that is not final, due at its expiration until the timeout function
    /// moves it on ([`LedgerTx::move_timeouts`]).
    async fn due_timeouts(&mut self, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError>;

    /// Removes timeout entries, named as [`LedgerTx::due_timeouts`] returned them; an entry no
    /// longer there (or due at another time) is left as it is.
    async fn delete_timeouts(&mut self, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError>;

    /// Moves timeout entries to a new due time: `(transfer, due as read, new due)`. An entry no
    /// longer due at the time read (removed meanwhile by the transaction that made its transfer
    /// final) is left as it is, so a finished transfer never gets its entry back.
    async fn move_timeouts(&mut self, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError>;

    /// Removes the timeout entries of these transfers, whenever due: called in the transaction
    /// that makes them final. Unknown transfers and transfers without an entry are skipped.
    async fn delete_timeouts_of(&mut self, ids: &[TransferId]) -> Result<(), StoreError>;
}
