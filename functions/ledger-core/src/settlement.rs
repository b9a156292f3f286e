//! Deferred net settlement: settlement states, the aggregation of a closed window per account,
//! net amounts, the per-account state steps with their roll-up, and the position resets against
//! the Hub's HUB_MULTILATERAL_SETTLEMENT account (central-settlement, mojaloop.md §5).

use std::fmt;

/// The ledger's key of a settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SettlementId(pub u64);

/// The ledger's key of a settlement window's content (one account type and currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentId(pub u64);

impl fmt::Display for SettlementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `settlementState`, for a settlement and for each of its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettlementState {
    PendingSettlement,
    PsTransfersRecorded,
    PsTransfersReserved,
    PsTransfersCommitted,
    Settling,
    Settled,
    Aborted,
}

pub const SETTLEMENT_STATES: [SettlementState; 7] = [
    SettlementState::PendingSettlement,
    SettlementState::PsTransfersRecorded,
    SettlementState::PsTransfersReserved,
    SettlementState::PsTransfersCommitted,
    SettlementState::Settling,
    SettlementState::Settled,
    SettlementState::Aborted,
];

impl SettlementState {
    pub fn name(self) -> &'static str {
        match self {
            SettlementState::PendingSettlement => "PENDING_SETTLEMENT",
            SettlementState::PsTransfersRecorded => "PS_TRANSFERS_RECORDED",
            SettlementState::PsTransfersReserved => "PS_TRANSFERS_RESERVED",
            SettlementState::PsTransfersCommitted => "PS_TRANSFERS_COMMITTED",
            SettlementState::Settling => "SETTLING",
            SettlementState::Settled => "SETTLED",
            SettlementState::Aborted => "ABORTED",
        }
    }

    pub fn from_name(name: &str) -> Option<SettlementState> {
        SETTLEMENT_STATES.iter().copied().find(|it| it.name() == name)
    }
}

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::account::{LedgerAccountType, ParticipantRole};
use crate::amount::Amount;
use crate::currency::Currency;
use crate::ids::{AccountId, ParticipantId, TransferId, WindowId};
use crate::model::{model_for_account, Granularity, ModelId, SettlementModel};
use crate::rejection::{Rejection, SettlementRefusal};
use crate::state::TransferState;
use crate::window::WindowState;

/// Most windows one settlement may take.
pub const SETTLEMENT_WINDOWS_MAX: usize = 100;
/// Most account updates one `PUT /settlements/{id}` may carry.
pub const SETTLEMENT_UPDATES_MAX: usize = 1_000;

/// The sum of an account's position changes of one sign in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregation {
    pub account: AccountId,
    pub participant: ParticipantId,
    /// PAYER_DFSP for the positive changes, PAYEE_DFSP for the others.
    pub role: ParticipantRole,
    pub amount: Amount,
}

/// One content a closed window gets: the aggregations of an account type and currency under
/// the model that settles them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentPlan {
    pub kind: LedgerAccountType,
    pub currency: Currency,
    pub model: ModelId,
    pub aggregations: Vec<Aggregation>,
}

/// Groups a closed window's per-account sums into contents. Only net models settle from
/// windows; accounts no net model covers (the Hub's, liquidity accounts) are left out.
pub fn aggregate_window(
    sums: &[(LedgerAccountType, Currency, Aggregation)],
    models: &[SettlementModel],
) -> Vec<ContentPlan> {
    let mut plans: BTreeMap<(LedgerAccountType, String), ContentPlan> = BTreeMap::new();
    for (kind, currency, aggregation) in sums {
        let Some(model) = model_for_account(models, *kind, *currency) else {
            continue;
        };
        if model.definition.granularity != Granularity::Net {
            continue;
        }
        let plan = plans.entry((*kind, currency.code().to_string())).or_insert_with(|| ContentPlan {
            kind: *kind,
            currency: *currency,
            model: model.id,
            aggregations: Vec::new(),
        });
        plan.aggregations.push(*aggregation);
    }
    plans.into_values().collect()
}

