//! The message journal in the handler: what the edge and the notification function append
//! (one `append` per request or per notification batch). The operator's read,
//! `GET /journal/{transferId}`, is `crate::operator::journal_api`.
//!
//! - **Keys.** Entries are keyed by transfer id: the path's id, or a `POST /transfers` body's
//!   `transferId`. A refused request whose transfer cannot be told (a body that is not JSON, an
//!   id with characters a key cannot hold) goes under [`UNIDENTIFIED_TRANSFER`].
//! - **Deterministic ids.** An inbound entry's id hashes method, path, source, `Date`, body and
//!   the status answered; an outbound one hashes the event id, recipient, method, URL and the
//!   DFSP's status. A redelivered request or batch with the same outcome stores nothing new;
//!   a retry that ends differently (a 500, then a 202) is a second entry.
//! - **Who writes what.** The edge journals the requests it refuses; while the journal is
//!   unavailable it publishes the entry to the notification hub instead, whose function appends
//!   it retrying in place like its callbacks' entries. A request it accepts is journaled by the
//!   function that consumes its event (prepare, fulfil, get), from the event itself, retried
//!   until written: the hub is the durable outbox, so an accepted request's entry survives a
//!   journal outage and a crash between the answer and the append. The notification function
//!   journals every callback it tried, retried in place likewise (`plumbing::durable`).
//! - **Audit, not truth.** The ledger decides; the journal records. A journal that stays
//!   unavailable holds up the batches that must write to it (they are redelivered), never the
//!   ledger's decisions already committed.

use std::collections::BTreeMap;

use fspiop::datetime::parse_fspiop_datetime;
use journal::{Direction, EntryFields, EntryId, Header, Journal, JournalEntry, JournalError, TransferKey};
use ledger_core::time::Timestamp;
use ledger_store::StoreError;
use sha2::{Digest, Sha256};

use plumbing::publish::{Hub, OutgoingEvent, Publisher};

use crate::envelope::{Action, Envelope, EventKind, JournaledRequest};
use crate::messages::{Callback, EdgeRequest};

/// The key of requests whose transfer cannot be told.
pub const UNIDENTIFIED_TRANSFER: &str = "unidentified";
/// The request headers journaled (lower-case, as the edge holds them), in this order.
pub const JOURNALED_HEADERS: [&str; 9] = [
    "accept",
    "content-type",
    "date",
    "fspiop-source",
    "fspiop-destination",
    "fspiop-uri",
    "fspiop-http-method",
    "fspiop-signature",
    "fspiop-encryption",
];
const INBOUND_ID_PREFIX: &str = "in-";
/// What the edge answers the requests it accepts (`crate::transfers::edge`'s routing table).
const ACCEPTED_POST_STATUS: u16 = 202;
const ACCEPTED_PUT_STATUS: u16 = 200;
const ACCEPTED_GET_STATUS: u16 = 202;
const OUTBOUND_ID_PREFIX: &str = "out-";
/// Most body bytes a refused request's journal event carries: the edge's own limit, which fits
/// an event beside the headers; a longer body (a 413) is journaled cut, with its full length and
/// SHA-256.
const REFUSED_EVENT_BODY_BYTES_MAX: usize = plumbing::limits::REQUEST_BODY_BYTES_MAX;
/// The payload media type of a refused request's journal event: its body may not be JSON.
const REFUSED_BODY_MEDIA_TYPE: &str = "application/octet-stream";

/// The entry for a request the edge answered with `status`.
pub fn inbound_entry(request: &EdgeRequest, status: u16, now: Timestamp) -> JournalEntry {
    let header = |name: &str| request.headers.get(name).map(String::as_str).unwrap_or_default();
    let status_text = status.to_string();
    let id = hashed_id(
        INBOUND_ID_PREFIX,
        &[
            request.method.as_bytes(),
            request.path.as_bytes(),
            header("fspiop-source").as_bytes(),
            header("date").as_bytes(),
            status_text.as_bytes(),
            &request.body,
        ],
    );
    let headers = JOURNALED_HEADERS
        .iter()
        .filter_map(|name| {
            request.headers.get(*name).map(|value| Header { name: name.to_string(), value: value.clone() })
        })
        .collect();
    JournalEntry::new(EntryFields {
        id,
        transfer: inbound_transfer(request),
        direction: Direction::InboundRequest,
        method: request.method.clone(),
        url: request.path.clone(),
        headers,
        body: request.body.clone(),
        source: header("fspiop-source").to_string(),
        destination: request.headers.get("fspiop-destination").cloned(),
        http_status: Some(status),
        timestamp_ms: now.unix_ms(),
    })
}

