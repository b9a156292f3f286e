//! The MySQL half of notification deliveries and dead letters (see `deliveries`); `sqlite.rs`
//! is its twin.

use std::collections::HashSet;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

use super::{
    check_deliveries, dead_letter_texts, deliveries_of_transfers_sql, distinct_transfer_ids, DeadLetterRecord,
    DeliveryKey, DeliveryStore, NewDeadLetter, NewDelivery,
};
use crate::error::StoreError;
use crate::mysql::columns::{ms, Columns};
use crate::mysql::error::store_error;
use crate::mysql::MysqlStore;
use crate::statements::in_list_chunks;

#[async_trait]
impl DeliveryStore for MysqlStore {
    async fn delivered(&self, keys: &[DeliveryKey]) -> Result<HashSet<DeliveryKey>, StoreError> {
        let mut res = HashSet::new();
        let transfers = distinct_transfer_ids(keys);
        if transfers.is_empty() {
            return Ok(res);
        }
        let wanted: HashSet<&DeliveryKey> = keys.iter().collect();
        let mut conn = self.conn().await?;
        for chunk in in_list_chunks(&transfers) {
            let sql = deliveries_of_transfers_sql(chunk.len());
            let params: Vec<Value> = chunk.iter().map(|it| Value::from(*it)).collect();
            let rows: Vec<Row> = conn.exec(sql, params).await.map_err(store_error)?;
            for row in rows {
                let mut cols = Columns::new(row);
                let key = DeliveryKey { transfer_id: cols.value()?, event_id: cols.value()?, recipient: cols.value()? };
                if wanted.contains(&key) {
                    res.insert(key);
                }
            }
        }
        Ok(res)
    }

    async fn record_deliveries(&self, rows: &[NewDelivery]) -> Result<(), StoreError> {
        check_deliveries(rows)?;
        let values = rows
            .iter()
            .map(|row| {
                vec![
                    Value::from(row.event_id.as_str()),
                    Value::from(row.recipient.as_str()),
                    Value::from(row.transfer_id.as_str()),
                    ms(row.delivered),
                ]
            })
            .collect();
        let head = "INSERT INTO notification_delivery (event_id, recipient, transfer_id, delivered_ms)";
        // A no-op update skips only a repeated key. INSERT IGNORE would also turn strict-mode
        // errors (a value that does not fit) into warnings and store a mangled row.
        let tail = " ON DUPLICATE KEY UPDATE event_id = event_id";
        self.write_rows(head, tail, values).await
    }

    async fn record_dead_letters(&self, rows: &[NewDeadLetter]) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|row| {
                let (source, event_id, transfer_id, body, reason) = dead_letter_texts(row);
                vec![
                    Value::from(source),
                    Value::from(event_id),
                    Value::from(transfer_id),
                    Value::from(body),
                    Value::from(reason),
                    ms(row.created),
                ]
            })
            .collect();
        let head = "INSERT INTO dead_letter (source, event_id, transfer_id, body, reason, created_ms)";
        self.write_rows(head, "", values).await
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetterRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT id, source, event_id, transfer_id, body, reason, created_ms FROM dead_letter \
                   ORDER BY id DESC LIMIT ?";
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        let rows: Vec<Row> = conn.exec(sql, (limit,)).await.map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let mut cols = Columns::new(row);
                Ok(DeadLetterRecord {
                    id: cols.value()?,
                    source: cols.value()?,
                    event_id: cols.value()?,
                    transfer_id: cols.value()?,
                    body: cols.value()?,
                    reason: cols.value()?,
                    created: cols.timestamp()?,
                })
            })
            .collect()
    }
}
