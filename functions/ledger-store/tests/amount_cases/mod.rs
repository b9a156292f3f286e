//! Conformance cases of wide amounts (run by `conformance.rs` on both backends): every FSPIOP
//! amount, and the positions, journals, limits and sums made of them, read back exactly, on
//! both sides of 64 bits of units (where SQLite switches to its text form).

use std::sync::Arc;

use ledger_core::account::{LedgerAccountType, NetDebitCap, ParticipantRole};
use ledger_core::amount::Amount;
use ledger_core::ids::WindowId;
use ledger_core::position::{PositionAction, PositionOutcome};
use ledger_core::settlement::{Aggregation, SettlementState};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use ledger_store::operator::{NewContent, NewContentState, NewSettlement, NewSettlementState};
use ledger_store::{LedgerStore, NewFulfilment};

use crate::common::*;

/// The largest FSPIOP amount (18 integer digits, 4 decimals), the 15-digit amount, one
/// unit past `i64::MAX` units and the smallest amount.
pub const WIDE_AMOUNTS: [&str; 4] = ["999999999999999999.9999", "100000000000000", "922337203685477.5808", "0.0001"];
/// Liquidity and cap far beyond any of them (10^19, itself past 64 bits of units).
const WIDE_FUNDING: &str = "10000000000000000000";

pub async fn wide_transfers_round_trip_exactly(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", WIDE_FUNDING, WIDE_FUNDING).await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", WIDE_FUNDING, WIDE_FUNDING).await;
    let rows: Vec<_> = WIDE_AMOUNTS.iter().map(|it| new_transfer(&payer, &payee, it)).collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let ids: Vec<_> = rows.iter().map(|it| it.transfer_id.clone()).collect();
    let read = store.transfers(&ids).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let read_in_tx = tx.transfers(&ids).await.unwrap();
    let due = tx.due_timeouts(Timestamp::from_unix_ms(EXPIRATION.unix_ms() + 1), 10).await.unwrap();
    drop(tx);
    for row in &rows {
        assert_eq!(store.transfer(&row.transfer_id).await.unwrap().unwrap().amount, row.amount);
        assert_eq!(read[&row.transfer_id].amount, row.amount);
        assert_eq!(read_in_tx[&row.transfer_id].amount, row.amount);
        assert!(due.iter().any(|(id, _)| *id == row.transfer_id), "on the timeout list");
    }
    assert_eq!(read[&rows[0].transfer_id].amount, Amount::from_units(10_i128.pow(22) - 1));
    assert_eq!(read[&rows[1].transfer_id].amount.to_decimal_string(), "100000000000000.0000");
}

pub async fn wide_positions_and_their_journal_read_back(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", WIDE_FUNDING, WIDE_FUNDING).await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", WIDE_FUNDING, WIDE_FUNDING).await;
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_positions(&[payer.position.id]).await.unwrap();
    assert_eq!(locked[&payer.position.id].settlement_balance, -amount(WIDE_FUNDING));
    assert_eq!(locked[&payer.position.id].net_debit_cap.map(|it| it.value()), Some(amount(WIDE_FUNDING)));
    assert_eq!(tx.lock_balances(&[payer.settlement.id]).await.unwrap()[&payer.settlement.id].0, -amount(WIDE_FUNDING));
    drop(tx);
    let rows: Vec<_> = WIDE_AMOUNTS.iter().map(|it| new_transfer(&payer, &payee, it)).collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    let decision = position_batch(store.as_ref(), &prepare_messages(&rows)).await.unwrap();
    assert!(
        decision
            .outcomes
            .iter()
            .all(|it| matches!(it, PositionOutcome::Applied { state: TransferState::Reserved, .. })),
        "{decision:?}"
    );
    let total: Amount = rows.iter().map(|it| it.amount).sum();
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, total);
    let answers: Vec<_> = rows.iter().map(|it| (it.clone(), payee.position.id)).collect();
    let commits = record_payee_answer(store.as_ref(), &answers, TransferState::ReceivedFulfil, PositionAction::Commit)
        .await
        .unwrap();
    position_batch(store.as_ref(), &commits).await.unwrap();
    assert_eq!(store.balance(payee.position.id).await.unwrap().0, -total, "a negative position past 64 bits");
    for (account, sign) in [(payer.position.id, Amount::from_units(1)), (payee.position.id, Amount::from_units(-1))] {
        let journal = store.position_journal(account).await.unwrap();
        let changes: Vec<Amount> = journal.iter().map(|(_, change, _)| *change).collect();
        let expected: Vec<Amount> =
            rows.iter().map(|it| Amount::from_units(it.amount.units() * sign.units())).collect();
        assert_eq!(changes, expected, "account {account}");
        let mut running = Amount::ZERO;
        for (_, change, value) in &journal {
            running += *change;
            assert_eq!(*value, running, "account {account}");
        }
    }
    let cap = NetDebitCap::new(Amount::from_units(i128::MAX)).unwrap();
    store.set_net_debit_cap(payer.position.id, cap, NOW).await.unwrap();
    assert_eq!(store.net_debit_cap(payer.position.id).await.unwrap(), Some(cap), "the largest Amount fits");
}

