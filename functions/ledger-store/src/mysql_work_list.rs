//! The MySQL statements of the timeout work-list (`transfer_timeout`, keyed by due time, then
//! `transfer_seq`, with an index on `transfer_seq`): a child of `mysql`, sharing its
//! connection handling and its `transfer_id → transfer_seq` cache.

use std::collections::BTreeMap;

use ledger_core::ids::TransferId;
use ledger_core::time::Timestamp;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Transaction, Value};

use super::{load_seqs, ms, store_error, Columns, SeqCache};
use crate::{in_list_chunks, placeholders, StoreError};

pub(super) async fn due(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
    // A range on the primary key: the scan reads only what it returns, however long the list.
    let sql = "SELECT t.transfer_id, tt.transfer_seq, tt.expiration_ms \
                 FROM transfer_timeout tt JOIN transfer t ON t.transfer_seq = tt.transfer_seq \
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

pub(super) async fn delete(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    entries: &[(TransferId, Timestamp)],
) -> Result<(), StoreError> {
    load_seqs(tx, seqs, entries.iter().map(|it| &it.0)).await?;
    // An unknown transfer has no timeout entry: nothing to delete, as for a deleted one.
    let keys: Vec<(u64, Timestamp)> = entries.iter().filter_map(|(id, at)| Some((*seqs.get(id)?, *at))).collect();
    for chunk in in_list_chunks(&keys) {
        // Full primary keys, so both servers delete by a range lookup on the due-ordered key
        // instead of scanning the work-list.
        let sql = format!("DELETE FROM transfer_timeout WHERE (expiration_ms, transfer_seq) IN ({})", key_list(chunk.len()));
        tx.exec_drop(sql, key_values(&chunk)).await.map_err(store_error)?;
    }
    Ok(())
}

pub(super) async fn move_to(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    entries: &[(TransferId, Timestamp, Timestamp)],
) -> Result<(), StoreError> {
    load_seqs(tx, seqs, entries.iter().map(|it| &it.0)).await?;
    // One statement per new due time and chunk: a scan moves most of its entries to the same
    // time. Only an entry still due at the time read moves: one the transfer's final
    // transaction removed meanwhile matches nothing.
    let mut by_next: BTreeMap<Timestamp, Vec<(u64, Timestamp)>> = BTreeMap::new();
    for (id, due, next) in entries {
        if let Some(seq) = seqs.get(id) {
            by_next.entry(*next).or_default().push((*seq, *due));
        }
    }
    for (next, keys) in by_next {
        for chunk in in_list_chunks(&keys) {
            let sql = format!(
                "UPDATE transfer_timeout SET expiration_ms = ? WHERE (expiration_ms, transfer_seq) IN ({})",
                key_list(chunk.len())
            );
            let params: Vec<Value> = std::iter::once(ms(next)).chain(key_values(&chunk)).collect();
            tx.exec_drop(sql, params).await.map_err(store_error)?;
        }
    }
    Ok(())
}

pub(super) async fn delete_of(tx: &mut Transaction<'static>, seqs: &mut SeqCache, ids: &[TransferId]) -> Result<(), StoreError> {
    load_seqs(tx, seqs, ids.iter()).await?;
    let known: Vec<u64> = ids.iter().filter_map(|id| seqs.get(id).copied()).collect();
    for chunk in in_list_chunks(&known) {
        let sql = format!("DELETE FROM transfer_timeout WHERE transfer_seq IN ({})", placeholders(chunk.len()));
        let params: Vec<Value> = chunk.iter().map(|seq| Value::from(*seq)).collect();
        tx.exec_drop(sql, params).await.map_err(store_error)?;
    }
    Ok(())
}

/// `(?,?),…` for `n` primary keys.
fn key_list(n: usize) -> String {
    vec!["(?,?)"; n].join(",")
}

fn key_values(keys: &[(u64, Timestamp)]) -> Vec<Value> {
    keys.iter().flat_map(|(seq, at)| [ms(*at), Value::from(*seq)]).collect()
}
