//! The event envelope every hub carries: Mojaloop's message shape (`id`, `from`, `to`, `content`
//! with the original headers and the raw body as a data URI, `metadata.event` with type, action
//! and state), plus a version number so that a deployment can tell old events from new ones.
//!
//! The body travels byte for byte, because the payee must receive the payer's original POST
//! (its JWS signature covers those bytes) and the duplicate check hashes it. Event ids are derived
//! from the event they respond to, so a redelivered batch re-emits events with the same ids the
//! first run gave them and downstream duplicates can be recognised.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fspiop::datetime::format_fspiop_datetime;
use fspiop::FspiopError;
use ledger_core::account::HUB_NAME;
use ledger_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The envelope format this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;
/// The media type of every envelope (Mojaloop's `type` field).
pub const ENVELOPE_MEDIA_TYPE: &str = "application/json";
const DATA_URI_PREFIX: &str = "data:";
const DATA_URI_BASE64_MARK: &str = ";base64,";

/// One event on a hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    /// The transfer id.
    pub id: String,
    pub from: String,
    pub to: String,
    #[serde(rename = "type")]
    pub media_type: String,
    pub content: Content,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    pub uri_params: UriParams,
    /// The request's headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// `data:<content-type>;base64,<body>`.
    pub payload: String,
    /// What only a [`EventKind::Journal`] event carries: the rest of the journal entry of a
    /// request the edge refused (`crate::audit`). Absent from every other event, so events
    /// written without it read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journaled: Option<JournaledRequest>,
}

/// The journal entry of a refused request beyond what an envelope holds anyway (headers in
/// `content.headers`, the body, cut to fit the event when it had to be, in `content.payload`,
/// the entry id as the event id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournaledRequest {
    pub method: String,
    pub url: String,
    /// The status the edge answered.
    pub http_status: u16,
    pub timestamp_ms: i64,
    /// The body as received: its length and SHA-256, and whether any field was cut.
    pub body_length: u64,
    pub body_sha256: String,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UriParams {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub correlation_id: String,
    pub event: EventMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMeta {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_to: Option<String>,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub action: Action,
    pub created_at: String,
    pub state: EventState,
}

/// Which function an event is for (Mojaloop's `event.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Prepare,
    Fulfil,
    Position,
    Notification,
    Get,
    /// Funds in and out on the admin-transfer hub.
    Admin,
    /// A closed settlement window on the settlement-window-close hub.
    Settlement,
    /// A refused request's journal entry, on the notification hub when the journal could not
    /// take it at once (`crate::audit`).
    Journal,
}

/// What the event asks for or reports (Mojaloop's `event.action`, without FX and bulk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Prepare,
    Commit,
    Reserve,
    Reject,
    Abort,
    AbortValidation,
    TimeoutReceived,
    TimeoutReserved,
    PrepareDuplicate,
    FulfilDuplicate,
    AbortDuplicate,
    ReservedAborted,
    Get,
    /// A funds action (`recordFundsIn`, …); the payload says which.
    RecordFunds,
    /// A settlement window was closed and awaits aggregation.
    Close,
    /// The edge refused a request (a [`EventKind::Journal`] event).
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventState {
    pub status: Status,
    pub code: u16,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Success,
    Error,
}

/// Why bytes are not an envelope this build can process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("not an envelope: {0}")]
    Malformed(String),
    #[error("envelope version {found} is not {ENVELOPE_VERSION}")]
    Version { found: u32 },
    #[error("payload is not a base64 data URI")]
    Payload,
}

impl EventState {
    pub fn success() -> EventState {
        EventState { status: Status::Success, code: 0, description: "action successful".to_string() }
    }

    pub fn error(error: &FspiopError) -> EventState {
        EventState { status: Status::Error, code: error.code().number(), description: error.description().to_string() }
    }
}

/// What a new request event is made of.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub transfer_id: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub headers: &'a BTreeMap<String, String>,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

