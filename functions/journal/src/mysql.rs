//! The journal in the ledger's MySQL/MariaDB database, over a `mysql_async` pool the caller
//! owns (the handler can hand it the ledger's pool or open one for the journal).
//!
//! Rows are clustered on a sequential `journal_seq`, so appends fill the table's last page
//! instead of scattering random entry ids through the clustered index; the entry id has its
//! own unique key. An append is one transaction of multi-row inserts with
//! `ON DUPLICATE KEY UPDATE entry_id = entry_id`: a re-appended entry is left as first
//! written. (`INSERT IGNORE` would also turn strict-mode refusals such as an over-long value
//! into silent warnings; the no-op update ignores only the duplicate.)

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Row, TxOpts, Value};

use crate::sql::{encode_headers, entry_from_row, row_placeholders, statement_chunks, StoredRow, COLUMNS};
use crate::{
    check_batch, transfer_journal, Journal, JournalEntry, JournalError, TransferJournal, TransferKey, READ_ENTRIES_MAX,
};

const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS journal_entry (
    journal_seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    entry_id VARBINARY(128) NOT NULL,
    transfer_id VARBINARY(128) NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    direction VARCHAR(32) CHARACTER SET ascii NOT NULL,
    method VARCHAR(16) NOT NULL,
    url VARCHAR(2048) NOT NULL,
    headers MEDIUMTEXT NOT NULL,
    body MEDIUMBLOB NOT NULL,
    body_length BIGINT UNSIGNED NOT NULL,
    body_sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
    truncated TINYINT(1) NOT NULL,
    source VARCHAR(128) NOT NULL,
    destination VARCHAR(128) NULL,
    http_status SMALLINT UNSIGNED NULL,
    PRIMARY KEY (journal_seq),
    UNIQUE KEY journal_entry_id (entry_id),
    KEY journal_entry_by_transfer (transfer_id, timestamp_ms, entry_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4";

/// MySQL server error codes that mean "try again" (`include/mysqld_error.h`): lock wait
/// timeout, deadlock, too many connections, server shutdown.
const TRANSIENT_SERVER_CODES: [u16; 4] = [1205, 1213, 1040, 1053];

/// The journal in a MySQL/MariaDB database.
pub struct MysqlJournal {
    pool: Pool,
}

impl MysqlJournal {
    /// Creates the `journal_entry` table if it is missing; the pool's URL names the database.
    pub async fn open(pool: Pool) -> Result<MysqlJournal, JournalError> {
        let mut conn = pool.get_conn().await.map_err(driver_error)?;
        conn.query_drop(MIGRATION).await.map_err(driver_error)?;
        Ok(MysqlJournal { pool })
    }

    /// The pool, for a caller that also closes it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

#[async_trait]
impl Journal for MysqlJournal {
    async fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
        check_batch(entries)?;
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.start_transaction(TxOpts::default()).await.map_err(driver_error)?;
        for chunk in statement_chunks(entries) {
            let sql = format!(
                "INSERT INTO journal_entry ({COLUMNS}) VALUES {} ON DUPLICATE KEY UPDATE entry_id = entry_id",
                row_placeholders(chunk.len())
            );
            let values: Vec<Value> = chunk.iter().flat_map(row_values).collect();
            tx.exec_drop(sql, values).await.map_err(driver_error)?;
        }
        tx.commit().await.map_err(driver_error)
    }

    async fn by_transfer(&self, transfer: &TransferKey) -> Result<TransferJournal, JournalError> {
        let mut conn = self.pool.get_conn().await.map_err(driver_error)?;
        let sql = format!(
            "SELECT {COLUMNS} FROM journal_entry WHERE transfer_id = ? ORDER BY timestamp_ms, entry_id LIMIT ?"
        );
        // One more than the limit tells whether there are more.
        let limit = (READ_ENTRIES_MAX + 1) as u64;
        let rows: Vec<Row> = conn.exec(sql, (transfer.as_str(), limit)).await.map_err(driver_error)?;
        let entries =
            rows.into_iter().map(|row| stored_row(row).and_then(entry_from_row)).collect::<Result<Vec<_>, _>>()?;
        Ok(transfer_journal(entries))
    }
}

fn row_values(entry: &JournalEntry) -> Vec<Value> {
    let text = |it: &str| Value::Bytes(it.as_bytes().to_vec());
    vec![
        text(entry.id().as_str()),
        text(entry.transfer().as_str()),
        Value::Int(entry.timestamp_ms()),
        text(entry.direction().as_str()),
        text(entry.method()),
        text(entry.url()),
        Value::Bytes(encode_headers(entry.headers()).into_bytes()),
        Value::Bytes(entry.body().to_vec()),
        Value::UInt(entry.body_length()),
        text(entry.body_sha256()),
        Value::Int(i64::from(entry.truncated())),
        text(entry.source()),
        entry.destination().map_or(Value::NULL, text),
        entry.http_status().map_or(Value::NULL, |it| Value::UInt(u64::from(it))),
    ]
}

fn stored_row(mut row: Row) -> Result<StoredRow, JournalError> {
    Ok(StoredRow {
        entry_id: column(&mut row, 0)?,
        transfer_id: column(&mut row, 1)?,
        timestamp_ms: column(&mut row, 2)?,
        direction: column(&mut row, 3)?,
        method: column(&mut row, 4)?,
        url: column(&mut row, 5)?,
        headers: column(&mut row, 6)?,
        body: column(&mut row, 7)?,
        body_length: column(&mut row, 8)?,
        body_sha256: column(&mut row, 9)?,
        truncated: column::<i64>(&mut row, 10)? != 0,
        source: column(&mut row, 11)?,
        destination: column(&mut row, 12)?,
        http_status: column(&mut row, 13)?,
    })
}

fn column<T: mysql_async::prelude::FromValue>(row: &mut Row, idx: usize) -> Result<T, JournalError> {
    match row.take_opt::<T, usize>(idx) {
        Some(Ok(value)) => Ok(value),
        Some(Err(err)) => Err(JournalError::Corrupt(format!("column {idx}: {err}"))),
        None => Err(JournalError::Corrupt(format!("column {idx} missing"))),
    }
}

fn driver_error(err: mysql_async::Error) -> JournalError {
    match &err {
        mysql_async::Error::Server(server) if TRANSIENT_SERVER_CODES.contains(&server.code) => {
            JournalError::Unavailable(err.to_string())
        }
        // Any other server error is a refusal of this statement (schema, privilege, value).
        mysql_async::Error::Server(_) => JournalError::Rejected(err.to_string()),
        mysql_async::Error::Url(_) => JournalError::Rejected(err.to_string()),
        mysql_async::Error::Driver(_) | mysql_async::Error::Io(_) | mysql_async::Error::Other(_) => {
            JournalError::Unavailable(err.to_string())
        }
    }
}
