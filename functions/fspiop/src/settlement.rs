//! The central-settlement v2 API's JSON: settlement windows, closing one, creating settlements
//! from windows, moving their accounts, aborting them, and the bodies the operator reads.
//!
//! Requests are read as central-settlement's routes read them (swagger.json through
//! hapi-openapi and enjoi, see `joi`): unknown keys are refused at the top level and let
//! through in nested objects, plain strings may be empty, integers convert from strings, and
//! path and query integers go through JavaScript's `Number()` first. Ids are `i64`: Joi takes
//! zero and negative ids, which are then simply not found.

use std::collections::HashMap;

use ledger_core::settlement::{SettlementState, SETTLEMENT_UPDATES_MAX, SETTLEMENT_WINDOWS_MAX};
use ledger_core::time::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::body::{parse_object, Fields};
use crate::joi::{iso_date, JoiError, JoiNumber, NumberProblem, Service};
use crate::{ErrorCode, FspiopError};

const SETTLEMENT: Service = Service::Settlement;

/// A path parameter id (`{id}`, `{sid}`, `{pid}`, `{aid}`): swagger's `integer`. Any integer
/// passes; "'<name>' URI path parameter" refuses anything else (3100, or 3101 for a number that
/// is not an integer).
pub fn parse_id_param(text: &str, name: &str) -> Result<i64, FspiopError> {
    let refuse = |kind| SETTLEMENT.refuse(kind, format!("'{name}' URI path parameter"));
    match JoiNumber::parse_js(text) {
        Ok(number) => number.to_integer().ok_or_else(|| refuse(JoiError::NumberInteger)),
        Err(_) => Err(refuse(JoiError::NumberBase)),
    }
}

/// `POST /settlementWindows/{id}`: the close request's reason.
pub fn parse_window_close(bytes: &[u8]) -> Result<String, FspiopError> {
    let map = parse_object(SETTLEMENT, bytes)?;
    let mut fields = Fields::new(SETTLEMENT, &map);
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
    /// The window ids in request order, distinct.
    pub windows: Vec<i64>,
}

pub fn parse_settlement_create(bytes: &[u8]) -> Result<SettlementCreate, FspiopError> {
    let map = parse_object(SETTLEMENT, bytes)?;
    let mut fields = Fields::new(SETTLEMENT, &map);
    let model = fields.str("settlementModel")?.to_string();
    let reason = fields.str("reason")?.to_string();
    let items = fields.array("settlementWindows", true)?.expect("a required array");
    let mut windows = Vec::with_capacity(items.len());
    let mut seen: Vec<(i64, Map<String, Value>)> = Vec::with_capacity(items.len());
    for (idx, item) in items.iter().enumerate() {
        let mut window = fields.item("settlementWindows", idx, item, true)?;
        let id = window.integer("id", true)?.expect("a required id");
        windows.push(id);
        // Joi's `unique` compares whole items once converted: the id, and whatever else they hold.
        let mut rest = item.as_object().expect("an item read as an object").clone();
        rest.remove("id");
        seen.push((id, rest));
    }
    let label = fields.label("settlementWindows");
    if windows.is_empty() {
        return Err(SETTLEMENT.refuse(JoiError::ArrayLength, format!("\"{label}\" must contain at least 1 items")));
    }
    if SETTLEMENT_WINDOWS_MAX < windows.len() {
        return Err(SETTLEMENT.refuse(
            JoiError::ArrayLength,
            format!("\"{label}\" must contain less than or equal to {SETTLEMENT_WINDOWS_MAX} items"),
        ));
    }
    if let Some(idx) = (1..seen.len()).find(|idx| seen[..*idx].contains(&seen[*idx])) {
        return Err(SETTLEMENT.refuse(JoiError::ArrayUnique, format!("\"{label}[{idx}]\" contains a duplicate value")));
    }
    fields.finish()?;
    Ok(SettlementCreate { model, reason, windows })
}

