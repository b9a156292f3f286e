//! The Functions host stand-in: starts the custom handler with `FUNCTIONS_CUSTOMHANDLER_PORT`,
//! waits for it to answer, restarts it when it dies, and invokes its functions the way the Azure
//! Functions host does (azure.md §1.3–§1.7):
//! - Event Hubs triggers: one consumer per function and partition, one batch in flight at a
//!   time, at most `maxEventBatchSize` events, the function's (or host.json's) retry policy with
//!   `RetryContext` (`maxRetryCount` -1: until it succeeds, each retry logged with its number),
//!   and the checkpoint after the invocation whether it succeeded or not (a batch that failed its
//!   last retry is checkpointed past, as on Azure); never while the batch is being retried.
//! - Timer triggers on their NCRONTAB schedule (`runOnStartup` honoured).
//! - HTTP triggers: with `enableProxyingHttpRequest` the request goes to the handler at its
//!   original path and the handler's response comes back as is.
//!
//! Every invocation logs one line: function, partition, batch size, duration, outcome.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike as _, Timelike as _};
use serde_json::Value;
use switch_handler::bindings::{FunctionApp, FunctionSpec, NcrontabSchedule, RetryPolicy, Trigger};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch, Notify};

use axum::body::Bytes;
use http_body_util::Full;

use crate::faults::Faults;
use crate::handler_client::{HandlerClient, Repeat};
use crate::hubs::{Hubs, StoredEvent};
use crate::invocation::{self, BatchSource, RetryState};

/// The host polls the handler's port this often until it answers (the real host: 25 ms).
const READINESS_POLL: Duration = Duration::from_millis(25);
/// How long one readiness probe waits for an answer.
const READINESS_PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a started handler may take to answer (the documented limit: 60 s).
const READINESS_TIMEOUT: Duration = Duration::from_secs(60);
/// Restart delays after a handler exits: the first, and the most while it keeps crashing.
const RESTART_DELAY_MIN: Duration = Duration::from_millis(100);
const RESTART_DELAY_MAX: Duration = Duration::from_secs(5);
/// A handler that ran this long before exiting is not crash-looping; restart it at once.
const HEALTHY_RUN: Duration = Duration::from_secs(10);
/// The Event Hubs extension's default batch size when host.json sets none.
const MAX_EVENT_BATCH_SIZE_DEFAULT: u32 = 100;
/// The host's invocation timeout when host.json sets no `functionTimeout`.
const FUNCTION_TIMEOUT_DEFAULT: Duration = Duration::from_secs(300);
/// The host's HTTP client waits `functionTimeout` plus this (azure.md §1.2).
const INVOKE_TIMEOUT_MARGIN: Duration = Duration::from_secs(60);
/// How long a proxied HTTP request waits for a (re)starting handler before the edge answers 503.
const PROXY_READY_WAIT: Duration = Duration::from_secs(10);
/// How long a stopping handler gets after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// The host version the stand-in reports.
pub const HOST_VERSION: &str = "4.1040.0-local-emulator";

/// How to start the custom handler.
#[derive(Debug, Clone)]
pub struct HandlerCommand {
    pub program: PathBuf,
    pub arguments: Vec<String>,
    /// Extra environment (the app settings).
    pub environment: Vec<(String, String)>,
    /// The app root, `FUNCTIONS_APP_ROOT_PATH` and the working directory.
    pub app_root: PathBuf,
}

/// Why an invocation failed (the host would mark it Failed).
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    #[error("the handler is not running")]
    NotRunning,
    #[error("request failed: {0}")]
    Request(String),
    #[error("status {status}: {body}")]
    Status { status: u16, body: String },
    #[error("invalid response: {0}")]
    InvalidResponse(String),
}

/// The running handler process, restarted whenever it exits.
pub struct Supervisor {
    ready: watch::Receiver<Option<u16>>,
    kill: mpsc::Sender<()>,
    stop: Arc<Notify>,
    starts: Arc<AtomicU64>,
    client: HandlerClient,
    invoke_timeout: Duration,
}

