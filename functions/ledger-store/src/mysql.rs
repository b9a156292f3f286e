//! The MySQL/MariaDB store: Azure Database for MySQL (8.0) in production, MariaDB 10.11 locally,
//! through one `mysql_async` connection pool.
//!
//! - Every connection runs [`SESSION_SETUP`]: READ COMMITTED (row locks only, no gap locks; each
//!   statement sees the latest commits) and strict mode, so a value that does not fit a column
//!   is an error instead of a silent truncation. The SQL stays in the subset both servers share.
//! - A [`LedgerTx`] is one pooled connection inside `START TRANSACTION`. Writers on the same
//!   account serialise on the `participant_position` row locks that
//!   [`LedgerTx::lock_positions`] takes in ascending account order.
//! - Transfers are clustered on a sequential `transfer_seq` and every child row is keyed by it
//!   (see the migration for why). The trait speaks transfer ids, so each [`MysqlTx`] keeps the
//!   `transfer_id → transfer_seq` pairs its reads and inserts saw, and a child insert looks up
//!   only the ids it has not seen, in one statement per chunk.
//! - Amounts are `DECIMAL(39,4)`, which holds every `Amount`, and travel as decimal text
//!   (`Amount::to_decimal_string` / `Amount::parse_stored`), so no float ever touches money;
//!   times are `BIGINT` Unix milliseconds.
//! - Server errors are translated here: duplicate key, deadlock and lock-wait timeout are
//!   [`StoreError::Conflict`] (re-run the batch), a missing referenced row is
//!   [`StoreError::NotFound`], a value the schema refuses is [`StoreError::Invalid`], anything
//!   about the connection is [`StoreError::Unavailable`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap, Participant};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId, WindowId};
use ledger_core::position::PositionAccount;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use mysql_async::prelude::{FromValue, Queryable};
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, SslOpts, Transaction, TxOpts, Value};

use crate::decode::{condition, currency, fsp_id, fulfilment, transfer_id, window_state};
use crate::operator::{AccountBalance, NewContent, NewContentState, NewSettlement, NewSettlementState, SettlementRecord, WindowRecord, WindowSum};
use ledger_core::model::{ModelDefinition, ModelId, SettlementModel};
use ledger_core::settlement::{ContentId, SettlementId};
use crate::{
    check_deliveries, check_length, dead_letter_texts, distinct_transfer_ids, in_list_chunks, insert_runs, lock_order, placeholders, reference_sql, truncate_chars,
    CurrentState, DeadLetterRecord, DeliveryKey, HashKind, LedgerStore, LedgerTx, NewDeadLetter, NewDelivery,
    NewFulfilment, NewPositionChange, NewStateChange, NewTransfer, NewTransferError, StoreError, TransferRecord,
    Window, ENDPOINT_TYPE_LENGTH_MAX, ENDPOINT_VALUE_LENGTH_MAX, ERROR_DESCRIPTION_LENGTH_MAX,
    STATE_REASON_LENGTH_MAX,
};

#[path = "mysql_operator.rs"]
mod operator;
#[path = "mysql_work_list.rs"]
mod work_list;

/// Migrations in order: `(version, statements separated by a line holding only ";")`.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../migrations/mysql/0001_ledger.sql")),
    (2, include_str!("../migrations/mysql/0002_notifications.sql")),
    (3, include_str!("../migrations/mysql/0003_settlement.sql")),
    (4, include_str!("../migrations/mysql/0004_deliveries_by_transfer.sql")),
    (5, include_str!("../migrations/mysql/0005_wide_amounts.sql")),
    (6, include_str!("../migrations/mysql/0006_timeouts_by_transfer.sql")),
];
/// How long a starting instance waits for another instance that is applying the migrations.
const MIGRATION_LOCK_WAIT_S: u32 = 30;
/// The advisory lock guarding migrations, per database (names are limited to 64 characters), so
/// instances of different ledgers on one server do not wait for each other.
const MIGRATION_LOCK_NAME_SQL: &str = "LEFT(CONCAT('ledger_migrations:', DATABASE()), 64)";
/// Statements every connection runs when it is opened (and after a reset). MariaDB has no
/// `transaction_isolation` variable, so the isolation level is set by statement.
const SESSION_SETUP: [&str; 2] = [
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
];
/// Idle connections are kept this long; a quiet instance then holds only the minimum, which
/// matters on Azure where connections count against the server's limit.
const POOL_IDLE_TTL_S: u64 = 60;
const POOL_CONNECTIONS_MIN: usize = 1;
/// Prepared statements each connection keeps (mysql_async's default is 32). The statement
/// kinds times [`crate::STATEMENT_SHAPES`] come to about 150; the server's
/// `max_prepared_stmt_count` (16,382 by default, on Azure too) bounds this times the pool size.
const STATEMENT_CACHE_SIZE: usize = 256;

const NET_DEBIT_CAP_LIMIT_TYPE: u8 = 1;
const ZERO_DECIMAL: &str = "0.0000";

/// MySQL server error codes the store translates (`include/mysqld_error.h`).
const ER_DUP_ENTRY: u16 = 1062;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
const ER_NO_REFERENCED_ROW_2: u16 = 1452;
/// Values the schema refuses in strict mode: NULL into NOT NULL, out of range, truncated,
/// wrong string (e.g. non-ASCII into an ASCII column), too long, BIGINT out of range.
const VALUE_ERROR_CODES: [u16; 6] = [1048, 1264, 1265, 1366, 1406, 1690];

/// Where and how to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct MysqlStoreConfig {
    /// `mysql://user:password@host:port/database`; the database is created if it is missing.
    pub url: String,
    /// Root CA to verify the server with; when set, TLS is required and only this CA is
    /// trusted (Azure Database for MySQL enforces TLS).
    pub ca_certificate: Option<PathBuf>,
    pub pool_connections_max: usize,
}

/// Shows the URL without its password, so configurations can be logged.
impl fmt::Debug for MysqlStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlStoreConfig")
            .field("url", &redacted_url(&self.url))
            .field("ca_certificate", &self.ca_certificate)
            .field("pool_connections_max", &self.pool_connections_max)
            .finish()
    }
}

fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparsable URL>".to_string();
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@').and_then(|at| Some((at, authority[..at].split_once(':')?.0))) {
        Some((at, user)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// The MySQL/MariaDB ledger store.
pub struct MysqlStore {
    pool: Pool,
    database: String,
}

impl MysqlStore {
    /// Connects, creates the database if needed and applies pending migrations. Opening an
    /// already migrated database (or several instances at once) is fine.
    pub async fn open(config: MysqlStoreConfig) -> Result<MysqlStore, StoreError> {
        let opts = connection_opts(&config)?;
        let database = match opts.db_name() {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => return Err(StoreError::Invalid("the MySQL URL names no database".into())),
        };
        create_database(&opts, &database).await?;
        migrate(&opts).await?;
        Ok(MysqlStore { pool: Pool::new(opts), database })
    }

    /// Drops the store's database (tests clean up with it).
    pub async fn drop_database(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let sql = format!("DROP DATABASE IF EXISTS {}", quote_identifier(&self.database));
        conn.query_drop(sql).await.map_err(store_error)
    }

    /// Closes every pooled connection.
    pub async fn close(self) -> Result<(), StoreError> {
        self.pool.disconnect().await.map_err(store_error)
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        self.pool.get_conn().await.map_err(store_error)
    }

    async fn begin_tx(&self) -> Result<Transaction<'static>, StoreError> {
        // No isolation in TxOpts: the session already runs READ COMMITTED (SESSION_SETUP),
        // which saves a round trip per transaction.
        self.pool.start_transaction(TxOpts::default()).await.map_err(store_error)
    }
}