/// One account's requested state, as `PUT /settlements/...` names it. Every field is optional
/// to the schema; a missing one is refused per account (in the answer, not as the request's
/// error): no id is "Account not found", no state "State change not allowed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStateRequest {
    pub participant: Option<i64>,
    pub account: Option<i64>,
    pub state: Option<SettlementState>,
    pub reason: Option<String>,
    pub external_reference: Option<String>,
}

/// `PUT /settlements/{id}`: account moves or an abort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementUpdate {
    Accounts(Vec<AccountStateRequest>),
    Abort { reason: String, external_reference: Option<String> },
}

fn settlement_state_names() -> Vec<&'static str> {
    // The swagger's account states: the settlement states up to SETTLED, without SETTLING.
    ["PENDING_SETTLEMENT", "PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED", "PS_TRANSFERS_COMMITTED", "SETTLED"]
        .to_vec()
}

/// The accounts of one participant entry (`accounts: [{id, reason, state, externalReference}]`,
/// nested objects that let unknown keys through).
fn participant_accounts(
    fields: &mut Fields<'_>,
    participant: Option<i64>,
    out: &mut Vec<AccountStateRequest>,
) -> Result<(), FspiopError> {
    let Some(items) = fields.array("accounts", false)? else {
        return Ok(());
    };
    for (idx, item) in items.iter().enumerate() {
        let mut account = fields.item("accounts", idx, item, true)?;
        let id = account.integer("id", false)?;
        let reason = account.opt_str("reason")?.map(str::to_string);
        let state = account.opt_one_of("state", &settlement_state_names(), SettlementState::from_name)?;
        let external_reference = account.opt_str("externalReference")?.map(str::to_string);
        out.push(AccountStateRequest { participant, account: id, state, reason, external_reference });
    }
    Ok(())
}

fn check_update_count(n_updates: usize) -> Result<(), FspiopError> {
    match n_updates <= SETTLEMENT_UPDATES_MAX {
        true => Ok(()),
        false => {
            Err(SETTLEMENT
                .refuse(JoiError::ArrayLength, format!("at most {SETTLEMENT_UPDATES_MAX} accounts per request")))
        }
    }
}

/// `PUT /settlements/{id}`, checked as the schema and then the handler check it: participants
/// exclude `state`, `reason` and `externalReference` (3100); `state` and `reason` go together
/// (3102); without participants only `state: ABORTED` does anything (3100 otherwise). Empty
/// strings count as absent in those checks, as they do in JavaScript.
pub fn parse_settlement_update(bytes: &[u8]) -> Result<SettlementUpdate, FspiopError> {
    let map = parse_object(SETTLEMENT, bytes)?;
    let mut fields = Fields::new(SETTLEMENT, &map);
    let state = fields.opt_one_of("state", &["ABORTED", "INVALID"], |it| Some(it.to_string()))?;
    let reason = fields.opt_str("reason")?.filter(|it| !it.is_empty()).map(str::to_string);
    let external_reference = fields.opt_str("externalReference")?.filter(|it| !it.is_empty()).map(str::to_string);
    let participants = fields.array("participants", false)?;
    let mut accounts = Vec::new();
    for (idx, item) in participants.unwrap_or_default().iter().enumerate() {
        let mut participant = fields.item("participants", idx, item, true)?;
        let id = participant.integer("id", false)?;
        participant_accounts(&mut participant, id, &mut accounts)?;
    }
    fields.finish()?;
    if participants.is_some() && (state.is_some() || reason.is_some() || external_reference.is_some()) {
        return Err(FspiopError::with_detail(
            ErrorCode::ValidationError,
            "No other properties are allowed when participants is provided",
        ));
    }
    if state.is_some() != reason.is_some() {
        return Err(FspiopError::with_detail(ErrorCode::MissingElement, "State and reason are mandatory"));
    }
    if participants.is_some() {
        check_update_count(accounts.len())?;
        return Ok(SettlementUpdate::Accounts(accounts));
    }
    match (state.as_deref(), reason) {
        (Some("ABORTED"), Some(reason)) => Ok(SettlementUpdate::Abort { reason, external_reference }),
        _ => Err(FspiopError::with_detail(ErrorCode::ValidationError, "Invalid request payload input")),
    }
}

