//! Table-driven decoding of the recorded invocation bodies in `tests/fixtures/invocations/`, and of
//! malformed variants of them: each must decode to exactly the expected value or the named error.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};
use switch_handler::invocation::{JsonKind, ScheduleStatus, EVENTS_BINDING, HTTP_REQUEST_BINDING, TIMER_BINDING};
use switch_handler::{
    Event, EventBatch, HttpBody, HttpTriggerRequest, InvocationError, InvocationRequest, PartitionContext,
    RetryContext, Sys, TimerInvocation,
};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invocations").join(name)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture_bytes(name)).unwrap_or_else(|e| panic!("fixture {name} is JSON: {e}"))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected an object, got {other}"),
    }
}

/// The bodies exactly as the plain fixture lists them, read without the crate's decoder.
fn plain_bodies() -> Vec<String> {
    let events = fixture_json("eventhub_batch_plain.json")["Data"]["events"].clone();
    serde_json::from_value(events).unwrap_or_else(|e| panic!("plain bodies are strings: {e}"))
}

fn position_batch() -> EventBatch {
    let bodies = plain_bodies();
    let keys = ["7", "7", "12"];
    let offsets = ["12884903936", "12884904192", "12884904448"];
    let times = ["2026-10-20T10:01:02.123Z", "2026-10-20T10:01:02.13Z", "2026-10-20T10:01:02.2Z"];
    let transfers = [
        "b51ec534-ee48-4575-b6a9-ead2955b8069",
        "0f1f0a56-5f43-4f6c-9a53-1d2a1c6a7b01",
        "6a9a8b7c-2d3e-4f50-8a61-7b8c9d0e1f22",
    ];
    let sources = ["payerfsp", "payerfsp", "payeefsp"];
    let events = (0..3)
        .map(|i| Event {
            body: bodies[i].clone(),
            partition_key: Some(keys[i].to_owned()),
            offset: offsets[i].to_owned(),
            sequence_number: 1021 + i as i64,
            enqueued_time_utc: times[i].to_owned(),
            properties: object(json!({"transferId": transfers[i], "fspiop-source": sources[i]})),
            system_properties: object(json!({
                "x-opt-sequence-number": 1021 + i, "x-opt-offset": offsets[i], "x-opt-enqueued-time": times[i],
                "x-opt-partition-key": keys[i], "SequenceNumber": 1021 + i, "Offset": offsets[i],
                "PartitionKey": keys[i], "EnqueuedTimeUtc": times[i]
            })),
        })
        .collect();
    EventBatch {
        partition: PartitionContext {
            fully_qualified_namespace: "evhns-switch.servicebus.windows.net".into(),
            event_hub_name: "transfer-position".into(),
            consumer_group: "cg-position".into(),
            partition_id: "3".into(),
            is_checkpointing_after_invocation: Some(true),
        },
        events,
        sys: Sys {
            method_name: "position".into(),
            utc_now: "2026-10-20T10:01:02.2501234Z".into(),
            rand_guid: "3f9a0c1e-7b2d-4e8f-a6c5-0d1e2f3a4b5c".into(),
        },
        retry: None,
    }
}

/// The retry fixture, checked field by field (its bodies are compared by content below).
fn check_retry_batch(batch: &EventBatch) {
    assert_eq!(batch.partition.event_hub_name, "transfer-prepare");
    assert_eq!(batch.partition.partition_id, "0");
    assert_eq!(batch.partition.is_checkpointing_after_invocation, None);
    assert_eq!(batch.sys.method_name, "prepare");
    let offsets: Vec<&str> = batch.events.iter().map(|e| e.offset.as_str()).collect();
    assert_eq!(offsets, ["4294967296", "4294967552"]);
    let sequence_numbers: Vec<i64> = batch.events.iter().map(|e| e.sequence_number).collect();
    assert_eq!(sequence_numbers, [17, 18]);
    assert!(batch.events.iter().all(|e| e.partition_key.is_none() && e.properties.is_empty()));
    assert_eq!(batch.events[1].system_properties["PartitionKey"], Value::Null);
    let ids: Vec<Value> = batch
        .bodies()
        .map(|body| serde_json::from_str::<Value>(body).map(|v| v["transferId"].clone()).unwrap_or_default())
        .collect();
    assert_eq!(ids, [json!("c0ffee00-1111-4222-8333-444455556666"), json!("c0ffee00-7777-4888-9999-aaaabbbbcccc")]);
    let Some(retry) = &batch.retry else { panic!("the retry fixture has a RetryContext") };
    assert_eq!((retry.retry_count, retry.max_retry_count), (2, 5));
    assert!(!retry.is_last_attempt());
    assert_eq!(
        retry.exception_message(),
        Some("Response status code does not indicate success: 503 (Service Unavailable).")
    );
}

