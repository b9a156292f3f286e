//! Upgrading a ledger written at migration 4 (`DECIMAL(18,4)` amounts on MySQL, INTEGER units on
//! SQLite) to the wide amounts of migration 5, on both backends: rows with an amount in every
//! table that has one, written as the old store wrote them, read back unchanged by the upgraded
//! store, which then takes amounts beyond the old range beside them.

mod common;

use common::*;
use ledger_store::{MysqlStore, SqliteStore};
use mysql_async::prelude::Queryable;

use ledger_core::account::{NetDebitCap, ParticipantRole};
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId, WindowId};
use ledger_core::settlement::{Aggregation, SettlementId};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::prelude::*;

/// The largest magnitude `DECIMAL(18,4)` held, in units.
pub const OLD_UNITS_MAX: i128 = 10_i128.pow(18) - 1;
const TRANSFER_UNITS: i128 = 123_456_789_012_345_678;
const RESERVED_UNITS: i128 = 12_345;
const PAYEE_UNITS: i128 = -5_000;
const ALARM_UNITS: i128 = 100_000;
pub const OLD_TRANSFER: &str = "8c0e3a2e-5b4f-4c1e-9f0a-2d6b7c8e9f10";
const PAYER_POSITION: AccountId = AccountId(1);
const PAYER_SETTLEMENT: AccountId = AccountId(2);
const PAYEE_POSITION: AccountId = AccountId(3);

/// The rows, with each amount (in units) written by `amount` as the backend's SQL literal.
pub fn old_rows(amount: impl Fn(i128) -> String) -> Vec<String> {
    let a = amount;
    let condition = fulfilment().condition().to_base64url();
    let expiration = EXPIRATION.unix_ms();
    vec![
        "INSERT INTO participant (participant_id, name, is_active, created_ms) VALUES (2, 'payerfsp', 1, 0), (3, 'payeefsp', 1, 0)".into(),
        "INSERT INTO participant_currency (account_id, participant_id, currency, ledger_account_type, is_active, created_ms) \
         VALUES (1, 2, 'USD', 1, 1, 0), (2, 2, 'USD', 2, 1, 0), (3, 3, 'USD', 1, 1, 0)".into(),
        format!(
            "INSERT INTO participant_position (account_id, value, reserved_value, changed_ms) VALUES \
             (1, {}, {}, 0), (2, {}, {}, 0), (3, {}, {}, 0)",
            a(OLD_UNITS_MAX), a(RESERVED_UNITS), a(-OLD_UNITS_MAX), a(0), a(PAYEE_UNITS), a(0)
        ),
        format!("INSERT INTO participant_limit (account_id, limit_type, value, is_active, created_ms) VALUES (1, 1, {}, 1, 0)", a(OLD_UNITS_MAX)),
        format!(
            "INSERT INTO transfer (transfer_seq, transfer_id, payer_fsp, payee_fsp, payer_account_id, payee_account_id, amount, \
             currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms) \
             VALUES (1, '{OLD_TRANSFER}', 'payerfsp', 'payeefsp', 1, 3, {}, 'USD', '{condition}', {expiration}, 'packet', 'hash', 0)",
            a(TRANSFER_UNITS)
        ),
        "INSERT INTO transfer_state_change (transfer_seq, seq, state, reason, created_ms) \
         VALUES (1, 1, 'RECEIVED_PREPARE', NULL, 0), (1, 2, 'RESERVED', NULL, 0)".into(),
        format!("INSERT INTO transfer_timeout (expiration_ms, transfer_seq) VALUES ({expiration}, 1)"),
        format!(
            "INSERT INTO participant_position_change (account_id, transfer_seq, seq, change_amount, value, reserved_value, created_ms) \
             VALUES (1, 1, 2, {}, {}, {}, 0)",
            a(TRANSFER_UNITS), a(OLD_UNITS_MAX), a(RESERVED_UNITS)
        ),
        "INSERT INTO transfer_fulfilment (transfer_seq, ilp_fulfilment, completed_ms, settlement_window_id, created_ms) VALUES (1, NULL, 0, 1, 0)".into(),
        format!("INSERT INTO participant_limit_alarm (account_id, alarm_percentage, changed_ms) VALUES (1, {}, 0)", a(ALARM_UNITS)),
        "INSERT INTO settlement_model (settlement_model_id, name, is_active, granularity, interchange, delay, currency, \
         require_liquidity_check, ledger_account_type, settlement_account_type, auto_position_reset, created_ms) \
         VALUES (1, 'DEFERREDNETUSD', 1, 2, 2, 2, 'USD', 1, 1, 2, 1, 0)".into(),
        "INSERT INTO settlement_window_content (content_id, settlement_window_id, ledger_account_type, currency, settlement_model_id, created_ms) \
         VALUES (1, 1, 1, 'USD', 1, 0)".into(),
        "INSERT INTO settlement_window_content_state_change (content_id, state, settlement_id, reason, created_ms) \
         VALUES (1, 'CLOSED', NULL, 'aggregated', 0)".into(),
        format!(
            "INSERT INTO settlement_content_aggregation (content_id, account_id, participant_role, amount) VALUES (1, 1, 1, {}), (1, 3, 2, {})",
            a(TRANSFER_UNITS), a(-TRANSFER_UNITS)
        ),
        "INSERT INTO settlement (settlement_id, settlement_model_id, reason, created_ms) VALUES (1, 1, 'settle', 0)".into(),
        format!(
            "INSERT INTO settlement_participant_currency (settlement_id, account_id, net_amount, created_ms) VALUES (1, 1, {}, 0)",
            a(OLD_UNITS_MAX)
        ),
        "INSERT INTO settlement_state_change (settlement_id, account_id, state, reason, external_reference, created_ms) \
         VALUES (1, NULL, 'PENDING_SETTLEMENT', NULL, NULL, 0), (1, 1, 'PENDING_SETTLEMENT', NULL, NULL, 0)".into(),
    ]
}

