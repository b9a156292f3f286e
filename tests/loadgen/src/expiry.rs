//! Expiry under load (`--expiring-share`): a share of the run's transfers goes to one more DFSP,
//! the silent payee, which takes every prepare (202) and never answers it, with a short
//! expiration (`--expiring-expiration`). The switch must then expire each one and tell both
//! parties (`3303`): this module measures how long after each transfer's expiration its payer's
//! error callback came, and its payee's.
//!
//! Which transfers expire follows from their index alone, spread evenly (every twentieth at
//! 0.05), so the sender and the callback server need no shared table to agree. Latency counts
//! from the expiration the POST carried (the generator's wall clock, in milliseconds, taken on
//! the same machine as the switch's), so a callback before it is counted apart as early.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::report::Percentiles;
use crate::tracker::{self, lock, LATENCY_US_MAX};

/// The error code of an expired transfer.
pub const EXPIRED_CODE: &str = "3303";
/// The share is kept in parts per million: exact, and the index arithmetic stays integral.
const SHARE_PARTS: u64 = 1_000_000;
/// Shards of the pending table (a power of two: the index's low bits pick the shard).
const SHARDS: usize = 16;
/// Significant digits of the histograms.
const PRECISION: u8 = 3;
/// Seconds of timeline kept, a bound on the per-second table (a day and a drain).
const TIMELINE_SECONDS_MAX: usize = 24 * 3600 + 3600;

const _: () = assert!(SHARDS.is_power_of_two());

/// What `--expiring-share` and `--expiring-expiration` ask for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpiringOptions {
    /// The share of transfers sent to the silent payee, above 0 and at most 1.
    pub share: f64,
    /// How far in the future each of them expires.
    pub expiration: Duration,
}

/// One expiring transfer until both parties were told.
#[derive(Debug, Clone, Copy)]
struct Pending {
    expires_at: Instant,
    /// Whether it was sent after the warm-up.
    measured: bool,
    payer_told: bool,
    payee_prepared: bool,
    payee_told: bool,
}

/// Which party a callback went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Payer,
    Payee,
}

/// The figures, behind one lock held only to add a sample.
struct Recorder {
    payer: Histogram<u64>,
    payee: Histogram<u64>,
    /// Payer latencies by the second (since the run started) the transfer expired in.
    timeline: Vec<Histogram<u64>>,
    payer_codes: BTreeMap<String, u64>,
    payee_codes: BTreeMap<String, u64>,
    /// 3303 callbacks that came before the expiration, per party.
    payer_early: u64,
    payee_early: u64,
}

/// The expiring transfers of one run.
pub struct Expiry {
    options: ExpiringOptions,
    share_ppm: u64,
    /// The silent payee's index among the run's DFSPs.
    pub payee: u32,
    started: Instant,
    warmup: Duration,
    shards: Vec<Mutex<HashMap<u64, Pending>>>,
    recorder: Mutex<Recorder>,
    sent: AtomicU64,
    refused: AtomicU64,
    payer_told: AtomicU64,
    payee_prepares: AtomicU64,
    payee_told: AtomicU64,
}

impl Expiry {
    pub fn new(options: ExpiringOptions, payee: u32, started: Instant, warmup: Duration) -> Expiry {
        assert!(0.0 < options.share && options.share <= 1.0, "a share in (0, 1]");
        let recorder = Recorder {
            payer: histogram(),
            payee: histogram(),
            timeline: Vec::new(),
            payer_codes: BTreeMap::new(),
            payee_codes: BTreeMap::new(),
            payer_early: 0,
            payee_early: 0,
        };
        Expiry {
            options,
            share_ppm: ((options.share * SHARE_PARTS as f64).round() as u64).clamp(1, SHARE_PARTS),
            payee,
            started,
            warmup,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            recorder: Mutex::new(recorder),
            sent: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            payer_told: AtomicU64::new(0),
            payee_prepares: AtomicU64::new(0),
            payee_told: AtomicU64::new(0),
        }
    }

    pub fn expiration(&self) -> Duration {
        self.options.expiration
    }

    /// Whether transfer `index` is one of the expiring share: the index where the running count
    /// `index × share` passes a whole number.
    pub fn is_expiring(&self, index: u64) -> bool {
        let (index, share) = (u128::from(index), u128::from(self.share_ppm));
        let parts = u128::from(SHARE_PARTS);
        (index + 1) * share / parts > index * share / parts
    }

