//! The durable log every partition of every hub appends to (`hubs/events.log`, JSON lines):
//! its single writer, which writes and syncs every waiting append together (group commit) and
//! only then hands the events to consumers, and its recovery and compaction when it is opened.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::event::{io_error, HubsError, NewEvent, StoredEvent};
use super::files::{write_atomically_bytes, Sync};
use super::partition::Partition;

/// Most appends written and synced together by the log writer.
const GROUP_COMMIT_APPENDS_MAX: usize = 1024;
/// The shared log's file, under the data directory.
pub(super) const LOG_FILE: &str = "hubs/events.log";

/// One line of the shared log: an event and the partition it belongs to. The writer borrows the
/// event's text; recovery reads owned text (serde gives `Cow` fields their owned form).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct LogLine<'a> {
    hub: Cow<'a, str>,
    #[serde(rename = "p")]
    partition: u32,
    #[serde(rename = "seq")]
    sequence_number: i64,
    pub(super) offset: u64,
    #[serde(rename = "t")]
    enqueued_ms: i64,
    #[serde(rename = "key")]
    partition_key: Option<Cow<'a, str>>,
    body: Cow<'a, str>,
}

/// Events for one or more partitions of one hub, acknowledged together.
pub(super) struct Append {
    pub(super) parts: Vec<(Arc<Partition>, Vec<NewEvent>)>,
    pub(super) done: oneshot::Sender<Result<(), String>>,
}

/// Opens the shared log at `path` for appending and starts its single writer, which takes
/// appends from the returned sender until every sender is gone.
pub(super) fn start_writer(path: PathBuf) -> Result<mpsc::Sender<Append>, HubsError> {
    let file = open_append(&path)?;
    let next_offset = file.metadata().map_err(|err| io_error(&path, err))?.len();
    let (writer, appends) = mpsc::channel(GROUP_COMMIT_APPENDS_MAX);
    tokio::spawn(write_appends(LogWriter { file: Arc::new(file), path, next_offset }, appends));
    Ok(writer)
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
pub(super) type Recovered = (Vec<StoredEvent>, i64);

/// Reads the shared log (and any per-partition log of an earlier version) back: for each of the
/// `wanted` partitions (with its oldest checkpoint), its events after that checkpoint and its next
/// sequence number. A torn last line is cut off; the log is rewritten without the checkpointed
/// events (each partition keeps its last, which carries the numbering on) and re-offset from 0,
/// and the earlier version's logs are removed once it is.
pub(super) fn recover_log(
    dir: &Path,
    log_path: &Path,
    wanted: &BTreeMap<(String, u32), Option<i64>>,
) -> Result<BTreeMap<(String, u32), Recovered>, HubsError> {
    let mut by_partition: BTreeMap<(String, u32), BTreeMap<i64, StoredEvent>> = BTreeMap::new();
    let earlier_logs: Vec<(&(String, u32), PathBuf)> = wanted
        .keys()
        .map(|key| (key, earlier_log_path(dir, &key.0, key.1)))
        .filter(|(_, path)| path.exists())
        .collect();
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
pub(super) fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, HubsError> {
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
pub(super) fn earlier_log_path(dir: &Path, hub: &str, partition: u32) -> PathBuf {
    dir.join("hubs").join(hub).join(format!("{partition}.log"))
}

fn sync_directory(path: &Path) -> Result<(), HubsError> {
    let Some(parent) = path.parent() else { return Ok(()) };
    std::fs::File::open(parent).and_then(|it| it.sync_all()).map_err(|err| io_error(parent, err))
}

fn open_append(path: &Path) -> Result<std::fs::File, HubsError> {
    std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|err| io_error(path, err))
}
