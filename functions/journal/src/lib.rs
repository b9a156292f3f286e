//! The message journal: every FSPIOP request the switch receives and every callback it sends,
//! appended under its transfer id so operators can read a transfer's conversation for audit
//! and disputes.
//!
//! # Layout
//!
//! - this file: [`Journal`] (append a batch, read one transfer), [`JournalEntry`] and its
//!   parts, the limits, [`JournalError`];
//! - `sql`: what the two SQL backends share (row shape, chunking, header encoding);
//! - [`sqlite`]: the embedded default, a `journal_entry` table in the ledger's SQLite file;
//! - [`mysql`]: the same table in the ledger's MySQL/MariaDB database;
//! - [`cosmos`]: Azure Cosmos DB, one document per entry, partitioned on `/transferId`.
//!
//! # Semantics every backend keeps
//!
//! - **Insert-only and idempotent.** An entry id is stored once: appending an entry whose id is
//!   already there changes nothing (the first write wins). The switch delivers at least once,
//!   so a redelivered batch re-appends the same entries with the same ids; callers must derive
//!   entry ids from the event and the step, never at random.
//! - **Bounded.** Every text field is cut to its limit and a body to [`BODY_BYTES_MAX`]; a cut
//!   entry says so ([`JournalEntry::truncated`]) and keeps the full body's length and SHA-256,
//!   so a dispute can still prove which body was received. Keys are never cut: they are
//!   checked when parsed ([`EntryId::parse`], [`TransferKey::parse`]).
//! - **Ordered reads.** [`Journal::by_transfer`] returns a transfer's entries oldest first, by
//!   `(timestamp_ms, entry id)`, at most [`READ_ENTRIES_MAX`] of them.
//! - **Time is an argument.** Entries carry the caller's timestamp; nothing here reads a clock.

use std::fmt;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

pub mod cosmos;
pub mod mysql;
mod sql;
pub mod sqlite;

/// Longest entry id, in characters (ids are ASCII, so also bytes).
pub const ENTRY_ID_CHARS_MAX: usize = 128;
/// Longest transfer key, in characters; transfer ids are 36 (UUID) or 26 (ULID).
pub const TRANSFER_KEY_CHARS_MAX: usize = 128;
/// Longest body kept verbatim. Every valid FSPIOP transfer message is far smaller (the ILP
/// packet, its largest field, is capped at 32 768 characters); the bound keeps a Cosmos
/// document under its 2 MB item limit even when the body must be stored as base64.
pub const BODY_BYTES_MAX: usize = 1_048_576;
/// Longest method kept.
pub const METHOD_CHARS_MAX: usize = 16;
/// Longest URL (or path) kept.
pub const URL_CHARS_MAX: usize = 2_048;
/// Most headers kept per entry; the caller selects the FSPIOP ones.
pub const HEADERS_MAX: usize = 16;
/// Longest header name kept.
pub const HEADER_NAME_CHARS_MAX: usize = 64;
/// Longest header value kept; an `FSPIOP-Signature` is under 1 000 characters.
pub const HEADER_VALUE_CHARS_MAX: usize = 4_096;
/// Longest participant name kept (FSP ids are at most 32 characters; headers are untrusted).
pub const PARTICIPANT_CHARS_MAX: usize = 128;
/// Most entries one [`Journal::append`] call takes: a function batch, with room to spare.
pub const APPEND_ENTRIES_MAX: usize = 10_000;
/// Most entries one [`Journal::by_transfer`] call returns. A transfer normally has a handful;
/// more than this means a flood of repeats, and the oldest ones are what a dispute needs.
pub const READ_ENTRIES_MAX: usize = 1_000;

/// The journal: a batch append and a per-transfer read.
#[async_trait]
pub trait Journal: Send + Sync {
    /// Stores the entries whose ids are not stored yet (one call per function batch). On an
    /// error some entries may be stored and others not; re-appending the batch completes it.
    async fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError>;

    /// The transfer's entries, oldest first; empty for a transfer never journaled.
    async fn by_transfer(&self, transfer: &TransferKey) -> Result<TransferJournal, JournalError>;
}