pub async fn wide_window_sums_contents_and_settlements_read_back(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", WIDE_FUNDING, WIDE_FUNDING).await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", WIDE_FUNDING, WIDE_FUNDING).await;
    let rows: Vec<_> = WIDE_AMOUNTS.iter().map(|it| new_transfer(&payer, &payee, it)).collect();
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    position_batch(store.as_ref(), &prepare_messages(&rows)).await.unwrap();
    let answers: Vec<_> = rows.iter().map(|it| (it.clone(), payee.position.id)).collect();
    let commits = record_payee_answer(store.as_ref(), &answers, TransferState::ReceivedFulfil, PositionAction::Commit)
        .await
        .unwrap();
    position_batch(store.as_ref(), &commits).await.unwrap();
    let total: Amount = rows.iter().map(|it| it.amount).sum();
    let at = Timestamp::from_unix_ms(NOW.unix_ms() + 1000);
    let mut tx = store.begin().await.unwrap();
    let fulfilments: Vec<NewFulfilment> = rows
        .iter()
        .map(|it| NewFulfilment {
            transfer_id: it.transfer_id.clone(),
            fulfilment: Some(fulfilment()),
            completed: at,
            window: WindowId(1),
            created: at,
        })
        .collect();
    tx.insert_fulfilments(&fulfilments).await.unwrap();
    let sums = tx.window_sums(WindowId(1)).await.unwrap();
    let found: Vec<_> = sums.iter().map(|it| (it.account, it.role, it.amount, it.kind)).collect();
    let expected = [
        (payer.position.id, ParticipantRole::PayerDfsp, total, LedgerAccountType::Position),
        (payee.position.id, ParticipantRole::PayeeDfsp, -total, LedgerAccountType::Position),
    ];
    assert_eq!(found, expected, "exact sums past 64 bits, by account and payer first");
    tx.close_open_window("close", at).await.unwrap();
    tx.commit().await.unwrap();
    let model = store.create_settlement_model(&wide_model(), NOW).await.unwrap();
    let participant = store.participant(&payer.name).await.unwrap().unwrap().id;
    let aggregation =
        Aggregation { account: payer.position.id, participant, role: ParticipantRole::PayerDfsp, amount: total };
    let content = NewContent {
        window: WindowId(1),
        kind: LedgerAccountType::Position,
        currency: usd(),
        model: model.id,
        aggregations: vec![aggregation],
    };
    let settlement = NewSettlement {
        model: model.id,
        reason: "settle".into(),
        windows: vec![WindowId(1)],
        accounts: vec![(payer.position.id, total)],
        created: at,
    };
    let mut tx = store.begin().await.unwrap();
    let contents = tx.insert_window_contents(&[content], at).await.unwrap();
    let closed = NewContentState {
        content: contents[0],
        state: WindowState::Closed,
        settlement: None,
        reason: "aggregated".into(),
    };
    tx.insert_content_states(&[closed], at).await.unwrap();
    let id = tx.insert_settlement(&settlement).await.unwrap();
    let state = |account| NewSettlementState {
        settlement: id,
        account,
        state: SettlementState::PendingSettlement,
        reason: None,
        external_reference: None,
    };
    tx.insert_settlement_states(&[state(None), state(Some(payer.position.id))], at).await.unwrap();
    tx.commit().await.unwrap();
    let windows = store.windows(Some(&[WindowId(1)])).await.unwrap();
    assert_eq!(windows[0].contents[0].aggregations, vec![aggregation]);
    assert_eq!(store.settlements(Some(&[id])).await.unwrap()[0].accounts[0].net, total);
}

fn wide_model() -> ledger_core::model::ModelDefinition {
    use ledger_core::model::{Delay, Granularity, Interchange, ModelDefinition, ModelName};
    ModelDefinition {
        name: ModelName::parse("DEFERREDNETUSD").unwrap(),
        granularity: Granularity::Net,
        interchange: Interchange::Multilateral,
        delay: Delay::Deferred,
        currency: Some(usd()),
        require_liquidity_check: true,
        ledger_account_type: LedgerAccountType::Position,
        settlement_account_type: LedgerAccountType::Settlement,
        auto_position_reset: true,
    }
}
