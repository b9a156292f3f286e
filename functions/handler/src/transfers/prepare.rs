//! The prepare function: a batch of `POST /transfers` events becomes one transaction that
//! records every new transfer (RECEIVED_PREPARE, or INVALID with its 3100 error), followed by a
//! position event for each valid one and a callback for everything else.
//!
//! | step | what |
//! |---|---|
//! | parse | envelope → original body → checked request; an unreadable event is a dead letter |
//! | references | the payers and payees, with their accounts (outside the transaction) |
//! | load | stored hashes and states of the batch's ids |
//! | decide | duplicate check first, then validation in central-ledger's order (`ledger-core`) |
//! | write | transfers, first states, timeout entries and errors, one statement each; commit |
//! | emit | position `prepare` keyed by the payer's account; callbacks for the rest |
//!
//! Redelivery: a duplicate with the same hash whose transfer is still RECEIVED_PREPARE re-emits
//! its position event. Its id derives from the transfer, so the position function sees the same
//! event again (a no-op) instead of a second reservation. One deliberate gap: if the process dies
//! between committing an INVALID transfer and publishing its 3100 callback, the redelivered
//! request is a duplicate of an aborted transfer and the payer gets Mojaloop's
//! `prepare-duplicate` answer (`PUT /transfers/{id}`, ABORTED) instead of the 3100.

use std::collections::{BTreeSet, HashMap};

use fspiop::headers::{validate_headers, Method};
use fspiop::transfers::{parse_transfers_post, TransfersIdPutResponse};
use fspiop::{ErrorCode, FspiopError, RequestHeaders, TransferPrepare};
use ledger_core::account::{Account, LedgerAccountType, Participant};
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId};
use ledger_core::prepare::{
    classify_duplicate, validate_prepare, Duplicate, PrepareCommand, PrepareContext, PrepareRules, RequestHash,
};
use ledger_core::rejection::{PrepareFailure, Rejection};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{CurrentState, HashKind, LedgerStore, NewTransfer, NewTransferError, StoreError, TransferRecord};

use crate::envelope::{Action, Envelope, EventKind, EventState};
use crate::outbox::{Report, Route};
use crate::state_rows::FIRST_STATE_SEQ;

/// A readable prepare event.
struct Incoming {
    envelope: Envelope,
    headers: RequestHeaders,
    request: TransferPrepare,
    hash: RequestHash,
}

/// What the batch does with one incoming prepare.
enum Step {
    /// Recorded as RECEIVED_PREPARE; reserve on the payer's account next.
    Accept { account: AccountId },
    /// Recorded as INVALID; the payer gets this error.
    Invalid(FspiopError),
    /// Same id, different body: 3106 to the sender.
    Modified,
    /// Same id and body, transfer moved on: resend its state.
    Resend,
    /// Same id and body, still RECEIVED_PREPARE: re-emit the position event if the stored
    /// transfer has a payer account.
    InFlight,
    /// A repeat of an earlier event of this batch: the first one speaks for both.
    RepeatInBatch,
}

/// Runs one prepare batch; see the module documentation.
pub async fn prepare(
    store: &dyn LedgerStore,
    bodies: &[String],
    now: Timestamp,
    rules: PrepareRules,
) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let incoming = parse_batch(bodies, now, &mut report);
    let references = References::load(store, &incoming).await?;
    let ids: Vec<TransferId> = incoming.iter().map(|it| it.request.transfer_id.clone()).collect();
    let mut tx = store.begin().await?;
    let hashes = tx.hashes(HashKind::Prepare, &ids).await?;
    let states = tx.current_states(&ids).await?;
    let steps = decide_batch(&incoming, &hashes, &states, &references, now, rules);
    let (rows, errors) = rows_to_write(&incoming, &steps, &references, now);
    let known: Vec<TransferId> = states.keys().cloned().collect();
    let records = tx.transfers(&known).await?;
    tx.insert_transfers(&rows).await?;
    tx.insert_errors(&errors).await?;
    tx.commit().await?;
    for (item, step) in incoming.iter().zip(&steps) {
        emit(item, step, records.get(&item.request.transfer_id), now, &mut report);
    }
    Ok(report)
}

