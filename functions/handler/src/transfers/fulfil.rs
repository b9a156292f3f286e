//! The fulfil function: a batch of payee answers (`PUT /transfers/{id}` and
//! `PUT /transfers/{id}/error`) checked in central-ledger's order by `ledger_core::fulfil`, recorded
//! in one transaction, then sent on to the position hub or answered by callback.
//!
//! | decision | written | emitted |
//! |---|---|---|
//! | commit / reserve accepted | fulfil hash, fulfilment (tagged with the OPEN window), RECEIVED_FULFIL | position `commit`/`reserve` keyed by the payee's account |
//! | payee error accepted | error hash, the payee's error, RECEIVED_ERROR | position `abort` keyed by the payer's account |
//! | ledger aborts (payee's answer not addressed to the payer, bad fulfilment) | hash, 3100 error, RECEIVED_ERROR | position `abort-validation` (3100 to both parties); a PATCH ABORTED to the payee if it answered RESERVED |
//! | sender is not the payee (another DFSP, or the payer), any answer | nothing | 3100 to the sender only |
//! | refused (expired, not RESERVED, modified, unknown) | nothing | the error to the sender (and a PATCH ABORTED for a RESERVED answer) |
//! | duplicate of a finished answer | nothing | the transfer's state to the sender |
//! | duplicate while in flight, or a redelivery | nothing | the position event again, with the same id |
//! | the payee's `transferState: ABORTED`, or RESERVED under content version 1.0 | nothing | nothing (Mojaloop drops them) |
//!
//! Unlike central-ledger, which aborts a RESERVED transfer whatever DFSP sent the answer, an
//! answer from anyone but the payee leaves the transfer as it is: no state, no hash (so the
//! payee's own answer is still judged as the first), no position change, no callback to either
//! party. With mTLS the edge has already tied FSPIOP-Source to the client certificate.

use fspiop::error::CAUSE_EXTENSION_KEY;
use fspiop::headers::{validate_headers, Method};
use fspiop::transfers::{
    parse_transfers_error, parse_transfers_put, Extension, ExtensionList, FulfilAction, TransfersIdPatchResponse,
    TransfersIdPutResponse,
};
use fspiop::{ApiVersion, ErrorCode, FspiopError, RequestHeaders};
use ledger_core::fulfil::{decide_fulfil, FulfilCommand, FulfilDecision, FulfilKind, FulfilTarget};
use ledger_core::ids::TransferId;
use ledger_core::position::PositionAction;
use ledger_core::prepare::RequestHash;
use ledger_core::rejection::Rejection;
use ledger_core::state::{TransferState, TransferStateEnum};
use ledger_core::time::Timestamp;
use ledger_store::{HashKind, LedgerStore, LedgerTx, NewFulfilment, StoreError, TransferRecord};

use crate::envelope::{Action, Envelope, EventKind, EventState};
use crate::outbox::{Report, Route};
use crate::state_rows::StateRows;

/// A readable payee answer.
struct Incoming {
    envelope: Envelope,
    headers: RequestHeaders,
    transfer_id: TransferId,
    kind: FulfilKind,
    /// The payee's own error, for PUT /error.
    payee_error: Option<FspiopError>,
    completed: Option<Timestamp>,
    hash: RequestHash,
    /// Why Mojaloop drops this answer (`FulfilKind::Reject`), for the log.
    dropped_because: Option<&'static str>,
}

/// Why the payee's answers Mojaloop accepts with 200 and then drops are dropped.
const DROPPED_ABORTED: &str =
    "transferState ABORTED on PUT /transfers/{id}: a payee rejects with PUT /transfers/{id}/error";
const DROPPED_RESERVED_V1_0: &str =
    "transferState RESERVED with Content-Type version 1.0: the RESERVED flow needs 1.1 or later; the transfer stays RESERVED until it expires";

