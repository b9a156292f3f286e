//! The store conformance suite: every case runs against a fresh SQLite file (`sqlite::*`) and a
//! fresh database on the MySQL-compatible server (`mysql::*`). There is no skip: without a
//! reachable server the MySQL half fails.

mod amount_cases;
mod common;
mod operator_cases;
mod work_list_cases;

use std::collections::HashSet;
use std::sync::Arc;

use amount_cases::*;
use common::*;
use ledger_core::account::{LedgerAccountType, NetDebitCap, HUB_NAME};
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, ParticipantId, TransferId, WindowId};
use ledger_core::position::{PositionAction, PositionOutcome};
use ledger_core::prepare::{Duplicate, RequestHash};
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use ledger_store::{
    DeliveryKey, HashKind, LedgerStore, NewDeadLetter, NewDelivery, NewFulfilment, NewStateChange, NewTransferError,
    StoreError, DEAD_LETTER_REASON_BYTES_MAX, ENDPOINT_TYPE_LENGTH_MAX, ENDPOINT_VALUE_LENGTH_MAX,
    RECIPIENT_LENGTH_MAX, STATEMENT_ROWS_MAX,
};
use operator_cases::*;
use work_list_cases::*;

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let test = super::common::sqlite_store().await;
                    super::$case(test.store.clone()).await;
                    test.finish().await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let test = super::common::mysql_store().await;
                    super::$case(test.store.clone()).await;
                    test.finish().await;
                }
            )*
        }
    };
}

conformance!(
    migrations_seed_the_hub_and_one_open_window,
    participants_and_accounts_are_unique,
    unknown_rows_are_not_found,
    net_debit_cap_replaces_the_active_limit,
    prepares_persist_with_their_first_state_and_timeout,
    duplicate_prepares_are_classified_by_hash,
    a_failed_batch_leaves_nothing_behind,
    an_abandoned_transaction_rolls_back,
    positions_lock_with_settlement_balance_and_cap,
    reserve_commit_and_abort_through_the_store,
    a_redelivered_position_batch_changes_nothing,
    a_state_sequence_number_is_taken_once,
    liquidity_and_cap_rejections_are_recorded,
    fulfil_error_and_hash_rows_read_back,
    closing_a_window_opens_the_next,
    expired_transfers_come_from_the_timeout_list,
    amounts_round_trip_exactly,
    wide_transfers_round_trip_exactly,
    wide_positions_and_their_journal_read_back,
    wide_window_sums_contents_and_settlements_read_back,
    the_work_list_is_read_by_due_time_in_batches,
    final_transfers_leave_the_work_list_in_their_own_transaction,
    a_moved_entry_comes_due_later_and_a_removed_one_never_returns,
    removing_or_moving_a_batch_leaves_the_entries_it_does_not_name,
    concurrent_batches_over_shared_accounts_all_commit,
    a_random_workload_keeps_journal_and_positions_equal,
    endpoints_are_upserted_per_participant_and_type,
    batch_reference_reads_equal_the_single_reads,
    deliveries_are_recorded_once_per_event_and_recipient,
    dead_letters_read_back_newest_first,
    operator_reference_rows_read_back,
    window_contents_and_settlements_round_trip,
);

async fn migrations_seed_the_hub_and_one_open_window(store: Arc<dyn LedgerStore>) {
    let hub = store.participant(&fsp(HUB_NAME)).await.unwrap().expect("the Hub is seeded");
    assert_eq!(hub.id.0, 1);
    assert!(hub.is_active);
    let mut tx = store.begin().await.unwrap();
    let window = tx.open_window().await.unwrap();
    assert_eq!((window.id, window.state), (WindowId(1), WindowState::Open));
}

async fn participants_and_accounts_are_unique(store: Arc<dyn LedgerStore>) {
    let dfsp = store.create_participant(&fsp("payerfsp"), NOW).await.unwrap();
    let again = store.create_participant(&fsp("payerfsp"), NOW).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let position = store.create_account(dfsp.id, usd(), LedgerAccountType::Position, false, NOW).await.unwrap();
    let twice = store.create_account(dfsp.id, usd(), LedgerAccountType::Position, false, NOW).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    store.create_account(dfsp.id, usd(), LedgerAccountType::Settlement, false, NOW).await.unwrap();
    store.set_account_active(position.id, true).await.unwrap();
    store.set_participant_active(dfsp.id, false).await.unwrap();
    let accounts = store.accounts(dfsp.id).await.unwrap();
    let kinds: Vec<_> = accounts.iter().map(|it| (it.kind, it.is_active)).collect();
    assert_eq!(kinds, [(LedgerAccountType::Position, true), (LedgerAccountType::Settlement, false)]);
    assert!(!store.participant(&fsp("payerfsp")).await.unwrap().unwrap().is_active);
    let names: Vec<String> = store.participants().await.unwrap().iter().map(|it| it.name.to_string()).collect();
    assert_eq!(names, ["Hub", "payerfsp"]);
    assert_eq!(store.balance(position.id).await.unwrap(), (Amount::ZERO, Amount::ZERO));
}

