//! The Event Hubs stand-in: named hubs with a fixed number of partitions, one durable
//! append-only log in the data directory, partition-key hashing, and per-consumer-group
//! checkpoints. The Functions host stand-in reads from it; the handler publishes to it over HTTP
//! (`plumbing::publish::local` documents that wire protocol; [`router`] serves it).
//!
//! # Durability
//! Every partition of every hub appends to one file of JSON lines, `hubs/events.log`; each line
//! names its hub and partition. An append is acknowledged only after its lines are written and
//! `fsync`ed; appends that arrive while a sync is running, to any hub, are written and synced
//! together (group commit), so the whole namespace costs one sync per group. With a file per
//! partition every group cost a sync per partition, all at once, and syncs that pile up are what
//! stalls the disk (the load generator's README). A line torn by a crash is cut off when the log
//! is opened again. The logs of earlier versions, one per partition
//! (`hubs/<hub>/<partition>.log`), are moved into the shared log when it is opened (those of the
//! hubs and partitions the run has; others stay where they are).
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
//! Events every consumer group has checkpointed are dropped from memory; when the log is opened
//! the file is rewritten without them. (Azure keeps events for the hub's retention period instead;
//! nothing here reads behind a checkpoint.) Events of hubs or partitions the current
//! configuration does not have are kept as they are, for a later run that has them again.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use plumbing::publish::local::IngestRequest;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

/// Largest event body accepted, in bytes: the Standard tier's 1 MB limit (azure.md §2.1).
pub const EVENT_BYTES_MAX: usize = 1_048_576;
/// Most appends written and synced together by the log writer.
const GROUP_COMMIT_APPENDS_MAX: usize = 1024;
/// How long a checkpoint may live only in memory before it is written to its file.
pub const CHECKPOINT_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// The shared log's file, under the data directory.
const LOG_FILE: &str = "hubs/events.log";

/// Why the hubs could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HubsError {
    #[error("no event hub named `{0}`")]
    UnknownHub(String),
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("the log writer for {0} has stopped")]
    WriterStopped(String),
}

/// One stored event, as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Dense per partition, from 0.
    #[serde(rename = "seq")]
    pub sequence_number: i64,
    /// The event's byte position in the log (the log is compacted when opened, so it only grows
    /// within one run, and within a partition).
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

/// One line of the shared log: an event and the partition it belongs to. The writer borrows the
/// event's text; recovery reads owned text (serde gives `Cow` fields their owned form).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogLine<'a> {
    hub: Cow<'a, str>,
    #[serde(rename = "p")]
    partition: u32,
    #[serde(rename = "seq")]
    sequence_number: i64,
    offset: u64,
    #[serde(rename = "t")]
    enqueued_ms: i64,
    #[serde(rename = "key")]
    partition_key: Option<Cow<'a, str>>,
    body: Cow<'a, str>,
}