/// Runs one fulfil batch; see the module documentation.
pub async fn fulfil(store: &dyn LedgerStore, bodies: &[String], now: Timestamp) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let incoming = parse_batch(bodies, now, &mut report);
    let ids: Vec<TransferId> = incoming.iter().map(|it| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await?;
    let mut records = tx.transfers(&ids).await?;
    let mut fulfil_hashes = tx.hashes(HashKind::Fulfil, &ids).await?;
    let mut error_hashes = tx.hashes(HashKind::Error, &ids).await?;
    let window = tx.open_window().await?.id;
    let mut writes = Writes::default();
    for item in &incoming {
        let record = records.get_mut(&item.transfer_id);
        // A later answer in this batch must see the hash an earlier one recorded.
        let hashes = match item.kind {
            FulfilKind::Abort => &mut error_hashes,
            _ => &mut fulfil_hashes,
        };
        let stored_hash = hashes.get(&item.transfer_id).cloned();
        let n_recorded = writes.fulfil_hashes.len() + writes.error_hashes.len();
        decide_one(item, record, stored_hash, window, now, &mut writes, &mut report);
        if n_recorded < writes.fulfil_hashes.len() + writes.error_hashes.len() {
            hashes.insert(item.transfer_id.clone(), item.hash.clone());
        }
    }
    write(tx.as_mut(), &writes).await?;
    tx.commit().await?;
    Ok(report)
}

fn parse_batch(bodies: &[String], now: Timestamp, report: &mut Report) -> Vec<Incoming> {
    let mut incoming = Vec::with_capacity(bodies.len());
    for envelope in report.read_envelopes(bodies) {
        match parse_answer(envelope.clone()) {
            Ok(item) => incoming.push(item),
            Err(error) => report.emit(Route::Notification, error_to_sender(&envelope, &error, now)),
        }
    }
    incoming
}

/// Answers Mojaloop accepts and then drops become `FulfilKind::Reject`: the core still checks
/// who sent them.
fn parse_answer(envelope: Envelope) -> Result<Incoming, FspiopError> {
    let headers = validate_headers(Method::Put, &envelope.content.headers)?;
    let transfer_id = TransferId::parse(&envelope.id).ok_or_else(|| FspiopError::new(ErrorCode::UnknownUri))?;
    let body = envelope
        .payload_bytes()
        .map_err(|err| FspiopError::with_detail(ErrorCode::MalformedSyntax, err.to_string()))?;
    if envelope.metadata.event.action == Action::Abort {
        let parsed = parse_transfers_error(&body, headers.content_version)?;
        let payee_error = Some(parsed.request.to_error());
        let (kind, completed, hash) = (FulfilKind::Abort, None, parsed.hash);
        return Ok(Incoming {
            envelope,
            headers,
            transfer_id,
            kind,
            payee_error,
            completed,
            hash,
            dropped_because: None,
        });
    }
    let parsed = parse_transfers_put(&body, headers.content_version)?;
    let fulfilment = parsed.request.fulfilment;
    let (kind, dropped_because) = match parsed.request.action() {
        FulfilAction::Commit => (FulfilKind::Commit { fulfilment }, None),
        // The PATCH answer does not exist before v1.1, so Mojaloop drops such a RESERVED.
        FulfilAction::Reserve if headers.content_version == ApiVersion::V1_0 => {
            (FulfilKind::Reject, Some(DROPPED_RESERVED_V1_0))
        }
        FulfilAction::Reserve => (FulfilKind::Reserve { fulfilment }, None),
        FulfilAction::Reject => (FulfilKind::Reject, Some(DROPPED_ABORTED)),
    };
    let completed = parsed.request.completed_timestamp;
    Ok(Incoming {
        envelope,
        headers,
        transfer_id,
        kind,
        payee_error: None,
        completed,
        hash: parsed.hash,
        dropped_because,
    })
}

#[derive(Default)]
struct Writes {
    fulfil_hashes: Vec<(TransferId, RequestHash, Timestamp)>,
    error_hashes: Vec<(TransferId, RequestHash, Timestamp)>,
    fulfilments: Vec<NewFulfilment>,
    rows: StateRows,
}