/// A pool to the configured database with the store's connection settings (TLS root CA,
/// session setup), for a caller that keeps its own tables there (the message journal). The
/// database must exist: open the store first.
pub fn connect_pool(config: &MysqlStoreConfig) -> Result<Pool, StoreError> {
    Ok(Pool::new(connection_opts(config)?))
}

fn connection_opts(config: &MysqlStoreConfig) -> Result<Opts, StoreError> {
    let url_opts = Opts::from_url(&config.url).map_err(|err| StoreError::Invalid(format!("MySQL URL: {err}")))?;
    let max = config.pool_connections_max;
    let constraints = PoolConstraints::new(POOL_CONNECTIONS_MIN.min(max), max)
        .ok_or_else(|| StoreError::Invalid("pool_connections_max must be at least 1".into()))?;
    let pool_opts = PoolOpts::default()
        .with_constraints(constraints)
        .with_inactive_connection_ttl(Duration::from_secs(POOL_IDLE_TTL_S))
        // The session holds nothing but SESSION_SETUP, so a reset on every return to the pool
        // would only cost a round trip and the prepared-statement cache.
        .with_reset_connection(false);
    let mut builder = OptsBuilder::from_opts(url_opts)
        .pool_opts(pool_opts)
        .setup(SESSION_SETUP.to_vec())
        // Affected rows count matched rows, so an UPDATE to the same value still proves the
        // row exists (set_*_active tell "unchanged" from "not found" by it).
        .client_found_rows(true)
        .stmt_cache_size(STATEMENT_CACHE_SIZE);
    if let Some(ca) = &config.ca_certificate {
        let ssl = SslOpts::default().with_root_certs(vec![ca.clone().into()]).with_disable_built_in_roots(true);
        builder = builder.ssl_opts(ssl);
    }
    Ok(builder.into())
}

async fn create_database(opts: &Opts, database: &str) -> Result<(), StoreError> {
    // The database may not exist yet, so this connection names none.
    let mut conn = Conn::new(OptsBuilder::from_opts(opts.clone()).db_name(None::<String>)).await.map_err(store_error)?;
    let found: Option<Row> = conn
        .exec_first("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", (database,))
        .await
        .map_err(store_error)?;
    // Looked up first because a user allowed to use an existing database may lack the CREATE
    // privilege; IF NOT EXISTS covers two instances starting at once.
    if found.is_none() {
        let sql = format!("CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4", quote_identifier(database));
        conn.query_drop(sql).await.map_err(store_error)?;
    }
    conn.disconnect().await.map_err(store_error)
}

/// Applies the migrations not yet recorded in `schema_migration`, under an advisory lock so
/// that instances starting together apply each one once.
async fn migrate(opts: &Opts) -> Result<(), StoreError> {
    let mut conn = Conn::new(opts.clone()).await.map_err(store_error)?;
    conn.query_drop(
        "CREATE TABLE IF NOT EXISTS schema_migration (version INT PRIMARY KEY, applied_ms BIGINT NOT NULL) ENGINE = InnoDB",
    )
    .await
    .map_err(store_error)?;
    let sql = format!("SELECT GET_LOCK({MIGRATION_LOCK_NAME_SQL}, ?)");
    let locked: Option<Row> = conn.exec_first(sql, (MIGRATION_LOCK_WAIT_S,)).await.map_err(store_error)?;
    let locked: Option<i64> = match locked {
        Some(row) => Columns::new(row).value()?,
        None => None,
    };
    if locked != Some(1) {
        return Err(StoreError::Unavailable(format!("migration lock not granted within {MIGRATION_LOCK_WAIT_S} s")));
    }
    let applied = apply_pending_migrations(&mut conn).await;
    // The lock would also end with the session; releasing it lets a waiting instance go on.
    let released = conn.query_drop(format!("DO RELEASE_LOCK({MIGRATION_LOCK_NAME_SQL})")).await.map_err(store_error);
    applied?;
    released?;
    conn.disconnect().await.map_err(store_error)
}

async fn apply_pending_migrations(conn: &mut Conn) -> Result<(), StoreError> {
    let rows: Vec<Row> = conn.query("SELECT version FROM schema_migration").await.map_err(store_error)?;
    let applied = rows.into_iter().map(|row| Columns::new(row).value::<u32>()).collect::<Result<Vec<u32>, _>>()?;
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        // MySQL commits DDL implicitly, so a migration cannot be one transaction; its
        // statements are idempotent instead, and a half-applied one simply runs again.
        for statement in migration_statements(sql) {
            conn.query_drop(statement).await.map_err(store_error)?;
        }
        conn.exec_drop("INSERT INTO schema_migration (version, applied_ms) VALUES (?, ?)", (*version, now_ms()))
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// Splits a migration at the lines holding only `;`, dropping pieces that are only comments.
fn migration_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in sql.lines().chain(std::iter::once(";")) {
        if line.trim() != ";" {
            current.push_str(line);
            current.push('\n');
            continue;
        }
        let is_code = current.lines().map(str::trim).any(|it| !it.is_empty() && !it.starts_with("--"));
        if is_code {
            statements.push(std::mem::take(&mut current));
        } else {
            current.clear();
        }
    }
    statements
}

fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn store_error(err: mysql_async::Error) -> StoreError {
    match &err {
        mysql_async::Error::Server(server) => server_error(server.code, err.to_string()),
        mysql_async::Error::Url(_) => StoreError::Invalid(err.to_string()),
        // Driver, I/O, TLS and pool errors: the connection or the server cannot be used now.
        _ => StoreError::Unavailable(err.to_string()),
    }
}

fn server_error(code: u16, text: String) -> StoreError {
    match code {
        // A lock-wait timeout rolls back only the statement in MySQL; the caller drops the
        // transaction on Conflict, which rolls back the rest.
        ER_DUP_ENTRY | ER_LOCK_WAIT_TIMEOUT | ER_LOCK_DEADLOCK => StoreError::Conflict(text),
        ER_NO_REFERENCED_ROW_2 => StoreError::NotFound(text),
        code if VALUE_ERROR_CODES.contains(&code) => StoreError::Invalid(text),
        _ => StoreError::Unavailable(text),
    }
}

#[async_trait]
impl LedgerStore for MysqlStore {
    async fn begin(&self) -> Result<Box<dyn LedgerTx>, StoreError> {
        Ok(Box::new(MysqlTx { tx: self.begin_tx().await?, seqs: SeqCache::new() }))
    }