impl Supervisor {
    /// Starts the handler and keeps it running until [`Supervisor::stop`].
    pub fn start(command: HandlerCommand, faults: Arc<Faults>, function_timeout: Option<Duration>) -> Supervisor {
        let (ready_tx, ready) = watch::channel(None);
        let (kill, kill_rx) = mpsc::channel(8);
        let stop = Arc::new(Notify::new());
        let starts = Arc::new(AtomicU64::new(0));
        let client = HandlerClient::default();
        tokio::spawn(supervise(
            command,
            faults,
            ready_tx,
            kill_rx,
            Arc::clone(&stop),
            Arc::clone(&starts),
            client.clone(),
        ));
        let invoke_timeout = function_timeout.unwrap_or(FUNCTION_TIMEOUT_DEFAULT) + INVOKE_TIMEOUT_MARGIN;
        Supervisor { ready, kill, stop, starts, client, invoke_timeout }
    }

    /// How many times the handler has been started.
    pub fn starts(&self) -> u64 {
        self.starts.load(Ordering::SeqCst)
    }

    /// Kills the handler (SIGKILL), as a crash would; it is then restarted.
    pub async fn kill(&self) {
        let _ = self.kill.send(()).await;
    }

    /// Stops the handler (SIGTERM, then SIGKILL after a grace period) and does not restart it.
    pub fn stop(&self) {
        self.stop.notify_one();
    }

    /// Waits until the handler answers, up to `within`; its port.
    pub async fn ready_port(&self, within: Duration) -> Option<u16> {
        let mut ready = self.ready.clone();
        let port = tokio::time::timeout(within, ready.wait_for(Option::is_some)).await.ok()?.ok()?;
        *port
    }

    /// Invokes `function` with an invocation body (its JSON bytes); the parsed
    /// `{Outputs, Logs, ReturnValue}`.
    pub async fn invoke(&self, function: &str, body: Vec<u8>) -> Result<Value, InvokeError> {
        let port = self.ready_port(self.invoke_timeout).await.ok_or(InvokeError::NotRunning)?;
        let request = axum::http::Request::post(format!("http://127.0.0.1:{port}/{function}"))
            .header("Content-Type", "application/json")
            .header("X-Azure-Functions-InvocationId", uuid::Uuid::new_v4().to_string())
            .header("X-Azure-Functions-HostVersion", HOST_VERSION)
            .header("User-Agent", format!("Azure-Functions-Host/{HOST_VERSION}"))
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| InvokeError::Request(err.to_string()))?;
        // Every function handles a batch delivered twice, so an invocation may be sent again.
        let answer =
            self.client.send(request, self.invoke_timeout, Repeat::Safe).await.map_err(InvokeError::Request)?;
        let status = answer.status;
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        if !status.is_success() {
            return Err(InvokeError::Status { status: status.as_u16(), body: text });
        }
        // The host needs a JSON object: `null` would leave the invocation hanging, anything else
        // fails it ("Invalid HttpResponseMessage").
        match serde_json::from_str::<Value>(&text) {
            Ok(value @ Value::Object(_)) => Ok(value),
            _ => Err(InvokeError::InvalidResponse(text.chars().take(200).collect())),
        }
    }

    /// The client proxied requests are sent with, and the handler's base URL.
    pub async fn proxy_target(&self) -> Result<(HandlerClient, String), InvokeError> {
        // A DFSP should hear "unavailable, retry" soon rather than wait out a handler restart.
        let port = self.ready_port(PROXY_READY_WAIT).await.ok_or(InvokeError::NotRunning)?;
        Ok((self.client.clone(), format!("http://127.0.0.1:{port}")))
    }
}

