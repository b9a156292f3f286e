//! Conformance cases of the operator rows (run by `conformance.rs` on both backends): balances
//! with dates, limit alarms, settlement models, window sums and contents, settlements and their
//! insert-only state journals.

use std::sync::Arc;

use ledger_core::account::{LedgerAccountType, ParticipantRole};
use ledger_core::amount::Amount;
use ledger_core::ids::WindowId;
use ledger_core::model::{Delay, Granularity, Interchange, ModelDefinition, ModelId, ModelName};
use ledger_core::settlement::{Aggregation, SettlementState};
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use ledger_store::operator::{NewContent, NewContentState, NewSettlement, NewSettlementState};
use ledger_store::{LedgerStore, NewFulfilment, StoreError};

use crate::common::*;

fn model(name: &str) -> ModelDefinition {
    ModelDefinition {
        name: ModelName::parse(name).unwrap(),
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

pub async fn operator_reference_rows_read_back(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "500").await;
    let participant = store.participant(&payer.name).await.unwrap().unwrap();
    assert_eq!(store.participants_created().await.unwrap()[&participant.id], NOW);
    let balances = store.account_balances(participant.id).await.unwrap();
    let kinds: Vec<_> = balances.iter().map(|it| (it.account.kind, it.value, it.created)).collect();
    assert_eq!(
        kinds,
        [(LedgerAccountType::Position, Amount::ZERO, NOW), (LedgerAccountType::Settlement, amount("-1000"), NOW)]
    );
    assert_eq!(store.limit_alarm(payer.position.id).await.unwrap(), None);
    store.set_limit_alarm(payer.position.id, amount("10"), NOW).await.unwrap();
    store.set_limit_alarm(payer.position.id, amount("12.5"), NOW).await.unwrap();
    assert_eq!(store.limit_alarm(payer.position.id).await.unwrap(), Some(amount("12.5")), "set again replaces");
    let created = store.create_settlement_model(&model("DEFERREDNETUSD"), NOW).await.unwrap();
    let mut default = model("DEFAULTDEFERREDNET");
    default.currency = None;
    store.create_settlement_model(&default, NOW).await.unwrap();
    let listed = store.settlement_models().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], created);
    assert_eq!(listed[1].definition, default, "a default model has no currency");
    assert!(matches!(store.create_settlement_model(&model("DEFERREDNETUSD"), NOW).await, Err(StoreError::Conflict(_))));
    assert!(
        matches!(store.create_settlement_model(&model("OTHERNAME"), NOW).await, Err(StoreError::Conflict(_))),
        "one model per currency and type"
    );
    store.set_settlement_model_active(created.id, false).await.unwrap();
    assert!(!store.settlement_models().await.unwrap()[0].is_active);
    assert!(matches!(store.set_settlement_model_active(ModelId(99), true).await, Err(StoreError::NotFound(_))));
}

pub async fn window_contents_and_settlements_round_trip(store: Arc<dyn LedgerStore>) {
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows = vec![new_transfer(&payer, &payee, "7.5"), new_transfer(&payer, &payee, "2.5")];
    prepare_batch(store.as_ref(), &rows).await.unwrap();
    position_batch(store.as_ref(), &prepare_messages(&rows)).await.unwrap();
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
    assert_eq!(sums.len(), 1, "{sums:?}");
    assert_eq!(
        (sums[0].account, sums[0].role, sums[0].amount, sums[0].kind),
        (payer.position.id, ParticipantRole::PayerDfsp, amount("10"), LedgerAccountType::Position)
    );
    tx.close_open_window("close", at).await.unwrap();
    tx.commit().await.unwrap();
    let model = store.create_settlement_model(&model("DEFERREDNETUSD"), NOW).await.unwrap();
    let participant = store.participant(&payer.name).await.unwrap().unwrap().id;
    let aggregation =
        Aggregation { account: payer.position.id, participant, role: ParticipantRole::PayerDfsp, amount: amount("10") };
    let content = NewContent {
        window: WindowId(1),
        kind: LedgerAccountType::Position,
        currency: usd(),
        model: model.id,
        aggregations: vec![aggregation],
    };
    let mut tx = store.begin().await.unwrap();
    let ids = tx.insert_window_contents(std::slice::from_ref(&content), at).await.unwrap();
    let closed =
        NewContentState { content: ids[0], state: WindowState::Closed, settlement: None, reason: "aggregated".into() };
    tx.insert_content_states(&[closed], at).await.unwrap();
    tx.set_window_states(&[(WindowId(1), WindowState::Closed)], "aggregated", at).await.unwrap();
    let windows = tx.windows_for_update(&[WindowId(1)]).await.unwrap();
    assert_eq!(windows[0].window.state, WindowState::Closed);
    assert_eq!(windows[0].contents[0].aggregations, vec![aggregation]);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(
        matches!(tx.insert_window_contents(&[content], at).await, Err(StoreError::Conflict(_))),
        "one content per window, type and currency"
    );
    drop(tx);
    assert_eq!(store.windows(None).await.unwrap().len(), 2);
    let new = NewSettlement {
        model: model.id,
        reason: "settle".into(),
        windows: vec![WindowId(1)],
        accounts: vec![(payer.position.id, amount("10"))],
        created: at,
    };
    let mut tx = store.begin().await.unwrap();
    let id = tx.insert_settlement(&new).await.unwrap();
    let state = |account, state| NewSettlementState {
        settlement: id,
        account,
        state,
        reason: Some("r".into()),
        external_reference: None,
    };
    tx.insert_settlement_states(
        &[
            state(None, SettlementState::PendingSettlement),
            state(Some(payer.position.id), SettlementState::PendingSettlement),
        ],
        at,
    )
    .await
    .unwrap();
    tx.insert_settlement_states(&[state(Some(payer.position.id), SettlementState::PsTransfersRecorded)], at.plus_ms(1))
        .await
        .unwrap();
    let pending = NewContentState {
        content: ids[0],
        state: WindowState::PendingSettlement,
        settlement: Some(id),
        reason: "settle".into(),
    };
    tx.insert_content_states(&[pending], at).await.unwrap();
    let locked = tx.settlements_for_update(&[id]).await.unwrap();
    assert_eq!(locked[0].state, SettlementState::PendingSettlement);
    tx.commit().await.unwrap();
    let read = store.settlements(Some(&[id])).await.unwrap();
    assert_eq!(read[0].windows, vec![WindowId(1)]);
    let account = &read[0].accounts[0];
    assert_eq!(
        (account.account, account.net, account.state, account.changed),
        (payer.position.id, amount("10"), SettlementState::PsTransfersRecorded, at.plus_ms(1)),
        "the latest journal row is the state"
    );
    let windows = store.windows(Some(&[WindowId(1)])).await.unwrap();
    assert_eq!(
        (windows[0].contents[0].state, windows[0].contents[0].settlement),
        (WindowState::PendingSettlement, Some(id))
    );
    assert!(store.settlements(Some(&[])).await.unwrap().is_empty());
}
