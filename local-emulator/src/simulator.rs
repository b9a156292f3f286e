//! DFSP simulators: one HTTP server that plays any number of DFSPs. It receives their callbacks
//! at `/{fsp}/transfers...` (the URL templates [`Simulators::endpoints`] gives for registration),
//! records them, and as payee answers a prepare the way a real DFSP does: it fulfils with the
//! fulfilment that matches the condition (as COMMITTED, or RESERVED for the v1.1 PATCH flow),
//! rejects, or stays silent, per DFSP. As payer it sends
//! `POST /transfers` with a condition it can later check.
//!
//! Conditions and fulfilments come from a secret the simulated DFSPs share, like the Mojaloop SDK's
//! ILP secret: the fulfilment is SHA-256(secret ‖ ILP packet), the condition SHA-256 of that. So
//! the payee derives the right fulfilment from the ILP packet alone.
//!
//! For fault-injection tests a DFSP's endpoint can be made to fail its next N callbacks (503).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{get, post, put};
use axum::Router;
use base64::Engine as _;
use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use ledger_core::condition::IlpFulfilment;
use ledger_core::time::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use tokio::sync::Notify;

/// The FSPIOP content type the simulators speak by default.
pub const CONTENT_TYPE_V1_1: &str = "application/vnd.interoperability.transfers+json;version=1.1";
/// How long a simulated payer gives a transfer before it expires.
pub const TRANSFER_VALIDITY: Duration = Duration::from_secs(60);

/// How a simulated DFSP answers a prepare it receives as payee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayeeMode {
    /// `PUT /transfers/{id}` with the matching fulfilment and `COMMITTED`.
    Fulfil,
    /// `PUT /transfers/{id}/error` with this error code (e.g. `5104` transaction declined).
    Reject(String),
    /// No answer: the transfer times out.
    Silent,
    /// `PUT /transfers/{id}` with the matching fulfilment and `RESERVED` (the v1.1 flow that ends
    /// in a PATCH), addressed to `to` instead of the payer and sent with `content_type` instead
    /// of the prepare's, when given.
    Reserve { to: Option<String>, content_type: Option<String> },
}

/// One request a simulated DFSP received.
#[derive(Debug, Clone)]
pub struct Received {
    pub fsp: String,
    pub method: String,
    /// The path after `/{fsp}`, e.g. `/transfers/01J.../error`.
    pub path: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: Value,
    pub at: Instant,
}

/// A simulated payee's answer to a prepare (its `PUT /transfers/{id}` or `…/error`) and the
/// switch's HTTP status, or none when no answer came.
#[derive(Debug, Clone)]
pub struct Answered {
    pub fsp: String,
    pub transfer_id: String,
    pub path: String,
    pub status: Option<u16>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// The simulators' server and state.
#[derive(Clone)]
pub struct Simulators {
    state: Arc<SimState>,
    pub address: SocketAddr,
}

struct SimState {
    switch_url: String,
    secret: IlpSecret,
    client: reqwest::Client,
    received: Mutex<Vec<Received>>,
    arrived: Notify,
    modes: Mutex<HashMap<String, PayeeMode>>,
    failing: Mutex<HashMap<String, u32>>,
    /// Callbacks refused by injected failures, per DFSP.
    refused: Mutex<HashMap<String, u32>>,
    /// What the simulated payees sent back, with the switch's status.
    answered: Mutex<Vec<Answered>>,
}

impl Simulators {
    /// Serves the simulators on `127.0.0.1:port` (0 = any); payees answer to `switch_url` (the
    /// FSPIOP API's base URL).
    pub async fn start(switch_url: &str, port: u16) -> std::io::Result<Simulators> {
        let listener = plumbing::listen::bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
        let address = listener.local_addr()?;
        let secret = IlpSecret::new();
        let state = Arc::new(SimState {
            switch_url: switch_url.trim_end_matches('/').to_string(),
            secret,
            client: reqwest::Client::builder().no_proxy().build().unwrap_or_default(),
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            modes: Mutex::new(HashMap::new()),
            failing: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
            answered: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/{fsp}/transfers", post(receive_prepare))
            .route("/{fsp}/transfers/{id}", put(receive_callback).patch(receive_callback))
            .route("/{fsp}/transfers/{id}/error", put(receive_callback))
            .route("/demo/prepare-body", get(prepare_body))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!("DFSP simulators stopped: {err}");
            }
        });
        Ok(Simulators { state, address })
    }

