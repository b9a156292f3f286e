//! The Event Hubs trigger with `cardinality: many` and `dataType: string`: one invocation carries a
//! batch of events from one partition, plus per-event metadata in parallel arrays (azure.md §1.5).
//!
//! The host sends the bodies as `Data.<binding>` and the metadata as `Metadata.*Array` keys, each
//! an array (or a string holding one) indexed like the bodies. [`EventBatch::decode`] checks the
//! arrays line up and zips them into one [`Event`] per body, so a caller can never pair a body
//! with another event's partition key or sequence number.
//!
//! A function that needs only the bodies reads them with [`EventBatch::bodies_from_slice`], which
//! borrows from the request bytes instead of building a JSON tree of the whole batch: on the hot
//! path that tree cost a tenth of the handler's CPU.

use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
#[cfg(test)]
use serde_json::json;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::decode::{self, join};
use super::error::InvocationError;
use super::{InvocationRequest, RetryContext, Sys};

/// The metadata arrays, each with one entry per event, in the order the host names them.
const PARTITION_KEYS: &str = "PartitionKeyArray";
const OFFSETS: &str = "OffsetArray";
const SEQUENCE_NUMBERS: &str = "SequenceNumberArray";
const ENQUEUED_TIMES: &str = "EnqueuedTimeUtcArray";
const PROPERTIES: &str = "PropertiesArray";
const SYSTEM_PROPERTIES: &str = "SystemPropertiesArray";

/// Which partition of which hub the batch came from, and how the host will checkpoint it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionContext {
    /// `<namespace>.servicebus.windows.net`.
    pub fully_qualified_namespace: String,
    pub event_hub_name: String,
    pub consumer_group: String,
    pub partition_id: String,
    /// `None` when the extension version does not report it. Either way the host checkpoints
    /// after the invocation whether it succeeded or failed (azure.md §1.7).
    pub is_checkpointing_after_invocation: Option<bool>,
}

/// One event of a batch: its body and the metadata the host sent for the same index.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The UTF-8 body as sent by the producer, byte for byte (one JSON-string layer the host may
    /// have added is removed; a body that is itself a bare JSON string literal therefore loses its
    /// quotes, which no Mojaloop message is).
    pub body: String,
    /// `None` for events published without a partition key.
    pub partition_key: Option<String>,
    /// The offset as decimal text (a number in older extension versions, a string in newer ones).
    pub offset: String,
    pub sequence_number: i64,
    /// ISO 8601 as the host wrote it, e.g. `2026-10-20T10:01:02.123Z`.
    pub enqueued_time_utc: String,
    /// The producer's AMQP application properties.
    pub properties: Map<String, Value>,
    /// The broker's annotations (`x-opt-sequence-number`, …) and their .NET names (`Offset`, …).
    pub system_properties: Map<String, Value>,
}

/// A decoded Event Hubs batch invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBatch {
    pub partition: PartitionContext,
    /// In partition order, as delivered. May be empty.
    pub events: Vec<Event>,
    pub sys: Sys,
    /// Present only when the function has a retry policy.
    pub retry: Option<RetryContext>,
}

impl EventBatch {
    /// Decodes the batch bound to `binding` (the trigger's `name` in function.json).
    pub fn decode(mut request: InvocationRequest, binding: &str) -> Result<EventBatch, InvocationError> {
        let bodies_field = join("Data", binding);
        let bodies = decode::array(decode::require(&mut request.data, "Data", binding)?, &bodies_field)?;
        let count = bodies.len();
        let metadata = &mut request.metadata;
        let partition = PartitionContext::decode(decode::require(metadata, "Metadata", "PartitionContext")?)?;
        let columns = Columns {
            partition_keys: aligned(metadata, PARTITION_KEYS, count)?,
            offsets: aligned(metadata, OFFSETS, count)?,
            sequence_numbers: aligned(metadata, SEQUENCE_NUMBERS, count)?,
            enqueued_times: aligned(metadata, ENQUEUED_TIMES, count)?,
            properties: aligned(metadata, PROPERTIES, count)?,
            system_properties: aligned(metadata, SYSTEM_PROPERTIES, count)?,
        };
        let events = columns.zip(bodies, &bodies_field)?;
        let sys = Sys::decode(decode::require(metadata, "Metadata", "sys")?, "Metadata.sys")?;
        let retry = RetryContext::decode_optional(metadata)?;
        Ok(EventBatch { partition, events, sys, retry })
    }

    /// The bodies alone, in batch order.
    pub fn bodies(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(|event| event.body.as_str())
    }

    /// The bodies alone, in batch order, moved out of the batch.
    pub fn into_bodies(self) -> Vec<String> {
        self.events.into_iter().map(|event| event.body).collect()
    }