    async fn transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let mut found = load_transfers(&mut conn, &mut SeqCache::new(), std::slice::from_ref(id)).await?;
        Ok(found.remove(id))
    }

    async fn transfers(&self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        let mut conn = self.conn().await?;
        load_transfers(&mut conn, &mut SeqCache::new(), ids).await
    }

    async fn state_history(&self, id: &TransferId) -> Result<Vec<CurrentState>, StoreError> {
        let mut conn = self.conn().await?;
        // The named transfer first, whatever the statistics say: see current_states.
        let sql = "SELECT s.state, s.seq, s.created_ms FROM transfer t \
                   STRAIGHT_JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
                   WHERE t.transfer_id = ? ORDER BY s.seq";
        let rows: Vec<Row> = conn.exec(sql, (id.as_str(),)).await.map_err(store_error)?;
        rows.into_iter().map(|row| Columns::new(row).current_state()).collect()
    }

    async fn position_journal(&self, account: AccountId) -> Result<Vec<(Option<TransferId>, Amount, Amount)>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT t.transfer_id, c.change_amount, c.value FROM participant_position_change c \
                   LEFT JOIN transfer t ON t.transfer_seq = c.transfer_seq WHERE c.account_id = ? ORDER BY c.id";
        let rows: Vec<Row> = conn.exec(sql, (account.0,)).await.map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let mut cols = Columns::new(row);
                let id = cols.value::<Option<String>>()?.map(|it| transfer_id(&it)).transpose()?;
                Ok((id, cols.amount()?, cols.amount()?))
            })
            .collect()
    }

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
        row.map(|row| Columns::new(row).participant()).transpose()
    }

    async fn participants(&self) -> Result<Vec<Participant>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT participant_id, name, is_active FROM participant ORDER BY participant_id";
        let rows: Vec<Row> = conn.exec(sql, ()).await.map_err(store_error)?;
        rows.into_iter().map(|row| Columns::new(row).participant()).collect()
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
        let sql = "INSERT INTO participant_currency (participant_id, currency, ledger_account_type, is_active, created_ms) \
                   VALUES (?, ?, ?, ?, ?)";
        let params = (participant.0, currency.code(), kind.id(), i64::from(active), created.unix_ms());
        tx.exec_drop(sql, params).await.map_err(store_error)?;
        let id = AccountId(inserted_id(&tx)?);
        let sql = "INSERT INTO participant_position (account_id, value, reserved_value, changed_ms) VALUES (?, ?, ?, ?)";
        tx.exec_drop(sql, (id.0, ZERO_DECIMAL, ZERO_DECIMAL, created.unix_ms())).await.map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(Account { id, participant, currency, kind, is_active: active })
    }

    async fn accounts(&self, participant: ParticipantId) -> Result<Vec<Account>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT account_id, participant_id, currency, ledger_account_type, is_active \
                   FROM participant_currency WHERE participant_id = ? ORDER BY account_id";
        let rows: Vec<Row> = conn.exec(sql, (participant.0,)).await.map_err(store_error)?;
        rows.into_iter().map(|row| Columns::new(row).account()).collect()
    }

    async fn participants_with_accounts(&self, names: &[FspId]) -> Result<Vec<(Participant, Vec<Account>)>, StoreError> {
        let mut conn = self.conn().await?;
        let mut participants: BTreeMap<ParticipantId, (Participant, Vec<Account>)> = BTreeMap::new();
        for chunk in in_list_chunks(names) {
            let sql = reference_sql::participants_by_name(chunk.len());
            let rows: Vec<Row> = conn.exec(sql, fsp_id_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let participant = Columns::new(row).participant()?;
                participants.insert(participant.id, (participant, Vec::new()));
            }
        }
        let ids: Vec<Value> = participants.keys().map(|id| Value::from(id.0)).collect();
        for chunk in in_list_chunks(&ids) {
            let sql = reference_sql::accounts_of_participants(chunk.len());
            let rows: Vec<Row> = conn.exec(sql, chunk.to_vec()).await.map_err(store_error)?;
            for row in rows {
                let account = Columns::new(row).account()?;
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

    async fn set_net_debit_cap(&self, account: AccountId, cap: NetDebitCap, created: Timestamp) -> Result<(), StoreError> {
        let value = decimal_value(cap.value());
        let mut tx = self.begin_tx().await?;
        // Locking the account serialises cap changes on it, so two concurrent changes cannot
        // both leave an active row behind.
        let sql = "SELECT account_id FROM participant_currency WHERE account_id = ? FOR UPDATE";
        let found: Option<Row> = tx.exec_first(sql, (account.0,)).await.map_err(store_error)?;
        if found.is_none() {
            return Err(StoreError::NotFound(format!("account {account}")));
        }
        let sql = "UPDATE participant_limit SET is_active = 0 WHERE account_id = ? AND limit_type = ? AND is_active = 1";
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
        let row: Option<Row> = conn.exec_first(sql, (account.0, NET_DEBIT_CAP_LIMIT_TYPE)).await.map_err(store_error)?;
        row.map(|row| net_debit_cap(Columns::new(row).amount()?)).transpose()
    }

    async fn balance(&self, account: AccountId) -> Result<(Amount, Amount), StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT value, reserved_value FROM participant_position WHERE account_id = ?";
        let row: Option<Row> = conn.exec_first(sql, (account.0,)).await.map_err(store_error)?;
        let mut cols = Columns::new(row.ok_or_else(|| StoreError::NotFound(format!("account {account}")))?);
        Ok((cols.amount()?, cols.amount()?))
    }

    async fn set_endpoint(&self, participant: ParticipantId, endpoint_type: &str, value: &str, created: Timestamp) -> Result<(), StoreError> {
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
            let sql = reference_sql::endpoints_by_name(chunk.len());
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

    async fn delivered(&self, keys: &[DeliveryKey]) -> Result<HashSet<DeliveryKey>, StoreError> {
        let mut res = HashSet::new();
        let transfers = distinct_transfer_ids(keys);
        if transfers.is_empty() {
            return Ok(res);
        }
        let wanted: HashSet<&DeliveryKey> = keys.iter().collect();
        let mut conn = self.conn().await?;
        for chunk in in_list_chunks(&transfers) {
            let sql = reference_sql::deliveries_of_transfers(chunk.len());
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
    async fn participants_created(&self) -> Result<HashMap<ParticipantId, Timestamp>, StoreError> {
        operator::participants_created(&mut self.conn().await?).await
    }

    async fn account_balances(&self, participant: ParticipantId) -> Result<Vec<AccountBalance>, StoreError> {
        operator::account_balances(&mut self.conn().await?, participant).await
    }

    async fn set_limit_alarm(&self, account: AccountId, percentage: Amount, changed: Timestamp) -> Result<(), StoreError> {
        operator::set_limit_alarm(&mut self.conn().await?, account, percentage, changed).await
    }

    async fn limit_alarm(&self, account: AccountId) -> Result<Option<Amount>, StoreError> {
        operator::limit_alarm(&mut self.conn().await?, account).await
    }

    async fn create_settlement_model(&self, definition: &ModelDefinition, created: Timestamp) -> Result<SettlementModel, StoreError> {
        operator::create_settlement_model(&mut self.conn().await?, definition, created).await
    }

    async fn settlement_models(&self) -> Result<Vec<SettlementModel>, StoreError> {
        operator::settlement_models(&mut self.conn().await?).await
    }

    async fn set_settlement_model_active(&self, id: ModelId, active: bool) -> Result<(), StoreError> {
        let sql = "UPDATE settlement_model SET is_active = ? WHERE settlement_model_id = ?";
        self.update_one(sql, (i64::from(active), id.0), &format!("settlement model {}", id.0)).await
    }

    async fn windows(&self, ids: Option<&[WindowId]>) -> Result<Vec<WindowRecord>, StoreError> {
        operator::windows(&mut self.conn().await?, ids, "").await
    }

    async fn settlements(&self, ids: Option<&[SettlementId]>) -> Result<Vec<SettlementRecord>, StoreError> {
        operator::settlements(&mut self.conn().await?, ids, "").await
    }
}

impl MysqlStore {
    /// Inserts rows outside a [`LedgerTx`], one statement per run: a single run autocommits,
    /// several share one transaction (all rows or none).
    async fn write_rows(&self, head: &str, tail: &str, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        if insert_runs(&rows).len() == 1 {
            let mut conn = self.conn().await?;
            return insert_rows(&mut conn, head, tail, rows).await;
        }
        let mut tx = self.begin_tx().await?;
        insert_rows(&mut tx, head, tail, rows).await?;
        tx.commit().await.map_err(store_error)
    }

    /// Runs an UPDATE of one row by key; no matched row is NotFound.
    async fn update_one(&self, sql: &str, params: (i64, u64), what: &str) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(sql, params).await.map_err(store_error)?;
        match conn.affected_rows() {
            0 => Err(StoreError::NotFound(what.to_string())),
            _ => Ok(()),
        }
    }
}

fn inserted_id(conn: &Conn) -> Result<u64, StoreError> {
    conn.last_insert_id().ok_or_else(|| StoreError::Unavailable("the server reported no inserted id".into()))
}

/// One database transaction on one pooled connection.
///
/// Dropping it uncommitted rolls back without a `Drop` impl of our own: the driver's
/// [`Transaction`] marks the connection as needing a rollback, and the pool's recycler task
/// runs `ROLLBACK` before the connection can be handed out again (or closes it if that fails).
/// So an abandoned batch leaves no rows and holds no locks, and `Drop` needs no runtime.
struct MysqlTx {
    tx: Transaction<'static>,
    /// The `transfer_seq` of every transfer this transaction read or inserted, so that the
    /// child rows a batch writes after loading its transfers need no further lookup. A seq never
    /// changes and transfers are never deleted, so an entry cannot go stale; a transfer this
    /// transaction inserted could only vanish with a rollback, after which the caller drops the
    /// transaction (and this cache) by contract.
    seqs: SeqCache,
}

/// `transfer_id → transfer_seq`, as far as one transaction has seen.
type SeqCache = HashMap<TransferId, u64>;

#[async_trait]
impl LedgerTx for MysqlTx {
    async fn lock_positions(&mut self, accounts: &[AccountId]) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError> {
        let mut res = BTreeMap::new();
        // Ascending ids in every chunk and across chunks: see lock_positions_chunk.
        for chunk in in_list_chunks(&lock_order(accounts)) {
            lock_positions_chunk(&mut self.tx, &chunk, &mut res).await?;
        }
        Ok(res)
    }

    async fn lock_balances(&mut self, accounts: &[AccountId]) -> Result<BTreeMap<AccountId, (Amount, Amount)>, StoreError> {
        let mut res = BTreeMap::new();
        for chunk in in_list_chunks(&lock_order(accounts)) {
            // Ascending order, as in lock_positions, so concurrent batches cannot deadlock.
            let sql = format!(
                "SELECT account_id, value, reserved_value FROM participant_position \
                  WHERE account_id IN ({}) ORDER BY account_id FOR UPDATE",
                placeholders(chunk.len())
            );
            let rows: Vec<Row> = self.tx.exec(sql, account_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let mut cols = Columns::new(row);
                res.insert(AccountId(cols.value()?), (cols.amount()?, cols.amount()?));
            }
        }
        Ok(res)
    }

    async fn current_states(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
        current_states(&mut self.tx, &mut self.seqs, ids).await
    }

    async fn hashes(&mut self, kind: HashKind, ids: &[TransferId]) -> Result<HashMap<TransferId, RequestHash>, StoreError> {
        // The duplicate-check tables are LEFT JOINed, so the seqs of transfers without a hash
        // are cached too: the batch's insert_hashes then needs no lookup.
        let source = match kind {
            HashKind::Prepare => "SELECT t.transfer_id, t.transfer_seq, t.prepare_hash FROM transfer t",
            HashKind::Fulfil => {
                "SELECT t.transfer_id, t.transfer_seq, d.hash FROM transfer t \
                 LEFT JOIN transfer_fulfilment_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
            HashKind::Error => {
                "SELECT t.transfer_id, t.transfer_seq, d.hash FROM transfer t \
                 LEFT JOIN transfer_error_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
        };
        let mut res = HashMap::new();
        for chunk in in_list_chunks(ids) {
            let sql = format!("{source} WHERE t.transfer_id IN ({})", placeholders(chunk.len()));
            let rows: Vec<Row> = self.tx.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let mut cols = Columns::new(row);
                let id = cols.transfer_id()?;
                self.seqs.insert(id.clone(), cols.value()?);
                if let Some(hash) = cols.value::<Option<String>>()? {
                    res.insert(id, RequestHash::new(hash));
                }
            }
        }
        Ok(res)
    }

    async fn transfers(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        load_transfers(&mut self.tx, &mut self.seqs, ids).await
    }

    async fn insert_transfers(&mut self, rows: &[NewTransfer]) -> Result<(), StoreError> {
        insert_transfers(&mut self.tx, &mut self.seqs, rows).await
    }

    async fn insert_hashes(&mut self, kind: HashKind, rows: &[(TransferId, RequestHash, Timestamp)]) -> Result<(), StoreError> {
        let table = match kind {
            HashKind::Prepare => return Err(StoreError::Invalid("prepare hashes are written with the transfer".into())),
            HashKind::Fulfil => "transfer_fulfilment_duplicate_check",
            HashKind::Error => "transfer_error_duplicate_check",
        };
        let values = rows.iter().map(|(id, hash, at)| (id, vec![Value::from(hash.as_str()), ms(*at)])).collect();
        let head = format!("INSERT INTO {table} (transfer_seq, hash, created_ms)");
        insert_children(&mut self.tx, &mut self.seqs, &head, values).await
    }

    async fn insert_state_changes(&mut self, rows: &[NewStateChange]) -> Result<(), StoreError> {
        insert_state_changes(&mut self.tx, &mut self.seqs, rows).await
    }

    async fn insert_position_changes(&mut self, rows: &[NewPositionChange]) -> Result<(), StoreError> {
        // insert_children keeps the rows' order, which the auto-increment id makes the
        // journal's order.
        let values = rows
            .iter()
            .map(|row| {
                let values = vec![
                    Value::from(row.account.0),
                    Value::from(row.seq),
                    decimal_value(row.change),
                    decimal_value(row.value),
                    decimal_value(row.reserved),
                    ms(row.created),
                ];
                Ok((&row.transfer_id, values))
            })
            .collect::<Result<_, StoreError>>()?;
        let head = "INSERT INTO participant_position_change \
                    (transfer_seq, account_id, seq, change_amount, value, reserved_value, created_ms)";
        insert_children(&mut self.tx, &mut self.seqs, head, values).await
    }

    async fn update_positions(&mut self, rows: &[(AccountId, Amount)], changed: Timestamp) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|(account, value)| {
                Ok(vec![Value::from(account.0), decimal_value(*value), Value::from(ZERO_DECIMAL), ms(changed)])
            })
            .collect::<Result<_, StoreError>>()?;
        // One statement per chunk instead of one UPDATE per account. Every account has its row
        // (create_account writes it), so only the UPDATE branch runs; an unknown account fails
        // the foreign key (NotFound) instead of creating a row. VALUES() works on MariaDB 10.11
        // and MySQL 8.0; MySQL 8.0.20+ deprecates it in favour of a row alias MariaDB lacks.
        let head = "INSERT INTO participant_position (account_id, value, reserved_value, changed_ms)";
        let tail = " ON DUPLICATE KEY UPDATE value = VALUES(value), changed_ms = VALUES(changed_ms)";
        insert_rows(&mut self.tx, head, tail, values).await
    }

    async fn insert_errors(&mut self, rows: &[NewTransferError]) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|row| {
                let values = vec![
                    Value::from(row.seq),
                    Value::from(row.code),
                    Value::from(truncate_chars(&row.description, ERROR_DESCRIPTION_LENGTH_MAX)),
                    ms(row.created),
                ];
                (&row.transfer_id, values)
            })
            .collect();
        let head = "INSERT INTO transfer_error (transfer_seq, seq, error_code, error_description, created_ms)";
        insert_children(&mut self.tx, &mut self.seqs, head, values).await
    }

    async fn insert_fulfilments(&mut self, rows: &[NewFulfilment]) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|row| {
                let values = vec![
                    Value::from(row.fulfilment.map(|it| it.to_base64url())),
                    ms(row.completed),
                    Value::from(row.window.0),
                    ms(row.created),
                ];
                (&row.transfer_id, values)
            })
            .collect();
        let head =
            "INSERT INTO transfer_fulfilment (transfer_seq, ilp_fulfilment, completed_ms, settlement_window_id, created_ms)";
        insert_children(&mut self.tx, &mut self.seqs, head, values).await
    }

    async fn open_window(&mut self) -> Result<Window, StoreError> {
        // A shared lock: fulfil batches tagging commits with this window run side by side,
        // while close_open_window (exclusive) waits for them, so no commit lands in a window
        // after it closed.
        open_window(&mut self.tx, "LOCK IN SHARE MODE").await
    }

    async fn close_open_window(&mut self, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
        close_open_window(&mut self.tx, reason, at).await
    }

    async fn window_fulfilment_count(&mut self, window: WindowId) -> Result<u64, StoreError> {
        let sql = "SELECT COUNT(*) FROM transfer_fulfilment WHERE settlement_window_id = ?";
        let row: Option<Row> = self.tx.exec_first(sql, (window.0,)).await.map_err(store_error)?;
        let row = row.ok_or_else(|| StoreError::Unavailable("COUNT returned no row".into()))?;
        Columns::new(row).value()
    }

    async fn due_timeouts(&mut self, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError> {
        work_list::due(&mut self.tx, &mut self.seqs, now, limit).await
    }

    async fn delete_timeouts(&mut self, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError> {
        work_list::delete(&mut self.tx, &mut self.seqs, entries).await
    }

    async fn move_timeouts(&mut self, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError> {
        work_list::move_to(&mut self.tx, &mut self.seqs, entries).await
    }

    async fn delete_timeouts_of(&mut self, ids: &[TransferId]) -> Result<(), StoreError> {
        work_list::delete_of(&mut self.tx, &mut self.seqs, ids).await
    }

    async fn windows_for_update(&mut self, ids: &[WindowId]) -> Result<Vec<WindowRecord>, StoreError> {
        operator::windows(&mut self.tx, Some(ids), "FOR UPDATE").await
    }

    async fn window_sums(&mut self, window: WindowId) -> Result<Vec<WindowSum>, StoreError> {
        operator::window_sums(&mut self.tx, window).await
    }

    async fn set_window_states(&mut self, rows: &[(WindowId, WindowState)], reason: &str, at: Timestamp) -> Result<(), StoreError> {
        operator::set_window_states(&mut self.tx, rows, reason, at).await
    }

    async fn insert_window_contents(&mut self, rows: &[NewContent], at: Timestamp) -> Result<Vec<ContentId>, StoreError> {
        operator::insert_window_contents(&mut self.tx, rows, at).await
    }

    async fn insert_content_states(&mut self, rows: &[NewContentState], at: Timestamp) -> Result<(), StoreError> {
        operator::insert_content_states(&mut self.tx, rows, at).await
    }

    async fn settlements_for_update(&mut self, ids: &[SettlementId]) -> Result<Vec<SettlementRecord>, StoreError> {
        operator::settlements(&mut self.tx, Some(ids), "FOR UPDATE").await
    }

    async fn insert_settlement(&mut self, row: &NewSettlement) -> Result<SettlementId, StoreError> {
        operator::insert_settlement(&mut self.tx, row).await
    }

    async fn insert_settlement_states(&mut self, rows: &[NewSettlementState], at: Timestamp) -> Result<(), StoreError> {
        operator::insert_settlement_states(&mut self.tx, rows, at).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        // On a failed COMMIT the driver rolls back before returning the error.
        self.tx.commit().await.map_err(store_error)
    }
}

/// Locks one chunk of POSITION accounts (ascending ids) and, through the joins, the same
/// participant's SETTLEMENT account in that currency and the active NET_DEBIT_CAP row.
///
/// One statement with `ORDER BY account_id` walks the primary key upwards, so InnoDB takes the
/// row locks account by account in ascending order. Every batch locking in the same order
/// cannot deadlock with another: the first to reach a shared account goes first, the other
/// waits without holding anything the first still needs. A SETTLEMENT row is locked right after
/// its POSITION row, not at its own id; only a `lock_balances` over a settlement account *and*
/// a higher POSITION account can cross that order, and InnoDB then aborts one side with a
/// deadlock, which is a `Conflict` the handler re-runs.
async fn lock_positions_chunk(
    tx: &mut Transaction<'static>,
    chunk: &[AccountId],
    res: &mut BTreeMap<AccountId, PositionAccount>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT pc.account_id, pp.value, pp.reserved_value, sp.value, pl.value \
           FROM participant_currency pc \
           JOIN participant_position pp ON pp.account_id = pc.account_id \
           LEFT JOIN participant_currency sc ON sc.participant_id = pc.participant_id \
                AND sc.currency = pc.currency AND sc.ledger_account_type = {settlement} \
           LEFT JOIN participant_position sp ON sp.account_id = sc.account_id \
           LEFT JOIN participant_limit pl ON pl.account_id = pc.account_id \
                AND pl.limit_type = {cap} AND pl.is_active = 1 \
          WHERE pc.account_id IN ({ids}) \
          ORDER BY pc.account_id \
            FOR UPDATE",
        settlement = LedgerAccountType::Settlement.id(),
        cap = NET_DEBIT_CAP_LIMIT_TYPE,
        ids = placeholders(chunk.len()),
    );
    let rows: Vec<Row> = tx.exec(sql, account_values(chunk)).await.map_err(store_error)?;
    for row in rows {
        let mut cols = Columns::new(row);
        let id = AccountId(cols.value()?);
        let account = PositionAccount {
            position: cols.amount()?,
            reserved: cols.amount()?,
            // No SETTLEMENT account means no liquidity: the position check refuses prepares.
            settlement_balance: cols.amount_opt()?.unwrap_or(Amount::ZERO),
            net_debit_cap: cols.amount_opt()?.map(net_debit_cap).transpose()?,
        };
        // set_net_debit_cap keeps one active cap per account; two rows mean the invariant broke.
        if res.insert(id, account).is_some() {
            return Err(StoreError::Corrupt(format!("account {id} has more than one active net debit cap")));
        }
    }
    Ok(())
}

/// Latest state of each id: all its journal rows, keeping the highest `seq`. The join reads
/// `transfer_seq` from the `transfer_id` index alone (a secondary index holds the primary key).
///
/// `STRAIGHT_JOIN` keeps the listed transfers first. A fresh database's statistics are taken
/// while its tables are nearly empty, and with them MariaDB 10.11 read the whole state journal
/// for every batch (`SHOW EXPLAIN`: `s ALL`, then `t eq_ref`) until InnoDB recalculated them:
/// at 1,000 transfers/s a scan that grew with the journal, batches of 50–100 ms, and in some
/// runs the pipeline fell minutes behind.
async fn current_states<Q: Queryable>(
    q: &mut Q,
    seqs: &mut SeqCache,
    ids: &[TransferId],
) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
    let mut res: HashMap<TransferId, CurrentState> = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, t.transfer_seq, s.state, s.seq, s.created_ms FROM transfer t \
               STRAIGHT_JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = q.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            let id = cols.transfer_id()?;
            seqs.insert(id.clone(), cols.value()?);
            let state = cols.current_state()?;
            let entry = res.entry(id).or_insert(state);
            if entry.seq < state.seq {
                *entry = state;
            }
        }
    }
    Ok(res)
}

