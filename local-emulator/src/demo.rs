//! `up --demo`: provisions a Hub and two DFSPs whose callback endpoints are served by the DFSP
//! simulators, runs one transfer end to end, and prints what happened: the callbacks each side
//! received and the positions before and after. The switch keeps serving afterwards; the
//! simulators also hand out ready-to-send prepare bodies (`GET /demo/prepare-body`) so a person
//! can send their own transfers with curl.

use std::fmt::Write as _;
use std::time::Duration;

use crate::provision::{provision, AccountView, AdminClient, DfspSpec, ProvisionError};
use crate::simulator::{Received, Simulators};

pub const PAYER: &str = "payerfsp";
pub const PAYEE: &str = "payeefsp";
pub const CURRENCY: &str = "USD";
const NET_DEBIT_CAP: &str = "10000";
const OPENING_LIQUIDITY: &str = "5000";
const DEMO_AMOUNT: &str = "100";
/// How long the demo waits for its transfer to complete.
const TRANSFER_WAIT: Duration = Duration::from_secs(30);

/// Runs the demo against a started switch; the report to print.
pub async fn run(admin: &AdminClient, simulators: &Simulators) -> Result<String, ProvisionError> {
    let dfsps: Vec<DfspSpec> = [PAYER, PAYEE]
        .iter()
        .map(|name| DfspSpec {
            name: name.to_string(),
            net_debit_cap: NET_DEBIT_CAP.to_string(),
            funds_in: OPENING_LIQUIDITY.to_string(),
            endpoints: simulators.endpoints(name),
        })
        .collect();
    provision(admin, CURRENCY, &dfsps).await?;
    let mut report = String::new();
    let _ = writeln!(report, "Provisioned the Hub ({CURRENCY}), {PAYER} and {PAYEE}: net debit cap {NET_DEBIT_CAP}, funds in {OPENING_LIQUIDITY} each.");
    let before = balances(admin).await?;

    let (transfer_id, status) = simulators
        .send_transfer(PAYER, PAYEE, DEMO_AMOUNT, CURRENCY)
        .await
        .map_err(|reason| ProvisionError::Unexpected(format!("POST /transfers: {reason}")))?;
    let _ = writeln!(report, "\n{PAYER} -> POST /transfers {transfer_id} ({DEMO_AMOUNT} {CURRENCY}) -> {status}");
    let done = simulators
        .wait_until(TRANSFER_WAIT, |received| {
            received.iter().any(|it| it.fsp == PAYER && it.method == "PUT" && it.path.contains(&transfer_id))
        })
        .await;
    if !done {
        let _ = writeln!(report, "  (no answer reached {PAYER} within {} s)", TRANSFER_WAIT.as_secs());
    }
    // The payee's confirmation may trail the payer's by a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for received in simulators
        .received()
        .iter()
        .filter(|it| it.path.contains(&transfer_id) || it.body["transferId"] == transfer_id.as_str())
    {
        let _ = writeln!(report, "  {}", describe_callback(received));
    }
    let after = balances(admin).await?;
    let _ = writeln!(report, "\n{:<10} {:<12} {:>12} {:>12}", "DFSP", "account", "before", "after");
    for ((fsp, account), (_, later)) in before.iter().zip(&after) {
        let _ =
            writeln!(report, "{fsp:<10} {:<12} {:>12} {:>12}", account.ledger_account_type, account.value, later.value);
    }
    Ok(report)
}

async fn balances(admin: &AdminClient) -> Result<Vec<(String, AccountView)>, ProvisionError> {
    let mut rows = Vec::new();
    for fsp in [PAYER, PAYEE] {
        for account in admin.accounts(fsp).await? {
            rows.push((fsp.to_string(), account));
        }
    }
    Ok(rows)
}

/// One received request, readably: who got what, with the state or error it carries.
pub fn describe_callback(received: &Received) -> String {
    let detail = if let Some(state) = received.body["transferState"].as_str() {
        format!("transferState {state}")
    } else if let Some(code) = received.body["errorInformation"]["errorCode"].as_str() {
        format!("error {code} {}", received.body["errorInformation"]["errorDescription"].as_str().unwrap_or_default())
    } else if received.method == "POST" {
        format!(
            "prepare of {} {}",
            received.body["amount"]["amount"].as_str().unwrap_or("?"),
            received.body["amount"]["currency"].as_str().unwrap_or("?")
        )
    } else {
        String::new()
    };
    let source = received.header("fspiop-source").unwrap_or("?");
    format!("{:<9} <- {:<5} {} (from {source}) {detail}", received.fsp, received.method, received.path)
}
