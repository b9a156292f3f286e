//! One conformance suite, run against every journal backend: SQLite, MariaDB and Cosmos DB
//! (the local stand-in). Each case gets fresh storage.

mod common;

use journal::{
    Direction, EntryFields, EntryId, Header, Journal, JournalEntry, JournalError, TransferKey, APPEND_ENTRIES_MAX,
    BODY_BYTES_MAX, READ_ENTRIES_MAX,
};

const T1: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";
const T2: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const NOW_MS: i64 = 1_790_000_000_000;

fn transfer(text: &str) -> TransferKey {
    TransferKey::parse(text).unwrap()
}

fn fields(id: &str, transfer_id: &str, timestamp_ms: i64) -> EntryFields {
    EntryFields {
        id: EntryId::parse(id).unwrap(),
        transfer: transfer(transfer_id),
        direction: Direction::InboundRequest,
        method: "POST".to_string(),
        url: "/transfers".to_string(),
        headers: vec![
            Header { name: "FSPIOP-Source".to_string(), value: "payerfsp".to_string() },
            Header { name: "FSPIOP-Destination".to_string(), value: "payeefsp".to_string() },
        ],
        body: format!(r#"{{"transferId":"{transfer_id}","amount":{{"amount":"100.25","currency":"USD"}}}}"#)
            .into_bytes(),
        source: "payerfsp".to_string(),
        destination: Some("payeefsp".to_string()),
        http_status: Some(202),
        timestamp_ms,
    }
}

fn entry(id: &str, transfer_id: &str, timestamp_ms: i64) -> JournalEntry {
    JournalEntry::new(fields(id, transfer_id, timestamp_ms))
}

fn callback(id: &str, transfer_id: &str, timestamp_ms: i64) -> JournalEntry {
    let mut it = fields(id, transfer_id, timestamp_ms);
    it.direction = Direction::OutboundCallback;
    it.method = "PUT".to_string();
    it.url = format!("http://payerfsp.example:4000/transfers/{transfer_id}");
    it.source = "switch".to_string();
    it.destination = Some("payerfsp".to_string());
    it.body = br#"{"transferState":"COMMITTED","completedTimestamp":"2026-09-21T10:00:00.000Z"}"#.to_vec();
    it.http_status = None;
    JournalEntry::new(it)
}

async fn read(journal: &dyn Journal, transfer_id: &str) -> Vec<JournalEntry> {
    let res = journal.by_transfer(&transfer(transfer_id)).await.expect("read the journal");
    assert!(!res.more);
    res.entries
}

fn ids(entries: &[JournalEntry]) -> Vec<&str> {
    entries.iter().map(|it| it.id().as_str()).collect()
}

mod cases {
    use super::*;

    pub async fn append_then_read_back_exactly(journal: &dyn Journal) {
        let request = entry("in-1", T1, NOW_MS);
        let answer = callback("out-1", T1, NOW_MS + 5);
        let other = entry("in-2", T2, NOW_MS + 1);
        journal.append(&[request.clone(), other.clone(), answer.clone()]).await.unwrap();
        assert_eq!(read(journal, T1).await, [request, answer]);
        assert_eq!(read(journal, T2).await, [other]);
    }

    pub async fn re_appending_an_entry_stores_it_once_and_the_first_write_wins(journal: &dyn Journal) {
        let first = entry("in-1", T1, NOW_MS);
        journal.append(std::slice::from_ref(&first)).await.unwrap();
        let mut changed = fields("in-1", T1, NOW_MS + 7);
        changed.body = b"{}".to_vec();
        changed.http_status = Some(400);
        // A redelivered batch: the same entry again, a different entry with the same id, and
        // a duplicate inside the batch itself.
        let second = entry("in-2", T1, NOW_MS + 1);
        journal.append(&[first.clone(), JournalEntry::new(changed), second.clone(), second.clone()]).await.unwrap();
        journal.append(&[first.clone(), second.clone()]).await.unwrap();
        assert_eq!(read(journal, T1).await, [first, second]);
    }

    pub async fn entries_come_back_ordered_by_timestamp_then_id(journal: &dyn Journal) {
        let batch =
            [entry("c", T1, NOW_MS + 2), callback("b", T1, NOW_MS + 1), entry("z", T1, NOW_MS), entry("a", T1, NOW_MS)];
        journal.append(&batch[..2]).await.unwrap();
        journal.append(&batch[2..]).await.unwrap();
        assert_eq!(ids(&read(journal, T1).await), ["a", "z", "b", "c"]);
    }

    pub async fn an_unknown_transfer_has_an_empty_journal(journal: &dyn Journal) {
        journal.append(&[entry("in-1", T1, NOW_MS)]).await.unwrap();
        assert_eq!(read(journal, T2).await, []);
        journal.append(&[]).await.unwrap();
        assert_eq!(read(journal, "never-seen").await, []);
    }

    pub async fn large_bodies_are_kept_verbatim_up_to_the_limit(journal: &dyn Journal) {
        // Every byte value, so text-only storage would show; the length is exactly the limit.
        let binary: Vec<u8> = (0..BODY_BYTES_MAX).map(|n| (n % 256) as u8).collect();
        let mut at_limit = fields("at-limit", T1, NOW_MS);
        at_limit.body = binary.clone();
        let mut json = fields("json-quotes", T1, NOW_MS + 1);
        json.body = vec![b'"'; BODY_BYTES_MAX];
        let mut over = fields("over-limit", T1, NOW_MS + 2);
        over.body = vec![b'x'; BODY_BYTES_MAX + 10];
        let entries = [JournalEntry::new(at_limit), JournalEntry::new(json), JournalEntry::new(over)];
        journal.append(&entries).await.unwrap();
        let stored = read(journal, T1).await;
        assert_eq!(stored, entries);
        assert_eq!(stored[0].body(), &binary[..]);
        assert!(!stored[0].truncated());
        assert!(stored[2].truncated());
        assert_eq!(stored[2].body().len(), BODY_BYTES_MAX);
        assert_eq!(stored[2].body_length(), (BODY_BYTES_MAX + 10) as u64);
    }

    pub async fn unicode_survives_every_field(journal: &dyn Journal) {
        let mut it = fields("unicode", T1, NOW_MS);
        it.url = "/parties/MSISDN/123?name=Zoë%20Ünal".to_string();
        it.source = "dfsp-ñandú".to_string();
        it.destination = Some("支付宝".to_string());
        it.headers.push(Header { name: "X-Note".to_string(), value: "ça va? 😀 \\ \"q\"".to_string() });
        it.body = r#"{"note":"Привет, мир 😀 — \"quoted\" \\ back\u0000slash","emoji":"👩‍👩‍👧"}"#.as_bytes().to_vec();
        let entry = JournalEntry::new(it);
        journal.append(std::slice::from_ref(&entry)).await.unwrap();
        assert_eq!(read(journal, T1).await, [entry]);
    }

    pub async fn a_batch_larger_than_one_statement_is_stored_whole(journal: &dyn Journal) {
        // Over the SQL backends' 500 rows per INSERT, under the read limit.
        let batch: Vec<JournalEntry> = (0..700).map(|n| entry(&format!("e{n:05}"), T1, NOW_MS + n)).collect();
        journal.append(&batch).await.unwrap();
        assert_eq!(read(journal, T1).await, batch);
    }

    pub async fn reads_stop_at_the_limit_and_say_there_is_more(journal: &dyn Journal) {
        let batch: Vec<JournalEntry> =
            (0..READ_ENTRIES_MAX as i64 + 1).map(|n| entry(&format!("e{n:05}"), T1, NOW_MS + n)).collect();
        journal.append(&batch).await.unwrap();
        let res = journal.by_transfer(&transfer(T1)).await.unwrap();
        assert!(res.more);
        assert_eq!(res.entries, batch[..READ_ENTRIES_MAX]);
    }

    pub async fn an_oversized_batch_is_refused_before_anything_is_written(journal: &dyn Journal) {
        let batch: Vec<JournalEntry> =
            (0..APPEND_ENTRIES_MAX + 1).map(|n| entry(&format!("e{n}"), T1, NOW_MS)).collect();
        let err = journal.append(&batch).await.unwrap_err();
        assert_eq!(err, JournalError::BatchTooLarge { entries: APPEND_ENTRIES_MAX + 1, max: APPEND_ENTRIES_MAX });
        assert!(!err.is_transient());
        assert_eq!(read(journal, T1).await, []);
    }
}

/// One test per case and backend; a new case goes in the list once.
macro_rules! conformance {
    ($backend:ident, $open:path) => {
        mod $backend {
            conformance!(@cases $open;
                append_then_read_back_exactly,
                re_appending_an_entry_stores_it_once_and_the_first_write_wins,
                entries_come_back_ordered_by_timestamp_then_id,
                an_unknown_transfer_has_an_empty_journal,
                large_bodies_are_kept_verbatim_up_to_the_limit,
                unicode_survives_every_field,
                a_batch_larger_than_one_statement_is_stored_whole,
                reads_stop_at_the_limit_and_say_there_is_more,
                an_oversized_batch_is_refused_before_anything_is_written,
            );
        }
    };
    (@cases $open:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let test = $open().await;
                super::cases::$case(&*test.journal).await;
                test.finish().await;
            }
        )*
    };
}

conformance!(sqlite, crate::common::sqlite_journal);
conformance!(mysql, crate::common::mysql_journal);
conformance!(cosmos, crate::common::cosmos_journal);