async fn supervise(
    command: HandlerCommand,
    faults: Arc<Faults>,
    ready: watch::Sender<Option<u16>>,
    mut kill: mpsc::Receiver<()>,
    stop: Arc<Notify>,
    starts: Arc<AtomicU64>,
    client: HandlerClient,
) {
    let mut delay = RESTART_DELAY_MIN;
    loop {
        let port = match free_port() {
            Ok(port) => port,
            Err(err) => {
                tracing::error!("no free port for the handler: {err}");
                tokio::time::sleep(RESTART_DELAY_MAX).await;
                continue;
            }
        };
        let crash = faults.take_handler_crash();
        let mut child = match spawn(&command, port, crash.as_deref()) {
            Ok(child) => child,
            Err(err) => {
                tracing::error!("cannot start the handler {}: {err}", command.program.display());
                tokio::time::sleep(RESTART_DELAY_MAX).await;
                continue;
            }
        };
        starts.fetch_add(1, Ordering::SeqCst);
        let started = Instant::now();
        let pid = child.id().unwrap_or(0);
        tokio::select! {
            answered = wait_ready(&client, port) => {
                if answered {
                    tracing::info!(pid, port, "handler ready in {} ms", started.elapsed().as_millis());
                    let _ = ready.send(Some(port));
                } else {
                    tracing::error!(pid, "handler did not answer within {} s; killing it", READINESS_TIMEOUT.as_secs());
                    let _ = child.start_kill();
                }
            }
            status = child.wait() => {
                tracing::error!(pid, "handler exited before it was ready: {}", describe(status));
            }
        }
        let mut killed_on_request = false;
        tokio::select! {
            status = child.wait() => tracing::error!(pid, "handler exited: {}; restarting", describe(status)),
            Some(()) = kill.recv() => {
                let _ = ready.send(None);
                let _ = child.start_kill();
                let _ = child.wait().await;
                killed_on_request = true;
                tracing::warn!(pid, "handler killed (fault injection); restarting");
            }
            () = stop.notified() => {
                let _ = ready.send(None);
                terminate(&mut child).await;
                tracing::info!(pid, "handler stopped");
                return;
            }
        }
        let _ = ready.send(None);
        // A crash loop backs off; a handler that ran a while, or was killed on purpose, comes
        // back at once.
        let healthy = killed_on_request || started.elapsed() > HEALTHY_RUN;
        delay = if healthy { RESTART_DELAY_MIN } else { (delay * 2).min(RESTART_DELAY_MAX) };
        tokio::time::sleep(delay).await;
    }
}

fn spawn(command: &HandlerCommand, port: u16, crash: Option<&str>) -> std::io::Result<Child> {
    let mut process = Command::new(&command.program);
    process
        .args(&command.arguments)
        .current_dir(&command.app_root)
        .envs(command.environment.iter().map(|(k, v)| (k, v)))
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
        .env("FUNCTIONS_CUSTOMHANDLER_WORKER_ID", uuid::Uuid::new_v4().to_string())
        .env("FUNCTIONS_APP_ROOT_PATH", &command.app_root)
        .env_remove(plumbing::fault::CRASH_VAR)
        .kill_on_drop(true);
    if let Some(crash) = crash {
        process.env(plumbing::fault::CRASH_VAR, crash);
    }
    process.spawn()
}

/// Polls `GET /` until any HTTP answer (the host's readiness rule), or gives up.
async fn wait_ready(client: &HandlerClient, port: u16) -> bool {
    let deadline = Instant::now() + READINESS_TIMEOUT;
    while Instant::now() < deadline {
        let probe = axum::http::Request::get(format!("http://127.0.0.1:{port}/")).body(Full::new(Bytes::new()));
        if let Ok(probe) = probe {
            if client.send(probe, READINESS_PROBE_TIMEOUT, Repeat::Safe).await.is_ok() {
                return true;
            }
        }
        tokio::time::sleep(READINESS_POLL).await;
    }
    false
}

async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
        if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(err) => err.to_string(),
    }
}

/// A port nothing listens on now (the host picks one the same way).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Invocation counters, for tests and the status endpoint.
#[derive(Debug, Default)]
pub struct Counters {
    pub invocations: AtomicU64,
    pub failures: AtomicU64,
    /// Batches checkpointed past after their last retry failed.
    pub abandoned_batches: AtomicU64,
}

/// What the Event Hubs and timer dispatchers share.
pub struct Dispatch {
    pub app: FunctionApp,
    pub hubs: Arc<Hubs>,
    pub supervisor: Arc<Supervisor>,
    pub faults: Arc<Faults>,
    pub counters: Arc<Counters>,
}

