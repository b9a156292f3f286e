//! Deferred net settlement: settlement states, the aggregation of a closed window per account,
//! net amounts, the per-account state steps with their roll-up, and the position resets against
//! the Hub's HUB_MULTILATERAL_SETTLEMENT account (central-settlement, mojaloop.md §5).

use std::fmt;

/// The ledger's key of a settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SettlementId(pub u64);

/// The ledger's key of a settlement window's content (one account type and currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentId(pub u64);

impl fmt::Display for SettlementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `settlementState`, for a settlement and for each of its accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SettlementState {
    PendingSettlement,
    PsTransfersRecorded,
    PsTransfersReserved,
    PsTransfersCommitted,
    Settling,
    Settled,
    Aborted,
}

pub const SETTLEMENT_STATES: [SettlementState; 7] = [
    SettlementState::PendingSettlement,
    SettlementState::PsTransfersRecorded,
    SettlementState::PsTransfersReserved,
    SettlementState::PsTransfersCommitted,
    SettlementState::Settling,
    SettlementState::Settled,
    SettlementState::Aborted,
];

impl SettlementState {
    pub fn name(self) -> &'static str {
        match self {
            SettlementState::PendingSettlement => "PENDING_SETTLEMENT",
            SettlementState::PsTransfersRecorded => "PS_TRANSFERS_RECORDED",
            SettlementState::PsTransfersReserved => "PS_TRANSFERS_RESERVED",
            SettlementState::PsTransfersCommitted => "PS_TRANSFERS_COMMITTED",
            SettlementState::Settling => "SETTLING",
            SettlementState::Settled => "SETTLED",
            SettlementState::Aborted => "ABORTED",
        }
    }

    pub fn from_name(name: &str) -> Option<SettlementState> {
        SETTLEMENT_STATES.iter().copied().find(|it| it.name() == name)
    }
}
