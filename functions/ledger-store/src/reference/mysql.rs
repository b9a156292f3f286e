//! The MySQL half of the reference data (see `reference`); `sqlite.rs` is its twin.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap, Participant};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId};
use ledger_core::time::Timestamp;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};

use super::{sql, ReferenceStore, ENDPOINT_TYPE_LENGTH_MAX, ENDPOINT_VALUE_LENGTH_MAX, NET_DEBIT_CAP_LIMIT_TYPE};
use crate::decode::{currency, fsp_id};
use crate::error::StoreError;
use crate::mysql::columns::{decimal_value, fsp_id_values, ms, net_debit_cap, Columns};
use crate::mysql::error::store_error;
use crate::mysql::{inserted_id, MysqlStore, ZERO_DECIMAL};
use crate::statements::in_list_chunks;
use crate::text::check_length;

#[async_trait]
impl ReferenceStore for MysqlStore {
    async fn create_participant(&self, name: &FspId, created: Timestamp) -> Result<Participant, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "INSERT INTO participant (name, is_active, created_ms) VALUES (?, 1, ?)";
        conn.exec_drop(sql, (name.as_str(), created.unix_ms())).await.map_err(store_error)?;
        Ok(Participant { id: ParticipantId(inserted_id(&conn)?), name: name.clone(), is_active: true })
    }

    async fn participant(&self, name: &FspId) -> Result<Option<Participant>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT participant_id, name, is_active FROM participant WHERE name = ?";
        let row: Option<Row> = conn.exec_first(sql, (name.as_str(),)).await.map_err(store_error)?;
        row.map(|row| participant_row(&mut Columns::new(row))).transpose()
    }

    async fn participants(&self) -> Result<Vec<Participant>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT participant_id, name, is_active FROM participant ORDER BY participant_id";
        let rows: Vec<Row> = conn.exec(sql, ()).await.map_err(store_error)?;
        rows.into_iter().map(|row| participant_row(&mut Columns::new(row))).collect()
    }

    async fn set_participant_active(&self, id: ParticipantId, active: bool) -> Result<(), StoreError> {
        let sql = "UPDATE participant SET is_active = ? WHERE participant_id = ?";
        self.update_one(sql, (i64::from(active), id.0), &format!("participant {id}")).await
    }

    async fn create_account(
        &self,
        participant: ParticipantId,
        currency: Currency,
        kind: LedgerAccountType,
        active: bool,
        created: Timestamp,
    ) -> Result<Account, StoreError> {
        let mut tx = self.begin_tx().await?;
        // An unknown participant fails the foreign key: NotFound.
        let sql =
            "INSERT INTO participant_currency (participant_id, currency, ledger_account_type, is_active, created_ms) \
                   VALUES (?, ?, ?, ?, ?)";
        let params = (participant.0, currency.code(), kind.id(), i64::from(active), created.unix_ms());
        tx.exec_drop(sql, params).await.map_err(store_error)?;
        let id = AccountId(inserted_id(&tx)?);
        let sql =
            "INSERT INTO participant_position (account_id, value, reserved_value, changed_ms) VALUES (?, ?, ?, ?)";
        tx.exec_drop(sql, (id.0, ZERO_DECIMAL, ZERO_DECIMAL, created.unix_ms())).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(Account { id, participant, currency, kind, is_active: active })
    }

    async fn accounts(&self, participant: ParticipantId) -> Result<Vec<Account>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT account_id, participant_id, currency, ledger_account_type, is_active \
                   FROM participant_currency WHERE participant_id = ? ORDER BY account_id";
        let rows: Vec<Row> = conn.exec(sql, (participant.0,)).await.map_err(store_error)?;
        rows.into_iter().map(|row| account_row(&mut Columns::new(row))).collect()
    }

    async fn participants_with_accounts(
        &self,
        names: &[FspId],
    ) -> Result<Vec<(Participant, Vec<Account>)>, StoreError> {
        let mut conn = self.conn().await?;
        let mut participants: BTreeMap<ParticipantId, (Participant, Vec<Account>)> = BTreeMap::new();
        for chunk in in_list_chunks(names) {
            let sql = sql::participants_by_name(chunk.len());
            let rows: Vec<Row> = conn.exec(sql, fsp_id_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let participant = participant_row(&mut Columns::new(row))?;
                participants.insert(participant.id, (participant, Vec::new()));
            }
        }
        let ids: Vec<Value> = participants.keys().map(|id| Value::from(id.0)).collect();
        for chunk in in_list_chunks(&ids) {
            let sql = sql::accounts_of_participants(chunk.len());
            let rows: Vec<Row> = conn.exec(sql, chunk.to_vec()).await.map_err(store_error)?;
            for row in rows {
                let account = account_row(&mut Columns::new(row))?;
                if let Some((_, accounts)) = participants.get_mut(&account.participant) {
                    accounts.push(account);
                }
            }
        }
        Ok(participants.into_values().collect())
    }

    async fn set_account_active(&self, id: AccountId, active: bool) -> Result<(), StoreError> {
        let sql = "UPDATE participant_currency SET is_active = ? WHERE account_id = ?";
        self.update_one(sql, (i64::from(active), id.0), &format!("account {id}")).await
    }

    async fn set_net_debit_cap(
        &self,
        account: AccountId,
        cap: NetDebitCap,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        let value = decimal_value(cap.value());
        let mut tx = self.begin_tx().await?;
        // Locking the account serialises cap changes on it, so two concurrent changes cannot
        // both leave an active row behind.
        let sql = "SELECT account_id FROM participant_currency WHERE account_id = ? FOR UPDATE";
        let found: Option<Row> = tx.exec_first(sql, (account.0,)).await.map_err(store_error)?;
        if found.is_none() {
            return Err(StoreError::NotFound(format!("account {account}")));
        }
        let sql =
            "UPDATE participant_limit SET is_active = 0 WHERE account_id = ? AND limit_type = ? AND is_active = 1";
        tx.exec_drop(sql, (account.0, NET_DEBIT_CAP_LIMIT_TYPE)).await.map_err(store_error)?;
        let sql = "INSERT INTO participant_limit (account_id, limit_type, value, is_active, created_ms) VALUES (?, ?, ?, 1, ?)";
        let params = vec![Value::from(account.0), Value::from(NET_DEBIT_CAP_LIMIT_TYPE), value, ms(created)];
        tx.exec_drop(sql, params).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn net_debit_cap(&self, account: AccountId) -> Result<Option<NetDebitCap>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT value FROM participant_limit WHERE account_id = ? AND limit_type = ? AND is_active = 1 \
                   ORDER BY id DESC LIMIT 1";
        let row: Option<Row> =
            conn.exec_first(sql, (account.0, NET_DEBIT_CAP_LIMIT_TYPE)).await.map_err(store_error)?;
        row.map(|row| net_debit_cap(Columns::new(row).amount()?)).transpose()
    }

    async fn balance(&self, account: AccountId) -> Result<(Amount, Amount), StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT value, reserved_value FROM participant_position WHERE account_id = ?";
        let row: Option<Row> = conn.exec_first(sql, (account.0,)).await.map_err(store_error)?;
        let mut cols = Columns::new(row.ok_or_else(|| StoreError::NotFound(format!("account {account}")))?);
        Ok((cols.amount()?, cols.amount()?))
    }

    async fn set_endpoint(
        &self,
        participant: ParticipantId,
        endpoint_type: &str,
        value: &str,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        check_length("endpoint type", endpoint_type, ENDPOINT_TYPE_LENGTH_MAX)?;
        check_length("endpoint value", value, ENDPOINT_VALUE_LENGTH_MAX)?;
        // An unknown participant fails the foreign key: NotFound. VALUES(): see update_positions.
        let sql = "INSERT INTO participant_endpoint (participant_id, endpoint_type, value, is_active, created_ms) \
                   VALUES (?, ?, ?, 1, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), is_active = 1";
        let mut conn = self.conn().await?;
        conn.exec_drop(sql, (participant.0, endpoint_type, value, created.unix_ms())).await.map_err(store_error)
    }

    async fn endpoints(&self, participant: ParticipantId) -> Result<Vec<(String, String)>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT endpoint_type, value FROM participant_endpoint \
                   WHERE participant_id = ? AND is_active = 1 ORDER BY endpoint_type";
        let rows: Vec<Row> = conn.exec(sql, (participant.0,)).await.map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let mut cols = Columns::new(row);
                Ok((cols.value()?, cols.value()?))
            })
            .collect()
    }

    async fn endpoints_by_name(&self, names: &[FspId]) -> Result<HashMap<FspId, Vec<(String, String)>>, StoreError> {
        let mut conn = self.conn().await?;
        let mut res: HashMap<FspId, Vec<(String, String)>> = HashMap::new();
        for chunk in in_list_chunks(names) {
            let sql = sql::endpoints_by_name(chunk.len());
            let rows: Vec<Row> = conn.exec(sql, fsp_id_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let mut cols = Columns::new(row);
                let name = fsp_id(&cols.value::<String>()?)?;
                let endpoint = (cols.value()?, cols.value()?);
                res.entry(name).or_default().push(endpoint);
            }
        }
        Ok(res)
    }
}

/// Reads `participant_id, name, is_active`.
fn participant_row(cols: &mut Columns) -> Result<Participant, StoreError> {
    let id = ParticipantId(cols.value()?);
    Ok(Participant { id, name: fsp_id(&cols.value::<String>()?)?, is_active: cols.flag()? })
}

/// Reads `account_id, participant_id, currency, ledger_account_type, is_active`.
fn account_row(cols: &mut Columns) -> Result<Account, StoreError> {
    let id = AccountId(cols.value()?);
    let participant = ParticipantId(cols.value()?);
    let currency = currency(&cols.value::<String>()?)?;
    let kind_id: u8 = cols.value()?;
    let kind =
        LedgerAccountType::from_id(kind_id).ok_or_else(|| StoreError::Corrupt(format!("account type {kind_id}")))?;
    Ok(Account { id, participant, currency, kind, is_active: cols.flag()? })
}
