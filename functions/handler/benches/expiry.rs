//! Benchmark: how many expired transfers per second the timeout function releases, on a durable
//! store, so its capacity can be set against the sustained transfer rate it must keep up with.
//!
//! Run with `cargo bench -p handler --bench expiry` (SQLite) or `… --bench expiry mysql`
//! (`LEDGER_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`, a fresh database dropped
//! after); a number after it sets how many transfers expire (default 10,000). Transfers are
//! prepared and reserved, then the clock is moved past their expiration and:
//! 1. the scan (`timeout::scan` and `timeout::finish`, batch after batch, as one timer invocation
//!    runs them) marks every one RESERVED_TIMEOUT with its 3303 and moves its entry on;
//! 2. the position function takes the scan's `timeout-reserved` events in host-sized batches and
//!    releases the payer's reservation.
//!
//! It prints transfers per second of wall time and µs of process CPU per transfer for each step.
//! The notification step that follows is the same one every transfer's outcome takes and is
//! measured by the `pipeline` bench.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use handler::outbox::Route;
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use handler::transfers::timeout::{finish, scan};
use ledger_core::prepare::PrepareRules;
use ledger_core::state::TransferState;
use ledger_store::LedgerStore;
use support::*;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TRANSFERS_DEFAULT: usize = 10_000;
/// The host's batch size (`host.json` `maxEventBatchSize`).
const HOST_BATCH: usize = 100;
const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
const AMOUNT: &str = "0.01";
/// Far above what the run reserves.
const FUNDING: &str = "1000000000";
/// After every prepared transfer's expiration (support's events expire a minute after `NOW`).
const AFTER_EXPIRY_MS: i64 = 61_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|it| !it.starts_with('-')).collect();
    let n_transfers = args.iter().find_map(|it| it.parse::<usize>().ok()).unwrap_or(TRANSFERS_DEFAULT);
    match args.iter().find(|it| it.parse::<usize>().is_err()).map(String::as_str) {
        Some("mysql") => {
            let store = mysql().await;
            println!("MariaDB/MySQL (InnoDB, flush at every commit)");
            run(store.clone(), n_transfers).await;
            store.drop_database().await.expect("drop the bench database");
        }
        None | Some("sqlite") => {
            let (store, path) = sqlite().await;
            println!("SQLite (WAL, synchronous = FULL)");
            run(store, n_transfers).await;
            remove_sqlite(path);
        }
        Some(other) => panic!("unknown store {other:?}: give sqlite (the default) or mysql, then a count"),
    }
}

async fn run(store: Arc<dyn LedgerStore>, n_transfers: usize) {
    let scheme = provision(store.as_ref(), FUNDING).await;
    let mut ids = Vec::with_capacity(n_transfers);
    for chunk_start in (0..n_transfers).step_by(HOST_BATCH) {
        let n = HOST_BATCH.min(n_transfers - chunk_start);
        let events: Vec<(ledger_core::ids::TransferId, String)> = (0..n)
            .map(|_| prepare_event("payerfsp", "payeefsp", AMOUNT, NOW))
            .map(|(id, it)| (id, it.to_json()))
            .collect();
        let bodies: Vec<String> = events.iter().map(|(_, it)| it.clone()).collect();
        let prepared = prepare(store.as_ref(), &bodies, NOW, RULES).await.unwrap();
        let reserved = position(store.as_ref(), &support::bodies(&prepared), NOW).await.unwrap();
        assert_eq!(reserved.emitted.len(), n, "every transfer reserved");
        ids.extend(events.into_iter().map(|(id, _)| id));
    }
    let now = NOW.plus_ms(AFTER_EXPIRY_MS);

    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let mut releases = Vec::with_capacity(n_transfers);
    let mut n_expired = 0;
    loop {
        let found = scan(store.as_ref(), now).await.unwrap();
        finish(store.as_ref(), &found).await.unwrap();
        releases.extend(
            found
                .report
                .emitted
                .iter()
                .filter(|it| matches!(it.route, Route::Position { .. }))
                .map(|it| it.envelope.to_json()),
        );
        if found.n_due == 0 {
            break;
        }
    }
    // A RESERVED_TIMEOUT transfer is not final until its release: its entry is moved on to be
    // rechecked, not removed, so what a scan expired is counted by the releases it emitted.
    n_expired += releases.len();
    report("scan (RESERVED_TIMEOUT + 3303)", n_expired, cpu, wall);
    assert_eq!(n_expired, n_transfers, "one release per transfer: every transfer expired once");

    let (cpu, wall) = (cpu_seconds(), Instant::now());
    for batch in releases.chunks(HOST_BATCH) {
        let released = position(store.as_ref(), batch, now).await.unwrap();
        assert_eq!(released.emitted.len(), batch.len(), "every release notifies");
    }
    report("position (timeout-reserved: reservation released)", n_transfers, cpu, wall);
    let sample = store.transfers(&ids[..1]).await.unwrap();
    assert_eq!(sample[&ids[0]].current.state, TransferState::ExpiredReserved);
    assert_eq!(store.balance(scheme.payer.id).await.unwrap().0, ledger_core::amount::Amount::ZERO);
}

fn report(step: &str, n: usize, cpu_before: f64, wall: Instant) {
    let seconds = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    println!("{step:<52} {n:>7} transfers  {:>9.0}/s  {:>7.1} µs CPU each", n as f64 / seconds, cpu * 1e6 / n as f64);
}

/// This process's CPU time, all threads.
fn cpu_seconds() -> f64 {
    let mut spec = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid clock id and a pointer to a live timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut spec) };
    assert_eq!(rc, 0);
    spec.tv_sec as f64 + spec.tv_nsec as f64 * 1e-9
}
