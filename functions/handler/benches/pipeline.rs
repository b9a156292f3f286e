//! Benchmark: the CPU the switch's own functions spend per transfer, with no Functions host, no
//! Event Hubs and no FSPIOP edge around them, so an end-to-end figure can be split into the
//! functions' work and everything else.
//!
//! Run with `cargo bench -p handler --bench pipeline` (SQLite) or `… --bench pipeline mysql`
//! (`LEDGER_TEST_MYSQL_URL`, default `mysql://root@127.0.0.1:3306`, a fresh database dropped
//! after); numbers after it choose the batch sizes (`… --bench pipeline mysql 100`), by default
//! 1, 10 and 100. For each batch size it drives batches of transfers through the functions in the order
//! the host would invoke them, on a durable store (SQLite `synchronous = FULL`, InnoDB flushing
//! at every commit) with the message journal the local switch opens:
//!
//! prepare → position (reserve) → notification (the payee's POST) → fulfil → position (commit)
//! → notification (the payer's and the payee's PUT).
//!
//! Each function gets its batch as the host sends it (an invocation body, decoded by the
//! handler's own reader) and its emitted events are serialised as they would be for publishing.
//! Callbacks go over real HTTP to a sink on its own thread, whose CPU is measured apart and left
//! out: it is the DFSPs' cost, not the switch's. What is not here: the HTTP exchanges of
//! invocations, publishes and FSPIOP requests, the hubs' appends, the edge, and the generator.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use handler::outbox::{Report, Route};
use handler::process::{open_journal, sqlite_journal_path, JournalTarget};
use handler::transfers::fulfil::fulfil;
use handler::transfers::notification::{notify, NotificationConfig, Notifier};
use handler::transfers::position::position;
use handler::transfers::prepare::prepare;
use ledger_core::account::{LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use support::*;
use switch_handler::invocation::EVENTS_BINDING;
use switch_handler::EventBatch;

/// The allocator the handler binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The batch sizes run when none is given.
const BATCH_SIZES_DEFAULT: [usize; 3] = [1, 10, 100];
/// Each batch size runs batches until this much time has passed...
const MEASURE_FOR: Duration = Duration::from_secs(4);
/// ...or this many transfers went through, whichever comes first.
const TRANSFERS_MAX: usize = 20_000;
/// Batches run before measuring, so caches and prepared statements are warm.
const WARMUP_BATCHES: usize = 3;
const RULES: PrepareRules = PrepareRules { on_us_transfers_allowed: false };
/// Large enough that no transfer of the run meets the cap or runs out of liquidity.
const FUNDING_WHOLE: i64 = 1_000_000_000;
const AMOUNT: &str = "1";

/// The six function visits of a transfer, in order.
const STAGES: [&str; 6] =
    ["prepare", "position (reserve)", "notification (POST)", "fulfil", "position (commit)", "notification (PUT)"];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|it| !it.starts_with('-')).collect();
    let only = args.iter().find(|it| it.parse::<usize>().is_err()).cloned();
    let chosen: Vec<usize> = args.iter().filter_map(|it| it.parse().ok()).filter(|it| *it > 0).collect();
    let batch_sizes = if chosen.is_empty() { BATCH_SIZES_DEFAULT.to_vec() } else { chosen };
    let sink = Sink::start();
    match only.as_deref() {
        Some("mysql") => {
            let config = mysql_config();
            let store = mysql_at(config.clone()).await;
            let journal = open_journal(JournalTarget::Mysql(config)).await.expect("open the MySQL journal");
            println!("MariaDB/MySQL (InnoDB, flush at every commit), journal in the same database");
            run(store.clone(), journal, &sink, &batch_sizes).await;
            store.drop_database().await.expect("drop the bench database");
        }
        None | Some("sqlite") => {
            let (store, path) = sqlite().await;
            let journal_path = sqlite_journal_path(&path);
            let journal =
                open_journal(JournalTarget::Sqlite(journal_path.clone())).await.expect("open the SQLite journal");
            println!("SQLite (WAL, synchronous = FULL) at {}, journal beside it", path.display());
            run(store, journal, &sink, &batch_sizes).await;
            remove_sqlite(path);
            remove_sqlite(journal_path);
        }
        Some(other) => panic!("unknown store {other:?}: give sqlite (the default) or mysql, then any batch sizes"),
    }
}

