//! Fulfil decisions: what the ledger does with a payee's PUT /transfers/{id} or PUT .../error,
//! in central-ledger's order: exists, route (source, then destination), duplicate, fulfilment,
//! RESERVED, not expired.
//!
//! One deliberate difference from central-ledger: an answer whose FSPIOP-Source is not the
//! transfer's payee (another DFSP, or the payer) is refused to its sender and changes nothing.
//! central-ledger aborts the RESERVED transfer instead, so anyone could abort anyone's transfer.
//! A payee's own answer addressed to someone other than the payer still aborts it, as in
//! Mojaloop (TTK bug fix #2697).

use crate::condition::{IlpCondition, IlpFulfilment};
use crate::ids::FspId;
use crate::position::PositionAction;
use crate::prepare::{classify_duplicate, Duplicate, RequestHash};
use crate::rejection::Rejection;
use crate::state::TransferState;
use crate::time::Timestamp;

/// What the payee's message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfilKind {
    /// `transferState: COMMITTED` (or anything but RESERVED/ABORTED).
    Commit { fulfilment: Option<IlpFulfilment> },
    /// `transferState: RESERVED`: commit, then PATCH the payee (v1.1 and later only).
    Reserve { fulfilment: Option<IlpFulfilment> },
    /// `transferState: ABORTED` on PUT /transfers/{id} (or an answer the API version cannot
    /// take, such as RESERVED under 1.0): accepted by the API, dropped here.
    Reject,
    /// PUT /transfers/{id}/error.
    Abort,
}

/// The payee's message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilCommand {
    pub source: FspId,
    pub destination: Option<FspId>,
    pub kind: FulfilKind,
    pub hash: RequestHash,
}

/// The stored transfer a fulfil is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfilTarget {
    pub payer: FspId,
    pub payee: FspId,
    pub condition: IlpCondition,
    pub expiration: Timestamp,
    pub state: TransferState,
    /// The hash stored for an earlier fulfil (for commit/reserve) or error (for abort).
    pub stored_hash: Option<RequestHash>,
}

/// What the ledger does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FulfilDecision {
    /// The payee's `Reject`: drop it without a callback, as Mojaloop does.
    Drop,
    /// A copy of an answer already recorded, not answered again: write nothing (while the
    /// transfer is in flight the caller sends the recorded step on again, in case this is a
    /// redelivery).
    Ignore,
    /// Tell the sender and change nothing.
    RejectToSender(Rejection),
    /// Resend the transfer's current state to the sender (duplicate of a finished fulfil).
    Resend(TransferState),
    /// Record the state and send the position message (commit/reserve to the payee's account,
    /// abort to the payer's). `rejection` is set when the ledger itself aborts the transfer.
    Proceed { state: TransferState, position: PositionAction, rejection: Option<Rejection> },
}

/// Decides a fulfil; `None` target means the transfer is unknown.
pub fn decide_fulfil(target: Option<&FulfilTarget>, command: &FulfilCommand, now: Timestamp) -> FulfilDecision {
    let target = match target {
        Some(target) => target,
        None => return FulfilDecision::RejectToSender(Rejection::TransferNotFound),
    };
    // Before the duplicate check, so a non-payee neither stores a hash that would make the
    // payee's own answer a "modified request" nor gets the state and fulfilment resent by
    // replaying the payee's body; and before anything that would abort the transfer.
    if !command.source.eq_ignore_case(&target.payee) {
        return FulfilDecision::RejectToSender(Rejection::SourceNotPayee);
    }
    if command.kind == FulfilKind::Reject {
        return FulfilDecision::Drop;
    }
    if let Some(rejection) = destination_mismatch(target, command) {
        return abort_by_ledger(target, rejection);
    }
    match classify_duplicate(target.stored_hash.as_ref(), Some(target.state), &command.hash) {
        Duplicate::New => (),
        Duplicate::Modified => return FulfilDecision::RejectToSender(Rejection::ModifiedRequest),
        Duplicate::Resend(state) if target.state.is_final() => return FulfilDecision::Resend(state),
        Duplicate::Resend(_) | Duplicate::InFlight => return FulfilDecision::Ignore,
    }
    decide_new_fulfil(target, command, now)
}

fn decide_new_fulfil(target: &FulfilTarget, command: &FulfilCommand, now: Timestamp) -> FulfilDecision {
    let (fulfilment, position) = match command.kind {
        FulfilKind::Commit { fulfilment } => (fulfilment, PositionAction::Commit),
        FulfilKind::Reserve { fulfilment } => (fulfilment, PositionAction::Reserve),
        FulfilKind::Abort => return decide_abort(target, now),
        FulfilKind::Reject => return FulfilDecision::Drop,
    };
    let valid = fulfilment.is_some_and(|it| it.satisfies(&target.condition));
    if !valid {
        return abort_by_ledger(target, Rejection::InvalidFulfilment);
    }
    if target.state != TransferState::Reserved {
        return FulfilDecision::RejectToSender(Rejection::NotReserved);
    }
    if target.expiration <= now {
        return FulfilDecision::RejectToSender(Rejection::TransferExpired);
    }
    FulfilDecision::Proceed { state: TransferState::ReceivedFulfil, position, rejection: None }
}

/// PUT /error skips the fulfilment check but not the RESERVED and expiry checks.
fn decide_abort(target: &FulfilTarget, now: Timestamp) -> FulfilDecision {
    if target.state != TransferState::Reserved {
        return FulfilDecision::RejectToSender(Rejection::NotReserved);
    }
    if target.expiration <= now {
        return FulfilDecision::RejectToSender(Rejection::TransferExpired);
    }
    FulfilDecision::Proceed { state: TransferState::ReceivedError, position: PositionAction::Abort, rejection: None }
}

/// The payee addressed its answer to someone other than the payer (TTK bug fix #2697).
fn destination_mismatch(target: &FulfilTarget, command: &FulfilCommand) -> Option<Rejection> {
    assert!(command.source.eq_ignore_case(&target.payee), "only the payee's answer reaches the destination check");
    match &command.destination {
        Some(destination) if !destination.eq_ignore_case(&target.payer) => Some(Rejection::DestinationNotPayer),
        _ => None,
    }
}

/// The ledger aborts a reserved transfer itself (the payee's answer misaddressed, or its
/// fulfilment wrong). A transfer that
/// is no longer RESERVED is left alone: only the sender hears about it.
fn abort_by_ledger(target: &FulfilTarget, rejection: Rejection) -> FulfilDecision {
    match target.state {
        TransferState::Reserved => FulfilDecision::Proceed {
            state: TransferState::ReceivedError,
            position: PositionAction::AbortValidation,
            rejection: Some(rejection),
        },
        _ => FulfilDecision::RejectToSender(rejection),
    }
}
