//! The local publisher: sends events over HTTP to the local emulator's ingestion endpoint, which
//! stands in for Event Hubs on a developer's machine and in tests.
//!
//! # Wire protocol (the emulator implements the receiving side)
//! ```text
//! POST {base_url}/hubs/{hub}/events
//! Content-Type: application/json
//!
//! {"events": [{"partitionKey": "payerfsp", "body": "<envelope JSON as a string>"},
//!             {"partitionKey": null,       "body": "..."}]}
//! ```
//! - `{hub}` is [`Hub::name`], e.g. `transfer-position`; `base_url` may end with `/` or not.
//! - `events` is non-empty (an empty publish sends no request) and in the caller's order. The
//!   emulator must keep the order of events that share a `partitionKey` when it delivers them;
//!   `partitionKey` is always present, `null` when the event has none.
//! - `body` is the event body as a JSON string, delivered to the consuming function unchanged.
//! - The emulator accepts all events or none. Responses:
//!
//! | status | meaning | [`PublishError`] |
//! |---|---|---|
//! | 200, 202 | accepted | – |
//! | 404 | no such hub | `UnknownHub` (permanent) |
//! | 413 | an event or the request is too large | `EventTooLarge` (permanent) |
//! | 408 | timed out | `Timeout` (transient) |
//! | 429 | slow down | `Throttled` (transient) |
//! | other 4xx, and any other status | refused | `Rejected` (permanent) |
//! | 5xx | emulator failed | `Unavailable` (transient) |
//!
//! A refused or dropped connection is `Unavailable` and a request over [`REQUEST_TIMEOUT`] is
//! `Timeout`, both transient. The response body is free text, quoted in the error.
//!
//! One pooled `reqwest::Client` serves every hub for the life of the publisher. Redirects are not
//! followed and proxies are not used: the emulator is a direct, usually loopback, peer.

use std::error::Error as _;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};

use super::{Hub, OutgoingEvent, PublishError, Publisher, PublisherConfigError};

/// How long to wait for the emulator to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one publish request may take in all.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of an error response's body is quoted in the error, so a large HTML error page does
/// not flood the logs.
const RESPONSE_DETAIL_BYTES_MAX: usize = 512;

/// The request body of `POST /hubs/{hub}/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestRequest {
    pub events: Vec<IngestEvent>,
}

/// One event of an [`IngestRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestEvent {
    pub partition_key: Option<String>,
    pub body: String,
}

impl From<OutgoingEvent> for IngestEvent {
    fn from(event: OutgoingEvent) -> IngestEvent {
        IngestEvent { partition_key: event.partition_key, body: event.body }
    }
}

/// Publishes to the local emulator over HTTP.
#[derive(Debug, Clone)]
pub struct LocalHubsPublisher {
    client: reqwest::Client,
    /// The base URL without a trailing `/`, so paths append uniformly.
    base_url: String,
}

/// Accepts an absolute `http`/`https` URL without query or fragment.
pub(crate) fn parse_base_url(value: &str) -> Result<Url, PublisherConfigError> {
    let invalid = |reason: String| PublisherConfigError::InvalidLocalUrl { value: value.to_string(), reason };
    let url = Url::parse(value).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid("expected an http:// or https:// URL".to_string()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL has no query or fragment".to_string()));
    }
    Ok(url)
}

impl LocalHubsPublisher {
    /// Builds the pooled HTTP client; no connection is opened until the first publish.
    pub fn new(base_url: Url) -> Result<LocalHubsPublisher, PublisherConfigError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| PublisherConfigError::HttpClient(error_chain(&e)))?;
        Ok(LocalHubsPublisher::with_client(base_url, client))
    }

    /// Uses a client the caller already has, to share its connection pool.
    pub fn with_client(base_url: Url, client: reqwest::Client) -> LocalHubsPublisher {
        LocalHubsPublisher { client, base_url: base_url.as_str().trim_end_matches('/').to_string() }
    }

    pub fn events_url(&self, hub: Hub) -> String {
        format!("{}/hubs/{}/events", self.base_url, hub.name())
    }
}

#[async_trait]
impl Publisher for LocalHubsPublisher {
    async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError> {
        if events.is_empty() {
            return Ok(());
        }
        let request = IngestRequest { events: events.into_iter().map(IngestEvent::from).collect() };
        let response = self
            .client
            .post(self.events_url(hub))
            .json(&request)
            .send()
            .await
            .map_err(|e| classify_transport(hub, &e))?;
        let status = response.status();
        if status == StatusCode::OK || status == StatusCode::ACCEPTED {
            return Ok(());
        }
        // The body only decorates the error; failing to read it must not hide the status.
        let detail = response.text().await.unwrap_or_default();
        let reason = format!("{status}: {}", truncate(detail.trim(), RESPONSE_DETAIL_BYTES_MAX));
        Err(PublishError::from_status(hub, status.as_u16(), reason))
    }
}

/// Maps a failure to get any response. Everything but a malformed request is worth retrying:
/// the emulator may be starting, restarting, or busy.
fn classify_transport(hub: Hub, error: &reqwest::Error) -> PublishError {
    let reason = error_chain(error);
    if error.is_timeout() {
        return PublishError::Timeout { hub, reason };
    }
    if error.is_builder() {
        return PublishError::Rejected { hub, reason };
    }
    PublishError::Unavailable { hub, reason }
}

/// The error and its sources, because reqwest's own message omits the cause
/// ("error sending request" without "connection refused").
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// At most `bytes_max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, bytes_max: usize) -> &str {
    if text.len() <= bytes_max {
        return text;
    }
    let mut end = bytes_max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(base: &str) -> LocalHubsPublisher {
        LocalHubsPublisher::new(parse_base_url(base).expect("valid URL")).expect("client")
    }

    #[test]
    fn events_url_joins_base_and_hub_with_or_without_a_trailing_slash() {
        for base in ["http://127.0.0.1:7080", "http://127.0.0.1:7080/"] {
            assert_eq!(
                publisher(base).events_url(Hub::TransferPosition),
                "http://127.0.0.1:7080/hubs/transfer-position/events"
            );
        }
        assert_eq!(
            publisher("http://emulator/prefix/").events_url(Hub::AdminTransfer),
            "http://emulator/prefix/hubs/admin-transfer/events"
        );
    }

    #[test]
    fn base_url_must_be_plain_http() {
        for bad in ["127.0.0.1:7080", "ftp://host/", "http://host/?x=1", "mailto:a@b", "not a url"] {
            assert!(matches!(parse_base_url(bad), Err(PublisherConfigError::InvalidLocalUrl { .. })), "{bad}");
        }
        assert!(parse_base_url("https://emulator:8443/base").is_ok());
    }

    #[test]
    fn wire_format_names_fields_in_camel_case_with_explicit_nulls() {
        let request = IngestRequest {
            events: vec![OutgoingEvent::keyed("payerfsp", "{\"a\":1}").into(), OutgoingEvent::unkeyed("b").into()],
        };
        let json = serde_json::to_string(&request).expect("serializes");
        assert_eq!(
            json,
            r#"{"events":[{"partitionKey":"payerfsp","body":"{\"a\":1}"},{"partitionKey":null,"body":"b"}]}"#
        );
        assert_eq!(serde_json::from_str::<IngestRequest>(&json).expect("parses"), request);
    }

    #[test]
    fn truncate_cuts_on_a_character_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a");
    }
}
