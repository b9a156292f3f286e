//! Property tests: over any interleaving of prepares, fulfils, payee errors, timeouts, batch
//! boundaries and redeliveries, positions are conserved, the journal's running values equal the
//! positions, no account exceeds its headroom, and a redelivered batch changes nothing.
//!
//! A small in-memory ledger plays the store: it applies what `decide_batch` returns exactly as a
//! store would (state changes, journal rows, final positions), so the properties hold for the
//! decisions themselves.

use std::collections::{BTreeMap, HashMap};

use ledger_core::account::NetDebitCap;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId};
use ledger_core::position::{
    decide_batch, PositionAccount, PositionAction, PositionMessage, PositionOutcome, PositionSnapshot,
};
use ledger_core::state::TransferState;
use proptest::prelude::*;

const N_ACCOUNTS: u64 = 3;

#[derive(Debug, Clone)]
enum Step {
    Prepare { payer: u64, payee: u64, units: i128 },
    Fulfil { pick: usize },
    PayeeError { pick: usize },
    Timeout { pick: usize },
    Flush { n_messages: usize },
    Redeliver,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..N_ACCOUNTS, 0..N_ACCOUNTS, 1_i128..5_000_000).prop_map(|(payer, payee, units)| Step::Prepare { payer, payee, units }),
        3 => any::<usize>().prop_map(|pick| Step::Fulfil { pick }),
        1 => any::<usize>().prop_map(|pick| Step::PayeeError { pick }),
        1 => any::<usize>().prop_map(|pick| Step::Timeout { pick }),
        3 => (1_usize..12).prop_map(|n_messages| Step::Flush { n_messages }),
        1 => Just(Step::Redeliver),
    ]
}

struct Transfer {
    payer: AccountId,
    payee: AccountId,
    amount: Amount,
    state: TransferState,
}

struct Ledger {
    accounts: BTreeMap<AccountId, PositionAccount>,
    transfers: BTreeMap<TransferId, Transfer>,
    journal: Vec<(AccountId, Amount, Amount)>,
    queue: Vec<PositionMessage>,
    last_batch: Vec<PositionMessage>,
}

impl Ledger {
    fn new(caps: &[i128], funding: &[i128]) -> Ledger {
        let accounts = (0..N_ACCOUNTS)
            .map(|idx| {
                let account = PositionAccount {
                    position: Amount::ZERO,
                    reserved: Amount::ZERO,
                    settlement_balance: -Amount::from_units(funding[idx as usize]),
                    net_debit_cap: NetDebitCap::new(Amount::from_units(caps[idx as usize])),
                };
                (AccountId(idx), account)
            })
            .collect();
        Ledger { accounts, transfers: BTreeMap::new(), journal: Vec::new(), queue: Vec::new(), last_batch: Vec::new() }
    }

    fn run(&mut self, step: &Step) {
        match step {
            Step::Prepare { payer, payee, units } => self.prepare(*payer, *payee, *units),
            Step::Fulfil { pick } => self.payee_answer(*pick, TransferState::ReceivedFulfil, PositionAction::Commit),
            Step::PayeeError { pick } => self.payee_answer(*pick, TransferState::ReceivedError, PositionAction::Abort),
            Step::Timeout { pick } => {
                self.payee_answer(*pick, TransferState::ReservedTimeout, PositionAction::TimeoutReserved)
            }
            Step::Flush { n_messages } => {
                let n = (*n_messages).min(self.queue.len());
                let batch: Vec<_> = self.queue.drain(..n).collect();
                self.apply_batch(&batch);
                self.last_batch = batch;
            }
            Step::Redeliver => {
                let before = (self.positions(), self.journal.len());
                let batch = self.last_batch.clone();
                self.apply_batch(&batch);
                assert_eq!((self.positions(), self.journal.len()), before, "a redelivered batch changed the ledger");
            }
        }
    }

    fn prepare(&mut self, payer: u64, payee: u64, units: i128) {
        let id = TransferId::parse(&format!("{:026}", self.transfers.len())).expect("digits are a valid ULID");
        let transfer = Transfer {
            payer: AccountId(payer),
            payee: AccountId(payee),
            amount: Amount::from_units(units),
            state: TransferState::ReceivedPrepare,
        };
        self.queue.push(message(&id, &transfer, PositionAction::Prepare));
        self.transfers.insert(id, transfer);
    }

