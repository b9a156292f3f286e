//! One run from start to end: output directory, callback server, switch, provisioning, sending,
//! draining, the progress line, and the result files.

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use local_emulator::provision::DfspSpec;
use serde_json::json;

use crate::dfsps::{self, Dfsps};
use crate::driver::{self, Limits};
use crate::expiry::Expiry;
use crate::ids::{DfspNames, RunIds};
use crate::machine::{reference_round_trip_us, CpuTimes, CpuUsage, Reference, ReferenceSampler};
use crate::options::{Options, Pacing, Store, Target};
use crate::report::{Percentiles, RunFacts, Summary};
use crate::switch::Switch;
use crate::tracker::Tracker;

/// How often the progress line is redrawn on a terminal, and written as a line otherwise.
const PROGRESS_TTY_EVERY: Duration = Duration::from_millis(500);
const PROGRESS_LOG_EVERY: Duration = Duration::from_secs(5);
/// The callback server's port for a remote target when none is given.
const REMOTE_CALLBACK_PORT: u16 = 4999;

/// Where a run's files went and what it measured.
pub struct Outcome {
    pub out_dir: PathBuf,
    pub summary: Summary,
    /// Transfers still open when the drain gave up.
    pub unfinished: usize,
    /// The machine's CPU while sending and draining and the reference work, one line each;
    /// `None` off Linux.
    pub machine_cpu: Option<String>,
    /// The expiring transfers' lines (`--expiring-share`), if any.
    pub expiry: Option<String>,
}

/// Runs `options` to the end.
pub async fn run(options: &Options) -> Result<Outcome, String> {
    let out_dir = options.out.clone().unwrap_or_else(default_out_dir);
    std::fs::create_dir_all(&out_dir).map_err(|err| format!("{}: {err}", out_dir.display()))?;
    let load_before = load_average();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (listener, bound) =
        dfsps::bind(callback_bind(options)).await.map_err(|err| format!("binding the callback server: {err}"))?;
    let callback_base = callback_base(options, bound);
    let switch = Switch::start(&options.target, &out_dir.join("emulator")).await?;
    eprintln!("loadgen: switch: {} (FSPIOP {})", switch.description, switch.fspiop_url);
    // The silent payee of the expiring share is one more DFSP, the last.
    let silent_payees = u32::from(options.expiring.is_some());
    let names = DfspNames::new(&options.dfsp_prefix, options.dfsps + silent_payees);
    let specs: Vec<DfspSpec> = names
        .all()
        .iter()
        .map(|name| DfspSpec {
            name: name.clone(),
            net_debit_cap: options.ndc.clone(),
            funds_in: options.funds.clone(),
            endpoints: Dfsps::endpoints(&callback_base, name),
        })
        .collect();
    let provisioned = Instant::now();
    let measured = match switch.provision(options.provision, &options.currency, &specs).await {
        Ok(()) => {
            eprintln!(
                "loadgen: provisioned {} DFSPs in {:.1} s; callbacks at {callback_base}",
                specs.len(),
                provisioned.elapsed().as_secs_f64()
            );
            let before = Before { load: load_before, started_at };
            measure(options, &switch, names, listener, before, &callback_base).await
        }
        Err(err) => Err(err),
    };
    let stopped = switch.stop().await;
    let (summary, unfinished, machine_cpu, expiry) = measured?;
    stopped?;
    let json = serde_json::to_string_pretty(&summary.to_json()).unwrap_or_default();
    let json_path = out_dir.join("result.json");
    std::fs::write(&json_path, json + "\n").map_err(|err| format!("{}: {err}", json_path.display()))?;
    let svg_path = out_dir.join("result.svg");
    let title = format!("loadgen {} against {}", options.scenario.name(), target_name(&options.target));
    std::fs::write(&svg_path, summary.svg(&title)).map_err(|err| format!("{}: {err}", svg_path.display()))?;
    Ok(Outcome { out_dir, summary, unfinished, machine_cpu, expiry })
}

/// What is known before the measurement starts.
struct Before {
    load: String,
    started_at: String,
}

/// What `measure` found: the summary, the transfers left unfinished, the machine's CPU line and
/// the expiring transfers' lines.
type Measurement = (Summary, usize, Option<String>, Option<String>);

