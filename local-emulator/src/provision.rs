//! Sets a scheme up through the central-ledger admin API, the way an operator's provisioning
//! scripts (and the Testing Toolkit's hub setup) do: the Hub's accounts, a deferred-net
//! settlement model, then each DFSP with its accounts, net debit cap, callback endpoints and a
//! funds-in of its opening liquidity. Steps that find their object already there are skipped, so
//! provisioning twice is harmless.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::edge::OPERATOR_KEY_HEADER;

/// How long to wait for a funds-in to be processed by the admin function.
pub const FUNDS_IN_WAIT: Duration = Duration::from_secs(30);
const FUNDS_IN_POLL: Duration = Duration::from_millis(50);
/// The settlement model every provisioned scheme gets.
pub const SETTLEMENT_MODEL: &str = "DEFERREDNET";

/// One DFSP to set up.
#[derive(Debug, Clone)]
pub struct DfspSpec {
    pub name: String,
    /// The net debit cap, as a decimal text.
    pub net_debit_cap: String,
    /// Liquidity recorded by funds-in, as a decimal text.
    pub funds_in: String,
    /// `(endpoint type, URL template)`.
    pub endpoints: Vec<(&'static str, String)>,
}

/// Why provisioning stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{method} {path}: {reason}")]
    Request { method: String, path: String, reason: String },
    #[error("{method} {path} answered {status}: {body}")]
    Refused { method: String, path: String, status: u16, body: String },
    #[error("{0}")]
    Unexpected(String),
}

/// A client of the admin API.
#[derive(Clone)]
pub struct AdminClient {
    base: String,
    operator_key: Option<String>,
    client: reqwest::Client,
}

/// One account as `GET /participants/{name}/accounts` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    pub id: i64,
    pub ledger_account_type: String,
    pub currency: String,
    /// The account's value as the API writes it (a decimal text or number, kept as text).
    pub value: String,
    pub reserved_value: String,
}

impl AdminClient {
    pub fn new(base: &str, operator_key: Option<&str>) -> AdminClient {
        let client = reqwest::Client::builder().no_proxy().build().unwrap_or_default();
        AdminClient {
            base: base.trim_end_matches('/').to_string(),
            operator_key: operator_key.map(str::to_string),
            client,
        }
    }

