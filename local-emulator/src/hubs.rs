//! The Event Hubs stand-in: named hubs with a fixed number of partitions, durable append-only
//! partition logs in the data directory, partition-key hashing, and per-consumer-group
//! checkpoints. The Functions host stand-in reads from it; the handler publishes to it over HTTP
//! (`handler::publish::local` documents that wire protocol; [`router`] serves it).
//!
//! # Durability
//! Each partition is one file of JSON lines, `hubs/<hub>/<partition>.log`. An append is
//! acknowledged only after its lines are written and `fsync`ed; appends that arrive while a sync
//! is running are written and synced together (group commit), so many publishers cost one sync.
//! A line torn by a crash is cut off when the log is opened again.
//!
//! A checkpoint takes effect in memory at once and reaches its file (written to a temporary file
//! and renamed over it, not synced) within [`CHECKPOINT_FLUSH_INTERVAL`], and when the hubs are
//! dropped. Syncing a file per batch cost more than the batch's own ledger commit, and syncing
//! each flush added up to seventy syncs a second (one per changed file, ten flushes a second)
//! that protect nothing a redelivery does not, while every sync on the disk slows the others
//! (the ledger's commits among them). A checkpoint lost in a crash only moves the restart point
//! back: each consumer group resumes after its last checkpoint on file (from the oldest retained event
//! when the file is gone or unreadable), so what it had not checkpointed there is delivered
//! again, as on Azure after a crash between a batch and its checkpoint. Every function is
//! idempotent for exactly that reason.
//!
//! # Retention
//! Events every consumer group has checkpointed are dropped from memory; when a log is opened the
//! file is rewritten without them. (Azure keeps events for the hub's retention period instead;
//! nothing here reads behind a checkpoint.)

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use handler::publish::local::IngestRequest;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

/// Largest event body accepted, in bytes: the Standard tier's 1 MB limit (azure.md §2.1).
pub const EVENT_BYTES_MAX: usize = 1_048_576;
/// Most appends written and synced together by one partition writer.
const GROUP_COMMIT_APPENDS_MAX: usize = 1024;
/// How long a checkpoint may live only in memory before it is written to its file.
pub const CHECKPOINT_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Why the hubs could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HubsError {
    #[error("no event hub named `{0}`")]
    UnknownHub(String),
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("the partition writer for {0} has stopped")]
    WriterStopped(String),
}

/// One stored event, as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Dense per partition, from 0.
    #[serde(rename = "seq")]
    pub sequence_number: i64,
    /// The event's byte position in the partition log (logs are compacted when opened, so it
    /// only grows within one run).
    pub offset: u64,
    /// When the hub accepted it, in Unix milliseconds.
    #[serde(rename = "t")]
    pub enqueued_ms: i64,
    #[serde(rename = "key")]
    pub partition_key: Option<String>,
    pub body: String,
}

/// An event to append: its partition key (if any) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub partition_key: Option<String>,
    pub body: String,
}

/// The hubs of one emulated namespace.
pub struct Hubs {
    dir: PathBuf,
    hubs: BTreeMap<String, Hub>,
    /// Consumer groups per hub, from the function.json files; retention waits for all of them.
    consumer_groups: BTreeMap<String, Vec<String>>,
    checkpoints: Arc<Checkpoints>,
}

/// Every consumer group's checkpoints as last recorded (or read), keyed by their file, and which
/// of them the files do not hold yet.
#[derive(Default)]
struct Checkpoints {
    table: Mutex<CheckpointTable>,
    /// Held while files are written, so the periodic flush and the one at drop never write
    /// the same temporary file at once.
    writing: Mutex<()>,
}

#[derive(Default)]
struct CheckpointTable {
    known: HashMap<PathBuf, Option<i64>>,
    unwritten: HashSet<PathBuf>,
}

struct Hub {
    partitions: Vec<Arc<Partition>>,
    round_robin: AtomicU64,
}

/// One partition: the events not yet checkpointed by every consumer group, and the writer that
/// appends to its log.
pub struct Partition {
    name: String,
    events: Mutex<VecDeque<Arc<StoredEvent>>>,
    /// The next sequence number to be assigned; consumers wait on it.
    end: watch::Sender<i64>,
    writer: mpsc::Sender<Append>,
}

struct Append {
    events: Vec<NewEvent>,
    done: oneshot::Sender<Result<(), String>>,
}

