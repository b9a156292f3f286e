//! floor: what the parts of a transfer that no code change removes cost on this machine: one
//! HTTP/1.1 exchange over loopback (client and server on the same cores, as the generator, the
//! emulator and the handler are) and one durable append (write, then fdatasync). From the
//! exchange's CPU it derives the most transfers per second the machine's cores allow for the
//! HTTP exchanges alone, before any ledger, journal or hub work.
//!
//! ```sh
//! cargo run --release -p loadgen --bin floor -- [--duration 10s] [--concurrency 64] [--dir DIR]
//! ```

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use http_body_util::{BodyExt as _, Full};
use plumbing::callback_client::{pooled_client, PooledClient};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// HTTP exchanges a transfer makes that batching cannot merge: the payer's POST /transfers and
/// the payee's PUT /transfers/{id}, each from the DFSP to the APIM edge and from the edge to the
/// handler; the prepare callback to the payee; the COMMITTED callbacks to payer and payee.
const EXCHANGES_PER_TRANSFER: u64 = 7;
/// The switch's throughput target on SQLite (issue 7), transfers per second.
const TARGET_TPS: u64 = 5_000;
/// Size of each exchange's request body: about an FSPIOP transfer request.
const REQUEST_BYTES: usize = 1_024;
/// Size of each durable append: about the hub-log lines of one stage's batch.
const APPEND_BYTES: usize = 3_000;
/// Worker threads of each side's runtime, as in the generator's and the handler's processes.
const WORKERS_PER_SIDE: usize = 2;
/// Exchanges before measuring starts: connections opened, caches warm.
const WARMUP: Duration = Duration::from_secs(1);

struct Options {
    duration: Duration,
    concurrency: usize,
    dir: PathBuf,
}

fn main() {
    let options = match parse_options(std::env::args().skip(1).collect()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("floor: {message}\nusage: floor [--duration 10s] [--concurrency 64] [--dir DIR]");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |it| it.get());
    let exchange = measure_exchanges(&options);
    let append = measure_appends(&options.dir, options.duration);
    let exchange_us = exchange.cpu_us_each();
    let transfer_us = exchange_us * EXCHANGES_PER_TRANSFER as f64;
    let budget_us = cores as f64 * 1e6 / TARGET_TPS as f64;
    println!("cores: {cores}");
    println!(
        "HTTP/1.1 exchanges over loopback ({} in flight, {REQUEST_BYTES}-byte request, empty answer, both ends in this process): {:.0}/s, {exchange_us:.1} µs of CPU each (both ends, kernel included)",
        options.concurrency,
        exchange.per_second(),
    );
    println!(
        "durable appends ({APPEND_BYTES} bytes, then fdatasync, one thread) in {}: {:.0}/s, p50 {:.3} ms, p99 {:.3} ms, {:.1} µs of CPU each",
        options.dir.display(),
        append.measured.per_second(),
        append.p50_ms,
        append.p99_ms,
        append.measured.cpu_us_each(),
    );
    println!(
        "a transfer's {EXCHANGES_PER_TRANSFER} exchanges: {transfer_us:.0} µs of CPU; {TARGET_TPS} transfers/s on {cores} cores leave {budget_us:.0} µs per transfer for everything; the exchanges alone allow at most {:.0} transfers/s",
        cores as f64 * 1e6 / transfer_us
    );
}

fn parse_options(args: Vec<String>) -> Result<Options, String> {
    let mut options = Options { duration: Duration::from_secs(10), concurrency: 64, dir: std::env::temp_dir() };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--duration" => options.duration = parse_seconds(&value()?)?,
            "--concurrency" => {
                options.concurrency =
                    value()?.parse().ok().filter(|it| *it > 0).ok_or("--concurrency needs a positive count")?
            }
            "--dir" => options.dir = PathBuf::from(value()?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

/// `10s` or `10`: whole seconds, at least one.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let digits = text.strip_suffix('s').unwrap_or(text);
    match digits.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err(format!("--duration takes whole seconds, e.g. 10s, not {text}")),
    }
}

/// What one measurement counted, over how long, at what CPU (user and system, whole process).
struct Measured {
    count: u64,
    elapsed_s: f64,
    cpu_s: f64,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed_s
    }

    /// CPU per counted operation, in µs.
    fn cpu_us_each(&self) -> f64 {
        self.cpu_s * 1e6 / self.count as f64
    }
}

