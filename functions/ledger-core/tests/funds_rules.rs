//! Table-driven funds in/out rules: `decide_funds` for every action and transfer state, the
//! moves' running values, the state paths, and that SETTLEMENT and HUB_RECONCILIATION net to
//! zero once a funds in or a funds out is complete.
//!
//! Balances are written `settlement/hub`; moves `side change = value`, joined by `; `.

use ledger_core::amount::Amount;
use ledger_core::funds::{
    decide_funds, FundsAction, FundsBalances, FundsDecision, FundsSide, FundsTransfer, INTERNAL_TRANSFER_VALIDITY_MS,
};
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;

use FundsAction::*;
use TransferState::*;

const NOW: Timestamp = Timestamp::from_unix_ms(1_700_000_000_000);

/// An accepted decision: the states appended, the moves, and whether the ledger aborted.
type Accepted = (&'static str, &'static str, bool);

/// The transfer a PUT continues: its state and its expiration relative to `NOW`.
type Existing = Option<(TransferState, i64)>;

/// One case: name, action, amount, balances before, existing transfer, expected outcome.
type Case = (&'static str, FundsAction, &'static str, &'static str, Existing, Result<Accepted, Rejection>);

const RESERVED_FOR_A_DAY: Existing = Some((Reserved, 86_400_000));

#[test]
fn funds_decisions() {
    let cases: &[Case] = &[
        // Funds in: HUB_RECONCILIATION rises (reserve), then SETTLEMENT falls (commit).
        (
            "funds in",
            In,
            "100",
            "-1000/1000",
            None,
            Ok((
                "RECEIVED_PREPARE RESERVED RECEIVED_FULFIL COMMITTED",
                "hub +100 = 1100; settlement -100 = -1100",
                false,
            )),
        ),
        (
            "funds in, unfunded",
            In,
            "0.0001",
            "0/0",
            None,
            Ok((
                "RECEIVED_PREPARE RESERVED RECEIVED_FULFIL COMMITTED",
                "hub +0.0001 = 0.0001; settlement -0.0001 = -0.0001",
                false,
            )),
        ),
        // Funds out reserve: SETTLEMENT rises; above zero the ledger reverses it at once.
        (
            "funds out reserve",
            OutPrepareReserve,
            "400",
            "-1000/1000",
            None,
            Ok(("RECEIVED_PREPARE RESERVED", "settlement +400 = -600", false)),
        ),
        (
            "reserve the whole balance",
            OutPrepareReserve,
            "1000",
            "-1000/1000",
            None,
            Ok(("RECEIVED_PREPARE RESERVED", "settlement +1000 = 0", false)),
        ),
        (
            "reserve one unit too much",
            OutPrepareReserve,
            "1000.0001",
            "-1000/1000",
            None,
            Ok((
                "RECEIVED_PREPARE RESERVED RECEIVED_REJECT ABORTED_REJECTED",
                "settlement +1000.0001 = 0.0001; settlement -1000.0001 = -1000",
                true,
            )),
        ),
        (
            "reserve when unfunded",
            OutPrepareReserve,
            "5",
            "0/0",
            None,
            Ok((
                "RECEIVED_PREPARE RESERVED RECEIVED_REJECT ABORTED_REJECTED",
                "settlement +5 = 5; settlement -5 = 0",
                true,
            )),
        ),
        (
            "reserve when already overdrawn",
            OutPrepareReserve,
            "1",
            "3/0",
            None,
            Ok((
                "RECEIVED_PREPARE RESERVED RECEIVED_REJECT ABORTED_REJECTED",
                "settlement +1 = 4; settlement -1 = 3",
                true,
            )),
        ),
        // Funds out commit: RESERVED and not expired; HUB_RECONCILIATION falls.
        (
            "commit",
            OutCommit,
            "400",
            "-600/1000",
            RESERVED_FOR_A_DAY,
            Ok(("RECEIVED_FULFIL COMMITTED", "hub -400 = 600", false)),
        ),
        (
            "commit 1 ms before expiry",
            OutCommit,
            "400",
            "-600/1000",
            Some((Reserved, 1)),
            Ok(("RECEIVED_FULFIL COMMITTED", "hub -400 = 600", false)),
        ),
        ("commit at expiry", OutCommit, "400", "-600/1000", Some((Reserved, 0)), Err(Rejection::TransferExpired)),
        ("commit after expiry", OutCommit, "400", "-600/1000", Some((Reserved, -1)), Err(Rejection::TransferExpired)),
        // Funds out abort: RESERVED; the settlement reservation is reversed.
        (
            "abort",
            OutAbort,
            "400",
            "-600/1000",
            RESERVED_FOR_A_DAY,
            Ok(("RECEIVED_REJECT ABORTED_REJECTED", "settlement -400 = -1000", false)),
        ),
        // The reference only requires "not expired" for commit; the core lets an operator abort
        // an expired reservation so the money is not stuck.
        (
            "abort after expiry",
            OutAbort,
            "400",
            "-600/1000",
            Some((Reserved, -1)),
            Ok(("RECEIVED_REJECT ABORTED_REJECTED", "settlement -400 = -1000", false)),
        ),
        // Wrong states.
        ("commit unknown", OutCommit, "1", "0/0", None, Err(incorrect(None))),
        ("abort unknown", OutAbort, "1", "0/0", None, Err(incorrect(None))),
        ("commit twice", OutCommit, "1", "0/0", Some((Committed, 1000)), Err(incorrect(Some(Committed)))),
        (
            "commit after abort",
            OutCommit,
            "1",
            "0/0",
            Some((AbortedRejected, 1000)),
            Err(incorrect(Some(AbortedRejected))),
        ),
        ("abort after commit", OutAbort, "1", "0/0", Some((Committed, 1000)), Err(incorrect(Some(Committed)))),
        ("abort twice", OutAbort, "1", "0/0", Some((AbortedRejected, 1000)), Err(incorrect(Some(AbortedRejected)))),
        (
            "commit, received prepare",
            OutCommit,
            "1",
            "0/0",
            Some((ReceivedPrepare, 1000)),
            Err(incorrect(Some(ReceivedPrepare))),
        ),
        (
            "commit, received fulfil",
            OutCommit,
            "1",
            "0/0",
            Some((ReceivedFulfil, 1000)),
            Err(incorrect(Some(ReceivedFulfil))),
        ),
        ("expired and not reserved", OutCommit, "1", "0/0", Some((Committed, -1)), Err(incorrect(Some(Committed)))),
        ("funds in again", In, "1", "0/0", Some((Committed, 1000)), Err(Rejection::ModifiedRequest)),
        ("funds out reserve again", OutPrepareReserve, "1", "0/0", RESERVED_FOR_A_DAY, Err(Rejection::ModifiedRequest)),
    ];
    for (name, action, amount, balances, existing, expected) in cases {
        check(name, *action, amount, balances, *existing, expected);
    }
}

/// Funds in, then a funds out reserved and committed: every move replays to the balances, and
/// the two accounts' movements cancel out after each completed operation.
#[test]
fn completed_funds_in_and_out_net_to_zero() {
    let mut balances = FundsBalances { settlement: amount("-250"), hub_reconciliation: amount("250") };
    let steps: [(FundsAction, &str, bool); 4] =
        [(In, "1000", true), (OutPrepareReserve, "300.5", false), (OutCommit, "300.5", true), (In, "0.0001", true)];
    let mut net = Amount::ZERO;
    let mut state = None;
    for (action, text, completes) in steps {
        let existing =
            state.map(|state| FundsTransfer { state, expiration: NOW.plus_ms(INTERNAL_TRANSFER_VALIDITY_MS) });
        let existing = if action == OutCommit { existing } else { None };
        let decision = decide_funds(action, amount(text), balances, existing, NOW).expect("accepted");
        assert!(!decision.aborted, "{action:?}");
        balances = replay(balances, &decision, &format!("{action:?}"));
        net += decision.moves.iter().map(|it| it.change).sum();
        state = decision.states.last().copied();
        if completes {
            assert_eq!(net, Amount::ZERO, "after {action:?} {text}");
            assert_eq!(state, Some(Committed));
        }
    }
    assert_eq!(balances, FundsBalances { settlement: amount("-949.5001"), hub_reconciliation: amount("949.5001") });
    assert_eq!(balances.settlement + balances.hub_reconciliation, Amount::ZERO);
}

/// Decides one action and compares the outcome; an accepted one must also replay, follow the
/// transfer state machine, and be flagged `aborted` exactly when the ledger aborted it itself.
#[track_caller]
fn check(
    name: &str,
    action: FundsAction,
    amount_text: &str,
    balances_text: &str,
    existing: Existing,
    expected: &Result<Accepted, Rejection>,
) {
    let balances = parse_balances(balances_text);
    let existing = existing.map(|(state, offset_ms)| FundsTransfer { state, expiration: NOW.plus_ms(offset_ms) });
    let decision = decide_funds(action, amount(amount_text), balances, existing, NOW);
    let described = decision.clone().map(|it| (states(&it), moves(&it), it.aborted));
    let expected = expected.clone().map(|(states, moves, aborted)| (states.to_string(), moves.to_string(), aborted));
    assert_eq!(described, expected, "{name}");
    if let Ok(decision) = decision {
        replay(balances, &decision, name);
        let mut from = existing.map(|it| it.state);
        for next in &decision.states {
            match from {
                None => assert!(next.is_initial(), "{name}: starts in {next:?}"),
                Some(from) => assert!(from.can_become(*next), "{name}: {from:?} -> {next:?}"),
            }
            from = Some(*next);
        }
        assert_eq!(decision.aborted, from == Some(AbortedRejected) && existing.is_none(), "{name}");
    }
}

/// Applies the moves in order, checking each running value, and returns the final balances.
#[track_caller]
fn replay(mut balances: FundsBalances, decision: &FundsDecision, name: &str) -> FundsBalances {
    for (idx, step) in decision.moves.iter().enumerate() {
        let value = match step.side {
            FundsSide::Settlement => &mut balances.settlement,
            FundsSide::HubReconciliation => &mut balances.hub_reconciliation,
        };
        *value += step.change;
        assert_eq!(*value, step.value, "{name}: move {idx} running value");
    }
    balances
}

fn states(decision: &FundsDecision) -> String {
    decision.states.iter().map(|it| it.name()).collect::<Vec<_>>().join(" ")
}

fn moves(decision: &FundsDecision) -> String {
    let describe = |side: FundsSide, change: Amount, value: Amount| {
        let side = match side {
            FundsSide::Settlement => "settlement",
            FundsSide::HubReconciliation => "hub",
        };
        let sign = if change.is_negative() { "" } else { "+" };
        format!("{side} {sign}{change} = {value}")
    };
    decision.moves.iter().map(|it| describe(it.side, it.change, it.value)).collect::<Vec<_>>().join("; ")
}

fn parse_balances(text: &str) -> FundsBalances {
    let (settlement, hub) = text.split_once('/').expect("settlement/hub");
    FundsBalances { settlement: amount(settlement), hub_reconciliation: amount(hub) }
}

fn incorrect(found: Option<TransferState>) -> Rejection {
    Rejection::IncorrectState { found, expected: Reserved }
}

fn amount(text: &str) -> Amount {
    Amount::parse_decimal(text).expect("an amount")
}