/// Starts one consumer per Event Hubs function and partition, and one loop per timer function.
pub fn start_triggers(dispatch: Arc<Dispatch>) {
    for function in &dispatch.app.functions {
        match &function.trigger {
            Trigger::EventHub { hub, .. } => {
                let n = dispatch.hubs.partition_count(hub).unwrap_or(0);
                for partition in 0..n {
                    tokio::spawn(consume(Arc::clone(&dispatch), function.clone(), partition));
                }
            }
            Trigger::Timer { .. } => {
                tokio::spawn(run_timer(Arc::clone(&dispatch), function.clone()));
            }
            Trigger::Http { .. } => {}
        }
    }
}

/// One consumer: the function's batches from one partition, in order, one at a time.
async fn consume(dispatch: Arc<Dispatch>, function: FunctionSpec, partition: u32) {
    let Trigger::EventHub { binding, hub, consumer_group, .. } = &function.trigger else { return };
    let group = consumer_group.clone().unwrap_or_else(|| "$Default".to_string());
    let Some(log) = dispatch.hubs.partition(hub, partition) else { return };
    let options = &dispatch.app.host.event_hubs;
    let batch_max = options.max_event_batch_size.unwrap_or(MAX_EVENT_BATCH_SIZE_DEFAULT).max(1) as usize;
    let checkpoint_every = options.batch_checkpoint_frequency.unwrap_or(1).max(1);
    let policy = function.retry.or(dispatch.app.host.retry);
    let mut next = dispatch.hubs.checkpoint(hub, &group, partition).map_or(0, |done| done + 1);
    let mut since_checkpoint = 0;
    loop {
        log.wait_for(next).await;
        if let Some(delay) = dispatch.faults.delay(hub, partition) {
            tokio::time::sleep(delay).await;
        }
        let events = log.read(next, batch_max);
        let Some(last) = events.last().map(|it| it.sequence_number) else {
            // Behind the retained events: skip to what is there.
            next = log.end().max(next);
            continue;
        };
        let source = BatchSource { hub, consumer_group: &group, partition };
        deliver(&dispatch, &function, binding, &source, &events, policy).await;
        if dispatch.faults.redelivers(&function.name) {
            tracing::warn!(function = %function.name, partition, "delivering the batch again (fault injection)");
            deliver(&dispatch, &function, binding, &source, &events, policy).await;
        }
        next = last + 1;
        since_checkpoint += 1;
        if since_checkpoint >= checkpoint_every {
            since_checkpoint = 0;
            // Recorded at once; the file follows (a failed write is retried and logged by the hubs).
            dispatch.hubs.record_checkpoint(hub, &group, partition, last);
        }
    }
}

/// Invokes the function with one batch, retrying per the policy; gives up after the last retry.
/// Returns only when the batch succeeded or was given up, so the caller never checkpoints past a
/// batch still being retried; a policy with `maxRetryCount` -1 retries until it succeeds. Only
/// this partition's consumer waits: every partition has its own task.
async fn deliver(
    dispatch: &Dispatch,
    function: &FunctionSpec,
    binding: &str,
    source: &BatchSource<'_>,
    events: &[Arc<StoredEvent>],
    policy: Option<RetryPolicy>,
) {
    let max_retries = policy.map(max_retry_count);
    let mut retry_count: u32 = 0;
    let mut exception: Option<String> = None;
    loop {
        let retry =
            max_retries.map(|max| RetryState { retry_count, max_retry_count: max, exception: exception.as_deref() });
        let body = invocation::event_batch(&function.name, binding, source, events, retry.as_ref());
        let started = Instant::now();
        let outcome = dispatch.supervisor.invoke(&function.name, body).await;
        dispatch.counters.invocations.fetch_add(1, Ordering::Relaxed);
        let elapsed_ms = started.elapsed().as_millis();
        let (n, partition, name) = (events.len(), source.partition, &function.name);
        let err = match outcome {
            Ok(response) => {
                tracing::info!("{name:<12} p{partition} batch {n:>4} {elapsed_ms:>5} ms ok{}", retry_note(retry_count));
                log_handler_lines(name, &response);
                return;
            }
            Err(err) => err,
        };
        dispatch.counters.failures.fetch_add(1, Ordering::Relaxed);
        let batch = batch_position(events);
        let attempt = u64::from(retry_count) + 1;
        let Some(policy) = policy.filter(|_| may_retry(max_retries, retry_count)) else {
            dispatch.counters.abandoned_batches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(batch = %batch, "{name:<12} p{partition} batch {n:>4} {elapsed_ms:>5} ms FAILED on attempt {attempt}, giving up and checkpointing past it: {err}");
            return;
        };
        retry_count = retry_count.saturating_add(1);
        let delay = retry_delay(policy, retry_count);
        tracing::warn!(batch = %batch, "{name:<12} p{partition} batch {n:>4} {elapsed_ms:>5} ms failed on attempt {attempt}, retry {retry_count} in {} ms: {err}", delay.as_millis());
        tokio::time::sleep(delay).await;
        exception = Some(err.to_string());
    }
}

