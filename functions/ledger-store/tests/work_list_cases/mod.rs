//! Conformance cases of the timeout work-list (run by `conformance.rs` on both backends): read
//! by due time in bounded batches, left by a transfer in the transaction that makes it final
//! (whenever it is due), and moved on without ever bringing a removed entry back.

use std::sync::Arc;

use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, NewStateChange, NewTransfer};

use crate::common::*;

/// Long after every test transfer's expiration.
const LATE: Timestamp = Timestamp::from_unix_ms(EXPIRATION.unix_ms() + 86_400_000);

async fn due(store: &dyn LedgerStore, now: Timestamp, limit: usize) -> Vec<(TransferId, Timestamp)> {
    let mut tx = store.begin().await.unwrap();
    tx.due_timeouts(now, limit).await.unwrap()
}

fn entry(row: &NewTransfer) -> (TransferId, Timestamp) {
    (row.transfer_id.clone(), row.expiration)
}

/// Records `state` as the transfer's next state and, when it is final, removes its entry in the
/// same transaction as a handler does; committed only if `commit`.
async fn record_state(store: &dyn LedgerStore, id: &TransferId, state: TransferState, commit: bool) {
    let mut tx = store.begin().await.unwrap();
    let seq = tx.current_states(std::slice::from_ref(id)).await.unwrap()[id].seq + 1;
    tx.insert_state_changes(&[NewStateChange { transfer_id: id.clone(), seq, state, reason: None, created: NOW }])
        .await
        .unwrap();
    if state.is_final() {
        tx.delete_timeouts_of(std::slice::from_ref(id)).await.unwrap();
    }
    if commit {
        tx.commit().await.unwrap();
    }
}

pub async fn the_work_list_is_read_by_due_time_in_batches(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    // Stored out of expiration order, two sharing an expiration, one invalid (never listed).
    let offsets_ms = [5_000, 1_000, 3_000, 3_000, 2_000, 9_000, 4_000];
    let mut rows: Vec<NewTransfer> = offsets_ms
        .iter()
        .map(|offset| NewTransfer {
            expiration: NOW.plus_ms(*offset),
            ..new_transfer_with_id(new_time_ordered_transfer_id(), &payer, &payee, "1")
        })
        .collect();
    rows[5].state = TransferState::Invalid;
    rows[5].payer_account = None;
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    // Soonest first; equal due times in the order the transfers were stored.
    let expected: Vec<_> = [1, 4, 2, 3, 6, 0].iter().map(|idx| entry(&rows[*idx])).collect();
    assert_eq!(due(store.as_ref(), LATE, 100).await, expected);
    // Only what is due before `now` (an entry due exactly now is not yet).
    assert_eq!(due(store.as_ref(), NOW.plus_ms(3_000), 100).await, expected[..2]);
    // In bounded batches, each its own transaction, until nothing is due.
    let mut batches = Vec::new();
    loop {
        let mut tx = store.begin().await.unwrap();
        let batch = tx.due_timeouts(LATE, 4).await.unwrap();
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 4);
        tx.delete_timeouts(&batch).await.unwrap();
        tx.commit().await.unwrap();
        batches.push(batch);
    }
    assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 2]);
    assert_eq!(batches.concat(), expected);
    assert_eq!(store.transfer(&rows[5].transfer_id).await.unwrap().unwrap().current.state, TransferState::Invalid);
}