async fn run(store: Arc<dyn LedgerStore>, journal: Arc<dyn journal::Journal>, sink: &Sink, batch_sizes: &[usize]) {
    provision_for_bench(store.as_ref(), &sink.base).await;
    let notifier = Notifier::new(NotificationConfig {
        confirm_to_payee: true,
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: Duration::from_millis(5),
    })
    .expect("notifier")
    .with_journal(journal);
    println!("µs of CPU per transfer (all of the process's threads, the DFSP sink's left out), and ms per batch");
    println!("{:>6}  {:<22} {:>10} {:>10}", "batch", "function", "CPU µs/t", "wall ms/b");
    for &batch in batch_sizes {
        let pipeline = Pipeline { store: store.as_ref(), notifier: &notifier, sink };
        for _ in 0..WARMUP_BATCHES {
            pipeline.one_batch(batch).await;
        }
        let mut totals = [Spent::default(); STAGES.len()];
        let (mut n_transfers, mut n_batches, started) = (0, 0, Instant::now());
        while started.elapsed() < MEASURE_FOR && n_transfers < TRANSFERS_MAX {
            let spent = pipeline.one_batch(batch).await;
            for (total, stage) in totals.iter_mut().zip(spent) {
                total.add(stage);
            }
            n_transfers += batch;
            n_batches += 1;
        }
        print_batch(batch, &totals, n_transfers, n_batches);
    }
}

fn print_batch(batch: usize, totals: &[Spent], n_transfers: usize, n_batches: usize) {
    let mut all = Spent::default();
    for (stage, spent) in STAGES.iter().zip(totals) {
        println!(
            "{batch:>6}  {stage:<22} {:>10.1} {:>10.2}",
            spent.cpu_us / n_transfers as f64,
            spent.wall_ms / n_batches as f64
        );
        all.add(*spent);
    }
    let cpu_per_transfer_us = all.cpu_us / n_transfers as f64;
    println!("{batch:>6}  {:<22} {:>10.1} {:>10.2}", "all six", cpu_per_transfer_us, all.wall_ms / n_batches as f64);
    println!(
        "        {n_transfers} transfers; the functions' work alone allows {:.0} transfers/s per core",
        1e6 / cpu_per_transfer_us
    );
}

/// Time spent in one stage: process CPU less the sink's, and wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
struct Spent {
    cpu_us: f64,
    wall_ms: f64,
}

impl Spent {
    fn add(&mut self, other: Spent) {
        self.cpu_us += other.cpu_us;
        self.wall_ms += other.wall_ms;
    }
}

struct Pipeline<'a> {
    store: &'a dyn LedgerStore,
    notifier: &'a Notifier,
    sink: &'a Sink,
}

impl Pipeline<'_> {
    /// Takes `n` new transfers through all six visits; returns the time each visit took.
    async fn one_batch(&self, n: usize) -> [Spent; STAGES.len()] {
        let ids: Vec<TransferId> =
            (0..n).map(|_| TransferId::parse(&uuid::Uuid::new_v4().to_string()).unwrap()).collect();
        let prepares: Vec<String> =
            ids.iter().map(|id| prepare_event_with_id(id, "payerfsp", "payeefsp", AMOUNT, NOW).to_json()).collect();
        let later = Timestamp::from_unix_ms(NOW.unix_ms() + 1_000);
        let fulfils: Vec<String> = ids
            .iter()
            .map(|id| fulfil_event(id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, later).to_json())
            .collect();

        let (reserve, prepare_spent) = self
            .measure(&prepares, |bodies| async move {
                published(prepare(self.store, &bodies, NOW, RULES).await, n, Next::Position)
            })
            .await;
        let (post_callbacks, reserve_spent) = self
            .measure(&reserve, |bodies| async move {
                published(position(self.store, &bodies, NOW).await, n, Next::Notification)
            })
            .await;
        let (_, post_spent) =
            self.measure(&post_callbacks, |bodies| async move { self.notify(&bodies, n, NOW).await }).await;
        let (commit, fulfil_spent) = self
            .measure(&fulfils, |bodies| async move {
                published(fulfil(self.store, &bodies, later).await, n, Next::Position)
            })
            .await;
        let (put_callbacks, commit_spent) = self
            .measure(&commit, |bodies| async move {
                published(position(self.store, &bodies, later).await, n, Next::Notification)
            })
            .await;
        let (_, put_spent) =
            self.measure(&put_callbacks, |bodies| async move { self.notify(&bodies, 2 * n, later).await }).await;
        [prepare_spent, reserve_spent, post_spent, fulfil_spent, commit_spent, put_spent]
    }

    /// Runs one function visit on `events` delivered as an invocation, and times it.
    async fn measure<F, Fut>(&self, events: &[String], visit: F) -> (Vec<String>, Spent)
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Vec<String>>,
    {
        assert!(!events.is_empty(), "every visit has events: the previous one emitted none");
        let keys = vec![None; events.len()];
        let invocation = serde_json::to_vec(&invocation(events, &keys)).unwrap();
        let (cpu_before, sink_before, started) = (process_cpu_us(), self.sink.cpu_us(), Instant::now());
        let bodies =
            EventBatch::bodies_from_slice(&invocation, EVENTS_BINDING).expect("the handler reads its invocation");
        let emitted = visit(bodies).await;
        let wall_ms = started.elapsed().as_secs_f64() * 1e3;
        let cpu_us = (process_cpu_us() - cpu_before) - (self.sink.cpu_us() - sink_before);
        (emitted, Spent { cpu_us, wall_ms })
    }

    async fn notify(&self, bodies: &[String], callbacks_expected: usize, now: Timestamp) -> Vec<String> {
        let sent = notify(self.store, self.notifier, bodies, now).await.expect("notification");
        assert_eq!(sent, callbacks_expected, "every callback reached the sink");
        Vec::new()
    }
}

