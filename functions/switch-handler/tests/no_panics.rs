//! Property tests: no byte string, JSON value or damaged fixture makes the invocation decoders panic,
//! and whatever they accept answers with a well-formed response.

use proptest::prelude::*;
use serde_json::{Map, Value};
use switch_handler::invocation::{EVENTS_BINDING, HTTP_REQUEST_BINDING, TIMER_BINDING};
use switch_handler::{EventBatch, InvocationRequest, InvocationResponse};

/// Keys the decoders look for, so generated objects often reach deep checks.
const KEYS: [&str; 24] = [
    "Data",
    "Metadata",
    "events",
    "timer",
    "req",
    "PartitionContext",
    "PartitionKeyArray",
    "OffsetArray",
    "SequenceNumberArray",
    "EnqueuedTimeUtcArray",
    "PropertiesArray",
    "SystemPropertiesArray",
    "sys",
    "RetryContext",
    "RetryCount",
    "MaxRetryCount",
    "PartitionId",
    "IsPastDue",
    "ScheduleStatus",
    "Url",
    "Method",
    "Headers",
    "Query",
    "Body",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => proptest::sample::select(KEYS.to_vec()).prop_map(str::to_owned), 1 => ".{0,8}"]
}

/// Any JSON value, sometimes wrapped in a JSON string the way the host double-encodes.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("True".into())),
        Just(Value::String("\"\\\"x\\\"\"".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner.clone()), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>())),
            inner.prop_map(|v| Value::String(v.to_string())),
        ]
    })
}

/// Runs every decoder on `request`; none may panic, an accepted batch must have one event per body,
/// and the bodies-only reader must give the same bodies as the full decoder.
fn decode_everything(request: InvocationRequest) {
    let bytes = serde_json::to_vec(&Value::Object(
        [
            ("Data".to_string(), Value::Object(request.data.clone())),
            ("Metadata".to_string(), Value::Object(request.metadata.clone())),
        ]
        .into_iter()
        .collect(),
    ))
    .unwrap_or_default();
    for binding in [EVENTS_BINDING, TIMER_BINDING, HTTP_REQUEST_BINDING, "Events"] {
        let quick = EventBatch::bodies_from_slice(&bytes, binding);
        if let Ok(batch) = request.clone().into_event_batch(binding) {
            assert_eq!(batch.bodies().count(), batch.events.len());
            assert_eq!(quick, Ok(batch.into_bodies()));
        }
        let _ = request.clone().into_timer(binding);
        let _ = request.clone().into_http_request(binding);
    }
}

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invocations").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const FIXTURES: [&str; 6] = [
    "eventhub_batch_double_encoded.json",
    "eventhub_batch_plain.json",
    "eventhub_batch_retry.json",
    "timer.json",
    "http_trigger.json",
    "http_trigger_binary.json",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(request) = InvocationRequest::from_slice(&body) {
            decode_everything(request);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in ".{0,64}") {
        for body in [text.clone(), format!("{{\"Data\":{text}}}"), Value::String(text.clone()).to_string()] {
            if let Ok(request) = InvocationRequest::from_slice(body.as_bytes()) {
                decode_everything(request);
            }
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        if let Ok(request) = InvocationRequest::from_value(value) {
            decode_everything(request);
        }
    }

    /// Real bodies with one part replaced: the decoders get far before meeting the damage.
    #[test]
    fn damaged_fixtures_never_panic(
        fixture_index in 0..FIXTURES.len(),
        half in proptest::sample::select(vec!["Data", "Metadata"]),
        key in key(),
        replacement in json_value(),
    ) {
        let mut body = fixture(FIXTURES[fixture_index]);
        if let Some(map) = body.get_mut(half).and_then(Value::as_object_mut) {
            map.insert(key, replacement);
        }
        if let Ok(request) = InvocationRequest::from_value(body) {
            decode_everything(request);
        }
    }

    /// Whatever the logs and outputs, the response body is the host's JSON object.
    #[test]
    fn responses_are_always_the_full_object(logs in proptest::collection::vec(".{0,16}", 0..4), output in json_value()) {
        let mut response = InvocationResponse::new();
        for line in &logs {
            response.log(line.clone());
        }
        let accepted = response.set_output("out", output.clone()).is_ok();
        let parsed: Value = serde_json::from_str(&response.to_json()).unwrap_or(Value::Null);
        prop_assert_eq!(&parsed["Logs"], &Value::from(logs));
        prop_assert!(parsed["Outputs"].is_object());
        prop_assert!(parsed.get("ReturnValue").is_some());
        prop_assert_eq!(parsed["Outputs"].get("out").is_some(), accepted);
        if let Value::String(text) = &output {
            prop_assert_eq!(accepted, !switch_handler::invocation::host_would_base64_decode(text));
        }
    }
}
