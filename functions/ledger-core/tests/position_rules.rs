//! Table-driven position rules: each case is a small script run through one `check` helper.
//!
//! Script lines:
//! - `account N position=P settlement=S [ndc=C] [reserved=R]` loads an account;
//! - `state T STATE` gives transfer T its current state;
//! - `ACTION T @N AMOUNT` is a message of the batch (in arrival order);
//! - `---` separates input from expectations;
//! - `T OUTCOME` expects a message's outcome (`applied STATE CHANGE`, `rejected 4001|4200`,
//!   `stale [STATE]`, `missing`), by the transfer's first message in the batch with that id
//!   unless written `T#2` for its second;
//! - `position N = P` expects an account's final position;
//! - `journal N: C1 V1, C2 V2` expects the account's journal (change and running value).

use std::collections::{BTreeMap, HashMap};

use ledger_core::account::NetDebitCap;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId};
use ledger_core::position::{
    decide_batch, PositionAccount, PositionAction, PositionDecision, PositionMessage, PositionOutcome, PositionSnapshot,
};
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferState;

#[test]
fn prepare_reserves_within_liquidity_and_cap() {
    check(
        "account 1 position=0 settlement=-1000 ndc=500
         state a RECEIVED_PREPARE
         prepare a @1 100
         ---
         a applied RESERVED 100
         position 1 = 100
         journal 1: 100 100",
    );
}

#[test]
fn liquidity_is_checked_before_the_cap() {
    check(
        "account 1 position=0 settlement=-50 ndc=10
         state a RECEIVED_PREPARE
         prepare a @1 100
         ---
         a rejected 4001
         journal 1:",
    );
}

#[test]
fn the_cap_rejects_with_4200_when_liquidity_suffices() {
    check(
        "account 1 position=0 settlement=-1000 ndc=50
         state a RECEIVED_PREPARE
         prepare a @1 100
         ---
         a rejected 4200",
    );
}

#[test]
fn an_account_without_a_cap_takes_no_reservation() {
    check(
        "account 1 position=0 settlement=-1000
         state a RECEIVED_PREPARE
         prepare a @1 1
         ---
         a rejected 4200",
    );
}

#[test]
fn headroom_is_exact_at_the_boundary() {
    check(
        "account 1 position=400 settlement=-1000 ndc=500 reserved=0
         state a RECEIVED_PREPARE
         state b RECEIVED_PREPARE
         prepare a @1 100
         prepare b @1 0.0001
         ---
         a applied RESERVED 100
         b rejected 4200
         position 1 = 500",
    );
}

#[test]
fn reserved_value_counts_against_headroom() {
    check(
        "account 1 position=0 settlement=-1000 ndc=500 reserved=450
         state a RECEIVED_PREPARE
         prepare a @1 100
         ---
         a rejected 4200",
    );
}

#[test]
fn headroom_shrinks_within_a_batch() {
    check(
        "account 1 position=0 settlement=-250 ndc=1000
         state a RECEIVED_PREPARE
         state b RECEIVED_PREPARE
         state c RECEIVED_PREPARE
         prepare a @1 100
         prepare b @1 100
         prepare c @1 100
         ---
         a applied RESERVED 100
         b applied RESERVED 100
         c rejected 4001
         position 1 = 200
         journal 1: 100 100, 100 200",
    );
}

#[test]
fn releases_are_applied_before_reservations_in_a_batch() {
    check(
        "account 1 position=100 settlement=-100 ndc=1000
         state a RECEIVED_PREPARE
         state old RECEIVED_ERROR
         prepare a @1 100
         abort old @1 100
         ---
         old applied ABORTED_ERROR -100
         a applied RESERVED 100
         journal 1: -100 0, 100 100",
    );
}

#[test]
fn commit_lowers_the_payee_position() {
    check(
        "account 2 position=0 settlement=0 ndc=0
         state a RECEIVED_FULFIL
         state b RECEIVED_FULFIL
         commit a @2 100
         reserve b @2 5.5
         ---
         a applied COMMITTED -100
         b applied COMMITTED -5.5
         position 2 = -105.5",
    );
}