/// The entry for a callback: sent to `url` (none when the recipient has no endpoint), answered
/// with `status` (none when no HTTP answer came).
pub fn outbound_entry(
    event_id: &str,
    transfer_id: &str,
    callback: &Callback,
    url: Option<&str>,
    status: Option<u16>,
    now: Timestamp,
) -> JournalEntry {
    let status_text = status.map_or_else(|| "none".to_string(), |it| it.to_string());
    let recipient = callback.recipient.to_string();
    let url = url.unwrap_or_default();
    let id = hashed_id(
        OUTBOUND_ID_PREFIX,
        &[
            event_id.as_bytes(),
            recipient.as_bytes(),
            callback.method.as_bytes(),
            url.as_bytes(),
            status_text.as_bytes(),
        ],
    );
    let header = |name: &str| callback.headers.iter().find(|(it, _)| it == name).map(|(_, value)| value.clone());
    JournalEntry::new(EntryFields {
        id,
        transfer: TransferKey::parse(transfer_id).unwrap_or_else(|_| unidentified()),
        direction: Direction::OutboundCallback,
        method: callback.method.to_string(),
        url: url.to_string(),
        headers: callback
            .headers
            .iter()
            .map(|(name, value)| Header { name: name.clone(), value: value.clone() })
            .collect(),
        body: callback.body.clone(),
        source: header("fspiop-source").unwrap_or_default(),
        destination: header("fspiop-destination").or(Some(recipient)),
        http_status: status,
        timestamp_ms: now.unix_ms(),
    })
}

/// The entry of a request the edge accepted, rebuilt from the event it published (method and
/// path from the event's kind and action: the inverse of the edge's routing table). `None` for
/// an event no DFSP request started (a pipeline step, the Hub's own events).
pub fn accepted_entry(envelope: &Envelope) -> Option<JournalEntry> {
    let event = &envelope.metadata.event;
    if event.response_to.is_some() || envelope.from == ledger_core::account::HUB_NAME {
        return None;
    }
    let id = &envelope.id;
    let (method, path, status) = match (event.kind, event.action) {
        (EventKind::Prepare, Action::Prepare) => ("POST", "/transfers".to_string(), ACCEPTED_POST_STATUS),
        (EventKind::Fulfil, Action::Commit | Action::Reserve | Action::Reject) => {
            ("PUT", format!("/transfers/{id}"), ACCEPTED_PUT_STATUS)
        }
        (EventKind::Fulfil, Action::Abort) => ("PUT", format!("/transfers/{id}/error"), ACCEPTED_PUT_STATUS),
        (EventKind::Get, Action::Get) => ("GET", format!("/transfers/{id}"), ACCEPTED_GET_STATUS),
        _ => return None,
    };
    let body = envelope.payload_bytes().ok()?;
    let received = parse_fspiop_datetime(&event.created_at)?;
    let request = EdgeRequest { method: method.to_string(), path, headers: envelope.content.headers.clone(), body };
    Some(inbound_entry(&request, status, received))
}

/// The entries of the accepted requests among a batch's event bodies.
pub fn accepted_entries(bodies: &[String]) -> Vec<JournalEntry> {
    bodies.iter().filter_map(|body| Envelope::from_json(body).ok()).filter_map(|it| accepted_entry(&it)).collect()
}