fn parse_batch(bodies: &[String], now: Timestamp, report: &mut Report) -> Vec<Incoming> {
    let mut incoming = Vec::with_capacity(bodies.len());
    for envelope in report.read_envelopes(bodies) {
        match parse_request(&envelope) {
            Ok((headers, request, hash)) => incoming.push(Incoming { envelope, headers, request, hash }),
            // The edge checks headers and body before publishing, so this is a damaged or
            // foreign event; the sender still hears why.
            Err(error) => report.emit(Route::Notification, error_to_sender(&envelope, &error, now)),
        }
    }
    incoming
}

fn parse_request(envelope: &Envelope) -> Result<(RequestHeaders, TransferPrepare, RequestHash), FspiopError> {
    let headers = validate_headers(Method::Post, &envelope.content.headers)?;
    let body = envelope
        .payload_bytes()
        .map_err(|err| FspiopError::with_detail(ErrorCode::MalformedSyntax, err.to_string()))?;
    let parsed = parse_transfers_post(&body, headers.content_version)?;
    Ok((headers, parsed.request, parsed.hash))
}

/// Participants and their accounts, read once per batch.
struct References {
    participants: HashMap<FspId, Participant>,
    accounts: HashMap<ParticipantId, Vec<Account>>,
}

impl References {
    async fn load(store: &dyn LedgerStore, incoming: &[Incoming]) -> Result<References, StoreError> {
        let names: BTreeSet<&FspId> =
            incoming.iter().flat_map(|it| [&it.request.payer_fsp, &it.request.payee_fsp]).collect();
        let names: Vec<FspId> = names.into_iter().cloned().collect();
        let mut references = References { participants: HashMap::new(), accounts: HashMap::new() };
        for (participant, accounts) in store.participants_with_accounts(&names).await? {
            references.accounts.insert(participant.id, accounts);
            references.participants.insert(participant.name.clone(), participant);
        }
        Ok(references)
    }

    fn position_account(&self, fsp: &FspId, currency: Currency) -> Option<&Account> {
        let participant = self.participants.get(fsp)?;
        self.accounts
            .get(&participant.id)?
            .iter()
            .find(|it| it.kind == LedgerAccountType::Position && it.currency == currency)
    }
}

fn decide_batch(
    incoming: &[Incoming],
    hashes: &HashMap<TransferId, RequestHash>,
    states: &HashMap<TransferId, CurrentState>,
    references: &References,
    now: Timestamp,
    rules: PrepareRules,
) -> Vec<Step> {
    let mut first_in_batch: HashMap<&TransferId, &RequestHash> = HashMap::new();
    let mut steps = Vec::with_capacity(incoming.len());
    for item in incoming {
        let id = &item.request.transfer_id;
        let duplicate = match first_in_batch.get(id) {
            Some(first) if **first == item.hash => {
                steps.push(Step::RepeatInBatch);
                continue;
            }
            Some(first) => classify_duplicate(Some(first), None, &item.hash),
            None => classify_duplicate(hashes.get(id), states.get(id).map(|it| it.state), &item.hash),
        };
        first_in_batch.entry(id).or_insert(&item.hash);
        steps.push(match duplicate {
            Duplicate::New => validate(item, references, now, rules),
            Duplicate::Modified => Step::Modified,
            Duplicate::Resend(_) => Step::Resend,
            Duplicate::InFlight => Step::InFlight,
        });
    }
    steps
}

fn validate(item: &Incoming, references: &References, now: Timestamp, rules: PrepareRules) -> Step {
    let request = &item.request;
    let command = PrepareCommand {
        transfer_id: request.transfer_id.clone(),
        source: item.headers.source.clone(),
        payer: request.payer_fsp.clone(),
        payee: request.payee_fsp.clone(),
        amount: request.amount,
        currency: request.currency,
        condition: Some(request.condition),
        expiration: request.expiration,
    };
    let payer_account = references.position_account(&request.payer_fsp, request.currency);
    let context = PrepareContext {
        payer: references.participants.get(&request.payer_fsp),
        payee: references.participants.get(&request.payee_fsp),
        payer_account,
        payee_account: references.position_account(&request.payee_fsp, request.currency),
        now,
    };
    let failure = match (validate_prepare(&command, &context, rules), payer_account) {
        (Ok(()), Some(account)) => return Step::Accept { account: account.id },
        // Validation refuses a missing payer account, so this arm only keeps the match total.
        (Ok(()), None) => PrepareFailure::AccountNotFound(command.payer, command.currency),
        (Err(failure), _) => failure,
    };
    Step::Invalid(FspiopError::from_rejection(&Rejection::PrepareInvalid(failure)))
}

