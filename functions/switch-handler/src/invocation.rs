//! The custom-handler invocation protocol: the `{Data, Metadata}` request the Functions host POSTs
//! to `/<FunctionName>`, its typed readings per trigger, and the `{Outputs, Logs, ReturnValue}`
//! answer.
//!
//! Decoding follows the host's source rather than the documentation sample (azure.md §1.4): values
//! may arrive as real JSON or as JSON strings holding JSON (Json.NET double encoding), and every
//! reader accepts both, at any depth the host can produce. Keys are matched exactly first and then
//! without regard to ASCII case, as the host's dictionaries are case-insensitive. Unknown keys are
//! ignored: the host adds binding data freely (e.g. query parameters for HTTP triggers).
//!
//! Decoding never panics: every malformed input is an [`InvocationError`] naming the offending
//! path. A decoder consumes the [`InvocationRequest`], so large event bodies are moved, not copied.

mod decode;
mod error;
mod event_hub;
mod http;
mod response;
mod timer;

use serde_json::{Map, Value};

pub use error::{InvocationError, JsonKind, ENCODING_LAYERS_MAX};
pub use event_hub::{Event, EventBatch, PartitionContext};
pub use http::{HttpBody, HttpTriggerRequest};
pub use response::{host_would_base64_decode, HttpOutput, InvocationResponse, ResponseError, HTTP_OUTPUT_BINDING};
pub use timer::{ScheduleStatus, TimerInvocation};

use decode::join;

/// The binding names our function.json files use (see `functions/bindings/`).
pub const EVENTS_BINDING: &str = "events";
pub const TIMER_BINDING: &str = "timer";
pub const HTTP_REQUEST_BINDING: &str = "req";

/// The host's invocation body, split into its two halves and otherwise untouched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvocationRequest {
    /// One entry per input/trigger binding, keyed by binding name.
    pub data: Map<String, Value>,
    /// The trigger's binding data (minus keys ending in `trigger`), plus `sys` and, under a retry
    /// policy, `RetryContext`.
    pub metadata: Map<String, Value>,
}

impl InvocationRequest {
    /// Parses the raw request body.
    pub fn from_slice(body: &[u8]) -> Result<InvocationRequest, InvocationError> {
        let value =
            serde_json::from_slice::<Value>(body).map_err(|e| InvocationError::NotJson { reason: e.to_string() })?;
        InvocationRequest::from_value(value)
    }

    /// Splits an already parsed body. `Data` and `Metadata` may each be absent (read as empty) or
    /// double-encoded; anything else is an error.
    pub fn from_value(value: Value) -> Result<InvocationRequest, InvocationError> {
        let mut body = decode::object(value, "(invocation body)")?;
        let mut half = |key: &str| match decode::take(&mut body, key) {
            Some(value) => decode::object(value, key),
            None => Ok(Map::new()),
        };
        let data = half("Data")?;
        let metadata = half("Metadata")?;
        Ok(InvocationRequest { data, metadata })
    }

    /// Reads the request as an Event Hubs batch bound to `binding`.
    pub fn into_event_batch(self, binding: &str) -> Result<EventBatch, InvocationError> {
        EventBatch::decode(self, binding)
    }

    /// Reads the request as a timer tick bound to `binding`.
    pub fn into_timer(self, binding: &str) -> Result<TimerInvocation, InvocationError> {
        TimerInvocation::decode(self, binding)
    }

    /// Reads the request as a non-proxied HTTP trigger bound to `binding`.
    pub fn into_http_request(self, binding: &str) -> Result<HttpTriggerRequest, InvocationError> {
        HttpTriggerRequest::decode(self, binding)
    }
}

/// `Metadata.sys`, which the host adds to every invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sys {
    /// The function name, e.g. `prepare`.
    pub method_name: String,
    /// ISO 8601, when the host built the invocation.
    pub utc_now: String,
    /// A fresh GUID per invocation.
    pub rand_guid: String,
}

impl Sys {
    fn decode(value: Value, field: &str) -> Result<Sys, InvocationError> {
        let mut map = decode::object(value, field)?;
        let mut text = |key: &str| decode::scalar_text(decode::require(&mut map, field, key)?, &join(field, key));
        Ok(Sys { method_name: text("MethodName")?, utc_now: text("UtcNow")?, rand_guid: text("RandGuid")? })
    }
}

/// `Metadata.RetryContext`: present only when the function has a retry policy.
///
/// Read from the host's source, `RetryCount` counts the retries already made (0 on the first
/// attempt) and `MaxRetryCount` is the policy's `maxRetryCount` (−1 = forever); the attempt after
/// which the host gives up and checkpoints is the one where they are equal. **UNCONFIRMED** against
/// a live host.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryContext {
    pub retry_count: u32,
    pub max_retry_count: i32,
    /// The previous attempt's failure as the host serialised the .NET exception (`Message`,
    /// `ClassName`, …), kept raw; `None` on the first attempt.
    pub exception: Option<Value>,
}

impl RetryContext {
    const FIELD: &'static str = "Metadata.RetryContext";

    fn decode_optional(metadata: &mut Map<String, Value>) -> Result<Option<RetryContext>, InvocationError> {
        let Some(value) = decode::take(metadata, "RetryContext") else {
            return Ok(None);
        };
        let mut map = decode::object(value, Self::FIELD)?;
        let retry_field = join(Self::FIELD, "RetryCount");
        let retry = decode::integer(decode::require(&mut map, Self::FIELD, "RetryCount")?, &retry_field)?;
        let max_field = join(Self::FIELD, "MaxRetryCount");
        let max = decode::integer(decode::require(&mut map, Self::FIELD, "MaxRetryCount")?, &max_field)?;
        let retry_count = u32::try_from(retry)
            .map_err(|_| InvocationError::OutOfRange { field: retry_field, value: retry.to_string() })?;
        let max_retry_count = i32::try_from(max)
            .ok()
            .filter(|m| *m >= -1)
            .ok_or_else(|| InvocationError::OutOfRange { field: max_field, value: max.to_string() })?;
        let exception = decode::take(&mut map, "Exception");
        Ok(Some(RetryContext { retry_count, max_retry_count, exception }))
    }

    /// True when the host will not retry this batch again if this attempt fails: the function
    /// should dead-letter what it cannot process now, because the host checkpoints past it next.
    pub fn is_last_attempt(&self) -> bool {
        u32::try_from(self.max_retry_count).is_ok_and(|max| self.retry_count >= max)
    }

    /// The previous failure's message, when the host sent one.
    pub fn exception_message(&self) -> Option<&str> {
        match self.exception.as_ref()? {
            Value::String(text) => Some(text),
            Value::Object(map) => {
                map.iter().find(|(key, _)| key.eq_ignore_ascii_case("Message")).and_then(|(_, value)| value.as_str())
            }
            _ => None,
        }
    }
}