async fn unknown_rows_are_not_found(store: Arc<dyn LedgerStore>) {
    assert!(store.participant(&fsp("nobody")).await.unwrap().is_none());
    assert!(matches!(store.set_account_active(AccountId(999), true).await, Err(StoreError::NotFound(_))));
    let cap = NetDebitCap::new(amount("1")).unwrap();
    assert!(matches!(store.set_net_debit_cap(AccountId(999), cap, NOW).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.balance(AccountId(999)).await, Err(StoreError::NotFound(_))));
    assert!(store.transfer(&new_transfer_id()).await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    assert!(tx.lock_positions(&[AccountId(999)]).await.unwrap().is_empty());
    assert!(tx.current_states(&[new_transfer_id()]).await.unwrap().is_empty());
}

async fn net_debit_cap_replaces_the_active_limit(store: Arc<dyn LedgerStore>) {
    let dfsp = provision_dfsp(store.as_ref(), "payerfsp", "1000", "500").await;
    assert_eq!(store.net_debit_cap(dfsp.position.id).await.unwrap().map(|it| it.value()), Some(amount("500")));
    store.set_net_debit_cap(dfsp.position.id, NetDebitCap::new(amount("750.5")).unwrap(), NOW).await.unwrap();
    assert_eq!(store.net_debit_cap(dfsp.position.id).await.unwrap().map(|it| it.value()), Some(amount("750.5")));
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_positions(&[dfsp.position.id]).await.unwrap();
    assert_eq!(locked[&dfsp.position.id].net_debit_cap.map(|it| it.value()), Some(amount("750.5")));
}

async fn prepares_persist_with_their_first_state_and_timeout(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let mut rows: Vec<_> = (0..3).map(|_| new_transfer(&payer, &payee, "10.25")).collect();
    rows[1].extensions = vec![("note".into(), "ünïcode".into()), ("k2".into(), "v2".into())];
    rows[2].state = TransferState::Invalid;
    rows[2].reason = Some("Generic validation error - Participant x not found".into());
    rows[2].payer_account = None;
    let outcomes = prepare_batch(store.as_ref(), &rows).await.unwrap();
    assert_eq!(outcomes, vec![Prepared::Inserted; 3]);
    let record = store.transfer(&rows[1].transfer_id).await.unwrap().expect("stored");
    assert_eq!(record.payer, payer.name);
    assert_eq!(record.payee_account, Some(payee.position.id));
    assert_eq!(record.amount, amount("10.25"));
    assert_eq!(record.condition, Some(fulfilment().condition()));
    assert_eq!(record.expiration, EXPIRATION);
    assert_eq!(record.ilp_packet, rows[1].ilp_packet);
    assert_eq!((record.current.state, record.current.seq), (TransferState::ReceivedPrepare, 1));
    assert_eq!(record.extensions, rows[1].extensions);
    let invalid = store.transfer(&rows[2].transfer_id).await.unwrap().expect("stored");
    assert_eq!((invalid.current.state, invalid.payer_account), (TransferState::Invalid, None));
    // Read together, the same records; an unknown id is simply absent.
    let unknown = new_transfer_id();
    let ids = [rows[0].transfer_id.clone(), rows[1].transfer_id.clone(), unknown.clone(), rows[1].transfer_id.clone()];
    let together = store.transfers(&ids).await.unwrap();
    assert_eq!(together.len(), 2);
    assert!(!together.contains_key(&unknown));
    assert_eq!(together[&rows[1].transfer_id], record);
    assert_eq!(together[&rows[0].transfer_id].payee, payee.name);
    // Only transfers awaiting processing are on the timeout work-list.
    let mut tx = store.begin().await.unwrap();
    let expired = tx.due_timeouts(EXPIRATION.plus_ms(1), 10).await.unwrap();
    let mut expired_ids: Vec<_> = expired.iter().map(|(id, _)| id.clone()).collect();
    expired_ids.sort();
    let mut expected = vec![rows[0].transfer_id.clone(), rows[1].transfer_id.clone()];
    expected.sort();
    assert_eq!(expired_ids, expected);
}

async fn duplicate_prepares_are_classified_by_hash(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let first = new_transfer(&payer, &payee, "1");
    let committed = new_transfer(&payer, &payee, "1");
    prepare_batch(store.as_ref(), &[first.clone(), committed.clone()]).await.unwrap();
    record_state(store.as_ref(), &committed.transfer_id, 2, TransferState::Reserved).await;
    let mut modified = first.clone();
    modified.hash = RequestHash::new("another body".into());
    let fresh = new_transfer(&payer, &payee, "1");
    let outcomes = prepare_batch(store.as_ref(), &[first.clone(), modified, committed.clone(), fresh.clone(), fresh])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            Prepared::Duplicate(Duplicate::InFlight),
            Prepared::Duplicate(Duplicate::Modified),
            Prepared::Duplicate(Duplicate::Resend(TransferState::Reserved)),
            Prepared::Inserted,
            Prepared::Duplicate(Duplicate::InFlight),
        ]
    );
}