    /// Sends a request; the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), ProvisionError> {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(key) = &self.operator_key {
            request = request.header(OPERATOR_KEY_HEADER, key);
        }
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let failed =
            |reason: String| ProvisionError::Request { method: method.to_string(), path: path.to_string(), reason };
        let response = request.send().await.map_err(|err| failed(err.to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|err| failed(err.to_string()))?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A call that must succeed; its body.
    pub async fn expect_success(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ProvisionError> {
        let (status, answer) = self.call(method.clone(), path, body).await?;
        if status.is_success() {
            return Ok(answer);
        }
        Err(ProvisionError::Refused {
            method: method.to_string(),
            path: path.to_string(),
            status: status.as_u16(),
            body: answer.to_string(),
        })
    }

    /// A creating call: success, or a 4xx/5xx that says the object is already there.
    async fn create(&self, path: &str, body: Value) -> Result<(), ProvisionError> {
        let (status, answer) = self.call(Method::POST, path, Some(&body)).await?;
        if status.is_success() || already_exists(&answer) {
            return Ok(());
        }
        Err(ProvisionError::Refused {
            method: "POST".into(),
            path: path.into(),
            status: status.as_u16(),
            body: answer.to_string(),
        })
    }

    /// Every account of `fsp`.
    pub async fn accounts(&self, fsp: &str) -> Result<Vec<AccountView>, ProvisionError> {
        let answer = self.expect_success(Method::GET, &format!("/participants/{fsp}/accounts"), None).await?;
        let rows = answer.as_array().cloned().unwrap_or_default();
        Ok(rows.iter().map(account_view).collect())
    }

    /// `fsp`'s account of `ledger_account_type` in `currency`.
    pub async fn account(
        &self,
        fsp: &str,
        ledger_account_type: &str,
        currency: &str,
    ) -> Result<AccountView, ProvisionError> {
        self.accounts(fsp)
            .await?
            .into_iter()
            .find(|it| it.ledger_account_type == ledger_account_type && it.currency == currency)
            .ok_or_else(|| {
                ProvisionError::Unexpected(format!("{fsp} has no {ledger_account_type} account in {currency}"))
            })
    }

    /// Records a funds-in on `fsp`'s settlement account and waits until it is applied.
    pub async fn funds_in(&self, fsp: &str, amount: &str, currency: &str) -> Result<(), ProvisionError> {
        let settlement = self.account(fsp, "SETTLEMENT", currency).await?;
        let body = json!({
            "transferId": uuid::Uuid::now_v7().to_string(),
            "externalReference": "local-emulator provisioning",
            "action": "recordFundsIn",
            "reason": "opening liquidity",
            "amount": { "amount": amount, "currency": currency }
        });
        self.expect_success(Method::POST, &format!("/participants/{fsp}/accounts/{}", settlement.id), Some(&body))
            .await?;
        let deadline = Instant::now() + FUNDS_IN_WAIT;
        while Instant::now() < deadline {
            if self.account(fsp, "SETTLEMENT", currency).await?.value != settlement.value {
                return Ok(());
            }
            tokio::time::sleep(FUNDS_IN_POLL).await;
        }
        Err(ProvisionError::Unexpected(format!(
            "the funds-in for {fsp} was not applied within {} s",
            FUNDS_IN_WAIT.as_secs()
        )))
    }
}

/// Sets up the Hub, the settlement model and every DFSP in `currency`.
pub async fn provision(admin: &AdminClient, currency: &str, dfsps: &[DfspSpec]) -> Result<(), ProvisionError> {
    for hub_account in ["HUB_MULTILATERAL_SETTLEMENT", "HUB_RECONCILIATION"] {
        admin.create("/participants/Hub/accounts", json!({ "currency": currency, "type": hub_account })).await?;
    }
    let model = json!({
        "name": SETTLEMENT_MODEL,
        "settlementGranularity": "NET",
        "settlementInterchange": "MULTILATERAL",
        "settlementDelay": "DEFERRED",
        "requireLiquidityCheck": true,
        "ledgerAccountType": "POSITION",
        "autoPositionReset": true,
        "settlementAccountType": "SETTLEMENT"
    });
    admin.create("/settlementModels", model).await?;
    for dfsp in dfsps {
        provision_dfsp(admin, currency, dfsp).await?;
    }
    Ok(())
}

async fn provision_dfsp(admin: &AdminClient, currency: &str, dfsp: &DfspSpec) -> Result<(), ProvisionError> {
    let name = &dfsp.name;
    admin.create("/participants", json!({ "name": name, "currency": currency })).await?;
    let limits = json!({
        "currency": currency,
        "limit": { "type": "NET_DEBIT_CAP", "value": dfsp.net_debit_cap },
        "initialPosition": 0
    });
    admin.create(&format!("/participants/{name}/initialPositionAndLimits"), limits).await?;
    for (kind, value) in &dfsp.endpoints {
        admin.create(&format!("/participants/{name}/endpoints"), json!({ "type": kind, "value": value })).await?;
    }
    // Accounts are created inactive; initialPositionAndLimits activates them. Make sure.
    admin.expect_success(Method::PUT, &format!("/participants/{name}"), Some(&json!({ "isActive": true }))).await?;
    admin.funds_in(name, &dfsp.funds_in, currency).await
}

/// Whether an error answer says the object exists already (Mojaloop uses 3000, 3003 and 2001
/// with texts like "already been registered", "already set", "already exists").
fn already_exists(answer: &Value) -> bool {
    let description = answer["errorInformation"]["errorDescription"].as_str().unwrap_or_default().to_ascii_lowercase();
    description.contains("already")
}

fn account_view(row: &Value) -> AccountView {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => "0".to_string(),
        other => other.to_string(),
    };
    AccountView {
        id: row["id"].as_i64().unwrap_or_default(),
        ledger_account_type: row["ledgerAccountType"].as_str().unwrap_or_default().to_string(),
        currency: row["currency"].as_str().unwrap_or_default().to_string(),
        value: text(&row["value"]),
        reserved_value: text(&row["reservedValue"]),
    }
}