    /// The callback endpoints to register for `fsp`: `(endpoint type, URL template)`.
    pub fn endpoints(&self, fsp: &str) -> Vec<(&'static str, String)> {
        let base = format!("http://{}/{fsp}", self.address);
        vec![
            ("FSPIOP_CALLBACK_URL_TRANSFER_POST", format!("{base}/transfers")),
            ("FSPIOP_CALLBACK_URL_TRANSFER_PUT", format!("{base}/transfers/{{{{transferId}}}}")),
            ("FSPIOP_CALLBACK_URL_TRANSFER_ERROR", format!("{base}/transfers/{{{{transferId}}}}/error")),
        ]
    }

    pub fn set_payee_mode(&self, fsp: &str, mode: PayeeMode) {
        self.state.modes.lock().unwrap_or_else(|it| it.into_inner()).insert(fsp.to_string(), mode);
    }

    /// Makes `fsp`'s endpoint answer its next `n` callbacks with 503.
    pub fn fail_next_callbacks(&self, fsp: &str, n: u32) {
        self.state.failing.lock().unwrap_or_else(|it| it.into_inner()).insert(fsp.to_string(), n);
    }

    /// How many callbacks to `fsp` were refused by [`Simulators::fail_next_callbacks`].
    pub fn refused(&self, fsp: &str) -> u32 {
        self.state.refused.lock().unwrap_or_else(|it| it.into_inner()).get(fsp).copied().unwrap_or(0)
    }

    /// Every answer the simulated payees sent so far.
    pub fn answered(&self) -> Vec<Answered> {
        self.state.answered.lock().unwrap_or_else(|it| it.into_inner()).clone()
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap_or_else(|it| it.into_inner()).clone()
    }

    /// What `fsp` received about `transfer_id`, in arrival order.
    pub fn received_for(&self, fsp: &str, transfer_id: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|it| it.fsp == fsp && (it.path.contains(transfer_id) || it.body["transferId"] == transfer_id))
            .collect()
    }

    /// Waits until `check` holds for what has been received, up to `within`.
    pub async fn wait_until(&self, within: Duration, check: impl Fn(&[Received]) -> bool) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let arrived = self.state.arrived.notified();
            if check(&self.received()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, arrived).await.is_err() {
                return check(&self.received());
            }
        }
    }

    /// The condition a payer puts on a transfer carrying `ilp_packet`.
    pub fn condition_for(&self, ilp_packet: &str) -> String {
        self.state.secret.fulfilment(ilp_packet).condition().to_base64url()
    }

    /// Sends `POST /transfers` as `payer`; the transfer id and the switch's HTTP status.
    pub async fn send_transfer(
        &self,
        payer: &str,
        payee: &str,
        amount: &str,
        currency: &str,
    ) -> Result<(String, u16), String> {
        let transfer_id = uuid::Uuid::new_v4().to_string();
        let body = self.prepare_body(&transfer_id, payer, payee, amount, currency);
        let status = self.send(Method::POST, "/transfers", payer, payee, &body).await?;
        Ok((transfer_id, status))
    }

    /// The body of a prepare from `payer`, with a fresh ILP packet and its condition.
    pub fn prepare_body(&self, transfer_id: &str, payer: &str, payee: &str, amount: &str, currency: &str) -> Value {
        prepare_body_of(&self.state, transfer_id, payer, payee, amount, currency)
    }

    /// Sends an FSPIOP request to the switch as `source`; the HTTP status.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        source: &str,
        destination: &str,
        body: &Value,
    ) -> Result<u16, String> {
        send_fspiop(&self.state, method, path, source, destination, CONTENT_TYPE_V1_1, Some(body)).await
    }

    /// Sends `GET /transfers/{id}` as `source`; the HTTP status.
    pub async fn get_transfer(&self, source: &str, transfer_id: &str) -> Result<u16, String> {
        send_fspiop(&self.state, Method::GET, &format!("/transfers/{transfer_id}"), source, "", CONTENT_TYPE_V1_1, None)
            .await
    }
}

