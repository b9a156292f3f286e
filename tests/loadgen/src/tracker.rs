//! What is in flight and what happened: transfers between their POST and their final callback to
//! the payer, latency histograms (HDR, integer microseconds) overall and per second, and errors
//! by FSPIOP code.
//!
//! The in-flight table is sharded by transfer index so the callback server's threads and the
//! sender rarely meet on one lock; the recorder is one lock held only to add a sample.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;

/// Shards of the in-flight table (a power of two: the index's low bits pick the shard).
const SHARDS: usize = 64;
/// The largest latency a histogram holds, in microseconds (one hour); longer ones are clamped.
pub const LATENCY_US_MAX: u64 = 3_600_000_000;
/// Significant digits of the overall histogram, and of the per-second ones.
const PRECISION_TOTAL: u8 = 3;
const PRECISION_SECOND: u8 = 2;
/// Seconds of timeline kept, a bound on the per-second table (a day and a drain).
const TIMELINE_SECONDS_MAX: usize = 24 * 3600 + 3600;

const _: () = assert!(SHARDS.is_power_of_two());

/// The code recorded when a request got no HTTP answer at all.
pub const TRANSPORT_ERROR: &str = "transport";

/// One transfer between its POST and its end.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    /// When it was sent (or, in the open loop, scheduled), since the run started.
    start_ns: u64,
    payer: u32,
}

/// How a transfer ended, as far as its payer was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Committed,
    /// An FSPIOP error code (from an error callback or a synchronous answer), or another
    /// reason such as [`TRANSPORT_ERROR`] or `state:ABORTED`.
    Failed(String),
}

/// Live counters, read by the progress line without taking any lock.
#[derive(Debug, Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub committed: AtomicU64,
    pub failed: AtomicU64,
    /// Prepares received as payee, and answers sent to them.
    pub payee_prepares: AtomicU64,
    /// Callbacks that matched no transfer in flight (late duplicates, confirmations to payees).
    pub other_callbacks: AtomicU64,
    /// Transfers not sent because [`crate::options::IN_FLIGHT_MAX`] were in flight.
    pub not_sent: AtomicU64,
}

/// Per-second figures, by the second a transfer ended in.
pub struct Second {
    pub committed: u64,
    pub failed: u64,
    pub latency: Histogram<u64>,
}

/// Everything measured.
pub struct Recorder {
    pub latency: Histogram<u64>,
    pub timeline: Vec<Second>,
    pub errors_by_code: BTreeMap<String, u64>,
    /// A payee's PUT answered with an error status (the transfer then ends otherwise).
    pub payee_answer_errors: BTreeMap<String, u64>,
    pub committed_measured: u64,
    pub failed_measured: u64,
    pub committed_warmup: u64,
    pub failed_warmup: u64,
    /// When the last measured transfer ended, since the run started.
    pub last_end_ns: u64,
}

/// The shared state of one run.
pub struct Tracker {
    shards: Vec<Mutex<HashMap<u64, InFlight>>>,
    in_flight: AtomicUsize,
    recorder: Mutex<Recorder>,
    /// The closed loop's free slots; `None` in the open loop.
    permits: Option<Arc<Semaphore>>,
    pub counters: Counters,
    pub started: Instant,
    warmup_ns: u64,
}

