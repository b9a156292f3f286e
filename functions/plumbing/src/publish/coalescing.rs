//! Group commit for publishing: concurrent `publish` calls to one hub (every FSPIOP request the
//! edge accepts makes one) share one call to the underlying publisher. A call waits only while
//! an earlier group is being sent, so an idle switch adds no delay, and a busy one sends one
//! request (or one Event Hubs batch) where it would have sent dozens.
//!
//! Each caller still gets its own answer, and only after its events were sent. When a shared call
//! fails permanently (one caller's event too large, say), the group's calls are sent again one by
//! one, so one caller's bad event never fails the others. Events of one call stay together and in
//! order, which is all the [`Publisher`] contract promises.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{Hub, OutgoingEvent, PublishError, Publisher};

/// Most calls merged into one send.
pub const CALLS_PER_GROUP_MAX: usize = 256;
/// Calls waiting per hub before callers wait to enqueue.
const QUEUE_CALLS_MAX: usize = 4096;

struct Call {
    events: Vec<OutgoingEvent>,
    answer: oneshot::Sender<Result<(), PublishError>>,
}

/// Wraps a publisher so concurrent calls per hub are sent together.
pub struct CoalescingPublisher {
    queues: Vec<mpsc::Sender<Call>>,
}

impl CoalescingPublisher {
    /// Starts one sender task per hub on the current Tokio runtime.
    pub fn new(inner: Arc<dyn Publisher>) -> CoalescingPublisher {
        let queues = Hub::ALL
            .iter()
            .map(|hub| {
                let (queue, calls) = mpsc::channel(QUEUE_CALLS_MAX);
                tokio::spawn(send_groups(*hub, Arc::clone(&inner), calls));
                queue
            })
            .collect();
        CoalescingPublisher { queues }
    }
}

#[async_trait]
impl Publisher for CoalescingPublisher {
    async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError> {
        if events.is_empty() {
            return Ok(());
        }
        let stopped = || PublishError::Unavailable { hub, reason: "the publisher has stopped".to_string() };
        let (answer, answered) = oneshot::channel();
        self.queues[hub.index()].send(Call { events, answer }).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// The hub's sender: takes every call waiting, sends them as one, answers each.
async fn send_groups(hub: Hub, inner: Arc<dyn Publisher>, mut calls: mpsc::Receiver<Call>) {
    while let Some(group) = crate::group::recv_group(&mut calls, CALLS_PER_GROUP_MAX).await {
        send_group(hub, inner.as_ref(), group).await;
    }
}

async fn send_group(hub: Hub, inner: &dyn Publisher, group: Vec<Call>) {
    if group.len() == 1 {
        let call = group.into_iter().next().expect("one call");
        let _ = call.answer.send(inner.publish(hub, call.events).await);
        return;
    }
    let events: Vec<OutgoingEvent> = group.iter().flat_map(|call| call.events.iter().cloned()).collect();
    match inner.publish(hub, events).await {
        Err(err) if !err.is_transient() => {
            // Find whose events the hub refuses: each call alone.
            for call in group {
                let _ = call.answer.send(inner.publish(hub, call.events).await);
            }
        }
        outcome => {
            for call in group {
                let _ = call.answer.send(outcome.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// Records each call it gets; refuses any call holding a body `too large`; slow, so calls
    /// pile up behind the first.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl Publisher for Recorder {
        async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.calls.lock().unwrap().push(events.iter().map(|it| it.body.clone()).collect());
            if events.iter().any(|it| it.body == "too large") {
                return Err(PublishError::EventTooLarge { hub, reason: "test".into() });
            }
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_share_sends_and_keep_their_events_together() {
        let recorder = Arc::new(Recorder::default());
        let publisher = Arc::new(CoalescingPublisher::new(recorder.clone()));
        let mut tasks = Vec::new();
        for n in 0..50 {
            let publisher = Arc::clone(&publisher);
            let events = vec![OutgoingEvent::keyed("k", format!("{n}a")), OutgoingEvent::keyed("k", format!("{n}b"))];
            tasks.push(tokio::spawn(async move { publisher.publish(Hub::TransferPrepare, events).await }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(()));
        }
        let calls = recorder.calls.lock().unwrap().clone();
        assert!(calls.len() < 50, "calls were merged: {} sends", calls.len());
        let all: Vec<String> = calls.into_iter().flatten().collect();
        assert_eq!(all.len(), 100);
        for n in 0..50 {
            let a = all.iter().position(|it| *it == format!("{n}a")).unwrap();
            assert_eq!(all[a + 1], format!("{n}b"), "a call's events stay together and in order");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_callers_refused_event_fails_only_that_caller() {
        let recorder = Arc::new(Recorder::default());
        let publisher = Arc::new(CoalescingPublisher::new(recorder.clone()));
        let mut tasks = Vec::new();
        for body in ["slow first", "fine", "too large", "also fine"] {
            let publisher = Arc::clone(&publisher);
            tasks.push(tokio::spawn(async move {
                publisher.publish(Hub::TransferFulfil, vec![OutgoingEvent::unkeyed(body)]).await
            }));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let outcomes: Vec<bool> =
            futures::future::join_all(tasks).await.into_iter().map(|it| it.unwrap().is_ok()).collect();
        assert_eq!(outcomes, [true, true, false, true]);
        assert_eq!(publisher.publish(Hub::TransferFulfil, Vec::new()).await, Ok(()), "nothing to send is fine");
    }
}
