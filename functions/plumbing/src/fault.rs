//! Crash points for fault-injection tests: with `SWITCH_FAULT_CRASH=<function>:<point>:<nth>` in
//! its environment, the process aborts on the `nth` batch of `function` at `point`, which is
//! `before-commit` (before the batch's transaction starts: nothing of it is written) or
//! `after-commit` (its transaction committed, nothing published yet; for the timeout function,
//! a scan that expired something). The local emulator sets it
//! to prove that a crash at either point loses nothing and applies nothing twice.
//!
//! Without the variable (always, in production) every call is a cheap no-op.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Names the environment variable.
pub const CRASH_VAR: &str = "SWITCH_FAULT_CRASH";

/// Where in a batch the crash happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    BeforeCommit,
    AfterCommit,
}

struct CrashPlan {
    function: String,
    point: CrashPoint,
    nth: u32,
    seen: AtomicU32,
}

static PLAN: OnceLock<Option<CrashPlan>> = OnceLock::new();

/// Aborts the process if this is the planned crash.
pub fn crash_point(function: &str, point: CrashPoint) {
    let Some(plan) = PLAN.get_or_init(|| std::env::var(CRASH_VAR).ok().and_then(|it| parse(&it))) else {
        return;
    };
    if plan.function != function || plan.point != point {
        return;
    }
    if plan.seen.fetch_add(1, Ordering::SeqCst) + 1 == plan.nth {
        eprintln!("{CRASH_VAR}: aborting in {function} at {point:?} (fault injection)");
        std::process::abort();
    }
}

fn parse(text: &str) -> Option<CrashPlan> {
    let mut parts = text.split(':');
    let function = parts.next()?.to_string();
    let point = match parts.next()? {
        "before-commit" => CrashPoint::BeforeCommit,
        "after-commit" => CrashPoint::AfterCommit,
        _ => return None,
    };
    let nth = parts.next()?.parse().ok().filter(|n| *n > 0)?;
    Some(CrashPlan { function, point, nth, seen: AtomicU32::new(0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse() {
        let plan = parse("position:after-commit:3").unwrap();
        assert_eq!((plan.function.as_str(), plan.point, plan.nth), ("position", CrashPoint::AfterCommit, 3));
        for bad in ["position", "position:later:1", "position:after-commit:0", "position:after-commit:x"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