impl Hubs {
    /// Opens (or creates) the hubs under `dir`: each hub in `consumer_groups` with `n_partitions`
    /// partitions. Existing logs are read back and compacted past the oldest checkpoint.
    pub fn open(dir: &Path, consumer_groups: BTreeMap<String, Vec<String>>, n_partitions: u32) -> Result<Hubs, HubsError> {
        let mut hubs = BTreeMap::new();
        for (hub, groups) in &consumer_groups {
            let hub_dir = dir.join("hubs").join(hub);
            create_dir(&hub_dir)?;
            let mut partitions = Vec::new();
            for partition in 0..n_partitions {
                let oldest_checkpoint = groups
                    .iter()
                    .map(|group| read_checkpoint(&checkpoint_path(dir, hub, group, partition)))
                    .min()
                    .unwrap_or(None);
                let name = format!("{hub}/{partition}");
                let log_path = hub_dir.join(format!("{partition}.log"));
                partitions.push(Partition::open(name, &log_path, oldest_checkpoint)?);
            }
            hubs.insert(hub.clone(), Hub { partitions, round_robin: AtomicU64::new(0) });
        }
        let checkpoints = Arc::new(Checkpoints::default());
        tokio::spawn(flush_checkpoints_periodically(Arc::downgrade(&checkpoints)));
        Ok(Hubs { dir: dir.to_path_buf(), hubs, consumer_groups, checkpoints })
    }

    pub fn hub_names(&self) -> impl Iterator<Item = &str> {
        self.hubs.keys().map(String::as_str)
    }

    pub fn partition_count(&self, hub: &str) -> Option<u32> {
        self.hubs.get(hub).map(|it| it.partitions.len() as u32)
    }

    pub fn partition(&self, hub: &str, partition: u32) -> Option<Arc<Partition>> {
        self.hubs.get(hub).and_then(|it| it.partitions.get(partition as usize).cloned())
    }

    /// Appends `events` to `hub`: keyed events to the partition their key hashes to, in order;
    /// unkeyed ones round-robin. Returns once every event is durable.
    pub async fn append(&self, hub: &str, events: Vec<NewEvent>) -> Result<(), HubsError> {
        let target = self.hubs.get(hub).ok_or_else(|| HubsError::UnknownHub(hub.to_string()))?;
        let mut per_partition: BTreeMap<usize, Vec<NewEvent>> = BTreeMap::new();
        let n = target.partitions.len();
        for event in events {
            let index = match &event.partition_key {
                Some(key) => partition_for_key(key, n),
                None => (target.round_robin.fetch_add(1, Ordering::Relaxed) % n as u64) as usize,
            };
            per_partition.entry(index).or_default().push(event);
        }
        let mut pending = Vec::new();
        for (index, events) in per_partition {
            let partition = &target.partitions[index];
            let (done, answer) = oneshot::channel();
            partition
                .writer
                .send(Append { events, done })
                .await
                .map_err(|_| HubsError::WriterStopped(partition.name.clone()))?;
            pending.push((partition.name.clone(), answer));
        }
        for (name, answer) in pending {
            let written = answer.await.map_err(|_| HubsError::WriterStopped(name.clone()))?;
            written.map_err(|reason| HubsError::Io { path: PathBuf::from(&name), reason })?;
        }
        Ok(())
    }

    /// The last sequence number `group` has checkpointed on `hub`'s `partition`, if any.
    pub fn checkpoint(&self, hub: &str, group: &str, partition: u32) -> Option<i64> {
        let path = checkpoint_path(&self.dir, hub, group, partition);
        let mut table = self.checkpoints.lock();
        *table.known.entry(path).or_insert_with_key(|path| read_checkpoint(path))
    }

    /// Records that `group` has processed `hub`'s `partition` up to `sequence_number` (its file
    /// follows within [`CHECKPOINT_FLUSH_INTERVAL`]), then drops from memory what every group of
    /// the hub has processed.
    pub fn record_checkpoint(&self, hub: &str, group: &str, partition: u32, sequence_number: i64) {
        let path = checkpoint_path(&self.dir, hub, group, partition);
        self.checkpoints.record(path, sequence_number);
        let oldest = self
            .consumer_groups
            .get(hub)
            .into_iter()
            .flatten()
            .map(|group| self.checkpoint(hub, group, partition))
            .min()
            .flatten();
        if let (Some(oldest), Some(partition)) = (oldest, self.partition(hub, partition)) {
            partition.forget_through(oldest);
        }
    }
}