fn units(it: i128) -> Amount {
    Amount::from_units(it)
}

/// The upgraded store reads every old amount back unchanged.
pub async fn assert_old_amounts_read_back(store: &dyn LedgerStore) {
    let id = TransferId::parse(OLD_TRANSFER).unwrap();
    let record = store.transfer(&id).await.unwrap().expect("the old transfer");
    assert_eq!(
        (record.amount, record.current.state, record.window),
        (units(TRANSFER_UNITS), TransferState::Reserved, Some(WindowId(1)))
    );
    assert_eq!(store.balance(PAYER_POSITION).await.unwrap(), (units(OLD_UNITS_MAX), units(RESERVED_UNITS)));
    assert_eq!(store.balance(PAYER_SETTLEMENT).await.unwrap().0, units(-OLD_UNITS_MAX));
    assert_eq!(store.balance(PAYEE_POSITION).await.unwrap().0, units(PAYEE_UNITS));
    assert_eq!(store.net_debit_cap(PAYER_POSITION).await.unwrap().map(|it| it.value()), Some(units(OLD_UNITS_MAX)));
    assert_eq!(store.limit_alarm(PAYER_POSITION).await.unwrap(), Some(units(ALARM_UNITS)));
    let journal = store.position_journal(PAYER_POSITION).await.unwrap();
    assert_eq!(journal, [(Some(id.clone()), units(TRANSFER_UNITS), units(OLD_UNITS_MAX))]);
    let windows = store.windows(Some(&[WindowId(1)])).await.unwrap();
    let aggregations: Vec<(AccountId, ParticipantRole, Amount)> =
        windows[0].contents[0].aggregations.iter().map(|it: &Aggregation| (it.account, it.role, it.amount)).collect();
    let expected = [
        (PAYER_POSITION, ParticipantRole::PayerDfsp, units(TRANSFER_UNITS)),
        (PAYEE_POSITION, ParticipantRole::PayeeDfsp, units(-TRANSFER_UNITS)),
    ];
    assert_eq!(aggregations, expected);
    assert_eq!(store.settlements(Some(&[SettlementId(1)])).await.unwrap()[0].accounts[0].net, units(OLD_UNITS_MAX));
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_positions(&[PAYER_POSITION]).await.unwrap();
    let payer = &locked[&PAYER_POSITION];
    assert_eq!(
        (payer.position, payer.reserved, payer.settlement_balance),
        (units(OLD_UNITS_MAX), units(RESERVED_UNITS), units(-OLD_UNITS_MAX))
    );
    let due = tx.due_timeouts(Timestamp::from_unix_ms(EXPIRATION.unix_ms() + 1), 10).await.unwrap();
    assert_eq!(due.iter().map(|(id, _)| id).collect::<Vec<_>>(), [&id]);
    assert_eq!(tx.transfers(std::slice::from_ref(&id)).await.unwrap()[&id].amount, units(TRANSFER_UNITS));
    let sums = tx.window_sums(WindowId(1)).await.unwrap();
    assert_eq!(
        sums.iter().map(|it| (it.account, it.amount)).collect::<Vec<_>>(),
        [(PAYER_POSITION, units(TRANSFER_UNITS))]
    );
}

