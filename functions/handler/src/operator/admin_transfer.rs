//! The admin function: funds in and out from the admin-transfer hub, as internal transfers
//! between a DFSP's SETTLEMENT account and the Hub's HUB_RECONCILIATION account
//! (`ledger_core::funds`).
//!
//! | step | what |
//! |---|---|
//! | parse | envelope → funds event; an unreadable one is a dead letter |
//! | references | the participants' and the Hub's accounts (outside the transaction) |
//! | load | transfers, states and hashes of the batch's ids; both accounts of each action under lock |
//! | decide | per event in order, against running balances: duplicate check, then `decide_funds` |
//! | write | transfers (RECEIVED_PREPARE…), states, journal rows, balances; commit |
//!
//! At-least-once: a redelivered first step finds its transfer (same hash: nothing to do), and
//! a redelivered commit or abort finds the transfer no longer RESERVED, so the ledger and the
//! (empty) emissions are the same. A different body under a used transfer id is ignored and
//! logged, as central-ledger does. Internal transfers do not time out through the timeout
//! function: funds out commit checks the expiration itself, so their work-list entry is removed.

use std::collections::{BTreeSet, HashMap};

use fspiop::admin::{FundsCommand, FundsEvent};
use ledger_core::account::{Account, LedgerAccountType};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::funds::{
    decide_funds, FundsAction, FundsBalances, FundsDecision, FundsSide, FundsTransfer, INTERNAL_TRANSFER_VALIDITY_MS,
};
use ledger_core::ids::{AccountId, FspId, TransferId};
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{HashKind, LedgerStore, NewTransfer, StoreError, TransferRecord};

use crate::operator::internal_transfer::{hub_id, Current, InternalTransfers};
use crate::outbox::Report;
use crate::state_rows::FIRST_STATE_SEQ;

/// The extension central-ledger stores a funds action's external reference under.
const EXTERNAL_REFERENCE_KEY: &str = "externalReference";

/// Runs one admin batch; see the module documentation.
pub async fn admin(store: &dyn LedgerStore, bodies: &[String], now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let commands = parse_batch(bodies, &mut report);
    let accounts = load_accounts(store, &commands).await?;
    let ids: Vec<TransferId> = commands.iter().map(|it| it.request.transfer_id.clone()).collect();
    let mut tx = store.begin().await?;
    let records = tx.transfers(&ids).await?;
    let hashes = tx.hashes(HashKind::Prepare, &ids).await?;
    let to_lock: Vec<AccountId> =
        commands.iter().filter_map(|it| accounts.pair(it)).flat_map(|(a, b)| [a, b]).collect();
    let locked = tx.lock_balances(&to_lock).await?;
    let mut batch = Batch { steps: InternalTransfers::new(locked), seen: HashMap::new() };
    for command in &commands {
        decide_one(command, &accounts, &records, &hashes, now, &mut batch);
    }
    batch.steps.write(tx.as_mut(), now).await?;
    tx.commit().await?;
    Ok(report)
}

fn parse_batch(bodies: &[String], report: &mut Report) -> Vec<FundsCommand> {
    let mut commands = Vec::with_capacity(bodies.len());
    for envelope in report.read_envelopes(bodies) {
        let parsed = envelope.payload_bytes().map_err(|err| err.to_string()).and_then(|it| FundsEvent::parse(&it));
        match parsed {
            Ok(command) => commands.push(command),
            Err(reason) => report.dead_letter(&envelope.to_json(), reason),
        }
    }
    commands
}

/// The accounts of the participants in the batch and of the Hub.
struct Accounts {
    by_participant: HashMap<FspId, Vec<Account>>,
    hub: Vec<Account>,
}

impl Accounts {
    /// `(DFSP SETTLEMENT, Hub HUB_RECONCILIATION)` of a command, if both exist.
    fn pair(&self, command: &FundsCommand) -> Option<(AccountId, AccountId)> {
        let settlement = self.by_participant.get(&command.participant)?.iter().find(|it| it.id == command.account)?;
        let hub = self.hub_reconciliation(settlement.currency)?;
        Some((settlement.id, hub.id))
    }

    fn hub_reconciliation(&self, currency: Currency) -> Option<&Account> {
        self.hub.iter().find(|it| it.kind == LedgerAccountType::HubReconciliation && it.currency == currency)
    }
}

async fn load_accounts(store: &dyn LedgerStore, commands: &[FundsCommand]) -> Result<Accounts, StoreError> {
    let hub_name = hub_id();
    let names: BTreeSet<&FspId> = commands.iter().map(|it| &it.participant).chain([&hub_name]).collect();
    let names: Vec<FspId> = names.into_iter().cloned().collect();
    let by_participant: HashMap<FspId, Vec<Account>> = store
        .participants_with_accounts(&names)
        .await?
        .into_iter()
        .map(|(participant, accounts)| (participant.name, accounts))
        .collect();
    let hub = by_participant.get(&hub_name).cloned().unwrap_or_default();
    Ok(Accounts { by_participant, hub })
}

/// What the batch writes, and the running balances and states its decisions see.
struct Batch {
    steps: InternalTransfers,
    /// Transfers this batch created or moved.
    seen: HashMap<TransferId, Seen>,
}