pub async fn final_transfers_leave_the_work_list_in_their_own_transaction(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows: Vec<NewTransfer> = (0..4).map(|_| new_transfer(&payer, &payee, "2")).collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    position_batch(store.as_ref(), &prepare_messages(&rows)).await.unwrap();
    // Committed before its expiration (still listed while the fulfil waits for its commit);
    // aborted after a scan moved its entry past its expiration.
    record_state(store.as_ref(), &rows[0].transfer_id, TransferState::ReceivedFulfil, true).await;
    assert_eq!(due(store.as_ref(), LATE, 100).await.len(), 4);
    let mut tx = store.begin().await.unwrap();
    let moved = EXPIRATION.plus_ms(30_000);
    tx.move_timeouts(&[(rows[1].transfer_id.clone(), EXPIRATION, moved)]).await.unwrap();
    tx.commit().await.unwrap();
    record_state(store.as_ref(), &rows[0].transfer_id, TransferState::Committed, true).await;
    record_state(store.as_ref(), &rows[1].transfer_id, TransferState::ReceivedError, true).await;
    record_state(store.as_ref(), &rows[1].transfer_id, TransferState::AbortedError, true).await;
    // A transaction that does not commit removes nothing.
    record_state(store.as_ref(), &rows[2].transfer_id, TransferState::AbortedError, false).await;
    let left: Vec<_> = [2, 3].iter().map(|idx| entry(&rows[*idx])).collect();
    let mut listed = due(store.as_ref(), LATE, 100).await;
    listed.sort();
    let mut expected = left.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // Unknown transfers, and transfers without an entry, are skipped.
    let mut tx = store.begin().await.unwrap();
    tx.delete_timeouts_of(&[new_transfer_id(), rows[0].transfer_id.clone()]).await.unwrap();
    tx.delete_timeouts_of(&[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(due(store.as_ref(), LATE, 100).await.len(), 2);
    // Many at once (more than one statement's worth).
    let many: Vec<NewTransfer> =
        (0..ledger_store::STATEMENT_ROWS_MAX + 3).map(|_| new_transfer(&payer, &payee, "1")).collect();
    prepare_batch(store.as_ref(), &many).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let ids: Vec<TransferId> = many.iter().map(|it| it.transfer_id.clone()).collect();
    tx.delete_timeouts_of(&ids).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(due(store.as_ref(), LATE, 10_000).await.len(), 2);
}

pub async fn a_moved_entry_comes_due_later_and_a_removed_one_never_returns(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows: Vec<NewTransfer> = (0..3).map(|_| new_transfer(&payer, &payee, "2")).collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let later = EXPIRATION.plus_ms(30_000);
    let first_look = EXPIRATION.plus_ms(1);
    let mut tx = store.begin().await.unwrap();
    let read = tx.due_timeouts(first_look, 10).await.unwrap();
    assert_eq!(read.len(), 3);
    tx.commit().await.unwrap();
    // Between the scan's read and its cleanup, the third transfer became final.
    record_state(store.as_ref(), &rows[2].transfer_id, TransferState::AbortedRejected, true).await;
    let mut tx = store.begin().await.unwrap();
    let moves: Vec<_> = read.iter().map(|(id, due)| (id.clone(), *due, later)).collect();
    tx.move_timeouts(&moves).await.unwrap();
    // A move naming a due time the entry no longer has changes nothing.
    tx.move_timeouts(&[(rows[0].transfer_id.clone(), EXPIRATION, LATE)]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(due(store.as_ref(), first_look, 10).await.is_empty(), "moved past the first look");
    let mut listed = due(store.as_ref(), later.plus_ms(1), 10).await;
    listed.sort();
    let mut expected = vec![(rows[0].transfer_id.clone(), later), (rows[1].transfer_id.clone(), later)];
    expected.sort();
    assert_eq!(listed, expected, "the finished transfer's entry did not come back");
    // Deleting by a due time the entry no longer has leaves it.
    let mut tx = store.begin().await.unwrap();
    tx.delete_timeouts(&[entry(&rows[0])]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(due(store.as_ref(), later.plus_ms(1), 10).await.len(), 2);
}

pub async fn removing_or_moving_a_batch_leaves_the_entries_it_does_not_name(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    // Five entries in due order; the calls below name the first, third and fifth, whose
    // due-time range holds the other two.
    let rows: Vec<NewTransfer> = (0..5)
        .map(|idx| NewTransfer {
            expiration: NOW.plus_ms(1_000 * (idx + 1)),
            ..new_transfer_with_id(new_time_ordered_transfer_id(), &payer, &payee, "1")
        })
        .collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let later = LATE.plus_ms(-1_000);
    let mut tx = store.begin().await.unwrap();
    let moves = [
        (rows[0].transfer_id.clone(), rows[0].expiration, later),
        (rows[4].transfer_id.clone(), rows[4].expiration, later),
    ];
    tx.move_timeouts(&moves).await.unwrap();
    tx.delete_timeouts(&[entry(&rows[0]), entry(&rows[2]), entry(&rows[4])]).await.unwrap();
    tx.commit().await.unwrap();
    // The delete named the moved entries by the due times they no longer have: they stay.
    let mut listed = due(store.as_ref(), LATE, 100).await;
    listed[2..].sort();
    let mut moved = vec![(rows[0].transfer_id.clone(), later), (rows[4].transfer_id.clone(), later)];
    moved.sort();
    let expected: Vec<_> = [entry(&rows[1]), entry(&rows[3])].into_iter().chain(moved).collect();
    assert_eq!(listed, expected, "the unnamed entries stay where they were");
}
