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
//!
//! This module is what the concerns' MySQL halves (`reference/mysql.rs`,
//! `transfers/mysql.rs`, …) share: the pool and its configuration, the migrations, the store and
//! transaction types with the transaction's `transfer_seq` cache, the multi-row INSERT, and
//! `columns` (how values travel) and `error` (how server errors become [`StoreError`]s).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ledger_core::ids::TransferId;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row, SslOpts, Transaction, TxOpts, Value};

use crate::checks::TxChecks;
use crate::error::StoreError;
use crate::statements::{in_list_chunks, insert_runs, placeholders};
use crate::store::{LedgerStore, LedgerTx};

pub(crate) mod columns;
pub(crate) mod error;

use columns::{transfer_id_values, Columns};
use error::store_error;

/// Migrations in order: `(version, statements separated by a line holding only ";")`.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/mysql/0001_ledger.sql")),
    (2, include_str!("../../migrations/mysql/0002_notifications.sql")),
    (3, include_str!("../../migrations/mysql/0003_settlement.sql")),
    (4, include_str!("../../migrations/mysql/0004_deliveries_by_transfer.sql")),
    (5, include_str!("../../migrations/mysql/0005_wide_amounts.sql")),
    (6, include_str!("../../migrations/mysql/0006_timeouts_by_transfer.sql")),
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
/// kinds times [`crate::statements::STATEMENT_SHAPES`] come to about 150; the server's
/// `max_prepared_stmt_count` (16,382 by default, on Azure too) bounds this times the pool size.
const STATEMENT_CACHE_SIZE: usize = 256;
/// `participant_position` values of a new account, as the `DECIMAL(39,4)` columns take them.
pub(crate) const ZERO_DECIMAL: &str = "0.0000";

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

    pub(crate) async fn conn(&self) -> Result<Conn, StoreError> {
        self.pool.get_conn().await.map_err(store_error)
    }

    pub(crate) async fn begin_tx(&self) -> Result<Transaction<'static>, StoreError> {
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
    let mut conn =
        Conn::new(OptsBuilder::from_opts(opts.clone()).db_name(None::<String>)).await.map_err(store_error)?;
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

#[async_trait]
impl LedgerStore for MysqlStore {
    async fn begin(&self) -> Result<Box<dyn LedgerTx>, StoreError> {
        Ok(Box::new(MysqlTx { tx: self.begin_tx().await?, seqs: SeqCache::new(), checks: TxChecks::default() }))
    }
}

impl MysqlStore {
    /// Inserts rows outside a [`LedgerTx`], one statement per run: a single run autocommits,
    /// several share one transaction (all rows or none).
    pub(crate) async fn write_rows(&self, head: &str, tail: &str, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
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
    pub(crate) async fn update_one(&self, sql: &str, params: (i64, u64), what: &str) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(sql, params).await.map_err(store_error)?;
        match conn.affected_rows() {
            0 => Err(StoreError::NotFound(what.to_string())),
            _ => Ok(()),
        }
    }
}

pub(crate) fn inserted_id(conn: &Conn) -> Result<u64, StoreError> {
    conn.last_insert_id().ok_or_else(|| StoreError::Unavailable("the server reported no inserted id".into()))
}

/// One database transaction on one pooled connection.
///
/// Dropping it uncommitted rolls back without a `Drop` impl of our own: the driver's
/// [`Transaction`] marks the connection as needing a rollback, and the pool's recycler task
/// runs `ROLLBACK` before the connection can be handed out again (or closes it if that fails).
/// So an abandoned batch leaves no rows and holds no locks, and `Drop` needs no runtime.
pub(crate) struct MysqlTx {
    pub(crate) tx: Transaction<'static>,
    /// The `transfer_seq` of every transfer this transaction read or inserted, so that the
    /// child rows a batch writes after loading its transfers need no further lookup. A seq never
    /// changes and transfers are never deleted, so an entry cannot go stale; a transfer this
    /// transaction inserted could only vanish with a rollback, after which the caller drops the
    /// transaction (and this cache) by contract.
    pub(crate) seqs: SeqCache,
    /// What this transaction locked and wrote, for the assertions where money is written.
    pub(crate) checks: TxChecks,
}

/// `transfer_id → transfer_seq`, as far as one transaction has seen.
pub(crate) type SeqCache = HashMap<TransferId, u64>;

#[async_trait]
impl LedgerTx for MysqlTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.checks.commit();
        // On a failed COMMIT the driver rolls back before returning the error.
        self.tx.commit().await.map_err(store_error)
    }
}

/// Caches the `transfer_seq` of the ids not cached yet, with one statement per chunk of them.
/// Ids that are not stored stay absent.
pub(crate) async fn load_seqs<'a>(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    ids: impl Iterator<Item = &'a TransferId>,
) -> Result<(), StoreError> {
    let mut seen = HashSet::new();
    let missing: Vec<TransferId> = ids.filter(|id| !seqs.contains_key(*id) && seen.insert(*id)).cloned().collect();
    for chunk in in_list_chunks(&missing) {
        let sql = format!(
            "SELECT transfer_id, transfer_seq FROM transfer WHERE transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = tx.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            seqs.insert(cols.transfer_id()?, cols.value()?);
        }
    }
    Ok(())
}

/// Writes rows with one multi-row INSERT per run of rows (see [`insert_runs`]), all values
/// bound as parameters. `head` is the statement up to `VALUES`, `tail` what follows the rows.
pub(crate) async fn insert_rows<Q: Queryable>(
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
}
