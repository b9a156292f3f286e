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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use sqlite_wal::{WalPolicy, WalRestart};
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap, Participant};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId, WindowId};
use ledger_core::position::PositionAccount;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, TransactionBehavior};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::operator::{AccountBalance, NewContent, NewContentState, NewSettlement, NewSettlementState, SettlementRecord, WindowRecord, WindowSum};
use ledger_core::model::{ModelDefinition, ModelId, SettlementModel};
use ledger_core::settlement::{ContentId, SettlementId};
use crate::sqlite_error::sql_error;
use crate::decode::{condition, currency, fsp_id, fulfilment, transfer_id, transfer_state, window_state};
use crate::{
    check_deliveries, check_length, dead_letter_texts, distinct_transfer_ids, in_list_chunks, insert_runs, lock_order, placeholders, reference_sql, truncate_chars,
    CurrentState, DeadLetterRecord, DeliveryKey, HashKind, LedgerStore, LedgerTx, NewDeadLetter, NewDelivery,
    NewFulfilment, NewPositionChange, NewStateChange, NewTransfer, NewTransferError, StoreError, TransferRecord,
    Window, ENDPOINT_TYPE_LENGTH_MAX, ENDPOINT_VALUE_LENGTH_MAX, ERROR_DESCRIPTION_LENGTH_MAX, STATE_REASON_LENGTH_MAX,
};

#[path = "sqlite_amounts.rs"]
mod amounts;
#[path = "sqlite_migrate.rs"]
mod migrate;
#[path = "sqlite_operator.rs"]
mod operator;
#[path = "sqlite_work_list.rs"]
mod work_list;

use amounts::{amount_value, StoredAmount};
use migrate::migrate;

