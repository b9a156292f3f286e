//! Settlement decisions: account steps and their roll-up, the abort rule, settlement planning
//! from windows, and a property: settlement resets and funds in/out conserve the sum of every
//! account (positions, settlement accounts, Hub accounts).

use ledger_core::account::{LedgerAccountType, ParticipantRole};
use ledger_core::amount::Amount;
use ledger_core::funds::{decide_funds, FundsAction, FundsBalances, FundsSide, FundsTransfer};
use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use ledger_core::model::{Delay, Granularity, Interchange, ModelDefinition, ModelId, ModelName, SettlementModel};
use ledger_core::rejection::{Rejection, SettlementRefusal};
use ledger_core::settlement::{
    check_abort, decide_transfer_step, decide_updates, plan_settlement, settlement_transfer_id, AccountUpdate,
    AccountView, Aggregation, ContentId, ContentView, SettlementId, SettlementState, TransferStep, UpdateRefusal,
    WindowView,
};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use proptest::prelude::*;
use SettlementState::*;

fn account(id: u64, net: i64, state: SettlementState) -> AccountView {
    AccountView { account: AccountId(id), participant: ParticipantId(id), net: Amount::from_whole(net), state }
}

fn update(id: u64, state: SettlementState) -> AccountUpdate {
    AccountUpdate { participant: Some(ParticipantId(id)), account: Some(AccountId(id)), state: Some(state) }
}

#[test]
fn accounts_step_one_state_at_a_time_and_the_settlement_rolls_up() {
    let accounts = [account(1, 5, PendingSettlement), account(2, -5, PendingSettlement)];
    let partial = decide_updates(PendingSettlement, &accounts, &[update(1, PsTransfersRecorded)]);
    assert_eq!(
        (partial.results, partial.settlement),
        (vec![Ok(PsTransfersRecorded)], None),
        "one account left pending"
    );
    let all =
        decide_updates(PendingSettlement, &accounts, &[update(1, PsTransfersRecorded), update(2, PsTransfersRecorded)]);
    assert_eq!(all.settlement, Some(PsTransfersRecorded));
    let skip = decide_updates(PendingSettlement, &accounts, &[update(1, PsTransfersReserved)]);
    assert_eq!(skip.results, vec![Err(UpdateRefusal::StateChangeNotAllowed)]);
    let committed = [account(1, 5, PsTransfersCommitted), account(2, -5, PsTransfersCommitted)];
    let one = decide_updates(PsTransfersCommitted, &committed, &[update(1, Settled)]);
    assert_eq!(one.settlement, Some(Settling));
    let rest = decide_updates(
        Settling,
        &[account(1, 5, Settled), account(2, -5, PsTransfersCommitted)],
        &[update(2, Settled)],
    );
    assert_eq!(rest.settlement, Some(Settled));
}

#[test]
fn refused_updates_are_named() {
    let accounts = [account(1, 5, PendingSettlement)];
    let decision = decide_updates(
        PendingSettlement,
        &accounts,
        &[update(7, PsTransfersRecorded), update(1, PsTransfersRecorded), update(1, PsTransfersRecorded)],
    );
    assert_eq!(
        decision.results,
        vec![Err(UpdateRefusal::AccountNotFound), Ok(PsTransfersRecorded), Err(UpdateRefusal::AlreadyProcessed)]
    );
    assert_eq!(
        decide_updates(PsTransfersRecorded, &[account(1, 5, PsTransfersRecorded)], &[update(1, PsTransfersRecorded)])
            .results,
        vec![Ok(PsTransfersRecorded)],
        "same state re-records"
    );
}

#[test]
fn a_wrong_participant_uses_up_the_account_and_a_refused_step_does_not() {
    // central-settlement marks an account processed after a participant mismatch, but not after
    // a state change it refused: the request may still move it.
    let accounts = [account(1, 5, PendingSettlement)];
    let wrong_participant = AccountUpdate { participant: Some(ParticipantId(9)), ..update(1, PsTransfersRecorded) };
    let decision = decide_updates(PendingSettlement, &accounts, &[wrong_participant, update(1, PsTransfersRecorded)]);
    assert_eq!(decision.results, vec![Err(UpdateRefusal::ParticipantMismatch), Err(UpdateRefusal::AlreadyProcessed)]);
    let decision = decide_updates(PendingSettlement, &accounts, &[update(1, Settled), update(1, PsTransfersRecorded)]);
    assert_eq!(decision.results, vec![Err(UpdateRefusal::StateChangeNotAllowed), Ok(PsTransfersRecorded)]);
}

