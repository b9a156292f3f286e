//! The MySQL half of the timeout work-list (see `work_list`); `sqlite.rs` is its twin. The
//! work-list has an index on `transfer_seq` here, and the statements use the transaction's
//! `transfer_id → transfer_seq` cache.
//!
//! Entries read by a scan are removed or moved with one statement per chunk that names the
//! chunk's due-time range and its transfers: `expiration_ms BETWEEN first AND last AND
//! transfer_seq IN (…)`, a range of the primary key filtered by a sorted list. The obvious
//! `(expiration_ms, transfer_seq) IN ((?,?),…)` names the same rows, but MariaDB 10.11's range
//! optimizer spends about 65 ms on a list of 500 pairs before touching a row (`init for
//! update` in `SHOW PROFILE`), against 2 ms for this form: it was four fifths of the scan's time.
//!
//! The two forms match the same entries because a transfer has at most one entry (only the
//! transfer's insert writes one) and an entry only ever moves to a due time after the look that
//! read it, so after every due time a batch read: inside the batch's range a named transfer's
//! entry is the one read, or gone.

use std::collections::BTreeMap;

use async_trait::async_trait;
use ledger_core::ids::TransferId;
use ledger_core::time::Timestamp;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Transaction, Value};

use super::WorkListTx;
use crate::error::StoreError;
use crate::mysql::columns::{ms, Columns};
use crate::mysql::error::store_error;
use crate::mysql::{load_seqs, MysqlTx, SeqCache};
use crate::statements::{in_list_chunks, placeholders};

#[async_trait]
impl WorkListTx for MysqlTx {
    async fn due_timeouts(&mut self, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
        due(&mut self.tx, &mut self.seqs, now, limit).await
    }

    async fn delete_timeouts(&mut self, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError> {
        delete(&mut self.tx, &mut self.seqs, entries).await
    }

    async fn move_timeouts(&mut self, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError> {
        move_to(&mut self.tx, &mut self.seqs, entries).await
    }

    async fn delete_timeouts_of(&mut self, ids: &[TransferId]) -> Result<(), StoreError> {
        delete_of(&mut self.tx, &mut self.seqs, ids).await
    }
}

async fn due(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
    // A range on the primary key: the scan reads only what it returns, however long the list.
    // STRAIGHT_JOIN keeps the work-list first even when a fresh database's statistics call
    // `transfer` empty (see `current_states` in `transfers/mysql.rs`).
    let sql = "SELECT t.transfer_id, tt.transfer_seq, tt.expiration_ms \
                 FROM transfer_timeout tt STRAIGHT_JOIN transfer t ON t.transfer_seq = tt.transfer_seq \
                WHERE tt.expiration_ms < ? ORDER BY tt.expiration_ms, tt.transfer_seq LIMIT ?";
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let rows: Vec<Row> = tx.exec(sql, (now.unix_ms(), limit)).await.map_err(store_error)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cols = Columns::new(row);
        let id = cols.transfer_id()?;
        seqs.insert(id.clone(), cols.value()?);
        found.push((id, cols.timestamp()?));
    }
    Ok(found)
}

async fn delete(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    entries: &[(TransferId, Timestamp)],
) -> Result<(), StoreError> {
    load_seqs(tx, seqs, entries.iter().map(|it| &it.0)).await?;
    // An unknown transfer has no timeout entry: nothing to delete, as for a deleted one.
    let keys = known_keys(seqs, entries.iter().map(|(id, due)| (id, *due)));
    for chunk in in_list_chunks(&keys) {
        let sql = format!(
            "DELETE FROM transfer_timeout WHERE expiration_ms BETWEEN ? AND ? AND transfer_seq IN ({})",
            placeholders(chunk.len())
        );
        tx.exec_drop(sql, range_values(&chunk)).await.map_err(store_error)?;
    }
    Ok(())
}

async fn move_to(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    entries: &[(TransferId, Timestamp, Timestamp)],
) -> Result<(), StoreError> {
    load_seqs(tx, seqs, entries.iter().map(|it| &it.0)).await?;
    // One statement per new due time and chunk: a scan moves most of its entries to the same
    // time. Only an entry still due at the time read moves: one the transfer's final
    // transaction removed meanwhile matches nothing.
    let mut by_next: BTreeMap<Timestamp, Vec<(&TransferId, Timestamp)>> = BTreeMap::new();
    for (id, due, next) in entries {
        by_next.entry(*next).or_default().push((id, *due));
    }
    for (next, named) in by_next {
        let keys = known_keys(seqs, named.into_iter());
        for chunk in in_list_chunks(&keys) {
            let sql = format!(
                "UPDATE transfer_timeout SET expiration_ms = ? \
                  WHERE expiration_ms BETWEEN ? AND ? AND transfer_seq IN ({})",
                placeholders(chunk.len())
            );
            let params: Vec<Value> = std::iter::once(ms(next)).chain(range_values(&chunk)).collect();
            tx.exec_drop(sql, params).await.map_err(store_error)?;
        }
    }
    Ok(())
}

async fn delete_of(tx: &mut Transaction<'static>, seqs: &mut SeqCache, ids: &[TransferId]) -> Result<(), StoreError> {
    load_seqs(tx, seqs, ids.iter()).await?;
    let known: Vec<u64> = ids.iter().filter_map(|id| seqs.get(id).copied()).collect();
    for chunk in in_list_chunks(&known) {
        let sql = format!("DELETE FROM transfer_timeout WHERE transfer_seq IN ({})", placeholders(chunk.len()));
        let params: Vec<Value> = chunk.iter().map(|seq| Value::from(*seq)).collect();
        tx.exec_drop(sql, params).await.map_err(store_error)?;
    }
    Ok(())
}

/// The primary keys `(due, seq)` of the named entries whose transfers are stored, sorted: a
/// chunk of them is then a narrow range of the work-list's key.
fn known_keys<'a>(
    seqs: &SeqCache,
    entries: impl Iterator<Item = (&'a TransferId, Timestamp)>,
) -> Vec<(Timestamp, u64)> {
    let mut keys: Vec<(Timestamp, u64)> = entries.filter_map(|(id, due)| Some((due, *seqs.get(id)?))).collect();
    keys.sort_unstable();
    keys
}

/// The parameters of `expiration_ms BETWEEN ? AND ? AND transfer_seq IN (…)` for sorted keys:
/// their first and last due time, then every seq.
fn range_values(keys: &[(Timestamp, u64)]) -> Vec<Value> {
    let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
        return Vec::new();
    };
    [ms(first.0), ms(last.0)].into_iter().chain(keys.iter().map(|(_, seq)| Value::from(*seq))).collect()
}