impl Drop for Hubs {
    fn drop(&mut self) {
        if let Err(err) = self.checkpoints.flush() {
            tracing::warn!("checkpoints not written at shutdown (their events will be delivered again): {err}");
        }
    }
}

impl Checkpoints {
    fn lock(&self) -> std::sync::MutexGuard<'_, CheckpointTable> {
        self.table.lock().unwrap_or_else(|it| it.into_inner())
    }

    fn record(&self, path: PathBuf, sequence_number: i64) {
        let mut table = self.lock();
        table.known.insert(path.clone(), Some(sequence_number));
        table.unwritten.insert(path);
    }

    /// Writes every checkpoint recorded since the last flush. One that fails stays unwritten,
    /// so the next flush tries it again.
    fn flush(&self) -> Result<(), HubsError> {
        let _writing = self.writing.lock().unwrap_or_else(|it| it.into_inner());
        let pending: Vec<(PathBuf, i64)> = {
            let mut table = self.lock();
            let unwritten = std::mem::take(&mut table.unwritten);
            unwritten.into_iter().filter_map(|path| table.known.get(&path).copied().flatten().map(|seq| (path, seq))).collect()
        };
        let mut first_error = None;
        for (path, sequence_number) in pending {
            let text = serde_json::json!({ "sequenceNumber": sequence_number }).to_string();
            if let Err(err) = write_atomically_bytes(&path, text.as_bytes(), Sync::Lazy) {
                self.lock().unwritten.insert(path);
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Writes recorded checkpoints to their files every [`CHECKPOINT_FLUSH_INTERVAL`] until the
/// hubs are gone (their drop writes the rest).
async fn flush_checkpoints_periodically(checkpoints: std::sync::Weak<Checkpoints>) {
    let mut ticks = tokio::time::interval(CHECKPOINT_FLUSH_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(checkpoints) = checkpoints.upgrade() else { return };
        let flushed = tokio::task::spawn_blocking(move || checkpoints.flush()).await;
        if let Ok(Err(err)) = flushed {
            tracing::warn!("checkpoints not written yet (will retry): {err}");
        }
    }
}

impl Partition {
    fn open(name: String, log_path: &Path, checkpointed: Option<i64>) -> Result<Arc<Partition>, HubsError> {
        let (kept, next_sequence) = recover_log(log_path, checkpointed)?;
        let next_offset = std::fs::metadata(log_path).map(|it| it.len()).unwrap_or(0);
        let (end, _) = watch::channel(next_sequence);
        let (writer, appends) = mpsc::channel(GROUP_COMMIT_APPENDS_MAX);
        let partition = Arc::new(Partition { name, events: Mutex::new(kept.into_iter().map(Arc::new).collect()), end, writer });
        let file = open_append(log_path)?;
        let cursor = WriterCursor { next_sequence, next_offset, file: Arc::new(file), path: log_path.to_path_buf() };
        tokio::spawn(write_appends(Arc::clone(&partition), cursor, appends));
        Ok(partition)
    }

    /// The next sequence number to be assigned (so the last event is this minus one).
    pub fn end(&self) -> i64 {
        *self.end.borrow()
    }

    /// Waits until the partition holds an event with a sequence number of at least `from`.
    pub async fn wait_for(&self, from: i64) {
        let mut end = self.end.subscribe();
        let _ = end.wait_for(|end| *end > from).await;
    }

    /// Up to `max` events from sequence number `from` on, in order.
    pub fn read(&self, from: i64, max: usize) -> Vec<Arc<StoredEvent>> {
        let events = self.events.lock().unwrap_or_else(|it| it.into_inner());
        let first = match events.front() {
            Some(first) => first.sequence_number,
            None => return Vec::new(),
        };
        let skip = (from - first).max(0) as usize;
        events.iter().skip(skip).take(max).cloned().collect()
    }

    fn forget_through(&self, sequence_number: i64) {
        let mut events = self.events.lock().unwrap_or_else(|it| it.into_inner());
        while events.front().is_some_and(|it| it.sequence_number <= sequence_number) {
            events.pop_front();
        }
    }
}

struct WriterCursor {
    next_sequence: i64,
    next_offset: u64,
    /// Shared with the blocking thread that writes and syncs it.
    file: Arc<std::fs::File>,
    path: PathBuf,
}

/// The partition's single writer: takes every append waiting, writes them, syncs once, then
/// publishes them to consumers and acknowledges each.
async fn write_appends(partition: Arc<Partition>, mut cursor: WriterCursor, mut appends: mpsc::Receiver<Append>) {
    while let Some(mut group) = handler::group::recv_group(&mut appends, GROUP_COMMIT_APPENDS_MAX).await {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let (stored, bytes) = cursor.stamp(&mut group, now_ms);
        let (written, bytes) = write_and_sync(Arc::clone(&cursor.file), bytes).await;
        match written {
            Ok(()) => {
                cursor.advance(&stored, bytes.len());
                let n = stored.len() as i64;
                partition.events.lock().unwrap_or_else(|it| it.into_inner()).extend(stored.into_iter().map(Arc::new));
                partition.end.send_modify(|end| *end += n);
                for append in group {
                    let _ = append.done.send(Ok(()));
                }
            }
            Err(err) => {
                // Nothing is acknowledged, so the publishers retry; cut what may have been
                // written so the log holds no event twice.
                let reason = format!("{}: {err}", cursor.path.display());
                let _ = cursor.file.set_len(cursor.next_offset);
                for append in group {
                    let _ = append.done.send(Err(reason.clone()));
                }
            }
        }
    }
}

/// Appends `bytes` to the log and syncs it on a blocking thread: `block_in_place` here handed
/// the emulator's other tasks (the host, the edge, the load generator's) to another worker on
/// every append, which cost more latency than the sync itself.
async fn write_and_sync(file: Arc<std::fs::File>, bytes: Vec<u8>) -> (std::io::Result<()>, Vec<u8>) {
    let work = move || {
        let res = (&*file).write_all(&bytes).and_then(|()| file.sync_data());
        (res, bytes)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(err) => (Err(std::io::Error::other(err.to_string())), Vec::new()),
    }
}

impl WriterCursor {
    /// Assigns sequence numbers, offsets and the enqueue time, and renders the log lines; the
    /// cursor moves only once they are durable ([`WriterCursor::advance`]). The events are moved
    /// out of the appends, which keep only their answers.
    fn stamp(&self, group: &mut [Append], now_ms: i64) -> (Vec<StoredEvent>, Vec<u8>) {
        let mut stored = Vec::new();
        let mut bytes = Vec::new();
        let (mut sequence_number, mut offset) = (self.next_sequence, self.next_offset);
        for event in group.iter_mut().flat_map(|it| std::mem::take(&mut it.events)) {
            let record = StoredEvent { sequence_number, offset, enqueued_ms: now_ms, partition_key: event.partition_key, body: event.body };
            let line = log_line(&record);
            offset += line.len() as u64;
            sequence_number += 1;
            bytes.extend_from_slice(&line);
            stored.push(record);
        }
        (stored, bytes)
    }

    fn advance(&mut self, stored: &[StoredEvent], n_bytes: usize) {
        self.next_sequence += stored.len() as i64;
        self.next_offset += n_bytes as u64;
    }
}

fn log_line(event: &StoredEvent) -> Vec<u8> {
    let mut line = serde_json::to_vec(event).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Reads a partition log: the events after `checkpointed`, and the next sequence number. A torn
/// last line is cut off, and the file is rewritten without the checkpointed events.
fn recover_log(path: &Path, checkpointed: Option<i64>) -> Result<(Vec<StoredEvent>, i64), HubsError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(err) => return Err(io_error(path, err)),
    };
    let mut all = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<StoredEvent>(&line) {
            Ok(event) => all.push(event),
            // A line cut short by a crash ends the readable log.
            Err(_) => break,
        }
    }
    let next_sequence = all.last().map_or(0, |it| it.sequence_number + 1);
    let is_pending = |event: &StoredEvent| checkpointed.is_none_or(|done| event.sequence_number > done);
    // The file keeps the last event even when it is checkpointed: it carries the numbering on.
    let last = all.last().cloned();
    let kept: Vec<StoredEvent> = all.into_iter().filter(is_pending).collect();
    let on_disk: Vec<StoredEvent> = match (kept.is_empty(), last) {
        (true, Some(last)) => vec![last],
        _ => kept.clone(),
    };
    rewrite_log(path, &on_disk)?;
    Ok((kept, next_sequence))
}

/// Replaces the log with `events`, re-offset from 0.
fn rewrite_log(path: &Path, events: &[StoredEvent]) -> Result<(), HubsError> {
    let mut bytes = Vec::new();
    for event in events {
        let line = log_line(&StoredEvent { offset: bytes.len() as u64, ..event.clone() });
        bytes.extend_from_slice(&line);
    }
    write_atomically_bytes(path, &bytes, Sync::Durable)
}

fn open_append(path: &Path) -> Result<std::fs::File, HubsError> {
    std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|err| io_error(path, err))
}