#[test]
fn aborts_and_timeouts_release_the_payer() {
    check(
        "account 1 position=300 settlement=-1000 ndc=1000
         state a RECEIVED_ERROR
         state b RECEIVED_ERROR
         state c RESERVED_TIMEOUT
         abort a @1 100
         abort-validation b @1 100
         timeout-reserved c @1 100
         ---
         a applied ABORTED_ERROR -100
         b applied ABORTED_ERROR -100
         c applied EXPIRED_RESERVED -100
         position 1 = 0",
    );
}

#[test]
fn messages_for_transfers_in_other_states_are_stale() {
    check(
        "account 1 position=100 settlement=-1000 ndc=1000
         state a RESERVED
         state b COMMITTED
         state c RECEIVED_PREPARE
         prepare a @1 100
         commit b @1 100
         timeout-reserved c @1 100
         abort unknown @1 100
         ---
         a stale RESERVED
         b stale COMMITTED
         c stale RECEIVED_PREPARE
         unknown stale
         position 1 = 100",
    );
}

#[test]
fn a_message_delivered_twice_in_one_batch_applies_once() {
    check(
        "account 1 position=0 settlement=-1000 ndc=1000
         state a RECEIVED_PREPARE
         prepare a @1 100
         prepare a @1 100
         ---
         a applied RESERVED 100
         a#2 stale RESERVED
         position 1 = 100",
    );
}

#[test]
fn a_rejected_prepare_delivered_again_stays_rejected() {
    check(
        "account 1 position=0 settlement=0 ndc=1000
         state a RECEIVED_PREPARE
         prepare a @1 100
         prepare a @1 100
         ---
         a rejected 4001
         a#2 stale ABORTED_REJECTED",
    );
}

#[test]
fn accounts_are_independent_and_unknown_accounts_change_nothing() {
    check(
        "account 1 position=0 settlement=-100 ndc=100
         account 2 position=0 settlement=-100 ndc=100
         state a RECEIVED_PREPARE
         state b RECEIVED_PREPARE
         state c RECEIVED_PREPARE
         prepare a @2 100
         prepare b @1 100
         prepare c @9 1
         ---
         a applied RESERVED 100
         b applied RESERVED 100
         c missing
         position 1 = 100
         position 2 = 100",
    );
}

/// Runs a script (see the module documentation) and asserts every expectation in it.
#[track_caller]
fn check(script: &str) {
    let (input, expected) = script.split_once("---").expect("a script has input --- expectations");
    let (snapshot, messages) = parse_input(input);
    let decision = decide_batch(&snapshot, &messages);
    assert_journal_runs(&snapshot, &decision);
    for line in expected.lines().map(str::trim).filter(|it| !it.is_empty()) {
        check_expectation(line, &snapshot, &messages, &decision);
    }
}

fn parse_input(input: &str) -> (PositionSnapshot, Vec<PositionMessage>) {
    let mut snapshot = PositionSnapshot::default();
    let mut messages = Vec::new();
    for line in input.lines().map(str::trim).filter(|it| !it.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "account" => {
                let (id, account) = parse_account(&words[1..]);
                snapshot.accounts.insert(id, account);
            }
            "state" => {
                let state = TransferState::from_name(words[2]).expect("a state name");
                snapshot.transfer_states.insert(transfer_id(words[1]), state);
            }
            action => messages.push(PositionMessage {
                account: AccountId(words[2].trim_start_matches('@').parse().expect("an account")),
                action: parse_action(action),
                transfer_id: transfer_id(words[1]),
                amount: amount(words[3]),
            }),
        }
    }
    (snapshot, messages)
}

fn parse_account(words: &[&str]) -> (AccountId, PositionAccount) {
    let fields: HashMap<&str, &str> = words[1..].iter().map(|it| it.split_once('=').expect("key=value")).collect();
    let account = PositionAccount {
        position: amount(fields["position"]),
        reserved: fields.get("reserved").map_or(Amount::ZERO, |it| amount(it)),
        settlement_balance: amount(fields["settlement"]),
        net_debit_cap: fields.get("ndc").map(|it| NetDebitCap::new(amount(it)).expect("a cap")),
    };
    (AccountId(words[0].parse().expect("an account id")), account)
}