/// The hubs of one emulated namespace.
pub struct Hubs {
    dir: PathBuf,
    hubs: BTreeMap<String, Hub>,
    /// Consumer groups per hub, from the function.json files; retention waits for all of them.
    consumer_groups: BTreeMap<String, Vec<String>>,
    checkpoints: Arc<Checkpoints>,
    writer: mpsc::Sender<Append>,
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

/// One partition: the events not yet checkpointed by every consumer group.
pub struct Partition {
    hub: String,
    number: u32,
    events: Mutex<VecDeque<Arc<StoredEvent>>>,
    /// The next sequence number to be assigned; consumers wait on it, and only the log writer
    /// moves it, once the events before it are durable.
    end: watch::Sender<i64>,
}

/// Events for one or more partitions of one hub, acknowledged together.
struct Append {
    parts: Vec<(Arc<Partition>, Vec<NewEvent>)>,
    done: oneshot::Sender<Result<(), String>>,
}

impl Hubs {
    /// Opens (or creates) the hubs under `dir`: each hub in `consumer_groups` with `n_partitions`
    /// partitions. The log is read back and compacted past each partition's oldest checkpoint.
    pub fn open(dir: &Path, consumer_groups: BTreeMap<String, Vec<String>>, n_partitions: u32) -> Result<Hubs, HubsError> {
        let mut wanted = BTreeMap::new();
        for (hub, groups) in &consumer_groups {
            for partition in 0..n_partitions {
                let oldest_checkpoint = groups
                    .iter()
                    .map(|group| read_checkpoint(&checkpoint_path(dir, hub, group, partition)))
                    .min()
                    .unwrap_or(None);
                wanted.insert((hub.clone(), partition), oldest_checkpoint);
            }
        }
        let log_path = dir.join(LOG_FILE);
        let mut recovered = recover_log(dir, &log_path, &wanted)?;
        let mut hubs = BTreeMap::new();
        for hub in consumer_groups.keys() {
            let partitions = (0..n_partitions)
                .map(|number| {
                    let (kept, next_sequence) = recovered.remove(&(hub.clone(), number)).unwrap_or_default();
                    let (end, _) = watch::channel(next_sequence);
                    let events = Mutex::new(kept.into_iter().map(Arc::new).collect());
                    Arc::new(Partition { hub: hub.clone(), number, events, end })
                })
                .collect();
            hubs.insert(hub.clone(), Hub { partitions, round_robin: AtomicU64::new(0) });
        }
        let file = open_append(&log_path)?;
        let next_offset = file.metadata().map_err(|err| io_error(&log_path, err))?.len();
        let (writer, appends) = mpsc::channel(GROUP_COMMIT_APPENDS_MAX);
        tokio::spawn(write_appends(LogWriter { file: Arc::new(file), path: log_path, next_offset }, appends));
        let checkpoints = Arc::new(Checkpoints::default());
        tokio::spawn(flush_checkpoints_periodically(Arc::downgrade(&checkpoints)));
        Ok(Hubs { dir: dir.to_path_buf(), hubs, consumer_groups, checkpoints, writer })
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
        let parts = per_partition.into_iter().map(|(index, events)| (Arc::clone(&target.partitions[index]), events)).collect();
        let (done, answer) = oneshot::channel();
        let stopped = || HubsError::WriterStopped(self.dir.join(LOG_FILE).display().to_string());
        self.writer.send(Append { parts, done }).await.map_err(|_| stopped())?;
        let written = answer.await.map_err(|_| stopped())?;
        written.map_err(|reason| HubsError::Io { path: self.dir.join(LOG_FILE), reason })
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

    /// Hands durable events to consumers.
    fn publish(&self, stored: Vec<StoredEvent>) {
        let n = stored.len() as i64;
        self.events.lock().unwrap_or_else(|it| it.into_inner()).extend(stored.into_iter().map(Arc::new));
        self.end.send_modify(|end| *end += n);
    }
}

/// The shared log's single writer: where the next line goes.
struct LogWriter {
    /// Shared with the blocking thread that writes and syncs it.
    file: Arc<std::fs::File>,
    path: PathBuf,
    next_offset: u64,
}

/// Events stamped for one partition in one group, not yet durable.
struct Stamped {
    partition: Arc<Partition>,
    events: Vec<StoredEvent>,
}

/// The log's single writer: takes every append waiting, for any hub, writes them, syncs once,
/// then publishes them to consumers and acknowledges each.
async fn write_appends(mut log: LogWriter, mut appends: mpsc::Receiver<Append>) {
    while let Some(mut group) = plumbing::group::recv_group(&mut appends, GROUP_COMMIT_APPENDS_MAX).await {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let (stamped, bytes) = log.stamp(&mut group, now_ms);
        let (written, bytes) = write_and_sync(Arc::clone(&log.file), bytes).await;
        match written {
            Ok(()) => {
                log.next_offset += bytes.len() as u64;
                for Stamped { partition, events } in stamped {
                    partition.publish(events);
                }
                for append in group {
                    let _ = append.done.send(Ok(()));
                }
            }
            Err(err) => {
                // Nothing is acknowledged, so the publishers retry; cut what may have been
                // written so the log holds no event twice.
                let reason = format!("{}: {err}", log.path.display());
                let _ = log.file.set_len(log.next_offset);
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

impl LogWriter {
    /// Assigns sequence numbers (following each partition's durable end and what this group
    /// gave it before), offsets and the enqueue time, and renders the log lines; nothing moves
    /// until they are durable. The events are moved out of the appends, which keep only their
    /// answers.
    fn stamp(&self, group: &mut [Append], now_ms: i64) -> (Vec<Stamped>, Vec<u8>) {
        let mut stamped: Vec<Stamped> = Vec::new();
        let mut bytes = Vec::new();
        for (partition, events) in group.iter_mut().flat_map(|it| std::mem::take(&mut it.parts)) {
            let slot = match stamped.iter().position(|it| Arc::ptr_eq(&it.partition, &partition)) {
                Some(slot) => slot,
                None => {
                    stamped.push(Stamped { partition, events: Vec::new() });
                    stamped.len() - 1
                }
            };
            let Stamped { partition, events: stored } = &mut stamped[slot];
            for event in events {
                let record = StoredEvent {
                    sequence_number: partition.end() + stored.len() as i64,
                    offset: self.next_offset + bytes.len() as u64,
                    enqueued_ms: now_ms,
                    partition_key: event.partition_key,
                    body: event.body,
                };
                write_line(&mut bytes, &partition.hub, partition.number, &record);
                stored.push(record);
            }
        }
        (stamped, bytes)
    }
}

/// Renders `event` of `hub`'s `partition` as one log line onto `bytes`.
fn write_line(bytes: &mut Vec<u8>, hub: &str, partition: u32, event: &StoredEvent) {
    let line = LogLine {
        hub: Cow::Borrowed(hub),
        partition,
        sequence_number: event.sequence_number,
        offset: event.offset,
        enqueued_ms: event.enqueued_ms,
        partition_key: event.partition_key.as_deref().map(Cow::Borrowed),
        body: Cow::Borrowed(&event.body),
    };
    if serde_json::to_writer(&mut *bytes, &line).is_ok() {
        bytes.push(b'\n');
    }
}

/// What a partition gets back from the log when it is opened: its events after its oldest
/// checkpoint, and its next sequence number.
type Recovered = (Vec<StoredEvent>, i64);

/// Reads the shared log (and any per-partition log of an earlier version) back: for each of the
/// `wanted` partitions (with its oldest checkpoint), its events after that checkpoint and its next
/// sequence number. A torn last line is cut off; the log is rewritten without the checkpointed
/// events (each partition keeps its last, which carries the numbering on) and re-offset from 0,
/// and the earlier version's logs are removed once it is.
fn recover_log(dir: &Path, log_path: &Path, wanted: &BTreeMap<(String, u32), Option<i64>>) -> Result<BTreeMap<(String, u32), Recovered>, HubsError> {
    let mut by_partition: BTreeMap<(String, u32), BTreeMap<i64, StoredEvent>> = BTreeMap::new();
    let earlier_logs: Vec<(&(String, u32), PathBuf)> =
        wanted.keys().map(|key| (key, earlier_log_path(dir, &key.0, key.1))).filter(|(_, path)| path.exists()).collect();
    for (key, path) in &earlier_logs {
        let events = read_lines::<StoredEvent>(path)?;
        by_partition.entry((*key).clone()).or_default().extend(events.into_iter().map(|it| (it.sequence_number, it)));
    }
    // Lines of the shared log win over an earlier version's copy of the same event (a crash
    // between the move and the removal leaves both).
    for line in read_lines::<LogLine<'static>>(log_path)? {
        let event = StoredEvent {
            sequence_number: line.sequence_number,
            offset: line.offset,
            enqueued_ms: line.enqueued_ms,
            partition_key: line.partition_key.map(Cow::into_owned),
            body: line.body.into_owned(),
        };
        by_partition.entry((line.hub.into_owned(), line.partition)).or_default().insert(event.sequence_number, event);
    }
    let mut bytes = Vec::new();
    let mut recovered = BTreeMap::new();
    for ((hub, partition), events) in by_partition {
        let next_sequence = events.keys().next_back().map_or(0, |last| last + 1);
        // A partition the configuration lacks keeps every event, for a run that has it again.
        let checkpointed = wanted.get(&(hub.clone(), partition)).copied().flatten();
        let is_pending = |seq: i64| checkpointed.is_none_or(|done| seq > done);
        let mut kept = Vec::new();
        for (seq, event) in &events {
            let is_last = *seq + 1 == next_sequence;
            if is_pending(*seq) || is_last {
                let event = StoredEvent { offset: bytes.len() as u64, ..event.clone() };
                write_line(&mut bytes, &hub, partition, &event);
                if is_pending(*seq) {
                    kept.push(event);
                }
            }
        }
        recovered.insert((hub, partition), (kept, next_sequence));
    }
    write_atomically_bytes(log_path, &bytes, Sync::Durable)?;
    if !earlier_logs.is_empty() {
        // The moved events must be on file under their new name before the old files go.
        sync_directory(log_path)?;
    }
    for (_, earlier) in earlier_logs {
        std::fs::remove_file(&earlier).map_err(|err| io_error(&earlier, err))?;
    }
    Ok(recovered)
}

/// Every whole line of a JSON-lines file, in order, up to the first that does not parse (a line
/// cut short by a crash ends the readable log); nothing when the file does not exist.
fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, HubsError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io_error(path, err)),
    };
    let mut all = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<T>(&line) {
            Ok(item) => all.push(item),
            Err(_) => break,
        }
    }
    Ok(all)
}

/// Where an earlier version kept `hub`'s `partition`.
fn earlier_log_path(dir: &Path, hub: &str, partition: u32) -> PathBuf {
    dir.join("hubs").join(hub).join(format!("{partition}.log"))
}

fn sync_directory(path: &Path) -> Result<(), HubsError> {
    let Some(parent) = path.parent() else { return Ok(()) };
    std::fs::File::open(parent).and_then(|it| it.sync_all()).map_err(|err| io_error(parent, err))
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
        BTreeMap::from([("hub-a".to_string(), vec!["cg-1".to_string(), "cg-2".to_string()]), ("hub-b".to_string(), vec!["cg-1".to_string()])])
    }

