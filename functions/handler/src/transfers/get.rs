//! The get function: `GET /transfers/{id}` answered by callback from the Hub, as central-ledger
//! does: the current state to a party of the transfer, 3208 for an unknown id, 3000 for anyone
//! else, and nothing at all for a requester that is not an active participant.

use fspiop::transfers::{ExtensionList, TransfersIdPutResponse};
use fspiop::{ErrorCode, FspiopError};
use ledger_core::ids::{FspId, TransferId};
use ledger_core::state::TransferStateEnum;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, StoreError, TransferRecord};

use crate::envelope::{Action, Envelope, EventKind, EventState};
use crate::outbox::{Report, Route};

/// Answers one batch of GET events; reads only.
pub async fn get(store: &dyn LedgerStore, bodies: &[String], now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    for envelope in report.read_envelopes(bodies) {
        answer(store, &envelope, now, &mut report).await?;
    }
    Ok(report)
}

async fn answer(
    store: &dyn LedgerStore,
    envelope: &Envelope,
    now: Timestamp,
    report: &mut Report,
) -> Result<(), StoreError> {
    let requester = match FspId::parse(&envelope.from) {
        Some(requester) => requester,
        None => {
            report.dead_letter(&envelope.to_json(), "the requester is not an FSP id");
            return Ok(());
        }
    };
    // central-ledger drops requests from unknown or inactive participants without an answer.
    if !store.participant(&requester).await?.is_some_and(|it| it.is_active) {
        return Ok(());
    }
    let record = match TransferId::parse(&envelope.id) {
        Some(id) => store.transfer(&id).await?,
        None => None,
    };
    let event = match record {
        None => error_to(envelope, &FspiopError::transfer_id_not_found(), now),
        Some(record) if record.payer != requester && record.payee != requester => {
            error_to(envelope, &FspiopError::new(ErrorCode::ClientError), now)
        }
        Some(record) => state_to(envelope, &record, now),
    };
    report.emit(Route::Notification, event);
    Ok(())
}

fn error_to(envelope: &Envelope, error: &FspiopError, now: Timestamp) -> Envelope {
    envelope.error_reply(Action::Get, error, now)
}

/// `{completedTimestamp, transferState, fulfilment?, extensionList?}`: the time of the latest
/// state change, and for an aborted transfer with an error the `cause` extension (none for a
/// stored code outside 1000..=9999, which no FSPIOP error has).
fn state_to(envelope: &Envelope, record: &TransferRecord, now: Timestamp) -> Envelope {
    let state = record.current.state.enumeration();
    let cause = match (state, &record.error) {
        (TransferStateEnum::Aborted, Some((code, description))) => ErrorCode::from_number(*code).map(|code| {
            let stored = FspiopError::forwarded(code, description, None);
            ExtensionList { extension: vec![stored.cause_extension()] }
        }),
        _ => None,
    };
    let body = TransfersIdPutResponse::from_hub(record.current.changed, state, record.fulfilment.as_ref(), cause);
    let content_type = envelope.payload_content_type().unwrap_or(crate::envelope::ENVELOPE_MEDIA_TYPE).to_string();
    envelope
        .next(EventKind::Notification, Action::Get, EventState::success(), now)
        .with_body(&content_type, body.to_json().as_bytes())
        .from_hub_to(&envelope.from)
}
