//! Writes that must not be lost once their effect has happened elsewhere: what the notification
//! function sent (delivery records, dead letters, the journal's callback entries) and the journal
//! entries of accepted requests. Such a write is retried in place while its failure is
//! transient, with capped exponential backoff, instead of failing the batch at once: a failed
//! batch would be redelivered and its callbacks sent a second time.
//!
//! The retries stop after [`WRITE_RETRY_WINDOW_MS`], below `host.json`'s `functionTimeout`
//! (5 minutes), so the invocation ends on its own terms: the caller then fails the batch as
//! transient, and the host's unbounded retry policy delivers it again. A database outage
//! shorter than the window costs nothing twice; a longer one costs, at worst, callbacks sent
//! again (at least once, as FSPIOP allows), never a lost record.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long one write is retried in place before the batch fails as transient.
pub const WRITE_RETRY_WINDOW_MS: u64 = 240_000;
/// The first retry waits this long; each further one twice as long, up to the cap.
pub const WRITE_BACKOFF_INITIAL_MS: u64 = 100;
/// The longest wait between two tries.
pub const WRITE_BACKOFF_MAX_MS: u64 = 5_000;
/// `host.json`'s `functionTimeout`, which the window must stay below.
pub const FUNCTION_TIMEOUT_MS: u64 = 300_000;

const _: () = assert!(WRITE_RETRY_WINDOW_MS + WRITE_BACKOFF_MAX_MS < FUNCTION_TIMEOUT_MS);
const _: () = assert!(WRITE_BACKOFF_INITIAL_MS <= WRITE_BACKOFF_MAX_MS);

/// Runs `write` until it succeeds, fails for good (`is_transient` false), or the window has
/// passed; returns its last result.
pub async fn until_written<T, E: std::fmt::Display, Write: Future<Output = Result<T, E>>>(
    what: &'static str,
    is_transient: impl Fn(&E) -> bool,
    mut write: impl FnMut() -> Write,
) -> Result<T, E> {
    until_written_within(what, Duration::from_millis(WRITE_RETRY_WINDOW_MS), is_transient, &mut write).await
}

/// [`until_written`] with the window as an argument, for tests.
pub async fn until_written_within<T, E: std::fmt::Display, Write: Future<Output = Result<T, E>>>(
    what: &'static str,
    window: Duration,
    is_transient: impl Fn(&E) -> bool,
    write: &mut impl FnMut() -> Write,
) -> Result<T, E> {
    let started = Instant::now();
    let mut backoff = Duration::from_millis(WRITE_BACKOFF_INITIAL_MS);
    let mut attempt: u32 = 1;
    loop {
        let error = match write().await {
            Ok(value) => {
                if 1 < attempt {
                    tracing::info!(what, attempt, "written after retries");
                }
                return Ok(value);
            }
            Err(error) => error,
        };
        if !is_transient(&error) || window <= started.elapsed() {
            return Err(error);
        }
        tracing::warn!(what, attempt, %error, "write failed; retrying in {} ms", backoff.as_millis());
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_millis(WRITE_BACKOFF_MAX_MS));
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    enum Failure {
        Transient,
        Permanent,
    }

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    fn transient(failure: &Failure) -> bool {
        matches!(failure, Failure::Transient)
    }

    #[tokio::test]
    async fn a_transient_failure_is_retried_until_the_write_succeeds() {
        let tries = std::cell::Cell::new(0);
        let result = until_written_within("test", Duration::from_secs(10), transient, &mut || {
            tries.set(tries.get() + 1);
            let n = tries.get();
            async move {
                if n < 3 {
                    Err(Failure::Transient)
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_returned_at_once() {
        let tries = std::cell::Cell::new(0);
        let result: Result<(), Failure> = until_written_within("test", Duration::from_secs(10), transient, &mut || {
            tries.set(tries.get() + 1);
            async { Err(Failure::Permanent) }
        })
        .await;
        assert!(matches!(result, Err(Failure::Permanent)));
        assert_eq!(tries.get(), 1);
    }

    #[tokio::test]
    async fn the_last_transient_failure_is_returned_after_the_window() {
        let tries = std::cell::Cell::new(0);
        let result: Result<(), Failure> =
            until_written_within("test", Duration::from_millis(250), transient, &mut || {
                tries.set(tries.get() + 1);
                async { Err(Failure::Transient) }
            })
            .await;
        assert!(matches!(result, Err(Failure::Transient)));
        assert!(2 <= tries.get(), "retried {} times", tries.get());
    }
}
