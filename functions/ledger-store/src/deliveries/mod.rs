//! What the notification function records ([`DeliveryStore`]): which notification went to
//! whom, so a re-emitted event is not delivered twice, and the dead letters of events and
//! callbacks that gave up. Each call is its own short transaction.

use std::collections::HashSet;

use async_trait::async_trait;
use ledger_core::time::Timestamp;

use crate::error::StoreError;
use crate::text::{check_length, truncate_bytes, truncate_chars};

pub(crate) mod mysql;
pub(crate) mod sqlite;

/// Longest event id, in characters (`notification_delivery.event_id`, `dead_letter.event_id`).
pub const EVENT_ID_LENGTH_MAX: usize = 64;
/// Longest notification recipient, in characters (an FSP name: `participant.name VARCHAR(128)`).
pub const RECIPIENT_LENGTH_MAX: usize = 128;
/// Longest transfer id kept with a delivery or a dead letter, in characters (a UUID or ULID).
pub const TRANSFER_ID_LENGTH_MAX: usize = 36;
/// Longest dead-letter source, in characters (`dead_letter.source VARCHAR(64)`).
pub const DEAD_LETTER_SOURCE_LENGTH_MAX: usize = 64;
/// Longest dead-letter body kept, in UTF-8 bytes (MySQL `MEDIUMTEXT`); a longer one is cut.
pub const DEAD_LETTER_BODY_BYTES_MAX: usize = 16_777_215;
/// Longest dead-letter reason kept, in UTF-8 bytes (MySQL `TEXT`); a longer one is cut.
pub const DEAD_LETTER_REASON_BYTES_MAX: usize = 65_535;

/// Which notification went to whom. Deliveries are stored and looked up by transfer first:
/// event ids are hashes, and a table keyed by them took every row to a page of its own (135
/// pages written per commit of 90 rows, against 8 keyed by time-ordered transfer ids such as
/// ULIDs, UUIDv7 or the load generator's). A transfer's deliveries always sit together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub transfer_id: String,
    pub event_id: String,
    pub recipient: String,
}

/// A notification sent to one recipient, recorded so that a re-emitted event (same id) is not
/// sent to that recipient again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// At most [`EVENT_ID_LENGTH_MAX`] characters.
    pub event_id: String,
    /// At most [`RECIPIENT_LENGTH_MAX`] characters.
    pub recipient: String,
    /// At most [`TRANSFER_ID_LENGTH_MAX`] characters.
    pub transfer_id: String,
    pub delivered: Timestamp,
}

/// An event a function could not process, or a callback that gave up after its retries, kept
/// for operators. Texts beyond their column are cut (on a character boundary), never refused:
/// recording a dead letter must not fail on its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    /// What gave up, e.g. `"prepare"` or `"notification"`.
    pub source: String,
    pub event_id: Option<String>,
    pub transfer_id: Option<String>,
    pub body: String,
    pub reason: String,
    pub created: Timestamp,
}

/// A stored dead letter; `id` grows with every insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterRecord {
    pub id: u64,
    pub source: String,
    pub event_id: Option<String>,
    pub transfer_id: Option<String>,
    pub body: String,
    pub reason: String,
    pub created: Timestamp,
}

/// Notification deliveries and dead letters (see the module documentation).
#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Which of `keys` have a recorded delivery.
    async fn delivered(&self, keys: &[DeliveryKey]) -> Result<HashSet<DeliveryKey>, StoreError>;

    /// Records deliveries; a key already recorded is left as it is (not an error).
    /// [`StoreError::Invalid`] if a text exceeds its column, before anything is written.
    async fn record_deliveries(&self, rows: &[NewDelivery]) -> Result<(), StoreError>;

    async fn record_dead_letters(&self, rows: &[NewDeadLetter]) -> Result<(), StoreError>;

    /// The newest dead letters first (highest id), at most `limit`.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetterRecord>, StoreError>;
}

/// Checks every delivery's texts against their columns.
pub(crate) fn check_deliveries(rows: &[NewDelivery]) -> Result<(), StoreError> {
    for row in rows {
        check_length("event id", &row.event_id, EVENT_ID_LENGTH_MAX)?;
        check_length("recipient", &row.recipient, RECIPIENT_LENGTH_MAX)?;
        check_length("transfer id", &row.transfer_id, TRANSFER_ID_LENGTH_MAX)?;
    }
    Ok(())
}

/// A dead letter with every text cut to its column: `(source, event_id, transfer_id, body,
/// reason)`.
pub(crate) fn dead_letter_texts(row: &NewDeadLetter) -> (&str, Option<&str>, Option<&str>, &str, &str) {
    (
        truncate_chars(&row.source, DEAD_LETTER_SOURCE_LENGTH_MAX),
        row.event_id.as_deref().map(|it| truncate_chars(it, EVENT_ID_LENGTH_MAX)),
        row.transfer_id.as_deref().map(|it| truncate_chars(it, TRANSFER_ID_LENGTH_MAX)),
        truncate_bytes(&row.body, DEAD_LETTER_BODY_BYTES_MAX),
        truncate_bytes(&row.reason, DEAD_LETTER_REASON_BYTES_MAX),
    )
}

/// The distinct transfer ids of delivery keys, in first-seen order.
pub(crate) fn distinct_transfer_ids(keys: &[DeliveryKey]) -> Vec<&str> {
    let mut seen = HashSet::new();
    keys.iter().map(|key| key.transfer_id.as_str()).filter(|it| seen.insert(*it)).collect()
}

/// Deliveries of the listed transfers, for an `IN` list of `n` values (the same text on both
/// backends). By transfer id alone, the key's prefix (a plain `IN` range on every server); a
/// transfer has a few deliveries.
pub(crate) fn deliveries_of_transfers_sql(n: usize) -> String {
    format!(
        "SELECT transfer_id, event_id, recipient FROM notification_delivery WHERE transfer_id IN ({})",
        crate::statements::placeholders(n)
    )
}
