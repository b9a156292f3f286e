//! Test support for the operator APIs: the handler's router over real HTTP with a recording
//! local hubs endpoint, a pump that delivers what was published to each hub to its function in
//! the Functions host's invocation JSON (until nothing is left), and small HTTP helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::support::invocation;
use super::support::serve_router as serve;
use axum::extract::{Path, State};
use axum::Json;
use handler::app::router;
use handler::state::App;
use handler::transfers::notification::{NotificationConfig, Notifier};
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use plumbing::publish::local::IngestRequest;
use plumbing::publish::LocalHubsPublisher;
use serde_json::{json, Value};

/// What each hub received, in order: `(hub, partition key, body)`.
pub type Hubs = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

/// Most pump rounds before a test fails instead of spinning (each round drains every hub).
pub const PUMP_ROUNDS_MAX: usize = 50;

/// The function each hub triggers; `None` for hubs whose events the tests only inspect.
fn function_of(hub: &str) -> Option<&'static str> {
    match hub {
        "transfer-prepare" => Some("prepare"),
        "transfer-position" => Some("position"),
        "transfer-fulfil" => Some("fulfil"),
        "transfer-get" => Some("get"),
        "admin-transfer" => Some("admin"),
        "settlement-window-close" => Some("settlement"),
        _ => None,
    }
}

async fn ingest(
    State(hubs): State<Hubs>,
    Path(hub): Path<String>,
    Json(request): Json<IngestRequest>,
) -> axum::http::StatusCode {
    let mut all = hubs.lock().unwrap();
    for event in request.events {
        all.push((hub.clone(), event.partition_key, event.body));
    }
    axum::http::StatusCode::ACCEPTED
}

/// A batch a function was given: `(function, event bodies)`.
pub type Delivered = (String, Vec<String>);

/// A running switch: the handler at `url`, its hubs recorded.
pub struct Switch {
    pub url: String,
    pub hubs: Hubs,
    pub client: reqwest::Client,
    /// Every batch each function was given, to redeliver in idempotency tests.
    pub delivered: Arc<Mutex<Vec<Delivered>>>,
    /// Notifications published (callbacks the tests inspect instead of sending).
    pub notifications: Arc<Mutex<Vec<String>>>,
}

pub async fn start(store: Arc<dyn LedgerStore>, now: fn() -> Timestamp) -> Switch {
    let hubs = Hubs::default();
    let hubs_url =
        serve(axum::Router::new().route("/hubs/{hub}/events", axum::routing::post(ingest)).with_state(hubs.clone()))
            .await;
    let config = NotificationConfig {
        confirm_to_payee: true,
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: Duration::from_millis(5),
    };
    let app = App {
        store,
        publisher: Arc::new(LocalHubsPublisher::new(hubs_url.parse().unwrap()).unwrap()),
        notifier: Notifier::new(config).unwrap(),
        rules: PrepareRules { on_us_transfers_allowed: false },
        now,
        journal: None,
        signature_keys: None,
    };
    let url = serve(router(app)).await;
    Switch { url, hubs, client: reqwest::Client::new(), delivered: Arc::default(), notifications: Arc::default() }
}

impl Switch {
    /// Delivers everything published to the function hubs, hub by hub, until all are quiet.
    pub async fn pump(&self) {
        for _ in 0..PUMP_ROUNDS_MAX {
            let taken: Vec<(String, Option<String>, String)> = self.hubs.lock().unwrap().drain(..).collect();
            if taken.is_empty() {
                return;
            }
            let mut batches: BTreeMap<&'static str, (Vec<String>, Vec<Option<String>>)> = BTreeMap::new();
            for (hub, key, body) in taken {
                match function_of(&hub) {
                    Some(function) => {
                        let batch = batches.entry(function).or_default();
                        batch.0.push(body);
                        batch.1.push(key);
                    }
                    None => self.notifications.lock().unwrap().push(body),
                }
            }
            for (function, (bodies, keys)) in batches {
                self.invoke(function, &bodies, &keys).await;
                self.delivered.lock().unwrap().push((function.to_string(), bodies));
            }
        }
        panic!("the hubs did not go quiet within {PUMP_ROUNDS_MAX} rounds");
    }