/// Inserts the transfer rows, reads their `transfer_seq` back, then writes the children.
async fn insert_transfers(tx: &mut Transaction<'static>, seqs: &mut SeqCache, rows: &[NewTransfer]) -> Result<(), StoreError> {
    let head = "INSERT INTO transfer (transfer_id, payer_fsp, payee_fsp, payer_account_id, payee_account_id, amount, \
                currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms)";
    for chunk in insert_runs(rows) {
        let values = chunk.iter().map(transfer_values).collect::<Result<_, StoreError>>()?;
        insert_rows(tx, head, "", values).await?;
        cache_inserted_seqs(tx, seqs, chunk.len()).await?;
    }
    // Ids the range reads missed are looked up by id when the first states are written.
    let first_states: Vec<NewStateChange> = rows
        .iter()
        .map(|row| NewStateChange {
            transfer_id: row.transfer_id.clone(),
            seq: 1,
            state: row.state,
            reason: row.reason.clone(),
            created: row.created,
        })
        .collect();
    insert_state_changes(tx, seqs, &first_states).await?;
    let extensions = rows
        .iter()
        .flat_map(|row| {
            let id = &row.transfer_id;
            row.extensions
                .iter()
                .map(move |(key, value)| (id, vec![Value::from(key.as_str()), Value::from(value.as_str())]))
        })
        .collect();
    insert_children(tx, seqs, "INSERT INTO transfer_extension (transfer_seq, ext_key, ext_value)", extensions).await?;
    // Only transfers still waiting for a payee can time out; INVALID ones are already final.
    let timeouts = rows
        .iter()
        .filter(|row| row.state == TransferState::ReceivedPrepare)
        .map(|row| (&row.transfer_id, vec![ms(row.expiration)]))
        .collect();
    insert_children(tx, seqs, "INSERT INTO transfer_timeout (transfer_seq, expiration_ms)", timeouts).await
}