/// A stable partition for a key (FNV-1a), so one key always lands on one partition. Azure uses
/// its own hash; only the stability matters for ordering.
pub fn partition_for_key(key: &str, n_partitions: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % n_partitions as u64) as usize
}

fn checkpoint_path(dir: &Path, hub: &str, group: &str, partition: u32) -> PathBuf {
    dir.join("checkpoints").join(hub).join(group).join(format!("{partition}.json"))
}

fn read_checkpoint(path: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("sequenceNumber")?.as_i64()
}

/// Whether a replaced file is synced before it takes the old one's place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// A log: what it holds must survive a crash.
    Durable,
    /// A checkpoint: losing the newest one in a crash only moves the restart point back, so its
    /// sync would only slow the syncs that matter (the ledger's commits, the hub appends).
    Lazy,
}

/// Writes `bytes` to a sibling temporary file, syncs it if asked, and renames it over `path`, so
/// a reader sees the old content or the new, never a mix.
fn write_atomically_bytes(path: &Path, bytes: &[u8], sync: Sync) -> Result<(), HubsError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary).map_err(|err| io_error(&temporary, err))?;
    file.write_all(bytes).map_err(|err| io_error(&temporary, err))?;
    if sync == Sync::Durable {
        file.sync_data().map_err(|err| io_error(&temporary, err))?;
    }
    std::fs::rename(&temporary, path).map_err(|err| io_error(path, err))
}