fn parse_action(word: &str) -> PositionAction {
    match word {
        "prepare" => PositionAction::Prepare,
        "commit" => PositionAction::Commit,
        "reserve" => PositionAction::Reserve,
        "abort" => PositionAction::Abort,
        "abort-validation" => PositionAction::AbortValidation,
        "timeout-reserved" => PositionAction::TimeoutReserved,
        other => panic!("unknown line {other}"),
    }
}

#[track_caller]
fn check_expectation(
    line: &str,
    snapshot: &PositionSnapshot,
    messages: &[PositionMessage],
    decision: &PositionDecision,
) {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words[0] {
        "position" => {
            let account = AccountId(words[1].parse().expect("an account"));
            // Unchanged accounts are not in the decision; they keep their loaded value.
            let value =
                decision.positions.get(&account).copied().or(snapshot.accounts.get(&account).map(|it| it.position));
            assert_eq!(value, Some(amount(words[3])), "{line}");
        }
        "journal" => {
            let account = AccountId(words[1].trim_end_matches(':').parse().expect("an account"));
            let journal: Vec<String> = decision
                .changes
                .iter()
                .filter(|it| it.account == account)
                .map(|it| format!("{} {}", it.change, it.value))
                .collect();
            let expected: Vec<String> = line
                .split_once(':')
                .map(|(_, rest)| rest.split(',').map(|it| it.trim().to_string()).filter(|it| !it.is_empty()).collect())
                .unwrap_or_default();
            assert_eq!(journal, expected, "{line}");
        }
        name => {
            let outcome = outcome_of(name, messages, decision);
            assert_eq!(describe(outcome), words[1..].join(" "), "{line}");
        }
    }
}

fn outcome_of<'a>(name: &str, messages: &[PositionMessage], decision: &'a PositionDecision) -> &'a PositionOutcome {
    let (id, nth) = match name.split_once('#') {
        Some((id, nth)) => (id, nth.parse::<usize>().expect("a message number")),
        None => (name, 1),
    };
    let idx = messages
        .iter()
        .enumerate()
        .filter(|(_, it)| it.transfer_id == transfer_id(id))
        .nth(nth - 1)
        .map(|(idx, _)| idx)
        .expect("the transfer has that many messages");
    &decision.outcomes[idx]
}

fn describe(outcome: &PositionOutcome) -> String {
    match outcome {
        PositionOutcome::Applied { state, change } => format!("applied {} {change}", state.name()),
        PositionOutcome::Rejected { rejection: Rejection::PayerInsufficientLiquidity } => "rejected 4001".into(),
        PositionOutcome::Rejected { rejection: Rejection::PayerLimitExceeded } => "rejected 4200".into(),
        PositionOutcome::Rejected { rejection } => format!("rejected {rejection:?}"),
        PositionOutcome::Stale { found: Some(state) } => format!("stale {}", state.name()),
        PositionOutcome::Stale { found: None } => "stale".into(),
        PositionOutcome::AccountMissing => "missing".into(),
    }
}

/// Every journal row's running value is the previous value plus its change.
fn assert_journal_runs(snapshot: &PositionSnapshot, decision: &PositionDecision) {
    let mut running: BTreeMap<AccountId, Amount> =
        snapshot.accounts.iter().map(|(id, it)| (*id, it.position)).collect();
    for change in &decision.changes {
        let value = running.get_mut(&change.account).expect("journal rows name loaded accounts");
        *value += change.change;
        assert_eq!(*value, change.value);
    }
    for (account, position) in &decision.positions {
        assert_eq!(running[account], *position);
    }
}

/// Test transfer names become valid ULIDs so scripts stay readable.
fn transfer_id(name: &str) -> TransferId {
    let digits: String = name.bytes().map(|b| format!("{:02X}", b % 32)).collect();
    let padded = format!("{digits:0>26}");
    let crockford: String = padded[padded.len() - 26..]
        .chars()
        .map(|c| match c {
            'I' | 'L' | 'O' | 'U' => '0',
            other => other,
        })
        .collect();
    TransferId::parse(&crockford).expect("a valid ULID")
}

fn amount(text: &str) -> Amount {
    Amount::parse_decimal(text).expect("an amount")
}
