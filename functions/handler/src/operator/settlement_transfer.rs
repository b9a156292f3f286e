//! Settlement transfers: the internal transfer per settlement account that resets the DFSP's
//! position against the Hub's HUB_MULTILATERAL_SETTLEMENT account (autoPositionReset), stepped
//! by `ledger_core::settlement::decide_transfer_step` inside the caller's transaction.
//!
//! A transfer's id derives from the settlement and the account, and each step first checks the
//! transfer's state, so a repeated request finds the step done and writes nothing.

use std::collections::HashMap;

use ledger_core::account::{Account, LedgerAccountType};
use ledger_core::amount::Amount;
use ledger_core::funds::INTERNAL_TRANSFER_VALIDITY_MS;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId};
use ledger_core::settlement::{decide_transfer_step, settlement_transfer_id, SettlementId, TransferStep};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, LedgerTx, NewTransfer, StoreError};

use crate::operator::internal_transfer::{hub_id, Current, InternalTransfers};

/// One account's step.
#[derive(Debug, Clone, Copy)]
pub struct StepRequest {
    pub step: TransferStep,
    pub account: AccountId,
    pub participant: ParticipantId,
    pub net: Amount,
}

/// The account type a settlement transfer's Hub side uses.
pub const HUB_SETTLEMENT_ACCOUNT: LedgerAccountType = LedgerAccountType::HubMultilateralSettlement;

const TRANSFER_REASON: &str = "Settlement transfer";

/// Runs the steps in order inside `tx`.
pub async fn run_transfer_steps(
    store: &dyn LedgerStore,
    tx: &mut dyn LedgerTx,
    settlement: SettlementId,
    steps: &[StepRequest],
    now: Timestamp,
) -> Result<(), StoreError> {
    if steps.is_empty() {
        return Ok(());
    }
    let accounts = accounts_of(store, steps).await?;
    let hub = store.participant(&hub_id()).await?.ok_or_else(|| StoreError::NotFound("the Hub participant".into()))?;
    let hub_accounts = store.accounts(hub.id).await?;
    let ids: Vec<TransferId> = steps.iter().map(|it| settlement_transfer_id(settlement, it.account)).collect();
    let stored = tx.current_states(&ids).await?;
    let mut to_lock: Vec<AccountId> = steps.iter().map(|it| it.account).collect();
    let hub_of = |account: &Account| {
        hub_accounts
            .iter()
            .find(|it| it.kind == HUB_SETTLEMENT_ACCOUNT && it.currency == account.currency)
            .map(|it| it.id)
    };
    to_lock.extend(accounts.values().filter_map(|(account, _)| hub_of(account)));
    let mut transfers = InternalTransfers::new(tx.lock_balances(&to_lock).await?);
    let mut current: HashMap<TransferId, Current> =
        stored.iter().map(|(id, it)| (id.clone(), Current { state: it.state, seq: it.seq })).collect();
    for (request, id) in steps.iter().zip(ids) {
        let Some((account, name)) = accounts.get(&request.account) else { continue };
        let Some(hub_account) = hub_of(account) else {
            return Err(StoreError::NotFound(format!(
                "the Hub's {} account in {}",
                HUB_SETTLEMENT_ACCOUNT.name(),
                account.currency
            )));
        };
        let known = current.get(&id).copied();
        let (dfsp, hub) = (transfers.balance(account.id), transfers.balance(hub_account));
        let Some(decision) = decide_transfer_step(request.step, request.net, known.map(|it| it.state), dfsp, hub)
        else {
            continue;
        };
        let first = |state| new_transfer(&id, name, account, hub_account, request.net, state, now);
        let (at, _) = transfers.step(&id, known, &decision.states, TRANSFER_REASON, first, now);
        current.insert(id.clone(), at);
        if let Some(((dfsp_change, dfsp_value), (hub_change, hub_value))) = decision.moves {
            transfers.move_balance(account.id, &id, at.seq, dfsp_change, dfsp_value, now);
            transfers.move_balance(hub_account, &id, at.seq, hub_change, hub_value, now);
        }
    }
    transfers.write(tx, now).await
}

/// Each account with its participant's name.
async fn accounts_of(
    store: &dyn LedgerStore,
    steps: &[StepRequest],
) -> Result<HashMap<AccountId, (Account, FspId)>, StoreError> {
    let participants = store.participants().await?;
    let mut res = HashMap::new();
    for request in steps {
        if res.contains_key(&request.account) {
            continue;
        }
        let Some(participant) = participants.iter().find(|it| it.id == request.participant) else { continue };
        let accounts = store.accounts(participant.id).await?;
        if let Some(account) =
            accounts.into_iter().find(|it| it.id == request.account && it.kind == LedgerAccountType::Position)
        {
            res.insert(request.account, (account, participant.name.clone()));
        }
    }
    Ok(res)
}

fn new_transfer(
    id: &TransferId,
    name: &FspId,
    account: &Account,
    hub_account: AccountId,
    net: Amount,
    state: TransferState,
    now: Timestamp,
) -> NewTransfer {
    NewTransfer {
        transfer_id: id.clone(),
        payer: hub_id(),
        payee: name.clone(),
        payer_account: Some(hub_account),
        payee_account: Some(account.id),
        amount: net.abs(),
        currency: account.currency,
        condition: None,
        expiration: now.plus_ms(INTERNAL_TRANSFER_VALIDITY_MS),
        ilp_packet: String::new(),
        hash: fspiop::hash_json(&serde_json::Value::String(id.as_str().to_string())),
        state,
        reason: Some(TRANSFER_REASON.to_string()),
        created: now,
        extensions: Vec::new(),
    }
}
