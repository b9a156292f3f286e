//! The SQLite half of notification deliveries and dead letters (see `deliveries`); `mysql.rs`
//! is its twin.

use std::collections::HashSet;

use async_trait::async_trait;
use ledger_core::time::Timestamp;
use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::{
    check_deliveries, dead_letter_texts, deliveries_of_transfers_sql, distinct_transfer_ids, DeadLetterRecord,
    DeliveryKey, DeliveryStore, NewDeadLetter, NewDelivery,
};
use crate::error::StoreError;
use crate::sqlite::error::sql_error;
use crate::sqlite::SqliteStore;
use crate::statements::in_list_chunks;

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn delivered(&self, keys: &[DeliveryKey]) -> Result<HashSet<DeliveryKey>, StoreError> {
        let wanted: HashSet<&DeliveryKey> = keys.iter().collect();
        let transfers = distinct_transfer_ids(keys);
        let conn = self.reader.lock().await;
        (|| {
            let mut res = HashSet::new();
            for chunk in in_list_chunks(&transfers) {
                let sql = deliveries_of_transfers_sql(chunk.len());
                let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
                let rows = stmt
                    .query_map(params_from_iter(chunk.iter()), |row| {
                        Ok(DeliveryKey { transfer_id: row.get(0)?, event_id: row.get(1)?, recipient: row.get(2)? })
                    })
                    .map_err(sql_error)?;
                for row in rows {
                    let key = row.map_err(sql_error)?;
                    if wanted.contains(&key) {
                        res.insert(key);
                    }
                }
            }
            Ok(res)
        })()
    }

    async fn record_deliveries(&self, rows: &[NewDelivery]) -> Result<(), StoreError> {
        check_deliveries(rows)?;
        let values = rows
            .iter()
            .map(|row| {
                vec![
                    Value::Text(row.event_id.clone()),
                    Value::Text(row.recipient.clone()),
                    Value::Text(row.transfer_id.clone()),
                    Value::Integer(row.delivered.unix_ms()),
                ]
            })
            .collect();
        let head = "INSERT INTO notification_delivery (event_id, recipient, transfer_id, delivered_ms)";
        // Only a repeated key is skipped (not every constraint, as OR IGNORE would).
        let tail = " ON CONFLICT (transfer_id, event_id, recipient) DO NOTHING";
        self.write_rows(head, tail, values).await
    }

    async fn record_dead_letters(&self, rows: &[NewDeadLetter]) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|row| {
                let (source, event_id, transfer_id, body, reason) = dead_letter_texts(row);
                vec![
                    Value::Text(source.to_string()),
                    event_id.map_or(Value::Null, |it| Value::Text(it.to_string())),
                    transfer_id.map_or(Value::Null, |it| Value::Text(it.to_string())),
                    Value::Text(body.to_string()),
                    Value::Text(reason.to_string()),
                    Value::Integer(row.created.unix_ms()),
                ]
            })
            .collect();
        let head = "INSERT INTO dead_letter (source, event_id, transfer_id, body, reason, created_ms)";
        self.write_rows(head, "", values).await
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetterRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, source, event_id, transfer_id, body, reason, created_ms FROM dead_letter \
                     ORDER BY id DESC LIMIT ?",
                )
                .map_err(sql_error)?;
            let rows = stmt
                .query_map([limit], |row| {
                    Ok(DeadLetterRecord {
                        id: row.get::<_, i64>(0)? as u64,
                        source: row.get(1)?,
                        event_id: row.get(2)?,
                        transfer_id: row.get(3)?,
                        body: row.get(4)?,
                        reason: row.get(5)?,
                        created: Timestamp::from_unix_ms(row.get(6)?),
                    })
                })
                .map_err(sql_error)?;
            rows.map(|it| it.map_err(sql_error)).collect()
        })()
    }
}
