//! The notification function: turns notification events into HTTP callbacks to the DFSPs'
//! registered endpoints, following Mojaloop's callback matrix and header rules.
//!
//! | event | payer gets | payee gets |
//! |---|---|---|
//! | prepare, success | – | `POST /transfers`: the payer's original body and headers |
//! | prepare (and any other action), error | `PUT /transfers/{id}/error` from the Hub (to the event's addressee) | – |
//! | prepare-duplicate, fulfil-duplicate, abort-duplicate, get | `PUT /transfers/{id}` from the Hub (to the event's addressee) | – |
//! | commit | `PUT /transfers/{id}`: the payee's original body and headers | the same body from the Hub (confirmation) |
//! | reserve | `PUT /transfers/{id}` from the Hub, COMMITTED with the fulfilment | `PATCH /transfers/{id}` from the Hub, COMMITTED |
//! | abort (payee's error) | `PUT /transfers/{id}/error`: the payee's error | the same from the Hub (confirmation) |
//! | abort-validation, timeout-reserved | `PUT /transfers/{id}/error` from the Hub | the same |
//! | timeout-received | `PUT /transfers/{id}/error` 3303 from the Hub | – |
//! | reserved-aborted | – | `PATCH /transfers/{id}` from the Hub, ABORTED |
//!
//! **Content-Type.** A forwarded message keeps its sender's. A callback the Hub makes carries the
//! scheme's configured version ([`NotificationConfig::hub_content_version`],
//! `CALLBACK_CONTENT_VERSION`, as Mojaloop's `PROTOCOL_VERSIONS.CONTENT.DEFAULT`), except what
//! answers a payee's `PUT /transfers/{id}` or `PUT …/error`, which is in the version of that PUT:
//! the RESERVED flow (the payer's COMMITTED and the payee's PATCH, or the PATCH ABORTED), the
//! resent state or 3106 for a duplicate, and a refusal to its sender. ml-api-adapter uses its
//! configured version for those too; the two agree whenever the payee speaks the scheme's
//! version. The exception is what the Testing Toolkit's collections assert: with its default
//! environment (payees send 1.1, the Hub is expected at 1.0) `patch_notification.json` wants the
//! payer's COMMITTED and the PATCH at `contentTypeTransfers` and `fulfill_commit.json` the 3106 at
//! the PUT's own version, while GETs, timeouts, refusals of a prepare and the 3100s of an
//! abort-validation (`#2697`) are expected at `expectedTransfersVersion`. For the same reason the
//! PATCH is never dropped under a configured 1.0, as Mojaloop drops reserved-aborted: it goes in
//! the payee's version, and a RESERVED sent in 1.0 never gets this far (the fulfil function drops
//! it), so that version always has PATCH.
//!
//! **Order.** The callbacks of one transfer in a batch are sent one after the other, payer
//! before payee, as ml-api-adapter sends them; a DFSP (or TTK) listening for a transfer's first
//! callback gets the one meant for the payer.
//!
//! Delivery is at least once and at most once per event and recipient: a callback already
//! recorded as delivered is skipped (events are re-emitted with the same ids), failures on a
//! 5xx, a timeout or a refused connection are retried with doubling backoff up to
//! [`CALLBACK_ATTEMPTS_MAX`] times, and what still fails becomes a dead letter for operators.
//!
//! Every callback tried is journaled (URL, headers, body, the DFSP's last status or none),
//! one append per batch (`crate::audit`); that append and the delivery records are retried in
//! place while the store is unavailable (`plumbing::durable`), so a database outage neither loses
//! them nor makes a redelivered batch send the callbacks again; with signing keys, Hub-made callbacks carry an
//! `FSPIOP-Signature` (`crate::signatures`). A journal event (the entry of a request the edge
//! refused while the journal was unavailable, `crate::audit`) calls no one: its entry is appended
//! with the batch's.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use fspiop::datetime::{format_http_date, parse_fspiop_datetime};
use fspiop::transfers::{TransfersIdPatchResponse, TransfersIdPutResponse};
use fspiop::ApiVersion;
use futures::StreamExt as _;
use journal::Journal;
use jws::source::CachedKeys;
use ledger_core::condition::IlpFulfilment;
use ledger_core::ids::{FspId, TransferId};
use ledger_core::state::TransferStateEnum;
use ledger_core::time::Timestamp;
use ledger_store::{DeliveryKey, LedgerStore, NewDeadLetter, NewDelivery, StoreError};

