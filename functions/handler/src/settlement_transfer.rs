//! Settlement transfers: the internal transfer per settlement account that resets the DFSP's
//! position against the Hub's HUB_MULTILATERAL_SETTLEMENT account (autoPositionReset), stepped
//! by `ledger_core::settlement::decide_transfer_step` inside the caller's transaction.
//!
//! A transfer's id derives from the settlement and the account, and each step first checks the
//! transfer's state, so a repeated request finds the step done and writes nothing.

use std::collections::{BTreeMap, HashMap};

use ledger_core::account::{Account, LedgerAccountType};
use ledger_core::amount::Amount;
use ledger_core::funds::INTERNAL_TRANSFER_VALIDITY_MS;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId};
use ledger_core::settlement::{decide_transfer_step, settlement_transfer_id, SettlementId, TransferStep};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, LedgerTx, NewPositionChange, NewStateChange, NewTransfer, StoreError};

use crate::settlement_api::{hub_name, HUB_SETTLEMENT_ACCOUNT};

/// One account's step.
#[derive(Debug, Clone, Copy)]
pub struct StepRequest {
    pub step: TransferStep,
    pub account: AccountId,
    pub participant: ParticipantId,
    pub net: Amount,
}

const TRANSFER_REASON: &str = "Settlement transfer";

#[derive(Default)]
struct Rows {
    transfers: Vec<NewTransfer>,
    states: Vec<NewStateChange>,
    journal: Vec<NewPositionChange>,
    balances: BTreeMap<AccountId, Amount>,
    moved: Vec<AccountId>,
}

/// Runs the steps in order inside `tx`.
pub async fn run_transfer_steps(store: &dyn LedgerStore, tx: &mut dyn LedgerTx, settlement: SettlementId, steps: &[StepRequest], now: Timestamp) -> Result<(), StoreError> {
    if steps.is_empty() {
        return Ok(());
    }
    let accounts = accounts_of(store, steps).await?;
    let hub = store.participant(&hub_name()).await?.ok_or_else(|| StoreError::NotFound("the Hub participant".into()))?;
    let hub_accounts = store.accounts(hub.id).await?;
    let ids: Vec<TransferId> = steps.iter().map(|it| settlement_transfer_id(settlement, it.account)).collect();
    let current = tx.current_states(&ids).await?;
    let mut to_lock: Vec<AccountId> = steps.iter().map(|it| it.account).collect();
    let hub_of = |account: &Account| hub_accounts.iter().find(|it| it.kind == HUB_SETTLEMENT_ACCOUNT && it.currency == account.currency).map(|it| it.id);
    to_lock.extend(accounts.values().filter_map(|(account, _)| hub_of(account)));
    let locked = tx.lock_balances(&to_lock).await?;
    let mut rows = Rows { balances: locked.into_iter().map(|(id, (value, _))| (id, value)).collect(), ..Rows::default() };
    let mut seqs: HashMap<TransferId, (TransferState, u32)> = current.iter().map(|(id, it)| (id.clone(), (it.state, it.seq))).collect();
    for (request, id) in steps.iter().zip(ids) {
        let Some((account, name)) = accounts.get(&request.account) else { continue };
        let Some(hub_account) = hub_of(account) else {
            return Err(StoreError::NotFound(format!("the Hub's {} account in {}", HUB_SETTLEMENT_ACCOUNT.name(), account.currency)));
        };
        let known = seqs.get(&id).copied();
        let (dfsp, hub) = (rows.balances[&account.id], rows.balances[&hub_account]);
        let Some(decision) = decide_transfer_step(request.step, request.net, known.map(|it| it.0), dfsp, hub) else { continue };
        let mut seq = known.map_or(0, |it| it.1);
        let mut states = decision.states.iter().copied();
        if known.is_none() {
            let first = states.next().expect("a settlement transfer starts with RECEIVED_PREPARE");
            rows.transfers.push(new_transfer(&id, name, account, hub_account, request.net, first, now));
            seq = 1;
        }
        let mut last = known.map_or(TransferState::ReceivedPrepare, |it| it.0);
        for state in states {
            seq += 1;
            last = state;
            rows.states.push(NewStateChange { transfer_id: id.clone(), seq, state, reason: Some(TRANSFER_REASON.to_string()), created: now });
        }
        seqs.insert(id.clone(), (last, seq));
        if let Some(((dfsp_change, dfsp_value), (hub_change, hub_value))) = decision.moves {
            for (target, change, value) in [(account.id, dfsp_change, dfsp_value), (hub_account, hub_change, hub_value)] {
                rows.balances.insert(target, value);
                rows.moved.push(target);
                rows.journal.push(NewPositionChange { account: target, transfer_id: id.clone(), seq, change, value, reserved: Amount::ZERO, created: now });
            }
        }
    }
    write(tx, rows, now).await
}

async fn write(tx: &mut dyn LedgerTx, rows: Rows, now: Timestamp) -> Result<(), StoreError> {
    tx.insert_transfers(&rows.transfers).await?;
    let entries: Vec<(TransferId, Timestamp)> = rows.transfers.iter().map(|it| (it.transfer_id.clone(), it.expiration)).collect();
    tx.delete_timeouts(&entries).await?;
    tx.insert_state_changes(&rows.states).await?;
    tx.insert_position_changes(&rows.journal).await?;
    let mut moved = rows.moved;
    moved.sort();
    moved.dedup();
    let positions: Vec<(AccountId, Amount)> = moved.iter().map(|id| (*id, rows.balances[id])).collect();
    tx.update_positions(&positions, now).await
}

/// Each account with its participant's name.
async fn accounts_of(store: &dyn LedgerStore, steps: &[StepRequest]) -> Result<HashMap<AccountId, (Account, FspId)>, StoreError> {
    let participants = store.participants().await?;
    let mut res = HashMap::new();
    for request in steps {
        if res.contains_key(&request.account) {
            continue;
        }
        let Some(participant) = participants.iter().find(|it| it.id == request.participant) else { continue };
        let accounts = store.accounts(participant.id).await?;
        if let Some(account) = accounts.into_iter().find(|it| it.id == request.account && it.kind == LedgerAccountType::Position) {
            res.insert(request.account, (account, participant.name.clone()));
        }
    }
    Ok(res)
}

fn new_transfer(id: &TransferId, name: &FspId, account: &Account, hub_account: AccountId, net: Amount, state: TransferState, now: Timestamp) -> NewTransfer {
    NewTransfer {
        transfer_id: id.clone(),
        payer: hub_name(),
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