async fn a_failed_batch_leaves_nothing_behind(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let existing = new_transfer(&payer, &payee, "1");
    prepare_batch(store.as_ref(), std::slice::from_ref(&existing)).await.unwrap();
    let fresh = new_transfer(&payer, &payee, "1");
    let mut tx = store.begin().await.unwrap();
    let res = tx.insert_transfers(&[fresh.clone(), existing]).await;
    assert!(matches!(res, Err(StoreError::Conflict(_))), "{res:?}");
    drop(tx);
    assert!(store.transfer(&fresh.transfer_id).await.unwrap().is_none());
    // The store is usable again at once.
    prepare_batch(store.as_ref(), std::slice::from_ref(&fresh)).await.unwrap();
    assert!(store.transfer(&fresh.transfer_id).await.unwrap().is_some());
}

async fn an_abandoned_transaction_rolls_back(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let row = new_transfer(&payer, &payee, "5");
    let mut tx = store.begin().await.unwrap();
    tx.lock_positions(&[payer.position.id]).await.unwrap();
    tx.insert_transfers(std::slice::from_ref(&row)).await.unwrap();
    tx.update_positions(&[(payer.position.id, amount("5"))], NOW).await.unwrap();
    drop(tx);
    // The next transaction must neither see the rows nor wait on the abandoned locks.
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_positions(&[payer.position.id]).await.unwrap();
    assert_eq!(locked[&payer.position.id].position, Amount::ZERO);
    assert!(tx.current_states(std::slice::from_ref(&row.transfer_id)).await.unwrap().is_empty());
    tx.commit().await.unwrap();
}

async fn positions_lock_with_settlement_balance_and_cap(store: Arc<dyn LedgerStore>) {
    let a = provision_dfsp(store.as_ref(), "dfspa", "1000.5", "300").await;
    let b = provision_dfsp(store.as_ref(), "dfspb", "20", "0").await;
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_positions(&[b.position.id, a.position.id, b.position.id, AccountId(4242)]).await.unwrap();
    assert_eq!(locked.keys().copied().collect::<Vec<_>>(), [a.position.id, b.position.id]);
    assert_eq!(locked[&a.position.id].settlement_balance, -amount("1000.5"));
    assert_eq!(locked[&a.position.id].net_debit_cap.map(|it| it.value()), Some(amount("300")));
    assert_eq!(locked[&b.position.id].settlement_balance, -amount("20"));
    assert_eq!(locked[&b.position.id].net_debit_cap.map(|it| it.value()), Some(Amount::ZERO));
    let balances = tx.lock_balances(&[a.settlement.id]).await.unwrap();
    assert_eq!(balances[&a.settlement.id], (-amount("1000.5"), Amount::ZERO));
}

async fn reserve_commit_and_abort_through_the_store(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows = vec![new_transfer(&payer, &payee, "100"), new_transfer(&payer, &payee, "40.5")];
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let decision = position_batch(store.as_ref(), &prepare_messages(&rows)).await.unwrap();
    assert!(decision
        .outcomes
        .iter()
        .all(|it| matches!(it, PositionOutcome::Applied { state: TransferState::Reserved, .. })));
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, amount("140.5"));
    let commit = record_payee_answer(
        store.as_ref(),
        &[(rows[0].clone(), payee.position.id)],
        TransferState::ReceivedFulfil,
        PositionAction::Commit,
    )
    .await
    .unwrap();
    let abort = record_payee_answer(
        store.as_ref(),
        &[(rows[1].clone(), payer.position.id)],
        TransferState::ReceivedError,
        PositionAction::Abort,
    )
    .await
    .unwrap();
    position_batch(store.as_ref(), &[commit, abort].concat()).await.unwrap();
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, amount("100"));
    assert_eq!(store.balance(payee.position.id).await.unwrap().0, -amount("100"));
    let states: Vec<_> = store.state_history(&rows[0].transfer_id).await.unwrap().iter().map(|it| it.state).collect();
    assert_eq!(
        states,
        [
            TransferState::ReceivedPrepare,
            TransferState::Reserved,
            TransferState::ReceivedFulfil,
            TransferState::Committed
        ]
    );
    let record = store.transfer(&rows[1].transfer_id).await.unwrap().unwrap();
    assert_eq!((record.current.state, record.current.seq), (TransferState::AbortedError, 4));
    assert_journal_matches_balance(store.as_ref(), payer.position.id).await;
    assert_journal_matches_balance(store.as_ref(), payee.position.id).await;
    let journal = store.position_journal(payer.position.id).await.unwrap();
    let changes: Vec<(Amount, Amount)> = journal.iter().map(|(_, change, value)| (*change, *value)).collect();
    assert_eq!(
        changes,
        [(amount("100"), amount("100")), (amount("40.5"), amount("140.5")), (-amount("40.5"), amount("100"))]
    );
}

async fn a_redelivered_position_batch_changes_nothing(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows: Vec<_> = (0..5).map(|_| new_transfer(&payer, &payee, "7")).collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let messages = prepare_messages(&rows);
    position_batch(store.as_ref(), &messages).await.unwrap();
    let journal_before = store.position_journal(payer.position.id).await.unwrap();
    let again = position_batch(store.as_ref(), &messages).await.unwrap();
    assert!(again.outcomes.iter().all(|it| *it == PositionOutcome::Stale { found: Some(TransferState::Reserved) }));
    assert_eq!(store.position_journal(payer.position.id).await.unwrap(), journal_before);
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, amount("35"));
}

