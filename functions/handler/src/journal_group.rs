//! The message journal behind group commit. Every FSPIOP request the edge answers appends one
//! entry; alone, each would be its own transaction and fsync, and concurrent requests would queue
//! on the store's single writer. Here one writer task takes every append waiting and stores them
//! in one [`Journal::append`], so a busy edge pays one commit for dozens of requests.
//!
//! Each caller still gets its own answer, only after its entries were stored. A group never
//! exceeds [`journal::APPEND_ENTRIES_MAX`] entries; a call over that bound alone goes through
//! unmerged and gets the store's own refusal. Reads pass straight through.

use std::sync::Arc;

use async_trait::async_trait;
use journal::{Journal, JournalEntry, JournalError, TransferJournal, TransferKey, APPEND_ENTRIES_MAX};
use tokio::sync::{mpsc, oneshot};

/// Most appends merged into one store call.
pub const APPENDS_PER_GROUP_MAX: usize = 512;
/// Appends waiting before callers wait to enqueue.
const QUEUE_APPENDS_MAX: usize = 8192;

struct Call {
    entries: Vec<JournalEntry>,
    answer: oneshot::Sender<Result<(), JournalError>>,
}

/// A journal whose concurrent appends share one store call.
pub struct GroupedJournal {
    inner: Arc<dyn Journal>,
    queue: mpsc::Sender<Call>,
}

impl GroupedJournal {
    /// Starts the writer task on the current Tokio runtime.
    pub fn new(inner: Arc<dyn Journal>) -> GroupedJournal {
        let (queue, calls) = mpsc::channel(QUEUE_APPENDS_MAX);
        tokio::spawn(write_groups(Arc::clone(&inner), calls));
        GroupedJournal { inner, queue }
    }
}

#[async_trait]
impl Journal for GroupedJournal {
    async fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
        if entries.is_empty() {
            return Ok(());
        }
        if APPEND_ENTRIES_MAX < entries.len() {
            return self.inner.append(entries).await;
        }
        let stopped = || JournalError::Unavailable("the journal writer has stopped".to_string());
        let (answer, answered) = oneshot::channel();
        self.queue.send(Call { entries: entries.to_vec(), answer }).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    async fn by_transfer(&self, transfer: &TransferKey) -> Result<TransferJournal, JournalError> {
        self.inner.by_transfer(transfer).await
    }
}

async fn write_groups(inner: Arc<dyn Journal>, mut calls: mpsc::Receiver<Call>) {
    while let Some(group) = plumbing::group::recv_group(&mut calls, APPENDS_PER_GROUP_MAX).await {
        for mut bounded in split_at_entry_bound(group) {
            // The calls own copies of their entries already; move them into the one append.
            let entries: Vec<JournalEntry> =
                bounded.iter_mut().flat_map(|call| std::mem::take(&mut call.entries)).collect();
            let outcome = inner.append(&entries).await;
            for call in bounded {
                let _ = call.answer.send(outcome.clone());
            }
        }
    }
}

/// Consecutive runs of calls holding at most [`APPEND_ENTRIES_MAX`] entries together.
fn split_at_entry_bound(group: Vec<Call>) -> Vec<Vec<Call>> {
    let mut runs: Vec<Vec<Call>> = Vec::new();
    let mut run_entries = 0;
    for call in group {
        let n = call.entries.len();
        match runs.last_mut() {
            Some(run) if run_entries + n <= APPEND_ENTRIES_MAX => run.push(call),
            _ => {
                runs.push(vec![call]);
                run_entries = 0;
            }
        }
        run_entries += n;
    }
    runs
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use journal::{Direction, EntryFields, EntryId};

    use super::*;

    /// Records each append's entry ids; slow, so appends pile up behind the first; fails any
    /// append holding an entry of transfer `refused`.
    #[derive(Default)]
    struct Recorder {
        appends: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl Journal for Recorder {
        async fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.appends.lock().unwrap().push(entries.iter().map(|it| it.id().as_str().to_string()).collect());
            match entries.iter().any(|it| it.transfer().as_str() == "refused") {
                true => Err(JournalError::Unavailable("test".into())),
                false => Ok(()),
            }
        }

        async fn by_transfer(&self, _: &TransferKey) -> Result<TransferJournal, JournalError> {
            Ok(TransferJournal { entries: Vec::new(), more: false })
        }
    }

    fn entry(id: &str, transfer: &str) -> JournalEntry {
        JournalEntry::new(EntryFields {
            id: EntryId::parse(id).unwrap(),
            transfer: TransferKey::parse(transfer).unwrap(),
            direction: Direction::InboundRequest,
            method: "POST".into(),
            url: "/transfers".into(),
            headers: Vec::new(),
            body: b"{}".to_vec(),
            source: "payerfsp".into(),
            destination: None,
            http_status: Some(202),
            timestamp_ms: 1,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_store_calls_and_each_is_answered() {
        let recorder = Arc::new(Recorder::default());
        let journal = Arc::new(GroupedJournal::new(recorder.clone()));
        let mut tasks = Vec::new();
        for n in 0..40 {
            let journal = Arc::clone(&journal);
            let transfer = if n == 0 { "first" } else { "t" };
            tasks.push(tokio::spawn(async move { journal.append(&[entry(&format!("e{n}"), transfer)]).await }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(()));
        }
        let appends = recorder.appends.lock().unwrap().clone();
        assert!(appends.len() < 40, "appends were merged: {} store calls", appends.len());
        let mut stored: Vec<String> = appends.into_iter().flatten().collect();
        stored.sort();
        let mut expected: Vec<String> = (0..40).map(|n| format!("e{n}")).collect();
        expected.sort();
        assert_eq!(stored, expected, "every entry stored exactly once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_store_call_fails_the_callers_it_held() {
        let recorder = Arc::new(Recorder::default());
        let journal = GroupedJournal::new(recorder.clone());
        assert!(journal.append(&[entry("a", "refused")]).await.is_err());
        assert_eq!(journal.append(&[entry("b", "fine")]).await, Ok(()));
        assert_eq!(journal.append(&[]).await, Ok(()), "nothing to append is fine");
    }

    #[test]
    fn runs_stay_within_the_entry_bound_and_keep_the_order() {
        let call = |n: usize| Call { entries: vec![entry("x", "t"); n], answer: oneshot::channel().0 };
        let sizes = |runs: Vec<Vec<Call>>| {
            runs.iter().map(|run| run.iter().map(|it| it.entries.len()).collect::<Vec<_>>()).collect::<Vec<_>>()
        };
        let half = APPEND_ENTRIES_MAX / 2;
        assert_eq!(sizes(split_at_entry_bound(vec![call(1), call(2)])), [vec![1, 2]]);
        assert_eq!(sizes(split_at_entry_bound(vec![call(half), call(half), call(1)])), [vec![half, half], vec![1]]);
        assert_eq!(
            sizes(split_at_entry_bound(vec![call(half + 1), call(half), call(3)])),
            [vec![half + 1], vec![half, 3]]
        );
    }
}