fn timer_tick() -> TimerInvocation {
    TimerInvocation {
        schedule: Some(json!({"AdjustForDST": true})),
        schedule_status: Some(ScheduleStatus {
            last: Some("2026-10-20T10:01:00+00:00".into()),
            next: Some("2026-10-20T10:01:15+00:00".into()),
            last_updated: Some("2026-10-20T10:01:00+00:00".into()),
        }),
        is_past_due: false,
        sys: Sys {
            method_name: "timeout".into(),
            utc_now: "2026-10-20T10:01:15.0050000Z".into(),
            rand_guid: "7e0c2a4b-6d8f-4a1b-9c3d-5e7f9a1b3c5d".into(),
        },
        retry: None,
    }
}

fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn put_transfer() -> HttpTriggerRequest {
    let id = "b51ec534-ee48-4575-b6a9-ead2955b8069";
    let body = r#"{"fulfilment":"UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA","completedTimestamp":"2026-10-20T10:01:03.000Z","transferState":"COMMITTED"}"#;
    let length = body.len().to_string();
    let headers = [
        ("Accept", "application/vnd.interoperability.transfers+json;version=1"),
        ("Content-Type", "application/vnd.interoperability.transfers+json;version=1.1"),
        ("Content-Length", length.as_str()),
        ("Date", "Tue, 20 Oct 2026 10:01:03 GMT"),
        ("Host", "func-switch.azurewebsites.net"),
        ("FSPIOP-Source", "payeefsp"),
        ("FSPIOP-Destination", "payerfsp"),
    ];
    HttpTriggerRequest {
        url: format!("https://func-switch.azurewebsites.net/transfers/{id}"),
        method: "PUT".into(),
        query: BTreeMap::new(),
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()])).collect(),
        params: strings(&[("rest", id)]),
        body: HttpBody::Text(body.into()),
    }
}

fn binary_health() -> HttpTriggerRequest {
    HttpTriggerRequest {
        url: "http://localhost:7071/health?verbose=true&verbose=1".into(),
        method: "GET".into(),
        query: strings(&[("verbose", "true,1")]),
        headers: [("content-type", "application/octet-stream"), ("content-length", "16")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
            .collect(),
        params: BTreeMap::new(),
        body: HttpBody::Binary((0..=255).step_by(17).collect()),
    }
}

/// What a fixture must decode to.
enum Expected {
    Batch(EventBatch),
    BatchChecked(fn(&EventBatch)),
    Timer(TimerInvocation),
    Http(HttpTriggerRequest),
}

fn check(name: &str, expected: Expected) {
    let request = InvocationRequest::from_slice(&fixture_bytes(name));
    let request = request.unwrap_or_else(|e| panic!("{name}: {e}"));
    match expected {
        Expected::Batch(batch) => assert_eq!(request.into_event_batch(EVENTS_BINDING), Ok(batch), "{name}"),
        Expected::BatchChecked(check) => match request.into_event_batch(EVENTS_BINDING) {
            Ok(batch) => check(&batch),
            Err(e) => panic!("{name}: {e}"),
        },
        Expected::Timer(timer) => assert_eq!(request.into_timer(TIMER_BINDING), Ok(timer), "{name}"),
        Expected::Http(http) => assert_eq!(request.into_http_request(HTTP_REQUEST_BINDING), Ok(http), "{name}"),
    }
}

#[test]
fn every_fixture_decodes_to_what_it_records() {
    let table = [
        ("eventhub_batch_double_encoded.json", Expected::Batch(position_batch())),
        ("eventhub_batch_plain.json", Expected::Batch(position_batch())),
        ("eventhub_batch_retry.json", Expected::BatchChecked(check_retry_batch)),
        ("timer.json", Expected::Timer(timer_tick())),
        ("http_trigger.json", Expected::Http(put_transfer())),
        ("http_trigger_binary.json", Expected::Http(binary_health())),
    ];
    for (name, expected) in table {
        check(name, expected);
    }
}

#[test]
fn every_fixture_file_is_in_the_table() {
    let dir = fixture_path("");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "eventhub_batch_double_encoded.json",
            "eventhub_batch_plain.json",
            "eventhub_batch_retry.json",
            "http_trigger.json",
            "http_trigger_binary.json",
            "timer.json",
        ]
    );
}

