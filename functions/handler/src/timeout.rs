//! The timeout function (timer trigger): expires transfers whose expiration has passed, in two
//! transactions around the publish so that no follow-up is ever lost.
//!
//! | step | what |
//! |---|---|
//! | 1 | [`scan`]: in one transaction, read the expired entries of the timeout work-list (oldest first, at most [`TIMEOUT_SCAN_BATCH_MAX`]); RECEIVED_PREPARE → EXPIRED_PREPARED, RESERVED → RESERVED_TIMEOUT with a 3303 error; commit |
//! | 2 | the caller publishes the report: 3303 to the payer of an EXPIRED_PREPARED transfer; `timeout-reserved` to the position hub (keyed by the payer's account) for a RESERVED_TIMEOUT one, whose position step then notifies both parties |
//! | 3 | [`finish`]: remove the entries whose follow-up was published |
//!
//! An entry stays on the list until step 3. If the process dies between 1 and 3, the next scan
//! finds the transfer already expired and emits the same follow-up again (same event id), so it
//! is published at least once. Entries of transfers that finished normally are removed in step 3
//! of the scan that finds them.

use ledger_core::ids::{FspId, TransferId};
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::timeout::{decide_timeout, TimeoutAction};
use ledger_store::{ExpiredTransfer, LedgerStore, NewStateChange, NewTransferError, StoreError};

use fspiop::FspiopError;

use crate::envelope::{Action, Envelope, EventKind};
use crate::outbox::{Report, Route};

/// Most expired transfers one scan handles; the rest wait for the next tick.
pub const TIMEOUT_SCAN_BATCH_MAX: usize = 1_000;
const EXPIRED_PREPARED_REASON: &str = "Aborted by Timeout Handler";
const RESERVED_TIMEOUT_REASON: &str = "Marked for expiration by Timeout Handler";

/// What a scan produced: events to publish, then entries to remove once they are published.
#[derive(Debug, Default)]
pub struct Scan {
    pub report: Report,
    pub finished: Vec<(TransferId, Timestamp)>,
}

/// Step 1: see the module documentation.
pub async fn scan(store: &dyn LedgerStore, now: Timestamp) -> Result<Scan, StoreError> {
    let mut tx = store.begin().await?;
    let expired = tx.expired_transfers(now, TIMEOUT_SCAN_BATCH_MAX).await?;
    let ids: Vec<TransferId> = expired.iter().map(|it| it.transfer_id.clone()).collect();
    let records = tx.transfers(&ids).await?;
    let mut result = Scan::default();
    let mut states = Vec::new();
    let mut errors = Vec::new();
    for entry in &expired {
        let error = FspiopError::from_rejection(&Rejection::TransferExpired);
        let state = match decide_timeout(entry.current.state, entry.expiration, now) {
            Some(action) => {
                let seq = entry.current.seq + 1;
                let (state, reason) = match action {
                    TimeoutAction::ExpirePrepared => (action.next_state(), EXPIRED_PREPARED_REASON),
                    TimeoutAction::ExpireReserved => (action.next_state(), RESERVED_TIMEOUT_REASON),
                };
                let id = entry.transfer_id.clone();
                states.push(NewStateChange { transfer_id: id.clone(), seq, state, reason: Some(reason.to_string()), created: now });
                let description = error.description().to_string();
                errors.push(NewTransferError { transfer_id: id, seq, code: error.code().number(), description, created: now });
                state
            }
            None => entry.current.state,
        };
        let payer = records.get(&entry.transfer_id).map(|it| &it.payer);
        follow_up(entry, payer, state, &error, now, &mut result.report);
        result.finished.push((entry.transfer_id.clone(), entry.expiration));
    }
    tx.insert_state_changes(&states).await?;
    tx.insert_errors(&errors).await?;
    tx.commit().await?;
    Ok(result)
}

/// Step 3: removes the entries whose follow-up has been published.
pub async fn finish(store: &dyn LedgerStore, finished: &[(TransferId, Timestamp)]) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.delete_timeouts(finished).await?;
    tx.commit().await
}

/// The event that carries an expired transfer on; nothing for transfers that ended otherwise.
fn follow_up(
    entry: &ExpiredTransfer,
    payer: Option<&FspId>,
    state: TransferState,
    error: &FspiopError,
    now: Timestamp,
    report: &mut Report,
) {
    let id = entry.transfer_id.as_str();
    let Some(payer) = payer.map(FspId::as_str) else { return };
    match (state, entry.payer_account) {
        (TransferState::ExpiredPrepared, _) => {
            let event = Envelope::from_hub(id, payer, EventKind::Notification, Action::TimeoutReceived, error, now);
            report.emit(Route::Notification, event);
        }
        (TransferState::ReservedTimeout, Some(account)) => {
            let event = Envelope::from_hub(id, payer, EventKind::Position, Action::TimeoutReserved, error, now);
            report.emit(Route::Position { account }, event);
        }
        _ => (),
    }
}