/// Appends entries that must be written: retried in place while the journal is unavailable
/// (`plumbing::durable`). An append the journal refuses for good (an id or key it cannot hold) is
/// logged and dropped, since no retry could store it. A journal still unavailable after the
/// window fails the caller's batch as [`StoreError::Unavailable`], so the host delivers it again
/// and the append is made then (entry ids are deterministic: nothing is stored twice).
pub async fn append_durably(journal: Option<&dyn Journal>, entries: &[JournalEntry]) -> Result<(), StoreError> {
    let Some(journal) = journal else { return Ok(()) };
    if entries.is_empty() {
        return Ok(());
    }
    let appended =
        plumbing::durable::until_written("journal entries", JournalError::is_transient, || journal.append(entries))
            .await;
    match appended {
        Ok(()) => Ok(()),
        Err(error) if error.is_transient() => Err(StoreError::Unavailable(format!("message journal: {error}"))),
        Err(error) => {
            tracing::error!(%error, entries = entries.len(), "the message journal refused these entries for good; not journaled");
            Ok(())
        }
    }
}

/// Journals a request the edge refused. Straight into the journal when it takes it; while it
/// is unavailable, the entry goes to the notification hub as a journal event instead, and the
/// notification function appends it durably (the hub is the outbox, as for accepted requests).
/// Only when the hub cannot take it either is the entry logged and lost: the DFSP still has the
/// answer, and the refused request changed nothing.
pub async fn journal_refusal(
    journal: Option<&dyn Journal>,
    publisher: &dyn Publisher,
    request: &EdgeRequest,
    status: u16,
    now: Timestamp,
) {
    let Some(journal) = journal else { return };
    let entry = inbound_entry(request, status, now);
    let error = match journal.append(std::slice::from_ref(&entry)).await {
        Ok(()) => return,
        Err(error) if error.is_transient() => error,
        Err(error) => {
            tracing::error!(%error, transfer = entry.transfer().as_str(), "the message journal refused a refused request's entry for good; not journaled");
            return;
        }
    };
    tracing::warn!(%error, transfer = entry.transfer().as_str(), "message journal unavailable: a refused request's entry goes through the notification hub");
    let event = OutgoingEvent::keyed(entry.transfer().as_str(), refused_event(&entry).to_json());
    if let Err(error) = publisher.publish(Hub::NotificationEvent, vec![event]).await {
        tracing::error!(%error, transfer = entry.transfer().as_str(), "neither the message journal nor the notification hub took a refused request's entry; not journaled");
    }
}

/// The journal event carrying a refused request's entry, its body cut to what an event holds.
fn refused_event(entry: &JournalEntry) -> Envelope {
    let headers: BTreeMap<String, String> =
        entry.headers().iter().map(|it| (it.name.clone(), it.value.clone())).collect();
    let body = &entry.body()[..entry.body().len().min(REFUSED_EVENT_BODY_BYTES_MAX)];
    let request = crate::envelope::Request {
        transfer_id: entry.transfer().as_str(),
        from: entry.source(),
        to: entry.destination().unwrap_or_default(),
        headers: &headers,
        content_type: REFUSED_BODY_MEDIA_TYPE,
        body,
    };
    let journaled = JournaledRequest {
        method: entry.method().to_string(),
        url: entry.url().to_string(),
        http_status: entry.http_status().unwrap_or_default(),
        timestamp_ms: entry.timestamp_ms(),
        body_length: entry.body_length(),
        body_sha256: entry.body_sha256().to_string(),
        truncated: entry.truncated() || body.len() < entry.body().len(),
    };
    Envelope::refused(request, entry.id().as_str(), journaled)
}

/// The entry a refused request's journal event carries (`None` for any other event, or one
/// this build cannot read back).
pub fn refused_entry(envelope: &Envelope) -> Option<JournalEntry> {
    let journaled =
        envelope.content.journaled.as_ref().filter(|_| envelope.metadata.event.kind == EventKind::Journal)?;
    let header = |name: &str| envelope.content.headers.get(name).cloned();
    let fields = EntryFields {
        id: EntryId::parse(&envelope.metadata.event.id).ok()?,
        transfer: TransferKey::parse(&envelope.id).ok()?,
        direction: Direction::InboundRequest,
        method: journaled.method.clone(),
        url: journaled.url.clone(),
        headers: JOURNALED_HEADERS
            .iter()
            .filter_map(|name| header(name).map(|value| Header { name: name.to_string(), value }))
            .collect(),
        body: envelope.payload_bytes().ok()?,
        source: header("fspiop-source").unwrap_or_default(),
        destination: header("fspiop-destination"),
        http_status: Some(journaled.http_status),
        timestamp_ms: journaled.timestamp_ms,
    };
    Some(JournalEntry::restore(fields, journaled.body_length, journaled.body_sha256.clone(), journaled.truncated))
}

