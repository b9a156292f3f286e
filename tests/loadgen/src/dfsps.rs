//! The simulated DFSPs: one HTTP server for all of their callback endpoints
//! (`/{fsp}/transfers...`), the payee's answer to a prepare, and the payer's `POST /transfers`.
//! With `--expiring-share`, one more DFSP, the silent payee, takes its prepares and never
//! answers them, and the callbacks of those transfers are handed to [`crate::expiry`].
//!
//! Built for speed rather than inspection: a callback is parsed only for the fields it needs,
//! nothing is kept but the tracker's counters and histograms, and every request to the switch goes
//! through one pooled HTTP client: plain hyper, because a general-purpose client's URL parsing,
//! redirect policy and header builder cost the generator a tenth of its CPU, on the machine
//! whose CPU the switch is measured on.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::routing::{post, put};
use axum::Router;
use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use http_body_util::{BodyExt as _, Full};
use ledger_core::time::Timestamp;
use plumbing::callback_client::{describe, pooled_client, PooledClient};
use serde::Deserialize;

use crate::driver::pair;
use crate::expiry::{Expiry, Party};
use crate::ids::{self, DfspNames, RunIds};
use crate::options::Scenario;
use crate::tracker::{Outcome, Tracker, TRANSPORT_ERROR};

/// The FSPIOP content type the generator speaks.
pub const CONTENT_TYPE: &str = "application/vnd.interoperability.transfers+json;version=1.1";
/// Idle connections kept per host by the client (the closed loop's concurrency needs as many).
const POOL_IDLE_PER_HOST_MAX: usize = 4096;
/// How long one request to the switch may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes of an error answer kept to find its FSPIOP code.
const ERROR_BODY_BYTES_MAX: usize = 4096;

/// What a run's DFSPs share.
pub struct Dfsps {
    pub ids: RunIds,
    pub names: DfspNames,
    pub tracker: Tracker,
    client: PooledClient,
    /// The FSPIOP API's base URL, without a trailing slash.
    fspiop_url: String,
    amount: String,
    currency: String,
    expiration: Duration,
    /// The expiring share and its silent payee (the last of `names`), if any.
    pub expiry: Option<Expiry>,
}

/// The transfer fields a payee needs from a prepare.
#[derive(Deserialize)]
struct Prepare<'a> {
    #[serde(rename = "transferId", borrow)]
    transfer_id: Cow<'a, str>,
    #[serde(rename = "payerFsp", borrow)]
    payer: Cow<'a, str>,
    #[serde(rename = "ilpPacket", borrow)]
    ilp_packet: Cow<'a, str>,
}

#[derive(Deserialize)]
struct StateBody<'a> {
    #[serde(rename = "transferState", borrow, default)]
    transfer_state: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "errorInformation")]
    error_information: ErrorInformation,
}

#[derive(Deserialize)]
struct ErrorInformation {
    #[serde(rename = "errorCode")]
    error_code: String,
    #[serde(rename = "errorDescription", default)]
    error_description: String,
}

impl Dfsps {
    pub fn new(
        ids: RunIds,
        names: DfspNames,
        tracker: Tracker,
        fspiop_url: &str,
        amount: &str,
        currency: &str,
        expiration: Duration,
    ) -> Dfsps {
        let client = pooled_client(None, POOL_IDLE_PER_HOST_MAX).expect("the platform's TLS roots");
        Dfsps {
            ids,
            names,
            tracker,
            client,
            fspiop_url: fspiop_url.trim_end_matches('/').to_string(),
            amount: amount.to_string(),
            currency: currency.to_string(),
            expiration,
            expiry: None,
        }
    }

    /// Sends `expiry`'s share of the transfers to its silent payee, which must be the last of
    /// the names.
    pub fn with_expiry(mut self, expiry: Expiry) -> Dfsps {
        assert_eq!(expiry.payee as usize + 1, self.names.all().len(), "the silent payee is the last DFSP");
        self.expiry = Some(expiry);
        self
    }

