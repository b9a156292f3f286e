//! Table-driven prepare rules: `validate_prepare` (every reachable failure, in central-ledger's
//! order), the `PrepareFailure` reason texts, and `classify_duplicate` for every stored hash ×
//! transfer state.
//!
//! Each case starts from one valid prepare (`fixture`) and breaks it with a small edit; the
//! `check` helper validates it and compares the first failure.

use std::mem::{discriminant, Discriminant};

use ledger_core::account::{Account, LedgerAccountType, Participant};
use ledger_core::amount::Amount;
use ledger_core::condition::IlpCondition;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId};
use ledger_core::prepare::{
    classify_duplicate, validate_prepare, Duplicate, PrepareCommand, PrepareContext, PrepareRules, RequestHash,
};
use ledger_core::rejection::PrepareFailure;
use ledger_core::state::{TransferState, TRANSFER_STATES};
use ledger_core::time::Timestamp;

use PrepareFailure::*;

const TTK_CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";
const NOW: Timestamp = Timestamp::from_unix_ms(1_700_000_000_000);

/// A prepare with everything it is validated against, owned so that cases can edit it.
#[derive(Clone)]
struct Fixture {
    command: PrepareCommand,
    payer: Option<Participant>,
    payee: Option<Participant>,
    payer_account: Option<Account>,
    payee_account: Option<Account>,
    rules: PrepareRules,
}

type Edit = fn(&mut Fixture);

#[test]
fn single_failures_and_boundaries() {
    let cases: &[(&str, Edit, Result<(), PrepareFailure>)] = &[
        ("valid", |_| (), Ok(())),
        // 1. FSPIOP-Source must equal payerFsp exactly (no case folding here).
        ("source is another fsp", |f| f.command.source = fsp("payeefsp"), Err(SourceNotPayer)),
        ("source differs in case only", |f| f.command.source = fsp("PayerFSP"), Err(SourceNotPayer)),
        // 2. Amount precision: at most 18 significant digits including the decimals.
        ("18 integer digits", |f| f.command.amount = amount("123456789012345678"), Ok(())),
        ("14 + 4 digits", |f| f.command.amount = amount("12345678901234.1234"), Ok(())),
        ("15 + 3 digits", |f| f.command.amount = amount("123456789012345.123"), Ok(())),
        ("smallest unit", |f| f.command.amount = amount("0.0001"), Ok(())),
        (
            "15 + 4 digits",
            |f| f.command.amount = amount("123456789012345.1234"),
            Err(AmountPrecision(amount("123456789012345.1234"))),
        ),
        (
            "19 integer digits",
            |f| f.command.amount = Amount::from_whole(1_234_567_890_123_456_789),
            Err(AmountPrecision(Amount::from_whole(1_234_567_890_123_456_789))),
        ),
        // 3./4. Payer, then payee: exists and active.
        ("payer unknown", |f| f.payer = None, Err(ParticipantNotFound(fsp("payerfsp")))),
        ("payer inactive", |f| deactivate(&mut f.payer), Err(ParticipantInactive(fsp("payerfsp")))),
        ("payee unknown", |f| f.payee = None, Err(ParticipantNotFound(fsp("payeefsp")))),
        ("payee inactive", |f| deactivate(&mut f.payee), Err(ParticipantInactive(fsp("payeefsp")))),
        // 5. Condition decodes to 32 bytes; expiration not in the past (now itself is fine).
        ("condition invalid", |f| f.command.condition = None, Err(ConditionInvalid)),
        ("expiration is now", |f| f.command.expiration = NOW, Ok(())),
        ("expiration 1 ms ago", |f| f.command.expiration = NOW.plus_ms(-1), Err(ExpirationInPast(NOW.plus_ms(-1)))),
        ("expiration 1 ms ahead", |f| f.command.expiration = NOW.plus_ms(1), Ok(())),
        // 6. Payer ≠ payee, case-insensitive, unless on-us transfers are enabled.
        ("payer is payee", |f| on_us(f, "payerfsp", false), Err(PayerIsPayee)),
        ("payer is payee in other case", |f| on_us(f, "PAYERFSP", false), Err(PayerIsPayee)),
        ("on-us allowed", |f| on_us(f, "payerfsp", true), Ok(())),
        ("on-us allowed, other case", |f| on_us(f, "PAYERFSP", true), Ok(())),
        ("on-us allowed, different fsps", |f| f.rules.on_us_transfers_allowed = true, Ok(())),
        // 7. The payer's POSITION account in the transfer's currency exists and is active.
        ("payer account missing", |f| f.payer_account = None, Err(AccountNotFound(fsp("payerfsp"), usd()))),
        // 8. The payee's POSITION account too: the commit moves it.
        ("payee account missing", |f| f.payee_account = None, Err(AccountNotFound(fsp("payeefsp"), usd()))),
        (
            "payee account inactive",
            |f| f.payee_account.as_mut().expect("a loaded account").is_active = false,
            Err(AccountInactive(fsp("payeefsp"), usd())),
        ),
        (
            "payer account in another currency",
            |f| edit_account(f, |it| it.currency = currency("EUR")),
            Err(AccountNotFound(fsp("payerfsp"), usd())),
        ),
        (
            "payer account is SETTLEMENT",
            |f| edit_account(f, |it| it.kind = LedgerAccountType::Settlement),
            Err(AccountNotFound(fsp("payerfsp"), usd())),
        ),
        (
            "payer account inactive",
            |f| edit_account(f, |it| it.is_active = false),
            Err(AccountInactive(fsp("payerfsp"), usd())),
        ),
        (
            "inactive account in another currency",
            |f| {
                edit_account(f, |it| it.is_active = false);
                edit_account(f, |it| it.currency = currency("EUR"));
            },
            Err(AccountNotFound(fsp("payerfsp"), usd())),
        ),
    ];
    for (name, edit, expected) in cases {
        check(name, *edit, expected);
    }
}