/// A window as a settlement decision sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowView {
    pub id: WindowId,
    pub state: WindowState,
    pub contents: Vec<ContentView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentView {
    pub id: ContentId,
    pub model: ModelId,
    pub state: WindowState,
    pub aggregations: Vec<Aggregation>,
}

/// What creating a settlement writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementPlan {
    /// The contents the settlement takes (→ PENDING_SETTLEMENT).
    pub contents: Vec<ContentId>,
    /// The windows that move to PENDING_SETTLEMENT (those not there yet).
    pub windows: Vec<WindowId>,
    /// Net amount per account: positive, the participant owes (net sender).
    pub accounts: Vec<(AccountId, Amount)>,
}

/// `POST /settlements`: the model must be deferred net; every window must be settleable
/// (CLOSED, ABORTED or PENDING_SETTLEMENT) and hold unsettled content of the model.
pub fn plan_settlement(
    model: &SettlementModel,
    requested: &[WindowId],
    windows: &[WindowView],
) -> Result<SettlementPlan, Rejection> {
    let refuse = |refusal| Err(Rejection::Settlement(refusal));
    if !model.definition.is_deferred_net() {
        return refuse(SettlementRefusal::ModelNotDeferredNet);
    }
    let mut inapplicable = Vec::new();
    let mut plan = SettlementPlan { contents: Vec::new(), windows: Vec::new(), accounts: Vec::new() };
    let mut nets: BTreeMap<AccountId, Amount> = BTreeMap::new();
    for id in requested {
        let Some(window) = windows.iter().find(|it| it.id == *id) else {
            inapplicable.push(id.0 as i64);
            continue;
        };
        let settleable =
            matches!(window.state, WindowState::Closed | WindowState::Aborted | WindowState::PendingSettlement);
        let contents: Vec<&ContentView> = window
            .contents
            .iter()
            .filter(|it| it.model == model.id && matches!(it.state, WindowState::Closed | WindowState::Aborted))
            .collect();
        if !settleable || contents.is_empty() {
            inapplicable.push(id.0 as i64);
            continue;
        }
        if window.state != WindowState::PendingSettlement {
            plan.windows.push(window.id);
        }
        for content in contents {
            plan.contents.push(content.id);
            for it in &content.aggregations {
                *nets.entry(it.account).or_insert(Amount::ZERO) += it.amount;
            }
        }
    }
    if !inapplicable.is_empty() {
        return refuse(SettlementRefusal::InapplicableWindows(inapplicable));
    }
    plan.accounts = nets.into_iter().collect();
    Ok(plan)
}

/// One account of a settlement as the decisions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountView {
    pub account: AccountId,
    pub participant: ParticipantId,
    pub net: Amount,
    pub state: SettlementState,
}

/// An operator's request to move one account. The API's schema makes every field optional;
/// what is missing cannot match (no account: not found; no participant: a mismatch; no state:
/// not allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    pub participant: Option<ParticipantId>,
    pub account: Option<AccountId>,
    pub state: Option<SettlementState>,
}

/// Why one account update of a request was not applied (reported in the response item, 3000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateRefusal {
    AccountNotFound,
    ParticipantMismatch,
    AlreadyProcessed,
    StateChangeNotAllowed,
}

impl UpdateRefusal {
    pub fn reason(self) -> &'static str {
        match self {
            UpdateRefusal::AccountNotFound => "Account not found",
            UpdateRefusal::ParticipantMismatch => "Participant and account mismatch",
            UpdateRefusal::AlreadyProcessed => "Account already processed once",
            UpdateRefusal::StateChangeNotAllowed => "State change not allowed",
        }
    }
}

/// The outcome of a request's account updates: per update, the state it moved to or why not;
/// then the settlement's new state if it rolls up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatesDecision {
    pub results: Vec<Result<SettlementState, UpdateRefusal>>,
    pub settlement: Option<SettlementState>,
}

