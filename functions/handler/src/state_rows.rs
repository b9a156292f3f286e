//! The rows one transaction appends to transfers' state journals (`transfer_state_change`) and
//! to their errors, built in one place so that the `seq` bookkeeping is written once.
//!
//! A transfer's journal is keyed by `(transfer_id, seq)` and insert-only: a second writer of the
//! same step collides instead of doubling it. So each new row must take the next `seq` exactly:
//! one more than the transfer's stored latest (or than the row this batch appended before it,
//! when one batch moves the same transfer twice). [`StateRows::push`] gives it, and asserts
//! that it grows by one.

use std::collections::HashMap;

use fspiop::FspiopError;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{NewStateChange, NewTransferError};

/// The `seq` of a transfer's first state, which `LedgerTx::insert_transfers` writes with the
/// transfer itself.
pub const FIRST_STATE_SEQ: u32 = 1;

/// State changes and errors to insert, with each transfer's latest `seq` so far.
#[derive(Debug, Default)]
pub struct StateRows {
    latest_seq: HashMap<TransferId, u32>,
    states: Vec<NewStateChange>,
    errors: Vec<NewTransferError>,
}

impl StateRows {
    /// Appends `state` to the journal of `id`, whose latest stored row has `stored_seq`
    /// ([`FIRST_STATE_SEQ`] for a transfer this batch inserts); returns the new row's `seq`.
    pub fn push(
        &mut self,
        id: &TransferId,
        stored_seq: u32,
        state: TransferState,
        reason: Option<String>,
        now: Timestamp,
    ) -> u32 {
        let latest = match self.latest_seq.get(id) {
            Some(&appended) => {
                // The caller's idea of the stored row can only lag what this batch appended.
                assert!(
                    stored_seq <= appended,
                    "transfer {id}: stored seq {stored_seq} is past the appended {appended}"
                );
                appended
            }
            None => stored_seq,
        };
        let seq = latest.checked_add(1).expect("a transfer's seq fits u32");
        self.latest_seq.insert(id.clone(), seq);
        self.states.push(NewStateChange { transfer_id: id.clone(), seq, state, reason, created: now });
        seq
    }

    /// [`StateRows::push`] for a state a refusal causes: the error's description is the state's
    /// reason, and the error is kept under the same `seq`.
    pub fn push_refused(
        &mut self,
        id: &TransferId,
        stored_seq: u32,
        state: TransferState,
        error: &FspiopError,
        now: Timestamp,
    ) -> u32 {
        let seq = self.push(id, stored_seq, state, Some(error.description().to_string()), now);
        self.push_error(id, seq, error, now);
        seq
    }

    /// Keeps `error` under the row `seq` of `id` already pushed (a state whose reason is not
    /// the error's description).
    pub fn push_error(&mut self, id: &TransferId, seq: u32, error: &FspiopError, now: Timestamp) {
        debug_assert!(
            self.states.iter().any(|it| it.transfer_id == *id && it.seq == seq),
            "an error belongs to a pushed state"
        );
        let description = error.description().to_string();
        self.errors.push(NewTransferError {
            transfer_id: id.clone(),
            seq,
            code: error.code().number(),
            description,
            created: now,
        });
    }

    /// The state changes to insert, in the order pushed.
    pub fn states(&self) -> &[NewStateChange] {
        &self.states
    }

    /// The errors to insert, each under a state change of [`StateRows::states`].
    pub fn errors(&self) -> &[NewTransferError] {
        &self.errors
    }
}