async fn a_state_sequence_number_is_taken_once(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let row = new_transfer(&payer, &payee, "1");
    prepare_batch(store.as_ref(), std::slice::from_ref(&row)).await.unwrap();
    record_state(store.as_ref(), &row.transfer_id, 2, TransferState::Reserved).await;
    let mut tx = store.begin().await.unwrap();
    let change = NewStateChange {
        transfer_id: row.transfer_id.clone(),
        seq: 2,
        state: TransferState::ExpiredPrepared,
        reason: None,
        created: NOW,
    };
    let res = tx.insert_state_changes(&[change]).await;
    assert!(matches!(res, Err(StoreError::Conflict(_))), "{res:?}");
    drop(tx);
    assert_eq!(store.transfer(&row.transfer_id).await.unwrap().unwrap().current.state, TransferState::Reserved);
}

async fn liquidity_and_cap_rejections_are_recorded(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "100", "50").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "100", "100").await;
    let rows = vec![
        new_transfer(&payer, &payee, "150"),
        new_transfer(&payer, &payee, "60"),
        new_transfer(&payer, &payee, "50"),
    ];
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let decision = position_batch(store.as_ref(), &prepare_messages(&rows)).await.unwrap();
    assert_eq!(decision.outcomes[0], PositionOutcome::Rejected { rejection: Rejection::PayerInsufficientLiquidity });
    assert_eq!(decision.outcomes[1], PositionOutcome::Rejected { rejection: Rejection::PayerLimitExceeded });
    assert!(matches!(decision.outcomes[2], PositionOutcome::Applied { .. }));
    let rejected = store.transfer(&rows[0].transfer_id).await.unwrap().unwrap();
    assert_eq!(rejected.current.state, TransferState::AbortedRejected);
    assert_eq!(rejected.error.map(|it| it.0), Some(4001));
    assert_eq!(store.transfer(&rows[1].transfer_id).await.unwrap().unwrap().error.map(|it| it.0), Some(4200));
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, amount("50"));
}

async fn fulfil_error_and_hash_rows_read_back(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows = vec![new_transfer(&payer, &payee, "1"), new_transfer(&payer, &payee, "2")];
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let ids: Vec<TransferId> = rows.iter().map(|it| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await.unwrap();
    let window = tx.open_window().await.unwrap();
    tx.insert_hashes(HashKind::Fulfil, &[(ids[0].clone(), RequestHash::new("f-hash".into()), NOW)]).await.unwrap();
    tx.insert_hashes(HashKind::Error, &[(ids[1].clone(), RequestHash::new("e-hash".into()), NOW)]).await.unwrap();
    let completed = Timestamp::from_unix_ms(NOW.unix_ms() + 5);
    let fulfilment_row = NewFulfilment {
        transfer_id: ids[0].clone(),
        fulfilment: Some(fulfilment()),
        completed,
        window: window.id,
        created: NOW,
    };
    tx.insert_fulfilments(&[fulfilment_row]).await.unwrap();
    let description = "x".repeat(200);
    tx.insert_errors(&[NewTransferError {
        transfer_id: ids[1].clone(),
        seq: 1,
        code: 5101,
        description,
        created: NOW,
    }])
    .await
    .unwrap();
    assert_eq!(tx.window_fulfilment_count(window.id).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let fulfil_hashes = tx.hashes(HashKind::Fulfil, &ids).await.unwrap();
    assert_eq!(fulfil_hashes.len(), 1);
    assert_eq!(fulfil_hashes[&ids[0]].as_str(), "f-hash");
    assert_eq!(tx.hashes(HashKind::Error, &ids).await.unwrap()[&ids[1]].as_str(), "e-hash");
    assert_eq!(tx.hashes(HashKind::Prepare, &ids).await.unwrap()[&ids[0]], rows[0].hash);
    let records = tx.transfers(&ids).await.unwrap();
    assert_eq!(records[&ids[0]].fulfilment, Some(fulfilment()));
    assert_eq!(records[&ids[0]].window, Some(window.id));
    let (code, text) = records[&ids[1]].error.clone().expect("an error row");
    assert_eq!((code, text.chars().count()), (5101, 128));
}

async fn closing_a_window_opens_the_next(store: Arc<dyn LedgerStore>) {
    let at = Timestamp::from_unix_ms(NOW.unix_ms() + 1000);
    let mut tx = store.begin().await.unwrap();
    let (closed, opened) = tx.close_open_window("end of day", at).await.unwrap();
    assert_eq!((closed.id, closed.state), (WindowId(1), WindowState::Processing));
    assert_eq!((opened.id, opened.state, opened.created), (WindowId(2), WindowState::Open, at));
    assert_eq!(tx.open_window().await.unwrap().id, WindowId(2));
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let (closed, opened) = tx.close_open_window("again", at).await.unwrap();
    assert_eq!((closed.id, opened.id), (WindowId(2), WindowId(3)));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.open_window().await.unwrap().id, WindowId(2), "a rolled back close keeps the window open");
}

async fn expired_transfers_come_from_the_timeout_list(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let mut rows: Vec<_> = (0..4).map(|_| new_transfer(&payer, &payee, "3")).collect();
    for (idx, row) in rows.iter_mut().enumerate() {
        row.expiration = Timestamp::from_unix_ms(NOW.unix_ms() + 1000 * idx as i64);
    }
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    position_batch(store.as_ref(), &prepare_messages(&rows[..1])).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let expired = tx.due_timeouts(Timestamp::from_unix_ms(NOW.unix_ms() + 2500), 2).await.unwrap();
    assert_eq!(
        expired,
        [(rows[0].transfer_id.clone(), rows[0].expiration), (rows[1].transfer_id.clone(), rows[1].expiration)]
    );
    tx.delete_timeouts(&expired).await.unwrap();
    let rest = tx.due_timeouts(Timestamp::from_unix_ms(NOW.unix_ms() + 2500), 10).await.unwrap();
    assert_eq!(rest, [(rows[2].transfer_id.clone(), rows[2].expiration)]);
    tx.commit().await.unwrap();
}

async fn amounts_round_trip_exactly(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "99999999999999.9999", "99999999999999.9999").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "0.0001", "0").await;
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_positions(&[payer.position.id, payee.position.id]).await.unwrap();
    assert_eq!(locked[&payer.position.id].settlement_balance, -amount("99999999999999.9999"));
    assert_eq!(locked[&payee.position.id].settlement_balance, -amount("0.0001"));
    // The largest and smallest values an Amount takes fit the columns too.
    for units in [i128::MAX, i128::MIN] {
        tx.update_positions(&[(payer.position.id, Amount::from_units(units))], NOW).await.unwrap();
        let locked = tx.lock_positions(&[payer.position.id]).await.unwrap();
        assert_eq!(locked[&payer.position.id].position, Amount::from_units(units));
    }
    drop(tx);
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, Amount::ZERO, "rolled back");
    let rows = vec![new_transfer(&payer, &payee, "0.0001"), new_transfer(&payer, &payee, "12345678901234.5678")];
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    for row in &rows {
        assert_eq!(store.transfer(&row.transfer_id).await.unwrap().unwrap().amount, row.amount);
    }
}

