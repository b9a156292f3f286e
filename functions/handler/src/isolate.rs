//! Poison isolation for batch functions: one event that fails for a reason a retry cannot cure
//! never fails, stalls or drops the others of its batch.
//!
//! A batch function runs its whole batch as one transaction. When that run fails with a
//! deterministic store error ([`StoreError::is_transient`] false: a value the store refuses, a
//! row the ledger cannot read), [`isolating`] splits the batch in halves and runs each half
//! again, in order, down to single events, so every healthy event commits in some smaller
//! transaction and only the event that fails alone is set aside. A set-aside event becomes a
//! dead letter (kept in the store with its transfer and event ids, counted, logged) and, where
//! the event is a DFSP's request that nothing else will answer, an error callback `2001` to its
//! sender. A transient failure at any depth fails the invocation as before, so the host
//! redelivers the whole batch; what already committed is a no-op the second time.
//!
//! Why halves and not one by one: a batch of `n` events with one poison needs
//! about `2·log2(n)` runs instead of `n`, and the order of events is kept (a left half always
//! runs before its right half), which the position function's running balances rely on.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;

use fspiop::{ErrorCode, FspiopError};
use ledger_core::time::Timestamp;
use ledger_store::StoreError;

use crate::envelope::Envelope;
use crate::outbox::{Report, Route};

/// Most runs one isolation may take: every split of a batch of [`BATCH_EVENTS_MAX`] events
/// down to single events is `2·n − 1` runs.
pub const ISOLATION_RUNS_MAX: usize = 2 * BATCH_EVENTS_MAX;
/// The largest batch the host hands one invocation (`host.json` `maxEventBatchSize` is 100;
/// this bound leaves room for a larger setting).
pub const BATCH_EVENTS_MAX: usize = 1_000;

/// Whether an event set aside gets an error callback to its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The event is a DFSP's request (prepare, fulfil, get): nothing was recorded, so the
    /// sender hears `2001` now instead of nothing.
    ToSender,
    /// The event is a pipeline step whose transfer is already recorded: its expiry answers it.
    None,
}

/// Runs `run` on the batch; on a deterministic failure, on ever smaller parts of it. See the
/// module documentation.
pub async fn isolating<Run>(
    function: &'static str,
    bodies: Arc<[String]>,
    reply: Reply,
    now: Timestamp,
    run: impl Fn(Arc<[String]>, Range<usize>) -> Run,
) -> Result<Report, StoreError>
where
    Run: Future<Output = Result<Report, StoreError>>,
{
    assert!(bodies.len() <= BATCH_EVENTS_MAX, "a batch of {} events exceeds {BATCH_EVENTS_MAX}", bodies.len());
    let first = run(Arc::clone(&bodies), 0..bodies.len()).await;
    let failure = match first {
        Err(err) if !err.is_transient() => err,
        other => return other,
    };
    tracing::warn!(function, batch_size = bodies.len(), error = %failure, "batch failed deterministically; isolating the events that fail alone");
    let mut report = Report::default();
    if bodies.len() == 1 {
        set_aside(function, &bodies[0], &failure, reply, now, &mut report);
        return Ok(report);
    }
    // Ranges still to run, the leftmost on top, so events keep their order.
    let mut pending: Vec<(usize, usize)> = halves(0, bodies.len());
    let mut n_runs = 1;
    while let Some((start, end)) = pending.pop() {
        n_runs += 1;
        assert!(n_runs <= ISOLATION_RUNS_MAX, "isolation ran {n_runs} times");
        match run(Arc::clone(&bodies), start..end).await {
            Ok(part) => report.absorb(part),
            Err(err) if err.is_transient() => return Err(err),
            Err(err) if end - start == 1 => set_aside(function, &bodies[start], &err, reply, now, &mut report),
            Err(_) => pending.extend(halves(start, end)),
        }
    }
    Ok(report)
}

/// The two halves of `start..end`, the right one first (the stack's top is run next).
fn halves(start: usize, end: usize) -> Vec<(usize, usize)> {
    assert!(start + 1 < end);
    let middle = start + (end - start) / 2;
    vec![(middle, end), (start, middle)]
}