fn now() -> Timestamp {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_unix_ms(since_epoch.as_millis() as i64)
}

/// The body of a prepare from `payer`, with a fresh ILP packet and the condition of `state`'s secret.
fn prepare_body_of(
    state: &SimState,
    transfer_id: &str,
    payer: &str,
    payee: &str,
    amount: &str,
    currency: &str,
) -> Value {
    let packet = ilp_packet(transfer_id, payer, payee, amount, currency);
    let expiration = format_fspiop_datetime(now().plus_ms(TRANSFER_VALIDITY.as_millis() as i64));
    json!({
        "transferId": transfer_id,
        "payerFsp": payer,
        "payeeFsp": payee,
        "amount": { "amount": amount, "currency": currency },
        "ilpPacket": packet,
        "condition": state.secret.fulfilment(&packet).condition().to_base64url(),
        "expiration": expiration
    })
}

/// The secret simulated DFSPs share for conditions, like the Mojaloop SDK's ILP secret.
#[derive(Debug, Clone)]
pub struct IlpSecret([u8; 32]);

impl IlpSecret {
    /// A fresh random secret.
    pub fn new() -> IlpSecret {
        IlpSecret(Sha256::digest(uuid::Uuid::new_v4().as_bytes()).into())
    }

    /// The fulfilment of a transfer carrying `ilp_packet`: SHA-256(secret ‖ ILP packet). Its
    /// condition is the payer's.
    pub fn fulfilment(&self, ilp_packet: &str) -> IlpFulfilment {
        let mut digest = Sha256::new();
        digest.update(self.0);
        digest.update(ilp_packet.as_bytes());
        IlpFulfilment::from_bytes(digest.finalize().into())
    }
}

impl Default for IlpSecret {
    fn default() -> IlpSecret {
        IlpSecret::new()
    }
}

/// A transfer's ILP packet: opaque to the switch, unique per transfer.
pub fn ilp_packet(transfer_id: &str, payer: &str, payee: &str, amount: &str, currency: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("ilp:{transfer_id}:{payer}:{payee}:{amount}:{currency}"))
}

async fn send_fspiop(
    state: &SimState,
    method: Method,
    path: &str,
    source: &str,
    destination: &str,
    content_type: &str,
    body: Option<&Value>,
) -> Result<u16, String> {
    let mut request = state
        .client
        .request(method, format!("{}{path}", state.switch_url))
        .header("accept", content_type)
        .header("content-type", content_type)
        .header("date", format_http_date(now()))
        .header("fspiop-source", source);
    if !destination.is_empty() {
        request = request.header("fspiop-destination", destination);
    }
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.map_err(|err| err.to_string())?;
    let status = response.status();
    if !status.is_success() {
        let answer = response.text().await.unwrap_or_default();
        tracing::warn!("simulated {source}: {path} answered {status}: {answer}");
    }
    Ok(status.as_u16())
}