/// `PUT /settlements/{sid}/participants/{pid}`: `{accounts: [...]}`, for that participant.
pub fn parse_participant_update(bytes: &[u8], participant: i64) -> Result<Vec<AccountStateRequest>, FspiopError> {
    let map = parse_object(SETTLEMENT, bytes)?;
    let mut fields = Fields::new(SETTLEMENT, &map);
    let mut accounts = Vec::new();
    participant_accounts(&mut fields, Some(participant), &mut accounts)?;
    fields.finish()?;
    check_update_count(accounts.len())?;
    Ok(accounts)
}

/// `PUT /settlements/{sid}/participants/{pid}/accounts/{aid}`: `{state, reason, externalReference?}`.
pub fn parse_account_update(bytes: &[u8], participant: i64, account: i64) -> Result<AccountStateRequest, FspiopError> {
    let map = parse_object(SETTLEMENT, bytes)?;
    let mut fields = Fields::new(SETTLEMENT, &map);
    let state = fields.one_of("state", &settlement_state_names(), SettlementState::from_name)?;
    let reason = fields.str("reason")?.to_string();
    let external_reference = fields.opt_str("externalReference")?.map(str::to_string);
    fields.finish()?;
    Ok(AccountStateRequest {
        participant: Some(participant),
        account: Some(account),
        state: Some(state),
        reason: Some(reason),
        external_reference,
    })
}

/// A query's filters as the route's schema converts them: its own keys first, in the schema's
/// order (integers through `Number()`; dates ISO 8601, else 3101), then any other key (3100).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub participant_id: Option<i64>,
    pub state: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub currency: Option<String>,
    pub settlement_window_id: Option<JoiNumber>,
    pub account_id: Option<JoiNumber>,
    pub from_window: Option<Timestamp>,
    pub to_window: Option<Timestamp>,
    /// The filters given, converted as Joi converts them, for the "not found" texts.
    pub given: Map<String, Value>,
}

/// The filters of `GET /settlementWindows`.
pub const WINDOW_FILTERS: [&str; 5] = ["participantId", "state", "fromDateTime", "toDateTime", "currency"];
/// The filters of `GET /settlements`.
pub const SETTLEMENT_FILTERS: [&str; 9] = [
    "state",
    "fromDateTime",
    "toDateTime",
    "currency",
    "settlementWindowId",
    "fromSettlementWindowDateTime",
    "toSettlementWindowDateTime",
    "participantId",
    "accountId",
];

/// The window states the `state` filter takes (the swagger's enumeration, in its order).
const WINDOW_QUERY_STATES: [&str; 5] = ["OPEN", "CLOSED", "PENDING_SETTLEMENT", "SETTLED", "ABORTED"];
/// The settlement states the `state` filter takes.
const SETTLEMENT_QUERY_STATES: [&str; 7] = [
    "PENDING_SETTLEMENT",
    "PS_TRANSFERS_RECORDED",
    "PS_TRANSFERS_RESERVED",
    "PS_TRANSFERS_COMMITTED",
    "SETTLING",
    "SETTLED",
    "ABORTED",
];

pub fn parse_window_query(query: &HashMap<String, String>) -> Result<ListQuery, FspiopError> {
    parse_list_query(query, &WINDOW_FILTERS, &WINDOW_QUERY_STATES)
}

pub fn parse_settlements_query(query: &HashMap<String, String>) -> Result<ListQuery, FspiopError> {
    parse_list_query(query, &SETTLEMENT_FILTERS, &SETTLEMENT_QUERY_STATES)
}