use plumbing::callback_client::{CallbackClient, CallbackError};

use crate::envelope::{Action, Envelope, EventKind, Status};
use crate::messages::Callback;

/// Most callbacks of one batch in flight at once.
pub const CALLBACK_CONCURRENCY_MAX: usize = 32;
/// How often one callback is tried before it becomes a dead letter.
pub const CALLBACK_ATTEMPTS_MAX: u32 = 5;
/// Longest wait for a DFSP to answer one callback.
pub const CALLBACK_TIMEOUT_MS: u64 = 10_000;
/// Endpoint types (central-ledger `endpointType`). PATCH goes to the PUT endpoint.
pub const ENDPOINT_TRANSFER_POST: &str = "FSPIOP_CALLBACK_URL_TRANSFER_POST";
pub const ENDPOINT_TRANSFER_PUT: &str = "FSPIOP_CALLBACK_URL_TRANSFER_PUT";
pub const ENDPOINT_TRANSFER_ERROR: &str = "FSPIOP_CALLBACK_URL_TRANSFER_ERROR";
const TRANSFER_ID_PLACEHOLDER: &str = "{{transferId}}";
const SOURCE_FUNCTION: &str = "notification";

/// Scheme settings for callbacks.
#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// `SEND_TRANSFER_CONFIRMATION_TO_PAYEE`.
    pub confirm_to_payee: bool,
    /// The `Content-Type` version of the callbacks the Hub makes (`CALLBACK_CONTENT_VERSION`),
    /// except those answering a payee's PUT (module documentation).
    pub hub_content_version: ApiVersion,
    pub backoff_initial: Duration,
}

/// The shared, pooled HTTP client and the settings, with the message journal every callback
/// is appended to and the keys Hub-made callbacks are signed with, when configured.
#[derive(Clone)]
pub struct Notifier {
    client: CallbackClient,
    config: Arc<NotificationConfig>,
    journal: Option<Arc<dyn Journal>>,
    signing_keys: Option<Arc<CachedKeys>>,
}

impl Notifier {
    pub fn new(config: NotificationConfig) -> Result<Notifier, CallbackError> {
        let client = CallbackClient::new(Duration::from_millis(CALLBACK_TIMEOUT_MS))?;
        Ok(Notifier { client, config: Arc::new(config), journal: None, signing_keys: None })
    }

    /// Journals every callback (one append per batch).
    pub fn with_journal(self, journal: Arc<dyn Journal>) -> Notifier {
        Notifier { journal: Some(journal), ..self }
    }

    /// Signs the callbacks the Hub makes (`JWS_SIGN=true`).
    pub fn with_signing(self, keys: Arc<CachedKeys>) -> Notifier {
        Notifier { signing_keys: Some(keys), ..self }
    }
}

