//! Transfer states: the internal states of the insert-only state journal, their API
//! enumeration, and which transitions the ledger allows.

/// An internal transfer state (`transferState.transferStateId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransferState {
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
}

/// The FSPIOP `TransferState` enumeration a DFSP sees (plus `SETTLED` for gross settlement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferStateEnum {
    Received,
    Reserved,
    Committed,
    Aborted,
    Settled,
}

/// Every internal state, in declaration order.
pub const TRANSFER_STATES: [TransferState; 14] = [
    TransferState::ReceivedPrepare,
    TransferState::Reserved,
    TransferState::ReceivedFulfil,
    TransferState::Committed,
    TransferState::Failed,
    TransferState::ReservedTimeout,
    TransferState::ReceivedReject,
    TransferState::AbortedRejected,
    TransferState::ReceivedError,
    TransferState::AbortedError,
    TransferState::ExpiredPrepared,
    TransferState::ExpiredReserved,
    TransferState::Invalid,
    TransferState::Settled,
];

impl TransferState {
    /// The Mojaloop `transferStateId` text, which is also what the stores persist.
    pub fn name(self) -> &'static str {
        match self {
            TransferState::ReceivedPrepare => "RECEIVED_PREPARE",
            TransferState::Reserved => "RESERVED",
            TransferState::ReceivedFulfil => "RECEIVED_FULFIL",
            TransferState::Committed => "COMMITTED",
            TransferState::Failed => "FAILED",
            TransferState::ReservedTimeout => "RESERVED_TIMEOUT",
            TransferState::ReceivedReject => "RECEIVED_REJECT",
            TransferState::AbortedRejected => "ABORTED_REJECTED",
            TransferState::ReceivedError => "RECEIVED_ERROR",
            TransferState::AbortedError => "ABORTED_ERROR",
            TransferState::ExpiredPrepared => "EXPIRED_PREPARED",
            TransferState::ExpiredReserved => "EXPIRED_RESERVED",
            TransferState::Invalid => "INVALID",
            TransferState::Settled => "SETTLED",
        }
    }

    pub fn from_name(name: &str) -> Option<TransferState> {
        TRANSFER_STATES.iter().copied().find(|it| it.name() == name)
    }

    /// The API enumeration of an internal state (central-ledger `transferState.enumeration`).
    pub fn enumeration(self) -> TransferStateEnum {
        match self {
            TransferState::ReceivedPrepare => TransferStateEnum::Received,
            TransferState::Reserved
            | TransferState::ReceivedFulfil
            | TransferState::ReservedTimeout
            | TransferState::ReceivedReject
            | TransferState::ReceivedError => TransferStateEnum::Reserved,
            TransferState::Committed => TransferStateEnum::Committed,
            TransferState::Failed
            | TransferState::AbortedRejected
            | TransferState::AbortedError
            | TransferState::ExpiredPrepared
            | TransferState::ExpiredReserved
            | TransferState::Invalid => TransferStateEnum::Aborted,
            TransferState::Settled => TransferStateEnum::Settled,
        }
    }

    /// Whether no further state change can follow (gross settlement aside).
    pub fn is_final(self) -> bool {
        matches!(
            self.enumeration(),
            TransferStateEnum::Committed | TransferStateEnum::Aborted | TransferStateEnum::Settled
        )
    }

    /// Whether the payer's position currently holds this transfer's amount.
    pub fn holds_payer_reservation(self) -> bool {
        matches!(
            self,
            TransferState::Reserved
                | TransferState::ReceivedFulfil
                | TransferState::ReservedTimeout
                | TransferState::ReceivedReject
                | TransferState::ReceivedError
        )
    }

    /// The internal state machine (central-ledger `transfer-internal-states`).
    pub fn can_become(self, next: TransferState) -> bool {
        use TransferState::*;
        matches!(
            (self, next),
            (ReceivedPrepare, Reserved | AbortedRejected | ExpiredPrepared)
                | (Reserved, ReceivedFulfil | ReceivedError | ReceivedReject | ReservedTimeout)
                | (ReceivedFulfil, Committed)
                | (ReceivedError, AbortedError)
                | (ReceivedReject, AbortedRejected)
                | (ReservedTimeout, ExpiredReserved)
                | (Committed, Settled)
        )
    }

    /// A transfer's first state: accepted for processing, or recorded as invalid.
    pub fn is_initial(self) -> bool {
        matches!(self, TransferState::ReceivedPrepare | TransferState::Invalid)
    }
}

impl TransferStateEnum {
    pub fn name(self) -> &'static str {
        match self {
            TransferStateEnum::Received => "RECEIVED",
            TransferStateEnum::Reserved => "RESERVED",
            TransferStateEnum::Committed => "COMMITTED",
            TransferStateEnum::Aborted => "ABORTED",
            TransferStateEnum::Settled => "SETTLED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransferState::*;

    #[test]
    fn names_round_trip() {
        for state in TRANSFER_STATES {
            assert_eq!(TransferState::from_name(state.name()), Some(state));
        }
        assert_eq!(TransferState::from_name("received_prepare"), None);
    }

    #[test]
    fn enumerations_follow_the_central_ledger_seed() {
        let table = [
            (ReceivedPrepare, "RECEIVED"),
            (Reserved, "RESERVED"),
            (ReceivedFulfil, "RESERVED"),
            (Committed, "COMMITTED"),
            (Failed, "ABORTED"),
            (ReservedTimeout, "RESERVED"),
            (ReceivedReject, "RESERVED"),
            (AbortedRejected, "ABORTED"),
            (ReceivedError, "RESERVED"),
            (AbortedError, "ABORTED"),
            (ExpiredPrepared, "ABORTED"),
            (ExpiredReserved, "ABORTED"),
            (Invalid, "ABORTED"),
            (Settled, "SETTLED"),
        ];
        for (state, enumeration) in table {
            assert_eq!(state.enumeration().name(), enumeration, "{state:?}");
        }
    }

    #[test]
    fn transitions_follow_the_internal_state_diagram() {
        let allowed = [
            (ReceivedPrepare, Reserved),
            (ReceivedPrepare, AbortedRejected),
            (ReceivedPrepare, ExpiredPrepared),
            (Reserved, ReceivedFulfil),
            (Reserved, ReceivedError),
            (Reserved, ReceivedReject),
            (Reserved, ReservedTimeout),
            (ReceivedFulfil, Committed),
            (ReceivedError, AbortedError),
            (ReceivedReject, AbortedRejected),
            (ReservedTimeout, ExpiredReserved),
            (Committed, Settled),
        ];
        for from in TRANSFER_STATES {
            for to in TRANSFER_STATES {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn final_states_have_no_successor_but_settlement() {
        for state in TRANSFER_STATES {
            let successors: Vec<_> = TRANSFER_STATES.iter().filter(|it| state.can_become(**it)).collect();
            if state.is_final() && state != Committed {
                assert!(successors.is_empty(), "{state:?}");
            }
            if !state.is_final() {
                assert!(!successors.is_empty(), "{state:?}");
            }
        }
    }
}