/// `GET /demo/prepare-body?payer=&payee=&amount=&currency=`: a fresh prepare body whose
/// condition the simulated payee will fulfil, for sending by hand.
async fn prepare_body(
    State(state): State<Arc<SimState>>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::Json<Value> {
    let field = |name: &str, default: &str| query.get(name).cloned().unwrap_or_else(|| default.to_string());
    let transfer_id = uuid::Uuid::new_v4().to_string();
    axum::Json(prepare_body_of(
        &state,
        &transfer_id,
        &field("payer", "payerfsp"),
        &field("payee", "payeefsp"),
        &field("amount", "10"),
        &field("currency", "USD"),
    ))
}

async fn receive_prepare(
    State(state): State<Arc<SimState>>,
    Path(fsp): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(received) = record(&state, &fsp, "POST", "/transfers".to_string(), &headers, &body) else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let mode = state.modes.lock().unwrap_or_else(|it| it.into_inner()).get(&fsp).cloned().unwrap_or(PayeeMode::Fulfil);
    tokio::spawn(answer_as_payee(state, fsp, received, mode));
    StatusCode::ACCEPTED
}

async fn receive_callback(
    State(state): State<Arc<SimState>>,
    Path(params): Path<Vec<(String, String)>>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let fsp = params.first().map(|(_, value)| value.clone()).unwrap_or_default();
    let path = uri.path().strip_prefix(&format!("/{fsp}")).unwrap_or(uri.path()).to_string();
    match record(&state, &fsp, method.as_str(), path, &headers, &body) {
        Some(_) => StatusCode::OK,
        None => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Records a request, or refuses it when a failure was injected for `fsp`.
fn record(
    state: &SimState,
    fsp: &str,
    method: &str,
    path: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Received> {
    {
        let mut failing = state.failing.lock().unwrap_or_else(|it| it.into_inner());
        if let Some(left) = failing.get_mut(fsp).filter(|left| **left > 0) {
            *left -= 1;
            *state.refused.lock().unwrap_or_else(|it| it.into_inner()).entry(fsp.to_string()).or_default() += 1;
            return None;
        }
    }
    let headers = headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|it| (name.as_str().to_ascii_lowercase(), it.to_string())))
        .collect();
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    let received =
        Received { fsp: fsp.to_string(), method: method.to_string(), path, headers, body, at: Instant::now() };
    state.received.lock().unwrap_or_else(|it| it.into_inner()).push(received.clone());
    state.arrived.notify_waiters();
    Some(received)
}

/// The payee's answer to a prepare, sent to the switch after the 202.
async fn answer_as_payee(state: Arc<SimState>, payee: String, prepare: Received, mode: PayeeMode) {
    let transfer_id = prepare.body["transferId"].as_str().unwrap_or_default().to_string();
    let payer = prepare.body["payerFsp"].as_str().unwrap_or_default().to_string();
    // Answer in the version the switch used.
    let content_type = prepare.header("content-type").unwrap_or(CONTENT_TYPE_V1_1).to_string();
    let fulfilled = |transfer_state: &str| {
        let packet = prepare.body["ilpPacket"].as_str().unwrap_or_default();
        let fulfilment = state.secret.fulfilment(packet).to_base64url();
        json!({ "fulfilment": fulfilment, "completedTimestamp": format_fspiop_datetime(now()), "transferState": transfer_state })
    };
    let (path, body, to, content_type) = match mode {
        PayeeMode::Silent => return,
        PayeeMode::Fulfil => (format!("/transfers/{transfer_id}"), fulfilled("COMMITTED"), payer, content_type),
        PayeeMode::Reserve { to, content_type: answered_in } => (
            format!("/transfers/{transfer_id}"),
            fulfilled("RESERVED"),
            to.unwrap_or(payer),
            answered_in.unwrap_or(content_type),
        ),
        PayeeMode::Reject(code) => {
            let body =
                json!({ "errorInformation": { "errorCode": code, "errorDescription": "Payee rejected the transfer" } });
            (format!("/transfers/{transfer_id}/error"), body, payer, content_type)
        }
    };
    let sent = send_fspiop(&state, Method::PUT, &path, &payee, &to, &content_type, Some(&body)).await;
    if let Err(err) = &sent {
        tracing::warn!(transfer_id, "simulated payee {payee} could not answer: {err}");
    }
    let answer = Answered { fsp: payee, transfer_id, path, status: sent.ok() };
    state.answered.lock().unwrap_or_else(|it| it.into_inner()).push(answer);
}