/// Mojaloop's checks in order, each with an edit that fails only that check. Applying edits
/// `i..` together must report failure `i`: the earliest failing check always wins. (Compared by
/// variant: the on-us edit renames the payee, which the payee's not-found text then names.)
#[test]
fn the_earliest_failing_check_wins() {
    let order: &[(&str, Edit, PrepareFailure)] = &[
        ("source", |f| f.command.source = fsp("otherfsp"), SourceNotPayer),
        (
            "amount",
            |f| f.command.amount = amount("123456789012345.1234"),
            AmountPrecision(amount("123456789012345.1234")),
        ),
        ("payer", |f| deactivate(&mut f.payer), ParticipantInactive(fsp("payerfsp"))),
        ("payee", |f| f.payee = None, ParticipantNotFound(fsp("payeefsp"))),
        ("condition", |f| f.command.condition = None, ConditionInvalid),
        ("expiration", |f| f.command.expiration = NOW.plus_ms(-1000), ExpirationInPast(NOW.plus_ms(-1000))),
        ("on-us", |f| f.command.payee = fsp("PayerFsp"), PayerIsPayee),
        ("account", |f| edit_account(f, |it| it.is_active = false), AccountInactive(fsp("payerfsp"), usd())),
    ];
    for first in 0..order.len() {
        let mut fixture = fixture();
        for (_, edit, _) in &order[first..] {
            edit(&mut fixture);
        }
        let names: Vec<&str> = order[first..].iter().map(|(name, _, _)| *name).collect();
        assert_eq!(failure_kind(&fixture), Some(discriminant(&order[first].2)), "failing: {names:?}");
    }
    // And every pair on its own, in both edit orders.
    for (early, (early_name, early_edit, expected)) in order.iter().enumerate() {
        for (late_name, late_edit, _) in &order[early + 1..] {
            for edits in [[early_edit, late_edit], [late_edit, early_edit]] {
                let mut fixture = fixture();
                edits.iter().for_each(|edit| edit(&mut fixture));
                assert_eq!(failure_kind(&fixture), Some(discriminant(expected)), "{early_name} + {late_name}");
            }
        }
    }
}

#[test]
fn reason_texts_match_central_ledger() {
    let cases = [
        (SourceNotPayer, "FSPIOP-Source header should match Payer"),
        (AmountScale(amount("1.2345")), "Amount 1.2345 exceeds allowed scale of 4"),
        (
            AmountPrecision(amount("123456789012345.1234")),
            "Amount 123456789012345.1234 exceeds allowed precision of 18",
        ),
        (ParticipantNotFound(fsp("payerfsp")), "Participant payerfsp not found"),
        (ParticipantInactive(fsp("payeefsp")), "Participant payeefsp is inactive"),
        (ConditionMissing, "Condition is required for a conditional transfer"),
        (ConditionInvalid, "Condition validation failed"),
        (ExpirationMissing, "Expiration is required for conditional transfer"),
        (ExpirationInPast(NOW), "Expiration date <1700000000000> is already in the past"),
        (
            PayerIsPayee,
            // Mojaloop's own spelling ("tranfers"); TTK compares the text.
            "Payer FSP and Payee FSP should be different, unless on-us tranfers are allowed by the Scheme",
        ),
        (AccountNotFound(fsp("payerfsp"), usd()), "Participant payerfsp USD account not found"),
        (AccountInactive(fsp("payerfsp"), usd()), "Participant payerfsp USD account is inactive"),
    ];
    for (failure, text) in cases {
        assert_eq!(failure.reason(|at| format!("<{}>", at.unix_ms())), text, "{failure:?}");
    }
}

