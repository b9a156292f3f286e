//! Every business rejection the ledger can decide, as one closed enum.
//!
//! The edge maps each variant to its FSPIOP error code and HTTP status in exactly one place
//! (the `fspiop` crate); the core only says what went wrong.

use crate::account::LedgerAccountType;
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
    /// A fulfil or error came from someone other than the payee (3100); only the sender hears
    /// of it, the transfer is left as it is.
    SourceNotPayee,
    /// A fulfil or error was addressed to someone other than the payer (3100).
    DestinationNotPayer,
    /// The fulfilment is missing or does not hash to the condition (3100).
    InvalidFulfilment,
    /// A fulfil arrived for a transfer that is not RESERVED (3100).
    NotReserved,
    /// The transfer's expiration has passed (3303).
    TransferExpired,
    /// An operator's admin API request the ledger refuses.
    Admin(AdminRefusal),
    /// A settlement API request the ledger refuses.
    Settlement(SettlementRefusal),
}

/// Why the admin API refuses a request (central-ledger's domain errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRefusal {
    /// No participant of that name (3200).
    ParticipantNotFound,
    /// No such account of the participant (3200).
    AccountNotFound,
    /// The Hub lacks an account of this type in the currency (3003).
    HubAccountMissing(LedgerAccountType),
    /// The participant already has accounts in the currency (3000).
    CurrencyAlreadyRegistered,
    /// No settlement model covers the currency (6000).
    NoSettlementModel,
    /// initialPositionAndLimits was already done for the currency (2001).
    LimitOrPositionAlreadySet,
    /// The participant has no position account or limit in the currency (3200).
    NoLimitForCurrency,
    /// Only the Hub has hub accounts, only of the hub types (3003).
    NotHubAccountType,
    /// The Hub already has that account (3003).
    HubAccountExists,
    /// Only POSITION accounts are (de)activated through the API (3000).
    OnlyPositionAccountUpdate,
    /// Funds move only on an active SETTLEMENT account (2001 / 3000).
    NotSettlementAccount,
    AccountInactive,
    ParticipantInactive,
    /// The account's currency is not the amount's (3000).
    CurrencyMismatch,
    /// A settlement model with that name exists (3000).
    ModelExists,
    /// Another model covers the currency and account type (3000).
    ModelConflict,
    /// Not one of Mojaloop's four valid model combinations (3000).
    InvalidModel,
    /// No settlement model of that name (3200).
    ModelNotFound,
    /// The Hub participant cannot be changed through this route (3000).
    HubNotModifiable,
    /// No ledger account type of that name (3003).
    LedgerAccountTypeNotFound,
}

/// Why the settlement API refuses a request (central-settlement's domain errors, 3100 unless
/// noted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementRefusal {
    /// Ids are as the request gave them: the API takes zero and negative ids, which are not found.
    WindowNotFound(i64),
    WindowNotOpen(u64),
    WindowEmpty(u64),
    ModelNotFound,
    /// The model is gross or immediate: windows settle only under deferred net models.
    ModelNotDeferredNet,
    /// A window has no content the model could settle (or is in the wrong state).
    InapplicableWindows(Vec<i64>),
    SettlementNotFound(i64),
    /// The abort comes too late (accounts committed or settled).
    AbortNotAllowed(&'static str),
    /// Nothing matches the filters of a list request.
    NoMatch(String),
}

impl AdminRefusal {
    /// The detail after the error code's message.
    pub fn reason(&self) -> String {
        let text = match self {
            AdminRefusal::ParticipantNotFound => "The requested resource could not be found.",
            AdminRefusal::AccountNotFound => "Account not found",
            AdminRefusal::HubAccountMissing(LedgerAccountType::HubMultilateralSettlement) => {
                "Hub multilateral net settlement account for the specified currency does not exist"
            }
            AdminRefusal::HubAccountMissing(_) => {
                "Hub reconciliation account for the specified currency does not exist"
            }
            AdminRefusal::CurrencyAlreadyRegistered => "Participant currency has already been registered",
            AdminRefusal::NoSettlementModel => "Unable to find a matching or default, Settlement Model",
            AdminRefusal::LimitOrPositionAlreadySet => "Participant Limit or Initial Position already set",
            AdminRefusal::NoLimitForCurrency => "Participant currency/limit does not exist",
            AdminRefusal::NotHubAccountType => "The requested hub operator account type is not allowed",
            AdminRefusal::HubAccountExists => "Hub account has already been registered",
            AdminRefusal::OnlyPositionAccountUpdate => "Only position account update is permitted",
            AdminRefusal::NotSettlementAccount => "Account is not SETTLEMENT type",
            AdminRefusal::AccountInactive => "Account is currently set inactive",
            AdminRefusal::ParticipantInactive => "Participant is currently set inactive",
            AdminRefusal::CurrencyMismatch => "Account currency does not match the amount currency",
            AdminRefusal::ModelExists => "Settlement Model already exists",
            AdminRefusal::ModelConflict => "Settlement Model for this currency and ledger account type already exists",
            AdminRefusal::InvalidModel => "Invalid settlement model definition",
            AdminRefusal::ModelNotFound => "Settlement Model not found",
            AdminRefusal::HubNotModifiable => "The Hub participant cannot be modified",
            AdminRefusal::LedgerAccountTypeNotFound => "Ledger account type was not found",
        };
        text.to_string()
    }
}

impl SettlementRefusal {
    /// The detail after "Generic validation error - ".
    pub fn reason(&self) -> String {
        match self {
            SettlementRefusal::WindowNotFound(id) => format!("settlementWindowId: {id} not found"),
            SettlementRefusal::WindowNotOpen(id) => format!("Window {id} is not open"),
            SettlementRefusal::WindowEmpty(id) => format!("Window {id} is empty"),
            SettlementRefusal::ModelNotFound => "Settlement model not found".to_string(),
            SettlementRefusal::ModelNotDeferredNet => "Settlement model must be deferred net".to_string(),
            SettlementRefusal::InapplicableWindows(ids) => {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("Inapplicable windows {}", ids.join(", "))
            }
            SettlementRefusal::SettlementNotFound(id) => format!("Settlement {id} not found"),
            SettlementRefusal::AbortNotAllowed(why) => why.to_string(),
            SettlementRefusal::NoMatch(what) => what.clone(),
        }
    }
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
