//! Table-driven fulfil rules: `decide_fulfil` for commit, reserve, reject and abort (PUT /error)
//! in central-ledger's order — exists, route, duplicate, fulfilment, RESERVED, not expired —
//! except that an answer from anyone but the payee is refused to its sender and never aborts.
//!
//! Each case edits one valid fulfil (`fixture`: a RESERVED transfer, the payee committing with
//! the Testing Toolkit's fulfilment) and expects one decision, written as a short text:
//! `drop`, `ignore`, `sender REJECTION`, `resend STATE` or `proceed STATE ACTION [REJECTION]`.

use ledger_core::condition::{IlpCondition, IlpFulfilment};
use ledger_core::fulfil::{decide_fulfil, FulfilCommand, FulfilDecision, FulfilKind, FulfilTarget};
use ledger_core::ids::FspId;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;

use TransferState::*;

const TTK_FULFILMENT: &str = "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA";
const TTK_CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";
const NOW: Timestamp = Timestamp::from_unix_ms(1_700_000_000_000);

/// One fulfil: the stored transfer (`None` = unknown), the payee's message and the clock.
#[derive(Clone)]
struct Fixture {
    target: Option<FulfilTarget>,
    command: FulfilCommand,
    now: Timestamp,
}

type Edit = fn(&mut Fixture);