fn transfer_values(row: &NewTransfer) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        Value::from(row.transfer_id.as_str()),
        Value::from(row.payer.as_str()),
        Value::from(row.payee.as_str()),
        Value::from(row.payer_account.map(|it| it.0)),
        Value::from(row.payee_account.map(|it| it.0)),
        decimal_value(row.amount),
        Value::from(row.currency.code()),
        Value::from(row.condition.map(|it| it.to_base64url())),
        ms(row.expiration),
        Value::from(row.ilp_packet.as_str()),
        Value::from(row.hash.as_str()),
        ms(row.created),
    ])
}

async fn insert_state_changes(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    rows: &[NewStateChange],
) -> Result<(), StoreError> {
    let values = rows
        .iter()
        .map(|row| {
            let reason = row.reason.as_deref().map(|it| truncate_chars(it, STATE_REASON_LENGTH_MAX));
            let values = vec![Value::from(row.seq), Value::from(row.state.name()), Value::from(reason), ms(row.created)];
            (&row.transfer_id, values)
        })
        .collect();
    let head = "INSERT INTO transfer_state_change (transfer_seq, seq, state, reason, created_ms)";
    insert_children(tx, seqs, head, values).await
}

/// After an INSERT of `n_rows` transfers, caches the seqs of the rows found in the `n_rows` seqs
/// from LAST_INSERT_ID() (the first row's seq) on: where that INSERT most likely put them.
///
/// The rows of one INSERT take increasing seqs, consecutive unless a concurrent insert takes
/// some in between (`innodb_autoinc_lock_mode = 2`, MySQL 8's default) or
/// `auto_increment_increment` is above 1. So the range is only a guess, never trusted: the read
/// returns real `(transfer_id, transfer_seq)` pairs whichever rows it finds, and the ids it
/// misses are looked up by id later ([`insert_children`]). Reading one primary-key range costs
/// a third of probing the random `transfer_id` index once per row.
async fn cache_inserted_seqs(tx: &mut Transaction<'static>, seqs: &mut SeqCache, n_rows: usize) -> Result<(), StoreError> {
    let (Some(first), Ok(n_rows)) = (tx.last_insert_id(), u64::try_from(n_rows)) else {
        return Ok(());
    };
    let last = first.saturating_add(n_rows.saturating_sub(1));
    let sql = "SELECT transfer_id, transfer_seq FROM transfer WHERE transfer_seq BETWEEN ? AND ?";
    let rows: Vec<Row> = tx.exec(sql, (first, last)).await.map_err(store_error)?;
    for row in rows {
        let mut cols = Columns::new(row);
        seqs.insert(cols.transfer_id()?, cols.value()?);
    }
    Ok(())
}

