//! Pacing: who pays whom, and when transfers are sent. The closed loop keeps `concurrency`
//! transfers in flight (a slot frees when the payer hears the end of one); the open loop sends on
//! a fixed schedule whatever the switch does, and measures latency from the scheduled instant so a
//! generator that falls behind does not hide the switch's delay (no coordinated omission).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::dfsps::Dfsps;
use crate::options::{Pacing, Scenario, IN_FLIGHT_MAX, TRANSFERS_MAX};

/// How often the drain looks whether everything has ended.
const DRAIN_POLL: Duration = Duration::from_millis(10);

/// When to stop sending.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub duration: Duration,
    pub transfers: Option<u64>,
}

/// What the sending did.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// Transfers sent (and, in the open loop, scheduled but not sent for the in-flight bound).
    pub transfers: u64,
    /// How long the sending took.
    pub window: Duration,
}

/// The payer and the payee of transfer `index` among `n` DFSPs.
///
/// Every DFSP pays every other in turn (index modulo `n` picks the payer, the next round the
/// offset of the payee), except in `hotspot`, where DFSP 0 pays everyone.
pub fn pair(scenario: &Scenario, n: u32, index: u64) -> (u32, u32) {
    assert!(2 <= n);
    let n = u64::from(n);
    match scenario {
        Scenario::Hotspot => (0, (1 + index % (n - 1)) as u32),
        Scenario::Max | Scenario::Rate | Scenario::ManyDfsps => {
            let payer = index % n;
            let offset = 1 + (index / n) % (n - 1);
            (payer as u32, ((payer + offset) % n) as u32)
        }
    }
}

/// The closed loop's slots, or `None` for the open loop.
pub fn permits(pacing: &Pacing) -> Option<Arc<Semaphore>> {
    match pacing {
        Pacing::Closed { concurrency } => Some(Arc::new(Semaphore::new(*concurrency as usize))),
        Pacing::Open { .. } => None,
    }
}

/// Sends until `limits`; `permits` must be the ones the tracker releases.
pub async fn drive(
    dfsps: Arc<Dfsps>,
    scenario: Scenario,
    pacing: Pacing,
    limits: Limits,
    permits: Option<Arc<Semaphore>>,
) -> Sent {
    let started = Instant::now();
    let deadline = started + limits.duration;
    let limit = limits.transfers.unwrap_or(TRANSFERS_MAX).min(TRANSFERS_MAX);
    let transfers = match (pacing, permits) {
        (Pacing::Closed { .. }, Some(permits)) => closed_loop(&dfsps, &scenario, deadline, limit, &permits).await,
        (Pacing::Open { rate }, _) => open_loop(&dfsps, &scenario, rate, started, deadline, limit).await,
        (Pacing::Closed { .. }, None) => unreachable!("the closed loop needs its permits"),
    };
    Sent { transfers, window: started.elapsed() }
}

async fn closed_loop(
    dfsps: &Arc<Dfsps>,
    scenario: &Scenario,
    deadline: Instant,
    limit: u64,
    permits: &Arc<Semaphore>,
) -> u64 {
    let mut index = 0;
    while index < limit {
        let deadline = tokio::time::Instant::from_std(deadline);
        match tokio::time::timeout_at(deadline, permits.acquire()).await {
            Ok(Ok(permit)) => permit.forget(),
            Ok(Err(_)) | Err(_) => break,
        }
        let (payer, payee) = dfsps.parties(scenario, index);
        tokio::spawn(Arc::clone(dfsps).send(index, payer, payee, Instant::now()));
        index += 1;
    }
    index
}

async fn open_loop(
    dfsps: &Arc<Dfsps>,
    scenario: &Scenario,
    rate: f64,
    started: Instant,
    deadline: Instant,
    limit: u64,
) -> u64 {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut index: u64 = 0;
    while index < limit {
        let now = Instant::now();
        if deadline <= now {
            break;
        }
        let due = ((now - started).as_secs_f64() * rate) as u64 + 1;
        while index < due.min(limit) {
            let scheduled = started + interval.mul_f64(index as f64);
            if IN_FLIGHT_MAX <= dfsps.tracker.in_flight() {
                dfsps.tracker.counters.not_sent.fetch_add(1, Ordering::Relaxed);
            } else {
                let (payer, payee) = dfsps.parties(scenario, index);
                tokio::spawn(Arc::clone(dfsps).send(index, payer, payee, scheduled));
            }
            index += 1;
        }
        let next = started + interval.mul_f64(index as f64);
        tokio::time::sleep_until(tokio::time::Instant::from_std(next.min(deadline))).await;
    }
    index
}

/// Waits until nothing is in flight and every expiring transfer's parties were told, up to
/// `within`; how many transfers were still open.
pub async fn drain(dfsps: &Dfsps, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let open = || 0 < dfsps.tracker.in_flight() || dfsps.expiry.as_ref().is_some_and(|it| 0 < it.outstanding());
    while open() && Instant::now() < deadline {
        tokio::time::sleep(DRAIN_POLL).await;
    }
    dfsps.tracker.in_flight()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_never_pay_themselves_and_spread() {
        for scenario in [Scenario::Max, Scenario::Hotspot] {
            let mut seen = std::collections::BTreeSet::new();
            for index in 0..200 {
                let (payer, payee) = pair(&scenario, 5, index);
                assert_ne!(payer, payee);
                assert!(payer < 5 && payee < 5);
                seen.insert((payer, payee));
            }
            let expected = if scenario == Scenario::Hotspot { 4 } else { 20 };
            assert_eq!(seen.len(), expected, "{scenario:?}");
        }
        assert!((0..100).all(|index| pair(&Scenario::Hotspot, 3, index).0 == 0));
    }
}