    /// How many DFSPs pay and answer as payees: all but the silent payee.
    pub fn answering(&self) -> u32 {
        self.names.all().len() as u32 - u32::from(self.expiry.is_some())
    }

    /// The payer and the payee of transfer `index`: [`pair`] among the answering DFSPs, or the
    /// silent payee for an expiring transfer.
    pub fn parties(&self, scenario: &Scenario, index: u64) -> (u32, u32) {
        let (payer, payee) = pair(scenario, self.answering(), index);
        match &self.expiry {
            Some(expiry) if expiry.is_expiring(index) => (payer, expiry.payee),
            _ => (payer, payee),
        }
    }

    /// The expiry tracker, if transfer `index` is one of its share.
    fn expiring(&self, index: u64) -> Option<&Expiry> {
        self.expiry.as_ref().filter(|it| it.is_expiring(index))
    }

    /// The callback endpoints to register for `fsp`, served at `base` (`http://host:port`).
    pub fn endpoints(base: &str, fsp: &str) -> Vec<(&'static str, String)> {
        let base = format!("{}/{fsp}", base.trim_end_matches('/'));
        vec![
            ("FSPIOP_CALLBACK_URL_TRANSFER_POST", format!("{base}/transfers")),
            ("FSPIOP_CALLBACK_URL_TRANSFER_PUT", format!("{base}/transfers/{{{{transferId}}}}")),
            ("FSPIOP_CALLBACK_URL_TRANSFER_ERROR", format!("{base}/transfers/{{{{transferId}}}}/error")),
        ]
    }

    /// Sends transfer `index` from `payer` to `payee`; its latency counts from `start`.
    pub async fn send(self: Arc<Self>, index: u64, payer: u32, payee: u32, start: Instant) {
        let transfer_id = self.ids.transfer_id(index);
        let (payer_name, payee_name) = (self.names.name(payer), self.names.name(payee));
        let packet = ids::ilp_packet(&transfer_id, payer_name, payee_name, &self.amount, &self.currency);
        let expiring = self.expiring(index);
        let expires_in = expiring.map_or(self.expiration, Expiry::expiration);
        let (since_epoch, sent) = (since_epoch(), Instant::now());
        let wall = Timestamp::from_unix_ms(since_epoch.as_millis() as i64);
        let expiration = format_fspiop_datetime(wall.plus_ms(expires_in.as_millis() as i64));
        // The instant of that expiration, whose text drops the clock's sub-millisecond part.
        let dropped = Duration::from_nanos(u64::from(since_epoch.subsec_nanos() % 1_000_000));
        let expires_at = (sent + expires_in).checked_sub(dropped).unwrap_or(sent);
        let body = format!(
            r#"{{"transferId":"{transfer_id}","payerFsp":"{payer_name}","payeeFsp":"{payee_name}","amount":{{"amount":"{}","currency":"{}"}},"ilpPacket":"{packet}","condition":"{}","expiration":"{expiration}"}}"#,
            self.amount,
            self.currency,
            self.ids.condition(&packet),
        );
        self.tracker.begin(index, payer, start);
        if let Some(expiry) = expiring {
            expiry.begin(index, start, expires_at);
        }
        let request = fspiop_request(
            Method::POST,
            format!("{}/transfers", self.fspiop_url),
            CONTENT_TYPE,
            payer_name,
            payee_name,
            body,
        );
        if let Err((code, _)) = self.exchange(request).await {
            self.tracker.finish(index, None, Outcome::Failed(code), Instant::now());
            if let Some(expiry) = expiring {
                expiry.refused(index);
            }
        }
    }

    /// The payee's fulfilment, sent after the prepare callback was answered.
    async fn fulfil(
        self: Arc<Self>,
        payee: String,
        payer: String,
        transfer_id: String,
        ilp_packet: String,
        content_type: String,
    ) {
        let body = format!(
            r#"{{"fulfilment":"{}","completedTimestamp":"{}","transferState":"COMMITTED"}}"#,
            self.ids.fulfilment(&ilp_packet),
            format_fspiop_datetime(now()),
        );
        let url = format!("{}/transfers/{transfer_id}", self.fspiop_url);
        let request = fspiop_request(Method::PUT, url, &content_type, &payee, &payer, body);
        if let Err((code, description)) = self.exchange(request).await {
            self.tracker.payee_answer_failed(format!("{code} {description}").trim_end().to_string());
        }
    }

