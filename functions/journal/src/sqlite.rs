//! The embedded journal: a `journal_entry` table in the ledger's SQLite file (or any file).
//!
//! It opens its own connection, so it never contends with the ledger store's transaction
//! beyond SQLite's single writer lock, which the busy timeout waits for. An append is one
//! transaction of one cached single-row `INSERT … ON CONFLICT DO NOTHING` run per entry: one
//! fsync per batch, no statement parsed per call, and a re-appended entry is left as first
//! written.
//!
//! # Layout
//! Rows go in insertion order (rowid), so appends fill pages at the end of the table. One unique
//! index, `(transfer_id, entry_id)`, both refuses a repeated entry and finds a transfer's
//! entries. (An entry id is derived from the event that also names its transfer, so an id never
//! comes with two transfers and the pair is as unique as the id.) The first layout had a primary
//! key on `entry_id` and a second index by transfer: two random index pages written per entry
//! instead of one, which made the journal the handler's largest cost under load (issue 7). A
//! file in that layout is rewritten into this one when it is opened.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, TransactionBehavior};
use sqlite_wal::{WalPolicy, WalRestart};

use crate::sql::{encode_headers, entry_from_row, row_placeholders, StoredRow, COLUMNS};
use crate::{
    check_batch, transfer_journal, Journal, JournalEntry, JournalError, TransferJournal, TransferKey, READ_ENTRIES_MAX,
};

/// How long a statement waits for another writer (the ledger store) to release the file.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// WAL pages before the appending connection checkpoints on its own: a backstop only. A
/// checkpoint there delays the append, and with it every FSPIOP answer waiting on that group,
/// so the checkpointer thread does the work instead (as in the ledger store).
const WAL_CHECKPOINT_PAGES: u32 = 200_000;

const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS journal_entry (
    entry_id TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    direction TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    body_length INTEGER NOT NULL,
    body_sha256 TEXT NOT NULL,
    truncated INTEGER NOT NULL,
    source TEXT NOT NULL,
    destination TEXT,
    http_status INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS journal_entry_by_transfer_entry ON journal_entry (transfer_id, entry_id);
";

/// The first layout's secondary index; its presence marks a file to rewrite.
const FIRST_LAYOUT_INDEX: &str = "journal_entry_by_transfer";

/// Rewrites a first-layout table (primary key on `entry_id`) into the current one, keeping every
/// row; run inside one transaction.
const FROM_FIRST_LAYOUT: &str = "
ALTER TABLE journal_entry RENAME TO journal_entry_first_layout;
DROP INDEX IF EXISTS journal_entry_by_transfer;
";

/// The journal in a SQLite file.
pub struct SqliteJournal {
    // std's Mutex: it is only taken inside spawn_blocking, never across an await.
    conn: Arc<Mutex<Connection>>,
    wal: WalRestart,
}

impl SqliteJournal {
    /// Opens (creating if needed) the file and the `journal_entry` table.
    pub async fn open(path: &Path) -> Result<SqliteJournal, JournalError> {
        let path = path.to_path_buf();
        let conn = run_blocking(move || {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
            // WAL like the ledger store (a second journal mode on one file is not possible), and
            // FULL so an appended batch survives a crash like the ledger rows it describes.
            conn.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES};"
            ))?;
            migrate(&conn)?;
            let checkpointer = Connection::open(&path)?;
            checkpointer.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
            Ok((conn, checkpointer))
        })
        .await?;
        let (conn, checkpointer) = conn;
        let conn = Arc::new(Mutex::new(conn));
        // The checkpointer copies the WAL on its own thread until the journal is gone, and asks
        // the appending connection to start the log again when it is long.
        let alive = Arc::downgrade(&conn);
        let wal = sqlite_wal::start_checkpointer("journal-checkpoint", checkpointer, WalPolicy::default(), move || {
            alive.strong_count() > 0
        });
        Ok(SqliteJournal { conn, wal })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, JournalError> {
        let conn = self.conn.clone();
        run_blocking(move || {
            // A panic while holding the lock leaves the connection usable (no transaction is
            // left open: rusqlite rolls back a dropped Transaction).
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
    }
}

#[async_trait]
impl Journal for SqliteJournal {
    async fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
        check_batch(entries)?;
        let rows: Vec<Vec<Value>> = entries.iter().map(row_values).collect();
        let wal = self.wal.clone();
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(&insert_sql())?;
                for values in &rows {
                    insert.execute(rusqlite::params_from_iter(values.iter()))?;
                }
            }
            tx.commit()?;
            wal.restart_if_due(conn);
            Ok(())
        })
        .await
    }

    async fn by_transfer(&self, transfer: &TransferKey) -> Result<TransferJournal, JournalError> {
        let transfer = transfer.as_str().to_string();
        let rows = self
            .with_conn(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM journal_entry WHERE transfer_id = ?1 \
                     ORDER BY timestamp_ms, entry_id LIMIT ?2"
                );
                let mut statement = conn.prepare_cached(&sql)?;
                // One more than the limit tells whether there are more.
                let limit = (READ_ENTRIES_MAX + 1) as i64;
                let rows = statement.query_map(rusqlite::params![transfer, limit], stored_row)?;
                rows.collect::<rusqlite::Result<Vec<StoredRow>>>()
            })
            .await?;
        let entries = rows.into_iter().map(entry_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(transfer_journal(entries))
    }
}

fn insert_sql() -> String {
    format!(
        "INSERT INTO journal_entry ({COLUMNS}) VALUES {} ON CONFLICT (transfer_id, entry_id) DO NOTHING",
        row_placeholders(1)
    )
}

