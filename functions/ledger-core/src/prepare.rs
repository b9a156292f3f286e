//! Prepare decisions: the duplicate check on the request hash and the validations central-ledger
//! runs before a transfer is persisted, in its order.

use crate::account::{Account, LedgerAccountType, Participant};
use crate::amount::{Amount, AMOUNT_PRECISION, AMOUNT_SCALE};
use crate::condition::IlpCondition;
use crate::currency::Currency;
use crate::ids::{FspId, TransferId};
use crate::rejection::PrepareFailure;
use crate::state::{TransferState, TransferStateEnum};
use crate::time::Timestamp;

/// A request body's duplicate-check hash (base64 SHA-256 of the body, as Mojaloop computes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestHash(String);

impl RequestHash {
    /// Wraps an already computed hash; the wire crate computes it from the body.
    pub fn new(hash: String) -> RequestHash {
        RequestHash(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to do with a request whose id may have been seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// First time: process it.
    New,
    /// Same id, different body: 3106 to the sender.
    Modified,
    /// Same id and body, and the transfer is RESERVED, COMMITTED or ABORTED: resend its state.
    Resend(TransferState),
    /// Same id and body, and the transfer is still RECEIVED (or not stored yet, or SETTLED,
    /// which central-ledger does not resend either): do nothing.
    InFlight,
}

/// Classifies a request against the stored hash of the same id and the transfer's state.
pub fn classify_duplicate(
    stored: Option<&RequestHash>,
    state: Option<TransferState>,
    incoming: &RequestHash,
) -> Duplicate {
    match (stored, state) {
        (None, _) => Duplicate::New,
        (Some(stored), _) if stored != incoming => Duplicate::Modified,
        (Some(_), Some(state))
            if matches!(
                state.enumeration(),
                TransferStateEnum::Reserved | TransferStateEnum::Committed | TransferStateEnum::Aborted
            ) =>
        {
            Duplicate::Resend(state)
        }
        (Some(_), _) => Duplicate::InFlight,
    }
}

/// A transfer prepare as the ledger sees it, already parsed from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareCommand {
    pub transfer_id: TransferId,
    /// The FSPIOP-Source header.
    pub source: FspId,
    pub payer: FspId,
    pub payee: FspId,
    pub amount: Amount,
    pub currency: Currency,
    /// `None` when the condition text does not decode to 32 bytes.
    pub condition: Option<IlpCondition>,
    pub expiration: Timestamp,
}

/// Scheme switches that change prepare validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepareRules {
    /// `ENABLE_ON_US_TRANSFERS`: allow payer == payee.
    pub on_us_transfers_allowed: bool,
}

/// The reference data a prepare is validated against.
#[derive(Debug, Clone, Copy)]
pub struct PrepareContext<'a> {
    pub payer: Option<&'a Participant>,
    pub payee: Option<&'a Participant>,
    /// The payer's POSITION account in the transfer's currency.
    pub payer_account: Option<&'a Account>,
    /// The payee's POSITION account in the transfer's currency: the commit moves it, so a
    /// transfer to a payee without one is refused up front (central-ledger's
    /// `PAYEE_PARTICIPANT_CURRENCY_VALIDATION_ENABLED`, always on here).
    pub payee_account: Option<&'a Account>,
    pub now: Timestamp,
}

/// Runs central-ledger's prepare validations in order; the first failure wins.
pub fn validate_prepare(
    command: &PrepareCommand,
    context: &PrepareContext<'_>,
    rules: PrepareRules,
) -> Result<(), PrepareFailure> {
    if command.source != command.payer {
        return Err(PrepareFailure::SourceNotPayer);
    }
    validate_amount(command.amount)?;
    validate_participant(&command.payer, context.payer)?;
    validate_participant(&command.payee, context.payee)?;
    if command.condition.is_none() {
        return Err(PrepareFailure::ConditionInvalid);
    }
    if command.expiration < context.now {
        return Err(PrepareFailure::ExpirationInPast(command.expiration));
    }
    if !rules.on_us_transfers_allowed && command.payer.eq_ignore_case(&command.payee) {
        return Err(PrepareFailure::PayerIsPayee);
    }
    validate_account(&command.payer, command.currency, context.payer_account)?;
    validate_account(&command.payee, command.currency, context.payee_account)
}

fn validate_amount(amount: Amount) -> Result<(), PrepareFailure> {
    if AMOUNT_SCALE < amount.scale_used() {
        return Err(PrepareFailure::AmountScale(amount));
    }
    if AMOUNT_PRECISION < amount.precision_used() {
        return Err(PrepareFailure::AmountPrecision(amount));
    }
    Ok(())
}

fn validate_participant(name: &FspId, participant: Option<&Participant>) -> Result<(), PrepareFailure> {
    match participant {
        None => Err(PrepareFailure::ParticipantNotFound(name.clone())),
        Some(it) if !it.is_active => Err(PrepareFailure::ParticipantInactive(name.clone())),
        Some(_) => Ok(()),
    }
}

fn validate_account(fsp: &FspId, currency: Currency, account: Option<&Account>) -> Result<(), PrepareFailure> {
    let not_found = PrepareFailure::AccountNotFound(fsp.clone(), currency);
    match account {
        None => Err(not_found),
        Some(it) if it.kind != LedgerAccountType::Position || it.currency != currency => Err(not_found),
        Some(it) if !it.is_active => Err(PrepareFailure::AccountInactive(fsp.clone(), currency)),
        Some(_) => Ok(()),
    }
}
