//! Group commit's one step, shared by every single-writer queue in the switch: wait for the first
//! request, then take every request already waiting (up to a bound), so one write serves them all.
//! An idle queue adds no delay; a busy one amortises its write (an fsync, an HTTP send) over
//! everything that arrived while the previous write ran.

use tokio::sync::mpsc;

/// The next group: the first request to arrive and up to `max - 1` more already queued, in
/// arrival order; `None` once every sender is gone and the queue is empty.
pub async fn recv_group<T>(queue: &mut mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let first = queue.recv().await?;
    let mut group = vec![first];
    while group.len() < max {
        match queue.try_recv() {
            Ok(next) => group.push(next),
            Err(_) => break,
        }
    }
    Some(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_group_takes_what_waits_up_to_the_bound_then_ends_with_the_senders() {
        let (sender, mut queue) = mpsc::channel(16);
        for n in 0..5 {
            sender.send(n).await.unwrap();
        }
        assert_eq!(recv_group(&mut queue, 3).await, Some(vec![0, 1, 2]));
        assert_eq!(recv_group(&mut queue, 3).await, Some(vec![3, 4]));
        drop(sender);
        assert_eq!(recv_group(&mut queue, 3).await, None);
    }
}
