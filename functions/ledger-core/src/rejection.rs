//! Every business rejection the ledger can decide, as one closed enum.
//!
//! The edge maps each variant to its FSPIOP error code and HTTP status in exactly one place
//! (the `fspiop` crate); the core only says what went wrong.

use crate::amount::Amount;
use crate::currency::Currency;
use crate::ids::FspId;
use crate::state::TransferState;
use crate::time::Timestamp;

/// A decision not to do what a message asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A prepare failed validation; the payer gets 3100 with this reason.
    PrepareInvalid(PrepareFailure),
    /// Same transfer id, different body hash (3106).
    ModifiedRequest,
    /// The payer's liquidity cover cannot hold the amount (4001).
    PayerInsufficientLiquidity,
    /// The payer's net debit cap cannot hold the amount (4200).
    PayerLimitExceeded,
    /// A position message found its transfer in an unexpected state (2001).
    IncorrectState { found: Option<TransferState>, expected: TransferState },
    /// A fulfil named a transfer the ledger does not have (2001).
    TransferNotFound,
    /// A fulfil or error came from someone other than the payee (3100).
    SourceNotPayee,
    /// A fulfil or error was addressed to someone other than the payer (3100).
    DestinationNotPayer,
    /// The fulfilment is missing or does not hash to the condition (3100).
    InvalidFulfilment,
    /// A fulfil arrived for a transfer that is not RESERVED (3100).
    NotReserved,
    /// The transfer's expiration has passed (3303).
    TransferExpired,
}

/// Why a prepare is invalid, in the order the checks run; the first failure wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrepareFailure {
    SourceNotPayer,
    AmountScale(Amount),
    AmountPrecision(Amount),
    ParticipantNotFound(FspId),
    ParticipantInactive(FspId),
    ConditionMissing,
    ConditionInvalid,
    ExpirationMissing,
    ExpirationInPast(Timestamp),
    PayerIsPayee,
    AccountNotFound(FspId, Currency),
    AccountInactive(FspId, Currency),
}

impl PrepareFailure {
    /// The reason text central-ledger records and sends after "Generic validation error - ".
    /// Timestamps are left to the edge to format, so this takes the formatted expiration.
    pub fn reason(&self, format_time: impl Fn(Timestamp) -> String) -> String {
        match self {
            PrepareFailure::SourceNotPayer => "FSPIOP-Source header should match Payer".to_string(),
            PrepareFailure::AmountScale(amount) => {
                format!("Amount {amount} exceeds allowed scale of {}", crate::amount::AMOUNT_SCALE)
            }
            PrepareFailure::AmountPrecision(amount) => {
                format!("Amount {amount} exceeds allowed precision of {}", crate::amount::AMOUNT_PRECISION)
            }
            PrepareFailure::ParticipantNotFound(fsp) => format!("Participant {fsp} not found"),
            PrepareFailure::ParticipantInactive(fsp) => format!("Participant {fsp} is inactive"),
            PrepareFailure::ConditionMissing => "Condition is required for a conditional transfer".to_string(),
            PrepareFailure::ConditionInvalid => "Condition validation failed".to_string(),
            PrepareFailure::ExpirationMissing => "Expiration is required for conditional transfer".to_string(),
            PrepareFailure::ExpirationInPast(at) => {
                format!("Expiration date {} is already in the past", format_time(*at))
            }
            PrepareFailure::PayerIsPayee => {
                "Payer FSP and Payee FSP should be different, unless on-us tranfers are allowed by the Scheme"
                    .to_string()
            }
            PrepareFailure::AccountNotFound(fsp, currency) => format!("Participant {fsp} {currency} account not found"),
            PrepareFailure::AccountInactive(fsp, currency) => {
                format!("Participant {fsp} {currency} account is inactive")
            }
        }
    }
}