    /// The bodies of the batch bound to `binding`, read straight from the request bytes: the
    /// same bodies [`EventBatch::decode`] gives whenever it accepts the request.
    ///
    /// The quick reading takes the shape the host sends (exact key names, each array plain or in
    /// one string layer) and checks what makes a batch a batch: every metadata array has one entry
    /// per body, `PartitionContext` and `sys` are there, and a `RetryContext`, if any, reads. It
    /// does not look inside the other metadata it does not return. Anything else (other key cases,
    /// deeper encodings) goes through [`EventBatch::decode`], which also names what is wrong.
    pub fn bodies_from_slice(body: &[u8], binding: &str) -> Result<Vec<String>, InvocationError> {
        match quick_bodies(body, binding) {
            Some(bodies) => Ok(bodies),
            None => InvocationRequest::from_slice(body)
                .and_then(|it| it.into_event_batch(binding))
                .map(EventBatch::into_bodies),
        }
    }
}

/// The invocation's two halves, each value left as its raw JSON text.
#[derive(Deserialize)]
struct RawInvocation<'a> {
    #[serde(rename = "Data", borrow)]
    data: HashMap<&'a str, &'a RawValue>,
    #[serde(rename = "Metadata", borrow)]
    metadata: HashMap<&'a str, &'a RawValue>,
}

/// [`EventBatch::bodies_from_slice`]'s quick reading; `None` whenever it is not sure.
fn quick_bodies(body: &[u8], binding: &str) -> Option<Vec<String>> {
    let request: RawInvocation = serde_json::from_slice(body).ok()?;
    let metadata = &request.metadata;
    let has = |key: &str| metadata.get(key).is_some_and(|raw| raw.get() != "null");
    if !has("PartitionContext") || !has("sys") || !retry_context_reads(metadata) {
        return None;
    }
    let bodies = unwrap_one_layer(request.data.get(binding)?, |text| serde_json::from_str::<Vec<String>>(text).ok())?;
    for key in [PARTITION_KEYS, OFFSETS, SEQUENCE_NUMBERS, ENQUEUED_TIMES, PROPERTIES, SYSTEM_PROPERTIES] {
        let count = unwrap_one_layer(metadata.get(key)?, |text| {
            serde_json::from_str::<Vec<IgnoredAny>>(text).ok().map(|it| it.len())
        })?;
        if count != bodies.len() {
            return None;
        }
    }
    // A body the host quoted once more loses those quotes, as in `decode::text`.
    bodies.into_iter().map(|body| decode::text(Value::String(body), "").ok()).collect()
}

/// Every function with a retry policy gets a `RetryContext` with every batch, so the quick
/// reading takes one, but only under its exact name and only if it reads as the full decoder
/// reads it (the bodies do not depend on it; whether the request is accepted does).
fn retry_context_reads(metadata: &HashMap<&str, &RawValue>) -> bool {
    const KEY: &str = "RetryContext";
    if metadata.keys().any(|key| *key != KEY && key.eq_ignore_ascii_case(KEY)) {
        return false;
    }
    let Some(raw) = metadata.get(KEY) else { return true };
    let Ok(value) = serde_json::from_str::<Value>(raw.get()) else { return false };
    RetryContext::decode_optional(&mut Map::from_iter([(KEY.to_string(), value)])).is_ok()
}

/// Reads an array with `read`, from `raw` itself or from the JSON text inside the string `raw`
/// holds (the host's one layer of encoding).
fn unwrap_one_layer<T>(raw: &RawValue, read: impl Fn(&str) -> Option<T>) -> Option<T> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'[') => read(text),
        Some(b'"') => {
            let inner: std::borrow::Cow<str> = serde_json::from_str(text).ok()?;
            inner.trim_start().starts_with('[').then(|| read(&inner)).flatten()
        }
        _ => None,
    }
}

impl PartitionContext {
    fn decode(value: Value) -> Result<PartitionContext, InvocationError> {
        const FIELD: &str = "Metadata.PartitionContext";
        let mut map = decode::object(value, FIELD)?;
        let mut scalar = |key: &str| decode::scalar_text(decode::require(&mut map, FIELD, key)?, &join(FIELD, key));
        let fully_qualified_namespace = scalar("FullyQualifiedNamespace")?;
        let event_hub_name = scalar("EventHubName")?;
        let consumer_group = scalar("ConsumerGroup")?;
        let partition_id = scalar("PartitionId")?;
        let checkpointing_key = "IsCheckpointingAfterInvocation";
        let is_checkpointing_after_invocation = match decode::take(&mut map, checkpointing_key) {
            Some(value) => Some(decode::boolean(value, &join(FIELD, checkpointing_key))?),
            None => None,
        };
        Ok(PartitionContext {
            fully_qualified_namespace,
            event_hub_name,
            consumer_group,
            partition_id,
            is_checkpointing_after_invocation,
        })
    }
}