/// Sets one event aside: a dead letter, and the sender's `2001` where [`Reply::ToSender`].
fn set_aside(
    function: &'static str,
    body: &str,
    failure: &StoreError,
    reply: Reply,
    now: Timestamp,
    report: &mut Report,
) {
    let reason = format!("{function}: {failure}");
    let envelope = Envelope::from_json(body).ok();
    let transfer_id = envelope.as_ref().map(|it| it.id.as_str()).unwrap_or("unknown");
    tracing::error!(function, transfer_id, reason = %reason, "event set aside as a dead letter");
    report.dead_letter(body, reason);
    let (Reply::ToSender, Some(envelope)) = (reply, envelope) else { return };
    let error = FspiopError::new(ErrorCode::InternalServerError);
    report.emit(Route::Notification, envelope.error_reply(envelope.metadata.event.action, &error, now));
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const PROCESSED: &str = "processed";

    /// A stand-in batch function: a part holding a body named `poison…` fails for good, one
    /// holding `down…` fails as transient; otherwise each body is recorded, in order.
    async fn run_fake(bodies: &[&str], runs: &AtomicUsize) -> Result<Report, StoreError> {
        let bodies: Arc<[String]> = bodies.iter().map(|it| it.to_string()).collect();
        isolating("fake", bodies, Reply::None, Timestamp::from_unix_ms(0), |all, range| {
            runs.fetch_add(1, Ordering::SeqCst);
            async move {
                let part = &all[range];
                if part.iter().any(|it| it.starts_with("down")) {
                    return Err(StoreError::Unavailable("down".to_string()));
                }
                if part.iter().any(|it| it.starts_with("poison")) {
                    return Err(StoreError::Invalid("poison".to_string()));
                }
                let mut report = Report::default();
                part.iter().for_each(|it| report.dead_letter(it, PROCESSED));
                Ok(report)
            }
        })
        .await
    }

    fn outcome(report: &Report) -> Vec<(String, bool)> {
        report.dead_letters.iter().map(|it| (it.body.clone(), it.reason == PROCESSED)).collect()
    }

    #[tokio::test]
    async fn a_healthy_batch_runs_once() {
        let runs = AtomicUsize::new(0);
        let report = run_fake(&["a", "b", "c"], &runs).await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(outcome(&report), [("a".to_string(), true), ("b".to_string(), true), ("c".to_string(), true)]);
    }

    #[tokio::test]
    async fn poisons_are_set_aside_and_the_rest_keeps_its_order() {
        let bodies: Vec<String> =
            (0..100).map(|it| if it == 17 || it == 90 { format!("poison{it}") } else { format!("e{it}") }).collect();
        let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let runs = AtomicUsize::new(0);
        let report = run_fake(&bodies, &runs).await.unwrap();
        let expected: Vec<(String, bool)> =
            bodies.iter().map(|it| (it.to_string(), !it.starts_with("poison"))).collect();
        assert_eq!(outcome(&report), expected);
        assert!(report
            .dead_letters
            .iter()
            .filter(|it| it.reason != PROCESSED)
            .all(|it| it.reason.starts_with("fake: invalid")));
        let n_runs = runs.load(Ordering::SeqCst);
        assert!(n_runs <= 4 * 7 + 1, "two poisons in 100 took {n_runs} runs");
    }

    #[tokio::test]
    async fn a_single_poison_is_set_aside_without_another_run() {
        let runs = AtomicUsize::new(0);
        let report = run_fake(&["poison"], &runs).await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(outcome(&report), [("poison".to_string(), false)]);
    }

    #[tokio::test]
    async fn a_transient_failure_fails_the_whole_batch_even_while_isolating() {
        let runs = AtomicUsize::new(0);
        let result = run_fake(&["a", "poison", "b", "down"], &runs).await;
        assert!(matches!(result, Err(StoreError::Unavailable(_))), "{result:?}");
        let result = run_fake(&["down"], &runs).await;
        assert!(matches!(result, Err(StoreError::Unavailable(_))), "{result:?}");
    }
}