/// Same hash: resend for RESERVED/COMMITTED/ABORTED enumerations, ignore while RECEIVED
/// (central-ledger's `finalizedState` list, which leaves SETTLED out too).
#[test]
fn duplicates_by_stored_hash_and_state() {
    use TransferState::*;
    let same_hash = [
        (ReceivedPrepare, Duplicate::InFlight),
        (Reserved, Duplicate::Resend(Reserved)),
        (ReceivedFulfil, Duplicate::Resend(ReceivedFulfil)),
        (Committed, Duplicate::Resend(Committed)),
        (Failed, Duplicate::Resend(Failed)),
        (ReservedTimeout, Duplicate::Resend(ReservedTimeout)),
        (ReceivedReject, Duplicate::Resend(ReceivedReject)),
        (AbortedRejected, Duplicate::Resend(AbortedRejected)),
        (ReceivedError, Duplicate::Resend(ReceivedError)),
        (AbortedError, Duplicate::Resend(AbortedError)),
        (ExpiredPrepared, Duplicate::Resend(ExpiredPrepared)),
        (ExpiredReserved, Duplicate::Resend(ExpiredReserved)),
        (Invalid, Duplicate::Resend(Invalid)),
        (Settled, Duplicate::InFlight),
    ];
    assert_eq!(same_hash.map(|(state, _)| state), TRANSFER_STATES, "the table covers every state in order");
    let incoming = hash("h1");
    let states = TRANSFER_STATES.iter().copied().map(Some).chain([None]);
    for state in states {
        let expected_same = same_hash.iter().find(|(it, _)| Some(*it) == state).map_or(Duplicate::InFlight, |it| it.1);
        let cases =
            [(None, Duplicate::New), (Some(hash("h1")), expected_same), (Some(hash("h2")), Duplicate::Modified)];
        for (stored, expected) in cases {
            assert_eq!(classify_duplicate(stored.as_ref(), state, &incoming), expected, "stored {stored:?}, {state:?}");
        }
    }
}

/// Validates the fixture after `edit` and compares the outcome.
#[track_caller]
fn check(name: &str, edit: Edit, expected: &Result<(), PrepareFailure>) {
    let mut fixture = fixture();
    edit(&mut fixture);
    assert_eq!(&validate(&fixture), expected, "{name}");
}

fn failure_kind(fixture: &Fixture) -> Option<Discriminant<PrepareFailure>> {
    validate(fixture).err().as_ref().map(discriminant)
}

fn validate(fixture: &Fixture) -> Result<(), PrepareFailure> {
    let context = PrepareContext {
        payer: fixture.payer.as_ref(),
        payee: fixture.payee.as_ref(),
        payer_account: fixture.payer_account.as_ref(),
        payee_account: fixture.payee_account.as_ref(),
        now: NOW,
    };
    validate_prepare(&fixture.command, &context, fixture.rules)
}

fn fixture() -> Fixture {
    Fixture {
        command: PrepareCommand {
            transfer_id: TransferId::parse("b51ec534-ee48-4575-b6a9-ead2955b8069").expect("a uuid"),
            source: fsp("payerfsp"),
            payer: fsp("payerfsp"),
            payee: fsp("payeefsp"),
            amount: amount("100.5"),
            currency: usd(),
            condition: IlpCondition::from_base64url(TTK_CONDITION),
            expiration: NOW.plus_ms(60_000),
        },
        payer: Some(participant(2, "payerfsp")),
        payee: Some(participant(3, "payeefsp")),
        payer_account: Some(Account {
            id: AccountId(7),
            participant: ParticipantId(2),
            currency: usd(),
            kind: LedgerAccountType::Position,
            is_active: true,
        }),
        payee_account: Some(Account {
            id: AccountId(9),
            participant: ParticipantId(3),
            currency: usd(),
            kind: LedgerAccountType::Position,
            is_active: true,
        }),
        rules: PrepareRules { on_us_transfers_allowed: false },
    }
}

/// Makes the transfer on-us: the payee is the payer (named `payee`), loaded as the payer.
fn on_us(fixture: &mut Fixture, payee: &str, allowed: bool) {
    fixture.command.payee = fsp(payee);
    fixture.payee = fixture.payer.clone();
    fixture.payee_account = fixture.payer_account.clone();
    fixture.rules.on_us_transfers_allowed = allowed;
}

fn deactivate(participant: &mut Option<Participant>) {
    participant.as_mut().expect("a loaded participant").is_active = false;
}

fn edit_account(fixture: &mut Fixture, edit: fn(&mut Account)) {
    edit(fixture.payer_account.as_mut().expect("a loaded account"));
}

fn participant(id: u64, name: &str) -> Participant {
    Participant { id: ParticipantId(id), name: fsp(name), is_active: true }
}

fn fsp(name: &str) -> FspId {
    FspId::parse(name).expect("an fsp id")
}

fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a currency")
}

fn usd() -> Currency {
    currency("USD")
}

fn amount(text: &str) -> Amount {
    Amount::parse_fspiop(text).expect("an amount")
}

fn hash(text: &str) -> RequestHash {
    RequestHash::new(text.to_string())
}