/// The metadata arrays, already checked to have one entry per body.
struct Columns {
    partition_keys: Vec<Value>,
    offsets: Vec<Value>,
    sequence_numbers: Vec<Value>,
    enqueued_times: Vec<Value>,
    properties: Vec<Value>,
    system_properties: Vec<Value>,
}

impl Columns {
    /// Pairs each body with the metadata at its index. The lengths were checked by [`aligned`],
    /// so the zip drops nothing.
    fn zip(self, bodies: Vec<Value>, bodies_field: &str) -> Result<Vec<Event>, InvocationError> {
        let rows = bodies
            .into_iter()
            .zip(self.partition_keys)
            .zip(self.offsets)
            .zip(self.sequence_numbers)
            .zip(self.enqueued_times)
            .zip(self.properties)
            .zip(self.system_properties);
        let mut events = Vec::with_capacity(rows.size_hint().0);
        for (index, ((((((body, key), offset), sequence), enqueued), properties), system)) in rows.enumerate() {
            let at = |name: &str| format!("Metadata.{name}[{index}]");
            events.push(Event {
                body: decode::text(body, &format!("{bodies_field}[{index}]"))?,
                partition_key: optional_text(key, &at(PARTITION_KEYS))?,
                offset: decode::scalar_text(offset, &at(OFFSETS))?,
                sequence_number: decode::integer(sequence, &at(SEQUENCE_NUMBERS))?,
                enqueued_time_utc: decode::text(enqueued, &at(ENQUEUED_TIMES))?,
                properties: optional_object(properties, &at(PROPERTIES))?,
                system_properties: optional_object(system, &at(SYSTEM_PROPERTIES))?,
            });
        }
        Ok(events)
    }
}

/// Takes the metadata array `key` and checks it has exactly `count` entries.
fn aligned(metadata: &mut Map<String, Value>, key: &str, count: usize) -> Result<Vec<Value>, InvocationError> {
    let field = join("Metadata", key);
    let items = decode::array(decode::require(metadata, "Metadata", key)?, &field)?;
    match items.len() == count {
        true => Ok(items),
        false => Err(InvocationError::LengthMismatch { field, expected: count, found: items.len() }),
    }
}

fn optional_text(value: Value, field: &str) -> Result<Option<String>, InvocationError> {
    match value {
        Value::Null => Ok(None),
        other => decode::scalar_text(other, field).map(Some),
    }
}

/// A property bag; `null` (an event without properties) reads as empty.
fn optional_object(value: Value, field: &str) -> Result<Map<String, Value>, InvocationError> {
    match value {
        Value::Null => Ok(Map::new()),
        other => decode::object(other, field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRY_FIXTURE: &str = include_str!("../../tests/fixtures/invocations/eventhub_batch_retry.json");

    fn with_metadata(key: &str, value: Value) -> Vec<u8> {
        let mut request: Value = serde_json::from_str(RETRY_FIXTURE).unwrap();
        request["Metadata"][key] = value;
        request.to_string().into_bytes()
    }

    #[test]
    fn a_batch_under_a_retry_policy_is_read_quickly() {
        // Every function of the app has a retry policy, so this is the usual invocation.
        let full = InvocationRequest::from_slice(RETRY_FIXTURE.as_bytes()).and_then(|it| it.into_event_batch("events"));
        assert!(full.as_ref().is_ok_and(|it| it.retry.is_some()), "{full:?}");
        assert_eq!(quick_bodies(RETRY_FIXTURE.as_bytes(), "events"), full.ok().map(EventBatch::into_bodies));
        let in_a_string =
            with_metadata("RetryContext", json!(json!({"RetryCount": 1, "MaxRetryCount": 3}).to_string()));
        assert!(quick_bodies(&in_a_string, "events").is_some());
    }

    #[test]
    fn a_retry_context_the_full_decoder_refuses_or_another_case_goes_to_it() {
        for (key, value) in [
            ("RetryContext", json!({"RetryCount": -1, "MaxRetryCount": 3})),
            ("RetryContext", json!({"MaxRetryCount": 3})),
            ("RetryContext", json!(7)),
            ("retryContext", json!({"RetryCount": 1, "MaxRetryCount": 3})),
        ] {
            assert_eq!(quick_bodies(&with_metadata(key, value.clone()), "events"), None, "{key}: {value}");
        }
    }
}