fn create_dir(dir: &Path) -> Result<(), HubsError> {
    std::fs::create_dir_all(dir).map_err(|err| io_error(dir, err))
}

fn io_error(path: &Path, err: std::io::Error) -> HubsError {
    HubsError::Io { path: path.to_path_buf(), reason: err.to_string() }
}

/// The ingestion endpoint the handler's local publisher posts to: `POST /hubs/{hub}/events`.
pub fn router(hubs: Arc<Hubs>) -> Router {
    Router::new().route("/hubs/{hub}/events", post(ingest)).with_state(hubs)
}

async fn ingest(State(hubs): State<Arc<Hubs>>, UrlPath(hub): UrlPath<String>, Json(request): Json<IngestRequest>) -> (StatusCode, String) {
    if let Some(large) = request.events.iter().find(|it| it.body.len() > EVENT_BYTES_MAX) {
        return (StatusCode::PAYLOAD_TOO_LARGE, format!("an event of {} bytes is over {EVENT_BYTES_MAX}", large.body.len()));
    }
    let events = request.events.into_iter().map(|it| NewEvent { partition_key: it.partition_key, body: it.body }).collect();
    match hubs.append(&hub, events).await {
        Ok(()) => (StatusCode::ACCEPTED, String::new()),
        Err(err @ HubsError::UnknownHub(_)) => (StatusCode::NOT_FOUND, err.to_string()),
        Err(err) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
    }
}

