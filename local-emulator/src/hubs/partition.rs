//! One partition of a hub: its events in memory until every consumer group has checkpointed
//! them, and the durable end its consumers wait on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::event::StoredEvent;

/// One partition: the events not yet checkpointed by every consumer group.
pub struct Partition {
    pub(super) hub: String,
    pub(super) number: u32,
    events: Mutex<VecDeque<Arc<StoredEvent>>>,
    /// The next sequence number to be assigned; consumers wait on it, and only the log writer
    /// moves it, once the events before it are durable.
    end: watch::Sender<i64>,
}

impl Partition {
    /// A partition of `hub` holding the events `kept` from the log, numbered on from
    /// `next_sequence`.
    pub(super) fn new(hub: String, number: u32, kept: Vec<StoredEvent>, next_sequence: i64) -> Partition {
        let (end, _) = watch::channel(next_sequence);
        let events = Mutex::new(kept.into_iter().map(Arc::new).collect());
        Partition { hub, number, events, end }
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

    /// Drops the events up to and including `sequence_number`, which every consumer group has
    /// checkpointed.
    pub(super) fn forget_through(&self, sequence_number: i64) {
        let mut events = self.events.lock().unwrap_or_else(|it| it.into_inner());
        while events.front().is_some_and(|it| it.sequence_number <= sequence_number) {
            events.pop_front();
        }
    }

    /// Hands durable events to consumers.
    pub(super) fn publish(&self, stored: Vec<StoredEvent>) {
        let n = stored.len() as i64;
        self.events.lock().unwrap_or_else(|it| it.into_inner()).extend(stored.into_iter().map(Arc::new));
        self.end.send_modify(|end| *end += n);
    }
}