/// Caches the `transfer_seq` of the ids not cached yet, with one statement per chunk of them.
/// Ids that are not stored stay absent.
async fn load_seqs<'a>(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    ids: impl Iterator<Item = &'a TransferId>,
) -> Result<(), StoreError> {
    let mut seen = HashSet::new();
    let missing: Vec<TransferId> = ids.filter(|id| !seqs.contains_key(*id) && seen.insert(*id)).cloned().collect();
    for chunk in in_list_chunks(&missing) {
        let sql = format!("SELECT transfer_id, transfer_seq FROM transfer WHERE transfer_id IN ({})", placeholders(chunk.len()));
        let rows: Vec<Row> = tx.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            seqs.insert(cols.transfer_id()?, cols.value()?);
        }
    }
    Ok(())
}

/// Inserts rows of a child table whose first column is `transfer_seq`, given each row's
/// transfer id and its other values; rows keep their order. A row naming a transfer that is not
/// stored fails the whole call with [`StoreError::NotFound`] before anything is written.
async fn insert_children(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    head: &str,
    rows: Vec<(&TransferId, Vec<Value>)>,
) -> Result<(), StoreError> {
    load_seqs(tx, seqs, rows.iter().map(|(id, _)| *id)).await?;
    let values = rows
        .into_iter()
        .map(|(id, values)| {
            let seq = seqs.get(id).ok_or_else(|| StoreError::NotFound(format!("transfer {id}")))?;
            let mut full = Vec::with_capacity(values.len() + 1);
            full.push(Value::from(*seq));
            full.extend(values);
            Ok(full)
        })
        .collect::<Result<_, StoreError>>()?;
    insert_rows(tx, head, "", values).await
}

/// Writes rows with one multi-row INSERT per run of rows (see [`insert_runs`]), all values
/// bound as parameters. `head` is the statement up to `VALUES`, `tail` what follows the rows.
async fn insert_rows<Q: Queryable>(
    q: &mut Q,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Value>>,
) -> Result<(), StoreError> {
    let run_lengths: Vec<usize> = insert_runs(&rows).iter().map(|run| run.len()).collect();
    let mut rows = rows.into_iter();
    for run_length in run_lengths {
        // The values move into the statement's parameters: an ILP packet is not copied again.
        let run: Vec<Vec<Value>> = rows.by_ref().take(run_length).collect();
        let row = format!("({})", placeholders(run[0].len()));
        let sql = format!("{head} VALUES {}{tail}", vec![row.as_str(); run.len()].join(","));
        let params: Vec<Value> = run.into_iter().flatten().collect();
        q.exec_drop(sql, params).await.map_err(store_error)?;
    }
    Ok(())
}

/// Full records of the known ids: the transfer row with its fulfilment and error, the latest
/// state and the extensions in insertion order.
async fn load_transfers<Q: Queryable>(
    q: &mut Q,
    seqs: &mut SeqCache,
    ids: &[TransferId],
) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
    let states = current_states(q, seqs, ids).await?;
    let mut res = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, t.payer_fsp, t.payee_fsp, t.payer_account_id, t.payee_account_id, t.amount, \
                    t.currency, t.ilp_condition, t.expiration_ms, t.ilp_packet, t.created_ms, \
                    f.ilp_fulfilment, f.settlement_window_id, e.error_code, e.error_description, t.transfer_seq \
               FROM transfer t \
               LEFT JOIN transfer_fulfilment f ON f.transfer_seq = t.transfer_seq \
               LEFT JOIN transfer_error e ON e.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = q.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            let record = transfer_record(&mut cols, &states)?;
            seqs.insert(record.transfer_id.clone(), cols.value()?);
            res.insert(record.transfer_id.clone(), record);
        }
        let sql = format!(
            // The listed transfers first, whatever the statistics say: see current_states.
            "SELECT t.transfer_id, x.ext_key, x.ext_value FROM transfer t \
               STRAIGHT_JOIN transfer_extension x ON x.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({}) ORDER BY x.id",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = q.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            let id = cols.transfer_id()?;
            let extension = (cols.value()?, cols.value()?);
            if let Some(record) = res.get_mut(&id) {
                record.extensions.push(extension);
            }
        }
    }
    Ok(res)
}