/// Sends every callback of a batch; returns how many were sent now.
pub async fn notify(
    store: &dyn LedgerStore,
    notifier: &Notifier,
    bodies: &[String],
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut report = crate::outbox::Report::default();
    // Refused requests' journal events are journaled with the callbacks' entries, and call no one.
    let (refusals, envelopes): (Vec<Envelope>, Vec<Envelope>) =
        report.read_envelopes(bodies).into_iter().partition(|it| it.metadata.event.kind == EventKind::Journal);
    let mut journaled = refused_entries(&refusals);
    let mut dead = dead_letters_of(&report, now);
    let parties = parties_of(store, &envelopes).await?;
    let mut planned = Vec::new();
    for (envelope_index, envelope) in envelopes.iter().enumerate() {
        for callback in callbacks(&parties, &notifier.config, envelope) {
            planned.push((envelope_index, callback));
        }
    }
    let keys: Vec<DeliveryKey> = planned
        .iter()
        .map(|(index, cb)| DeliveryKey {
            transfer_id: envelopes[*index].id.clone(),
            event_id: envelopes[*index].metadata.event.id.clone(),
            recipient: cb.recipient.to_string(),
        })
        .collect();
    // Recorded deliveries, and those of this batch as it goes: a repeated event is sent once.
    let mut delivered = store.delivered(&keys).await?;
    let due: Vec<((usize, Callback), DeliveryKey)> =
        planned.into_iter().zip(keys).filter(|(_, key)| delivered.insert(key.clone())).collect();
    let endpoints = Endpoints::of(store, due.iter().map(|((_, callback), _)| &callback.recipient)).await?;
    let mut jobs = Vec::new();
    for ((envelope_index, mut callback), key) in due {
        let url = endpoints.url(&callback, &envelopes[envelope_index].id);
        if let (Some(keys), Some(url)) = (&notifier.signing_keys, &url) {
            crate::signatures::sign_callback(keys, &mut callback, url, now).await;
        }
        jobs.push(CallbackJob { envelope_index, callback, url, key });
    }
    let mut sent = Vec::new();
    for (job, (status, outcome)) in send_all(notifier, jobs).await {
        let envelope = &envelopes[job.envelope_index];
        if notifier.journal.is_some() {
            journaled.push(crate::audit::outbound_entry(
                &job.key.event_id,
                &envelope.id,
                &job.callback,
                job.url.as_deref(),
                status,
                now,
            ));
        }
        match outcome {
            Ok(()) => {
                let DeliveryKey { transfer_id, event_id, recipient } = job.key;
                sent.push(NewDelivery { event_id, recipient, transfer_id, delivered: now })
            }
            Err(reason) => dead.push(dead_letter(envelope, &reason, now)),
        }
    }
    // The callbacks went out: what records them is retried in place while the store is away
    // (`plumbing::durable`), since a failed batch would send them again. The journal and the
    // ledger are separate files: their syncs overlap instead of adding up, and the partition's
    // next batch waits for both.
    let ledger = plumbing::durable::until_written("delivery records", StoreError::is_transient, || async {
        store.record_deliveries(&sent).await?;
        store.record_dead_letters(&dead).await
    });
    let (journaled, recorded) =
        tokio::join!(crate::audit::append_durably(notifier.journal.as_deref(), &journaled), ledger);
    recorded?;
    journaled?;
    Ok(sent.len())
}

/// The entries of refused requests' journal events; one this build cannot read back is logged.
fn refused_entries(refusals: &[Envelope]) -> Vec<journal::JournalEntry> {
    let read = |envelope: &Envelope| {
        let entry = crate::audit::refused_entry(envelope);
        if entry.is_none() {
            tracing::error!(
                transfer = envelope.id.as_str(),
                event = envelope.metadata.event.id.as_str(),
                "a journal event that is not a journal entry; not journaled"
            );
        }
        entry
    };
    refusals.iter().filter_map(read).collect()
}

fn dead_letters_of(report: &crate::outbox::Report, now: Timestamp) -> Vec<NewDeadLetter> {
    report
        .dead_letters
        .iter()
        .map(|it| NewDeadLetter {
            source: SOURCE_FUNCTION.to_string(),
            event_id: None,
            transfer_id: None,
            body: it.body.clone(),
            reason: it.reason.clone(),
            created: now,
        })
        .collect()
}

fn dead_letter(envelope: &Envelope, reason: &str, now: Timestamp) -> NewDeadLetter {
    NewDeadLetter {
        source: SOURCE_FUNCTION.to_string(),
        event_id: Some(envelope.metadata.event.id.clone()),
        transfer_id: Some(envelope.id.clone()),
        body: envelope.to_json(),
        reason: reason.to_string(),
        created: now,
    }
}

