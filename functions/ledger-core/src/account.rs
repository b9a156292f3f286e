//! Participants, their per-currency accounts, limits and the reference enumerations that
//! classify accounts, ledger entries and participant roles.

use crate::amount::Amount;
use crate::currency::Currency;
use crate::ids::{AccountId, FspId, ParticipantId};

/// The name of the Hub participant that owns the hub accounts and signs hub-made messages.
pub const HUB_NAME: &str = "Hub";

/// `ledgerAccountType`: what an account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerAccountType {
    /// The DFSP's net debit position from transfers.
    Position,
    /// The DFSP's liquidity: funded accounts are negative.
    Settlement,
    /// The Hub's counter-account for funds in and out.
    HubReconciliation,
    /// The Hub's counter-account for multilateral net settlement.
    HubMultilateralSettlement,
    InterchangeFee,
    InterchangeFeeSettlement,
}

pub const LEDGER_ACCOUNT_TYPES: [LedgerAccountType; 6] = [
    LedgerAccountType::Position,
    LedgerAccountType::Settlement,
    LedgerAccountType::HubReconciliation,
    LedgerAccountType::HubMultilateralSettlement,
    LedgerAccountType::InterchangeFee,
    LedgerAccountType::InterchangeFeeSettlement,
];

impl LedgerAccountType {
    /// The central-ledger id, which the admin API's `/enums` exposes.
    pub fn id(self) -> u8 {
        match self {
            LedgerAccountType::Position => 1,
            LedgerAccountType::Settlement => 2,
            LedgerAccountType::HubReconciliation => 3,
            LedgerAccountType::HubMultilateralSettlement => 4,
            LedgerAccountType::InterchangeFee => 5,
            LedgerAccountType::InterchangeFeeSettlement => 6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LedgerAccountType::Position => "POSITION",
            LedgerAccountType::Settlement => "SETTLEMENT",
            LedgerAccountType::HubReconciliation => "HUB_RECONCILIATION",
            LedgerAccountType::HubMultilateralSettlement => "HUB_MULTILATERAL_SETTLEMENT",
            LedgerAccountType::InterchangeFee => "INTERCHANGE_FEE",
            LedgerAccountType::InterchangeFeeSettlement => "INTERCHANGE_FEE_SETTLEMENT",
        }
    }

    pub fn from_name(name: &str) -> Option<LedgerAccountType> {
        LEDGER_ACCOUNT_TYPES.iter().copied().find(|it| it.name() == name)
    }

    pub fn from_id(id: u8) -> Option<LedgerAccountType> {
        LEDGER_ACCOUNT_TYPES.iter().copied().find(|it| it.id() == id)
    }

    /// Whether the account belongs to the Hub rather than a DFSP.
    pub fn is_hub_account(self) -> bool {
        matches!(self, LedgerAccountType::HubReconciliation | LedgerAccountType::HubMultilateralSettlement)
    }
}

/// `ledgerEntryType`: why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LedgerEntryType {
    PrincipleValue,
    SettlementNetRecipient,
    SettlementNetSender,
    SettlementNetZero,
    RecordFundsIn,
    RecordFundsOut,
}

impl LedgerEntryType {
    pub fn id(self) -> u8 {
        match self {
            LedgerEntryType::PrincipleValue => 1,
            LedgerEntryType::SettlementNetRecipient => 6,
            LedgerEntryType::SettlementNetSender => 7,
            LedgerEntryType::SettlementNetZero => 8,
            LedgerEntryType::RecordFundsIn => 9,
            LedgerEntryType::RecordFundsOut => 10,
        }
    }

    pub fn from_id(id: u8) -> Option<LedgerEntryType> {
        [
            LedgerEntryType::PrincipleValue,
            LedgerEntryType::SettlementNetRecipient,
            LedgerEntryType::SettlementNetSender,
            LedgerEntryType::SettlementNetZero,
            LedgerEntryType::RecordFundsIn,
            LedgerEntryType::RecordFundsOut,
        ]
        .into_iter()
        .find(|it| it.id() == id)
    }
}

/// `transferParticipantRoleType`: a party's role in a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParticipantRole {
    PayerDfsp,
    PayeeDfsp,
    Hub,
    DfspSettlement,
    DfspPosition,
}

impl ParticipantRole {
    pub fn id(self) -> u8 {
        match self {
            ParticipantRole::PayerDfsp => 1,
            ParticipantRole::PayeeDfsp => 2,
            ParticipantRole::Hub => 3,
            ParticipantRole::DfspSettlement => 4,
            ParticipantRole::DfspPosition => 5,
        }
    }

    pub fn from_id(id: u8) -> Option<ParticipantRole> {
        [
            ParticipantRole::PayerDfsp,
            ParticipantRole::PayeeDfsp,
            ParticipantRole::Hub,
            ParticipantRole::DfspSettlement,
            ParticipantRole::DfspPosition,
        ]
        .into_iter()
        .find(|it| it.id() == id)
    }
}

/// A participant of the scheme: a DFSP, or the Hub itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub id: ParticipantId,
    pub name: FspId,
    pub is_active: bool,
}

impl Participant {
    pub fn is_hub(&self) -> bool {
        self.name.as_str() == HUB_NAME
    }
}

/// A participant-currency account (`participantCurrency`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub participant: ParticipantId,
    pub currency: Currency,
    pub kind: LedgerAccountType,
    pub is_active: bool,
}

/// The only limit type Mojaloop enforces: how far a DFSP's position may go into debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetDebitCap(Amount);

impl NetDebitCap {
    /// A cap is never negative (the admin API rejects `value < 0`).
    pub fn new(value: Amount) -> Option<NetDebitCap> {
        match value.is_negative() {
            true => None,
            false => Some(NetDebitCap(value)),
        }
    }

    pub fn value(self) -> Amount {
        self.0
    }
}