fn parse_list_query(
    query: &HashMap<String, String>,
    allowed: &[&str],
    states: &[&str],
) -> Result<ListQuery, FspiopError> {
    let mut res = ListQuery::default();
    for name in allowed {
        let Some(text) = query.get(*name) else {
            continue;
        };
        let shown = match *name {
            "participantId" => Value::from(*res.participant_id.insert(query_integer(name, text)?)),
            "state" => Value::from(res.state.insert(query_state(name, text, states)?).as_str()),
            "fromDateTime" => date_value(*res.from.insert(query_date(name, text)?)),
            "toDateTime" => date_value(*res.to.insert(query_date(name, text)?)),
            "fromSettlementWindowDateTime" => date_value(*res.from_window.insert(query_date(name, text)?)),
            "toSettlementWindowDateTime" => date_value(*res.to_window.insert(query_date(name, text)?)),
            "settlementWindowId" => number_value(res.settlement_window_id.insert(query_number(name, text)?)),
            "accountId" => number_value(res.account_id.insert(query_number(name, text)?)),
            _ => Value::from(res.currency.insert(text.clone()).as_str()),
        };
        res.given.insert(name.to_string(), shown);
    }
    if let Some(unknown) = query.keys().find(|it| !allowed.contains(&it.as_str())) {
        return Err(SETTLEMENT.refuse(JoiError::ObjectUnknown, format!("\"{unknown}\" is not allowed")));
    }
    Ok(res)
}

fn date_value(at: Timestamp) -> Value {
    Value::from(crate::datetime::format_fspiop_datetime(at))
}

fn number_value(number: &JoiNumber) -> Value {
    match number.to_integer() {
        Some(it) => Value::from(it),
        None => serde_json::from_str(&number.rounded_text()).expect("a decimal is a JSON number"),
    }
}

/// A query number: hapi-openapi leaves an empty value as it is (Joi's `number.base`) and gives
/// anything else to `Number()`.
fn query_number(name: &str, text: &str) -> Result<JoiNumber, FspiopError> {
    let parsed = match text.is_empty() {
        true => Err(NumberProblem::NotANumber),
        false => JoiNumber::parse_js(text),
    };
    match parsed {
        Ok(number) => Ok(number),
        Err(NumberProblem::NotANumber) => {
            Err(SETTLEMENT.refuse(JoiError::NumberBase, format!("\"{name}\" must be a number")))
        }
        Err(NumberProblem::Unsafe) => {
            Err(SETTLEMENT.refuse(JoiError::NumberUnsafe, format!("\"{name}\" must be a safe number")))
        }
    }
}

fn query_integer(name: &str, text: &str) -> Result<i64, FspiopError> {
    query_number(name, text)?
        .to_integer()
        .ok_or_else(|| SETTLEMENT.refuse(JoiError::NumberInteger, format!("\"{name}\" must be an integer")))
}

fn query_state(name: &str, text: &str, states: &[&str]) -> Result<String, FspiopError> {
    match states.contains(&text) {
        true => Ok(text.to_string()),
        false => Err(SETTLEMENT.refuse(JoiError::AnyOnly, crate::joi::only_message(name, states))),
    }
}

fn query_date(name: &str, text: &str) -> Result<Timestamp, FspiopError> {
    iso_date(text)
        .ok_or_else(|| SETTLEMENT.refuse(JoiError::DateFormat, format!("\"{name}\" must be in ISO 8601 date format")))
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
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementAccountBody {
    /// The account's id; an update the answer refuses carries the id as requested, or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
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
    pub error_information: Option<crate::wire::ErrorInformation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SettlementParticipantBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub accounts: Vec<SettlementAccountBody>,
}

/// The answer to `PUT /settlements/...` with accounts: the request's participants and accounts
/// in its order, and the windows whose content holds an account that moved.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementUpdateBody {
    pub id: u64,
    pub state: &'static str,
    pub created_date: String,
    pub settlement_windows: Vec<SettlementWindowBody>,
    pub participants: Vec<SettlementParticipantBody>,
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

#[cfg(test)]
mod tests;