/// Reads the transfer columns of [`load_transfers`]' row, leaving what follows them.
fn transfer_record(cols: &mut Columns, states: &HashMap<TransferId, CurrentState>) -> Result<TransferRecord, StoreError> {
    let transfer_id = cols.transfer_id()?;
    let current = state_of(states, &transfer_id)?;
    let payer = fsp_id(&cols.value::<String>()?)?;
    let payee = fsp_id(&cols.value::<String>()?)?;
    let payer_account = cols.value::<Option<u64>>()?.map(AccountId);
    let payee_account = cols.value::<Option<u64>>()?.map(AccountId);
    let amount = cols.amount()?;
    let currency = currency(&cols.value::<String>()?)?;
    let condition = cols.value::<Option<String>>()?.map(|it| condition(&it)).transpose()?;
    let expiration = cols.timestamp()?;
    let ilp_packet = cols.value()?;
    let created = cols.timestamp()?;
    let fulfilment = cols.value::<Option<String>>()?.map(|it| fulfilment(&it)).transpose()?;
    let window = cols.value::<Option<u64>>()?.map(WindowId);
    let error_code: Option<u16> = cols.value()?;
    let error_description: Option<String> = cols.value()?;
    Ok(TransferRecord {
        transfer_id,
        payer,
        payee,
        payer_account,
        payee_account,
        amount,
        currency,
        condition,
        expiration,
        ilp_packet,
        created,
        current,
        fulfilment,
        window,
        error: error_code.zip(error_description),
        extensions: Vec::new(),
    })
}

/// The OPEN window (`open_marker = 1`), read with the given locking clause.
async fn open_window(tx: &mut Transaction<'static>, locking: &str) -> Result<Window, StoreError> {
    let sql = format!("SELECT settlement_window_id, state, created_ms FROM settlement_window WHERE open_marker = 1 {locking}");
    let row: Option<Row> = tx.exec_first(sql, ()).await.map_err(store_error)?;
    // Exactly one window is OPEN except for the moment a concurrent close swaps them; a
    // locking read that waited on that close can find none, and a re-run finds the new one.
    let row = row.ok_or_else(|| StoreError::Conflict("no OPEN settlement window (a close was under way)".into()))?;
    let mut cols = Columns::new(row);
    let id = WindowId(cols.value()?);
    let state = window_state(&cols.value::<String>()?)?;
    Ok(Window { id, state, created: cols.timestamp()? })
}

async fn close_open_window(tx: &mut Transaction<'static>, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
    let open = open_window(tx, "FOR UPDATE").await?;
    let reason = truncate_chars(reason, STATE_REASON_LENGTH_MAX);
    let processing = WindowState::Processing.name();
    // open_marker NULL frees the unique marker for the next window.
    let sql = "UPDATE settlement_window SET state = ?, open_marker = NULL, reason = ?, changed_ms = ? \
               WHERE settlement_window_id = ?";
    tx.exec_drop(sql, (processing, reason, at.unix_ms(), open.id.0)).await.map_err(store_error)?;
    record_window_state(tx, open.id, WindowState::Processing, reason, at).await?;
    let sql = "INSERT INTO settlement_window (state, open_marker, reason, created_ms, changed_ms) VALUES (?, 1, ?, ?, ?)";
    tx.exec_drop(sql, (WindowState::Open.name(), reason, at.unix_ms(), at.unix_ms())).await.map_err(store_error)?;
    let next = WindowId(inserted_id(tx)?);
    record_window_state(tx, next, WindowState::Open, reason, at).await?;
    let closed = Window { id: open.id, state: WindowState::Processing, created: open.created };
    Ok((closed, Window { id: next, state: WindowState::Open, created: at }))
}

async fn record_window_state(
    tx: &mut Transaction<'static>,
    id: WindowId,
    state: WindowState,
    reason: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO settlement_window_state_change (settlement_window_id, state, reason, created_ms) \
               VALUES (?, ?, ?, ?)";
    tx.exec_drop(sql, (id.0, state.name(), reason, at.unix_ms())).await.map_err(store_error)
}

/// Every transfer is written with its first state, so one without is a broken journal.
fn state_of(states: &HashMap<TransferId, CurrentState>, id: &TransferId) -> Result<CurrentState, StoreError> {
    states.get(id).copied().ok_or_else(|| StoreError::Corrupt(format!("transfer {id} has no state")))
}

fn fsp_id_values(names: &[FspId]) -> Vec<Value> {
    names.iter().map(|it| Value::from(it.as_str())).collect()
}

fn transfer_id_values(ids: &[TransferId]) -> Vec<Value> {
    ids.iter().map(|it| Value::from(it.as_str())).collect()
}

fn account_values(ids: &[AccountId]) -> Vec<Value> {
    ids.iter().map(|it| Value::from(it.0)).collect()
}

/// An amount as the exact decimal text a `DECIMAL(39,4)` column takes; every `Amount` fits.
fn decimal_value(amount: Amount) -> Value {
    Value::from(amount.to_decimal_string())
}

fn ms(at: Timestamp) -> Value {
    Value::from(at.unix_ms())
}

/// A result row read column by column, in order; a value the ledger cannot read is `Corrupt`.
struct Columns {
    row: Row,
    next_idx: usize,
}

impl Columns {
    fn new(row: Row) -> Columns {
        Columns { row, next_idx: 0 }
    }

    fn value<T: FromValue>(&mut self) -> Result<T, StoreError> {
        let idx = self.next_idx;
        self.next_idx += 1;
        match self.row.take_opt::<T, usize>(idx) {
            Some(Ok(value)) => Ok(value),
            Some(Err(err)) => Err(StoreError::Corrupt(format!("column {idx}: {err}"))),
            None => Err(StoreError::Corrupt(format!("column {idx} is missing"))),
        }
    }

    /// DECIMAL columns arrive as text in both protocols, so no float is ever involved.
    fn amount(&mut self) -> Result<Amount, StoreError> {
        decimal(&self.value::<String>()?)
    }

    fn amount_opt(&mut self) -> Result<Option<Amount>, StoreError> {
        self.value::<Option<String>>()?.map(|it| decimal(&it)).transpose()
    }

    fn timestamp(&mut self) -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_unix_ms(self.value()?))
    }

    fn flag(&mut self) -> Result<bool, StoreError> {
        Ok(self.value::<i64>()? != 0)
    }

    fn transfer_id(&mut self) -> Result<TransferId, StoreError> {
        transfer_id(&self.value::<String>()?)
    }

    /// `state, seq, created_ms`.
    fn current_state(&mut self) -> Result<CurrentState, StoreError> {
        let text: String = self.value()?;
        let state = TransferState::from_name(&text).ok_or_else(|| StoreError::Corrupt(format!("transfer state {text:?}")))?;
        Ok(CurrentState { state, seq: self.value()?, changed: self.timestamp()? })
    }

    /// `participant_id, name, is_active`.
    fn participant(&mut self) -> Result<Participant, StoreError> {
        let id = ParticipantId(self.value()?);
        Ok(Participant { id, name: fsp_id(&self.value::<String>()?)?, is_active: self.flag()? })
    }

    /// `account_id, participant_id, currency, ledger_account_type, is_active`.
    fn account(&mut self) -> Result<Account, StoreError> {
        let id = AccountId(self.value()?);
        let participant = ParticipantId(self.value()?);
        let currency = currency(&self.value::<String>()?)?;
        let kind_id: u8 = self.value()?;
        let kind = LedgerAccountType::from_id(kind_id).ok_or_else(|| StoreError::Corrupt(format!("account type {kind_id}")))?;
        Ok(Account { id, participant, currency, kind, is_active: self.flag()? })
    }
}

fn decimal(text: &str) -> Result<Amount, StoreError> {
    Amount::parse_stored(text).map_err(|err| StoreError::Corrupt(format!("amount {text:?}: {err:?}")))
}

fn net_debit_cap(value: Amount) -> Result<NetDebitCap, StoreError> {
    NetDebitCap::new(value).ok_or_else(|| StoreError::Corrupt(format!("negative net debit cap {}", value.to_decimal_string())))
}