async fn concurrent_batches_over_shared_accounts_all_commit(store: Arc<dyn LedgerStore>) {
    const N_TASKS: usize = 4;
    const N_BATCHES: usize = 10;
    let mut dfsps = Vec::new();
    for idx in 0..3 {
        dfsps.push(provision_dfsp(store.as_ref(), &format!("dfsp{idx}"), "1000000", "1000000").await);
    }
    let mut tasks = Vec::new();
    for task in 0..N_TASKS {
        let store = store.clone();
        let dfsps = dfsps.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..N_BATCHES {
                // Each task names the accounts in a different order; locks are still taken in
                // ascending order, so no two batches can deadlock.
                let rows: Vec<_> = (0..3)
                    .map(|it| {
                        let payer = &dfsps[(it + task + batch) % 3];
                        let payee = &dfsps[(it + task + batch + 1) % 3];
                        new_transfer(payer, payee, "1")
                    })
                    .collect();
                prepare_batch_retrying(store.as_ref(), &rows).await;
                position_batch_retrying(store.as_ref(), &rows).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("a task panicked");
    }
    let mut total = Amount::ZERO;
    for dfsp in &dfsps {
        assert_journal_matches_balance(store.as_ref(), dfsp.position.id).await;
        total += store.balance(dfsp.position.id).await.unwrap().0;
    }
    assert_eq!(total, Amount::from_whole((N_TASKS * N_BATCHES * 3) as i64));
}

async fn a_random_workload_keeps_journal_and_positions_equal(store: Arc<dyn LedgerStore>) {
    let mut dfsps = Vec::new();
    for idx in 0..3 {
        dfsps.push(provision_dfsp(store.as_ref(), &format!("dfsp{idx}"), "500", "400").await);
    }
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut reserved: Vec<(ledger_store::NewTransfer, usize)> = Vec::new();
    for _ in 0..40 {
        let n_prepares = (next(&mut seed) % 5) as usize;
        let rows: Vec<_> = (0..n_prepares)
            .map(|_| {
                let payer = (next(&mut seed) % 3) as usize;
                let payee = (payer + 1 + (next(&mut seed) % 2) as usize) % 3;
                let units = 1 + (next(&mut seed) % 1_000_000) as i64;
                (
                    new_transfer(&dfsps[payer], &dfsps[payee], &Amount::from_units(units.into()).to_decimal_string()),
                    payee,
                )
            })
            .collect();
        let news: Vec<_> = rows.iter().map(|(it, _)| it.clone()).collect();
        prepare_batch(store.as_ref(), &news).await.unwrap();
        let decision = position_batch(store.as_ref(), &prepare_messages(&news)).await.unwrap();
        for (row, outcome) in rows.into_iter().zip(decision.outcomes) {
            if let PositionOutcome::Applied { .. } = outcome {
                reserved.push(row);
            }
        }
        let n_answers = (next(&mut seed) % 3) as usize;
        for _ in 0..n_answers.min(reserved.len()) {
            let (row, payee) = reserved.swap_remove((next(&mut seed) as usize) % reserved.len());
            let commit = !next(&mut seed).is_multiple_of(3);
            let (state, action, account) = match commit {
                true => (TransferState::ReceivedFulfil, PositionAction::Commit, dfsps[payee].position.id),
                false => (TransferState::ReceivedError, PositionAction::Abort, row.payer_account.unwrap()),
            };
            let messages = record_payee_answer(store.as_ref(), &[(row, account)], state, action).await.unwrap();
            position_batch(store.as_ref(), &messages).await.unwrap();
        }
    }
    let mut total = Amount::ZERO;
    for dfsp in &dfsps {
        assert_journal_matches_balance(store.as_ref(), dfsp.position.id).await;
        let (position, _) = store.balance(dfsp.position.id).await.unwrap();
        assert!(position <= amount("400"), "no position exceeds its cap");
        total += position;
    }
    let in_flight: Amount = reserved.iter().map(|(it, _)| it.amount).sum();
    assert_eq!(total, in_flight, "positions sum to what is reserved and not yet settled between parties");
}

async fn endpoints_are_upserted_per_participant_and_type(store: Arc<dyn LedgerStore>) {
    const POST: &str = "FSPIOP_CALLBACK_URL_TRANSFER_POST";
    const PUT: &str = "FSPIOP_CALLBACK_URL_TRANSFER_PUT";
    const ERROR: &str = "FSPIOP_CALLBACK_URL_TRANSFER_ERROR";
    let payer = store.create_participant(&fsp("payerfsp"), NOW).await.unwrap();
    let payee = store.create_participant(&fsp("payeefsp"), NOW).await.unwrap();
    assert!(store.endpoints(payer.id).await.unwrap().is_empty());
    store.set_endpoint(payer.id, PUT, "http://payer/transfers/{{transferId}}", NOW).await.unwrap();
    store.set_endpoint(payer.id, POST, "http://payer/transfers", NOW).await.unwrap();
    store.set_endpoint(payer.id, ERROR, "http://payer/transfers/{{transferId}}/error", NOW).await.unwrap();
    store.set_endpoint(payee.id, PUT, "http://payee/transfers/{{transferId}}", NOW).await.unwrap();
    // Setting a type again replaces its value in place.
    store.set_endpoint(payer.id, POST, "https://payer.example/v2/transfers", NOW.plus_ms(1)).await.unwrap();
    store.set_endpoint(payer.id, PUT, "http://payer/transfers/{{transferId}}", NOW.plus_ms(2)).await.unwrap();
    let listed = store.endpoints(payer.id).await.unwrap();
    let expected = [
        (ERROR, "http://payer/transfers/{{transferId}}/error"),
        (POST, "https://payer.example/v2/transfers"),
        (PUT, "http://payer/transfers/{{transferId}}"),
    ];
    assert_eq!(listed, expected.map(|(kind, value)| (kind.to_string(), value.to_string())));
    assert_eq!(
        store.endpoints(payee.id).await.unwrap(),
        [(PUT.to_string(), "http://payee/transfers/{{transferId}}".to_string())]
    );
    // Types are free text, compared exactly and ordered bytewise.
    store.set_endpoint(payee.id, "custom_type", "x", NOW).await.unwrap();
    store.set_endpoint(payee.id, "Custom_type", "y", NOW).await.unwrap();
    let kinds: Vec<String> = store.endpoints(payee.id).await.unwrap().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["Custom_type", PUT, "custom_type"]);
    let unknown = store.set_endpoint(ParticipantId(999), POST, "http://nobody", NOW).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
    assert!(store.endpoints(ParticipantId(999)).await.unwrap().is_empty());
    // Limits count characters, as the columns do.
    let longest = format!("http://{}", "é".repeat(ENDPOINT_VALUE_LENGTH_MAX - 7));
    store.set_endpoint(payee.id, POST, &longest, NOW).await.unwrap();
    let too_long = store.set_endpoint(payee.id, POST, &format!("{longest}x"), NOW).await;
    assert!(matches!(too_long, Err(StoreError::Invalid(_))), "{too_long:?}");
    let long_type = "T".repeat(ENDPOINT_TYPE_LENGTH_MAX + 1);
    assert!(matches!(store.set_endpoint(payee.id, &long_type, "x", NOW).await, Err(StoreError::Invalid(_))));
    let stored: Vec<(String, String)> = store.endpoints(payee.id).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert!(stored.contains(&(POST.to_string(), longest)));
}

