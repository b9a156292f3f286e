//! Per-consumer-group checkpoints: in effect in memory at once, written to their files (a
//! temporary file renamed over each, not synced) within [`CHECKPOINT_FLUSH_INTERVAL`] and when
//! the hubs are dropped. The module documentation of `hubs` says why they are not synced.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::event::HubsError;
use super::files::{write_atomically_bytes, Sync};

/// How long a checkpoint may live only in memory before it is written to its file.
pub const CHECKPOINT_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Every consumer group's checkpoints as last recorded (or read), keyed by their file, and which
/// of them the files do not hold yet.
#[derive(Default)]
pub(super) struct Checkpoints {
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

impl Checkpoints {
    /// Empty checkpoints, flushed every [`CHECKPOINT_FLUSH_INTERVAL`] for as long as they live.
    pub(super) fn start() -> Arc<Checkpoints> {
        let checkpoints = Arc::new(Checkpoints::default());
        tokio::spawn(flush_checkpoints_periodically(Arc::downgrade(&checkpoints)));
        checkpoints
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CheckpointTable> {
        self.table.lock().unwrap_or_else(|it| it.into_inner())
    }

    /// The checkpoint recorded at `path`, read from its file the first time it is asked for.
    pub(super) fn get(&self, path: PathBuf) -> Option<i64> {
        let mut table = self.lock();
        *table.known.entry(path).or_insert_with_key(|path| read_checkpoint(path))
    }

    /// Records a checkpoint: it counts at once and reaches its file at the next flush.
    pub(super) fn record(&self, path: PathBuf, sequence_number: i64) {
        let mut table = self.lock();
        table.known.insert(path.clone(), Some(sequence_number));
        table.unwritten.insert(path);
    }

    /// Writes every checkpoint recorded since the last flush. One that fails stays unwritten,
    /// so the next flush tries it again.
    pub(super) fn flush(&self) -> Result<(), HubsError> {
        let _writing = self.writing.lock().unwrap_or_else(|it| it.into_inner());
        let pending: Vec<(PathBuf, i64)> = {
            let mut table = self.lock();
            let unwritten = std::mem::take(&mut table.unwritten);
            unwritten
                .into_iter()
                .filter_map(|path| table.known.get(&path).copied().flatten().map(|seq| (path, seq)))
                .collect()
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

/// Where `group` keeps its checkpoint of `hub`'s `partition`.
pub(super) fn checkpoint_path(dir: &Path, hub: &str, group: &str, partition: u32) -> PathBuf {
    dir.join("checkpoints").join(hub).join(group).join(format!("{partition}.json"))
}

/// The checkpoint on file at `path`; none when the file is missing or unreadable, and the group
/// then starts from the oldest retained event.
pub(super) fn read_checkpoint(path: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("sequenceNumber")?.as_i64()
}