/// The account step a settlement state allows (besides re-recording the same state).
fn allowed_step(settlement: SettlementState, account: SettlementState) -> Option<SettlementState> {
    use SettlementState::*;
    match (settlement, account) {
        (PendingSettlement, PendingSettlement) => Some(PsTransfersRecorded),
        (PsTransfersRecorded, PsTransfersRecorded) => Some(PsTransfersReserved),
        (PsTransfersReserved, PsTransfersReserved) => Some(PsTransfersCommitted),
        (PsTransfersCommitted | Settling, PsTransfersCommitted) => Some(Settled),
        _ => None,
    }
}

/// `PUT /settlements/{id}` with participants: applies each update in order, then rolls up.
///
/// As central-settlement does, an account counts as processed (a second update of it in the
/// same request is refused) once an update of it was applied or named the wrong participant,
/// not after a refused state change.
pub fn decide_updates(
    settlement: SettlementState,
    accounts: &[AccountView],
    updates: &[AccountUpdate],
) -> UpdatesDecision {
    let mut states: BTreeMap<AccountId, SettlementState> = accounts.iter().map(|it| (it.account, it.state)).collect();
    let mut processed = BTreeSet::new();
    let mut results = Vec::with_capacity(updates.len());
    for update in updates {
        let Some(account) = accounts.iter().find(|it| Some(it.account) == update.account) else {
            results.push(Err(UpdateRefusal::AccountNotFound));
            continue;
        };
        if Some(account.participant) != update.participant {
            processed.insert(account.account);
            results.push(Err(UpdateRefusal::ParticipantMismatch));
            continue;
        }
        if processed.contains(&account.account) {
            results.push(Err(UpdateRefusal::AlreadyProcessed));
            continue;
        }
        let current = states[&account.account];
        match update.state {
            Some(state) if state == current || allowed_step(settlement, current) == Some(state) => {
                processed.insert(account.account);
                states.insert(account.account, state);
                results.push(Ok(state));
            }
            _ => results.push(Err(UpdateRefusal::StateChangeNotAllowed)),
        }
    }
    UpdatesDecision { results, settlement: roll_up(settlement, states.values().copied()) }
}

/// The settlement's next state once its accounts have moved, if any.
fn roll_up(
    settlement: SettlementState,
    accounts: impl Iterator<Item = SettlementState> + Clone,
) -> Option<SettlementState> {
    use SettlementState::*;
    let none_left = |state| !accounts.clone().any(|it| it == state);
    let some = |state| accounts.clone().any(|it| it == state);
    match settlement {
        PendingSettlement if none_left(PendingSettlement) => Some(PsTransfersRecorded),
        PsTransfersRecorded if none_left(PsTransfersRecorded) => Some(PsTransfersReserved),
        PsTransfersReserved if none_left(PsTransfersReserved) => Some(PsTransfersCommitted),
        PsTransfersCommitted | Settling if none_left(PsTransfersCommitted) => Some(Settled),
        PsTransfersCommitted if some(Settled) => Some(Settling),
        _ => None,
    }
}

/// `PUT /settlements/{id}` with `state: ABORTED`: too late once money moved for good.
pub fn check_abort(settlement: SettlementState, accounts: &[AccountView]) -> Result<(), Rejection> {
    use SettlementState::*;
    let refuse = |why| Err(Rejection::Settlement(SettlementRefusal::AbortNotAllowed(why)));
    match settlement {
        PsTransfersCommitted | Settling | Settled => refuse("State change is not allowed"),
        Aborted => refuse("Settlement is already aborted"),
        PsTransfersReserved if accounts.iter().any(|it| it.state == PsTransfersCommitted) => {
            refuse("At least one settlement transfer is committed")
        }
        _ => Ok(()),
    }
}

/// The id of the transfer that resets an account's position for a settlement: derived, so a
/// repeated request finds the transfer it made instead of making another.
pub fn settlement_transfer_id(settlement: SettlementId, account: AccountId) -> TransferId {
    let digest = Sha256::digest(format!("settlement|{}|{}", settlement.0, account.0).as_bytes());
    let mut hex: Vec<u8> = hex::encode(&digest[..16]).into_bytes();
    hex[12] = b'5';
    hex[16] = b'8';
    let hex = String::from_utf8(hex).expect("hex digits are ASCII");
    let text = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]);
    TransferId::parse(&text).expect("a version 5 UUID shape")
}