fn rows_to_write(
    incoming: &[Incoming],
    steps: &[Step],
    references: &References,
    now: Timestamp,
) -> (Vec<NewTransfer>, Vec<NewTransferError>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (item, step) in incoming.iter().zip(steps) {
        let (state, reason) = match step {
            Step::Accept { .. } => (TransferState::ReceivedPrepare, None),
            Step::Invalid(error) => (TransferState::Invalid, Some(error.description().to_string())),
            Step::Modified | Step::Resend | Step::InFlight | Step::RepeatInBatch => continue,
        };
        if let Step::Invalid(error) = step {
            let id = item.request.transfer_id.clone();
            let description = error.description().to_string();
            errors.push(NewTransferError {
                transfer_id: id,
                seq: FIRST_STATE_SEQ,
                code: error.code().number(),
                description,
                created: now,
            });
        }
        rows.push(new_transfer(item, references, state, reason, now));
    }
    (rows, errors)
}

fn new_transfer(
    item: &Incoming,
    references: &References,
    state: TransferState,
    reason: Option<String>,
    now: Timestamp,
) -> NewTransfer {
    let request = &item.request;
    let extensions = request.extension_list.iter().flat_map(|list| &list.extension);
    NewTransfer {
        transfer_id: request.transfer_id.clone(),
        payer: request.payer_fsp.clone(),
        payee: request.payee_fsp.clone(),
        payer_account: references.position_account(&request.payer_fsp, request.currency).map(|it| it.id),
        payee_account: references.position_account(&request.payee_fsp, request.currency).map(|it| it.id),
        amount: request.amount,
        currency: request.currency,
        condition: Some(request.condition),
        expiration: request.expiration,
        ilp_packet: request.ilp_packet.as_str().to_string(),
        hash: item.hash.clone(),
        state,
        reason,
        created: now,
        extensions: extensions.map(|it| (it.key.clone(), it.value.clone())).collect(),
    }
}

fn emit(item: &Incoming, step: &Step, record: Option<&TransferRecord>, now: Timestamp, report: &mut Report) {
    let envelope = &item.envelope;
    match step {
        Step::Accept { account } => {
            let next = envelope.next_step(EventKind::Position, Action::Prepare, EventState::success(), now);
            report.emit(Route::Position { account: *account }, next);
        }
        Step::Invalid(error) => report.emit(Route::Notification, error_to_sender(envelope, error, now)),
        Step::Modified => {
            let error = FspiopError::new(ErrorCode::ModifiedRequest);
            report.emit(Route::Notification, error_to_sender(envelope, &error, now));
        }
        Step::Resend => {
            let Some(record) = record else { return };
            report.emit(Route::Notification, resend_state(item, record, now));
        }
        Step::InFlight => {
            let Some(account) = record.and_then(|it| it.payer_account) else { return };
            let next = envelope.next_step(EventKind::Position, Action::Prepare, EventState::success(), now);
            report.emit(Route::Position { account }, next);
        }
        Step::RepeatInBatch => (),
    }
}

/// An error callback from the Hub to whoever sent the event.
fn error_to_sender(envelope: &Envelope, error: &FspiopError, now: Timestamp) -> Envelope {
    envelope.error_reply(Action::Prepare, error, now)
}

/// Mojaloop's `prepare-duplicate`: `PUT /transfers/{id}` from the Hub with the current state.
fn resend_state(item: &Incoming, record: &TransferRecord, now: Timestamp) -> Envelope {
    let body = TransfersIdPutResponse::from_hub(
        record.current.changed,
        record.current.state.enumeration(),
        record.fulfilment.as_ref(),
        None,
    );
    let content_type = item.headers.content_version.content_type();
    item.envelope
        .next(EventKind::Notification, Action::PrepareDuplicate, EventState::success(), now)
        .with_body(&content_type, body.to_json().as_bytes())
        .from_hub_to(&item.envelope.from)
}