impl Envelope {
    /// The first event of a request, as the FSPIOP edge publishes it.
    pub fn request(request: Request<'_>, kind: EventKind, action: Action, created: Timestamp) -> Envelope {
        let payload = data_uri(request.content_type, request.body);
        let seed = format!("{}|{}|{}", request.transfer_id, created.unix_ms(), payload);
        Envelope {
            v: ENVELOPE_VERSION,
            id: request.transfer_id.to_string(),
            from: request.from.to_string(),
            to: request.to.to_string(),
            media_type: ENVELOPE_MEDIA_TYPE.to_string(),
            content: Content {
                uri_params: UriParams { id: request.transfer_id.to_string() },
                headers: request.headers.clone(),
                payload,
                journaled: None,
            },
            metadata: Metadata {
                correlation_id: request.transfer_id.to_string(),
                event: EventMeta {
                    id: derived_event_id(&seed, kind, action),
                    response_to: None,
                    kind,
                    action,
                    created_at: format_fspiop_datetime(created),
                    state: EventState::success(),
                },
            },
        }
    }

    /// The journal event of a request the edge refused (`crate::audit`): its id is the journal
    /// entry's, so publishing it twice journals it once.
    pub fn refused(request: Request<'_>, entry_id: &str, journaled: JournaledRequest) -> Envelope {
        let created = Timestamp::from_unix_ms(journaled.timestamp_ms);
        let mut event = Envelope::request(request, EventKind::Journal, Action::Refused, created);
        event.metadata.correlation_id = entry_id.to_string();
        event.metadata.event.id = entry_id.to_string();
        event.metadata.event.state =
            EventState { status: Status::Error, code: journaled.http_status, description: String::new() };
        event.content.journaled = Some(journaled);
        event
    }

    /// An event the Hub starts itself (the timeout scan): addressed from the Hub to `to`, with
    /// an error as its payload.
    pub fn from_hub(
        transfer_id: &str,
        to: &str,
        kind: EventKind,
        action: Action,
        error: &FspiopError,
        created: Timestamp,
    ) -> Envelope {
        let headers = BTreeMap::from([
            ("fspiop-source".to_string(), HUB_NAME.to_string()),
            ("fspiop-destination".to_string(), to.to_string()),
        ]);
        let body = error.to_json();
        let request = Request {
            transfer_id,
            from: HUB_NAME,
            to,
            headers: &headers,
            content_type: ENVELOPE_MEDIA_TYPE,
            body: body.as_bytes(),
        };
        let mut event = Envelope::request(request, kind, action, created);
        // One id per transfer and step, as for pipeline steps: a rerun re-creates it.
        event.metadata.event.id = derived_event_id(&format!("hub|{transfer_id}"), kind, action);
        event.metadata.event.state = EventState::error(error);
        event
    }

    /// The event a function emits in response to this one: same content, a new id derived from
    /// this event's id, `responseTo` set.
    pub fn next(&self, kind: EventKind, action: Action, state: EventState, created: Timestamp) -> Envelope {
        let mut next = self.clone();
        next.metadata.event = EventMeta {
            id: derived_event_id(&self.metadata.event.id, kind, action),
            response_to: Some(self.metadata.event.id.clone()),
            kind,
            action,
            created_at: format_fspiop_datetime(created),
            state,
        };
        next
    }

    /// The event of a transfer's pipeline step (prepare → position → notification, …): like
    /// [`Envelope::next`], but the id derives from the transfer and the step, not from this
    /// event. A payer's resent request then leads to the same downstream events as the original,
    /// which the next function recognises, instead of to a second set.
    pub fn next_step(&self, kind: EventKind, action: Action, state: EventState, created: Timestamp) -> Envelope {
        let mut next = self.next(kind, action, state, created);
        next.metadata.event.id = derived_event_id(&format!("transfer|{}", self.id), kind, action);
        next
    }