/// The callbacks an event asks for, per the matrix in the module documentation.
pub fn callbacks(parties: &Parties, config: &NotificationConfig, envelope: &Envelope) -> Vec<Callback> {
    let event = &envelope.metadata.event;
    let addressee = FspId::parse(&envelope.to);
    let Some(addressee) = addressee else { return Vec::new() };
    let both_parties = matches!(event.action, Action::AbortValidation | Action::TimeoutReserved);
    // A payee's own PUT /error carries an error state too, but is forwarded with a confirmation;
    // only errors the Hub made go to the addressee alone.
    let payee_abort = event.action == Action::Abort && envelope.from != ledger_core::account::HUB_NAME;
    if event.state.status == Status::Error && !both_parties && !payee_abort {
        return vec![hub_callback(envelope, config, addressee, "PUT", ENDPOINT_TRANSFER_ERROR, error_path(envelope))];
    }
    let parties = TransferId::parse(&envelope.id).and_then(|id| parties.get(&id).cloned());
    match (event.action, parties) {
        (Action::Prepare, _) => {
            vec![forwarded(envelope, addressee, "POST", ENDPOINT_TRANSFER_POST, "/transfers".to_string())]
        }
        (Action::PrepareDuplicate | Action::FulfilDuplicate | Action::AbortDuplicate | Action::Get, _) => {
            vec![hub_callback(envelope, config, addressee, "PUT", ENDPOINT_TRANSFER_PUT, put_path(envelope))]
        }
        (Action::ReservedAborted, _) => {
            vec![hub_callback(envelope, config, addressee, "PATCH", ENDPOINT_TRANSFER_PUT, put_path(envelope))]
        }
        (Action::TimeoutReceived, _) => {
            vec![hub_callback(envelope, config, addressee, "PUT", ENDPOINT_TRANSFER_ERROR, error_path(envelope))]
        }
        (Action::Commit, Some((payer, payee))) => {
            with_confirmation(envelope, config, payer, payee, "PUT", ENDPOINT_TRANSFER_PUT, put_path(envelope))
        }
        (Action::Abort, Some((payer, payee))) => {
            with_confirmation(envelope, config, payer, payee, "PUT", ENDPOINT_TRANSFER_ERROR, error_path(envelope))
        }
        (Action::Reserve, Some((payer, payee))) => reserve_callbacks(envelope, config, payer, payee),
        (Action::AbortValidation | Action::TimeoutReserved, Some((payer, payee))) => vec![
            hub_callback(envelope, config, payer, "PUT", ENDPOINT_TRANSFER_ERROR, error_path(envelope)),
            hub_callback(envelope, config, payee, "PUT", ENDPOINT_TRANSFER_ERROR, error_path(envelope)),
        ],
        _ => Vec::new(),
    }
}

/// The payer and payee of the batch's transfers whose callbacks reach both parties.
pub type Parties = HashMap<TransferId, (FspId, FspId)>;

/// Reads the parties of every transfer in the batch that needs them, in one store call: only
/// the callback matrix's rows that reach both parties do; the common ones read nothing.
async fn parties_of(store: &dyn LedgerStore, envelopes: &[Envelope]) -> Result<Parties, StoreError> {
    let ids: Vec<TransferId> =
        envelopes.iter().filter(|it| needs_parties(it)).filter_map(|it| TransferId::parse(&it.id)).collect();
    if ids.is_empty() {
        return Ok(Parties::new());
    }
    let found = store.transfers(&ids).await?;
    Ok(found.into_iter().map(|(id, transfer)| (id, (transfer.payer, transfer.payee))).collect())
}

fn needs_parties(envelope: &Envelope) -> bool {
    matches!(
        envelope.metadata.event.action,
        Action::Commit | Action::Abort | Action::Reserve | Action::AbortValidation | Action::TimeoutReserved
    )
}

fn put_path(envelope: &Envelope) -> String {
    format!("/transfers/{}", envelope.id)
}

fn error_path(envelope: &Envelope) -> String {
    format!("/transfers/{}/error", envelope.id)
}

/// A message forwarded as the DFSP sent it: its body, its Source, Destination, Content-Type,
/// Date and signature.
fn forwarded(
    envelope: &Envelope,
    recipient: FspId,
    method: &'static str,
    endpoint_type: &'static str,
    path: String,
) -> Callback {
    let kept = ["content-type", "date", "fspiop-source", "fspiop-destination", "fspiop-signature", "fspiop-encryption"];
    let mut headers: Vec<(String, String)> = kept
        .iter()
        .filter_map(|name| envelope.content.headers.get(*name).map(|value| (name.to_string(), value.clone())))
        .collect();
    if method != "PUT" {
        if let Some(accept) = envelope.content.headers.get("accept") {
            headers.push(("accept".to_string(), accept.clone()));
        }
    }
    headers.push(("fspiop-uri".to_string(), path.clone()));
    headers.push(("fspiop-http-method".to_string(), method.to_string()));
    let body = envelope.payload_bytes().unwrap_or_default();
    Callback { recipient, method, endpoint_type, path, headers, body }
}

/// A message from the Hub: the Hub is the Source, the recipient the Destination, the content
/// type the Hub's configured version; no Accept on PUT, a fresh Date.
fn hub_callback(
    envelope: &Envelope,
    config: &NotificationConfig,
    recipient: FspId,
    method: &'static str,
    endpoint_type: &'static str,
    path: String,
) -> Callback {
    let body = envelope.payload_bytes().unwrap_or_default();
    hub_callback_with_body(envelope, hub_version(envelope, config), recipient, method, endpoint_type, path, body)
}

