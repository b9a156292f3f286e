//! Benchmark: transfer prepares committed per second by each store, in batches of 1, 100 and
//! 1000, durably (SQLite `synchronous = FULL`; InnoDB `innodb_flush_log_at_trx_commit = 1`).
//!
//! Run with `cargo bench -p ledger-store --bench store_throughput`; set `LEDGER_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306`) to pick the server. Two figures per batch size:
//! - *prepare*: the prepare handler's transaction (duplicate check, transfer, first state,
//!   timeout entry);
//! - *reserve*: the position handler's transaction on those transfers (lock positions, load
//!   states, decide in the core, journal, update positions).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use ledger_store::{LedgerStore, NewTransfer};
use mysql_async::prelude::Queryable;

const BATCH_SIZES: [usize; 3] = [1, 100, 1_000];
/// Each measurement runs batches until this much time has passed...
const MEASURE_FOR: Duration = Duration::from_secs(3);
/// ...or this many transfers went through, whichever comes first.
const TRANSFERS_MAX: usize = 60_000;
const N_DFSPS: usize = 20;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let only = std::env::args().nth(1).filter(|it| !it.starts_with('-'));
    if only.as_deref().is_none_or(|it| it == "sqlite") {
        let test = sqlite_store().await;
        println!("SQLite (WAL, synchronous = FULL) at {}", std::env::temp_dir().display());
        run(test.store.as_ref()).await;
        test.finish().await;
    }
    if only.as_deref().is_none_or(|it| it == "mysql") {
        print_mysql_durability().await;
        let test = mysql_store().await;
        run(test.store.as_ref()).await;
        test.finish().await;
    }
}

/// How the DFSPs choose transfer ids: random ids spread inserts over the whole id index, time-
/// ordered ones append at its end.
#[derive(Clone, Copy, Debug)]
enum Ids {
    RandomUuidV4,
    TimeOrderedUuidV7,
}

async fn run(store: &dyn LedgerStore) {
    let mut dfsps = Vec::new();
    for idx in 0..N_DFSPS {
        dfsps.push(provision_dfsp(store, &format!("benchfsp{idx}"), "90000000000000", "90000000000000").await);
    }
    for ids in [Ids::RandomUuidV4, Ids::TimeOrderedUuidV7] {
        println!("  transfer ids: {ids:?}");
        for batch_size in BATCH_SIZES {
            let (n, prepare_elapsed, reserve_elapsed) = measure(store, &dfsps, batch_size, ids).await;
            println!(
                "    batch {batch_size:>5}: prepare {:>9.0} transfers/s   reserve {:>9.0} transfers/s   ({n} transfers)",
                n as f64 / prepare_elapsed.as_secs_f64(),
                n as f64 / reserve_elapsed.as_secs_f64(),
            );
        }
    }
}

async fn measure(store: &dyn LedgerStore, dfsps: &[Dfsp], batch_size: usize, ids: Ids) -> (usize, Duration, Duration) {
    let mut prepared: Vec<Vec<NewTransfer>> = Vec::new();
    let mut n = 0;
    let started = Instant::now();
    while started.elapsed() < MEASURE_FOR && n < TRANSFERS_MAX {
        let rows: Vec<NewTransfer> = (0..batch_size)
            .map(|idx| {
                let id = match ids {
                    Ids::RandomUuidV4 => new_transfer_id(),
                    Ids::TimeOrderedUuidV7 => new_time_ordered_transfer_id(),
                };
                new_transfer_with_id(id, &dfsps[(n + idx) % N_DFSPS], &dfsps[(n + idx + 1) % N_DFSPS], "1.25")
            })
            .collect();
        let outcomes = prepare_batch(store, &rows).await.expect("prepare batch");
        assert!(outcomes.iter().all(|it| *it == Prepared::Inserted));
        n += rows.len();
        prepared.push(rows);
    }
    let prepare_elapsed = started.elapsed();
    let started = Instant::now();
    for rows in &prepared {
        let decision = position_batch(store, &prepare_messages(rows)).await.expect("position batch");
        assert_eq!(decision.changes.len(), rows.len(), "every reservation fits");
    }
    (n, prepare_elapsed, started.elapsed())
}

async fn print_mysql_durability() {
    let server = std::env::var(MYSQL_URL_VARIABLE).unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_string());
    let pool = mysql_async::Pool::new(server.as_str());
    let mut conn = pool.get_conn().await.expect("connect to MySQL");
    let row: Option<(String, u32, u32)> = conn
        .query_first("SELECT VERSION(), @@innodb_flush_log_at_trx_commit, @@sync_binlog")
        .await
        .expect("read durability settings");
    let (version, flush, sync_binlog) = row.expect("one row");
    println!("MySQL {version} (innodb_flush_log_at_trx_commit = {flush}, sync_binlog = {sync_binlog}) at {server}");
    assert_eq!(flush, 1, "the benchmark measures durable commits only");
    drop(conn);
    pool.disconnect().await.expect("disconnect");
}
