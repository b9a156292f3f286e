//! What the SQLite and MySQL journals share: the column list, statement chunking, the header
//! encoding and the decoding of a stored row back into a [`JournalEntry`].

use crate::{Direction, EntryFields, EntryId, Header, JournalEntry, JournalError, TransferKey};

/// The columns of `journal_entry` in insert and select order.
pub(crate) const COLUMNS: &str = "entry_id, transfer_id, timestamp_ms, direction, method, url, headers, body, \
     body_length, body_sha256, truncated, source, destination, http_status";
pub(crate) const COLUMN_COUNT: usize = 14;
/// Most rows in one multi-row INSERT: 14 × 512 = 7 168 parameters, far under both servers'
/// placeholder limits.
pub(crate) const STATEMENT_ROWS_MAX: usize = 512;
/// Most body and header bytes in one INSERT, well under MariaDB's default 16 MiB
/// `max_allowed_packet` (MySQL 8's is 64 MiB). One entry at its limits always fits.
pub(crate) const STATEMENT_BYTES_MAX: usize = 4 * 1_048_576;

/// A row as both drivers read it, before it is checked.
pub(crate) struct StoredRow {
    pub entry_id: String,
    pub transfer_id: String,
    pub timestamp_ms: i64,
    pub direction: String,
    pub method: String,
    pub url: String,
    pub headers: String,
    pub body: Vec<u8>,
    pub body_length: i64,
    pub body_sha256: String,
    pub truncated: bool,
    pub source: String,
    pub destination: Option<String>,
    pub http_status: Option<i64>,
}

/// Splits a batch into statements of at most [`STATEMENT_ROWS_MAX`] rows and about
/// [`STATEMENT_BYTES_MAX`] bytes (a single larger entry gets a statement of its own), each a
/// power of two rows long: a handful of statement texts then serve every batch size, so the
/// driver's prepared-statement cache hits instead of preparing and closing one per append.
pub(crate) fn statement_chunks(entries: &[JournalEntry]) -> Vec<&[JournalEntry]> {
    byte_bounded_chunks(entries).into_iter().flat_map(power_of_two_runs).collect()
}

/// Runs of a power of two rows each, largest first, in order.
fn power_of_two_runs<T>(mut rows: &[T]) -> Vec<&[T]> {
    let mut runs = Vec::new();
    while !rows.is_empty() {
        let run = 1 << rows.len().ilog2();
        let (head, rest) = rows.split_at(run);
        runs.push(head);
        rows = rest;
    }
    runs
}

fn byte_bounded_chunks(entries: &[JournalEntry]) -> Vec<&[JournalEntry]> {
    let mut res = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (idx, entry) in entries.iter().enumerate() {
        let size = entry_bytes(entry);
        let full = STATEMENT_ROWS_MAX <= idx - start || STATEMENT_BYTES_MAX < bytes + size;
        if full && start < idx {
            res.push(&entries[start..idx]);
            start = idx;
            bytes = 0;
        }
        bytes += size;
    }
    if start < entries.len() {
        res.push(&entries[start..]);
    }
    res
}

fn entry_bytes(entry: &JournalEntry) -> usize {
    let headers: usize = entry.headers().iter().map(|it| it.name.len() + it.value.len()).sum();
    entry.body().len() + headers + entry.url().len()
}

/// `(?, …, ?), (?, …, ?)` for `n_rows` rows.
pub(crate) fn row_placeholders(n_rows: usize) -> String {
    let row = format!("({})", vec!["?"; COLUMN_COUNT].join(", "));
    vec![row; n_rows].join(", ")
}

pub(crate) fn encode_headers(headers: &[Header]) -> String {
    // Serialising strings into JSON cannot fail.
    serde_json::to_string(headers).expect("headers serialise")
}

/// Checks a stored row and rebuilds its entry.
pub(crate) fn entry_from_row(row: StoredRow) -> Result<JournalEntry, JournalError> {
    let corrupt = |what: &str| JournalError::Corrupt(format!("entry {}: {what}", row.entry_id));
    let direction = Direction::parse(&row.direction).ok_or_else(|| corrupt("unknown direction"))?;
    let headers: Vec<Header> = serde_json::from_str(&row.headers).map_err(|_| corrupt("headers are not JSON"))?;
    let body_length = u64::try_from(row.body_length).map_err(|_| corrupt("negative body length"))?;
    let http_status = match row.http_status {
        Some(status) => Some(u16::try_from(status).map_err(|_| corrupt("HTTP status out of range"))?),
        None => None,
    };
    let fields = EntryFields {
        id: EntryId::parse(&row.entry_id)?,
        transfer: TransferKey::parse(&row.transfer_id)?,
        direction,
        method: row.method,
        url: row.url,
        headers,
        body: row.body,
        source: row.source,
        destination: row.destination,
        http_status,
        timestamp_ms: row.timestamp_ms,
    };
    Ok(JournalEntry::restore(fields, body_length, row.body_sha256, row.truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BODY_BYTES_MAX;

    fn entry(n: usize, body_bytes: usize) -> JournalEntry {
        JournalEntry::new(EntryFields {
            id: EntryId::parse(&format!("e{n}")).unwrap(),
            transfer: TransferKey::parse("t").unwrap(),
            direction: Direction::OutboundCallback,
            method: "PUT".to_string(),
            url: "http://payer/transfers/t".to_string(),
            headers: Vec::new(),
            body: vec![b'x'; body_bytes],
            source: "switch".to_string(),
            destination: None,
            http_status: None,
            timestamp_ms: 0,
        })
    }

    #[test]
    fn chunks_respect_the_row_and_byte_limits_and_keep_every_entry_once() {
        let small: Vec<JournalEntry> = (0..STATEMENT_ROWS_MAX * 2 + 1).map(|n| entry(n, 10)).collect();
        let sizes: Vec<usize> = statement_chunks(&small).iter().map(|it| it.len()).collect();
        assert_eq!(sizes, [STATEMENT_ROWS_MAX, STATEMENT_ROWS_MAX, 1]);
        let sizes: Vec<usize> = statement_chunks(&small[..37]).iter().map(|it| it.len()).collect();
        assert_eq!(sizes, [32, 4, 1], "power-of-two statements, largest first");
        let in_order: Vec<&str> =
            statement_chunks(&small[..37]).into_iter().flatten().map(|it| it.id().as_str()).collect();
        let expected: Vec<&str> = small[..37].iter().map(|it| it.id().as_str()).collect();
        assert_eq!(in_order, expected);

        let large: Vec<JournalEntry> = (0..9).map(|n| entry(n, BODY_BYTES_MAX)).collect();
        let chunks = statement_chunks(&large);
        assert_eq!(chunks.iter().map(|it| it.len()).sum::<usize>(), 9);
        for chunk in chunks {
            let bytes: usize = chunk.iter().map(entry_bytes).sum();
            assert!(bytes <= STATEMENT_BYTES_MAX || chunk.len() == 1);
        }
        assert!(statement_chunks(&[]).is_empty());
    }

    #[test]
    fn placeholders_have_one_group_per_row() {
        assert_eq!(row_placeholders(2).matches('?').count(), 2 * COLUMN_COUNT);
        assert_eq!(COLUMNS.split(',').count(), COLUMN_COUNT);
    }
}