/// Migrations in order; each runs once, inside a transaction, and is recorded.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_ledger.sql")),
    (2, include_str!("../migrations/sqlite/0002_notifications.sql")),
    (3, include_str!("../migrations/sqlite/0003_settlement.sql")),
    (4, include_str!("../migrations/sqlite/0004_deliveries_by_transfer.sql")),
    (5, include_str!("../migrations/sqlite/0005_wide_amounts.sql")),
    (6, include_str!("../migrations/sqlite/0006_timeouts_by_transfer.sql")),
];
/// How long a connection waits for another process's lock before giving up.
const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Prepared statements kept per connection (multi-row statements vary by row count).
const STATEMENT_CACHE_CAPACITY: usize = 256;
const NET_DEBIT_CAP_LIMIT_TYPE: i64 = 1;
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
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    wal: WalRestart,
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
fn write_transaction(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
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
        Ok(Box::new(SqliteTx { conn, finished: false, wal: self.wal.clone() }))
    }

    async fn transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>, StoreError> {
        let conn = self.reader.lock().await;
        let mut found = load_transfers(&conn, std::slice::from_ref(id))?;
        Ok(found.remove(id))
    }

    async fn transfers(&self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        let conn = self.reader.lock().await;
        load_transfers(&conn, ids)
    }

    async fn state_history(&self, id: &TransferId) -> Result<Vec<CurrentState>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached("SELECT s.state, s.seq, s.created_ms FROM transfer t \
                     JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
                     WHERE t.transfer_id = ? ORDER BY s.seq")
                .map_err(sql_error)?;
            let rows = stmt.query_map([id.as_str()], |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?)));
            // Bound to a local so `rows` (which borrows `stmt`) is dropped before `stmt`.
            #[allow(clippy::let_and_return)]
            let res = rows
                .map_err(sql_error)?
                .map(|it| it.map_err(sql_error).and_then(|(state, seq, at)| current_state(&state, seq, at)))
                .collect();
            res
        })()
    }

    async fn position_journal(&self, account: AccountId) -> Result<Vec<(Option<TransferId>, Amount, Amount)>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT t.transfer_id, c.change_amount, c.value FROM participant_position_change c \
                     LEFT JOIN transfer t ON t.transfer_seq = c.transfer_seq WHERE c.account_id = ? ORDER BY c.id",
                )
                .map_err(sql_error)?;
            let rows = stmt.query_map([account.0 as i64], |row| {
                Ok((row.get::<_, Option<String>>(0)?, row.get::<_, StoredAmount>(1)?.0, row.get::<_, StoredAmount>(2)?.0))
            });
            // Bound to a local so `rows` (which borrows `stmt`) is dropped before `stmt`.
            #[allow(clippy::let_and_return)]
            let res = rows
                .map_err(sql_error)?
                .map(|it| {
                    let (id, change, value) = it.map_err(sql_error)?;
                    let id = id.map(|it| transfer_id(&it)).transpose()?;
                    Ok((id, change, value))
                })
                .collect();
            res
        })()
    }

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

    async fn participants_with_accounts(&self, names: &[FspId]) -> Result<Vec<(Participant, Vec<Account>)>, StoreError> {
        let conn = self.reader.lock().await;
        let mut participants: BTreeMap<ParticipantId, (Participant, Vec<Account>)> = BTreeMap::new();
        for chunk in in_list_chunks(names) {
            let names = params_from_iter(chunk.iter().map(FspId::as_str));
            let sql = reference_sql::participants_by_name(chunk.len());
            let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
            for participant in stmt.query_map(names, participant_row).map_err(sql_error)? {
                let participant = participant.map_err(sql_error)??;
                participants.insert(participant.id, (participant, Vec::new()));
            }
        }
        let ids: Vec<i64> = participants.keys().map(|id| id.0 as i64).collect();
        for chunk in in_list_chunks(&ids) {
            let sql = reference_sql::accounts_of_participants(chunk.len());
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

    async fn set_net_debit_cap(&self, account: AccountId, cap: NetDebitCap, created: Timestamp) -> Result<(), StoreError> {
        let value = amount_value(cap.value());
        let mut conn = self.writer.lock().await;
        (|| {
            let tx = write_transaction(&mut conn)?;
            let exists: Option<i64> = tx
                .query_row("SELECT account_id FROM participant_currency WHERE account_id = ?", [account.0 as i64], |row| {
                    row.get(0)
                })
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

    async fn set_endpoint(&self, participant: ParticipantId, endpoint_type: &str, value: &str, created: Timestamp) -> Result<(), StoreError> {
        check_length("endpoint type", endpoint_type, ENDPOINT_TYPE_LENGTH_MAX)?;
        check_length("endpoint value", value, ENDPOINT_VALUE_LENGTH_MAX)?;
        // Selecting from participant inserts nothing for an unknown one (no row changed:
        // NotFound) instead of failing the foreign key. The WHERE also settles SQLite's
        // INSERT ... SELECT ... ON CONFLICT parsing ambiguity.
        let sql = "INSERT INTO participant_endpoint (participant_id, endpoint_type, value, is_active, created_ms) \
                   SELECT participant_id, ?, ?, 1, ? FROM participant WHERE participant_id = ? \
                   ON CONFLICT (participant_id, endpoint_type) DO UPDATE SET value = excluded.value, is_active = 1";
        let conn = self.writer.lock().await;
        let n = conn.execute(sql, params![endpoint_type, value, created.unix_ms(), participant.0 as i64])
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
            let rows = stmt.query_map([participant.0 as i64], |row| Ok((row.get(0)?, row.get(1)?))).map_err(sql_error)?;
            rows.map(|it| it.map_err(sql_error)).collect()
        })()
    }

    async fn endpoints_by_name(&self, names: &[FspId]) -> Result<HashMap<FspId, Vec<(String, String)>>, StoreError> {
        let conn = self.reader.lock().await;
        let mut res: HashMap<FspId, Vec<(String, String)>> = HashMap::new();
        for chunk in in_list_chunks(names) {
            let sql = reference_sql::endpoints_by_name(chunk.len());
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

    async fn delivered(&self, keys: &[DeliveryKey]) -> Result<HashSet<DeliveryKey>, StoreError> {
        let wanted: HashSet<&DeliveryKey> = keys.iter().collect();
        let transfers = distinct_transfer_ids(keys);
        let conn = self.reader.lock().await;
        (|| {
            let mut res = HashSet::new();
            for chunk in in_list_chunks(&transfers) {
                let sql = reference_sql::deliveries_of_transfers(chunk.len());
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
    async fn participants_created(&self) -> Result<HashMap<ParticipantId, Timestamp>, StoreError> {
        let conn = self.reader.lock().await;
        operator::participants_created(&conn)
    }

    async fn account_balances(&self, participant: ParticipantId) -> Result<Vec<AccountBalance>, StoreError> {
        let conn = self.reader.lock().await;
        operator::account_balances(&conn, participant)
    }

    async fn set_limit_alarm(&self, account: AccountId, percentage: Amount, changed: Timestamp) -> Result<(), StoreError> {
        let conn = self.writer.lock().await;
        operator::set_limit_alarm(&conn, account, percentage, changed)
    }

    async fn limit_alarm(&self, account: AccountId) -> Result<Option<Amount>, StoreError> {
        let conn = self.reader.lock().await;
        operator::limit_alarm(&conn, account)
    }

    async fn create_settlement_model(&self, definition: &ModelDefinition, created: Timestamp) -> Result<SettlementModel, StoreError> {
        let conn = self.writer.lock().await;
        operator::create_settlement_model(&conn, definition, created)
    }

    async fn settlement_models(&self) -> Result<Vec<SettlementModel>, StoreError> {
        let conn = self.reader.lock().await;
        operator::settlement_models(&conn)
    }

    async fn set_settlement_model_active(&self, id: ModelId, active: bool) -> Result<(), StoreError> {
        let conn = self.writer.lock().await;
        operator::set_settlement_model_active(&conn, id, active)
    }

    async fn windows(&self, ids: Option<&[WindowId]>) -> Result<Vec<WindowRecord>, StoreError> {
        let conn = self.reader.lock().await;
        operator::windows(&conn, ids)
    }

    async fn settlements(&self, ids: Option<&[SettlementId]>) -> Result<Vec<SettlementRecord>, StoreError> {
        let conn = self.reader.lock().await;
        operator::settlements(&conn, ids)
    }
}

impl SqliteStore {
    /// Inserts rows outside a [`LedgerTx`] in one short transaction on the writer, one
    /// statement per chunk: all rows or none. Waits for an open [`LedgerTx`] to finish.
    async fn write_rows(&self, head: &str, tail: &str, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
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

fn expect_one_row(n_rows: usize, what: &str) -> Result<(), StoreError> {
    match n_rows {
        0 => Err(StoreError::NotFound(what.to_string())),
        _ => Ok(()),
    }
}

/// One SQLite transaction holding the writer connection.
struct SqliteTx {
    conn: OwnedMutexGuard<Connection>,
    finished: bool,
    wal: WalRestart,
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
    async fn lock_positions(&mut self, accounts: &[AccountId]) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError> {
        let ids = lock_order(accounts);
        lock_positions(&self.conn, &ids)
    }

    async fn lock_balances(&mut self, accounts: &[AccountId]) -> Result<BTreeMap<AccountId, (Amount, Amount)>, StoreError> {
        let ids = lock_order(accounts);
        (|| {
            let mut res = BTreeMap::new();
            for chunk in in_list_chunks(&ids) {
                let sql = format!(
                    "SELECT account_id, value, reserved_value FROM participant_position WHERE account_id IN ({})",
                    placeholders(chunk.len())
                );
                let mut stmt = self.conn.prepare_cached(&sql).map_err(sql_error)?;
                let rows = stmt
                    .query_map(params_from_iter(chunk.iter().map(|it| it.0 as i64)), |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, StoredAmount>(1)?.0, row.get::<_, StoredAmount>(2)?.0))
                    })
                    .map_err(sql_error)?;
                for row in rows {
                    let (id, value, reserved) = row.map_err(sql_error)?;
                    res.insert(AccountId(id as u64), (value, reserved));
                }
            }
            Ok(res)
        })()
    }

    async fn current_states(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
        current_states(&self.conn, ids)
    }

    async fn hashes(&mut self, kind: HashKind, ids: &[TransferId]) -> Result<HashMap<TransferId, RequestHash>, StoreError> {
        let source = match kind {
            HashKind::Prepare => "SELECT t.transfer_id, t.prepare_hash FROM transfer t",
            HashKind::Fulfil => {
                "SELECT t.transfer_id, d.hash FROM transfer t \
                 JOIN transfer_fulfilment_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
            HashKind::Error => {
                "SELECT t.transfer_id, d.hash FROM transfer t \
                 JOIN transfer_error_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
        };
        (|| {
            let mut res = HashMap::new();
            for chunk in in_list_chunks(ids) {
                let sql = format!("{source} WHERE t.transfer_id IN ({})", placeholders(chunk.len()));
                let mut stmt = self.conn.prepare_cached(&sql).map_err(sql_error)?;
                let rows = stmt
                    .query_map(params_from_iter(chunk.iter().map(|it| it.as_str())), |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })
                    .map_err(sql_error)?;
                for row in rows {
                    let (id, hash) = row.map_err(sql_error)?;
                    res.insert(transfer_id(&id)?, RequestHash::new(hash));
                }
            }
            Ok(res)
        })()
    }

    async fn transfers(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        load_transfers(&self.conn, ids)
    }

    async fn insert_transfers(&mut self, rows: &[NewTransfer]) -> Result<(), StoreError> {
        insert_transfers(&self.conn, rows)
    }

    async fn insert_hashes(&mut self, kind: HashKind, rows: &[(TransferId, RequestHash, Timestamp)]) -> Result<(), StoreError> {
        let table = match kind {
            HashKind::Prepare => return Err(StoreError::Invalid("prepare hashes are written with the transfer".into())),
            HashKind::Fulfil => "transfer_fulfilment_duplicate_check",
            HashKind::Error => "transfer_error_duplicate_check",
        };
        let values =
            rows.iter().map(|(id, hash, at)| Ok((id, vec![Value::Text(hash.as_str().to_string()), Value::Integer(at.unix_ms())])));
        insert_children(&self.conn, table, "hash, created_ms", values)
    }

    async fn insert_state_changes(&mut self, rows: &[NewStateChange]) -> Result<(), StoreError> {
        insert_state_changes(&self.conn, rows.iter().map(Ok))
    }

    async fn insert_position_changes(&mut self, rows: &[NewPositionChange]) -> Result<(), StoreError> {
        let values = rows.iter().map(|row| {
            let values = vec![
                Value::Integer(row.account.0 as i64),
                Value::Integer(i64::from(row.seq)),
                amount_value(row.change),
                amount_value(row.value),
                amount_value(row.reserved),
                Value::Integer(row.created.unix_ms()),
            ];
            Ok((&row.transfer_id, values))
        });
        let columns = "account_id, seq, change_amount, value, reserved_value, created_ms";
        insert_children(&self.conn, "participant_position_change", columns, values)
    }

    async fn update_positions(&mut self, rows: &[(AccountId, Amount)], changed: Timestamp) -> Result<(), StoreError> {
        (|| {
            let mut stmt = self
                .conn
                .prepare_cached("UPDATE participant_position SET value = ?, changed_ms = ? WHERE account_id = ?")
                .map_err(sql_error)?;
            for (account, value) in rows {
                let n = stmt.execute(params![amount_value(*value), changed.unix_ms(), account.0 as i64]).map_err(sql_error)?;
                expect_one_row(n, "position")?;
            }
            Ok(())
        })()
    }

    async fn insert_errors(&mut self, rows: &[NewTransferError]) -> Result<(), StoreError> {
        let values = rows.iter().map(|row| {
            let values = vec![
                Value::Integer(i64::from(row.seq)),
                Value::Integer(i64::from(row.code)),
                Value::Text(truncate_chars(&row.description, ERROR_DESCRIPTION_LENGTH_MAX).to_string()),
                Value::Integer(row.created.unix_ms()),
            ];
            Ok((&row.transfer_id, values))
        });
        let columns = "seq, error_code, error_description, created_ms";
        insert_children(&self.conn, "transfer_error", columns, values)
    }

    async fn insert_fulfilments(&mut self, rows: &[NewFulfilment]) -> Result<(), StoreError> {
        let values = rows.iter().map(|row| {
            let values = vec![
                row.fulfilment.map_or(Value::Null, |it| Value::Text(it.to_base64url())),
                Value::Integer(row.completed.unix_ms()),
                Value::Integer(row.window.0 as i64),
                Value::Integer(row.created.unix_ms()),
            ];
            Ok((&row.transfer_id, values))
        });
        let columns = "ilp_fulfilment, completed_ms, settlement_window_id, created_ms";
        insert_children(&self.conn, "transfer_fulfilment", columns, values)
    }

    async fn open_window(&mut self) -> Result<Window, StoreError> {
        open_window(&self.conn)
    }

    async fn close_open_window(&mut self, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
        close_open_window(&self.conn, reason, at)
    }

    async fn window_fulfilment_count(&mut self, window: WindowId) -> Result<u64, StoreError> {
        let sql = "SELECT COUNT(*) FROM transfer_fulfilment WHERE settlement_window_id = ?";
        let n: i64 = self.conn.query_row(sql, [window.0 as i64], |row| row.get(0)).map_err(sql_error)?;
        Ok(n as u64)
    }

    async fn due_timeouts(&mut self, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
        work_list::due(&self.conn, now, limit)
    }

    async fn delete_timeouts(&mut self, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError> {
        work_list::delete(&self.conn, entries)
    }

    async fn move_timeouts(&mut self, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError> {
        work_list::move_to(&self.conn, entries)
    }

    async fn delete_timeouts_of(&mut self, ids: &[TransferId]) -> Result<(), StoreError> {
        work_list::delete_of(&self.conn, ids)
    }

    async fn windows_for_update(&mut self, ids: &[WindowId]) -> Result<Vec<WindowRecord>, StoreError> {
        // The writer connection is held for the whole transaction: the rows are as locked as
        // they get in SQLite.
        operator::windows(&self.conn, Some(ids))
    }

    async fn window_sums(&mut self, window: WindowId) -> Result<Vec<WindowSum>, StoreError> {
        amounts::window_sums(&self.conn, window)
    }

    async fn set_window_states(&mut self, rows: &[(WindowId, WindowState)], reason: &str, at: Timestamp) -> Result<(), StoreError> {
        operator::set_window_states(&self.conn, rows, reason, at)
    }

    async fn insert_window_contents(&mut self, rows: &[NewContent], at: Timestamp) -> Result<Vec<ContentId>, StoreError> {
        operator::insert_window_contents(&self.conn, rows, at)
    }

    async fn insert_content_states(&mut self, rows: &[NewContentState], at: Timestamp) -> Result<(), StoreError> {
        operator::insert_content_states(&self.conn, rows, at)
    }

    async fn settlements_for_update(&mut self, ids: &[SettlementId]) -> Result<Vec<SettlementRecord>, StoreError> {
        operator::settlements(&self.conn, Some(ids))
    }

    async fn insert_settlement(&mut self, row: &NewSettlement) -> Result<SettlementId, StoreError> {
        operator::insert_settlement(&self.conn, row)
    }

    async fn insert_settlement_states(&mut self, rows: &[NewSettlementState], at: Timestamp) -> Result<(), StoreError> {
        operator::insert_settlement_states(&self.conn, rows, at)
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        let res = self.conn.execute_batch("COMMIT").map_err(sql_error);
        // After a failed COMMIT SQLite may still hold the transaction; Drop rolls it back.
        self.finished = res.is_ok();
        if self.finished {
            self.wal.restart_if_due(&self.conn);
        }
        res
    }
}

fn lock_positions(conn: &Connection, ids: &[AccountId]) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError> {
    let mut res = BTreeMap::new();
    for chunk in in_list_chunks(ids) {
        // The settlement account is the same participant's SETTLEMENT account in the same
        // currency; the cap is the position account's active NET_DEBIT_CAP.
        let sql = format!(
            "SELECT pc.account_id, pp.value, pp.reserved_value, \
                    (SELECT sp.value FROM participant_currency sc \
                       JOIN participant_position sp ON sp.account_id = sc.account_id \
                      WHERE sc.participant_id = pc.participant_id AND sc.currency = pc.currency \
                        AND sc.ledger_account_type = {settlement}), \
                    (SELECT pl.value FROM participant_limit pl \
                      WHERE pl.account_id = pc.account_id AND pl.limit_type = {cap} AND pl.is_active = 1) \
               FROM participant_currency pc \
               JOIN participant_position pp ON pp.account_id = pc.account_id \
              WHERE pc.account_id IN ({}) ORDER BY pc.account_id",
            placeholders(chunk.len()),
            settlement = LedgerAccountType::Settlement.id(),
            cap = NET_DEBIT_CAP_LIMIT_TYPE,
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params_from_iter(chunk.iter().map(|it| it.0 as i64)), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, StoredAmount>(1)?.0,
                    row.get::<_, StoredAmount>(2)?.0,
                    row.get::<_, Option<StoredAmount>>(3)?.map(|it| it.0),
                    row.get::<_, Option<StoredAmount>>(4)?.map(|it| it.0),
                ))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (id, value, reserved, settlement, cap) = row.map_err(sql_error)?;
            let cap = cap.map(|it| NetDebitCap::new(it).ok_or_else(|| StoreError::Corrupt("negative cap".into())));
            let account = PositionAccount {
                position: value,
                reserved,
                settlement_balance: settlement.unwrap_or(Amount::ZERO),
                net_debit_cap: cap.transpose()?,
            };
            res.insert(AccountId(id as u64), account);
        }
    }
    Ok(res)
}

fn current_states(conn: &Connection, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
    let mut res: HashMap<TransferId, CurrentState> = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, s.state, s.seq, s.created_ms FROM transfer t \
             JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params_from_iter(chunk.iter().map(|it| it.as_str())), |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (id, state, seq, at) = row.map_err(sql_error)?;
            let state = current_state(&state, seq, at)?;
            let entry = res.entry(transfer_id(&id)?).or_insert(state);
            if entry.seq < state.seq {
                *entry = state;
            }
        }
    }
    Ok(res)
}

fn insert_transfers(conn: &Connection, rows: &[NewTransfer]) -> Result<(), StoreError> {
    // This transaction is the only writer, so the next sequence numbers are known up front and
    // the child rows need no lookup of the ids just inserted.
    let last: i64 = conn
        .query_row("SELECT COALESCE(MAX(transfer_seq), 0) FROM transfer", [], |row| row.get(0))
        .map_err(sql_error)?;
    let seqs: Vec<i64> = (1..=rows.len() as i64).map(|idx| last + idx).collect();
    let transfers = rows.iter().zip(&seqs).map(|(row, seq)| {
        Ok(vec![
            Value::Integer(*seq),
            Value::Text(row.transfer_id.to_string()),
            Value::Text(row.payer.to_string()),
            Value::Text(row.payee.to_string()),
            row.payer_account.map_or(Value::Null, |it| Value::Integer(it.0 as i64)),
            row.payee_account.map_or(Value::Null, |it| Value::Integer(it.0 as i64)),
            amount_value(row.amount),
            Value::Text(row.currency.code().to_string()),
            row.condition.map_or(Value::Null, |it| Value::Text(it.to_base64url())),
            Value::Integer(row.expiration.unix_ms()),
            Value::Text(row.ilp_packet.clone()),
            Value::Text(row.hash.as_str().to_string()),
            Value::Integer(row.created.unix_ms()),
        ])
    });
    let head = "INSERT INTO transfer (transfer_seq, transfer_id, payer_fsp, payee_fsp, payer_account_id, \
                payee_account_id, amount, currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms)";
    insert_rows(conn, head, "", transfers)?;
    let first_states = rows.iter().zip(&seqs).map(|(row, seq)| {
        let reason = row.reason.as_deref().map(|it| truncate_chars(it, STATE_REASON_LENGTH_MAX).to_string());
        Ok(vec![
            Value::Integer(*seq),
            Value::Integer(1),
            Value::Text(row.state.name().to_string()),
            reason.map_or(Value::Null, Value::Text),
            Value::Integer(row.created.unix_ms()),
        ])
    });
    insert_rows(conn, "INSERT INTO transfer_state_change (transfer_seq, seq, state, reason, created_ms)", "", first_states)?;
    let extensions = rows.iter().zip(&seqs).flat_map(|(row, seq)| {
        row.extensions
            .iter()
            .map(|(key, value)| Ok(vec![Value::Integer(*seq), Value::Text(key.clone()), Value::Text(value.clone())]))
    });
    insert_rows(conn, "INSERT INTO transfer_extension (transfer_seq, ext_key, ext_value)", "", extensions)?;
    let timeouts = rows
        .iter()
        .zip(&seqs)
        .filter(|(row, _)| row.state == TransferState::ReceivedPrepare)
        .map(|(row, seq)| Ok(vec![Value::Integer(row.expiration.unix_ms()), Value::Integer(*seq)]));
    insert_rows(conn, "INSERT INTO transfer_timeout (expiration_ms, transfer_seq)", "", timeouts)
}

fn insert_state_changes<'a>(
    conn: &Connection,
    rows: impl Iterator<Item = Result<&'a NewStateChange, StoreError>>,
) -> Result<(), StoreError> {
    let values = rows.map(|row| {
        let row = row?;
        let reason = row.reason.as_deref().map(|it| truncate_chars(it, STATE_REASON_LENGTH_MAX).to_string());
        let values = vec![
            Value::Integer(i64::from(row.seq)),
            Value::Text(row.state.name().to_string()),
            reason.map_or(Value::Null, Value::Text),
            Value::Integer(row.created.unix_ms()),
        ];
        Ok((&row.transfer_id, values))
    });
    insert_children(conn, "transfer_state_change", "seq, state, reason, created_ms", values)
}

/// Inserts rows with one multi-row statement per run of rows (see [`insert_runs`]).
/// `head` is the statement up to `VALUES`, `tail` what follows the rows.
fn insert_rows(
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

/// Inserts rows of a child table keyed by `transfer_seq`, resolving each row's transfer id in
/// the same statement, one statement per chunk. Rows keep their order (the journal's ids are
/// its order); a row naming an unknown transfer is refused with [`StoreError::NotFound`].
fn insert_children<'a>(
    conn: &Connection,
    table: &str,
    columns: &str,
    rows: impl Iterator<Item = Result<(&'a TransferId, Vec<Value>), StoreError>>,
) -> Result<(), StoreError> {
    let mut all: Vec<Vec<Value>> = Vec::new();
    for row in rows {
        let (id, values) = row?;
        let mut full = Vec::with_capacity(values.len() + 2);
        // The row's place: each statement orders its rows by it.
        full.push(Value::Integer(all.len() as i64));
        full.push(Value::Text(id.to_string()));
        full.extend(values);
        all.push(full);
    }
    for run in insert_runs(&all) {
        execute_child_insert(conn, table, columns, run)?;
    }
    Ok(())
}

fn execute_child_insert(conn: &Connection, table: &str, columns: &str, rows: &[Vec<Value>]) -> Result<(), StoreError> {
    let n_columns = rows[0].len();
    let selected: Vec<String> = (3..=n_columns).map(|idx| format!("v.column{idx}")).collect();
    let row = format!("({})", placeholders(n_columns));
    let sql = format!(
        "INSERT INTO {table} (transfer_seq, {columns}) SELECT t.transfer_seq, {} \
         FROM (VALUES {}) AS v JOIN transfer t ON t.transfer_id = v.column2 ORDER BY v.column1",
        selected.join(", "),
        vec![row; rows.len()].join(","),
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
    let n_inserted = stmt.execute(params_from_iter(rows.iter().flatten())).map_err(sql_error)?;
    if n_inserted != rows.len() {
        return Err(StoreError::NotFound(format!("{} of {} {table} rows name no stored transfer", rows.len() - n_inserted, rows.len())));
    }
    Ok(())
}

fn load_transfers(conn: &Connection, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
    let states = current_states(conn, ids)?;
    let mut res = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, t.payer_fsp, t.payee_fsp, t.payer_account_id, t.payee_account_id, t.amount, \
                    t.currency, t.ilp_condition, t.expiration_ms, t.ilp_packet, t.created_ms, \
                    f.ilp_fulfilment, f.settlement_window_id, e.error_code, e.error_description \
               FROM transfer t \
               LEFT JOIN transfer_fulfilment f ON f.transfer_seq = t.transfer_seq \
               LEFT JOIN transfer_error e ON e.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let mut rows = stmt.query(params_from_iter(chunk.iter().map(|it| it.as_str()))).map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let record = transfer_record(row, &states)?;
            res.insert(record.transfer_id.clone(), record);
        }
    }
    for (id, key, value) in extensions(conn, ids)? {
        if let Some(record) = res.get_mut(&id) {
            record.extensions.push((key, value));
        }
    }
    Ok(res)
}

fn transfer_record(row: &Row<'_>, states: &HashMap<TransferId, CurrentState>) -> Result<TransferRecord, StoreError> {
    let get_error = |err: rusqlite::Error| sql_error(err);
    let id = transfer_id(&row.get::<_, String>(0).map_err(get_error)?)?;
    let current = *states.get(&id).ok_or_else(|| StoreError::Corrupt(format!("transfer {id} has no state")))?;
    let error_code: Option<i64> = row.get(13).map_err(get_error)?;
    let error_description: Option<String> = row.get(14).map_err(get_error)?;
    Ok(TransferRecord {
        payer: fsp_id(&row.get::<_, String>(1).map_err(get_error)?)?,
        payee: fsp_id(&row.get::<_, String>(2).map_err(get_error)?)?,
        payer_account: row.get::<_, Option<i64>>(3).map_err(get_error)?.map(|it| AccountId(it as u64)),
        payee_account: row.get::<_, Option<i64>>(4).map_err(get_error)?.map(|it| AccountId(it as u64)),
        amount: row.get::<_, StoredAmount>(5).map_err(get_error)?.0,
        currency: currency(&row.get::<_, String>(6).map_err(get_error)?)?,
        condition: row.get::<_, Option<String>>(7).map_err(get_error)?.map(|it| condition(&it)).transpose()?,
        expiration: Timestamp::from_unix_ms(row.get(8).map_err(get_error)?),
        ilp_packet: row.get(9).map_err(get_error)?,
        created: Timestamp::from_unix_ms(row.get(10).map_err(get_error)?),
        fulfilment: row.get::<_, Option<String>>(11).map_err(get_error)?.map(|it| fulfilment(&it)).transpose()?,
        window: row.get::<_, Option<i64>>(12).map_err(get_error)?.map(|it| WindowId(it as u64)),
        error: error_code.zip(error_description).map(|(code, text)| (code as u16, text)),
        extensions: Vec::new(),
        transfer_id: id,
        current,
    })
}

fn extensions(conn: &Connection, ids: &[TransferId]) -> Result<Vec<(TransferId, String, String)>, StoreError> {
    let mut res = Vec::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, x.ext_key, x.ext_value FROM transfer t \
             JOIN transfer_extension x ON x.transfer_seq = t.transfer_seq WHERE t.transfer_id IN ({}) ORDER BY x.id",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params_from_iter(chunk.iter().map(|it| it.as_str())), |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (id, key, value) = row.map_err(sql_error)?;
            res.push((transfer_id(&id)?, key, value));
        }
    }
    Ok(res)
}

fn open_window(conn: &Connection) -> Result<Window, StoreError> {
    let sql = "SELECT settlement_window_id, state, created_ms FROM settlement_window WHERE open_marker = 1";
    let row: (i64, String, i64) = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))))
        .map_err(sql_error)?;
    window(row)
}

