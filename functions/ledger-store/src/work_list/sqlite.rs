//! The SQLite half of the timeout work-list (see `work_list`); `mysql.rs` is its twin.

use async_trait::async_trait;
use ledger_core::ids::TransferId;
use ledger_core::time::Timestamp;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

use super::WorkListTx;
use crate::decode::transfer_id;
use crate::error::StoreError;
use crate::sqlite::error::sql_error;
use crate::sqlite::SqliteTx;
use crate::statements::{in_list_chunks, placeholders};

#[async_trait]
impl WorkListTx for SqliteTx {
    async fn due_timeouts(&mut self, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
        due(&self.conn, now, limit)
    }

    async fn delete_timeouts(&mut self, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError> {
        delete(&self.conn, entries)
    }

    async fn move_timeouts(&mut self, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError> {
        move_to(&self.conn, entries)
    }

    async fn delete_timeouts_of(&mut self, ids: &[TransferId]) -> Result<(), StoreError> {
        delete_of(&self.conn, ids)
    }
}

fn due(conn: &Connection, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
    // A range on the primary key: the scan reads only what it returns, however long the list.
    let sql = "SELECT t.transfer_id, tt.expiration_ms \
                 FROM transfer_timeout tt JOIN transfer t ON t.transfer_seq = tt.transfer_seq \
                WHERE tt.expiration_ms < ? ORDER BY tt.expiration_ms, tt.transfer_seq LIMIT ?";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![now.unix_ms(), limit], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
        .map_err(sql_error)?;
    let mut found = Vec::new();
    for row in rows {
        let (id, due) = row.map_err(sql_error)?;
        found.push((transfer_id(&id)?, Timestamp::from_unix_ms(due)));
    }
    Ok(found)
}

fn delete(conn: &Connection, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError> {
    let sql = "DELETE FROM transfer_timeout WHERE expiration_ms = ? \
               AND transfer_seq = (SELECT transfer_seq FROM transfer WHERE transfer_id = ?)";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    for (id, due) in entries {
        stmt.execute(params![due.unix_ms(), id.as_str()]).map_err(sql_error)?;
    }
    Ok(())
}

fn move_to(conn: &Connection, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError> {
    // Only an entry still due at the time read moves: one the transfer's final transaction
    // removed meanwhile matches nothing.
    let sql = "UPDATE transfer_timeout SET expiration_ms = ? WHERE expiration_ms = ? \
               AND transfer_seq = (SELECT transfer_seq FROM transfer WHERE transfer_id = ?)";
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    for (id, due, next) in entries {
        stmt.execute(params![next.unix_ms(), due.unix_ms(), id.as_str()]).map_err(sql_error)?;
    }
    Ok(())
}

fn delete_of(conn: &Connection, ids: &[TransferId]) -> Result<(), StoreError> {
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "DELETE FROM transfer_timeout WHERE transfer_seq IN \
             (SELECT transfer_seq FROM transfer WHERE transfer_id IN ({}))",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        stmt.execute(params_from_iter(chunk.iter().map(|it| Value::Text(it.as_str().to_string()))))
            .map_err(sql_error)?;
    }
    Ok(())
}
