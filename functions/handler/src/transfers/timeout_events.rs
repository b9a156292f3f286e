//! The events the timeout function emits: the follow-up of an expiry, and the pipeline event a
//! stranded transfer waits for, rebuilt from the ledger.
//!
//! Every event carries the id the pipeline gives that step of that transfer (`Envelope::from_hub`
//! for the Hub's own timeout steps, `Envelope::next_step` for the position steps the fulfil
//! function emits), so when the first copy does arrive, the second changes nothing: the
//! position function finds the transfer already moved on and re-emits the same notification,
//! which the notification function has already delivered.
//!
//! | follow-up | event | to | payload |
//! |---|---|---|---|
//! | `timeout-received` | notification | the payer | 3303 |
//! | `timeout-reserved` | position, the payer's account | – | 3303 |
//! | `commit` | position, the payee's account | the payer | a Hub-made `PUT /transfers/{id}` body: COMMITTED with the stored fulfilment |
//! | `abort` | position, the payer's account | the payer, from the payee | the payee's stored error |
//! | `abort-validation` | position, the payer's account | the payer, from the Hub | the stored error (3100) |
//!
//! The payee's own PUT body and signature are not kept, so a re-driven commit tells the payer
//! (and the payee, as confirmation) from the Hub, like the v1.1 RESERVED flow does. A commit the
//! payee answered `RESERVED` is re-driven as a commit too: the ledger does not record which it
//! was, and the payer's callback is the same.

use std::collections::BTreeMap;

use fspiop::datetime::format_http_date;
use fspiop::transfers::TransfersIdPutResponse;
use fspiop::{ApiVersion, ErrorCode, FspiopError};
use ledger_core::account::HUB_NAME;
use ledger_core::ids::AccountId;
use ledger_core::rejection::Rejection;
use ledger_core::state::TransferStateEnum;
use ledger_core::time::Timestamp;
use ledger_core::timeout::FollowUp;
use ledger_store::TransferRecord;

use crate::envelope::{Action, Envelope, EventKind, EventState, Request};
use crate::outbox::{Report, Route};

/// The FSPIOP version of the bodies the Hub rebuilds (the callbacks' own content type is the
/// notification function's to choose).
const REBUILT_BODY_VERSION: ApiVersion = ApiVersion::V1_1;

/// Adds the event of `follow_up` for the transfer to the report; a dead letter if the transfer
/// lacks the account the event is keyed by.
pub fn follow_up_event(record: &TransferRecord, follow_up: FollowUp, now: Timestamp, report: &mut Report) {
    let id = record.transfer_id.as_str();
    let payer = record.payer.as_str();
    let expired = FspiopError::from_rejection(&Rejection::TransferExpired);
    let (event, account) = match follow_up {
        FollowUp::TimeoutReceived => {
            let event = Envelope::from_hub(id, payer, EventKind::Notification, Action::TimeoutReceived, &expired, now);
            return report.emit(Route::Notification, event);
        }
        FollowUp::TimeoutReserved => (
            Envelope::from_hub(id, payer, EventKind::Position, Action::TimeoutReserved, &expired, now),
            record.payer_account,
        ),
        FollowUp::Commit => (commit(record, now), record.payee_account),
        FollowUp::Abort => (abort(record, now), record.payer_account),
        FollowUp::AbortValidation => (abort_validation(record, now), record.payer_account),
    };
    keyed(event, account, report);
}

fn keyed(event: Envelope, account: Option<AccountId>, report: &mut Report) {
    match account {
        Some(account) => report.emit(Route::Position { account }, event),
        None => report.dead_letter(&event.to_json(), "the transfer has no account for this step"),
    }
}

/// The position `commit` the fulfil function emits, with a body the Hub makes.
fn commit(record: &TransferRecord, now: Timestamp) -> Envelope {
    let body = TransfersIdPutResponse::from_hub(
        record.current.changed,
        TransferStateEnum::Committed,
        record.fulfilment.as_ref(),
        None,
    );
    let from = record.payee.as_str();
    pipeline_step(record, from, body.to_json().as_bytes(), Action::Commit, EventState::success(), now)
}

/// The position `abort` of the payee's own error, which the payer gets as the payee's answer.
fn abort(record: &TransferRecord, now: Timestamp) -> Envelope {
    let error = stored_error(record);
    let from = record.payee.as_str();
    pipeline_step(record, from, error.to_json().as_bytes(), Action::Abort, EventState::error(&error), now)
}

/// The position `abort-validation` of an answer the Hub refused: the error goes to both.
fn abort_validation(record: &TransferRecord, now: Timestamp) -> Envelope {
    let error = stored_error(record);
    pipeline_step(record, HUB_NAME, error.to_json().as_bytes(), Action::AbortValidation, EventState::error(&error), now)
        .with_error(&error)
}

/// A position step of the transfer, from `from` to the payer, with the id the pipeline gives it.
/// Its headers name the Hub as the source: it is the Hub that rebuilt the message.
fn pipeline_step(
    record: &TransferRecord,
    from: &str,
    body: &[u8],
    action: Action,
    state: EventState,
    now: Timestamp,
) -> Envelope {
    let id = record.transfer_id.as_str();
    let payer = record.payer.as_str();
    let content_type = REBUILT_BODY_VERSION.content_type();
    let headers = BTreeMap::from([
        ("content-type".to_string(), content_type.clone()),
        ("date".to_string(), format_http_date(now)),
        ("fspiop-source".to_string(), HUB_NAME.to_string()),
        ("fspiop-destination".to_string(), payer.to_string()),
    ]);
    let request = Request { transfer_id: id, from, to: payer, headers: &headers, content_type: &content_type, body };
    Envelope::request(request, EventKind::Position, action, now).next_step(EventKind::Position, action, state, now)
}

/// The error the transfer recorded with RECEIVED_ERROR; every abort records one.
fn stored_error(record: &TransferRecord) -> FspiopError {
    let stored =
        record.error.as_ref().and_then(|(code, description)| Some((ErrorCode::from_number(*code)?, description)));
    match stored {
        Some((code, description)) => FspiopError::forwarded(code, description, None),
        None => FspiopError::with_detail(ErrorCode::InternalServerError, "the transfer's error was not recorded"),
    }
}
