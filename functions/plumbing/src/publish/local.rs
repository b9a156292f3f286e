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
//! One pooled hyper client (`crate::callback_client::pooled_client`) serves every hub for the
//! life of the publisher: a publish is a hop on the hot path of every transfer, and a
//! general-purpose client's URL parsing, redirect policy and header building cost a tenth of the
//! hop. Redirects are not followed and proxies are not used: the emulator is a direct, usually
//! loopback, peer.

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, StatusCode, Uri};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::{Hub, OutgoingEvent, PublishError, Publisher, PublisherConfigError};
use crate::callback_client::{describe, pooled_client, PooledClient, IDLE_CONNECTIONS_PER_HOST_MAX};

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
#[derive(Clone)]
pub struct LocalHubsPublisher {
    client: PooledClient,
    /// The base URL without a trailing `/`, so paths append uniformly.
    base_url: String,
    /// How long one publish may take in all.
    timeout: Duration,
}

impl std::fmt::Debug for LocalHubsPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalHubsPublisher").field("base_url", &self.base_url).field("timeout", &self.timeout).finish()
    }
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
        LocalHubsPublisher::with_timeout(base_url, REQUEST_TIMEOUT)
    }

    /// The same with another limit on one publish than [`REQUEST_TIMEOUT`].
    pub fn with_timeout(base_url: Url, timeout: Duration) -> Result<LocalHubsPublisher, PublisherConfigError> {
        let client = pooled_client(Some(CONNECT_TIMEOUT), IDLE_CONNECTIONS_PER_HOST_MAX)
            .map_err(PublisherConfigError::HttpClient)?;
        Ok(LocalHubsPublisher { client, base_url: base_url.as_str().trim_end_matches('/').to_string(), timeout })
    }

    pub fn events_url(&self, hub: Hub) -> String {
        format!("{}/hubs/{}/events", self.base_url, hub.name())
    }

    /// Sends one ingestion request; the status and, unless it accepted, the body.
    async fn exchange(&self, hub: Hub, body: Vec<u8>) -> Result<(StatusCode, Bytes), PublishError> {
        let rejected = |reason: String| PublishError::Rejected { hub, reason };
        let uri: Uri =
            self.events_url(hub).parse().map_err(|err: hyper::http::uri::InvalidUri| rejected(err.to_string()))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| rejected(err.to_string()))?;
        let timed_out = || PublishError::Timeout { hub, reason: format!("no answer within {:?}", self.timeout) };
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| PublishError::Unavailable { hub, reason: describe(&err) })?;
            let status = response.status();
            if status == StatusCode::OK || status == StatusCode::ACCEPTED {
                return Ok((status, Bytes::new()));
            }
            // The body only decorates the error; failing to read it must not hide the status.
            let detail = response.into_body().collect().await.map(|it| it.to_bytes()).unwrap_or_default();
            Ok((status, detail))
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| timed_out())?
    }
}

#[async_trait]
impl Publisher for LocalHubsPublisher {
    async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError> {
        if events.is_empty() {
            return Ok(());
        }
        let request = IngestRequest { events: events.into_iter().map(IngestEvent::from).collect() };
        let body =
            serde_json::to_vec(&request).map_err(|err| PublishError::Rejected { hub, reason: err.to_string() })?;
        let (status, detail) = self.exchange(hub, body).await?;
        if status == StatusCode::OK || status == StatusCode::ACCEPTED {
            return Ok(());
        }
        let detail = String::from_utf8_lossy(&detail);
        let reason = format!("{status}: {}", truncate(detail.trim(), RESPONSE_DETAIL_BYTES_MAX));
        Err(PublishError::from_status(hub, status.as_u16(), reason))
    }
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
