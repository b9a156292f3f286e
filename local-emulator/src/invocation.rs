//! The invocation bodies the Functions host stand-in sends, in exactly the shape the real host
//! produces (azure.md §1.4–§1.5): `{Data, Metadata}` with the event array, and every `*Array`
//! metadata key, serialised as a JSON string that holds JSON (Json.NET's treatment of arrays),
//! plus `PartitionContext`, `sys` and, when the function has a retry policy, `RetryContext`.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};

use crate::hubs::StoredEvent;

/// What the namespace is called in `PartitionContext.FullyQualifiedNamespace`.
pub const NAMESPACE: &str = "local-emulator.servicebus.windows.net";

/// Where a batch came from.
pub struct BatchSource<'a> {
    pub hub: &'a str,
    pub consumer_group: &'a str,
    pub partition: u32,
}

/// The retry attempt, as `Metadata.RetryContext` reports it.
pub struct RetryState<'a> {
    /// Retries already made: 0 on the first attempt.
    pub retry_count: u32,
    pub max_retry_count: i32,
    /// The previous attempt's failure, if any.
    pub exception: Option<&'a str>,
}

/// An Event Hubs batch invocation of `function` whose trigger binding is `binding`, as the bytes
/// the host POSTs. Serialised straight from typed values: a `Value` tree would copy every event
/// body once more, and printing it through `Display` costs twice what writing bytes does.
pub fn event_batch(
    function: &str,
    binding: &str,
    source: &BatchSource,
    events: &[Arc<StoredEvent>],
    retry: Option<&RetryState>,
) -> Vec<u8> {
    let bodies: Vec<&str> = events.iter().map(|it| it.body.as_str()).collect();
    let keys: Vec<Option<&str>> = events.iter().map(|it| it.partition_key.as_deref()).collect();
    let offsets: Vec<String> = events.iter().map(|it| it.offset.to_string()).collect();
    let sequence_numbers: Vec<i64> = events.iter().map(|it| it.sequence_number).collect();
    let enqueued: Vec<String> = events.iter().map(|it| utc_text(it.enqueued_ms)).collect();
    let properties: Vec<EmptyObject> = events.iter().map(|_| EmptyObject {}).collect();
    let system_properties: Vec<SystemProperties> = (0..events.len())
        .map(|index| SystemProperties::of(sequence_numbers[index], &offsets[index], &enqueued[index], keys[index]))
        .collect();
    let metadata = EventBatchMetadata {
        partition_context: PartitionContext {
            fully_qualified_namespace: NAMESPACE,
            event_hub_name: source.hub,
            consumer_group: source.consumer_group,
            partition_id: source.partition.to_string(),
            is_checkpointing_after_invocation: true,
        },
        partition_keys: json_text(&keys),
        offsets: json_text(&offsets),
        sequence_numbers: json_text(&sequence_numbers),
        enqueued_times: json_text(&enqueued),
        properties: json_text(&properties),
        system_properties: json_text(&system_properties),
        sys: sys(function),
        retry_context: retry.map(retry_context),
    };
    // `{"Data":{<binding>:<bodies>},"Metadata":<metadata>}`, the bodies escaped in one pass.
    let mut invocation = Vec::with_capacity(bodies.iter().map(|it| it.len() + it.len() / 4).sum::<usize>() + 1024);
    // Writing strings and derived structs into a Vec cannot fail.
    invocation.extend_from_slice(b"{\"Data\":{");
    let _ = serde_json::to_writer(&mut invocation, binding);
    invocation.push(b':');
    push_string_array_json_text(&mut invocation, &bodies);
    invocation.extend_from_slice(b"},\"Metadata\":");
    let _ = serde_json::to_writer(&mut invocation, &metadata);
    invocation.push(b'}');
    invocation
}