    /// Turns the event into one the Hub sends back to `recipient`: the Hub becomes the source
    /// and the FSPIOP-Source/-Destination headers say so.
    pub fn from_hub_to(mut self, recipient: &str) -> Envelope {
        self.from = HUB_NAME.to_string();
        self.to = recipient.to_string();
        self.content.headers.insert("fspiop-source".to_string(), HUB_NAME.to_string());
        self.content.headers.insert("fspiop-destination".to_string(), recipient.to_string());
        self
    }

    /// An error callback from the Hub to whoever sent this event.
    pub fn error_reply(&self, action: Action, error: &FspiopError, created: Timestamp) -> Envelope {
        self.next(EventKind::Notification, action, EventState::error(error), created)
            .with_error(error)
            .from_hub_to(&self.from)
    }

    /// Replaces the payload with an FSPIOP error body and marks the event as failed.
    pub fn with_error(mut self, error: &FspiopError) -> Envelope {
        self.content.payload = data_uri(ENVELOPE_MEDIA_TYPE, error.to_json().as_bytes());
        self.metadata.event.state = EventState::error(error);
        self
    }

    /// Replaces the payload with a body the Hub made.
    pub fn with_body(mut self, content_type: &str, body: &[u8]) -> Envelope {
        self.content.payload = data_uri(content_type, body);
        self
    }

    /// The original request body, byte for byte.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, EnvelopeError> {
        let rest = self.content.payload.strip_prefix(DATA_URI_PREFIX).ok_or(EnvelopeError::Payload)?;
        let (_, encoded) = rest.split_once(DATA_URI_BASE64_MARK).ok_or(EnvelopeError::Payload)?;
        STANDARD.decode(encoded).map_err(|_| EnvelopeError::Payload)
    }

    /// The content type recorded in the payload's data URI.
    pub fn payload_content_type(&self) -> Option<&str> {
        let rest = self.content.payload.strip_prefix(DATA_URI_PREFIX)?;
        rest.split_once(DATA_URI_BASE64_MARK).map(|(mime, _)| mime)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serialises")
    }

    /// Reads an event body; refuses other versions rather than misreading them.
    pub fn from_json(text: &str) -> Result<Envelope, EnvelopeError> {
        let version =
            serde_json::from_str::<VersionProbe>(text).map_err(|err| EnvelopeError::Malformed(err.to_string()))?;
        if version.v != ENVELOPE_VERSION {
            return Err(EnvelopeError::Version { found: version.v });
        }
        serde_json::from_str(text).map_err(|err| EnvelopeError::Malformed(err.to_string()))
    }
}

#[derive(Deserialize)]
struct VersionProbe {
    v: u32,
}

fn data_uri(content_type: &str, body: &[u8]) -> String {
    format!("{DATA_URI_PREFIX}{content_type}{DATA_URI_BASE64_MARK}{}", STANDARD.encode(body))
}