fn decide_one(
    item: &Incoming,
    record: Option<&mut TransferRecord>,
    stored_hash: Option<RequestHash>,
    window: ledger_core::ids::WindowId,
    now: Timestamp,
    writes: &mut Writes,
    report: &mut Report,
) {
    let command = FulfilCommand {
        source: item.headers.source.clone(),
        destination: item.headers.destination.clone(),
        kind: item.kind,
        hash: item.hash.clone(),
    };
    let target = record.as_deref().map(|it| target(it, stored_hash.clone()));
    let decision = decide_fulfil(target.as_ref(), &command, now);
    let Some(record) = record else {
        return refuse(item, &decision, now, report);
    };
    match decision {
        FulfilDecision::Proceed { state, position, rejection } => {
            let error = rejection.as_ref().map(FspiopError::from_rejection).or_else(|| item.payee_error.clone());
            record_answer(item, record, state, error.as_ref(), stored_hash.is_none(), window, now, writes);
            emit_position(item, record, position, error.as_ref(), now, report);
        }
        FulfilDecision::Ignore
            if matches!(record.current.state, TransferState::ReceivedFulfil | TransferState::ReceivedError) =>
        {
            // Same answer while in flight, or this batch redelivered: send the step on again.
            emit_position(item, record, in_flight_action(item, record), None, now, report);
        }
        FulfilDecision::Ignore => (),
        // Mojaloop answers these with 200 and then ignores them; the payee hears nothing more, so
        // the log says why (TTK as a payee negotiates 1.0 from a 1.0 Accept and sends RESERVED in it).
        FulfilDecision::Drop => {
            let reason = item.dropped_because.unwrap_or("the answer asks for nothing the ledger does");
            tracing::warn!(transfer_id = %item.transfer_id, payee = %item.headers.source, reason, "payee answer dropped");
        }
        FulfilDecision::Resend(_) => report.emit(Route::Notification, resend_state(item, record, now)),
        FulfilDecision::RejectToSender(_) => refuse(item, &decision, now, report),
    }
}

fn target(record: &TransferRecord, stored_hash: Option<RequestHash>) -> FulfilTarget {
    FulfilTarget {
        payer: record.payer.clone(),
        payee: record.payee.clone(),
        // Transfers without a condition are internal (funds in/out); no payee fulfils them.
        condition: record.condition.unwrap_or(ledger_core::condition::IlpCondition::from_bytes([0; 32])),
        expiration: record.expiration,
        state: record.current.state,
        stored_hash,
    }
}

#[allow(clippy::too_many_arguments)]
fn record_answer(
    item: &Incoming,
    record: &mut TransferRecord,
    state: TransferState,
    error: Option<&FspiopError>,
    first_answer: bool,
    window: ledger_core::ids::WindowId,
    now: Timestamp,
    writes: &mut Writes,
) {
    let id = item.transfer_id.clone();
    let hashes = match item.kind {
        FulfilKind::Abort => &mut writes.error_hashes,
        _ => &mut writes.fulfil_hashes,
    };
    if first_answer {
        hashes.push((id.clone(), item.hash.clone(), now));
    }
    if let (FulfilKind::Commit { fulfilment } | FulfilKind::Reserve { fulfilment }, None) = (item.kind, error) {
        let completed = item.completed.unwrap_or(now);
        writes.fulfilments.push(NewFulfilment { transfer_id: id.clone(), fulfilment, completed, window, created: now });
    }
    let seq = match error {
        Some(error) => writes.rows.push_refused(&id, record.current.seq, state, error, now),
        None => writes.rows.push(&id, record.current.seq, state, None, now),
    };
    // A second answer for the same transfer in this batch must see this one.
    record.current.state = state;
    record.current.seq = seq;
}

async fn write(tx: &mut dyn LedgerTx, writes: &Writes) -> Result<(), StoreError> {
    tx.insert_hashes(HashKind::Fulfil, &writes.fulfil_hashes).await?;
    tx.insert_hashes(HashKind::Error, &writes.error_hashes).await?;
    tx.insert_fulfilments(&writes.fulfilments).await?;
    tx.insert_state_changes(writes.rows.states()).await?;
    tx.insert_errors(writes.rows.errors()).await
}