    /// Sends `request` within [`REQUEST_TIMEOUT`]: `Ok` for a 2xx answer, else the FSPIOP error
    /// code of the answer (or `http:<status>`, or [`TRANSPORT_ERROR`]) and its description.
    async fn exchange(&self, request: Result<Request<Full<Bytes>>, String>) -> Result<(), (String, String)> {
        let request = request.map_err(|reason| (TRANSPORT_ERROR.to_string(), reason))?;
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self.client.request(request).await.map_err(|err| describe(&err))?;
            let status = response.status();
            if status.is_success() {
                return Ok(None);
            }
            let body = response.into_body().collect().await.map(|it| it.to_bytes()).unwrap_or_default();
            Ok(Some((status, body.slice(..body.len().min(ERROR_BODY_BYTES_MAX)))))
        })
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {REQUEST_TIMEOUT:?}")));
        match answer {
            Ok(None) => Ok(()),
            Ok(Some((status, bytes))) => Err(error_code(status, &bytes)),
            Err(reason) => Err((TRANSPORT_ERROR.to_string(), reason)),
        }
    }
}

/// An FSPIOP request from `source` to `destination`. The Accept header is set: without it a
/// client may send `Accept: */*`, which the switch refuses (3101).
fn fspiop_request(
    method: Method,
    url: String,
    content_type: &str,
    source: &str,
    destination: &str,
    body: String,
) -> Result<Request<Full<Bytes>>, String> {
    let header = |value: &str| HeaderValue::from_str(value).map_err(|err| format!("header value {value:?}: {err}"));
    let mut request =
        Request::builder().method(method).uri(url).body(Full::new(Bytes::from(body))).map_err(|err| err.to_string())?;
    let headers = request.headers_mut();
    headers.insert("accept", header(content_type)?);
    headers.insert("content-type", header(content_type)?);
    headers.insert("date", header(&format_http_date(now()))?);
    headers.insert("fspiop-source", header(source)?);
    headers.insert("fspiop-destination", header(destination)?);
    Ok(request)
}

/// Serves the callback endpoints on `listener` until the runtime stops.
pub fn serve(dfsps: Arc<Dfsps>, listener: tokio::net::TcpListener) {
    let router = Router::new()
        .route("/{fsp}/transfers", post(receive_prepare))
        .route("/{fsp}/transfers/{id}", put(receive_state).patch(receive_other))
        .route("/{fsp}/transfers/{id}/error", put(receive_error))
        .with_state(dfsps);
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!("the callback server stopped: {err}");
        }
    });
}

/// Binds the callback server; the listener and its address.
pub async fn bind(address: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = plumbing::listen::bind(address)?;
    let bound = listener.local_addr()?;
    Ok((listener, bound))
}