/// Where a visit's events go next on the happy path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Position,
    Notification,
}

/// What a function emitted, serialised as the publisher sends it. Every transfer must take the
/// happy path, one event each to `next`: a refusal or a dead letter here is a bug in the bench.
fn published(report: Result<Report, ledger_store::StoreError>, n_transfers: usize, next: Next) -> Vec<String> {
    let report = report.expect("the store answers");
    assert!(report.dead_letters.is_empty(), "no dead letters: {:?}", report.dead_letters);
    let route = |it: &Route| match it {
        Route::Position { .. } => Next::Position,
        Route::Notification => Next::Notification,
    };
    let n_onward = report.emitted.iter().filter(|it| route(&it.route) == next).count();
    assert_eq!(
        (report.emitted.len(), n_onward),
        (n_transfers, n_transfers),
        "one event per transfer to {next:?}: {report:?}"
    );
    report.emitted.iter().map(|it| it.envelope.to_json()).collect::<Vec<String>>()
}

/// The two DFSPs of the support module, funded and capped far beyond the run, with their
/// callback endpoints at the sink.
async fn provision_for_bench(store: &dyn LedgerStore, sink: &str) {
    for name in ["payerfsp", "payeefsp"] {
        let participant = store.create_participant(&fsp(name), NOW).await.unwrap();
        let position =
            store.create_account(participant.id, usd(), LedgerAccountType::Position, true, NOW).await.unwrap();
        let settlement =
            store.create_account(participant.id, usd(), LedgerAccountType::Settlement, true, NOW).await.unwrap();
        let cap = NetDebitCap::new(Amount::from_whole(FUNDING_WHOLE)).unwrap();
        store.set_net_debit_cap(position.id, cap, NOW).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.lock_balances(&[settlement.id]).await.unwrap();
        tx.update_positions(&[(settlement.id, -Amount::from_whole(FUNDING_WHOLE))], NOW).await.unwrap();
        tx.commit().await.unwrap();
    }
    register_endpoints(store, sink).await;
}

/// The DFSPs' callback endpoints: an HTTP server answering 200 to everything, on a thread of its
/// own so its CPU can be read apart.
struct Sink {
    base: String,
    cpu_clock: libc::clockid_t,
}

impl Sink {
    fn start() -> Sink {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the sink");
        std_listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", std_listener.local_addr().unwrap());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::OK });
                axum::serve(listener, app).await.unwrap();
            });
        });
        let mut cpu_clock: libc::clockid_t = 0;
        // SAFETY: the thread is running (it never returns while the process lives) and the
        // pointer is to a local.
        let found = unsafe {
            libc::pthread_getcpuclockid(std::os::unix::thread::JoinHandleExt::as_pthread_t(&thread), &mut cpu_clock)
        };
        assert_eq!(found, 0, "the sink thread's CPU clock");
        std::mem::forget(thread);
        Sink { base, cpu_clock }
    }

    fn cpu_us(&self) -> f64 {
        clock_us(self.cpu_clock)
    }
}

fn process_cpu_us() -> f64 {
    clock_us(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock_us(clock: libc::clockid_t) -> f64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write into.
    let read = unsafe { libc::clock_gettime(clock, &mut now) };
    assert_eq!(read, 0, "clock_gettime");
    now.tv_sec as f64 * 1e6 + now.tv_nsec as f64 / 1e3
}