#[test]
fn bodies_keep_the_producers_bytes() {
    let Ok(batch) = InvocationRequest::from_slice(&fixture_bytes("eventhub_batch_double_encoded.json"))
        .and_then(|r| r.into_event_batch(EVENTS_BINDING))
    else {
        panic!("the double-encoded fixture decodes")
    };
    let first: Value = serde_json::from_str(&batch.events[0].body).unwrap_or_default();
    assert_eq!(first["metadata"]["event"]["action"], "prepare");
    assert_eq!(first["content"]["headers"]["fspiop-source"], "payerfsp");
    assert!(batch.events[0].body.starts_with(r#"{"id":"b51ec534-ee48-4575-b6a9-ead2955b8069","from":"payerfsp""#));
}

/// Decodes the double-encoded batch after `edit` has changed its JSON.
fn decode_edited(edit: impl FnOnce(&mut Value)) -> Result<EventBatch, InvocationError> {
    let mut body = fixture_json("eventhub_batch_double_encoded.json");
    edit(&mut body);
    InvocationRequest::from_value(body).and_then(|r| r.into_event_batch(EVENTS_BINDING))
}

fn missing(field: &str) -> InvocationError {
    InvocationError::Missing { field: field.into() }
}

#[test]
fn malformed_batches_are_named_errors() {
    type Edit = fn(&mut Value);
    let table: [(&str, Edit, InvocationError); 9] = [
        (
            "a metadata array shorter than the batch",
            |b| b["Metadata"]["SequenceNumberArray"] = json!("[1021,1022]"),
            InvocationError::LengthMismatch { field: "Metadata.SequenceNumberArray".into(), expected: 3, found: 2 },
        ),
        (
            "a metadata array longer than the batch",
            |b| b["Metadata"]["PartitionKeyArray"] = json!(["7", "7", "12", "12"]),
            InvocationError::LengthMismatch { field: "Metadata.PartitionKeyArray".into(), expected: 3, found: 4 },
        ),
        ("no events", |b| b["Data"] = json!({}), missing("Data.events")),
        (
            "no partition context",
            |b| b["Metadata"]["PartitionContext"] = Value::Null,
            missing("Metadata.PartitionContext"),
        ),
        ("no sys", |b| b["Metadata"]["sys"] = Value::Null, missing("Metadata.sys")),
        (
            "events as an object",
            |b| b["Data"]["events"] = json!({"0": "x"}),
            InvocationError::WrongType {
                field: "Data.events".into(),
                expected: JsonKind::Array,
                found: JsonKind::Object,
            },
        ),
        (
            "events as text that is not JSON",
            |b| b["Data"]["events"] = json!("not json"),
            InvocationError::NotEncodedJson { field: "Data.events".into(), expected: JsonKind::Array },
        ),
        (
            "an event body that is an object (dataType missing)",
            |b| b["Data"]["events"] = json!([{"id": 1}, "b", "c"]),
            InvocationError::WrongType {
                field: "Data.events[0]".into(),
                expected: JsonKind::String,
                found: JsonKind::Object,
            },
        ),
        (
            "a sequence number that is not an integer",
            |b| b["Metadata"]["SequenceNumberArray"] = json!([1, "x", 3]),
            InvocationError::NotEncodedJson {
                field: "Metadata.SequenceNumberArray[1]".into(),
                expected: JsonKind::Integer,
            },
        ),
    ];
    for (index, (what, edit, error)) in table.into_iter().enumerate() {
        assert_eq!(decode_edited(edit), Err(error.clone()), "{what}");
        // The bodies-only reader refuses the same batches with the same error, except one whose
        // damage lies in metadata values it does not return (it still checks their count).
        let mut body = fixture_json("eventhub_batch_double_encoded.json");
        edit(&mut body);
        let quick = EventBatch::bodies_from_slice(body.to_string().as_bytes(), EVENTS_BINDING);
        match index == 8 {
            true => assert_eq!(quick.map(|it| it.len()), Ok(3), "{what}"),
            false => assert_eq!(quick, Err(error), "{what}"),
        }
    }
}

#[test]
fn bodies_alone_read_as_the_full_decoder_reads_them() {
    for name in ["eventhub_batch_double_encoded.json", "eventhub_batch_plain.json", "eventhub_batch_retry.json"] {
        let bytes = fixture_bytes(name);
        let full = InvocationRequest::from_slice(&bytes)
            .and_then(|r| r.into_event_batch(EVENTS_BINDING))
            .map(EventBatch::into_bodies);
        assert!(full.as_ref().is_ok_and(|it| !it.is_empty()), "{name}: {full:?}");
        assert_eq!(EventBatch::bodies_from_slice(&bytes, EVENTS_BINDING), full, "{name}");
    }
    // A body the host quoted once more, and keys in another case, read the same both ways.
    let mut body = fixture_json("eventhub_batch_double_encoded.json");
    body["Data"]["events"] = json!(json!(["\"{\\\"a\\\":1}\"", "plain", "\"quoted\""]).to_string());
    let quoted = EventBatch::bodies_from_slice(body.to_string().as_bytes(), EVENTS_BINDING);
    assert_eq!(quoted, Ok(vec![r#"{"a":1}"#.to_string(), "plain".into(), "quoted".into()]));
    let mut body = fixture_json("eventhub_batch_double_encoded.json");
    let events = body["Data"]["events"].take();
    body["Data"] = json!({ "Events": events });
    let full = InvocationRequest::from_value(body.clone())
        .and_then(|r| r.into_event_batch(EVENTS_BINDING))
        .map(EventBatch::into_bodies);
    assert_eq!(full.as_ref().map(Vec::len), Ok(3));
    assert_eq!(EventBatch::bodies_from_slice(body.to_string().as_bytes(), EVENTS_BINDING), full);
}

#[test]
fn retry_context_bounds_are_checked() {
    let with_retry =
        |retry: Value| decode_edited(move |b| b["Metadata"]["RetryContext"] = retry).map(|batch| batch.retry);
    let last = RetryContext { retry_count: 5, max_retry_count: 5, exception: None };
    assert_eq!(with_retry(json!({"RetryCount": 5, "MaxRetryCount": 5, "Exception": null})), Ok(Some(last.clone())));
    assert!(last.is_last_attempt());
    let forever = RetryContext { retry_count: 99, max_retry_count: -1, exception: None };
    assert!(!forever.is_last_attempt());
    assert_eq!(
        with_retry(json!({"RetryCount": -1, "MaxRetryCount": 5})),
        Err(InvocationError::OutOfRange { field: "Metadata.RetryContext.RetryCount".into(), value: "-1".into() })
    );
    assert_eq!(
        with_retry(json!({"RetryCount": 0, "MaxRetryCount": -2})),
        Err(InvocationError::OutOfRange { field: "Metadata.RetryContext.MaxRetryCount".into(), value: "-2".into() })
    );
    assert_eq!(with_retry(json!({"MaxRetryCount": 5})), Err(missing("Metadata.RetryContext.RetryCount")));
}

#[test]
fn request_envelope_errors() {
    assert!(matches!(InvocationRequest::from_slice(b""), Err(InvocationError::NotJson { .. })));
    assert!(matches!(InvocationRequest::from_slice(b"{\"Data\":"), Err(InvocationError::NotJson { .. })));
    assert_eq!(
        InvocationRequest::from_slice(b"[]"),
        Err(InvocationError::WrongType {
            field: "(invocation body)".into(),
            expected: JsonKind::Object,
            found: JsonKind::Array
        })
    );
    assert_eq!(InvocationRequest::from_slice(b"{}"), Ok(InvocationRequest::default()));
    let doubled = InvocationRequest::from_slice(br#"{"Data":"{\"timer\":{}}","metadata":{"sys":{}}}"#);
    let Ok(doubled) = doubled else { panic!("double-encoded Data and lower-case Metadata decode") };
    assert_eq!(doubled.data["timer"], json!({}));
    assert_eq!(doubled.metadata["sys"], json!({}));
}

#[test]
fn timer_defaults_when_the_host_says_little() {
    let body = br#"{"Data":{"timer":"{\"IsPastDue\":\"True\"}"},"Metadata":{"sys":{"MethodName":"timeout","UtcNow":"u","RandGuid":"g"}}}"#;
    let timer = InvocationRequest::from_slice(body).and_then(|r| r.into_timer(TIMER_BINDING));
    let Ok(timer) = timer else { panic!("a minimal timer decodes: {timer:?}") };
    assert!(timer.is_past_due);
    assert_eq!((timer.schedule, timer.schedule_status, timer.retry), (None, None, None));
}

#[test]
fn http_request_header_lookup_ignores_case() {
    let request = put_transfer();
    assert_eq!(request.header("fspiop-source"), Some("payeefsp"));
    assert_eq!(request.header("CONTENT-TYPE"), Some("application/vnd.interoperability.transfers+json;version=1.1"));
    assert_eq!(request.header("x-missing"), None);
}

#[test]
fn http_binary_body_must_be_base64() {
    let mut body = fixture_json("http_trigger_binary.json");
    body["Data"]["req"]["Body"] = json!("not base64 ***");
    let decoded = InvocationRequest::from_value(body).and_then(|r| r.into_http_request(HTTP_REQUEST_BINDING));
    assert!(matches!(decoded, Err(InvocationError::InvalidBase64 { field, .. }) if field == "Data.req.Body"));
}
