//! The timer trigger: `Data.<binding>` is the host's `TimerInfo`, which carries nothing the
//! function needs beyond "it is time" (and whether the tick is late), so it is decoded leniently.

use serde_json::{Map, Value};

use super::decode::{self, join};
use super::error::InvocationError;
use super::{InvocationRequest, RetryContext, Sys};

/// When the schedule monitor last fired and next will (only with `useMonitor: true`, and not on
/// the very first run).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleStatus {
    pub last: Option<String>,
    pub next: Option<String>,
    pub last_updated: Option<String>,
}

/// A decoded timer invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct TimerInvocation {
    /// The host's description of the schedule (`{"AdjustForDST": true}` for NCRONTAB), kept raw:
    /// its shape depends on the schedule type and nothing reads it.
    pub schedule: Option<Value>,
    pub schedule_status: Option<ScheduleStatus>,
    /// True when this tick fires later than scheduled (e.g. after a cold start or a restart).
    pub is_past_due: bool,
    pub sys: Sys,
    pub retry: Option<RetryContext>,
}

impl TimerInvocation {
    /// Decodes the timer bound to `binding` (the trigger's `name` in function.json).
    pub fn decode(mut request: InvocationRequest, binding: &str) -> Result<TimerInvocation, InvocationError> {
        let field = join("Data", binding);
        let mut timer = decode::object(decode::require(&mut request.data, "Data", binding)?, &field)?;
        let schedule = decode::take(&mut timer, "Schedule");
        let schedule_status = match decode::take(&mut timer, "ScheduleStatus") {
            Some(value) => Some(ScheduleStatus::decode(value, &join(&field, "ScheduleStatus"))?),
            None => None,
        };
        let is_past_due = match decode::take(&mut timer, "IsPastDue") {
            Some(value) => decode::boolean(value, &join(&field, "IsPastDue"))?,
            None => false,
        };
        let metadata = &mut request.metadata;
        let sys = Sys::decode(decode::require(metadata, "Metadata", "sys")?, "Metadata.sys")?;
        let retry = RetryContext::decode_optional(metadata)?;
        Ok(TimerInvocation { schedule, schedule_status, is_past_due, sys, retry })
    }
}

impl ScheduleStatus {
    fn decode(value: Value, field: &str) -> Result<ScheduleStatus, InvocationError> {
        let mut map = decode::object(value, field)?;
        Ok(ScheduleStatus {
            last: optional_text(&mut map, field, "Last")?,
            next: optional_text(&mut map, field, "Next")?,
            last_updated: optional_text(&mut map, field, "LastUpdated")?,
        })
    }
}

fn optional_text(map: &mut Map<String, Value>, parent: &str, key: &str) -> Result<Option<String>, InvocationError> {
    match decode::take(map, key) {
        Some(value) => decode::text(value, &join(parent, key)).map(Some),
        None => Ok(None),
    }
}
