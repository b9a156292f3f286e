//! The SQLite half of the reference data (see `reference`); `mysql.rs` is its twin.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap, Participant};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId};
use ledger_core::time::Timestamp;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};

use super::{sql, ReferenceStore, ENDPOINT_TYPE_LENGTH_MAX, ENDPOINT_VALUE_LENGTH_MAX, NET_DEBIT_CAP_LIMIT_TYPE};
use crate::decode::{currency, fsp_id};
use crate::error::StoreError;
use crate::sqlite::amounts::{amount_value, StoredAmount};
use crate::sqlite::error::sql_error;
use crate::sqlite::{expect_one_row, write_transaction, SqliteStore};
use crate::statements::in_list_chunks;
use crate::text::check_length;

#[async_trait]
impl ReferenceStore for SqliteStore {
    async fn create_participant(&self, name: &FspId, created: Timestamp) -> Result<Participant, StoreError> {
        let conn = self.writer.lock().await;
        (|| {
            conn.execute(
                "INSERT INTO participant (name, is_active, created_ms) VALUES (?, 1, ?)",
                params![name.as_str(), created.unix_ms()],
            )
            .map_err(sql_error)?;
            Ok(Participant { id: ParticipantId(conn.last_insert_rowid() as u64), name: name.clone(), is_active: true })
        })()
    }

