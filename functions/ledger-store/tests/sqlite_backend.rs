//! SQLite-only behaviour the conformance suite cannot express: upgrading a file written by an
//! earlier layout, and two processes writing one file.

mod common;

use common::*;
use ledger_core::account::NetDebitCap;
use ledger_store::prelude::*;
use ledger_store::{DeliveryKey, NewDelivery, SqliteStore};

const TRANSFER: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";

fn delivery(event: &str) -> NewDelivery {
    NewDelivery {
        event_id: event.to_string(),
        recipient: "payerfsp".to_string(),
        transfer_id: TRANSFER.to_string(),
        delivered: NOW,
    }
}

fn key(event: &str) -> DeliveryKey {
    DeliveryKey { transfer_id: TRANSFER.to_string(), event_id: event.to_string(), recipient: "payerfsp".to_string() }
}

/// Puts the file back as migration 3 left it: deliveries keyed by event id, version 4 unrecorded.
fn restore_event_keyed_deliveries(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE old_delivery (event_id TEXT NOT NULL, recipient TEXT NOT NULL, transfer_id TEXT NOT NULL,
             delivered_ms INTEGER NOT NULL, PRIMARY KEY (event_id, recipient)) WITHOUT ROWID;
         INSERT INTO old_delivery SELECT event_id, recipient, transfer_id, delivered_ms FROM notification_delivery;
         DROP TABLE notification_delivery;
         ALTER TABLE old_delivery RENAME TO notification_delivery;
         DELETE FROM schema_migration WHERE version = 4;
         COMMIT;",
    )
    .unwrap();
}

fn delivery_table_sql(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'notification_delivery'", [], |row| row.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_recorded_under_the_event_keyed_layout_survive_the_upgrade() {
    let path = std::env::temp_dir().join(format!("{TEST_DATABASE_PREFIX}{}.db", uuid::Uuid::new_v4().simple()));
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.record_deliveries(&[delivery("e1"), delivery("e2")]).await.unwrap();
    }
    restore_event_keyed_deliveries(&path);
    assert!(delivery_table_sql(&path).contains("PRIMARY KEY (event_id, recipient)"));

    let store = SqliteStore::open(&path).await.unwrap();
    assert!(delivery_table_sql(&path).contains("PRIMARY KEY (transfer_id, event_id, recipient)"));
    let found = store.delivered(&[key("e1"), key("e2"), key("e3")]).await.unwrap();
    assert_eq!(found, [key("e1"), key("e2")].into_iter().collect());
    // A repeated delivery is still skipped under the new key.
    store.record_deliveries(&[delivery("e1"), delivery("e3")]).await.unwrap();
    assert_eq!(store.delivered(&[key("e1"), key("e3")]).await.unwrap().len(), 2);
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn remove_database(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The handler and an operator's tool (or a test) may open one file from two processes. A write
/// that reads first must wait for the other's transaction like any other write: started as a
/// read, SQLite cannot upgrade it while another connection writes, and fails it at once
/// ("database is locked") without waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_reads_first_waits_for_another_connections_transaction() {
    let path = std::env::temp_dir().join(format!("{TEST_DATABASE_PREFIX}{}.db", uuid::Uuid::new_v4().simple()));
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
    let dfsp = provision_dfsp(&first, "dfspa", "1000", "500").await;

    let mut held = first.begin().await.unwrap();
    held.lock_balances(&[dfsp.settlement.id]).await.unwrap();
    let waiting = tokio::spawn(async move {
        let outcome = second.set_net_debit_cap(dfsp.position.id, NetDebitCap::new(amount("700")).unwrap(), NOW).await;
        (outcome, second)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the second writer waits while the first holds the file");
    held.commit().await.unwrap();
    let (outcome, second) = waiting.await.unwrap();
    outcome.expect("the second writer goes ahead once the first commits");
    assert_eq!(second.net_debit_cap(dfsp.position.id).await.unwrap().map(|it| it.value()), Some(amount("700")));
    drop((first, second));
    remove_database(&path);
}
