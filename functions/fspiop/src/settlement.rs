//! The central-settlement v2 API's JSON: settlement windows, closing one, creating settlements
//! from windows, moving their accounts, aborting them, and the bodies the operator reads.

use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use ledger_core::settlement::{SettlementState, SETTLEMENT_STATES, SETTLEMENT_UPDATES_MAX, SETTLEMENT_WINDOWS_MAX};
use serde::Serialize;
use serde_json::Value;

use crate::body::{invalid, malformed, missing, parse_object, Fields};
use crate::FspiopError;

/// `POST /settlementWindows/{id}`: the close request's reason.
pub fn parse_window_close(bytes: &[u8]) -> Result<String, FspiopError> {
    let map = parse_object(bytes)?;
    let mut fields = Fields::new(&map);
    fields.one_of("state", &["CLOSED"], |_| Some(()))?;
    let reason = fields.str("reason")?.to_string();
    fields.finish()?;
    Ok(reason)
}

/// `POST /settlements`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementCreate {
    pub model: String,
    pub reason: String,
    pub windows: Vec<WindowId>,
}

pub fn parse_settlement_create(bytes: &[u8]) -> Result<SettlementCreate, FspiopError> {
    let map = parse_object(bytes)?;
    let mut fields = Fields::new(&map);
    let model = fields.str("settlementModel")?.to_string();
    let reason = fields.str("reason")?.to_string();
    let mut windows = Vec::new();
    for mut window in fields.objects("settlementWindows")? {
        windows.push(WindowId(window.id("id")?));
        window.finish()?;
    }
    fields.finish()?;
    if windows.is_empty() || SETTLEMENT_WINDOWS_MAX < windows.len() {
        return Err(invalid(format!("\"settlementWindows\" must hold 1 to {SETTLEMENT_WINDOWS_MAX} items")));
    }
    Ok(SettlementCreate { model, reason, windows })
}

/// One account's requested state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStateRequest {
    pub participant: ParticipantId,
    pub account: AccountId,
    pub state: SettlementState,
    pub reason: String,
    pub external_reference: Option<String>,
}

/// `PUT /settlements/{id}`: either account moves or an abort, never both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementUpdate {
    Accounts(Vec<AccountStateRequest>),
    Abort { reason: String, external_reference: Option<String> },
}

fn settlement_state(fields: &mut Fields<'_>) -> Result<SettlementState, FspiopError> {
    let names: Vec<&str> = SETTLEMENT_STATES.iter().map(|it| it.name()).collect();
    fields.one_of("state", &names, SettlementState::from_name)
}

/// `{state, reason, externalReference?}` of one account; `state` and `reason` go together.
fn account_state(fields: &mut Fields<'_>, participant: ParticipantId, account: AccountId) -> Result<AccountStateRequest, FspiopError> {
    let state = settlement_state(fields)?;
    let reason = fields.str("reason")?.to_string();
    let external_reference = fields.opt_str("externalReference")?.map(str::to_string);
    Ok(AccountStateRequest { participant, account, state, reason, external_reference })
}

fn participant_accounts(fields: &mut Fields<'_>, participant: ParticipantId, out: &mut Vec<AccountStateRequest>) -> Result<(), FspiopError> {
    for mut account in fields.objects("accounts")? {
        let id = AccountId(account.id("id")?);
        out.push(account_state(&mut account, participant, id)?);
        account.finish()?;
    }
    Ok(())
}

pub fn parse_settlement_update(bytes: &[u8]) -> Result<SettlementUpdate, FspiopError> {
    let map = parse_object(bytes)?;
    let mut fields = Fields::new(&map);
    let has_participants = fields.has("participants");
    let has_state = fields.has("state") || fields.has("reason");
    let update = match (has_participants, has_state) {
        (true, true) => return Err(invalid("\"participants\" and \"state\" cannot be combined")),
        (false, false) => return Err(missing("participants")),
        (true, false) => {
            let mut accounts = Vec::new();
            for mut participant in fields.objects("participants")? {
                let id = ParticipantId(participant.id("id")?);
                participant_accounts(&mut participant, id, &mut accounts)?;
                participant.finish()?;
            }
            check_update_count(accounts.len())?;
            SettlementUpdate::Accounts(accounts)
        }
        (false, true) => {
            fields.one_of("state", &["ABORTED"], |_| Some(()))?;
            let reason = fields.str("reason")?.to_string();
            let external_reference = fields.opt_str("externalReference")?.map(str::to_string);
            SettlementUpdate::Abort { reason, external_reference }
        }
    };
    fields.finish()?;
    Ok(update)
}

fn check_update_count(n_updates: usize) -> Result<(), FspiopError> {
    match n_updates <= SETTLEMENT_UPDATES_MAX {
        true => Ok(()),
        false => Err(invalid(format!("at most {SETTLEMENT_UPDATES_MAX} accounts per request"))),
    }
}

/// `PUT /settlements/{sid}/participants/{pid}`: `{accounts: [...]}`.
pub fn parse_participant_update(bytes: &[u8], participant: ParticipantId) -> Result<Vec<AccountStateRequest>, FspiopError> {
    let map = parse_object(bytes)?;
    let mut fields = Fields::new(&map);
    let mut accounts = Vec::new();
    participant_accounts(&mut fields, participant, &mut accounts)?;
    fields.finish()?;
    check_update_count(accounts.len())?;
    Ok(accounts)
}

/// `PUT /settlements/{sid}/participants/{pid}/accounts/{aid}`: `{state, reason, externalReference?}`.
pub fn parse_account_update(bytes: &[u8], participant: ParticipantId, account: AccountId) -> Result<AccountStateRequest, FspiopError> {
    let map = parse_object(bytes)?;
    let mut fields = Fields::new(&map);
    let request = account_state(&mut fields, participant, account)?;
    fields.finish()?;
    Ok(request)
}

/// A path or query id (`{id}`, `?settlementWindowId=`); 3101 when it is not a positive number.
pub fn parse_path_id(text: &str, name: &str) -> Result<u64, FspiopError> {
    text.parse::<u64>().ok().filter(|it| *it > 0).ok_or_else(|| malformed(format!("\"{name}\" must be a positive integer")))
}

/// One content of a window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBody {
    pub id: u64,
    pub state: &'static str,
    pub ledger_account_type: &'static str,
    pub currency_id: String,
    pub created_date: String,
    pub changed_date: String,
    pub settlement_id: Option<u64>,
}

/// A settlement window.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowBody {
    pub settlement_window_id: u64,
    pub state: &'static str,
    pub reason: Option<String>,
    pub created_date: String,
    pub changed_date: String,
    pub content: Vec<ContentBody>,
}

/// A window inside a settlement (`id` instead of `settlementWindowId`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementWindowBody {
    pub id: u64,
    pub state: &'static str,
    pub reason: Option<String>,
    pub created_date: String,
    pub changed_date: String,
    pub content: Vec<ContentBody>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetAmount {
    pub amount: Value,
    pub currency: String,
}

/// An account of a settlement, or why an update of it was refused.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementAccountBody {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_settlement_amount: Option<NetAmount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_information: Option<crate::transfers::ErrorInformation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SettlementParticipantBody {
    pub id: u64,
    pub accounts: Vec<SettlementAccountBody>,
}

/// A settlement.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementBody {
    pub id: u64,
    pub settlement_model: String,
    pub state: &'static str,
    pub reason: String,
    pub created_date: String,
    pub changed_date: String,
    pub settlement_windows: Vec<SettlementWindowBody>,
    pub participants: Vec<SettlementParticipantBody>,
}
