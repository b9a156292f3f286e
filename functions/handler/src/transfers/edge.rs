//! The FSPIOP HTTP edge: what ml-api-adapter does. It checks headers and body with Mojaloop's
//! synchronous errors, wraps the request byte for byte in an event, publishes it to the right
//! hub, and answers at once; every business outcome comes later as a callback.
//!
//! | request | checks | hub | answer |
//! |---|---|---|---|
//! | `POST /transfers` | headers, body | `transfer-prepare` | 202 |
//! | `PUT /transfers/{id}` | headers, id, body, `completedTimestamp` window | `transfer-fulfil` | 200 |
//! | `PUT /transfers/{id}/error` | headers, id, body | `transfer-fulfil` (action `abort`) | 200 |
//! | `GET /transfers/{id}` | headers, id | `transfer-get` | 202 |
//! | `PATCH /transfers/{id}` | – | – | 501, 2002 |
//! | another path / method | – | – | 404 3002 / 405 3000 |
//!
//! # What the switch carries
//! A request becomes one event, and the event must fit the hub end to end, so the edge's limits
//! derive from the hub's: the envelope carries every header (JSON-escaped) and the body as a
//! base64 data URI (4 bytes for every 3). [`REQUEST_BODY_BYTES_MAX`] is the largest body whose
//! event fits [`HUB_EVENT_BYTES_MAX`](plumbing::limits::HUB_EVENT_BYTES_MAX) with the most headers the edge takes
//! ([`REQUEST_HEADER_BYTES_MAX`], [`REQUEST_HEADERS_MAX`]); a larger body is refused with 413 and
//! 3104, more headers with 431 and 3104, before anything is published.
//!
//! A hub that cannot take an accepted request now (unreachable, throttling) is answered 503
//! with 2003, which a retry can cure; a hub that refuses it for good is a fault of the switch
//! (500, 2001).
//! With `JWS_VALIDATE=true` ([`handle_checked`]), every accepted `POST`/`PUT` must also carry
//! a valid `FSPIOP-Signature`, else 400 with 3105 (`crate::signatures`).

use fspiop::headers::{validate_headers, Method};
use fspiop::transfers::{
    check_completed_timestamp, parse_path_transfer_id, parse_transfers_error, parse_transfers_put, FulfilAction,
};
use fspiop::{parse_transfers_post, ErrorCode, FspiopError, RequestHeaders};
use jws::source::CachedKeys;
use ledger_core::time::Timestamp;

use plumbing::limits::{REQUEST_BODY_BYTES_MAX, REQUEST_HEADERS_MAX, REQUEST_HEADER_BYTES_MAX};
use plumbing::publish::{Hub, OutgoingEvent, Publisher};

use crate::envelope::{Action, Envelope, EventKind, Request};
use crate::messages::EdgeRequest;

/// Mojaloop skips the `completedTimestamp` window for requests relayed by a scheme proxy.
const PROXY_HEADER: &str = "fspiop-proxy";

/// The synchronous answer: a status and, for errors, an FSPIOP error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeResponse {
    pub status: u16,
    pub body: Option<String>,
}

impl EdgeResponse {
    fn empty(status: u16) -> EdgeResponse {
        EdgeResponse { status, body: None }
    }

    fn error(error: &FspiopError) -> EdgeResponse {
        EdgeResponse { status: error.http_status(), body: Some(error.to_json()) }
    }
}

/// What a valid request becomes.
struct Accepted {
    hub: Hub,
    event: Envelope,
    status: u16,
}

/// Handles one FSPIOP request; with `signature_keys` (`JWS_VALIDATE=true`), a request with a
/// body (not a GET) that passed the header and body checks must also carry a valid
/// `FSPIOP-Signature`, else 3105.
pub async fn handle_checked(
    publisher: &dyn Publisher,
    signature_keys: Option<&CachedKeys>,
    request: &EdgeRequest,
    now: Timestamp,
) -> EdgeResponse {
    let accepted = match route(request, now) {
        Ok(accepted) => accepted,
        Err(error) => return EdgeResponse::error(&error),
    };
    if let (Some(keys), false) = (signature_keys, request.method == "GET") {
        if let Err(error) = crate::signatures::check_inbound(keys, request, now).await {
            return EdgeResponse::error(&error);
        }
    }
    let event = OutgoingEvent::unkeyed(accepted.event.to_json());
    match publisher.publish(accepted.hub, vec![event]).await {
        Ok(()) => EdgeResponse::empty(accepted.status),
        // The request was fine; the hub cannot take it now. The DFSP may send the same body
        // again, which the duplicate check then recognises.
        Err(error) if error.is_transient() => {
            tracing::warn!(%error, "FSPIOP request not published; answered 503");
            EdgeResponse::error(&FspiopError::service_unavailable())
        }
        // The hub refuses it for good although the edge let it through: the switch's own fault.
        Err(error) => {
            tracing::error!(%error, "FSPIOP request refused by the hub");
            EdgeResponse::error(&FspiopError::with_detail(
                ErrorCode::InternalServerError,
                "the switch could not accept the request",
            ))
        }
    }
}