/// The `Content-Type` version of a callback the Hub makes for this event (module
/// documentation): the version of the payee's PUT for what answers it, else the configured one.
fn hub_version(envelope: &Envelope, config: &NotificationConfig) -> ApiVersion {
    let event = &envelope.metadata.event;
    let answers_a_put = match event.action {
        Action::Reserve | Action::ReservedAborted | Action::FulfilDuplicate | Action::AbortDuplicate => true,
        // Refused by the Hub, to the PUT's sender; a payee's own error (from the payee) is not.
        Action::Commit | Action::Abort | Action::Reject => {
            event.state.status == Status::Error && envelope.from == ledger_core::account::HUB_NAME
        }
        _ => false,
    };
    let sent = envelope.content.headers.get("content-type").and_then(|it| ApiVersion::from_content_type(it));
    match (answers_a_put, sent) {
        (true, Some(version)) => version,
        _ => config.hub_content_version,
    }
}

fn hub_callback_with_body(
    envelope: &Envelope,
    version: ApiVersion,
    recipient: FspId,
    method: &'static str,
    endpoint_type: &'static str,
    path: String,
    body: Vec<u8>,
) -> Callback {
    let created = fspiop::datetime::parse_fspiop_datetime(&envelope.metadata.event.created_at)
        .unwrap_or(Timestamp::from_unix_ms(0));
    let headers = vec![
        ("content-type".to_string(), version.content_type()),
        ("date".to_string(), format_http_date(created)),
        ("fspiop-source".to_string(), ledger_core::account::HUB_NAME.to_string()),
        ("fspiop-destination".to_string(), recipient.to_string()),
        ("fspiop-uri".to_string(), path.clone()),
        ("fspiop-http-method".to_string(), method.to_string()),
    ];
    Callback { recipient, method, endpoint_type, path, headers, body }
}

/// The payer gets the payee's message as sent; the payee, if the scheme says so and it is not
/// the payer, a copy from the Hub.
fn with_confirmation(
    envelope: &Envelope,
    config: &NotificationConfig,
    payer: FspId,
    payee: FspId,
    method: &'static str,
    endpoint_type: &'static str,
    path: String,
) -> Vec<Callback> {
    let mut callbacks = vec![forwarded(envelope, payer.clone(), method, endpoint_type, path.clone())];
    if config.confirm_to_payee && payer != payee {
        callbacks.push(hub_callback(envelope, config, payee, method, endpoint_type, path));
    }
    callbacks
}

/// The v1.1 RESERVED flow: the payer gets a Hub-made COMMITTED with the fulfilment, the payee a
/// PATCH COMMITTED, both in the payee's version.
fn reserve_callbacks(envelope: &Envelope, config: &NotificationConfig, payer: FspId, payee: FspId) -> Vec<Callback> {
    let answer: serde_json::Value =
        serde_json::from_slice(&envelope.payload_bytes().unwrap_or_default()).unwrap_or_default();
    let completed = answer["completedTimestamp"]
        .as_str()
        .and_then(parse_fspiop_datetime)
        .or_else(|| parse_fspiop_datetime(&envelope.metadata.event.created_at))
        .unwrap_or(Timestamp::from_unix_ms(0));
    let fulfilment = answer["fulfilment"].as_str().and_then(IlpFulfilment::from_base64url);
    let put = TransfersIdPutResponse::from_hub(completed, TransferStateEnum::Committed, fulfilment.as_ref(), None);
    let patch = TransfersIdPatchResponse::from_hub(None, completed, TransferStateEnum::Committed, None);
    let (path, version) = (put_path(envelope), hub_version(envelope, config));
    vec![
        hub_callback_with_body(
            envelope,
            version,
            payer,
            "PUT",
            ENDPOINT_TRANSFER_PUT,
            path.clone(),
            put.to_json().into_bytes(),
        ),
        hub_callback_with_body(
            envelope,
            version,
            payee,
            "PATCH",
            ENDPOINT_TRANSFER_PUT,
            path,
            patch.to_json().into_bytes(),
        ),
    ]
}