async fn batch_reference_reads_equal_the_single_reads(store: Arc<dyn LedgerStore>) {
    const PUT: &str = "FSPIOP_CALLBACK_URL_TRANSFER_PUT";
    // 37 participants: IN lists padded to a shape, and more than one shape's worth.
    let mut names = Vec::new();
    for n in 0..37u32 {
        let name = fsp(&format!("dfsp{n:02}"));
        let participant = store.create_participant(&name, NOW).await.unwrap();
        if n % 3 != 0 {
            store.create_account(participant.id, usd(), LedgerAccountType::Position, n % 2 == 0, NOW).await.unwrap();
            store.create_account(participant.id, usd(), LedgerAccountType::Settlement, true, NOW).await.unwrap();
        }
        if n % 4 != 0 {
            store
                .set_endpoint(participant.id, PUT, &format!("http://{name}/transfers/{{{{transferId}}}}"), NOW)
                .await
                .unwrap();
            store
                .set_endpoint(participant.id, "FSPIOP_CALLBACK_URL_TRANSFER_ERROR", "http://x/error", NOW)
                .await
                .unwrap();
        }
        names.push(name);
    }
    store.set_participant_active(store.participant(&names[5]).await.unwrap().unwrap().id, false).await.unwrap();
    // Unknown names are left out; a repeated name is read once.
    let mut asked = names.clone();
    asked.extend([fsp("nobody"), names[7].clone(), fsp("HUB")]);
    let read = store.participants_with_accounts(&asked).await.unwrap();
    let mut expected = Vec::new();
    for name in &names {
        let participant = store.participant(name).await.unwrap().unwrap();
        let accounts = store.accounts(participant.id).await.unwrap();
        expected.push((participant, accounts));
    }
    assert_eq!(read, expected);
    assert!(read.iter().any(|(participant, _)| !participant.is_active));
    assert!(read.iter().any(|(_, accounts)| accounts.iter().any(|it| !it.is_active)));
    let endpoints = store.endpoints_by_name(&asked).await.unwrap();
    let mut expected = std::collections::HashMap::new();
    for (participant, _) in &read {
        let listed = store.endpoints(participant.id).await.unwrap();
        if !listed.is_empty() {
            expected.insert(participant.name.clone(), listed);
        }
    }
    assert_eq!(endpoints, expected);
    assert_eq!(endpoints.len(), 27);
    assert!(store.participants_with_accounts(&[]).await.unwrap().is_empty());
    assert!(store.endpoints_by_name(&[fsp("nobody")]).await.unwrap().is_empty());
}

