//! The embedded store: SQLite (bundled), WAL journal, `synchronous = FULL` so a commit is on
//! disk before it returns.
//!
//! SQLite has one writer at a time, so the store keeps one writer connection behind an async mutex:
//! a [`LedgerTx`] holds it from `BEGIN IMMEDIATE` to `COMMIT`, which serialises batches exactly as
//! row locks would. Every write transaction, the operator's single writes too, begins `IMMEDIATE`
//! (`write_transaction`): one begun as a read cannot become a write while another process (a second
//! handler, an operator's tool, a test) writes the file, and SQLite fails it at once ("database is
//! locked") instead of waiting out the busy timeout. Reads outside a transaction use a second
//! connection, which WAL lets run beside the writer. Statements take microseconds and a commit's
//! fsync well under a millisecond, so they run inline on the calling task. Wrapping each in
//! `block_in_place` (as this store once did) handed the worker's other tasks to another thread per
//! statement; under load that made every transaction hold the writer longer and doubled end-to-end
//! latency (issue 7's measurements).
//!
//! This module is what the concerns' SQLite halves (`reference/sqlite.rs`,
//! `transfers/sqlite.rs`, …) share: opening the file, the store and transaction types, the
//! multi-row INSERT, and `amounts` (how money is stored), `error` (how SQLite's errors become
//! [`StoreError`]s) and `migrate`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, TransactionBehavior};
use sqlite_wal::{WalPolicy, WalRestart};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::checks::TxChecks;
use crate::error::StoreError;
use crate::statements::{insert_runs, placeholders};
use crate::store::{LedgerStore, LedgerTx};

pub(crate) mod amounts;
pub(crate) mod error;
mod migrate;

use error::sql_error;
use migrate::migrate;

/// Migrations in order; each runs once, inside a transaction, and is recorded.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_ledger.sql")),
    (2, include_str!("../../migrations/sqlite/0002_notifications.sql")),
    (3, include_str!("../../migrations/sqlite/0003_settlement.sql")),
    (4, include_str!("../../migrations/sqlite/0004_deliveries_by_transfer.sql")),
    (5, include_str!("../../migrations/sqlite/0005_wide_amounts.sql")),
    (6, include_str!("../../migrations/sqlite/0006_timeouts_by_transfer.sql")),
];
/// How long a connection waits for another process's lock before giving up.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Prepared statements kept per connection (multi-row statements vary by row count).
const STATEMENT_CACHE_CAPACITY: usize = 256;
/// Page cache per connection. SQLite's default (2 MiB) makes every batch re-read index pages
/// from the file; the ledger's hot indexes fit in this.
const PAGE_CACHE_KIB: u32 = 131_072;
/// WAL pages before a connection checkpoints on its own: only a backstop in case the checkpointer
/// thread falls far behind, because a checkpoint run by the committing connection holds the
/// single writer (and its task's worker thread) while it copies and syncs; at 10 000 pages that
/// stalled every function for a few hundred milliseconds each second under load (issue 7).
const WAL_CHECKPOINT_PAGES: u32 = 200_000;

/// The embedded ledger store.
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) writer: Arc<Mutex<Connection>>,
    pub(crate) reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    pub(crate) wal: WalRestart,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let writer = blocking(|| open_connection(path))?;
        blocking(|| migrate(&writer))?;
        let reader = blocking(|| open_connection(path))?;
        let writer = Arc::new(Mutex::new(writer));
        // The checkpointer copies the WAL on its own thread and connection until the store (its
        // writer) is gone, and asks the writer to start the log again when it is long.
        let alive = Arc::downgrade(&writer);
        let wal = sqlite_wal::start_checkpointer(
            "ledger-checkpoint",
            blocking(|| open_connection(path))?,
            WalPolicy::default(),
            move || alive.strong_count() > 0,
        );
        Ok(SqliteStore { writer, reader: Arc::new(Mutex::new(reader)), path: path.to_path_buf(), wal })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(sql_error)?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS)).map_err(sql_error)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // FULL makes every commit durable (the WAL is fsynced at commit), which the ledger needs.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -{PAGE_CACHE_KIB}; PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}; \
         PRAGMA temp_store = MEMORY;"
    ))
    .map_err(sql_error)?;
    Ok(conn)
}

/// A transaction that holds the write lock from its start (see the module's first section).
pub(crate) fn write_transaction(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_error)
}

/// Runs slow SQLite work (opening, migrating) without stalling a multi-threaded runtime's other
/// tasks.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn LedgerTx>, StoreError> {
        let conn = self.writer.clone().lock_owned().await;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
        Ok(Box::new(SqliteTx { conn, finished: false, wal: self.wal.clone(), checks: TxChecks::default() }))
    }
}

impl SqliteStore {
    /// Inserts rows outside a [`LedgerTx`] in one short transaction on the writer, one
    /// statement per chunk: all rows or none. Waits for an open [`LedgerTx`] to finish.
    pub(crate) async fn write_rows(&self, head: &str, tail: &str, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer.lock().await;
        (|| {
            let tx = write_transaction(&mut conn)?;
            insert_rows(&tx, head, tail, rows.into_iter().map(Ok))?;
            tx.commit().map_err(sql_error)?;
            self.wal.restart_if_due(&conn);
            Ok(())
        })()
    }
}

pub(crate) fn expect_one_row(n_rows: usize, what: &str) -> Result<(), StoreError> {
    match n_rows {
        0 => Err(StoreError::NotFound(what.to_string())),
        _ => Ok(()),
    }
}

/// One SQLite transaction holding the writer connection; the concerns' SQLite halves implement
/// its traits.
pub(crate) struct SqliteTx {
    pub(crate) conn: OwnedMutexGuard<Connection>,
    finished: bool,
    wal: WalRestart,
    pub(crate) checks: TxChecks,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.finished {
            // An abandoned batch must leave nothing behind.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[async_trait]
impl LedgerTx for SqliteTx {
    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.checks.commit();
        let res = self.conn.execute_batch("COMMIT").map_err(sql_error);
        // After a failed COMMIT SQLite may still hold the transaction; Drop rolls it back.
        self.finished = res.is_ok();
        if self.finished {
            self.wal.restart_if_due(&self.conn);
        }
        res
    }
}

/// Inserts rows with one multi-row statement per run of rows (see [`insert_runs`]).
/// `head` is the statement up to `VALUES`, `tail` what follows the rows.
pub(crate) fn insert_rows(
    conn: &Connection,
    head: &str,
    tail: &str,
    rows: impl Iterator<Item = Result<Vec<Value>, StoreError>>,
) -> Result<(), StoreError> {
    let rows: Vec<Vec<Value>> = rows.collect::<Result<_, _>>()?;
    for run in insert_runs(&rows) {
        execute_insert(conn, head, tail, run)?;
    }
    Ok(())
}

fn execute_insert(conn: &Connection, head: &str, tail: &str, rows: &[Vec<Value>]) -> Result<(), StoreError> {
    let n_columns = rows[0].len();
    let row = format!("({})", placeholders(n_columns));
    let sql = format!("{head} VALUES {}{tail}", vec![row; rows.len()].join(","));
    let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
    stmt.execute(params_from_iter(rows.iter().flatten())).map_err(sql_error)?;
    Ok(())
}
