//! A request the edge refuses while the message journal is unavailable is still journaled
//! (issue 20, finding 4): the entry goes to the notification hub as a journal event, and the
//! notification function appends it once the journal is back, under the id a direct append
//! gives it, so neither a redelivery nor the direct path stores it twice.
//!
//! The journal is made unavailable as another process makes it: a second connection holds its
//! SQLite write lock, so the journal's append waits out its busy timeout and fails transiently.

mod edge_support;

use std::sync::Arc;

use edge_support::*;
use handler::envelope::{Envelope, EventKind};
use handler::transfers::notification::{notify, Notifier};
use journal::sqlite::SqliteJournal;
use journal::{Direction, Journal, TransferKey};
use plumbing::listen::LIMITS;
use plumbing::publish::Hub;

const TRANSFER: &str = "0a4d3c1e-5b6f-4a7c-8d9e-0f1a2b3c4d5e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_while_the_journal_is_unavailable_is_journaled_through_the_notification_hub() {
    let recorder = Arc::new(Recorder::default());
    let path = fresh_path();
    let journal: Arc<dyn Journal> = Arc::new(SqliteJournal::open(&journal_path(&path)).await.unwrap());
    let (router, store) = app_with_journal(Arc::clone(&recorder), &path, Arc::clone(&journal)).await;
    let (address, _) = serve(router, LIMITS).await;
    // No amount: refused at the edge with a synchronous 400.
    let mut body = transfer_body(TRANSFER, "10");
    body.as_object_mut().unwrap().remove("amount");
    let body = serde_json::to_vec(&body).unwrap();
    let request = request_bytes("POST", b"/transfers", &fspiop_headers("payerfsp"), &body);
    let key = TransferKey::parse(TRANSFER).unwrap();

    let locker = rusqlite::Connection::open(journal_path(&path)).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let answer = exchange(address, &request).await;
    assert_eq!(answer.status, 400);
    assert_eq!(error_code(answer.status, &answer.body), "3102");
    let published = recorder.events.lock().unwrap().clone();
    assert_eq!(published.len(), 1, "the entry goes to the hub: {published:?}");
    let (hub, event) = &published[0];
    assert_eq!(*hub, Hub::NotificationEvent);
    let envelope = Envelope::from_json(event).unwrap();
    assert_eq!(envelope.metadata.event.kind, EventKind::Journal);
    assert_eq!(envelope.id, TRANSFER, "keyed by the transfer, as its other notification events");
    assert!(journal.by_transfer(&key).await.unwrap().entries.is_empty(), "not journaled while locked");
    locker.execute_batch("ROLLBACK").unwrap();

    // The notification function journals it, calls no one, and a redelivery stores nothing new.
    let notifier = Notifier::new(notification_config()).unwrap().with_journal(Arc::clone(&journal));
    for _ in 0..2 {
        let sent = notify(store.as_ref(), &notifier, std::slice::from_ref(event), NOW).await.unwrap();
        assert_eq!(sent, 0, "a journal event makes no callback");
    }
    let entries = journal.by_transfer(&key).await.unwrap().entries;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.direction(), Direction::InboundRequest);
    assert_eq!((entry.method(), entry.url(), entry.http_status()), ("POST", "/transfers", Some(400)));
    assert_eq!(entry.body(), body.as_slice(), "the body verbatim");
    assert_eq!(entry.body_length(), body.len() as u64);
    assert!(!entry.truncated());
    assert_eq!(entry.source(), "payerfsp");
    assert_eq!(entry.timestamp_ms(), NOW.unix_ms());
    let header = |name: &str| entry.headers().iter().find(|it| it.name == name).map(|it| it.value.clone());
    assert_eq!(header("content-type").as_deref(), Some(CONTENT_TYPE));

    // With the journal available the same refusal is appended directly, under the same id.
    let answer = exchange(address, &request).await;
    assert_eq!(answer.status, 400);
    assert_eq!(recorder.events.lock().unwrap().len(), 1, "nothing more published");
    let again = journal.by_transfer(&key).await.unwrap().entries;
    assert_eq!(again.len(), 1, "the direct append and the hub's agree on the id: {again:?}");
    remove(path);
}