fn inbound_transfer(request: &EdgeRequest) -> TransferKey {
    let segments: Vec<&str> = request.path.trim_end_matches('/').split('/').skip(1).collect();
    let candidate = match segments.as_slice() {
        ["transfers", id, ..] => Some(id.to_string()),
        ["transfers"] => serde_json::from_slice::<TransferIdOnly>(&request.body)
            .ok()
            .and_then(|body| body.transfer_id)
            .map(|it| it.into_owned()),
        _ => None,
    };
    candidate.and_then(|it| TransferKey::parse(&it).ok()).unwrap_or_else(unidentified)
}

/// The one field of a `POST /transfers` body the key needs; the rest is skipped, not built.
#[derive(serde::Deserialize)]
struct TransferIdOnly<'a> {
    #[serde(rename = "transferId", borrow)]
    transfer_id: Option<std::borrow::Cow<'a, str>>,
}

fn unidentified() -> TransferKey {
    TransferKey::parse(UNIDENTIFIED_TRANSFER).expect("a valid key")
}

/// `prefix` + the SHA-256 (hex) of the parts, each length-prefixed so no two part lists collide.
fn hashed_id(prefix: &str, parts: &[&[u8]]) -> EntryId {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let hex = hex::encode(hasher.finalize());
    EntryId::parse(&format!("{prefix}{hex}")).expect("a prefix and hex digits make a valid id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: Vec<u8>) -> JournalEntry {
        let headers = [
            ("fspiop-source", "payerfsp"),
            ("fspiop-destination", "payeefsp"),
            ("date", "Tue, 08 Dec 2026 02:00:00 GMT"),
            ("x-other", "not journaled"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
        let request = EdgeRequest { method: "POST".to_string(), path: "/transfers".to_string(), headers, body };
        inbound_entry(&request, 413, Timestamp::from_unix_ms(1_790_000_000_000))
    }

    #[test]
    fn a_refused_requests_journal_event_carries_its_entry_whole() {
        let entry = refused(br#"{"transferId":"0a4d3c1e-5b6f-4a7c-8d9e-0f1a2b3c4d5e"}"#.to_vec());
        let event = Envelope::from_json(&refused_event(&entry).to_json()).unwrap();
        assert_eq!(refused_entry(&event), Some(entry));
    }

    #[test]
    fn a_body_longer_than_an_event_holds_is_journaled_cut_with_its_full_length_and_hash() {
        let body = vec![b'x'; REFUSED_EVENT_BODY_BYTES_MAX + 10];
        let entry = refused(body.clone());
        let event = refused_event(&entry);
        assert!(event.to_json().len() < plumbing::limits::HUB_EVENT_BYTES_MAX, "the event fits a hub");
        let carried = refused_entry(&event).unwrap();
        assert_eq!((carried.id(), carried.transfer()), (entry.id(), entry.transfer()));
        assert_eq!(carried.body(), &body[..REFUSED_EVENT_BODY_BYTES_MAX]);
        assert_eq!((carried.body_length(), carried.body_sha256()), (body.len() as u64, entry.body_sha256()));
        assert!(carried.truncated());
        assert_eq!(carried.transfer().as_str(), UNIDENTIFIED_TRANSFER);
    }

    #[test]
    fn no_other_event_is_read_as_a_journal_entry() {
        let entry = refused(b"{}".to_vec());
        let mut event = refused_event(&entry);
        event.metadata.event.kind = EventKind::Notification;
        assert_eq!(refused_entry(&event), None);
    }
}