/// Sends to the recipient's endpoint, retrying transient failures. Returns the last HTTP status
/// the DFSP answered (none if it never answered) and whether the callback was delivered; the
/// error says why it gave up.
async fn deliver(notifier: &Notifier, url: Option<&str>, callback: &Callback) -> (Option<u16>, Result<(), String>) {
    let Some(url) = url else {
        // Mojaloop's 1001: nowhere to send it.
        return (None, Err(format!("1001: no {} endpoint for DFSP {}", callback.endpoint_type, callback.recipient)));
    };
    let mut backoff = notifier.config.backoff_initial;
    let mut last_failure = String::new();
    let mut last_status = None;
    for attempt in 1..=CALLBACK_ATTEMPTS_MAX {
        match send_once(notifier, url, callback).await {
            Attempt::Delivered(status) => return (Some(status), Ok(())),
            Attempt::GiveUp(status, reason) => return (Some(status), Err(reason)),
            Attempt::Retry(status, reason) => {
                last_status = status;
                last_failure = reason;
            }
        }
        if attempt < CALLBACK_ATTEMPTS_MAX {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    (last_status, Err(format!("gave up after {CALLBACK_ATTEMPTS_MAX} attempts: {last_failure}")))
}

/// One callback of a batch, ready to send.
struct CallbackJob {
    /// Which of the batch's envelopes it answers.
    envelope_index: usize,
    callback: Callback,
    url: Option<String>,
    /// The delivery record's key.
    key: DeliveryKey,
}

type Sent = (Option<u16>, Result<(), String>);

/// Sends a batch's callbacks: those about one transfer in order, one after the other (a payee
/// must see the prepare before the commit, and the payer hears of an outcome before the payee,
/// as from ml-api-adapter), and the other transfers' side by side, at most
/// [`CALLBACK_CONCURRENCY_MAX`] transfers at a time, so one slow DFSP does not hold up the
/// others. The results come back in the jobs' order.
async fn send_all(notifier: &Notifier, jobs: Vec<CallbackJob>) -> Vec<(CallbackJob, Sent)> {
    let mut groups: Vec<Vec<(usize, CallbackJob)>> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (index, job) in jobs.into_iter().enumerate() {
        let group = *group_of.entry(job.key.transfer_id.clone()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push((index, job));
    }
    let sent_groups: Vec<Vec<(usize, CallbackJob, Sent)>> = futures::stream::iter(groups)
        .map(|group| send_in_order(notifier, group))
        .buffer_unordered(CALLBACK_CONCURRENCY_MAX)
        .collect()
        .await;
    let mut results: Vec<(usize, CallbackJob, Sent)> = sent_groups.into_iter().flatten().collect();
    results.sort_by_key(|(index, ..)| *index);
    results.into_iter().map(|(_, job, sent)| (job, sent)).collect()
}

async fn send_in_order(notifier: &Notifier, group: Vec<(usize, CallbackJob)>) -> Vec<(usize, CallbackJob, Sent)> {
    let mut results = Vec::new();
    for (index, job) in group {
        let sent = deliver(notifier, job.url.as_deref(), &job.callback).await;
        results.push((index, job, sent));
    }
    results
}

/// The recipients' endpoint templates, read once per batch for all of them.
struct Endpoints {
    by_fsp: HashMap<FspId, Vec<(String, String)>>,
}

impl Endpoints {
    async fn of(store: &dyn LedgerStore, recipients: impl Iterator<Item = &FspId>) -> Result<Endpoints, StoreError> {
        let names: Vec<FspId> = recipients.cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let by_fsp = match names.is_empty() {
            true => HashMap::new(),
            false => store.endpoints_by_name(&names).await?,
        };
        Ok(Endpoints { by_fsp })
    }

    fn url(&self, callback: &Callback, transfer_id: &str) -> Option<String> {
        let template = self.by_fsp.get(&callback.recipient)?.iter().find(|(kind, _)| kind == callback.endpoint_type);
        template.map(|(_, value)| value.replace(TRANSFER_ID_PLACEHOLDER, transfer_id))
    }
}

/// One try's result, with the DFSP's status when it answered.
enum Attempt {
    Delivered(u16),
    Retry(Option<u16>, String),
    GiveUp(u16, String),
}

async fn send_once(notifier: &Notifier, url: &str, callback: &Callback) -> Attempt {
    match notifier.client.send(callback.method, url, &callback.headers, callback.body.clone()).await {
        Ok(status) if status.is_success() => Attempt::Delivered(status.as_u16()),
        Ok(status) if status.is_server_error() => Attempt::Retry(Some(status.as_u16()), format!("HTTP {status}")),
        Ok(status) => Attempt::GiveUp(status.as_u16(), format!("HTTP {status}")),
        Err(err) => Attempt::Retry(None, err.to_string()),
    }
}