/// Whether a batch that failed after `retry_count` retries is tried again: never without a
/// policy (the host checkpoints past it), always under `maxRetryCount` -1.
fn may_retry(max_retries: Option<i32>, retry_count: u32) -> bool {
    max_retries.is_some_and(|max| max < 0 || i64::from(retry_count) < i64::from(max))
}

fn retry_note(retry_count: u32) -> String {
    if retry_count == 0 {
        String::new()
    } else {
        format!(" (retry {retry_count})")
    }
}

/// The handler's `Logs` lines, written as the host writes them (through the function's logger).
fn log_handler_lines(function: &str, response: &Value) {
    for line in response.get("Logs").and_then(Value::as_array).into_iter().flatten() {
        if let Some(line) = line.as_str() {
            tracing::debug!(function, "{line}");
        }
    }
}

/// Where a batch sits in its partition, for error lines: its sequence numbers and its partition
/// keys (a position event's account, a notification's transfer id). The host, like Azure's,
/// never reads an event's body.
fn batch_position(events: &[Arc<StoredEvent>]) -> String {
    let (Some(first), Some(last)) = (events.first(), events.last()) else { return String::new() };
    let mut keys: Vec<&str> = events.iter().filter_map(|event| event.partition_key.as_deref()).collect();
    keys.dedup();
    match keys.is_empty() {
        true => format!("seq {}..={}", first.sequence_number, last.sequence_number),
        false => format!("seq {}..={} keys {}", first.sequence_number, last.sequence_number, keys.join(",")),
    }
}

fn max_retry_count(policy: RetryPolicy) -> i32 {
    match policy {
        RetryPolicy::ExponentialBackoff { max_retry_count, .. } | RetryPolicy::FixedDelay { max_retry_count, .. } => {
            max_retry_count
        }
    }
}

/// The wait before retry number `retry_count` (1 = the first retry): doubling from the minimum,
/// never above the maximum however long the retries go on.
fn retry_delay(policy: RetryPolicy, retry_count: u32) -> Duration {
    match policy {
        RetryPolicy::FixedDelay { delay_interval, .. } => delay_interval,
        RetryPolicy::ExponentialBackoff { minimum_interval, maximum_interval, .. } => {
            let factor = 2u32.saturating_pow(retry_count.saturating_sub(1));
            minimum_interval.saturating_mul(factor).min(maximum_interval)
        }
    }
}