async fn receive_prepare(
    State(dfsps): State<Arc<Dfsps>>,
    Path(fsp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Ok(prepare) = serde_json::from_slice::<Prepare>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if let Some(expiry) = dfsps.expiry.as_ref().filter(|it| dfsps.names.index_of(&fsp) == Some(it.payee)) {
        // The silent payee takes the prepare and never answers it.
        if let Some(index) = dfsps.ids.index_of(&prepare.transfer_id) {
            expiry.payee_prepared(index);
        }
        return StatusCode::ACCEPTED;
    }
    dfsps.tracker.counters.payee_prepares.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let content_type = headers.get("content-type").and_then(|it| it.to_str().ok()).unwrap_or(CONTENT_TYPE).to_string();
    let answer = Arc::clone(&dfsps).fulfil(
        fsp,
        prepare.payer.into_owned(),
        prepare.transfer_id.into_owned(),
        prepare.ilp_packet.into_owned(),
        content_type,
    );
    tokio::spawn(answer);
    StatusCode::ACCEPTED
}

async fn receive_state(
    State(dfsps): State<Arc<Dfsps>>,
    Path((fsp, id)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    let now = Instant::now();
    let outcome = match serde_json::from_slice::<StateBody>(&body).ok().and_then(|it| it.transfer_state) {
        Some(state) if state == "COMMITTED" => Outcome::Committed,
        Some(state) => Outcome::Failed(format!("state:{state}")),
        None => Outcome::Failed("state:missing".into()),
    };
    end(&dfsps, &fsp, &id, outcome, now);
    StatusCode::OK
}

async fn receive_error(
    State(dfsps): State<Arc<Dfsps>>,
    Path((fsp, id)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    let now = Instant::now();
    let code = serde_json::from_slice::<ErrorBody>(&body)
        .map(|it| it.error_information.error_code)
        .unwrap_or_else(|_| "unreadable".into());
    end(&dfsps, &fsp, &id, Outcome::Failed(code), now);
    StatusCode::OK
}

async fn receive_other(State(dfsps): State<Arc<Dfsps>>) -> StatusCode {
    dfsps.tracker.counters.other_callbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    StatusCode::OK
}

/// Ends the transfer if the callback is its payer's; anything else is only counted. A callback
/// of an expiring transfer also goes to the expiry tracker: the silent payee's, or the one that
/// ended the transfer for its payer.
fn end(dfsps: &Dfsps, fsp: &str, transfer_id: &str, outcome: Outcome, now: Instant) {
    let (Some(index), Some(recipient)) = (dfsps.ids.index_of(transfer_id), dfsps.names.index_of(fsp)) else {
        dfsps.tracker.counters.other_callbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    };
    let expiring = dfsps.expiring(index);
    if let Some(expiry) = expiring.filter(|it| it.payee == recipient) {
        expiry.told(index, Party::Payee, &code_of(&outcome), now);
        return;
    }
    let code = expiring.map(|_| code_of(&outcome));
    let ended = dfsps.tracker.finish(index, Some(recipient), outcome, now);
    if let (Some(expiry), Some(code), true) = (expiring, code, ended) {
        expiry.told(index, Party::Payer, &code, now);
    }
}

/// The error code of an outcome, or the state it reported.
fn code_of(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Committed => "state:COMMITTED".to_string(),
        Outcome::Failed(code) => code.clone(),
    }
}

/// The FSPIOP error code and description of a refusal, or `http:<status>` and the body's text.
fn error_code(status: StatusCode, bytes: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => (body.error_information.error_code, body.error_information.error_description),
        Err(_) => (format!("http:{}", status.as_u16()), String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn now() -> Timestamp {
    Timestamp::from_unix_ms(since_epoch().as_millis() as i64)
}

fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_give_their_fspiop_code_or_else_the_status() {
        let body = br#"{"errorInformation":{"errorCode":"3101","errorDescription":"Malformed syntax"}}"#;
        assert_eq!(error_code(StatusCode::BAD_REQUEST, body), ("3101".to_string(), "Malformed syntax".to_string()));
        assert_eq!(
            error_code(StatusCode::BAD_GATEWAY, b"upstream down"),
            ("http:502".to_string(), "upstream down".to_string())
        );
    }

    #[test]
    fn requests_carry_the_fspiop_headers() {
        let request = fspiop_request(
            Method::PUT,
            "http://switch/transfers/x".into(),
            CONTENT_TYPE,
            "payee",
            "payer",
            "{}".into(),
        )
        .unwrap();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.headers()["accept"], CONTENT_TYPE);
        assert_eq!(request.headers()["content-type"], CONTENT_TYPE);
        assert_eq!(request.headers()["fspiop-source"], "payee");
        assert_eq!(request.headers()["fspiop-destination"], "payer");
        assert!(request.headers().contains_key("date"));
        assert!(fspiop_request(
            Method::POST,
            "http://switch/transfers".into(),
            CONTENT_TYPE,
            "bad\nname",
            "payer",
            "{}".into()
        )
        .is_err());
    }
}