/// A UUID-shaped id from SHA-256 of what it responds to, so re-running a step re-creates it.
fn derived_event_id(seed: &str, kind: EventKind, action: Action) -> String {
    let digest = Sha256::digest(format!("{seed}|{kind:?}|{action:?}").as_bytes());
    let hex = hex::encode(&digest[..16]);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use fspiop::ErrorCode;
    use proptest::prelude::*;

    const TRANSFER_ID: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";
    const CONTENT_TYPE: &str = "application/vnd.interoperability.transfers+json;version=1.1";
    const BODY: &[u8] =
        br#"{"transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069", "amount":{"amount":"1","currency":"USD"}}"#;
    const CREATED: Timestamp = Timestamp::from_unix_ms(1_790_000_000_123);

    fn prepare() -> Envelope {
        let headers = BTreeMap::from([("fspiop-source".to_string(), "payerfsp".to_string())]);
        let request = Request {
            transfer_id: TRANSFER_ID,
            from: "payerfsp",
            to: "payeefsp",
            headers: &headers,
            content_type: CONTENT_TYPE,
            body: BODY,
        };
        Envelope::request(request, EventKind::Prepare, Action::Prepare, CREATED)
    }

    #[test]
    fn the_body_travels_byte_for_byte() {
        let event = Envelope::from_json(&prepare().to_json()).expect("round trip");
        assert_eq!(event, prepare());
        assert_eq!(event.payload_bytes().unwrap(), BODY);
        assert_eq!(event.payload_content_type(), Some(CONTENT_TYPE));
        assert_eq!(event.metadata.event.created_at, "2026-09-21T14:13:20.123Z");
        assert_eq!(event.metadata.event.state, EventState::success());
    }

    #[test]
    fn responses_chain_with_ids_that_a_rerun_reproduces() {
        let first = prepare();
        let position = first.next(EventKind::Position, Action::Prepare, EventState::success(), CREATED);
        assert_eq!(position.metadata.event.response_to.as_deref(), Some(first.metadata.event.id.as_str()));
        assert_ne!(position.metadata.event.id, first.metadata.event.id);
        let again = first.next(EventKind::Position, Action::Prepare, EventState::success(), CREATED);
        assert_eq!(again.metadata.event.id, position.metadata.event.id);
        let other = first.next(EventKind::Notification, Action::Prepare, EventState::success(), CREATED);
        assert_ne!(other.metadata.event.id, position.metadata.event.id);
        assert_eq!(position.payload_bytes().unwrap(), BODY);
    }

    #[test]
    fn pipeline_steps_get_the_same_id_whichever_request_led_to_them() {
        let original = prepare();
        let resent = Envelope::request(
            Request {
                transfer_id: TRANSFER_ID,
                from: "payerfsp",
                to: "payeefsp",
                headers: &original.content.headers,
                content_type: CONTENT_TYPE,
                body: BODY,
            },
            EventKind::Prepare,
            Action::Prepare,
            CREATED.plus_ms(5_000),
        );
        assert_ne!(resent.metadata.event.id, original.metadata.event.id);
        let step = |it: &Envelope| it.next_step(EventKind::Position, Action::Prepare, EventState::success(), CREATED);
        assert_eq!(step(&resent).metadata.event.id, step(&original).metadata.event.id);
        assert_eq!(step(&resent).metadata.event.response_to.as_deref(), Some(resent.metadata.event.id.as_str()));
    }

    #[test]
    fn hub_messages_carry_the_hub_as_source_and_the_error_as_payload() {
        let error = FspiopError::new(ErrorCode::PayerFspInsufficientLiquidity);
        let event = prepare()
            .next(EventKind::Notification, Action::Prepare, EventState::error(&error), CREATED)
            .with_error(&error)
            .from_hub_to("payerfsp");
        assert_eq!((event.from.as_str(), event.to.as_str()), ("Hub", "payerfsp"));
        assert_eq!(event.content.headers["fspiop-source"], "Hub");
        assert_eq!(event.content.headers["fspiop-destination"], "payerfsp");
        assert_eq!(event.metadata.event.state.status, Status::Error);
        assert_eq!(event.metadata.event.state.code, 4001);
        let body: serde_json::Value = serde_json::from_slice(&event.payload_bytes().unwrap()).unwrap();
        assert_eq!(body["errorInformation"]["errorCode"], "4001");
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let mut event: serde_json::Value = serde_json::from_str(&prepare().to_json()).unwrap();
        event["v"] = 2.into();
        assert_eq!(Envelope::from_json(&event.to_string()), Err(EnvelopeError::Version { found: 2 }));
        assert!(matches!(Envelope::from_json("{}"), Err(EnvelopeError::Malformed(_))));
        let mut broken = prepare();
        broken.content.payload = "not a data uri".to_string();
        assert_eq!(broken.payload_bytes(), Err(EnvelopeError::Payload));
    }

    proptest! {
        #[test]
        fn no_text_makes_the_reader_panic(text in "\\PC{0,200}") {
            let _ = Envelope::from_json(&text);
        }
    }
}