    /// The fulfil or timeout handler: only a RESERVED transfer moves on.
    fn payee_answer(&mut self, pick: usize, state: TransferState, action: PositionAction) {
        let reserved: Vec<TransferId> = self
            .transfers
            .iter()
            .filter(|(_, it)| it.state == TransferState::Reserved)
            .map(|(id, _)| id.clone())
            .collect();
        if reserved.is_empty() {
            return;
        }
        let id = &reserved[pick % reserved.len()];
        let transfer = self.transfers.get_mut(id).expect("picked from the map");
        transfer.state = state;
        let message = message(id, transfer, action);
        self.queue.push(message);
    }

    fn apply_batch(&mut self, batch: &[PositionMessage]) {
        let snapshot = PositionSnapshot {
            accounts: self.accounts.clone(),
            transfer_states: batch
                .iter()
                .map(|it| (it.transfer_id.clone(), self.transfers[&it.transfer_id].state))
                .collect(),
        };
        let decision = decide_batch(&snapshot, batch);
        for (message, outcome) in batch.iter().zip(&decision.outcomes) {
            let transfer = self.transfers.get_mut(&message.transfer_id).expect("known transfer");
            match outcome {
                PositionOutcome::Applied { state, .. } => transfer.state = *state,
                PositionOutcome::Rejected { .. } => transfer.state = TransferState::AbortedRejected,
                PositionOutcome::Stale { .. } | PositionOutcome::AccountMissing => (),
            }
        }
        for change in &decision.changes {
            self.journal.push((change.account, change.change, change.value));
        }
        for (account, position) in &decision.positions {
            self.accounts.get_mut(account).expect("known account").position = *position;
        }
    }

    fn positions(&self) -> Vec<Amount> {
        self.accounts.values().map(|it| it.position).collect()
    }

    fn check_invariants(&self) {
        // The journal replays to the stored positions, row by row.
        let mut replay: HashMap<AccountId, Amount> = HashMap::new();
        for (account, change, value) in &self.journal {
            let running = replay.entry(*account).or_insert(Amount::ZERO);
            *running += *change;
            assert_eq!(running, value, "journal running value");
        }
        for (id, account) in &self.accounts {
            assert_eq!(replay.get(id).copied().unwrap_or(Amount::ZERO), account.position, "journal sum");
        }
        // Each position is what its transfers say it should be.
        let mut expected: HashMap<AccountId, Amount> = HashMap::new();
        for transfer in self.transfers.values() {
            let payer_holds = transfer.state.holds_payer_reservation() || transfer.state == TransferState::Committed;
            if payer_holds {
                *expected.entry(transfer.payer).or_insert(Amount::ZERO) += transfer.amount;
            }
            if transfer.state == TransferState::Committed {
                *expected.entry(transfer.payee).or_insert(Amount::ZERO) += -transfer.amount;
            }
        }
        for (id, account) in &self.accounts {
            assert_eq!(expected.get(id).copied().unwrap_or(Amount::ZERO), account.position, "position of {id}");
        }
        // Conservation: all positions sum to what is reserved but not yet committed.
        let in_flight: Amount =
            self.transfers.values().filter(|it| it.state.holds_payer_reservation()).map(|it| it.amount).sum();
        let total: Amount = self.accounts.values().map(|it| it.position).sum();
        assert_eq!(total, in_flight, "conservation");
        // Headroom: no position ever exceeds the cap or the liquidity cover.
        for account in self.accounts.values() {
            let cap = account.net_debit_cap.expect("every test account has a cap").value();
            assert!(account.position <= cap, "cap exceeded");
            assert!(account.position <= -account.settlement_balance, "liquidity exceeded");
        }
    }
}

fn message(id: &TransferId, transfer: &Transfer, action: PositionAction) -> PositionMessage {
    let account = match action {
        PositionAction::Commit | PositionAction::Reserve => transfer.payee,
        _ => transfer.payer,
    };
    PositionMessage { account, action, transfer_id: id.clone(), amount: transfer.amount }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn positions_are_conserved_over_any_interleaving(
        caps in proptest::collection::vec(0_i128..20_000_000, N_ACCOUNTS as usize),
        funding in proptest::collection::vec(0_i128..20_000_000, N_ACCOUNTS as usize),
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let mut ledger = Ledger::new(&caps, &funding);
        for step in &steps {
            ledger.run(step);
            ledger.check_invariants();
        }
        // Drain what is left so every accepted message is decided too.
        while !ledger.queue.is_empty() {
            ledger.run(&Step::Flush { n_messages: 7 });
            ledger.check_invariants();
        }
    }
}