#[test]
fn what_an_update_leaves_out_cannot_match() {
    let accounts = [account(1, 5, PendingSettlement)];
    let no_account = AccountUpdate { account: None, ..update(1, PsTransfersRecorded) };
    let no_participant = AccountUpdate { participant: None, ..update(1, PsTransfersRecorded) };
    let no_state = AccountUpdate { state: None, ..update(1, PsTransfersRecorded) };
    let refusals = |it: AccountUpdate| decide_updates(PendingSettlement, &accounts, &[it]).results;
    assert_eq!(refusals(no_account), vec![Err(UpdateRefusal::AccountNotFound)]);
    assert_eq!(refusals(no_participant), vec![Err(UpdateRefusal::ParticipantMismatch)]);
    assert_eq!(refusals(no_state), vec![Err(UpdateRefusal::StateChangeNotAllowed)]);
}

#[test]
fn an_abort_is_refused_once_money_moved_for_good() {
    assert!(check_abort(PendingSettlement, &[]).is_ok());
    assert!(check_abort(PsTransfersReserved, &[account(1, 5, PsTransfersReserved)]).is_ok());
    for (state, accounts) in [
        (PsTransfersReserved, vec![account(1, 5, PsTransfersCommitted)]),
        (PsTransfersCommitted, vec![]),
        (Settling, vec![]),
        (Settled, vec![]),
        (Aborted, vec![]),
    ] {
        assert!(
            matches!(check_abort(state, &accounts), Err(Rejection::Settlement(SettlementRefusal::AbortNotAllowed(_)))),
            "{state:?}"
        );
    }
}

fn net_model() -> SettlementModel {
    let definition = ModelDefinition {
        name: ModelName::parse("DEFERREDNETUSD").unwrap(),
        granularity: Granularity::Net,
        interchange: Interchange::Multilateral,
        delay: Delay::Deferred,
        currency: None,
        require_liquidity_check: false,
        ledger_account_type: LedgerAccountType::Position,
        settlement_account_type: LedgerAccountType::Settlement,
        auto_position_reset: true,
    };
    SettlementModel { id: ModelId(1), definition, is_active: true }
}

fn window(id: u64, state: WindowState, content: WindowState, amounts: &[(u64, i64)]) -> WindowView {
    let aggregations = amounts
        .iter()
        .map(|(account, value)| Aggregation {
            account: AccountId(*account),
            participant: ParticipantId(*account),
            role: ParticipantRole::PayerDfsp,
            amount: Amount::from_whole(*value),
        })
        .collect();
    WindowView {
        id: WindowId(id),
        state,
        contents: vec![ContentView { id: ContentId(id), model: ModelId(1), state: content, aggregations }],
    }
}

#[test]
fn a_settlement_nets_its_windows_per_account() {
    let windows = [
        window(1, WindowState::Closed, WindowState::Closed, &[(1, 100), (2, -100)]),
        window(2, WindowState::Aborted, WindowState::Aborted, &[(1, -30), (2, 30)]),
    ];
    let plan = plan_settlement(&net_model(), &[WindowId(1), WindowId(2)], &windows).unwrap();
    assert_eq!(plan.accounts, vec![(AccountId(1), Amount::from_whole(70)), (AccountId(2), Amount::from_whole(-70))]);
    assert_eq!(plan.windows, vec![WindowId(1), WindowId(2)]);
    let open = [window(3, WindowState::Open, WindowState::Closed, &[])];
    assert_eq!(
        plan_settlement(&net_model(), &[WindowId(3), WindowId(4)], &open),
        Err(Rejection::Settlement(SettlementRefusal::InapplicableWindows(vec![3, 4])))
    );
    let mut gross = net_model();
    gross.definition.granularity = Granularity::Gross;
    assert_eq!(
        plan_settlement(&gross, &[WindowId(1)], &windows),
        Err(Rejection::Settlement(SettlementRefusal::ModelNotDeferredNet))
    );
}

#[test]
fn settlement_transfer_ids_are_stable_uuids() {
    let id = settlement_transfer_id(SettlementId(3), AccountId(7));
    assert_eq!(id, settlement_transfer_id(SettlementId(3), AccountId(7)));
    assert_ne!(id, settlement_transfer_id(SettlementId(3), AccountId(8)));
    assert_eq!(id.kind(), ledger_core::ids::TransferIdKind::Uuid(5));
}

