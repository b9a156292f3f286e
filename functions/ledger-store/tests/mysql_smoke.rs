//! Temporary MySQL-only checks of the MySQL store beyond the conformance suite.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{HashKind, LedgerStore, MysqlStore, MysqlStoreConfig, NewPositionChange, NewStateChange, StoreError};
use mysql_async::prelude::Queryable;

fn server() -> String {
    std::env::var(MYSQL_URL_VARIABLE).unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_string())
}

fn fresh_name() -> String {
    format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

async fn raw(database: &str) -> mysql_async::Conn {
    mysql_async::Conn::from_url(format!("{}/{database}", server())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_twice_and_concurrently_is_idempotent() {
    let name = fresh_name();
    let (a, b, c) = tokio::join!(open_mysql(&name), open_mysql(&name), open_mysql(&name));
    let d = open_mysql(&name).await;
    assert_eq!(d.participants().await.unwrap().len(), 1);
    let mut conn = raw(&name).await;
    let versions: Vec<u32> = conn.query("SELECT version FROM schema_migration").await.unwrap();
    assert_eq!(versions, [1]);
    let windows: Vec<u64> = conn.query("SELECT settlement_window_id FROM settlement_window").await.unwrap();
    assert_eq!(windows, [1]);
    conn.disconnect().await.unwrap();
    d.drop_database().await.unwrap();
    for store in [a, b, c, d] {
        store.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configs_are_invalid() {
    let no_db = MysqlStoreConfig { url: server(), ca_certificate: None, pool_connections_max: 2 };
    assert!(matches!(MysqlStore::open(no_db).await, Err(StoreError::Invalid(_))));
    let no_pool = MysqlStoreConfig { url: format!("{}/{}", server(), fresh_name()), ca_certificate: None, pool_connections_max: 0 };
    assert!(matches!(MysqlStore::open(no_pool).await, Err(StoreError::Invalid(_))));
    let down = MysqlStoreConfig { url: "mysql://root@127.0.0.1:1/x".into(), ca_certificate: None, pool_connections_max: 1 };
    assert!(matches!(MysqlStore::open(down).await, Err(StoreError::Unavailable(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_transaction_is_rolled_back_on_a_single_connection_pool() {
    let name = fresh_name();
    let config = MysqlStoreConfig { url: format!("{}/{name}", server()), ca_certificate: None, pool_connections_max: 1 };
    let store = MysqlStore::open(config).await.unwrap();
    let payer = provision_dfsp(&store, "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(&store, "payeefsp", "1000", "1000").await;
    for _ in 0..3 {
        let row = new_transfer(&payer, &payee, "5");
        let mut tx = store.begin().await.unwrap();
        tx.lock_positions(&[payer.position.id]).await.unwrap();
        tx.insert_transfers(&[row.clone()]).await.unwrap();
        tx.update_positions(&[(payer.position.id, amount("5"))], NOW).await.unwrap();
        drop(tx);
        assert!(store.transfer(&row.transfer_id).await.unwrap().is_none());
        assert_eq!(store.balance(payer.position.id).await.unwrap().0, Amount::ZERO);
    }
    store.drop_database().await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn position_locks_cover_the_settlement_account_and_block_other_writers() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let dfsp = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let mut tx = store.begin().await.unwrap();
    tx.lock_positions(&[dfsp.position.id]).await.unwrap();
    let other = store.clone();
    let settlement = dfsp.settlement.id;
    let waiter = tokio::spawn(async move {
        let mut tx = other.begin().await.unwrap();
        let balances = tx.lock_balances(&[settlement]).await.unwrap();
        tx.update_positions(&[(settlement, balances[&settlement].0 - amount("1"))], NOW).await.unwrap();
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiter.is_finished(), "the settlement account is locked with the position");
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    assert_eq!(store.balance(settlement).await.unwrap().0, -amount("1001"));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_a_conflict() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let a = provision_dfsp(store.as_ref(), "dfspa", "1", "1").await;
    let mut tx1 = store.begin().await.unwrap();
    let mut tx2 = store.begin().await.unwrap();
    tx1.lock_balances(&[a.position.id]).await.unwrap();
    tx2.lock_balances(&[a.settlement.id]).await.unwrap();
    let first = tokio::spawn(async move {
        let res = tx1.lock_balances(&[a.settlement.id]).await.map(|_| ());
        (res, tx1)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = tx2.lock_balances(&[a.position.id]).await.map(|_| ());
    let (first, tx1) = first.await.unwrap();
    let results = [first, second];
    assert!(results.iter().any(|it| matches!(it, Err(StoreError::Conflict(_)))), "{results:?}");
    drop((tx1, tx2));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_are_shared_by_fulfils_and_exclusive_to_a_close() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let mut fulfil1 = store.begin().await.unwrap();
    let mut fulfil2 = store.begin().await.unwrap();
    fulfil1.open_window().await.unwrap();
    let shared = tokio::time::timeout(Duration::from_secs(2), fulfil2.open_window()).await;
    assert!(shared.is_ok(), "two fulfil batches read the OPEN window side by side");
    let closer = store.clone();
    let close = tokio::spawn(async move {
        let mut tx = closer.begin().await.unwrap();
        let res = tx.close_open_window("close", NOW).await.unwrap();
        tx.commit().await.unwrap();
        res
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!close.is_finished(), "a close waits for batches tagging the window");
    drop(fulfil1);
    fulfil2.commit().await.unwrap();
    let (closed, opened) = tokio::time::timeout(Duration::from_secs(5), close).await.unwrap().unwrap();
    assert_eq!((closed.id.0, opened.id.0), (1, 2));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_batches_are_chunked() {
    const N_ROWS: usize = 1_234;
    let test = mysql_store().await;
    let store = test.store.clone();
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000000", "1000000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows: Vec<_> = (0..N_ROWS)
        .map(|idx| {
            let mut row = new_transfer(&payer, &payee, "1.5");
            row.extensions = vec![("k".into(), format!("v{idx}")), ("z".into(), "a".into())];
            row
        })
        .collect();
    let ids: Vec<TransferId> = rows.iter().map(|it| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await.unwrap();
    tx.insert_transfers(&rows).await.unwrap();
    let changes: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(idx, it)| NewPositionChange {
            account: payer.position.id,
            transfer_id: it.transfer_id.clone(),
            seq: 2,
            change: amount("1.5"),
            value: Amount::from_units(15_000 * (idx as i128 + 1)),
            reserved: Amount::ZERO,
            created: NOW,
        })
        .collect();
    tx.insert_position_changes(&changes).await.unwrap();
    tx.update_positions(&[(payer.position.id, Amount::from_units(15_000 * N_ROWS as i128))], NOW).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let records = tx.transfers(&ids).await.unwrap();
    assert_eq!(records.len(), N_ROWS);
    assert_eq!(records[&ids[777]].extensions, rows[777].extensions);
    assert_eq!(tx.current_states(&ids).await.unwrap().len(), N_ROWS);
    assert_eq!(tx.hashes(HashKind::Prepare, &ids).await.unwrap().len(), N_ROWS);
    let expired = tx.expired_transfers(EXPIRATION.plus_ms(1), 5_000).await.unwrap();
    assert_eq!(expired.len(), N_ROWS);
    let entries: Vec<_> = expired.iter().map(|it| (it.transfer_id.clone(), it.expiration)).collect();
    tx.delete_timeouts(&entries).await.unwrap();
    assert!(tx.expired_transfers(EXPIRATION.plus_ms(1), 5_000).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    assert_eq!(store.position_journal(payer.position.id).await.unwrap().len(), N_ROWS);
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, Amount::from_units(15_000 * N_ROWS as i128));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_are_truncated_or_refused() {
    let name = fresh_name();
    let store = Arc::new(open_mysql(&name).await);
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let mut row = new_transfer(&payer, &payee, "1");
    row.ilp_packet = "ünïcode".into();
    let mut tx = store.begin().await.unwrap();
    let res = tx.insert_transfers(&[row]).await;
    assert!(matches!(res, Err(StoreError::Invalid(_))), "{res:?}");
    drop(tx);
    let row = new_transfer(&payer, &payee, "1");
    let mut tx = store.begin().await.unwrap();
    tx.insert_transfers(&[row.clone()]).await.unwrap();
    let reason = Some("é".repeat(600));
    let change = NewStateChange { transfer_id: row.transfer_id.clone(), seq: 2, state: TransferState::Reserved, reason, created: NOW };
    tx.insert_state_changes(&[change]).await.unwrap();
    let (closed, _) = tx.close_open_window(&"ü".repeat(700), Timestamp::from_unix_ms(5)).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = raw(&name).await;
    let n_chars: Option<u64> = conn
        .exec_first("SELECT CHAR_LENGTH(reason) FROM transfer_state_change WHERE transfer_id = ? AND seq = 2", (row.transfer_id.as_str(),))
        .await
        .unwrap();
    assert_eq!(n_chars, Some(512));
    let n_chars: Option<u64> =
        conn.exec_first("SELECT CHAR_LENGTH(reason) FROM settlement_window WHERE settlement_window_id = ?", (closed.id.0,)).await.unwrap();
    assert_eq!(n_chars, Some(512));
    conn.disconnect().await.unwrap();
    // Setting a flag to the value it has is not "not found".
    let participant = store.participant(&payer.name).await.unwrap().unwrap();
    store.set_participant_active(participant.id, true).await.unwrap();
    store.set_account_active(payer.position.id, true).await.unwrap();
    store.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_closes_serialise() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let mut first = store.begin().await.unwrap();
    first.close_open_window("first", NOW).await.unwrap();
    let other = store.clone();
    let second = tokio::spawn(async move {
        let mut tx = other.begin().await.unwrap();
        let res = tx.close_open_window("second", NOW).await;
        if res.is_ok() {
            tx.commit().await.unwrap();
        }
        res
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let res = second.await.unwrap();
    eprintln!("second close: {res:?}");
    match res {
        Ok((closed, opened)) => assert_eq!((closed.id.0, opened.id.0), (2, 3)),
        Err(err) => assert!(err.is_transient(), "{err}"),
    }
    test.finish().await;
}

/// Runs only when LEDGER_TEST_MYSQL_TLS_URL and LEDGER_TEST_MYSQL_TLS_CA point at a server
/// with `require_secure_transport=ON`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_configured_root_ca() {
    let (Ok(server), Ok(ca)) = (std::env::var("LEDGER_TEST_MYSQL_TLS_URL"), std::env::var("LEDGER_TEST_MYSQL_TLS_CA")) else {
        eprintln!("TLS server not configured; skipped");
        return;
    };
    let url = format!("{server}/{}", fresh_name());
    let plain = MysqlStoreConfig { url: url.clone(), ca_certificate: None, pool_connections_max: 2 };
    let refused = MysqlStore::open(plain).await;
    assert!(refused.is_err(), "the server requires TLS");
    eprintln!("without TLS: {:?}", refused.err());
    let wrong_ca = MysqlStoreConfig { url: url.clone(), ca_certificate: Some("/etc/ssl/certs/ca-certificates.crt".into()), pool_connections_max: 2 };
    let untrusted = MysqlStore::open(wrong_ca).await;
    eprintln!("other CA: {:?}", untrusted.as_ref().err());
    assert!(matches!(untrusted, Err(StoreError::Unavailable(_))));
    let config = MysqlStoreConfig { url, ca_certificate: Some(ca.into()), pool_connections_max: 2 };
    let store = MysqlStore::open(config).await.unwrap();
    let payer = provision_dfsp(&store, "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(&store, "payeefsp", "1000", "1000").await;
    let rows = vec![new_transfer(&payer, &payee, "12.5")];
    prepare_batch(&store, &rows).await.unwrap();
    position_batch(&store, &prepare_messages(&rows)).await.unwrap();
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, amount("12.5"));
    store.drop_database().await.unwrap();
    store.close().await.unwrap();
}