#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_split_at_semicolon_lines_and_skip_comments() {
        let sql = "-- header\n-- more\n\nCREATE TABLE a (x INT)\n;\nINSERT INTO a VALUES (1)\n  ;  \n-- trailing\n";
        let statements = migration_statements(sql);
        assert_eq!(statements.len(), 2);
        assert!(statements[0].contains("CREATE TABLE a"));
        assert_eq!(statements[1].trim(), "INSERT INTO a VALUES (1)");
        let shipped = migration_statements(MIGRATIONS[0].1);
        assert!(shipped.iter().all(|it| !it.contains("\n;")));
        assert_eq!(shipped.iter().filter(|it| it.contains("CREATE TABLE")).count(), 15);
        let shipped = migration_statements(MIGRATIONS[1].1);
        assert_eq!(shipped.len(), 3);
        assert!(shipped.iter().all(|it| it.contains("CREATE TABLE IF NOT EXISTS") && !it.contains("\n;")));
    }

    #[test]
    fn passwords_stay_out_of_debug_output() {
        assert_eq!(redacted_url("mysql://app:s3cr@t@db.example:3306/ledger"), "mysql://app:***@db.example:3306/ledger");
        assert_eq!(redacted_url("mysql://root@127.0.0.1:3306/ledger"), "mysql://root@127.0.0.1:3306/ledger");
        let config = MysqlStoreConfig { url: "mysql://a:pw@h/d".into(), ca_certificate: None, pool_connections_max: 1 };
        assert!(!format!("{config:?}").contains("pw"));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("ledger"), "`ledger`");
        assert_eq!(quote_identifier("a`b"), "`a``b`");
    }

    #[test]
    fn server_errors_map_to_store_errors() {
        assert!(matches!(server_error(ER_DUP_ENTRY, String::new()), StoreError::Conflict(_)));
        assert!(matches!(server_error(ER_LOCK_DEADLOCK, String::new()), StoreError::Conflict(_)));
        assert!(matches!(server_error(ER_LOCK_WAIT_TIMEOUT, String::new()), StoreError::Conflict(_)));
        assert!(matches!(server_error(ER_NO_REFERENCED_ROW_2, String::new()), StoreError::NotFound(_)));
        assert!(matches!(server_error(1264, String::new()), StoreError::Invalid(_)));
        assert!(matches!(server_error(1040, String::new()), StoreError::Unavailable(_)));
    }

    /// With `auto_increment_increment = 3` one INSERT's seqs are 3 apart, so the range read
    /// after it finds a third of its rows: the others must be looked up by id, and every child
    /// row must still land on its own transfer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seqs_do_not_depend_on_consecutive_auto_increments() {
        let store = test_store().await;
        let mut tx = store.begin_tx().await.unwrap();
        tx.query_drop("SET SESSION auto_increment_increment = 3").await.unwrap();
        let mut tx = MysqlTx { tx, seqs: SeqCache::new() };
        let rows: Vec<NewTransfer> = (0..crate::STATEMENT_ROWS_MAX + 7).map(|_| test_transfer()).collect();
        tx.insert_transfers(&rows).await.unwrap();
        let stored: Vec<(String, u64)> = tx.tx.query("SELECT transfer_id, transfer_seq FROM transfer").await.unwrap();
        let stored: SeqCache = stored.into_iter().map(|(id, seq)| (transfer_id(&id).unwrap(), seq)).collect();
        assert_eq!(tx.seqs, stored);
        let ids: Vec<TransferId> = rows.iter().map(|it| it.transfer_id.clone()).collect();
        let states = tx.current_states(&ids).await.unwrap();
        assert!(ids.iter().all(|id| states[id].state == TransferState::ReceivedPrepare));
        let expired = tx.due_timeouts(Timestamp::from_unix_ms(2), 10_000).await.unwrap();
        let mut expired: Vec<TransferId> = expired.into_iter().map(|(id, _)| id).collect();
        let mut expected = ids.clone();
        expired.sort();
        expected.sort();
        assert_eq!(expired, expected);
        drop(tx);
        store.drop_database().await.unwrap();
        store.close().await.unwrap();
    }

    /// Child rows find their transfer's seq whether or not the transaction read the transfer
    /// first; a row naming a transfer that does not exist fails the call, writing nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn child_rows_of_unknown_transfers_are_not_found() {
        let store = test_store().await;
        let row = test_transfer();
        let mut tx = store.begin().await.unwrap();
        tx.insert_transfers(std::slice::from_ref(&row)).await.unwrap();
        tx.commit().await.unwrap();
        let (known, unknown) = (row.transfer_id.clone(), test_transfer().transfer_id);
        let at = Timestamp::from_unix_ms(5);
        let change = |id: &TransferId| NewStateChange {
            transfer_id: id.clone(),
            seq: 2,
            state: TransferState::Reserved,
            reason: None,
            created: at,
        };
        let mut tx = store.begin().await.unwrap();
        let res = tx.insert_state_changes(&[change(&known), change(&unknown)]).await;
        assert!(matches!(res, Err(StoreError::NotFound(_))), "{res:?}");
        let units = Amount::from_units(10_000);
        let position = NewPositionChange {
            account: AccountId(1),
            transfer_id: unknown.clone(),
            seq: 2,
            change: units,
            value: units,
            reserved: Amount::ZERO,
            created: at,
        };
        assert!(matches!(tx.insert_position_changes(&[position]).await, Err(StoreError::NotFound(_))));
        let hash = (unknown, RequestHash::new("h".into()), at);
        assert!(matches!(tx.insert_hashes(HashKind::Fulfil, &[hash]).await, Err(StoreError::NotFound(_))));
        tx.insert_state_changes(&[change(&known)]).await.unwrap();
        tx.commit().await.unwrap();
        let history = store.state_history(&known).await.unwrap();
        let history: Vec<(u32, TransferState)> = history.iter().map(|it| (it.seq, it.state)).collect();
        assert_eq!(history, [(1, TransferState::ReceivedPrepare), (2, TransferState::Reserved)]);
        assert!(store.position_journal(AccountId(1)).await.unwrap().is_empty());
        store.drop_database().await.unwrap();
        store.close().await.unwrap();
    }

    /// A store on a fresh database of the test server (see `tests/common`), on one connection.
    async fn test_store() -> MysqlStore {
        let server = std::env::var("LEDGER_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let url = format!("{server}/ledger_t_{}", uuid::Uuid::new_v4().simple());
        MysqlStore::open(MysqlStoreConfig { url, ca_certificate: None, pool_connections_max: 1 }).await.unwrap()
    }

    fn test_transfer() -> NewTransfer {
        let id = uuid::Uuid::new_v4().to_string();
        NewTransfer {
            transfer_id: transfer_id(&id).unwrap(),
            payer: fsp_id("payerfsp").unwrap(),
            payee: fsp_id("payeefsp").unwrap(),
            payer_account: None,
            payee_account: None,
            amount: Amount::from_units(10_000),
            currency: currency("USD").unwrap(),
            condition: None,
            expiration: Timestamp::from_unix_ms(1),
            ilp_packet: "packet".into(),
            hash: RequestHash::new(format!("hash-{id}")),
            state: TransferState::ReceivedPrepare,
            reason: None,
            created: Timestamp::from_unix_ms(0),
            extensions: vec![("k".into(), id)],
        }
    }

    #[test]
    fn every_amount_travels_as_exact_decimal_text() {
        assert_eq!(decimal_value(Amount::from_units(-125_000)), Value::from("-12.5000"));
        for units in [10_i128.pow(22) - 1, i128::MAX, i128::MIN] {
            let Value::Bytes(text) = decimal_value(Amount::from_units(units)) else { panic!("text") };
            assert_eq!(decimal(std::str::from_utf8(&text).unwrap()), Ok(Amount::from_units(units)));
        }
    }
}