/// What [`Journal::by_transfer`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferJournal {
    /// At most [`READ_ENTRIES_MAX`], ordered by `(timestamp_ms, entry id)`.
    pub entries: Vec<JournalEntry>,
    /// More entries exist beyond [`READ_ENTRIES_MAX`].
    pub more: bool,
}

/// Why the journal failed. Closed: callers match every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// An entry id or transfer key is empty, too long or uses a character outside
    /// `[A-Za-z0-9._:-]` (Cosmos ids may not hold `/`, `\`, `?` or `#`).
    #[error("invalid {what}: {reason}")]
    InvalidKey { what: &'static str, reason: String },
    /// More than [`APPEND_ENTRIES_MAX`] entries in one append.
    #[error("{entries} entries in one append, at most {max}")]
    BatchTooLarge { entries: usize, max: usize },
    /// The store is unreachable, busy or throttling: retry the batch.
    #[error("journal unavailable: {0}")]
    Unavailable(String),
    /// The store refused the request for good (permissions, schema, configuration).
    #[error("journal store refused the request: {0}")]
    Rejected(String),
    /// A stored entry cannot be read back.
    #[error("journal entry corrupt: {0}")]
    Corrupt(String),
}

impl JournalError {
    /// Whether re-running the same call may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            JournalError::Unavailable(_) => true,
            JournalError::InvalidKey { .. }
            | JournalError::BatchTooLarge { .. }
            | JournalError::Rejected(_)
            | JournalError::Corrupt(_) => false,
        }
    }
}

/// The unique id of an entry; the same id always means the same entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(String);

impl EntryId {
    pub fn parse(text: &str) -> Result<EntryId, JournalError> {
        check_key("entry id", text, ENTRY_ID_CHARS_MAX)?;
        Ok(EntryId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The transfer an entry belongs to: the partition and the read key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransferKey(String);

impl TransferKey {
    pub fn parse(text: &str) -> Result<TransferKey, JournalError> {
        check_key("transfer key", text, TRANSFER_KEY_CHARS_MAX)?;
        Ok(TransferKey(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransferKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_key(what: &'static str, text: &str, chars_max: usize) -> Result<(), JournalError> {
    let invalid = |reason: String| Err(JournalError::InvalidKey { what, reason });
    if text.is_empty() {
        return invalid("empty".to_string());
    }
    if chars_max < text.len() {
        return invalid(format!("{} characters, at most {chars_max}", text.len()));
    }
    match text.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))) {
        Some(c) => invalid(format!("character {c:?} not allowed")),
        None => Ok(()),
    }
}

/// Which way the message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A request a DFSP sent to the switch.
    InboundRequest,
    /// A callback the switch sent to a DFSP.
    OutboundCallback,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::InboundRequest => "inbound_request",
            Direction::OutboundCallback => "outbound_callback",
        }
    }

    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "inbound_request" => Some(Direction::InboundRequest),
            "outbound_callback" => Some(Direction::OutboundCallback),
            _ => None,
        }
    }
}

/// One HTTP header as sent, name spelled as received.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// What the caller knows about one message. [`JournalEntry::new`] bounds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields {
    pub id: EntryId,
    pub transfer: TransferKey,
    pub direction: Direction,
    /// `POST`, `PUT`, `GET`, …
    pub method: String,
    /// The request path for inbound requests, the callback URL for callbacks.
    pub url: String,
    /// The FSPIOP headers the caller selected, in the order sent.
    pub headers: Vec<Header>,
    /// The body byte for byte (empty for a GET).
    pub body: Vec<u8>,
    /// `FSPIOP-Source`.
    pub source: String,
    /// `FSPIOP-Destination`, when there was one.
    pub destination: Option<String>,
    /// The status the switch answered (inbound) or the DFSP answered (callback); `None` when a
    /// callback got no HTTP answer at all.
    pub http_status: Option<u16>,
    /// When the message was received or sent, Unix milliseconds.
    pub timestamp_ms: i64,
}