#[test]
fn fulfil_decisions() {
    let cases: &[(&str, Edit, &str)] = &[
        // Accepted: RECEIVED_FULFIL, then a position commit/reserve keyed by the payee.
        ("commit", |_| (), "proceed RECEIVED_FULFIL Commit"),
        ("reserve", |f| f.command.kind = reserve(Some(ttk_fulfilment())), "proceed RECEIVED_FULFIL Reserve"),
        // 1. The transfer must exist; nothing else is looked at first.
        ("unknown transfer", |f| f.target = None, "sender TransferNotFound"),
        (
            "unknown transfer, reject",
            |f| (f.target, f.command.kind) = (None, FulfilKind::Reject),
            "sender TransferNotFound",
        ),
        (
            "unknown transfer, abort",
            |f| (f.target, f.command.kind) = (None, FulfilKind::Abort),
            "sender TransferNotFound",
        ),
        // 2a. Source: only the payee (case-insensitive) answers. Anyone else, the payer included,
        //     is refused to the sender and the transfer is untouched, whatever it sent.
        ("source is not the payee", |f| f.command.source = fsp("otherfsp"), "sender SourceNotPayee"),
        ("source is the payer", |f| f.command.source = fsp("payerfsp"), "sender SourceNotPayee"),
        ("source in other case", |f| f.command.source = fsp("PayeeFSP"), "proceed RECEIVED_FULFIL Commit"),
        (
            "both wrong: source reported",
            |f| (f.command.source, f.command.destination) = (fsp("a"), Some(fsp("b"))),
            "sender SourceNotPayee",
        ),
        (
            "wrong source, reserve",
            |f| (f.command.source, f.command.kind) = (fsp("x"), reserve(None)),
            "sender SourceNotPayee",
        ),
        (
            "wrong source, abort",
            |f| (f.command.source, f.command.kind) = (fsp("x"), FulfilKind::Abort),
            "sender SourceNotPayee",
        ),
        (
            "payer's abort",
            |f| (f.command.source, f.command.kind) = (fsp("payerfsp"), FulfilKind::Abort),
            "sender SourceNotPayee",
        ),
        (
            "wrong source, committed",
            |f| (f.command.source, state(f).state) = (fsp("x"), Committed),
            "sender SourceNotPayee",
        ),
        (
            "wrong source, expired prepared",
            |f| (f.command.source, state(f).state) = (fsp("x"), ExpiredPrepared),
            "sender SourceNotPayee",
        ),
        (
            "wrong source, expired",
            |f| (f.command.source, state(f).expiration) = (fsp("x"), NOW),
            "sender SourceNotPayee",
        ),
        (
            "wrong source, bad fulfilment",
            |f| (f.command.source, f.command.kind) = (fsp("x"), commit(None)),
            "sender SourceNotPayee",
        ),
        (
            "source before duplicate",
            |f| (f.command.source, state(f).stored_hash) = (fsp("x"), Some(hash("other"))),
            "sender SourceNotPayee",
        ),
        // A stranger replaying the payee's body learns nothing: no resend of state and fulfilment.
        (
            "source before resend",
            |f| {
                duplicate(f, "h1", Committed);
                f.command.source = fsp("x");
            },
            "sender SourceNotPayee",
        ),
        (
            "reject from a stranger",
            |f| (f.command.kind, f.command.source) = (FulfilKind::Reject, fsp("x")),
            "sender SourceNotPayee",
        ),
        (
            "reject from the payer",
            |f| (f.command.kind, f.command.source) = (FulfilKind::Reject, fsp("payerfsp")),
            "sender SourceNotPayee",
        ),
        // The payee's PUT with transferState ABORTED: accepted by the API, dropped by the ledger.
        ("reject", |f| f.command.kind = FulfilKind::Reject, "drop"),
        ("reject, committed", |f| (f.command.kind, state(f).state) = (FulfilKind::Reject, Committed), "drop"),
        (
            "reject, wrong destination",
            |f| (f.command.kind, f.command.destination) = (FulfilKind::Reject, Some(fsp("x"))),
            "drop",
        ),
        // 2b. Destination (if any) = payer, case-insensitive: the payee's misaddressed answer
        //     aborts a RESERVED transfer (TTK bug fix #2697); otherwise only the payee hears.
        (
            "destination is not the payer",
            |f| f.command.destination = Some(fsp("otherfsp")),
            "proceed RECEIVED_ERROR AbortValidation DestinationNotPayer",
        ),
        (
            "destination in other case",
            |f| f.command.destination = Some(fsp("PAYERFSP")),
            "proceed RECEIVED_FULFIL Commit",
        ),
        ("no destination", |f| f.command.destination = None, "proceed RECEIVED_FULFIL Commit"),
        (
            "wrong destination, reserve",
            |f| (f.command.destination, f.command.kind) = (Some(fsp("x")), reserve(Some(ttk_fulfilment()))),
            "proceed RECEIVED_ERROR AbortValidation DestinationNotPayer",
        ),
        (
            "wrong destination, abort",
            |f| (f.command.destination, f.command.kind) = (Some(fsp("x")), FulfilKind::Abort),
            "proceed RECEIVED_ERROR AbortValidation DestinationNotPayer",
        ),
        (
            "wrong destination, received fulfil",
            |f| (f.command.destination, state(f).state) = (Some(fsp("x")), ReceivedFulfil),
            "sender DestinationNotPayer",
        ),
        (
            "destination before duplicate",
            |f| (f.command.destination, state(f).stored_hash) = (Some(fsp("x")), Some(hash("other"))),
            "proceed RECEIVED_ERROR AbortValidation DestinationNotPayer",
        ),
        // 3. Duplicate: same hash and final → resend; same hash in flight → drop; else 3106.
        ("resend committed", |f| duplicate(f, "h1", Committed), "resend COMMITTED"),
        ("resend aborted error", |f| duplicate(f, "h1", AbortedError), "resend ABORTED_ERROR"),
        ("resend expired reserved", |f| duplicate(f, "h1", ExpiredReserved), "resend EXPIRED_RESERVED"),
        ("resend aborted rejected", |f| duplicate(f, "h1", AbortedRejected), "resend ABORTED_REJECTED"),
        ("in flight: reserved", |f| duplicate(f, "h1", Reserved), "ignore"),
        ("in flight: received fulfil", |f| duplicate(f, "h1", ReceivedFulfil), "ignore"),
        ("in flight: received error", |f| duplicate(f, "h1", ReceivedError), "ignore"),
        ("in flight: reserved timeout", |f| duplicate(f, "h1", ReservedTimeout), "ignore"),
        ("in flight: received prepare", |f| duplicate(f, "h1", ReceivedPrepare), "ignore"),
        ("settled is not resent", |f| duplicate(f, "h1", Settled), "ignore"),
        ("modified, reserved", |f| duplicate(f, "h0", Reserved), "sender ModifiedRequest"),
        ("modified, committed", |f| duplicate(f, "h0", Committed), "sender ModifiedRequest"),
        (
            "duplicate before fulfilment",
            |f| {
                duplicate(f, "h1", Committed);
                f.command.kind = commit(None);
            },
            "resend COMMITTED",
        ),
        (
            "duplicate before expiry",
            |f| {
                duplicate(f, "h1", AbortedError);
                f.now = far_future();
            },
            "resend ABORTED_ERROR",
        ),
        (
            "abort duplicate",
            |f| {
                duplicate(f, "h1", AbortedError);
                f.command.kind = FulfilKind::Abort;
            },
            "resend ABORTED_ERROR",
        ),
        (
            "modified abort",
            |f| {
                duplicate(f, "h0", Reserved);
                f.command.kind = FulfilKind::Abort;
            },
            "sender ModifiedRequest",
        ),
        // 4. Fulfilment (commit and reserve only): missing or not hashing to the condition.
        (
            "fulfilment missing",
            |f| f.command.kind = commit(None),
            "proceed RECEIVED_ERROR AbortValidation InvalidFulfilment",
        ),
        (
            "fulfilment wrong",
            |f| f.command.kind = commit(Some(wrong_fulfilment())),
            "proceed RECEIVED_ERROR AbortValidation InvalidFulfilment",
        ),
        (
            "reserve, fulfilment missing",
            |f| f.command.kind = reserve(None),
            "proceed RECEIVED_ERROR AbortValidation InvalidFulfilment",
        ),
        (
            "reserve, fulfilment wrong",
            |f| f.command.kind = reserve(Some(wrong_fulfilment())),
            "proceed RECEIVED_ERROR AbortValidation InvalidFulfilment",
        ),
        (
            "condition is not a fulfilment",
            |f| f.command.kind = commit(Some(condition_as_fulfilment())),
            "proceed RECEIVED_ERROR AbortValidation InvalidFulfilment",
        ),
        (
            "bad fulfilment, committed",
            |f| (f.command.kind, state(f).state) = (commit(None), Committed),
            "sender InvalidFulfilment",
        ),
        (
            "bad fulfilment, received prepare",
            |f| (f.command.kind, state(f).state) = (commit(None), ReceivedPrepare),
            "sender InvalidFulfilment",
        ),
        (
            "bad fulfilment before expiry",
            |f| (f.command.kind, f.now) = (commit(None), far_future()),
            "proceed RECEIVED_ERROR AbortValidation InvalidFulfilment",
        ),
        // 5. The transfer must be RESERVED.
        ("received prepare", |f| state(f).state = ReceivedPrepare, "sender NotReserved"),
        ("received fulfil", |f| state(f).state = ReceivedFulfil, "sender NotReserved"),
        ("committed, new hash", |f| state(f).state = Committed, "sender NotReserved"),
        ("reserved timeout", |f| state(f).state = ReservedTimeout, "sender NotReserved"),
        ("expired reserved", |f| state(f).state = ExpiredReserved, "sender NotReserved"),
        (
            "reserve, committed",
            |f| (f.command.kind, state(f).state) = (reserve(Some(ttk_fulfilment())), Committed),
            "sender NotReserved",
        ),
        (
            "not reserved before expiry",
            |f| (state(f).state, f.now) = (AbortedError, far_future()),
            "sender NotReserved",
        ),
        // 6. Not expired: expiration == now is already expired.
        ("expires 1 ms later", |f| state(f).expiration = NOW.plus_ms(1), "proceed RECEIVED_FULFIL Commit"),
        ("expires now", |f| state(f).expiration = NOW, "sender TransferExpired"),
        ("expired 1 ms ago", |f| state(f).expiration = NOW.plus_ms(-1), "sender TransferExpired"),
        (
            "reserve, expires now",
            |f| (state(f).expiration, f.command.kind) = (NOW, reserve(Some(ttk_fulfilment()))),
            "sender TransferExpired",
        ),
        // PUT /error: no fulfilment check; RESERVED and not expired, then abort keyed by the payer.
        ("abort", |f| f.command.kind = FulfilKind::Abort, "proceed RECEIVED_ERROR Abort"),
        (
            "abort, committed",
            |f| (f.command.kind, state(f).state) = (FulfilKind::Abort, Committed),
            "sender NotReserved",
        ),
        (
            "abort, received prepare",
            |f| (f.command.kind, state(f).state) = (FulfilKind::Abort, ReceivedPrepare),
            "sender NotReserved",
        ),
        (
            "abort, received error",
            |f| (f.command.kind, state(f).state) = (FulfilKind::Abort, ReceivedError),
            "sender NotReserved",
        ),
        (
            "abort, expires 1 ms later",
            |f| (f.command.kind, state(f).expiration) = (FulfilKind::Abort, NOW.plus_ms(1)),
            "proceed RECEIVED_ERROR Abort",
        ),
        (
            "abort, expires now",
            |f| (f.command.kind, state(f).expiration) = (FulfilKind::Abort, NOW),
            "sender TransferExpired",
        ),
    ];
    for (name, edit, expected) in cases {
        check(name, *edit, expected);
    }
}