/// Creates the table and index, first rewriting a first-layout file (module documentation).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let first_layout: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
        [FIRST_LAYOUT_INDEX],
        |row| row.get(0),
    )?;
    if !first_layout {
        return conn.execute_batch(MIGRATION);
    }
    let rewrite = format!(
        "BEGIN IMMEDIATE; {FROM_FIRST_LAYOUT} {MIGRATION} \
         INSERT INTO journal_entry ({COLUMNS}) SELECT {COLUMNS} FROM journal_entry_first_layout ORDER BY rowid; \
         DROP TABLE journal_entry_first_layout; COMMIT;"
    );
    conn.execute_batch(&rewrite)
}

fn row_values(entry: &JournalEntry) -> Vec<Value> {
    let text = |it: &str| Value::Text(it.to_string());
    vec![
        text(entry.id().as_str()),
        text(entry.transfer().as_str()),
        Value::Integer(entry.timestamp_ms()),
        text(entry.direction().as_str()),
        text(entry.method()),
        text(entry.url()),
        Value::Text(encode_headers(entry.headers())),
        Value::Blob(entry.body().to_vec()),
        // Body lengths are at most BODY_BYTES_MAX for what is stored; the original length of a
        // cut body fits i64 because no request body reaches 2^63 bytes.
        Value::Integer(entry.body_length() as i64),
        text(entry.body_sha256()),
        Value::Integer(i64::from(entry.truncated())),
        text(entry.source()),
        entry.destination().map_or(Value::Null, text),
        entry.http_status().map_or(Value::Null, |it| Value::Integer(i64::from(it))),
    ]
}

fn stored_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRow> {
    Ok(StoredRow {
        entry_id: row.get(0)?,
        transfer_id: row.get(1)?,
        timestamp_ms: row.get(2)?,
        direction: row.get(3)?,
        method: row.get(4)?,
        url: row.get(5)?,
        headers: row.get(6)?,
        body: row.get(7)?,
        body_length: row.get(8)?,
        body_sha256: row.get(9)?,
        truncated: row.get::<_, i64>(10)? != 0,
        source: row.get(11)?,
        destination: row.get(12)?,
        http_status: row.get(13)?,
    })
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, JournalError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(res) => res.map_err(sql_error),
        Err(err) => Err(JournalError::Unavailable(format!("SQLite worker failed: {err}"))),
    }
}

fn sql_error(err: rusqlite::Error) -> JournalError {
    match &err {
        rusqlite::Error::SqliteFailure(code, _) => match code.code {
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                JournalError::Unavailable(err.to_string())
            }
            rusqlite::ErrorCode::ReadOnly
            | rusqlite::ErrorCode::PermissionDenied
            | rusqlite::ErrorCode::NotADatabase => JournalError::Rejected(err.to_string()),
            _ => JournalError::Unavailable(err.to_string()),
        },
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            JournalError::Corrupt(err.to_string())
        }
        _ => JournalError::Unavailable(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Direction, EntryFields, EntryId};

    fn entry(id: &str, transfer: &str, timestamp_ms: i64) -> JournalEntry {
        JournalEntry::new(EntryFields {
            id: EntryId::parse(id).unwrap(),
            transfer: TransferKey::parse(transfer).unwrap(),
            direction: Direction::InboundRequest,
            method: "POST".into(),
            url: "/transfers".into(),
            headers: Vec::new(),
            body: br#"{"transferId":"t"}"#.to_vec(),
            source: "payerfsp".into(),
            destination: Some("payeefsp".into()),
            http_status: Some(202),
            timestamp_ms,
        })
    }

    /// The first layout exactly as it was created before the rewrite.
    const FIRST_LAYOUT: &str = "
        CREATE TABLE journal_entry (
            entry_id TEXT NOT NULL PRIMARY KEY, transfer_id TEXT NOT NULL, timestamp_ms INTEGER NOT NULL,
            direction TEXT NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL, headers TEXT NOT NULL,
            body BLOB NOT NULL, body_length INTEGER NOT NULL, body_sha256 TEXT NOT NULL,
            truncated INTEGER NOT NULL, source TEXT NOT NULL, destination TEXT, http_status INTEGER);
        CREATE INDEX journal_entry_by_transfer ON journal_entry (transfer_id, timestamp_ms, entry_id);";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_first_layout_file_is_rewritten_keeping_its_entries_and_their_uniqueness() {
        let path = std::env::temp_dir().join(format!("journal_first_layout_{}.db", uuid::Uuid::new_v4().simple()));
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(FIRST_LAYOUT).unwrap();
            let values = row_values(&entry("e-old", "t-1", 5));
            let sql = format!("INSERT INTO journal_entry ({COLUMNS}) VALUES {}", row_placeholders(1));
            conn.execute(&sql, rusqlite::params_from_iter(values.iter())).unwrap();
        }
        let journal = SqliteJournal::open(&path).await.unwrap();
        journal.append(&[entry("e-old", "t-1", 9), entry("e-new", "t-1", 7)]).await.unwrap();
        let read = journal.by_transfer(&TransferKey::parse("t-1").unwrap()).await.unwrap();
        let stored: Vec<(&str, i64)> = read.entries.iter().map(|it| (it.id().as_str(), it.timestamp_ms())).collect();
        assert_eq!(stored, [("e-old", 5), ("e-new", 7)], "the old row kept as first written, the new one added");
        drop(journal);
        // Opening the rewritten file again changes nothing.
        let journal = SqliteJournal::open(&path).await.unwrap();
        assert_eq!(journal.by_transfer(&TransferKey::parse("t-1").unwrap()).await.unwrap().entries.len(), 2);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