    /// Records that expiring transfer `index`, scheduled at `scheduled`, was sent with an
    /// expiration of `expires_at`; call before its POST, since callbacks can come first.
    pub fn begin(&self, index: u64, scheduled: Instant, expires_at: Instant) {
        let measured = self.warmup <= scheduled.saturating_duration_since(self.started);
        let pending = Pending { expires_at, measured, payer_told: false, payee_prepared: false, payee_told: false };
        lock(&self.shards[shard(index)]).insert(index, pending);
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// The switch refused the POST itself: no callback will come.
    pub fn refused(&self, index: u64) {
        if lock(&self.shards[shard(index)]).remove(&index).is_some() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The silent payee got the prepare of `index` (and does not answer it).
    pub fn payee_prepared(&self, index: u64) {
        if let Some(pending) = lock(&self.shards[shard(index)]).get_mut(&index) {
            if !pending.payee_prepared {
                pending.payee_prepared = true;
                self.payee_prepares.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// An error callback with `code` reached `party` of expiring transfer `index` at `at`;
    /// only the first per party counts. Whether it was one of this run's expiring transfers.
    pub fn told(&self, index: u64, party: Party, code: &str, at: Instant) -> bool {
        let expires_at = {
            let mut shard = lock(&self.shards[shard(index)]);
            let Some(pending) = shard.get_mut(&index) else {
                return false;
            };
            let first = match party {
                Party::Payer => !std::mem::replace(&mut pending.payer_told, true),
                Party::Payee => !std::mem::replace(&mut pending.payee_told, true),
            };
            let found = (first && pending.measured).then_some(pending.expires_at);
            if pending.payer_told && pending.payee_told {
                shard.remove(&index);
            }
            if !first {
                return true;
            }
            found
        };
        match party {
            Party::Payer => self.payer_told.fetch_add(1, Ordering::Relaxed),
            Party::Payee => self.payee_told.fetch_add(1, Ordering::Relaxed),
        };
        if let Some(expires_at) = expires_at {
            lock(&self.recorder).record(party, code, expires_at, at, self.started);
        }
        true
    }

    /// Expiring transfers still waiting for a callback the switch owes: the payer's, and the
    /// payee's once it was sent the prepare.
    pub fn outstanding(&self) -> u64 {
        let payer_owed = self.sent.load(Ordering::Relaxed) - self.refused.load(Ordering::Relaxed);
        let payer_pending = payer_owed.saturating_sub(self.payer_told.load(Ordering::Relaxed));
        let payee_pending =
            self.payee_prepares.load(Ordering::Relaxed).saturating_sub(self.payee_told.load(Ordering::Relaxed));
        payer_pending + payee_pending
    }

    /// The `expiry` object of `result.json`; `payee_name` is the silent payee's.
    pub fn to_json(&self, payee_name: &str) -> Value {
        let recorder = lock(&self.recorder);
        let timeline: Vec<Value> = recorder
            .timeline
            .iter()
            .enumerate()
            .filter(|(_, it)| !it.is_empty())
            .map(|(second, it)| {
                let latency = Percentiles::of(it);
                json!({ "second": second, "payers_told": it.len(), "p50_ms": round(latency.p50), "p99_ms": round(latency.p99), "max_ms": round(latency.max) })
            })
            .collect();
        json!({
            "share": self.options.share,
            "expiration_s": self.options.expiration.as_secs_f64(),
            "silent_payee": payee_name,
            "sent": self.sent.load(Ordering::Relaxed),
            "refused": self.refused.load(Ordering::Relaxed),
            "payers_told": self.payer_told.load(Ordering::Relaxed),
            "payee_prepares": self.payee_prepares.load(Ordering::Relaxed),
            "payees_told": self.payee_told.load(Ordering::Relaxed),
            "outstanding": self.outstanding(),
            "payer_codes": recorder.payer_codes,
            "payee_codes": recorder.payee_codes,
            "payer_told_before_expiration": recorder.payer_early,
            "payee_told_before_expiration": recorder.payee_early,
            "payer_after_expiration_ms": percentiles_json(&recorder.payer),
            "payee_after_expiration_ms": percentiles_json(&recorder.payee),
            "payer_timeline_by_expiration_second": timeline,
        })
    }

    /// The lines printed at the end of a run.
    pub fn text(&self) -> String {
        let recorder = lock(&self.recorder);
        let line = |name: &str, histogram: &Histogram<u64>, early: u64| {
            let it = Percentiles::of(histogram);
            format!(
                "expiry → {name} 3303 ms after expiration  p50 {:.1}  p99 {:.1}  max {:.1}  ({} measured, {early} before expiration)\n",
                it.p50,
                it.p99,
                it.max,
                histogram.len()
            )
        };
        let mut text = format!(
            "expiring transfers {} (share {}, expiration {:?}): payers told {}, payees prepared {}, payees told {}, refused {}, outstanding {}\n",
            self.sent.load(Ordering::Relaxed),
            self.options.share,
            self.options.expiration,
            self.payer_told.load(Ordering::Relaxed),
            self.payee_prepares.load(Ordering::Relaxed),
            self.payee_told.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.outstanding(),
        );
        text.push_str(&line("payer", &recorder.payer, recorder.payer_early));
        text.push_str(&line("payee", &recorder.payee, recorder.payee_early));
        text
    }
}

impl Recorder {
    fn record(&mut self, party: Party, code: &str, expires_at: Instant, at: Instant, started: Instant) {
        let codes = match party {
            Party::Payer => &mut self.payer_codes,
            Party::Payee => &mut self.payee_codes,
        };
        *codes.entry(code.to_string()).or_default() += 1;
        if code != EXPIRED_CODE {
            return;
        }
        let Some(after) = at.checked_duration_since(expires_at) else {
            match party {
                Party::Payer => self.payer_early += 1,
                Party::Payee => self.payee_early += 1,
            }
            return;
        };
        let us = (after.as_micros() as u64).clamp(1, LATENCY_US_MAX);
        match party {
            Party::Payer => {
                self.payer.saturating_record(us);
                let second = expires_at.saturating_duration_since(started).as_secs() as usize;
                if second < TIMELINE_SECONDS_MAX {
                    while self.timeline.len() <= second {
                        self.timeline.push(histogram());
                    }
                    self.timeline[second].saturating_record(us);
                }
            }
            Party::Payee => self.payee.saturating_record(us),
        }
    }
}

fn percentiles_json(histogram: &Histogram<u64>) -> Value {
    let it = Percentiles::of(histogram);
    let fields =
        [("p50", it.p50), ("p90", it.p90), ("p99", it.p99), ("p99_9", it.p99_9), ("max", it.max), ("mean", it.mean)];
    let mut result = json!({ "count": histogram.len() });
    for (name, ms) in fields {
        result[name] = json!(round(ms));
    }
    result
}

/// Milliseconds to the microsecond.
fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn histogram() -> Histogram<u64> {
    tracker::histogram(PRECISION)
}

fn shard(index: u64) -> usize {
    (index as usize) & (SHARDS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiry(share: f64) -> Expiry {
        Expiry::new(ExpiringOptions { share, expiration: Duration::from_secs(3) }, 10, Instant::now(), Duration::ZERO)
    }

    #[test]
    fn the_share_is_spread_evenly_over_the_indexes() {
        let twentieth = expiry(0.05);
        let picked: Vec<u64> = (0..100).filter(|it| twentieth.is_expiring(*it)).collect();
        assert_eq!(picked, [19, 39, 59, 79, 99]);
        let third = expiry(0.333);
        assert_eq!((0..1_000_000).filter(|it| third.is_expiring(*it)).count(), 333_000);
        let all = expiry(1.0);
        assert!((0..50).all(|it| all.is_expiring(it)));
        let last = crate::options::TRANSFERS_MAX - 1;
        assert!(all.is_expiring(last), "no overflow at the largest index");
    }

    #[test]
    fn each_party_is_measured_once_from_the_expiration() {
        let expiry = expiry(0.5);
        let start = expiry.started;
        let expires_at = start + Duration::from_secs(3);
        expiry.begin(1, start, expires_at);
        expiry.payee_prepared(1);
        assert_eq!(expiry.outstanding(), 2);
        assert!(expiry.told(1, Party::Payer, EXPIRED_CODE, expires_at + Duration::from_millis(120)));
        assert!(expiry.told(1, Party::Payer, EXPIRED_CODE, expires_at + Duration::from_millis(900)), "a duplicate");
        assert_eq!(expiry.outstanding(), 1);
        assert!(expiry.told(1, Party::Payee, EXPIRED_CODE, expires_at + Duration::from_millis(130)));
        assert_eq!(expiry.outstanding(), 0);
        assert!(!expiry.told(1, Party::Payee, EXPIRED_CODE, expires_at), "ended: no longer known");
        expiry.begin(3, start, expires_at);
        expiry.told(3, Party::Payer, EXPIRED_CODE, expires_at - Duration::from_millis(5));
        expiry.begin(5, start, expires_at);
        expiry.refused(5);
        assert_eq!(expiry.outstanding(), 0, "a refused POST owes nothing");
        let result = expiry.to_json("lgfsp010");
        assert_eq!(result["payer_after_expiration_ms"]["count"], 1);
        assert_eq!(result["payer_after_expiration_ms"]["max"].as_f64().map(|it| it.round()), Some(120.0));
        assert_eq!(result["payee_after_expiration_ms"]["count"], 1);
        assert_eq!(result["payer_told_before_expiration"], 1);
        assert_eq!(result["payer_codes"]["3303"], 2);
        assert_eq!((result["sent"].as_u64(), result["refused"].as_u64()), (Some(3), Some(1)));
        assert!(expiry.text().contains("payer 3303"));
    }
}