async fn deliveries_are_recorded_once_per_event_and_recipient(store: Arc<dyn LedgerStore>) {
    const TRANSFER: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";
    let key = |event: &str, recipient: &str| DeliveryKey {
        transfer_id: TRANSFER.to_string(),
        event_id: event.to_string(),
        recipient: recipient.to_string(),
    };
    let delivery = |event: &str, recipient: &str| NewDelivery {
        event_id: event.to_string(),
        recipient: recipient.to_string(),
        transfer_id: TRANSFER.to_string(),
        delivered: NOW,
    };
    assert!(store.delivered(&[]).await.unwrap().is_empty());
    store.record_deliveries(&[]).await.unwrap();
    let first = [delivery("e1", "payerfsp"), delivery("e1", "payeefsp"), delivery("e2", "payeefsp")];
    store.record_deliveries(&first).await.unwrap();
    // Recording again, and repeating a pair inside one call, is not an error.
    let again = [delivery("e2", "payeefsp"), delivery("e3", "payerfsp"), delivery("e3", "payerfsp"), first[0].clone()];
    store.record_deliveries(&again).await.unwrap();
    store.record_deliveries(&first).await.unwrap();
    let asked = [
        key("e1", "payerfsp"),
        key("e1", "payeefsp"),
        key("e2", "payerfsp"),
        key("e2", "payeefsp"),
        key("e2", "payeefsp"),
        key("E1", "payerfsp"),
        key("e1", "PAYERFSP"),
        key("e3", "payerfsp"),
        key("e4", "payeefsp"),
    ];
    let expected: HashSet<DeliveryKey> =
        [key("e1", "payerfsp"), key("e1", "payeefsp"), key("e2", "payeefsp"), key("e3", "payerfsp")]
            .into_iter()
            .collect();
    assert_eq!(store.delivered(&asked).await.unwrap(), expected);
    // The same event and recipient under another transfer is another key.
    let other_transfer =
        DeliveryKey { transfer_id: "0e4e7d9c-6d43-4b7e-9a61-3e4b5c2a1f00".to_string(), ..key("e1", "payerfsp") };
    assert!(store.delivered(&[other_transfer]).await.unwrap().is_empty());
    // A text beyond its column refuses the whole call before anything is written.
    let too_long = [delivery("e5", "payerfsp"), delivery("e5", &"r".repeat(RECIPIENT_LENGTH_MAX + 1))];
    assert!(matches!(store.record_deliveries(&too_long).await, Err(StoreError::Invalid(_))));
    assert!(store.delivered(&[key("e5", "payerfsp")]).await.unwrap().is_empty());
    // More rows than one statement carries, half of them already recorded.
    let many: Vec<NewDelivery> =
        (0..STATEMENT_ROWS_MAX + 100).map(|idx| delivery(&format!("m{idx}"), "payerfsp")).collect();
    store.record_deliveries(&many[..STATEMENT_ROWS_MAX / 2]).await.unwrap();
    store.record_deliveries(&many).await.unwrap();
    let keys: Vec<DeliveryKey> = many.iter().map(|it| key(&it.event_id, &it.recipient)).collect();
    assert_eq!(store.delivered(&keys).await.unwrap(), keys.iter().cloned().collect::<HashSet<_>>());
}