/// A step of an account's settlement transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStep {
    /// The account reached PS_TRANSFERS_RECORDED: the transfer is created (RECEIVED_PREPARE).
    Prepare,
    /// PS_TRANSFERS_RESERVED: RESERVED; a net recipient's position is reset now.
    Reserve,
    /// PS_TRANSFERS_COMMITTED: COMMITTED; a net sender's position is reset now.
    Commit,
    /// The settlement was aborted: a reserved recipient's reset is reversed.
    Abort,
}

/// The states a settlement transfer steps through and the moves it makes, with running values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferStepDecision {
    pub states: Vec<TransferState>,
    /// `(dfsp position change, dfsp position after)`, `(hub change, hub after)`; absent when
    /// the step moves nothing.
    pub moves: Option<((Amount, Amount), (Amount, Amount))>,
}

/// Decides one step of an account's settlement transfer, given the transfer's state (`None`
/// before it exists) and the running values of the DFSP's POSITION account and the Hub's
/// HUB_MULTILATERAL_SETTLEMENT account. `None`: nothing to do (already done: a redelivery).
///
/// The transfer moves the DFSP by −net and the Hub by +net, so every reset conserves the sum.
pub fn decide_transfer_step(
    step: TransferStep,
    net: Amount,
    state: Option<TransferState>,
    dfsp: Amount,
    hub: Amount,
) -> Option<TransferStepDecision> {
    use TransferState::*;
    let moves = || Some(((-net, dfsp - net), (net, hub + net)));
    let reverse = || Some(((net, dfsp + net), (-net, hub - net)));
    let recipient = net.is_negative();
    let sender = net.is_positive();
    match (step, state) {
        (TransferStep::Prepare, None) => Some(TransferStepDecision { states: vec![ReceivedPrepare], moves: None }),
        (TransferStep::Reserve, Some(ReceivedPrepare)) => {
            Some(TransferStepDecision { states: vec![Reserved], moves: if recipient { moves() } else { None } })
        }
        (TransferStep::Commit, Some(Reserved)) => Some(TransferStepDecision {
            states: vec![ReceivedFulfil, Committed],
            moves: if sender { moves() } else { None },
        }),
        (TransferStep::Abort, Some(Reserved)) => Some(TransferStepDecision {
            states: vec![ReceivedReject, AbortedRejected],
            moves: if recipient { reverse() } else { None },
        }),
        (TransferStep::Abort, Some(ReceivedPrepare)) => {
            Some(TransferStepDecision { states: vec![AbortedRejected], moves: None })
        }
        _ => None,
    }
}

/// The transfer step an account's new state calls for.
pub fn step_for(state: SettlementState) -> Option<TransferStep> {
    match state {
        SettlementState::PsTransfersRecorded => Some(TransferStep::Prepare),
        SettlementState::PsTransfersReserved => Some(TransferStep::Reserve),
        SettlementState::PsTransfersCommitted => Some(TransferStep::Commit),
        _ => None,
    }
}

/// The contents that become SETTLED: every account of their aggregations is SETTLED.
pub fn settled_contents(contents: &[ContentView], accounts: &[AccountView]) -> Vec<ContentId> {
    let settled =
        |account: AccountId| accounts.iter().any(|it| it.account == account && it.state == SettlementState::Settled);
    contents
        .iter()
        .filter(|it| it.state != WindowState::Settled && it.aggregations.iter().all(|agg| settled(agg.account)))
        .map(|it| it.id)
        .collect()
}

/// The windows that become SETTLED: all their contents are SETTLED.
pub fn settled_windows(windows: &[WindowView]) -> Vec<WindowId> {
    windows
        .iter()
        .filter(|it| {
            it.state != WindowState::Settled && it.contents.iter().all(|content| content.state == WindowState::Settled)
        })
        .map(|it| it.id)
        .collect()
}
