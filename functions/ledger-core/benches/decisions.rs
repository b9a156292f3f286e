//! Benchmark: position decisions per second in the pure core, on one thread.
//!
//! Run with `cargo bench -p ledger-core --bench decisions`. Each round decides one batch of
//! prepares spread over many accounts (what one Event Hubs batch carries), then one batch of
//! commits; the figure is messages decided per second of wall time on the calling thread.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::time::{Duration, Instant};

use ledger_core::account::NetDebitCap;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId};
use ledger_core::position::{decide_batch, PositionAccount, PositionAction, PositionMessage, PositionSnapshot};
use ledger_core::state::TransferState;

const N_ACCOUNTS: u64 = 100;
const BATCH_SIZES: [usize; 3] = [100, 1_000, 10_000];
const MEASURE_FOR: Duration = Duration::from_secs(2);

fn main() {
    println!("core position decisions, one thread");
    for batch_size in BATCH_SIZES {
        for action in [PositionAction::Prepare, PositionAction::Commit] {
            let (snapshot, messages) = workload(batch_size, action);
            let rate = measure(&snapshot, &messages);
            println!("  {:<8} batch {:>6}: {:>12.0} decisions/s", format!("{action:?}"), batch_size, rate);
        }
    }
}

fn workload(batch_size: usize, action: PositionAction) -> (PositionSnapshot, Vec<PositionMessage>) {
    let accounts: BTreeMap<AccountId, PositionAccount> = (0..N_ACCOUNTS)
        .map(|idx| {
            let account = PositionAccount {
                position: Amount::ZERO,
                reserved: Amount::ZERO,
                settlement_balance: -Amount::from_whole(1_000_000_000),
                net_debit_cap: NetDebitCap::new(Amount::from_whole(1_000_000_000)),
            };
            (AccountId(idx), account)
        })
        .collect();
    let mut transfer_states = HashMap::new();
    let messages: Vec<PositionMessage> = (0..batch_size)
        .map(|idx| {
            let transfer_id = TransferId::parse(&format!("{idx:026}")).expect("digits are a ULID");
            transfer_states.insert(transfer_id.clone(), action.expected_state());
            PositionMessage {
                account: AccountId(idx as u64 % N_ACCOUNTS),
                action,
                transfer_id,
                amount: Amount::from_units(1_000_000 + idx as i128),
            }
        })
        .collect();
    assert!(transfer_states.values().all(|it| *it != TransferState::Committed));
    (PositionSnapshot { accounts, transfer_states }, messages)
}

fn measure(snapshot: &PositionSnapshot, messages: &[PositionMessage]) -> f64 {
    let started = Instant::now();
    let mut n_decided = 0_usize;
    while started.elapsed() < MEASURE_FOR {
        let decision = decide_batch(black_box(snapshot), black_box(messages));
        assert_eq!(decision.outcomes.len(), messages.len());
        n_decided += messages.len();
    }
    n_decided as f64 / started.elapsed().as_secs_f64()
}