/// A timer function: invoked at every second its NCRONTAB schedule matches.
async fn run_timer(dispatch: Arc<Dispatch>, function: FunctionSpec) {
    let Trigger::Timer { binding, schedule, run_on_startup, .. } = &function.trigger else { return };
    let schedule = match NcrontabSchedule::parse(schedule) {
        Ok(schedule) => schedule,
        Err(err) => {
            tracing::error!(function = %function.name, "bad schedule: {err}");
            return;
        }
    };
    let mut last: Option<i64> = None;
    if *run_on_startup {
        fire_timer(&dispatch, &function, binding, &schedule, &mut last, false).await;
    }
    loop {
        let now = chrono::Utc::now();
        let Some(next) = next_occurrence(&schedule, now) else {
            tracing::error!(function = %function.name, "schedule never fires");
            return;
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let late = (chrono::Utc::now() - next).num_seconds() >= 1;
        fire_timer(&dispatch, &function, binding, &schedule, &mut last, late).await;
    }
}

async fn fire_timer(
    dispatch: &Dispatch,
    function: &FunctionSpec,
    binding: &str,
    schedule: &NcrontabSchedule,
    last: &mut Option<i64>,
    is_past_due: bool,
) {
    let now = chrono::Utc::now();
    let next_ms = next_occurrence(schedule, now).map_or(now.timestamp_millis(), |it| it.timestamp_millis());
    let body = invocation::timer(&function.name, binding, *last, next_ms, is_past_due);
    let started = Instant::now();
    let outcome = dispatch.supervisor.invoke(&function.name, body.to_string().into_bytes()).await;
    dispatch.counters.invocations.fetch_add(1, Ordering::Relaxed);
    let elapsed_ms = started.elapsed().as_millis();
    match outcome {
        Ok(response) => {
            tracing::debug!("{:<12} timer {elapsed_ms:>5} ms ok", function.name);
            log_handler_lines(&function.name, &response);
        }
        Err(err) => {
            dispatch.counters.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!("{:<12} timer {elapsed_ms:>5} ms FAILED: {err}", function.name);
        }
    }
    *last = Some(now.timestamp_millis());
}

/// The first whole second after `after` that the schedule matches, within a year.
fn next_occurrence(
    schedule: &NcrontabSchedule,
    after: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    const SECONDS_SEARCHED_MAX: i64 = 366 * 24 * 3600;
    let start = after.with_nanosecond(0)? + chrono::Duration::seconds(1);
    (0..SECONDS_SEARCHED_MAX).map(|offset| start + chrono::Duration::seconds(offset)).find(|t| {
        schedule.matches(t.second(), t.minute(), t.hour(), t.day(), t.month(), t.weekday().num_days_from_sunday())
    })
}

/// Per-function invocation counts by outcome, for the status endpoint.
pub fn summary(counters: &Counters) -> HashMap<&'static str, u64> {
    HashMap::from([
        ("invocations", counters.invocations.load(Ordering::Relaxed)),
        ("failures", counters.failures.load(Ordering::Relaxed)),
        ("abandonedBatches", counters.abandoned_batches.load(Ordering::Relaxed)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_retries_double_up_to_the_maximum() {
        let policy = RetryPolicy::ExponentialBackoff {
            max_retry_count: 5,
            minimum_interval: Duration::from_secs(1),
            maximum_interval: Duration::from_secs(30),
        };
        let delays: Vec<u64> = (1..=7).map(|n| retry_delay(policy, n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
    }

    #[test]
    fn unbounded_retries_stay_at_the_cap_and_never_give_up() {
        let policy = RetryPolicy::ExponentialBackoff {
            max_retry_count: -1,
            minimum_interval: Duration::from_secs(1),
            maximum_interval: Duration::from_secs(10),
        };
        for retry_count in [5, 40, 1_000, u32::MAX] {
            assert_eq!(retry_delay(policy, retry_count), Duration::from_secs(10), "retry {retry_count}");
            assert!(may_retry(Some(-1), retry_count), "retry {retry_count}");
        }
        assert_eq!(retry_delay(policy, 4), Duration::from_secs(8));
    }

    #[test]
    fn finite_retries_give_up_after_the_last_and_none_without_a_policy() {
        assert!(may_retry(Some(5), 4));
        assert!(!may_retry(Some(5), 5));
        assert!(!may_retry(Some(0), 0));
        assert!(!may_retry(None, 0));
    }

    #[test]
    fn a_fifteen_second_schedule_fires_on_the_quarter_minutes() {
        let schedule = NcrontabSchedule::parse("*/15 * * * * *").unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:07.500Z").unwrap().with_timezone(&chrono::Utc);
        let next = next_occurrence(&schedule, at).unwrap();
        assert_eq!(next.to_rfc3339(), "2026-11-22T10:00:15+00:00");
        let after = next_occurrence(&schedule, next).unwrap();
        assert_eq!(after.to_rfc3339(), "2026-11-22T10:00:30+00:00");
    }
}