/// A DFSP of the old rows as the helpers take it (the payee has no SETTLEMENT account there).
async fn old_dfsp(store: &dyn LedgerStore, name: &str, position: AccountId, settlement: AccountId) -> Dfsp {
    let participant = store.participant(&fsp(name)).await.unwrap().unwrap();
    let accounts = store.accounts(participant.id).await.unwrap();
    let find = |id: AccountId| accounts.iter().find(|it| it.id == id).cloned().expect("an old account");
    Dfsp { name: participant.name, position: find(position), settlement: find(settlement) }
}

/// After the upgrade, amounts beyond the old range are stored beside the old rows: FSPIOP's
/// largest amount as a transfer and a position past 64 bits of units.
pub async fn assert_wide_amounts_now_fit(store: &dyn LedgerStore) -> TransferId {
    let payer = old_dfsp(store, "payerfsp", PAYER_POSITION, PAYER_SETTLEMENT).await;
    let payee = old_dfsp(store, "payeefsp", PAYEE_POSITION, PAYEE_POSITION).await;
    let row = new_transfer(&payer, &payee, "999999999999999999.9999");
    prepare_batch(store, std::slice::from_ref(&row)).await.unwrap();
    assert_eq!(store.transfer(&row.transfer_id).await.unwrap().unwrap().amount, units(10_i128.pow(22) - 1));
    let wide = units(-OLD_UNITS_MAX * 100_000);
    let mut tx = store.begin().await.unwrap();
    tx.lock_balances(&[PAYER_SETTLEMENT]).await.unwrap();
    tx.update_positions(&[(PAYER_SETTLEMENT, wide)], NOW).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.balance(PAYER_SETTLEMENT).await.unwrap().0, wide);
    row.transfer_id
}