/// Appends what Json.NET makes of an array of strings: the array's JSON text, as a JSON string
/// (`"[\"a\",\"b\"]"`). Written in one pass, each body escaped twice at once: serialising the
/// array and then the text holding it scanned and copied every body twice, and the bodies are
/// most of an invocation's bytes.
fn push_string_array_json_text(out: &mut Vec<u8>, bodies: &[&str]) {
    out.extend_from_slice(b"\"[");
    for (index, body) in bodies.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(br#"\""#);
        push_escaped_twice(out, body);
        out.extend_from_slice(br#"\""#);
    }
    out.extend_from_slice(b"]\"");
}

/// `text` escaped as JSON string content (serde_json's escapes), and that escaped once more.
fn push_escaped_twice(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[plain_from..at]);
        plain_from = at + 1;
        match byte {
            b'"' => out.extend_from_slice(br#"\\\""#),
            b'\\' => out.extend_from_slice(br"\\\\"),
            b'\n' => out.extend_from_slice(br"\\n"),
            b'\r' => out.extend_from_slice(br"\\r"),
            b'\t' => out.extend_from_slice(br"\\t"),
            0x08 => out.extend_from_slice(br"\\b"),
            0x0c => out.extend_from_slice(br"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
        }
    }
    out.extend_from_slice(&bytes[plain_from..]);
}

/// The trigger's binding data: the partition, each `*Array` key as a string holding JSON (Json.NET
/// cannot make a `JObject` of an array), `sys`, and `RetryContext` under a retry policy.
#[derive(Serialize)]
struct EventBatchMetadata<'a> {
    #[serde(rename = "PartitionContext")]
    partition_context: PartitionContext<'a>,
    #[serde(rename = "PartitionKeyArray")]
    partition_keys: String,
    #[serde(rename = "OffsetArray")]
    offsets: String,
    #[serde(rename = "SequenceNumberArray")]
    sequence_numbers: String,
    #[serde(rename = "EnqueuedTimeUtcArray")]
    enqueued_times: String,
    #[serde(rename = "PropertiesArray")]
    properties: String,
    #[serde(rename = "SystemPropertiesArray")]
    system_properties: String,
    sys: Value,
    #[serde(rename = "RetryContext", skip_serializing_if = "Option::is_none")]
    retry_context: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PartitionContext<'a> {
    fully_qualified_namespace: &'a str,
    event_hub_name: &'a str,
    consumer_group: &'a str,
    partition_id: String,
    is_checkpointing_after_invocation: bool,
}

/// A timer invocation: `TimerInfo` with the schedule status the monitor keeps.
pub fn timer(function: &str, binding: &str, last_ms: Option<i64>, next_ms: i64, is_past_due: bool) -> Value {
    let mut timer = json!({ "Schedule": { "AdjustForDST": true }, "IsPastDue": is_past_due });
    // The monitor has no status before the first run, and the host then leaves the key out.
    if let Some(last) = last_ms {
        timer["ScheduleStatus"] =
            json!({ "Last": offset_text(last), "Next": offset_text(next_ms), "LastUpdated": offset_text(last) });
    }
    json!({ "Data": { binding: timer }, "Metadata": { "sys": sys(function) } })
}

/// Json.NET's treatment of a value it cannot make a `JObject` of: the value's JSON, as a string.
fn json_text(value: &impl Serialize) -> String {
    // Strings, numbers and derived structs always serialise.
    serde_json::to_string(value).unwrap_or_default()
}

/// An event's (empty) application properties: `{}`.
#[derive(Serialize)]
struct EmptyObject {}

/// An event's system properties, as the host lists them per event: the same values as the
/// parallel arrays, so they are borrowed from those.
#[derive(Serialize)]
struct SystemProperties<'a> {
    #[serde(rename = "x-opt-sequence-number")]
    opt_sequence_number: i64,
    #[serde(rename = "x-opt-offset")]
    opt_offset: &'a str,
    #[serde(rename = "x-opt-enqueued-time")]
    opt_enqueued_time: &'a str,
    #[serde(rename = "x-opt-partition-key")]
    opt_partition_key: Option<&'a str>,
    #[serde(rename = "SequenceNumber")]
    sequence_number: i64,
    #[serde(rename = "Offset")]
    offset: &'a str,
    #[serde(rename = "PartitionKey")]
    partition_key: Option<&'a str>,
    #[serde(rename = "EnqueuedTimeUtc")]
    enqueued_time_utc: &'a str,
}

impl<'a> SystemProperties<'a> {
    fn of(
        sequence_number: i64,
        offset: &'a str,
        enqueued: &'a str,
        partition_key: Option<&'a str>,
    ) -> SystemProperties<'a> {
        SystemProperties {
            opt_sequence_number: sequence_number,
            opt_offset: offset,
            opt_enqueued_time: enqueued,
            opt_partition_key: partition_key,
            sequence_number,
            offset,
            partition_key,
            enqueued_time_utc: enqueued,
        }
    }
}