#[derive(Clone)]
struct Seen {
    state: TransferState,
    seq: u32,
    amount: Amount,
    expiration: Timestamp,
    hash: Option<RequestHash>,
}

fn decide_one(
    command: &FundsCommand,
    accounts: &Accounts,
    records: &HashMap<TransferId, TransferRecord>,
    hashes: &HashMap<TransferId, RequestHash>,
    now: Timestamp,
    batch: &mut Batch,
) {
    let id = &command.request.transfer_id;
    let Some((settlement, hub)) = accounts.pair(command) else {
        return tracing::warn!(transfer_id = %id, "funds action for an account that no longer exists; ignored");
    };
    let known = batch.seen.get(id).cloned().or_else(|| {
        records.get(id).map(|it| Seen {
            state: it.current.state,
            seq: it.current.seq,
            amount: it.amount,
            expiration: it.expiration,
            hash: hashes.get(id).cloned(),
        })
    });
    let first_step = matches!(command.request.action, FundsAction::In | FundsAction::OutPrepareReserve);
    if let (true, Some(known)) = (first_step, &known) {
        if known.hash.as_ref() != Some(&command.hash) {
            tracing::warn!(transfer_id = %id, "funds action reuses a transfer id with a different body; ignored");
        }
        return;
    }
    let amount = match (command.request.amount, &known) {
        (Some((amount, _)), None) => amount,
        (_, Some(known)) => known.amount,
        (None, None) => {
            return tracing::warn!(transfer_id = %id, "funds out commit or abort of an unknown transfer; ignored")
        }
    };
    let balances =
        FundsBalances { settlement: batch.steps.balance(settlement), hub_reconciliation: batch.steps.balance(hub) };
    let existing = known.as_ref().map(|it| FundsTransfer { state: it.state, expiration: it.expiration });
    match decide_funds(command.request.action, amount, balances, existing, now) {
        Ok(decision) => record(command, amount, known.as_ref(), (settlement, hub), &decision, now, batch),
        Err(rejection) => tracing::warn!(transfer_id = %id, ?rejection, "funds action refused by the ledger"),
    }
}

fn record(
    command: &FundsCommand,
    amount: Amount,
    known: Option<&Seen>,
    (settlement, hub): (AccountId, AccountId),
    decision: &FundsDecision,
    now: Timestamp,
    batch: &mut Batch,
) {
    let id = command.request.transfer_id.clone();
    let expiration = known.map_or(now.plus_ms(INTERNAL_TRANSFER_VALIDITY_MS), |it| it.expiration);
    let current = known.map(|it| Current { state: it.state, seq: it.seq });
    let first = |state| new_transfer(command, amount, (settlement, hub), state, expiration, now);
    let (at, seqs) = batch.steps.step(&id, current, &decision.states, &command.request.reason, first, now);
    for (idx, it) in decision.moves.iter().enumerate() {
        let account = match it.side {
            FundsSide::Settlement => settlement,
            FundsSide::HubReconciliation => hub,
        };
        batch.steps.move_balance(account, &id, move_seq(&seqs, idx), it.change, it.value, now);
    }
    let hash = known.and_then(|it| it.hash.clone()).or_else(|| Some(command.hash.clone()));
    batch.seen.insert(id, Seen { state: at.state, seq: at.seq, amount, expiration, hash });
}

/// The state change a balance move belongs to: with two moves, the first happens at
/// RESERVED (funds in: the Hub side; a refused funds out: the reservation) and the second at
/// the last state; a single move belongs to the step's last state, except a funds out
/// reservation, which happens at RESERVED.
fn move_seq(seqs: &[(TransferState, u32)], move_idx: usize) -> u32 {
    let reserved = seqs.iter().find(|(state, _)| *state == TransferState::Reserved).map(|it| it.1);
    let last = seqs.last().map_or(FIRST_STATE_SEQ, |it| it.1);
    match (move_idx, reserved) {
        (0, Some(seq)) => seq,
        _ => last,
    }
}

fn new_transfer(
    command: &FundsCommand,
    amount: Amount,
    (settlement, hub): (AccountId, AccountId),
    state: TransferState,
    expiration: Timestamp,
    now: Timestamp,
) -> NewTransfer {
    let hub_name = hub_id();
    let currency = command.request.amount.map(|it| it.1).expect("a first funds step has an amount");
    // The payer side is the one whose value rises first: the Hub for funds in, the DFSP's
    // SETTLEMENT account for funds out. The DFSP is always a party, so it may GET the transfer.
    let (payer, payee, payer_account, payee_account) = match command.request.action {
        FundsAction::In => (hub_name, command.participant.clone(), hub, settlement),
        _ => (command.participant.clone(), hub_name, settlement, hub),
    };
    let reference =
        command.request.external_reference.iter().map(|it| (EXTERNAL_REFERENCE_KEY.to_string(), it.clone()));
    NewTransfer {
        transfer_id: command.request.transfer_id.clone(),
        payer,
        payee,
        payer_account: Some(payer_account),
        payee_account: Some(payee_account),
        amount,
        currency,
        condition: None,
        expiration,
        ilp_packet: String::new(),
        hash: command.hash.clone(),
        state,
        reason: Some(command.request.reason.clone()),
        created: now,
        extensions: reference.chain(command.request.extensions.iter().cloned()).collect(),
    }
}