async fn measure(
    options: &Options,
    switch: &Switch,
    names: DfspNames,
    listener: tokio::net::TcpListener,
    before: Before,
    callback_base: &str,
) -> Result<Measurement, String> {
    let permits = driver::permits(&options.pacing);
    let started = Instant::now();
    let tracker = Tracker::new(started, options.warmup, permits.clone());
    let silent_payee = names.all().len() as u32 - 1;
    let mut generator = Dfsps::new(
        RunIds::new(),
        names,
        tracker,
        &switch.fspiop_url,
        &options.amount,
        &options.currency,
        options.expiration,
    );
    if let Some(expiring) = options.expiring {
        generator = generator.with_expiry(Expiry::new(expiring, silent_payee, started, options.warmup));
    }
    let generator = Arc::new(generator);
    dfsps::serve(Arc::clone(&generator), listener);
    let progress = (!options.quiet).then(|| tokio::spawn(progress(Arc::clone(&generator))));
    let limits = Limits { duration: options.duration, transfers: options.transfers };
    let idle_us = tokio::task::spawn_blocking(reference_round_trip_us).await.unwrap_or(f64::NAN);
    let sampler = ReferenceSampler::start();
    let cpu_before = CpuTimes::read();
    let sent =
        driver::drive(Arc::clone(&generator), options.scenario.clone(), options.pacing.clone(), limits, permits).await;
    let unfinished = driver::drain(&generator, options.drain).await;
    let cpu = cpu_before.zip(CpuTimes::read()).and_then(|(before, after)| CpuUsage::between(before, after));
    let reference = Reference {
        idle_us,
        during_run_us: tokio::task::spawn_blocking(move || sampler.stop()).await.unwrap_or_default(),
    };
    if let Some(progress) = progress {
        progress.abort();
        eprintln!();
    }
    let recorder = generator.tracker.recorder();
    let warmup_ns = options.warmup.as_nanos() as u64;
    let window_s = recorder.last_end_ns.saturating_sub(warmup_ns) as f64 / 1e9;
    let counters = &generator.tracker.counters;
    let committed = counters.committed.load(Ordering::Relaxed);
    let header = json!({
        "scenario": options.scenario.name(),
        "pacing": pacing_json(&options.pacing),
        "target": switch.description,
        "store": store_name(&options.target),
        "dfsps": options.dfsps,
        "amount": options.amount,
        "currency": options.currency,
        "started_at": before.started_at,
        "send_window_s": sent.window.as_secs_f64(),
        "warmup_s": options.warmup.as_secs_f64(),
        "throughput_window_s": window_s,
        "callbacks_at": callback_base,
        "machine": {
            "cpus": std::thread::available_parallelism().map_or(0, |it| it.get()),
            "load_before": before.load,
            "load_after": load_average(),
            "cpu_during_run": cpu.map(|it| it.to_json(committed)),
            "reference": reference.to_json(cpu.as_ref(), committed),
        },
        "transfers": {
            "scheduled": sent.transfers,
            "sent": counters.sent.load(Ordering::Relaxed),
            "not_sent_in_flight_bound": counters.not_sent.load(Ordering::Relaxed),
            "committed_total": committed,
            "failed_total": counters.failed.load(Ordering::Relaxed),
            "committed_warmup": recorder.committed_warmup,
            "failed_warmup": recorder.failed_warmup,
            "unfinished": unfinished,
            "payee_prepares": counters.payee_prepares.load(Ordering::Relaxed),
            "other_callbacks": counters.other_callbacks.load(Ordering::Relaxed),
        },
        "expiry": generator.expiry.as_ref().map(|it| it.to_json(generator.names.name(it.payee))),
    });
    let cpu_text = cpu.map(|it| it.text(committed) + &reference.text(Some(&it), committed));
    let expiry_text = generator.expiry.as_ref().map(Expiry::text);
    Ok((Summary::new(&recorder, RunFacts { header, window_s }), unfinished, cpu_text, expiry_text))
}

/// Redraws one line (on a terminal) or writes one every few seconds (otherwise) until aborted.
async fn progress(generator: Arc<Dfsps>) {
    let terminal = std::io::stderr().is_terminal();
    let every = if terminal { PROGRESS_TTY_EVERY } else { PROGRESS_LOG_EVERY };
    let counters = &generator.tracker.counters;
    let mut last = (Instant::now(), 0u64);
    loop {
        tokio::time::sleep(every).await;
        let now = Instant::now();
        let committed = counters.committed.load(Ordering::Relaxed);
        let rate = (committed - last.1) as f64 / (now - last.0).as_secs_f64();
        last = (now, committed);
        let p99 = {
            let recorder = generator.tracker.recorder();
            recorder
                .timeline
                .iter()
                .rev()
                .find(|it| 0 < it.committed)
                .map(|it| Percentiles::of(&it.latency).p99)
                .unwrap_or(0.0)
        };
        let line = format!(
            "[{:>5.1} s] sent {}  committed {} ({:.0}/s)  failed {}  in flight {}  p99 {:.1} ms",
            (now - generator.tracker.started).as_secs_f64(),
            counters.sent.load(Ordering::Relaxed),
            committed,
            rate,
            counters.failed.load(Ordering::Relaxed),
            generator.tracker.in_flight(),
            p99
        );
        let mut stderr = std::io::stderr().lock();
        let _ = match terminal {
            true => write!(stderr, "\r\x1b[2K{line}"),
            false => writeln!(stderr, "{line}"),
        };
        let _ = stderr.flush();
    }
}

fn callback_bind(options: &Options) -> SocketAddr {
    match (options.callback_bind, &options.target) {
        (Some(address), _) => address,
        (None, Target::Local(_)) => SocketAddr::from(([127, 0, 0, 1], 0)),
        (None, Target::Remote { .. }) => SocketAddr::from(([0, 0, 0, 0], REMOTE_CALLBACK_PORT)),
    }
}

/// `http://host:port` the switch calls back at.
fn callback_base(options: &Options, bound: SocketAddr) -> String {
    match &options.callback_host {
        Some(host) if host.contains(':') => format!("http://{host}"),
        Some(host) => format!("http://{host}:{}", bound.port()),
        None if bound.ip().is_unspecified() => format!("http://127.0.0.1:{}", bound.port()),
        None => format!("http://{bound}"),
    }
}

fn default_out_dir() -> PathBuf {
    PathBuf::from("target").join("loadgen").join(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
}

/// `/proc/loadavg`'s three load averages (what `uptime` shows), or `unknown`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|it| it.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn pacing_json(pacing: &Pacing) -> serde_json::Value {
    match pacing {
        Pacing::Closed { concurrency } => json!({ "loop": "closed", "concurrency": concurrency }),
        Pacing::Open { rate } => json!({ "loop": "open", "rate_tps": rate }),
    }
}

fn store_name(target: &Target) -> &'static str {
    match target {
        Target::Local(local) => match local.store {
            Store::Sqlite => "sqlite",
            Store::Mysql { .. } => "mysql",
        },
        Target::Remote { .. } => "remote",
    }
}

fn target_name(target: &Target) -> String {
    match target {
        Target::Local(_) => format!("the local emulator on {}", store_name(target)),
        Target::Remote { fspiop_url, .. } => fspiop_url.clone(),
    }
}