    /// One invocation of a batch function; it must answer 200.
    pub async fn invoke(&self, function: &str, bodies: &[String], keys: &[Option<String>]) {
        let response =
            self.client.post(format!("{}/{function}", self.url)).json(&invocation(bodies, keys)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{function}: {}", response.text().await.unwrap());
    }

    /// A JSON request to the handler: `(status, body or Null)`.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A request whose body is raw text (for malformed JSON).
    pub async fn call_raw(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
    }

    /// Asserts a request is refused with this status and error code.
    pub async fn refused(&self, method: &str, path: &str, body: Option<Value>, status: u16, code: &str) -> Value {
        let (got, answer) = self.call(method, path, body).await;
        assert_eq!(
            (got, answer["errorInformation"]["errorCode"].as_str()),
            (status, Some(code)),
            "{method} {path}: {answer}"
        );
        answer
    }

    /// The value of a participant's account of a type in a currency.
    pub async fn balance(&self, name: &str, kind: &str, currency: &str) -> String {
        let (status, accounts) = self.call("GET", &format!("/participants/{name}/accounts"), None).await;
        assert_eq!(status, 200, "{accounts}");
        let account = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|it| it["ledgerAccountType"] == kind && it["currency"] == currency);
        account.unwrap_or_else(|| panic!("{name} has no {kind} {currency} account: {accounts}"))["value"].to_string()
    }

    /// The id of a participant's account of a type in a currency.
    pub async fn account_id(&self, name: &str, kind: &str, currency: &str) -> u64 {
        let (_, accounts) = self.call("GET", &format!("/participants/{name}/accounts"), None).await;
        let account = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|it| it["ledgerAccountType"] == kind && it["currency"] == currency);
        account.unwrap()["id"].as_u64().unwrap()
    }
}

/// A new transfer id.
pub fn transfer_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Hub accounts and a deferred net model for USD, then `names` with limits and endpoints.
pub async fn provision(switch: &Switch, names: &[&str]) {
    for kind in ["HUB_MULTILATERAL_SETTLEMENT", "HUB_RECONCILIATION"] {
        let (status, body) =
            switch.call("POST", "/participants/Hub/accounts", Some(json!({"currency": "USD", "type": kind}))).await;
        assert_eq!(status, 201, "{body}");
    }
    let model = json!({
        "name": "DEFERREDNETUSD", "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED", "currency": "USD", "requireLiquidityCheck": true, "ledgerAccountType": "POSITION",
        "autoPositionReset": true, "settlementAccountType": "SETTLEMENT"
    });
    assert_eq!(switch.call("POST", "/settlementModels", Some(model)).await.0, 201);
    for name in names {
        let (status, body) = switch.call("POST", "/participants", Some(json!({"name": name, "currency": "USD"}))).await;
        assert_eq!(status, 201, "{body}");
        let limits =
            json!({"currency": "USD", "limit": {"type": "NET_DEBIT_CAP", "value": 1000000}, "initialPosition": 0});
        let (status, body) =
            switch.call("POST", &format!("/participants/{name}/initialPositionAndLimits"), Some(limits)).await;
        assert_eq!(status, 201, "{body}");
        for kind in [
            "FSPIOP_CALLBACK_URL_TRANSFER_POST",
            "FSPIOP_CALLBACK_URL_TRANSFER_PUT",
            "FSPIOP_CALLBACK_URL_TRANSFER_ERROR",
        ] {
            let endpoint = json!({"type": kind, "value": format!("http://127.0.0.1:9/{name}/transfers")});
            assert_eq!(switch.call("POST", &format!("/participants/{name}/endpoints"), Some(endpoint)).await.0, 201);
        }
    }
}

pub async fn funds(switch: &Switch, name: &str, action: &str, amount: &str) -> String {
    let account = switch.account_id(name, "SETTLEMENT", "USD").await;
    let id = transfer_id();
    let body = json!({
        "transferId": id, "externalReference": "ref-1", "action": action, "reason": "test",
        "amount": {"amount": amount, "currency": "USD"}
    });
    let (status, answer) = switch.call("POST", &format!("/participants/{name}/accounts/{account}"), Some(body)).await;
    assert_eq!(status, 202, "{answer}");
    switch.pump().await;
    id
}