/// One operation of the property: funds on an account, or a whole settlement of nets.
#[derive(Debug, Clone)]
enum Op {
    Funds { dfsp: usize, action: u8, units: i64 },
    Settle { nets: Vec<i64>, abort_after_reserve: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..3u8, 1..5_000i64).prop_map(|(dfsp, action, units)| Op::Funds { dfsp, action, units }),
        (proptest::collection::vec(-5_000..5_000i64, 3), any::<bool>()).prop_map(|(mut nets, abort_after_reserve)| {
            // Window nets sum to zero: every transfer debits one account and credits another.
            let sum: i64 = nets.iter().sum();
            nets[2] -= sum;
            Op::Settle { nets, abort_after_reserve }
        }),
    ]
}

/// Positions, settlement accounts, Hub reconciliation and Hub multilateral settlement.
struct Ledger {
    positions: [Amount; 3],
    settlements: [Amount; 3],
    hub_reconciliation: Amount,
    hub_settlement: Amount,
}

impl Ledger {
    fn total(&self) -> Amount {
        self.positions.iter().chain(&self.settlements).copied().sum::<Amount>()
            + self.hub_reconciliation
            + self.hub_settlement
    }

    fn funds(&mut self, dfsp: usize, action: u8, units: i64) {
        let amount = Amount::from_units(i128::from(units));
        let now = Timestamp::from_unix_ms(0);
        let balances =
            |it: &Ledger| FundsBalances { settlement: it.settlements[dfsp], hub_reconciliation: it.hub_reconciliation };
        let (first, second) = match action {
            0 => (FundsAction::In, None),
            1 => (FundsAction::OutPrepareReserve, Some(FundsAction::OutCommit)),
            _ => (FundsAction::OutPrepareReserve, Some(FundsAction::OutAbort)),
        };
        let decision = decide_funds(first, amount, balances(self), None, now).unwrap();
        self.apply_funds(dfsp, &decision.moves);
        let (Some(second), false) = (second, decision.aborted) else {
            return;
        };
        let existing = FundsTransfer { state: TransferState::Reserved, expiration: Timestamp::from_unix_ms(1) };
        let decision = decide_funds(second, amount, balances(self), Some(existing), now).unwrap();
        self.apply_funds(dfsp, &decision.moves);
    }

    fn apply_funds(&mut self, dfsp: usize, moves: &[ledger_core::funds::FundsMove]) {
        for it in moves {
            match it.side {
                FundsSide::Settlement => self.settlements[dfsp] = it.value,
                FundsSide::HubReconciliation => self.hub_reconciliation = it.value,
            }
        }
    }

    /// The window's transfers moved positions by the nets; settlement then resets them.
    fn settle(&mut self, nets: &[i64], abort_after_reserve: bool) {
        let nets: Vec<Amount> = nets.iter().map(|it| Amount::from_units(i128::from(*it))).collect();
        for (idx, net) in nets.iter().enumerate() {
            self.positions[idx] += *net;
        }
        let mut states: Vec<Option<TransferState>> = vec![None; nets.len()];
        let mut steps = vec![TransferStep::Prepare, TransferStep::Reserve];
        steps.push(if abort_after_reserve { TransferStep::Abort } else { TransferStep::Commit });
        for step in steps {
            for (idx, net) in nets.iter().enumerate() {
                let Some(decision) =
                    decide_transfer_step(step, *net, states[idx], self.positions[idx], self.hub_settlement)
                else {
                    continue;
                };
                states[idx] = decision.states.last().copied();
                if let Some(((_, dfsp), (_, hub))) = decision.moves {
                    self.positions[idx] = dfsp;
                    self.hub_settlement = hub;
                }
                assert!(
                    decide_transfer_step(step, *net, states[idx], self.positions[idx], self.hub_settlement).is_none(),
                    "a step done twice moves nothing"
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn settlement_and_funds_conserve_the_sum_of_all_accounts(ops in proptest::collection::vec(op(), 1..30)) {
        let mut ledger = Ledger { positions: [Amount::ZERO; 3], settlements: [Amount::ZERO; 3], hub_reconciliation: Amount::ZERO, hub_settlement: Amount::ZERO };
        for op in ops {
            let positions_before = ledger.positions;
            match op {
                Op::Funds { dfsp, action, units } => ledger.funds(dfsp, action, units),
                Op::Settle { nets, abort_after_reserve } => {
                    ledger.settle(&nets, abort_after_reserve);
                    if !abort_after_reserve {
                        prop_assert_eq!(ledger.positions, positions_before, "a committed settlement resets every position");
                        prop_assert_eq!(ledger.hub_settlement, Amount::ZERO);
                    }
                }
            }
            prop_assert_eq!(ledger.total(), Amount::ZERO);
            prop_assert!(!ledger.settlements.iter().any(|it| it.is_positive()), "funds out never overdraws");
        }
    }
}