    fn events(keys: &[&str]) -> Vec<NewEvent> {
        keys.iter().enumerate().map(|(n, key)| NewEvent { partition_key: Some(key.to_string()), body: format!("{key}-{n}") }).collect()
    }

    fn bodies(partition: &Partition, from: i64) -> Vec<String> {
        partition.read(from, 100).iter().map(|it| it.body.clone()).collect()
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
        assert_eq!(bodies(&partition, 0), ["k-0", "k-1", "k-2"]);
        assert!(matches!(hubs.append("no-such-hub", events(&["k"])).await, Err(HubsError::UnknownHub(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_to_several_hubs_share_the_log_and_number_each_partition_densely() {
        let dir = temporary_dir();
        let hubs = Arc::new(Hubs::open(&dir, groups(), 2).unwrap());
        let appends: Vec<_> = (0..40)
            .map(|n| {
                let hubs = Arc::clone(&hubs);
                let hub = if n % 2 == 0 { "hub-a" } else { "hub-b" };
                tokio::spawn(async move { hubs.append(hub, vec![NewEvent { partition_key: Some(format!("key-{}", n % 5)), body: format!("{n}") }]).await })
            })
            .collect();
        for append in appends {
            append.await.unwrap().unwrap();
        }
        let mut total = 0;
        for hub in ["hub-a", "hub-b"] {
            for number in 0..2 {
                let partition = hubs.partition(hub, number).unwrap();
                let numbers: Vec<i64> = partition.read(0, 100).iter().map(|it| it.sequence_number).collect();
                assert_eq!(numbers, (0..partition.end()).collect::<Vec<_>>(), "{hub}/{number} is numbered from 0 without gaps");
                total += numbers.len();
            }
        }
        assert_eq!(total, 40);
        let lines = read_lines::<LogLine<'static>>(&dir.join(LOG_FILE)).unwrap();
        assert_eq!(lines.len(), 40, "one file holds every hub's events");
        assert!(lines.windows(2).all(|it| it[0].offset < it[1].offset));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_restart_each_group_resumes_after_its_checkpoint() {
        let dir = temporary_dir();
        {
            let hubs = Hubs::open(&dir, groups(), 1).unwrap();
            hubs.append("hub-a", events(&["a", "b", "c", "d"])).await.unwrap();
            hubs.append("hub-b", events(&["x"])).await.unwrap();
            hubs.record_checkpoint("hub-a", "cg-1", 0, 2);
            hubs.record_checkpoint("hub-a", "cg-2", 0, 0);
            hubs.record_checkpoint("hub-b", "cg-1", 0, 0);
        }
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(partition.end(), 4, "numbering survives the restart");
        let resume = |group: &str| hubs.checkpoint("hub-a", group, 0).map_or(0, |it| it + 1);
        let for_group_1: Vec<i64> = partition.read(resume("cg-1"), 10).iter().map(|it| it.sequence_number).collect();
        let for_group_2: Vec<i64> = partition.read(resume("cg-2"), 10).iter().map(|it| it.sequence_number).collect();
        assert_eq!(for_group_1, [3], "cg-1 gets what it had not checkpointed");
        assert_eq!(for_group_2, [1, 2, 3], "cg-2 too: nothing both had not processed is lost");
        assert_eq!(hubs.partition("hub-b", 0).unwrap().end(), 1, "the other hub's numbering too");
        assert!(bodies(&hubs.partition("hub-b", 0).unwrap(), 0).is_empty(), "its checkpointed event is not delivered again");

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
        assert_eq!(read_lines::<LogLine<'static>>(&dir.join(LOG_FILE)).unwrap().len(), 3, "compacted to each partition's last event, and the new one");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_partition_left_out_of_a_run_keeps_its_events_for_the_next() {
        let dir = temporary_dir();
        let key_on_1 = (0..).map(|n| format!("k{n}")).find(|key| partition_for_key(key, 2) == 1).unwrap();
        {
            let hubs = Hubs::open(&dir, groups(), 2).unwrap();
            hubs.append("hub-a", events(&[&key_on_1])).await.unwrap();
        }
        drop(Hubs::open(&dir, groups(), 1).unwrap());
        let hubs = Hubs::open(&dir, groups(), 2).unwrap();
        assert_eq!(bodies(&hubs.partition("hub-a", 1).unwrap(), 0), [format!("{key_on_1}-0")]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_earlier_versions_partition_logs_move_into_the_shared_log() {
        let dir = temporary_dir();
        let earlier = earlier_log_path(&dir, "hub-a", 0);
        std::fs::create_dir_all(earlier.parent().unwrap()).unwrap();
        let line = |seq: i64, body: &str| serde_json::to_string(&StoredEvent { sequence_number: seq, offset: 0, enqueued_ms: 1, partition_key: None, body: body.to_string() }).unwrap() + "\n";
        std::fs::write(&earlier, line(5, "old-5") + &line(6, "old-6")).unwrap();
        {
            let hubs = Hubs::open(&dir, groups(), 1).unwrap();
            let partition = hubs.partition("hub-a", 0).unwrap();
            assert_eq!(bodies(&partition, 0), ["old-5", "old-6"]);
            assert_eq!(partition.end(), 7);
            assert!(!earlier.exists(), "the old file is gone once its events are in the shared log");
            hubs.append("hub-a", events(&["new"])).await.unwrap();
        }
        // A crash between the move and the removal leaves both: each event still counts once.
        std::fs::write(&earlier, line(6, "old-6")).unwrap();
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(bodies(&partition, 0), ["old-5", "old-6", "new-0"]);
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
        let log = dir.join(LOG_FILE);
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(br#"{"hub":"hub-a","p":0,"seq":2,"offset":999,"t":1,"key":"c","bo"#).unwrap();
        drop(file);
        let hubs = Hubs::open(&dir, groups(), 1).unwrap();
        let partition = hubs.partition("hub-a", 0).unwrap();
        assert_eq!(partition.end(), 2);
        hubs.append("hub-a", events(&["c"])).await.unwrap();
        assert_eq!(bodies(&partition, 0), ["a-0", "b-1", "c-0"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