    async fn participant(&self, name: &FspId) -> Result<Option<Participant>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            conn.prepare_cached("SELECT participant_id, name, is_active FROM participant WHERE name = ?")
                .and_then(|mut stmt| stmt.query_row([name.as_str()], participant_row).optional())
                .map_err(sql_error)?
                .transpose()
        })()
    }

    async fn participants(&self) -> Result<Vec<Participant>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached("SELECT participant_id, name, is_active FROM participant ORDER BY participant_id")
                .map_err(sql_error)?;
            let rows = stmt.query_map([], participant_row).map_err(sql_error)?;
            rows.map(|it| it.map_err(sql_error)?).collect()
        })()
    }

    async fn set_participant_active(&self, id: ParticipantId, active: bool) -> Result<(), StoreError> {
        let conn = self.writer.lock().await;
        let sql = "UPDATE participant SET is_active = ? WHERE participant_id = ?";
        let n = conn.execute(sql, params![active, id.0 as i64]).map_err(sql_error)?;
        expect_one_row(n, "participant")
    }

    async fn create_account(
        &self,
        participant: ParticipantId,
        currency: Currency,
        kind: LedgerAccountType,
        active: bool,
        created: Timestamp,
    ) -> Result<Account, StoreError> {
        let mut conn = self.writer.lock().await;
        (|| {
            let tx = write_transaction(&mut conn)?;
            tx.execute(
                "INSERT INTO participant_currency (participant_id, currency, ledger_account_type, is_active, created_ms) \
                 VALUES (?, ?, ?, ?, ?)",
                params![participant.0 as i64, currency.code(), kind.id(), active, created.unix_ms()],
            )
            .map_err(sql_error)?;
            let id = AccountId(tx.last_insert_rowid() as u64);
            tx.execute(
                "INSERT INTO participant_position (account_id, value, reserved_value, changed_ms) VALUES (?, 0, 0, ?)",
                params![id.0 as i64, created.unix_ms()],
            )
            .map_err(sql_error)?;
            tx.commit().map_err(sql_error)?;
            Ok(Account { id, participant, currency, kind, is_active: active })
        })()
    }

    async fn accounts(&self, participant: ParticipantId) -> Result<Vec<Account>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT account_id, participant_id, currency, ledger_account_type, is_active \
                     FROM participant_currency WHERE participant_id = ? ORDER BY account_id",
                )
                .map_err(sql_error)?;
            let rows = stmt.query_map([participant.0 as i64], account_row).map_err(sql_error)?;
            rows.map(|it| it.map_err(sql_error)?).collect()
        })()
    }

    async fn participants_with_accounts(
        &self,
        names: &[FspId],
    ) -> Result<Vec<(Participant, Vec<Account>)>, StoreError> {
        let conn = self.reader.lock().await;
        let mut participants: BTreeMap<ParticipantId, (Participant, Vec<Account>)> = BTreeMap::new();
        for chunk in in_list_chunks(names) {
            let names = params_from_iter(chunk.iter().map(FspId::as_str));
            let sql = sql::participants_by_name(chunk.len());
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
            for participant in stmt.query_map(names, participant_row).map_err(sql_error)? {
                let participant = participant.map_err(sql_error)??;
                participants.insert(participant.id, (participant, Vec::new()));
            }
        }
        let ids: Vec<i64> = participants.keys().map(|id| id.0 as i64).collect();
        for chunk in in_list_chunks(&ids) {
            let sql = sql::accounts_of_participants(chunk.len());
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
            for account in stmt.query_map(params_from_iter(chunk.iter()), account_row).map_err(sql_error)? {
                let account = account.map_err(sql_error)??;
                if let Some((_, accounts)) = participants.get_mut(&account.participant) {
                    accounts.push(account);
                }
            }
        }
        Ok(participants.into_values().collect())
    }

    async fn set_account_active(&self, id: AccountId, active: bool) -> Result<(), StoreError> {
        let conn = self.writer.lock().await;
        let sql = "UPDATE participant_currency SET is_active = ? WHERE account_id = ?";
        let n = conn.execute(sql, params![active, id.0 as i64]).map_err(sql_error)?;
        expect_one_row(n, "account")
    }

    async fn set_net_debit_cap(
        &self,
        account: AccountId,
        cap: NetDebitCap,
        created: Timestamp,
    ) -> Result<(), StoreError> {
        let value = amount_value(cap.value());
        let mut conn = self.writer.lock().await;
        (|| {
            let tx = write_transaction(&mut conn)?;
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT account_id FROM participant_currency WHERE account_id = ?",
                    [account.0 as i64],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sql_error)?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("account {account}")));
            }
            tx.execute(
                "UPDATE participant_limit SET is_active = 0 WHERE account_id = ? AND limit_type = ? AND is_active = 1",
                params![account.0 as i64, NET_DEBIT_CAP_LIMIT_TYPE],
            )
            .map_err(sql_error)?;
            tx.execute(
                "INSERT INTO participant_limit (account_id, limit_type, value, is_active, created_ms) VALUES (?, ?, ?, 1, ?)",
                params![account.0 as i64, NET_DEBIT_CAP_LIMIT_TYPE, value, created.unix_ms()],
            )
            .map_err(sql_error)?;
            tx.commit().map_err(sql_error)
        })()
    }

    async fn net_debit_cap(&self, account: AccountId) -> Result<Option<NetDebitCap>, StoreError> {
        let conn = self.reader.lock().await;
        let value: Option<StoredAmount> = conn
            .query_row(
                "SELECT value FROM participant_limit WHERE account_id = ? AND limit_type = ? AND is_active = 1",
                params![account.0 as i64, NET_DEBIT_CAP_LIMIT_TYPE],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql_error)?;
        value.map(|it| NetDebitCap::new(it.0).ok_or_else(|| StoreError::Corrupt("negative cap".into()))).transpose()
    }

    async fn balance(&self, account: AccountId) -> Result<(Amount, Amount), StoreError> {
        let conn = self.reader.lock().await;
        let row: Option<(StoredAmount, StoredAmount)> = conn
            .query_row(
                "SELECT value, reserved_value FROM participant_position WHERE account_id = ?",
                [account.0 as i64],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(sql_error)?;
        match row {
            Some((value, reserved)) => Ok((value.0, reserved.0)),
            None => Err(StoreError::NotFound(format!("account {account}"))),
        }
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
        // Selecting from participant inserts nothing for an unknown one (no row changed:
        // NotFound) instead of failing the foreign key. The WHERE also settles SQLite's
        // INSERT ... SELECT ... ON CONFLICT parsing ambiguity.
        let sql = "INSERT INTO participant_endpoint (participant_id, endpoint_type, value, is_active, created_ms) \
                   SELECT participant_id, ?, ?, 1, ? FROM participant WHERE participant_id = ? \
                   ON CONFLICT (participant_id, endpoint_type) DO UPDATE SET value = excluded.value, is_active = 1";
        let conn = self.writer.lock().await;
        let n = conn
            .execute(sql, params![endpoint_type, value, created.unix_ms(), participant.0 as i64])
            .map_err(sql_error)?;
        expect_one_row(n, &format!("participant {participant}"))
    }

    async fn endpoints(&self, participant: ParticipantId) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT endpoint_type, value FROM participant_endpoint \
                     WHERE participant_id = ? AND is_active = 1 ORDER BY endpoint_type",
                )
                .map_err(sql_error)?;
            let rows =
                stmt.query_map([participant.0 as i64], |row| Ok((row.get(0)?, row.get(1)?))).map_err(sql_error)?;
            rows.map(|it| it.map_err(sql_error)).collect()
        })()
    }

    async fn endpoints_by_name(&self, names: &[FspId]) -> Result<HashMap<FspId, Vec<(String, String)>>, StoreError> {
        let conn = self.reader.lock().await;
        let mut res: HashMap<FspId, Vec<(String, String)>> = HashMap::new();
        for chunk in in_list_chunks(names) {
            let sql = sql::endpoints_by_name(chunk.len());
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
            let mut rows = stmt.query(params_from_iter(chunk.iter().map(FspId::as_str))).map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let name = fsp_id(&row.get::<_, String>(0).map_err(sql_error)?)?;
                let endpoint = (row.get(1).map_err(sql_error)?, row.get(2).map_err(sql_error)?);
                res.entry(name).or_default().push(endpoint);
            }
        }
        Ok(res)
    }
}

fn participant_row(row: &Row<'_>) -> rusqlite::Result<Result<Participant, StoreError>> {
    let id: i64 = row.get(0)?;
    let name: String = row.get(1)?;
    let is_active: bool = row.get(2)?;
    Ok(fsp_id(&name).map(|name| Participant { id: ParticipantId(id as u64), name, is_active }))
}

fn account_row(row: &Row<'_>) -> rusqlite::Result<Result<Account, StoreError>> {
    let id: i64 = row.get(0)?;
    let participant: i64 = row.get(1)?;
    let code: String = row.get(2)?;
    let kind: u8 = row.get(3)?;
    let is_active: bool = row.get(4)?;
    let kind = LedgerAccountType::from_id(kind).ok_or_else(|| StoreError::Corrupt(format!("account type {kind}")));
    Ok(currency(&code).and_then(|currency| {
        Ok(Account {
            id: AccountId(id as u64),
            participant: ParticipantId(participant as u64),
            currency,
            kind: kind?,
            is_active,
        })
    }))
}