/// One journaled message, within the limits. Fields are private so that the truncation flag,
/// the body's length and its hash always describe the body that was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    fields: EntryFields,
    body_length: u64,
    body_sha256: String,
    truncated: bool,
}

impl JournalEntry {
    /// Bounds the fields: cuts every text to its limit and the body to [`BODY_BYTES_MAX`],
    /// after recording the full body's length and SHA-256.
    pub fn new(fields: EntryFields) -> JournalEntry {
        let body_length = fields.body.len() as u64;
        let body_sha256 = sha256_hex(&fields.body);
        let mut fields = fields;
        let mut cut = Cut::default();
        fields.method = cut.text(fields.method, METHOD_CHARS_MAX);
        fields.url = cut.text(fields.url, URL_CHARS_MAX);
        fields.source = cut.text(fields.source, PARTICIPANT_CHARS_MAX);
        fields.destination = fields.destination.map(|it| cut.text(it, PARTICIPANT_CHARS_MAX));
        fields.headers = cut.headers(fields.headers);
        if BODY_BYTES_MAX < fields.body.len() {
            fields.body.truncate(BODY_BYTES_MAX);
            cut.happened = true;
        }
        JournalEntry { fields, body_length, body_sha256, truncated: cut.happened }
    }

    /// Rebuilds an entry from what an earlier [`JournalEntry`] recorded of itself (a backend's
    /// row, an event carrying it to be journaled later); length, hash and flag are taken as is.
    pub fn restore(fields: EntryFields, body_length: u64, body_sha256: String, truncated: bool) -> JournalEntry {
        JournalEntry { fields, body_length, body_sha256, truncated }
    }

    pub fn id(&self) -> &EntryId {
        &self.fields.id
    }

    pub fn transfer(&self) -> &TransferKey {
        &self.fields.transfer
    }

    pub fn direction(&self) -> Direction {
        self.fields.direction
    }

    pub fn method(&self) -> &str {
        &self.fields.method
    }

    pub fn url(&self) -> &str {
        &self.fields.url
    }

    pub fn headers(&self) -> &[Header] {
        &self.fields.headers
    }

    /// The body as stored: verbatim, or its first [`BODY_BYTES_MAX`] bytes when truncated.
    pub fn body(&self) -> &[u8] {
        &self.fields.body
    }

    /// The length of the body as received.
    pub fn body_length(&self) -> u64 {
        self.body_length
    }

    /// Lowercase hex SHA-256 of the body as received.
    pub fn body_sha256(&self) -> &str {
        &self.body_sha256
    }

    /// Whether any field was cut to its limit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    pub fn source(&self) -> &str {
        &self.fields.source
    }

    pub fn destination(&self) -> Option<&str> {
        self.fields.destination.as_deref()
    }

    pub fn http_status(&self) -> Option<u16> {
        self.fields.http_status
    }

    pub fn timestamp_ms(&self) -> i64 {
        self.fields.timestamp_ms
    }
}

/// Cuts texts to their limits and remembers whether it had to.
#[derive(Default)]
struct Cut {
    happened: bool,
}

impl Cut {
    fn text(&mut self, text: String, chars_max: usize) -> String {
        match text.char_indices().nth(chars_max) {
            Some((end, _)) => {
                self.happened = true;
                text[..end].to_string()
            }
            None => text,
        }
    }