/// How far behind each consumer group is, per hub: events appended but not yet checkpointed.
pub fn backlog(hubs: &Hubs) -> HashMap<String, i64> {
    let mut lag = HashMap::new();
    for (hub, groups) in &hubs.consumer_groups {
        let n = hubs.partition_count(hub).unwrap_or(0);
        for group in groups {
            let behind: i64 = (0..n)
                .filter_map(|partition| {
                    let end = hubs.partition(hub, partition)?.end();
                    let done = hubs.checkpoint(hub, group, partition).map_or(0, |it| it + 1);
                    Some(end - done)
                })
                .sum();
            lag.insert(format!("{hub}/{group}"), behind);
        }
    }
    lag
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups() -> BTreeMap<String, Vec<String>> {
        BTreeMap::from([("hub-a".to_string(), vec!["cg-1".to_string(), "cg-2".to_string()])])
    }

    fn events(keys: &[&str]) -> Vec<NewEvent> {
        keys.iter().enumerate().map(|(n, key)| NewEvent { partition_key: Some(key.to_string()), body: format!("{key}-{n}") }).collect()
    }

    fn temporary_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("le_hubs_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_of_one_key_keep_their_order_on_one_partition() {
        let dir = temporary_dir();
        let hubs = Hubs::open(&dir, groups(), 4).unwrap();
        hubs.append("hub-a", events(&["k", "k", "k"])).await.unwrap();
        let partition = hubs.partition("hub-a", partition_for_key("k", 4) as u32).unwrap();
        let bodies: Vec<String> = partition.read(0, 10).iter().map(|it| it.body.clone()).collect();
        assert_eq!(bodies, ["k-0", "k-1", "k-2"]);
        assert!(matches!(hubs.append("no-such-hub", events(&["k"])).await, Err(HubsError::UnknownHub(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_restart_each_group_resumes_after_its_checkpoint() {
        let dir = temporary_dir();
        {
            let hubs = Hubs::open(&dir, groups(), 1).unwrap();
            hubs.append("hub-a", events(&["a", "b", "c", "d"])).await.unwrap();
            hubs.record_checkpoint("hub-a", "cg-1", 0, 2);
            hubs.record_checkpoint("hub-a", "cg-2", 0, 0);
        }
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(partition.end(), 4, "numbering survives the restart");
        let resume = |group: &str| hubs.checkpoint("hub-a", group, 0).map_or(0, |it| it + 1);
        let for_group_1: Vec<i64> = partition.read(resume("cg-1"), 10).iter().map(|it| it.sequence_number).collect();
        let for_group_2: Vec<i64> = partition.read(resume("cg-2"), 10).iter().map(|it| it.sequence_number).collect();
        assert_eq!(for_group_1, [3], "cg-1 gets what it had not checkpointed");
        assert_eq!(for_group_2, [1, 2, 3], "cg-2 too: nothing both had not processed is lost");

        // Once every group has everything, a restart keeps the numbering and nothing is redelivered.
        hubs.record_checkpoint("hub-a", "cg-1", 0, 3);
        hubs.record_checkpoint("hub-a", "cg-2", 0, 3);
        drop(hubs);
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(partition.end(), 4);
        assert!(partition.read(4, 10).is_empty());
        hubs.append("hub-a", events(&["e"])).await.unwrap();
        let next: Vec<(i64, String)> = partition.read(4, 10).iter().map(|it| (it.sequence_number, it.body.clone())).collect();
        assert_eq!(next, [(4, "e-0".to_string())]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_checkpoint_counts_at_once_and_reaches_its_file_within_the_flush_interval() {
        let dir = temporary_dir();
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        hubs.append("hub-a", events(&["a", "b"])).await.unwrap();
        hubs.record_checkpoint("hub-a", "cg-1", 0, 1);
        assert_eq!(hubs.checkpoint("hub-a", "cg-1", 0), Some(1), "in effect before it is on file");
        let file = checkpoint_path(&dir, "hub-a", "cg-1", 0);
        tokio::time::sleep(CHECKPOINT_FLUSH_INTERVAL * 5).await;
        assert_eq!(read_checkpoint(&file), Some(1), "on file while the hubs still run");
        hubs.record_checkpoint("hub-a", "cg-1", 0, 1);
        drop(hubs);
        assert_eq!(read_checkpoint(&file), Some(1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_line_torn_by_a_crash_is_cut_off() {
        let dir = temporary_dir();
        {
            let hubs = Hubs::open(&dir, groups(), 1).unwrap();
            hubs.append("hub-a", events(&["a", "b"])).await.unwrap();
        }
        let log = dir.join("hubs/hub-a/0.log");
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(br#"{"seq":2,"offset":999,"t":1,"key":"c","bo"#).unwrap();
        drop(file);
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(partition.end(), 2);
        hubs.append("hub-a", events(&["c"])).await.unwrap();
        let bodies: Vec<String> = partition.read(0, 10).iter().map(|it| it.body.clone()).collect();
        assert_eq!(bodies, ["a-0", "b-1", "c-0"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