async fn dead_letters_read_back_newest_first(store: Arc<dyn LedgerStore>) {
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    store.record_dead_letters(&[]).await.unwrap();
    let letter = |idx: i64, source: &str, ids: bool| NewDeadLetter {
        source: source.to_string(),
        event_id: ids.then(|| format!("event-{idx}")),
        transfer_id: ids.then(|| new_transfer_id().to_string()),
        body: format!("{{\"n\": {idx}, \"text\": \"ünïcødé\\n\"}}\n"),
        reason: format!("reason {idx}"),
        created: NOW.plus_ms(idx),
    };
    let first = [letter(1, "prepare", true), letter(2, "notification", false), letter(3, "fulfil", true)];
    let second = [letter(4, "notification", true), letter(5, "prepare", false)];
    store.record_dead_letters(&first).await.unwrap();
    store.record_dead_letters(&second).await.unwrap();
    let stored = store.dead_letters(10).await.unwrap();
    let written: Vec<&NewDeadLetter> = first.iter().chain(&second).rev().collect();
    assert_eq!(stored.len(), written.len());
    for (record, row) in stored.iter().zip(&written) {
        assert_eq!(
            (&record.source, &record.event_id, &record.transfer_id, &record.body, &record.reason, record.created),
            (&row.source, &row.event_id, &row.transfer_id, &row.body, &row.reason, row.created)
        );
    }
    assert!(stored.windows(2).all(|it| it[0].id > it[1].id), "newest (highest id) first");
    let newest = store.dead_letters(2).await.unwrap();
    assert_eq!(newest, stored[..2]);
    assert!(store.dead_letters(0).await.unwrap().is_empty());
    // Texts beyond their columns are cut on a character boundary, never refused.
    let mut long = letter(6, &"s".repeat(100), true);
    long.event_id = Some("é".repeat(100));
    long.reason = "é".repeat(DEAD_LETTER_REASON_BYTES_MAX);
    store.record_dead_letters(std::slice::from_ref(&long)).await.unwrap();
    let cut = store.dead_letters(1).await.unwrap().remove(0);
    assert_eq!(cut.source, "s".repeat(64));
    assert_eq!(cut.event_id, Some("é".repeat(64)));
    assert_eq!(cut.reason, "é".repeat(DEAD_LETTER_REASON_BYTES_MAX / 2));
    // More rows than one statement carries keep their order.
    let many: Vec<NewDeadLetter> =
        (0..STATEMENT_ROWS_MAX as i64 + 20).map(|idx| letter(100 + idx, "notification", false)).collect();
    store.record_dead_letters(&many).await.unwrap();
    let stored = store.dead_letters(usize::MAX).await.unwrap();
    assert_eq!(stored.len(), many.len() + 6);
    let bodies: Vec<&String> = stored.iter().take(many.len()).map(|it| &it.body).collect();
    let expected: Vec<&String> = many.iter().rev().map(|it| &it.body).collect();
    assert_eq!(bodies, expected);
}

fn next(seed: &mut u64) -> u64 {
    // xorshift64: deterministic, so a failure replays exactly.
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

async fn record_state(store: &dyn LedgerStore, id: &TransferId, seq: u32, state: TransferState) {
    let mut tx = store.begin().await.unwrap();
    let change = NewStateChange { transfer_id: id.clone(), seq, state, reason: None, created: NOW };
    tx.insert_state_changes(&[change]).await.unwrap();
    tx.commit().await.unwrap();
}

async fn assert_journal_matches_balance(store: &dyn LedgerStore, account: AccountId) {
    let journal = store.position_journal(account).await.unwrap();
    let mut running = Amount::ZERO;
    for (_, change, value) in &journal {
        running += *change;
        assert_eq!(running, *value, "journal running value of account {account}");
    }
    assert_eq!(store.balance(account).await.unwrap().0, running, "position of account {account}");
}

/// Conflicts are transient by contract: the handler re-runs the batch from its load step.
async fn prepare_batch_retrying(store: &dyn LedgerStore, rows: &[ledger_store::NewTransfer]) {
    for _ in 0..20 {
        match prepare_batch(store, rows).await {
            Ok(_) => return,
            Err(err) if err.is_transient() => continue,
            Err(err) => panic!("{err}"),
        }
    }
    panic!("prepare batch kept conflicting");
}

async fn position_batch_retrying(store: &dyn LedgerStore, rows: &[ledger_store::NewTransfer]) {
    for _ in 0..20 {
        match position_batch(store, &prepare_messages(rows)).await {
            Ok(_) => return,
            Err(err) if err.is_transient() => continue,
            Err(err) => panic!("{err}"),
        }
    }
    panic!("position batch kept conflicting");
}