fn close_open_window(conn: &Connection, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
    let open = open_window(conn)?;
    let processing = WindowState::Processing.name();
    conn.execute(
        "UPDATE settlement_window SET state = ?, open_marker = NULL, reason = ?, changed_ms = ? WHERE settlement_window_id = ?",
        params![processing, reason, at.unix_ms(), open.id.0 as i64],
    )
    .map_err(sql_error)?;
    record_window_state(conn, open.id, WindowState::Processing, reason, at)?;
    conn.execute(
        "INSERT INTO settlement_window (state, open_marker, reason, created_ms, changed_ms) VALUES (?, 1, ?, ?, ?)",
        params![WindowState::Open.name(), reason, at.unix_ms(), at.unix_ms()],
    )
    .map_err(sql_error)?;
    let next = WindowId(conn.last_insert_rowid() as u64);
    record_window_state(conn, next, WindowState::Open, reason, at)?;
    let closed = Window { id: open.id, state: WindowState::Processing, created: open.created };
    Ok((closed, Window { id: next, state: WindowState::Open, created: at }))
}

fn record_window_state(conn: &Connection, id: WindowId, state: WindowState, reason: &str, at: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settlement_window_state_change (settlement_window_id, state, reason, created_ms) VALUES (?, ?, ?, ?)",
        params![id.0 as i64, state.name(), reason, at.unix_ms()],
    )
    .map_err(sql_error)?;
    Ok(())
}

fn current_state(state: &str, seq: i64, at: i64) -> Result<CurrentState, StoreError> {
    let state = transfer_state(state)?;
    Ok(CurrentState { state, seq: seq as u32, changed: Timestamp::from_unix_ms(at) })
}

fn window((id, state, created): (i64, String, i64)) -> Result<Window, StoreError> {
    let state = window_state(&state)?;
    Ok(Window { id: WindowId(id as u64), state, created: Timestamp::from_unix_ms(created) })
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
        Ok(Account { id: AccountId(id as u64), participant: ParticipantId(participant as u64), currency, kind: kind?, is_active })
    }))
}