/// Wall clock and process CPU from the start of a measurement.
struct Stopwatch {
    started: Instant,
    cpu_before: f64,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch { started: Instant::now(), cpu_before: process_cpu_s() }
    }

    fn stop(&self, count: u64) -> Measured {
        Measured { count, elapsed_s: self.started.elapsed().as_secs_f64(), cpu_s: process_cpu_s() - self.cpu_before }
    }
}

fn measure_exchanges(options: &Options) -> Measured {
    let server = runtime();
    let address = server.block_on(serve());
    let client = runtime();
    client.block_on(exchange_loop(address, options.concurrency, options.duration))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS_PER_SIDE)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// Starts a server that reads each `POST /exchange` body and answers 202 with none, as the edge
/// and a DFSP's callback endpoint answer; its tasks stay on the runtime it was started on.
async fn serve() -> SocketAddr {
    let listener = plumbing::listen::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("a loopback port");
    let address = listener.local_addr().expect("the bound address");
    let router = Router::new().route("/exchange", post(|_request: Bytes| async { StatusCode::ACCEPTED }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

async fn exchange_loop(address: SocketAddr, concurrency: usize, duration: Duration) -> Measured {
    let client = pooled_client(None, concurrency).expect("the platform's TLS roots");
    let url = format!("http://{address}/exchange");
    let body = Bytes::from(vec![b'x'; REQUEST_BYTES]);
    let counted = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            let (counted, measuring, stop) = (Arc::clone(&counted), Arc::clone(&measuring), Arc::clone(&stop));
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    exchange(&client, &url, body.clone()).await;
                    if measuring.load(Ordering::Relaxed) {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(WARMUP).await;
    let stopwatch = Stopwatch::start();
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(duration).await;
    measuring.store(false, Ordering::Relaxed);
    let measured = stopwatch.stop(counted.load(Ordering::Relaxed));
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    measured
}

async fn exchange(client: &PooledClient, url: &str, body: Bytes) {
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid request");
    let response = client.request(request).await.expect("the local server answers");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.into_body().collect().await.expect("the answer's body");
}

/// What the durable appends measured, with their latency.
struct Appends {
    measured: Measured,
    p50_ms: f64,
    p99_ms: f64,
}

fn measure_appends(dir: &Path, duration: Duration) -> Appends {
    let path = dir.join(format!("floor-{}.log", std::process::id()));
    let mut file = std::fs::OpenOptions::new().create_new(true).append(true).open(&path).expect("a new file in --dir");
    let line = vec![b'x'; APPEND_BYTES];
    let mut latencies = Vec::new();
    let stopwatch = Stopwatch::start();
    while stopwatch.started.elapsed() < duration {
        let append_started = Instant::now();
        file.write_all(&line).and_then(|()| file.sync_data()).expect("a durable append");
        latencies.push(append_started.elapsed().as_secs_f64() * 1e3);
    }
    let measured = stopwatch.stop(latencies.len() as u64);
    drop(file);
    let _ = std::fs::remove_file(&path);
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Appends { measured, p50_ms: at(0.5), p99_ms: at(0.99) }
}

/// This process's CPU time so far, user and system, all threads.
fn process_cpu_s() -> f64 {
    loadgen::machine::process_cpu_s().expect("/proc/self/stat, which floor needs")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_take_whole_seconds_a_positive_concurrency_and_a_directory() {
        let options =
            parse_options(["--duration", "3s", "--concurrency", "8", "--dir", "/var/tmp"].map(String::from).to_vec())
                .unwrap();
        assert_eq!(
            (options.duration, options.concurrency, options.dir),
            (Duration::from_secs(3), 8, PathBuf::from("/var/tmp"))
        );
        assert!(parse_options(vec!["--duration".into(), "500ms".into()]).is_err());
        assert!(parse_options(vec!["--concurrency".into(), "0".into()]).is_err());
        assert!(parse_options(vec!["--dir".into()]).is_err());
        assert!(parse_options(vec!["--bogus".into()]).is_err());
    }

    #[test]
    fn one_exchange_and_appends_are_measured() {
        let options = Options { duration: Duration::from_secs(1), concurrency: 2, dir: std::env::temp_dir() };
        let exchanges = measure_exchanges(&options);
        assert!(exchanges.count > 0 && exchanges.elapsed_s >= 1.0);
        let appends = measure_appends(&options.dir, Duration::from_millis(200));
        assert!(appends.measured.count > 0 && appends.p50_ms <= appends.p99_ms);
    }
}