impl Tracker {
    pub fn new(started: Instant, warmup: std::time::Duration, permits: Option<Arc<Semaphore>>) -> Tracker {
        Tracker {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            in_flight: AtomicUsize::new(0),
            recorder: Mutex::new(Recorder::new()),
            permits,
            counters: Counters::default(),
            started,
            warmup_ns: warmup.as_nanos() as u64,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Nanoseconds since the run started.
    pub fn since_start_ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_nanos() as u64
    }

    /// Records that transfer `index` from `payer` is being sent; call before the POST, since its
    /// callbacks can arrive before the POST's answer.
    pub fn begin(&self, index: u64, payer: u32, start: Instant) {
        let entry = InFlight { start_ns: self.since_start_ns(start), payer };
        let previous = lock(&self.shards[shard(index)]).insert(index, entry);
        assert!(previous.is_none(), "transfer index {index} sent twice");
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends transfer `index` if it is in flight and, when `recipient` is given, that DFSP is its
    /// payer. Whether it ended here (later duplicates and callbacks to the payee do not).
    pub fn finish(&self, index: u64, recipient: Option<u32>, outcome: Outcome, now: Instant) -> bool {
        let ended = {
            let mut shard = lock(&self.shards[shard(index)]);
            match shard.get(&index) {
                Some(entry) if recipient.is_none_or(|it| it == entry.payer) => shard.remove(&index),
                _ => None,
            }
        };
        let Some(entry) = ended else {
            self.counters.other_callbacks.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let end_ns = self.since_start_ns(now);
        let counter = if outcome == Outcome::Committed { &self.counters.committed } else { &self.counters.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        let measured = self.warmup_ns <= entry.start_ns;
        lock(&self.recorder).record(entry.start_ns, end_ns, measured, outcome);
        if let Some(permits) = &self.permits {
            permits.add_permits(1);
        }
        true
    }

    pub fn payee_answer_failed(&self, reason: String) {
        *lock(&self.recorder).payee_answer_errors.entry(reason).or_default() += 1;
    }

    /// The figures so far (a lock on the recorder: for the end of the run and the progress line).
    pub fn recorder(&self) -> MutexGuard<'_, Recorder> {
        lock(&self.recorder)
    }
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            latency: histogram(PRECISION_TOTAL),
            timeline: Vec::new(),
            errors_by_code: BTreeMap::new(),
            payee_answer_errors: BTreeMap::new(),
            committed_measured: 0,
            failed_measured: 0,
            committed_warmup: 0,
            failed_warmup: 0,
            last_end_ns: 0,
        }
    }

    fn record(&mut self, start_ns: u64, end_ns: u64, measured: bool, outcome: Outcome) {
        let latency_us = (end_ns.saturating_sub(start_ns) / 1000).clamp(1, LATENCY_US_MAX);
        let second = (end_ns / 1_000_000_000) as usize;
        if second < TIMELINE_SECONDS_MAX {
            while self.timeline.len() <= second {
                self.timeline.push(Second { committed: 0, failed: 0, latency: histogram(PRECISION_SECOND) });
            }
        }
        let slot = self.timeline.get_mut(second);
        match (outcome, measured) {
            (Outcome::Committed, true) => {
                self.committed_measured += 1;
                self.latency.saturating_record(latency_us);
                self.last_end_ns = self.last_end_ns.max(end_ns);
                if let Some(slot) = slot {
                    slot.committed += 1;
                    slot.latency.saturating_record(latency_us);
                }
            }
            (Outcome::Committed, false) => self.committed_warmup += 1,
            (Outcome::Failed(code), measured) => {
                match measured {
                    true => self.failed_measured += 1,
                    false => self.failed_warmup += 1,
                }
                *self.errors_by_code.entry(code).or_default() += 1;
                if let Some(slot) = slot {
                    slot.failed += 1;
                }
            }
        }
    }
}

pub(crate) fn histogram(precision: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, precision).expect("valid histogram bounds")
}

fn shard(index: u64) -> usize {
    (index as usize) & (SHARDS - 1)
}

/// A poisoned lock still holds sound counts: a panicking recorder leaves no half-written entry.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|it| it.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_payer_ends_a_transfer_and_only_once() {
        let started = Instant::now();
        let permits = Arc::new(Semaphore::new(0));
        let tracker = Tracker::new(started, Duration::ZERO, Some(Arc::clone(&permits)));
        tracker.begin(5, 1, started);
        let later = started + Duration::from_millis(12);
        assert!(!tracker.finish(5, Some(2), Outcome::Committed, later), "a confirmation to the payee");
        assert!(tracker.finish(5, Some(1), Outcome::Committed, later));
        assert!(!tracker.finish(5, Some(1), Outcome::Committed, later), "a late duplicate");
        assert_eq!(permits.available_permits(), 1);
        assert_eq!(tracker.in_flight(), 0);
        let recorder = tracker.recorder();
        assert_eq!(recorder.committed_measured, 1);
        assert_eq!(recorder.latency.value_at_quantile(0.5) / 1000, 12);
        assert_eq!(recorder.timeline.len(), 1);
    }

    #[test]
    fn warmup_transfers_are_counted_apart_and_errors_by_code() {
        let started = Instant::now();
        let tracker = Tracker::new(started, Duration::from_secs(1), None);
        tracker.begin(1, 0, started);
        tracker.begin(2, 0, started + Duration::from_secs(2));
        tracker.begin(3, 0, started + Duration::from_secs(2));
        let end = started + Duration::from_secs(3);
        tracker.finish(1, None, Outcome::Committed, end);
        tracker.finish(2, None, Outcome::Failed("4001".into()), end);
        tracker.finish(3, None, Outcome::Committed, end);
        let recorder = tracker.recorder();
        assert_eq!((recorder.committed_warmup, recorder.committed_measured, recorder.failed_measured), (1, 1, 1));
        assert_eq!(recorder.errors_by_code.get("4001"), Some(&1));
        assert_eq!(recorder.latency.len(), 1);
    }
}