fn retry_context(retry: &RetryState) -> Value {
    let exception = retry.exception.map(|message| json!({ "ClassName": "System.Exception", "Message": message }));
    json!({ "RetryCount": retry.retry_count, "MaxRetryCount": retry.max_retry_count, "Exception": exception })
}

fn sys(function: &str) -> Value {
    json!({
        "MethodName": function,
        "UtcNow": utc_text(chrono::Utc::now().timestamp_millis()),
        "RandGuid": uuid::Uuid::new_v4().to_string()
    })
}

/// `2026-10-20T10:01:02.123Z`, as Json.NET writes a UTC `DateTime`.
pub fn utc_text(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2026-10-20T10:01:00+00:00`, as the timer's schedule status is written.
fn offset_text(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[cfg(test)]
mod tests {
    use switch_handler::InvocationRequest;

    use super::*;

    fn stored(sequence_number: i64, key: Option<&str>, body: &str) -> Arc<StoredEvent> {
        Arc::new(StoredEvent {
            sequence_number,
            offset: sequence_number as u64 * 100,
            enqueued_ms: 1_790_000_000_123,
            partition_key: key.map(str::to_string),
            body: body.to_string(),
        })
    }

    #[test]
    fn an_event_batch_decodes_with_the_handlers_decoder() {
        let events = vec![stored(7, Some("12"), r#"{"a":"b"}"#), stored(8, None, "plain text")];
        let source = BatchSource { hub: "transfer-position", consumer_group: "cg-position", partition: 3 };
        let retry = RetryState { retry_count: 1, max_retry_count: 5, exception: Some("boom") };
        let body = event_batch("position", "events", &source, &events, Some(&retry));
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert!(parsed["Data"]["events"].is_string(), "the batch travels as a string holding JSON");
        assert!(parsed["Metadata"]["SequenceNumberArray"].is_string(), "so does each metadata array");
        let batch = InvocationRequest::from_slice(&body).unwrap().into_event_batch("events").unwrap();
        assert_eq!(batch.events.len(), 2);
        assert_eq!(batch.events[0].body, r#"{"a":"b"}"#);
        assert_eq!(batch.events[0].partition_key.as_deref(), Some("12"));
        assert_eq!(batch.events[1].partition_key, None);
        assert_eq!(batch.events[1].sequence_number, 8);
        assert_eq!(batch.events[1].offset, "800");
        assert_eq!(batch.events[0].enqueued_time_utc, "2026-09-21T14:13:20.123Z");
        assert_eq!(batch.partition.partition_id, "3");
        assert_eq!(batch.partition.event_hub_name, "transfer-position");
        let retry = batch.retry.unwrap();
        assert_eq!((retry.retry_count, retry.max_retry_count), (1, 5));
        assert_eq!(retry.exception_message(), Some("boom"));
    }

    proptest::proptest! {
        /// The one-pass writer gives exactly what serialising the array and then its text gives.
        #[test]
        fn bodies_are_escaped_twice_in_one_pass(bodies in proptest::collection::vec("(?s).{0,24}|[\"\\\\\\x00-\\x1f\\x7f]{0,6}", 0..5)) {
            let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
            let mut one_pass = Vec::new();
            push_string_array_json_text(&mut one_pass, &bodies);
            proptest::prop_assert_eq!(String::from_utf8(one_pass).unwrap(), json_text(&json_text(&bodies)));
        }
    }

    #[test]
    fn a_timer_invocation_decodes_with_the_handlers_decoder() {
        let first = InvocationRequest::from_value(timer("timeout", "timer", None, 15_000, false))
            .unwrap()
            .into_timer("timer")
            .unwrap();
        assert_eq!(first.schedule_status, None);
        let later = InvocationRequest::from_value(timer("timeout", "timer", Some(15_000), 30_000, true))
            .unwrap()
            .into_timer("timer")
            .unwrap();
        assert!(later.is_past_due);
        assert_eq!(later.schedule_status.unwrap().next.as_deref(), Some("1970-01-01T00:00:30+00:00"));
        assert_eq!(later.sys.method_name, "timeout");
    }
}
