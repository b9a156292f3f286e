//! The hubs of one emulated namespace: which hubs and partitions exist, where an event goes
//! (partition-key hashing or round robin), and each consumer group's checkpoints, with the
//! retention they drive.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::checkpoints::{checkpoint_path, read_checkpoint, Checkpoints};
use super::event::{HubsError, NewEvent};
use super::log::{recover_log, start_writer, Append, LOG_FILE};
use super::partition::Partition;

/// The hubs of one emulated namespace.
pub struct Hubs {
    dir: PathBuf,
    hubs: BTreeMap<String, Hub>,
    /// Consumer groups per hub, from the function.json files; retention waits for all of them.
    consumer_groups: BTreeMap<String, Vec<String>>,
    checkpoints: Arc<Checkpoints>,
    writer: mpsc::Sender<Append>,
}

struct Hub {
    partitions: Vec<Arc<Partition>>,
    round_robin: AtomicU64,
}

impl Hubs {
    /// Opens (or creates) the hubs under `dir`: each hub in `consumer_groups` with `n_partitions`
    /// partitions. The log is read back and compacted past each partition's oldest checkpoint.
    pub fn open(
        dir: &Path,
        consumer_groups: BTreeMap<String, Vec<String>>,
        n_partitions: u32,
    ) -> Result<Hubs, HubsError> {
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
                    Arc::new(Partition::new(hub.clone(), number, kept, next_sequence))
                })
                .collect();
            hubs.insert(hub.clone(), Hub { partitions, round_robin: AtomicU64::new(0) });
        }
        let writer = start_writer(log_path)?;
        let checkpoints = Checkpoints::start();
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
        let parts =
            per_partition.into_iter().map(|(index, events)| (Arc::clone(&target.partitions[index]), events)).collect();
        let (done, answer) = oneshot::channel();
        let stopped = || HubsError::WriterStopped(self.dir.join(LOG_FILE).display().to_string());
        self.writer.send(Append { parts, done }).await.map_err(|_| stopped())?;
        let written = answer.await.map_err(|_| stopped())?;
        written.map_err(|reason| HubsError::Io { path: self.dir.join(LOG_FILE), reason })
    }

    /// The last sequence number `group` has checkpointed on `hub`'s `partition`, if any.
    pub fn checkpoint(&self, hub: &str, group: &str, partition: u32) -> Option<i64> {
        let path = checkpoint_path(&self.dir, hub, group, partition);
        self.checkpoints.get(path)
    }

    /// Records that `group` has processed `hub`'s `partition` up to `sequence_number` (its file
    /// follows within [`CHECKPOINT_FLUSH_INTERVAL`]), then drops from memory what every group of
    /// the hub has processed.
    ///
    /// [`CHECKPOINT_FLUSH_INTERVAL`]: super::checkpoints::CHECKPOINT_FLUSH_INTERVAL
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