fn route(request: &EdgeRequest, now: Timestamp) -> Result<Accepted, FspiopError> {
    check_size(request)?;
    let segments: Vec<&str> = request.path.trim_end_matches('/').split('/').skip(1).collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["transfers"]) => prepare(request, now),
        ("PUT", ["transfers", id]) => fulfil(request, id, now),
        ("PUT", ["transfers", id, "error"]) => abort(request, id, now),
        ("GET", ["transfers", id]) => get(request, id, now),
        ("PATCH", ["transfers", _]) => Err(FspiopError::not_implemented()),
        (_, ["transfers"] | ["transfers", _] | ["transfers", _, "error"]) => Err(FspiopError::method_not_allowed()),
        _ => Err(FspiopError::unknown_uri()),
    }
}

/// Refuses a request whose event would not fit the hub (module documentation).
fn check_size(request: &EdgeRequest) -> Result<(), FspiopError> {
    if REQUEST_BODY_BYTES_MAX < request.body.len() {
        return Err(FspiopError::payload_too_large(format!("the body is over {REQUEST_BODY_BYTES_MAX} bytes")));
    }
    let header_bytes: usize = request.headers.iter().map(|(name, value)| name.len() + value.len()).sum();
    if REQUEST_HEADERS_MAX < request.headers.len() || REQUEST_HEADER_BYTES_MAX < header_bytes {
        let detail =
            format!("more than {REQUEST_HEADERS_MAX} header fields or {REQUEST_HEADER_BYTES_MAX} bytes of headers");
        return Err(FspiopError::headers_too_large(detail));
    }
    Ok(())
}

fn prepare(request: &EdgeRequest, now: Timestamp) -> Result<Accepted, FspiopError> {
    let headers = validate_headers(Method::Post, &request.headers)?;
    let parsed = parse_transfers_post(&request.body, headers.content_version)?;
    let id = parsed.request.transfer_id.to_string();
    let to = parsed.request.payee_fsp.to_string();
    let event = event(request, &headers, &id, &to, EventKind::Prepare, Action::Prepare, now);
    Ok(Accepted { hub: Hub::TransferPrepare, event, status: 202 })
}

fn fulfil(request: &EdgeRequest, raw_id: &str, now: Timestamp) -> Result<Accepted, FspiopError> {
    let headers = validate_headers(Method::Put, &request.headers)?;
    let id = parse_path_transfer_id(raw_id)?;
    let parsed = parse_transfers_put(&request.body, headers.content_version)?;
    if let (Some(completed), false) = (parsed.request.completed_timestamp, request.headers.contains_key(PROXY_HEADER)) {
        check_completed_timestamp(completed, now)?;
    }
    let action = match parsed.request.action() {
        FulfilAction::Commit => Action::Commit,
        FulfilAction::Reserve => Action::Reserve,
        FulfilAction::Reject => Action::Reject,
    };
    let to = destination(&headers);
    let event = event(request, &headers, id.as_str(), &to, EventKind::Fulfil, action, now);
    Ok(Accepted { hub: Hub::TransferFulfil, event, status: 200 })
}

fn abort(request: &EdgeRequest, raw_id: &str, now: Timestamp) -> Result<Accepted, FspiopError> {
    let headers = validate_headers(Method::Put, &request.headers)?;
    let id = parse_path_transfer_id(raw_id)?;
    parse_transfers_error(&request.body, headers.content_version)?;
    let to = destination(&headers);
    let event = event(request, &headers, id.as_str(), &to, EventKind::Fulfil, Action::Abort, now);
    Ok(Accepted { hub: Hub::TransferFulfil, event, status: 200 })
}

fn get(request: &EdgeRequest, raw_id: &str, now: Timestamp) -> Result<Accepted, FspiopError> {
    let headers = validate_headers(Method::Get, &request.headers)?;
    let id = parse_path_transfer_id(raw_id)?;
    let event = event(request, &headers, id.as_str(), ledger_core::account::HUB_NAME, EventKind::Get, Action::Get, now);
    Ok(Accepted { hub: Hub::TransferGet, event, status: 202 })
}

fn destination(headers: &RequestHeaders) -> String {
    headers.destination.as_ref().map_or_else(String::new, |it| it.to_string())
}

fn event(
    request: &EdgeRequest,
    headers: &RequestHeaders,
    id: &str,
    to: &str,
    kind: EventKind,
    action: Action,
    now: Timestamp,
) -> Envelope {
    let content_type =
        request.headers.get("content-type").cloned().unwrap_or_else(|| headers.content_version.content_type());
    let from = headers.source.to_string();
    let request = Request {
        transfer_id: id,
        from: &from,
        to,
        headers: &request.headers,
        content_type: &content_type,
        body: &request.body,
    };
    Envelope::request(request, kind, action, now)
}