/// Whatever a non-payee sends, in whatever state the transfer is, with or without a stored
/// hash, expired or not: only the sender hears of it, so nothing is written or aborted.
#[test]
fn only_the_payee_ever_changes_a_transfer() {
    let states = [
        ReceivedPrepare,
        Reserved,
        ReceivedFulfil,
        Committed,
        Failed,
        ReservedTimeout,
        ReceivedReject,
        AbortedRejected,
        ReceivedError,
        AbortedError,
        ExpiredPrepared,
        ExpiredReserved,
        Invalid,
        Settled,
    ];
    let kinds = [
        commit(Some(ttk_fulfilment())),
        commit(None),
        reserve(Some(ttk_fulfilment())),
        FulfilKind::Reject,
        FulfilKind::Abort,
    ];
    let senders = ["payerfsp", "PayerFSP", "otherfsp", "payeefsp2"];
    let mut n_cases = 0;
    for state in states {
        for kind in kinds {
            for sender in senders {
                for stored_hash in [None, Some(hash("h1")), Some(hash("h0"))] {
                    for now in [NOW, far_future()] {
                        let mut fixture = fixture();
                        fixture.command.kind = kind;
                        fixture.command.source = fsp(sender);
                        fixture.now = now;
                        let target = fixture.target.as_mut().expect("a stored transfer");
                        (target.state, target.stored_hash) = (state, stored_hash.clone());
                        let decision = decide_fulfil(fixture.target.as_ref(), &fixture.command, fixture.now);
                        let case = format!("{sender} {kind:?} in {state:?}, stored {stored_hash:?}, at {now:?}");
                        assert_eq!(describe(&decision), "sender SourceNotPayee", "{case}");
                        n_cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(n_cases, 14 * 5 * 4 * 3 * 2);
}

/// Decides the fixture after `edit` and compares the decision's description.
#[track_caller]
fn check(name: &str, edit: Edit, expected: &str) {
    let mut fixture = fixture();
    edit(&mut fixture);
    let decision = decide_fulfil(fixture.target.as_ref(), &fixture.command, fixture.now);
    assert_eq!(describe(&decision), expected, "{name}");
    if let FulfilDecision::Proceed { state, .. } = decision {
        let from = fixture.target.expect("only a known transfer proceeds").state;
        assert!(from.can_become(state), "{name}: {from:?} -> {state:?}");
    }
}

fn describe(decision: &FulfilDecision) -> String {
    match decision {
        FulfilDecision::Drop => "drop".to_string(),
        FulfilDecision::Ignore => "ignore".to_string(),
        FulfilDecision::RejectToSender(rejection) => format!("sender {rejection:?}"),
        FulfilDecision::Resend(state) => format!("resend {}", state.name()),
        FulfilDecision::Proceed { state, position, rejection: None } => {
            format!("proceed {} {position:?}", state.name())
        }
        FulfilDecision::Proceed { state, position, rejection: Some(rejection) } => {
            format!("proceed {} {position:?} {rejection:?}", state.name())
        }
    }
}

fn fixture() -> Fixture {
    Fixture {
        target: Some(FulfilTarget {
            payer: fsp("payerfsp"),
            payee: fsp("payeefsp"),
            condition: IlpCondition::from_base64url(TTK_CONDITION).expect("the TTK condition"),
            expiration: NOW.plus_ms(60_000),
            state: Reserved,
            stored_hash: None,
        }),
        command: FulfilCommand {
            source: fsp("payeefsp"),
            destination: Some(fsp("payerfsp")),
            kind: commit(Some(ttk_fulfilment())),
            hash: hash("h1"),
        },
        now: NOW,
    }
}

/// The stored transfer, for editing.
fn state(fixture: &mut Fixture) -> &mut FulfilTarget {
    fixture.target.as_mut().expect("a stored transfer")
}

/// An earlier message with hash `stored` was seen and the transfer is now in `now_in`.
fn duplicate(fixture: &mut Fixture, stored: &str, now_in: TransferState) {
    let target = state(fixture);
    target.stored_hash = Some(hash(stored));
    target.state = now_in;
}

fn commit(fulfilment: Option<IlpFulfilment>) -> FulfilKind {
    FulfilKind::Commit { fulfilment }
}

fn reserve(fulfilment: Option<IlpFulfilment>) -> FulfilKind {
    FulfilKind::Reserve { fulfilment }
}

fn ttk_fulfilment() -> IlpFulfilment {
    IlpFulfilment::from_base64url(TTK_FULFILMENT).expect("the TTK fulfilment")
}

fn wrong_fulfilment() -> IlpFulfilment {
    IlpFulfilment::from_bytes([7; 32])
}

/// The condition's own bytes sent as the fulfilment (a classic client mistake).
fn condition_as_fulfilment() -> IlpFulfilment {
    IlpFulfilment::from_base64url(TTK_CONDITION).expect("32 bytes")
}

fn far_future() -> Timestamp {
    NOW.plus_ms(86_400_000)
}

fn fsp(name: &str) -> FspId {
    FspId::parse(name).expect("an fsp id")
}

fn hash(text: &str) -> RequestHash {
    RequestHash::new(text.to_string())
}