fn in_flight_action(item: &Incoming, record: &TransferRecord) -> PositionAction {
    match (item.kind, record.current.state) {
        (FulfilKind::Reserve { .. }, TransferState::ReceivedFulfil) => PositionAction::Reserve,
        (_, TransferState::ReceivedFulfil) => PositionAction::Commit,
        (FulfilKind::Abort, _) => PositionAction::Abort,
        _ => PositionAction::AbortValidation,
    }
}

fn emit_position(
    item: &Incoming,
    record: &TransferRecord,
    action: PositionAction,
    error: Option<&FspiopError>,
    now: Timestamp,
    report: &mut Report,
) {
    let (account, envelope_action) = match action {
        PositionAction::Commit => (record.payee_account, Action::Commit),
        PositionAction::Reserve => (record.payee_account, Action::Reserve),
        PositionAction::Abort => (record.payer_account, Action::Abort),
        PositionAction::AbortValidation => (record.payer_account, Action::AbortValidation),
        PositionAction::Prepare | PositionAction::TimeoutReserved => (None, Action::Prepare),
    };
    let Some(account) = account else {
        return report.dead_letter(&item.envelope.to_json(), "the transfer has no account for this step");
    };
    let state = error.map_or_else(EventState::success, EventState::error);
    let mut next = item.envelope.next_step(EventKind::Position, envelope_action, state, now);
    if let (Some(error), PositionAction::AbortValidation) = (error, action) {
        next = next.with_error(error);
    }
    report.emit(Route::Position { account }, next);
    if action == PositionAction::AbortValidation && matches!(item.kind, FulfilKind::Reserve { .. }) {
        report.emit(Route::Notification, reserved_aborted(item, error, now));
    }
}

fn refuse(item: &Incoming, decision: &FulfilDecision, now: Timestamp, report: &mut Report) {
    let rejection = match decision {
        FulfilDecision::RejectToSender(rejection) => rejection,
        _ => return,
    };
    let error = FspiopError::from_rejection(rejection);
    report.emit(Route::Notification, error_to_sender(&item.envelope, &error, now));
    // The PATCH ABORTED tells a payee that answered RESERVED not to wait for the commit; a
    // sender that is not the payee waits for nothing, and the transfer is not aborted.
    if matches!(item.kind, FulfilKind::Reserve { .. }) && *rejection != Rejection::SourceNotPayee {
        report.emit(Route::Notification, reserved_aborted(item, Some(&error), now));
    }
}

/// An error callback from the Hub to whoever sent the event.
fn error_to_sender(envelope: &Envelope, error: &FspiopError, now: Timestamp) -> Envelope {
    envelope.error_reply(envelope.metadata.event.action, error, now)
}

/// Mojaloop's `reserved-aborted`: a PATCH ABORTED to a payee that answered RESERVED, with the
/// cause as an extension.
fn reserved_aborted(item: &Incoming, error: Option<&FspiopError>, now: Timestamp) -> Envelope {
    let cause = error.map_or_else(|| Extension::truncated(CAUSE_EXTENSION_KEY, ""), FspiopError::cause_extension);
    let extensions = ExtensionList { extension: vec![cause] };
    let body =
        TransfersIdPatchResponse::from_hub(Some(&item.transfer_id), now, TransferStateEnum::Aborted, Some(extensions));
    item.envelope
        .next(EventKind::Notification, Action::ReservedAborted, EventState::success(), now)
        .with_body(&item.headers.content_version.content_type(), body.to_json().as_bytes())
        .from_hub_to(&item.envelope.from)
}

/// `fulfil-duplicate` / `abort-duplicate`: the current state to the sender.
fn resend_state(item: &Incoming, record: &TransferRecord, now: Timestamp) -> Envelope {
    let action = match item.kind {
        FulfilKind::Abort => Action::AbortDuplicate,
        _ => Action::FulfilDuplicate,
    };
    let state = record.current.state.enumeration();
    let body = TransfersIdPutResponse::from_hub(record.current.changed, state, record.fulfilment.as_ref(), None);
    item.envelope
        .next(EventKind::Notification, action, EventState::success(), now)
        .with_body(&item.headers.content_version.content_type(), body.to_json().as_bytes())
        .from_hub_to(&item.envelope.from)
}