/// Migrations 1–4 as the SQLite store applied them.
const SQLITE_MIGRATIONS_1_TO_4: [&str; 4] = [
    include_str!("../migrations/sqlite/0001_ledger.sql"),
    include_str!("../migrations/sqlite/0002_notifications.sql"),
    include_str!("../migrations/sqlite/0003_settlement.sql"),
    include_str!("../migrations/sqlite/0004_deliveries_by_transfer.sql"),
];
/// Migrations 1–4 as the MySQL store applied them.
const MYSQL_MIGRATIONS_1_TO_4: [&str; 4] = [
    include_str!("../migrations/mysql/0001_ledger.sql"),
    include_str!("../migrations/mysql/0002_notifications.sql"),
    include_str!("../migrations/mysql/0003_settlement.sql"),
    include_str!("../migrations/mysql/0004_deliveries_by_transfer.sql"),
];
/// Every column that holds an amount.
const AMOUNT_COLUMNS: [(&str, &str); 10] = [
    ("participant_position", "value"),
    ("participant_position", "reserved_value"),
    ("participant_position_change", "change_amount"),
    ("participant_position_change", "value"),
    ("participant_position_change", "reserved_value"),
    ("participant_limit", "value"),
    ("transfer", "amount"),
    ("participant_limit_alarm", "alarm_percentage"),
    ("settlement_content_aggregation", "amount"),
    ("settlement_participant_currency", "net_amount"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_amounts_written_at_migration_4_read_back_after_the_upgrade() {
    let path = std::env::temp_dir().join(format!("{TEST_DATABASE_PREFIX}{}.db", uuid::Uuid::new_v4().simple()));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE schema_migration (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)")
            .unwrap();
        for (idx, sql) in SQLITE_MIGRATIONS_1_TO_4.iter().enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute("INSERT INTO schema_migration VALUES (?, 0)", [idx as i64 + 1]).unwrap();
        }
        for statement in old_rows(|units| units.to_string()) {
            conn.execute_batch(&statement).unwrap();
        }
        // A removed last limit leaves the AUTOINCREMENT mark above the largest id present.
        conn.execute_batch("INSERT INTO participant_limit (account_id, limit_type, value, is_active, created_ms) VALUES (1, 1, 5, 0, 0); \
             DELETE FROM participant_limit WHERE id = 2;").unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM schema_migration ORDER BY version")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(|it| it.unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    for (table, column) in AMOUNT_COLUMNS {
        let declared: String = conn
            .query_row("SELECT type FROM pragma_table_info(?) WHERE name = ?", [table, column], |row| row.get(0))
            .unwrap();
        assert_eq!(declared, "", "{table}.{column} has no affinity");
    }
    for index in [
        "participant_position_change_account",
        "participant_position_change_transfer",
        "participant_limit_account",
        "sqlite_autoindex_transfer_1",
    ] {
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?", [index], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(n, 1, "index {index}");
    }
    let dangling: Vec<String> = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(|it| it.unwrap())
        .collect();
    assert!(dangling.is_empty(), "{dangling:?}");
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(integrity, "ok");

    assert_old_amounts_read_back(&store).await;
    let new_id = assert_wide_amounts_now_fit(&store).await;
    let stored = |id: &str| -> (i64, String) {
        conn.query_row("SELECT transfer_seq, typeof(amount) FROM transfer WHERE transfer_id = ?", [id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap()
    };
    assert_eq!(stored(OLD_TRANSFER), (1, "integer".to_string()), "the common range stays INTEGER");
    assert_eq!(stored(new_id.as_str()), (2, "text".to_string()), "the next transfer_seq; beyond 64 bits as text");
    store.set_net_debit_cap(PAYER_POSITION, NetDebitCap::new(units(7)).unwrap(), NOW).await.unwrap();
    let last: i64 = conn.query_row("SELECT MAX(id) FROM participant_limit", [], |row| row.get(0)).unwrap();
    assert_eq!(last, 3, "AUTOINCREMENT ids continue past the removed one");
    drop((store, conn));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_amounts_written_at_migration_4_read_back_after_the_upgrade() {
    let server = std::env::var(MYSQL_URL_VARIABLE).unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_string());
    let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let mut conn =
        mysql_async::Conn::from_url(server.clone()).await.unwrap_or_else(|err| panic!("MySQL at {server}: {err}"));
    conn.query_drop(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")).await.unwrap();
    conn.query_drop(format!("USE {name}")).await.unwrap();
    conn.query_drop(
        "CREATE TABLE schema_migration (version INT PRIMARY KEY, applied_ms BIGINT NOT NULL) ENGINE = InnoDB",
    )
    .await
    .unwrap();
    for (idx, sql) in MYSQL_MIGRATIONS_1_TO_4.iter().enumerate() {
        // The store's own split: statements end at a line holding only ";".
        for statement in sql
            .split("\n;\n")
            .filter(|it| it.lines().any(|line| !line.trim().is_empty() && !line.trim().starts_with("--")))
        {
            conn.query_drop(statement).await.unwrap();
        }
        conn.exec_drop("INSERT INTO schema_migration VALUES (?, 0)", (idx + 1,)).await.unwrap();
    }
    for statement in old_rows(|units| format!("'{}'", units_text(units))) {
        conn.query_drop(statement).await.unwrap();
    }

    let store: MysqlStore = open_mysql(&name).await;
    let versions: Vec<u32> = conn.query("SELECT version FROM schema_migration ORDER BY version").await.unwrap();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let decimals: Vec<(String, String, u32, u32)> = conn
        .query(
            "SELECT table_name, column_name, numeric_precision, numeric_scale FROM information_schema.columns \
                WHERE table_schema = DATABASE() AND data_type = 'decimal' ORDER BY table_name, column_name",
        )
        .await
        .unwrap();
    let mut expected: Vec<(String, String, u32, u32)> =
        AMOUNT_COLUMNS.iter().map(|(table, column)| (table.to_string(), column.to_string(), 39, 4)).collect();
    expected.sort();
    assert_eq!(decimals, expected, "every amount column, and only they, DECIMAL(39,4)");

    assert_old_amounts_read_back(&store).await;
    assert_wide_amounts_now_fit(&store).await;
    conn.disconnect().await.unwrap();
    store.drop_database().await.unwrap();
    store.close().await.unwrap();
}

fn units_text(units: i128) -> String {
    Amount::from_units(units).to_decimal_string()
}