    fn headers(&mut self, mut headers: Vec<Header>) -> Vec<Header> {
        if HEADERS_MAX < headers.len() {
            headers.truncate(HEADERS_MAX);
            self.happened = true;
        }
        headers
            .into_iter()
            .map(|it| Header {
                name: self.text(it.name, HEADER_NAME_CHARS_MAX),
                value: self.text(it.value, HEADER_VALUE_CHARS_MAX),
            })
            .collect()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks the batch size every backend accepts.
fn check_batch(entries: &[JournalEntry]) -> Result<(), JournalError> {
    if APPEND_ENTRIES_MAX < entries.len() {
        return Err(JournalError::BatchTooLarge { entries: entries.len(), max: APPEND_ENTRIES_MAX });
    }
    Ok(())
}

/// Orders entries as every read returns them and cuts the list at [`READ_ENTRIES_MAX`].
fn transfer_journal(mut entries: Vec<JournalEntry>) -> TransferJournal {
    entries.sort_by(|a, b| (a.timestamp_ms(), a.id()).cmp(&(b.timestamp_ms(), b.id())));
    let more = READ_ENTRIES_MAX < entries.len();
    entries.truncate(READ_ENTRIES_MAX);
    TransferJournal { entries, more }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: Vec<u8>) -> EntryFields {
        EntryFields {
            id: EntryId::parse("e-1").unwrap(),
            transfer: TransferKey::parse("b51ec534-ee48-4575-b6a9-ead2955b8069").unwrap(),
            direction: Direction::InboundRequest,
            method: "POST".to_string(),
            url: "/transfers".to_string(),
            headers: vec![Header { name: "FSPIOP-Source".to_string(), value: "payerfsp".to_string() }],
            body,
            source: "payerfsp".to_string(),
            destination: Some("payeefsp".to_string()),
            http_status: Some(202),
            timestamp_ms: 1_790_000_000_000,
        }
    }

    #[test]
    fn keys_refuse_what_a_cosmos_id_cannot_hold() {
        for bad in ["", "a/b", "a b", "a#b", "a?b", "é"] {
            assert!(matches!(EntryId::parse(bad), Err(JournalError::InvalidKey { .. })), "{bad:?}");
        }
        let longest = "x".repeat(ENTRY_ID_CHARS_MAX);
        assert_eq!(EntryId::parse(&longest).unwrap().as_str(), longest);
        assert!(EntryId::parse(&format!("{longest}x")).is_err());
        assert!(TransferKey::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").is_ok());
    }

    #[test]
    fn a_body_within_the_limit_is_kept_verbatim() {
        let body = vec![b'{'; BODY_BYTES_MAX];
        let entry = JournalEntry::new(fields(body.clone()));
        assert_eq!(entry.body(), &body[..]);
        assert!(!entry.truncated());
        assert_eq!(entry.body_length(), BODY_BYTES_MAX as u64);
    }

    #[test]
    fn a_longer_body_is_cut_but_its_length_and_hash_are_the_original_ones() {
        let body = vec![b'a'; BODY_BYTES_MAX + 1];
        let entry = JournalEntry::new(fields(body.clone()));
        assert_eq!(entry.body().len(), BODY_BYTES_MAX);
        assert!(entry.truncated());
        assert_eq!(entry.body_length(), (BODY_BYTES_MAX + 1) as u64);
        assert_eq!(entry.body_sha256(), sha256_hex(&body));
    }

    #[test]
    fn texts_are_cut_on_character_boundaries() {
        let mut it = fields(Vec::new());
        it.source = "ü".repeat(PARTICIPANT_CHARS_MAX + 3);
        it.headers = (0..HEADERS_MAX + 2).map(|n| Header { name: format!("h{n}"), value: "v".to_string() }).collect();
        let entry = JournalEntry::new(it);
        assert_eq!(entry.source().chars().count(), PARTICIPANT_CHARS_MAX);
        assert_eq!(entry.headers().len(), HEADERS_MAX);
        assert!(entry.truncated());
        assert_eq!(entry.body_sha256(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn reads_are_ordered_by_time_then_id_and_cut_at_the_limit() {
        let make = |id: &str, ts: i64| {
            let mut it = fields(Vec::new());
            it.id = EntryId::parse(id).unwrap();
            it.timestamp_ms = ts;
            JournalEntry::new(it)
        };
        let res = transfer_journal(vec![make("b", 2), make("c", 1), make("a", 2)]);
        let ids: Vec<&str> = res.entries.iter().map(|it| it.id().as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert!(!res.more);
        let many = (0..READ_ENTRIES_MAX + 1).map(|n| make(&format!("e{n:05}"), 0)).collect();
        let res = transfer_journal(many);
        assert_eq!(res.entries.len(), READ_ENTRIES_MAX);
        assert!(res.more);
    }
}
