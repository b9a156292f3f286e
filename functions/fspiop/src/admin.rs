//! The central-ledger admin API's JSON: request bodies parsed into ledger types (with Joi's
//! error codes, see `body`), and the response bodies the operator and TTK read.

use std::collections::HashMap;

use ledger_core::account::LedgerAccountType;
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::funds::FundsAction;
use ledger_core::ids::{AccountId, FspId, TransferId};
use ledger_core::model::{
    Delay, Granularity, Interchange, ModelDefinition, ModelName, MODEL_NAME_LENGTH_MAX, MODEL_NAME_LENGTH_MIN,
};
use serde::Serialize;
use serde_json::{Map, Value};

pub use crate::body::amount_number;
use crate::body::{parse_object, Fields};
use crate::joi::{only_message, JoiError, JoiNumber, NumberProblem, Service};
use crate::{ErrorCode, FspiopError};

/// Longest funds `reason` and `externalReference` kept (central-ledger's columns).
pub const FUNDS_TEXT_LENGTH_MAX: usize = 512;
/// The only limit type Mojaloop has.
pub const NET_DEBIT_CAP: &str = "NET_DEBIT_CAP";
/// The alarm threshold a limit gets when none is given (`thresholdAlarmPercentage`).
pub const DEFAULT_ALARM_PERCENTAGE: i64 = 10;

/// `POST /participants`. `currency` is optional in central-ledger's schema; without one its
/// handler fails in the database (the handler answers 500 2001).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantCreate {
    pub name: FspId,
    pub currency: Option<Currency>,
    pub is_proxy: bool,
}

/// A limit as the admin API takes it: its type is any string to Joi, `NET_DEBIT_CAP` the only
/// one central-ledger has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRequest {
    pub kind: String,
    pub value: Amount,
}

/// `POST /participants/{name}/initialPositionAndLimits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialPositionAndLimits {
    pub currency: Option<Currency>,
    pub limit: LimitRequest,
    pub initial_position: Amount,
}

/// `PUT /participants/{name}/limits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitUpdate {
    pub currency: Option<Currency>,
    pub limit: LimitRequest,
    pub alarm_percentage: Amount,
}

/// `POST /participants/{name}/accounts/{id}` and the PUT that finishes a funds out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsRequest {
    pub transfer_id: TransferId,
    pub action: FundsAction,
    pub reason: String,
    /// Present on the first step (funds in, funds out reserve).
    pub external_reference: Option<String>,
    pub amount: Option<(Amount, Currency)>,
    pub extensions: Vec<(String, String)>,
}

/// The first funds step as read: its amount's currency is optional in central-ledger's schema,
/// which then matches the account by id alone; [`FundsStart::request`] takes the currency the
/// handler settles on (the amount's, else the account's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsStart {
    pub transfer_id: TransferId,
    pub action: FundsAction,
    pub reason: String,
    pub external_reference: String,
    pub amount: Amount,
    pub currency: Option<Currency>,
    pub extensions: Vec<(String, String)>,
}

impl FundsStart {
    pub fn request(self, currency: Currency) -> FundsRequest {
        FundsRequest {
            transfer_id: self.transfer_id,
            action: self.action,
            reason: self.reason,
            external_reference: Some(self.external_reference),
            amount: Some((self.amount, currency)),
            extensions: self.extensions,
        }
    }
}

/// `POST /settlementModels`, read: the account types are looked up by the handler, which
/// refuses an unknown name only after checking the combination (3003 after 3000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRequest {
    pub name: ModelName,
    pub granularity: Granularity,
    pub interchange: Interchange,
    pub delay: Delay,
    pub currency: Option<Currency>,
    pub require_liquidity_check: bool,
    /// `None`: not a ledger account type central-ledger has.
    pub ledger_account_type: Option<LedgerAccountType>,
    pub auto_position_reset: bool,
    pub settlement_account_type: LedgerAccountType,
}

impl ModelRequest {
    /// The definition, once the ledger account type is known.
    pub fn definition(&self, ledger_account_type: LedgerAccountType) -> ModelDefinition {
        ModelDefinition {
            name: self.name.clone(),
            granularity: self.granularity,
            interchange: self.interchange,
            delay: self.delay,
            currency: self.currency,
            require_liquidity_check: self.require_liquidity_check,
            ledger_account_type,
            settlement_account_type: self.settlement_account_type,
            auto_position_reset: self.auto_position_reset,
        }
    }
}

const LEDGER: Service = Service::Ledger;
/// Participant names: `Joi.string().min(2).max(30)`.
const NAME_LENGTH_MIN: usize = 2;
const NAME_LENGTH_MAX: usize = 30;
/// central-ledger's funds `transferId` pattern: a lower-case UUID (v1 to v7) or an upper-case ULID.
const FUNDS_TRANSFER_ID_PATTERN: &str =
    "/^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$|^[0-9A-HJKMNP-TV-Z]{26})$/";
/// The labels central-ledger gives the funds `action` and `amount` (they read as messages).
const ACTION_LABEL: &str = "action is missing or not supported";
const AMOUNT_LABEL: &str = "No amount provided";

fn fields_of(bytes: &[u8]) -> Result<Map<String, Value>, FspiopError> {
    parse_object(LEDGER, bytes)
}

/// A participant name (`{name}` in a path or the body's `name`): 2 to 30 characters.
fn participant_name(text: &str, label: &str) -> Result<FspId, FspiopError> {
    let n_chars = text.chars().count();
    if n_chars < NAME_LENGTH_MIN {
        return Err(LEDGER.refuse(
            JoiError::StringLength,
            format!("\"{label}\" length must be at least {NAME_LENGTH_MIN} characters long"),
        ));
    }
    if NAME_LENGTH_MAX < n_chars {
        return Err(LEDGER.refuse(
            JoiError::StringLength,
            format!("\"{label}\" length must be less than or equal to {NAME_LENGTH_MAX} characters long"),
        ));
    }
    Ok(FspId::parse(text).expect("2 to 30 characters make an FSP id"))
}

/// The `{name}` path parameter of the participant routes.
pub fn parse_name_param(text: &str) -> Result<FspId, FspiopError> {
    participant_name(text, "name")
}

/// The `{id}` path parameter of the account routes: `Joi.number().integer().positive()`.
pub fn parse_account_id_param(text: &str) -> Result<AccountId, FspiopError> {
    let refuse = |kind, what: &str| LEDGER.refuse(kind, format!("\"id\" {what}"));
    let number = match JoiNumber::parse_joi(text) {
        Ok(it) => it,
        Err(NumberProblem::NotANumber) => return Err(refuse(JoiError::NumberBase, "must be a number")),
        Err(NumberProblem::Unsafe) => return Err(refuse(JoiError::NumberUnsafe, "must be a safe number")),
    };
    match number.to_integer() {
        None => Err(refuse(JoiError::NumberInteger, "must be an integer")),
        Some(id) if id <= 0 => Err(refuse(JoiError::NumberRange, "must be a positive number")),
        Some(id) => Ok(AccountId(id as u64)),
    }
}

/// The funds `transferId` (body or `{transferId}` path parameter), by central-ledger's pattern.
fn funds_transfer_id(text: &str) -> Result<TransferId, FspiopError> {
    let uuid = text.len() == 36
        && text.bytes().enumerate().all(|(idx, it)| match idx {
            8 | 13 | 18 | 23 => it == b'-',
            14 => (b'1'..=b'7').contains(&it),
            19 => matches!(it, b'8' | b'9' | b'a' | b'b'),
            _ => it.is_ascii_digit() || (b'a'..=b'f').contains(&it),
        });
    let ulid = text.len() == 26
        && text.bytes().all(|it| it.is_ascii_digit() || (it.is_ascii_uppercase() && !b"ILOU".contains(&it)));
    match (uuid || ulid).then(|| TransferId::parse(text)).flatten() {
        Some(id) => Ok(id),
        None => {
            let message = format!(
                "\"transferId\" with value \"{text}\" fails to match the required pattern: {FUNDS_TRANSFER_ID_PATTERN}"
            );
            Err(LEDGER.refuse(JoiError::StringPattern, message))
        }
    }
}

/// The `{transferId}` path parameter of the funds-out finish.
pub fn parse_funds_transfer_id_param(text: &str) -> Result<TransferId, FspiopError> {
    funds_transfer_id(text)
}

/// `currencyValidator`: `Joi.string().valid(...currencyList)`, optional everywhere.
fn currency(fields: &mut Fields<'_>) -> Result<Option<Currency>, FspiopError> {
    let label = fields.label("currency");
    let refuse = || LEDGER.refuse(JoiError::AnyOnly, format!("\"{label}\" must be one of the ISO 4217 currency codes"));
    match fields.opt_value("currency") {
        None => Ok(None),
        Some(value) => value.as_str().and_then(Currency::parse).map(Some).ok_or_else(refuse),
    }
}

/// The query of `GET /participants/{name}/limits` and `/participants/limits`
/// (`{currency, type}`) and of `/positions` (`{currency}`): other keys are refused.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedgerQuery {
    pub currency: Option<Currency>,
    pub kind: Option<String>,
}

pub fn parse_limits_query(query: &HashMap<String, String>) -> Result<LedgerQuery, FspiopError> {
    parse_query(query, true)
}

pub fn parse_positions_query(query: &HashMap<String, String>) -> Result<LedgerQuery, FspiopError> {
    parse_query(query, false)
}

fn parse_query(query: &HashMap<String, String>, with_type: bool) -> Result<LedgerQuery, FspiopError> {
    let map: Map<String, Value> = query.iter().map(|(key, value)| (key.clone(), Value::from(value.as_str()))).collect();
    let mut fields = Fields::new(LEDGER, &map);
    let currency = currency(&mut fields)?;
    let kind = match with_type {
        true => fields.opt_str("type")?.map(str::to_string),
        false => None,
    };
    fields.finish()?;
    Ok(LedgerQuery { currency, kind })
}

/// An exact operator amount: Joi's number rounded to the four decimals of central-ledger's
/// `DECIMAL(18,4)` columns, which refuse more than fourteen integer digits (a database error,
/// 500 2001, in central-ledger).
fn amount_of(number: &JoiNumber, label: &str) -> Result<Amount, FspiopError> {
    Amount::parse_decimal(&number.rounded_text()).map_err(|_| {
        FspiopError::with_detail(ErrorCode::InternalServerError, format!("Out of range value for \"{label}\""))
    })
}

pub fn parse_participant_create(bytes: &[u8]) -> Result<ParticipantCreate, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let name = participant_name(fields.str("name")?, "name")?;
    let currency = currency(&mut fields)?;
    let is_proxy = is_proxy(&mut fields)?;
    fields.finish()?;
    Ok(ParticipantCreate { name, currency, is_proxy })
}

/// `isProxy`: `Joi.boolean().falsy(0, '0', '').truthy(1, '1')`, `null` allowed.
fn is_proxy(fields: &mut Fields<'_>) -> Result<bool, FspiopError> {
    let value = fields.opt_value("isProxy");
    match value {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Number(it)) if it.as_u64() == Some(1) => Ok(true),
        Some(Value::Number(it)) if it.as_u64() == Some(0) => Ok(false),
        Some(Value::String(it)) if it == "1" => Ok(true),
        Some(Value::String(it)) if it == "0" || it.is_empty() => Ok(false),
        Some(value) => crate::joi::boolean(value)
            .ok_or_else(|| fields.refuse("isProxy", JoiError::BooleanBase, "must be a boolean")),
    }
}

/// `{isActive}` (participant, account or settlement model update).
pub fn parse_is_active(bytes: &[u8]) -> Result<bool, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let active = fields.bool("isActive")?;
    fields.finish()?;
    Ok(active)
}

/// `{type, value}`: an endpoint. Any type passes here, as central-ledger's Joi lets any string
/// through; whether the type is known is the handler's question ([`endpoint_type`]), asked
/// after the participant is found.
pub fn parse_endpoint(bytes: &[u8]) -> Result<(String, String), FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let kind = fields.str("type")?.to_string();
    let value = fields.str("value")?.to_string();
    fields.finish()?;
    Ok((kind, value))
}

/// `{currency, type}`: a hub account. The type is any string to Joi; `None` when it names no
/// ledger account type (the handler's 3003).
pub fn parse_hub_account(bytes: &[u8]) -> Result<(Option<Currency>, Option<LedgerAccountType>), FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let currency = currency(&mut fields)?;
    let kind = LedgerAccountType::from_name(fields.str("type")?);
    fields.finish()?;
    Ok((currency, kind))
}

/// `limit: {type, value[, alarmPercentage]}`; `value` at least 0 for initialPositionAndLimits
/// (`positive().allow(0)`). A negative cap on `PUT /limits` passes Joi, but a cap below zero is
/// not one: refused with the code central-ledger gives its validation (3101).
fn limit(fields: &mut Fields<'_>, with_alarm: bool) -> Result<(LimitRequest, Option<Amount>), FspiopError> {
    let mut limit = fields.object("limit", false)?;
    let kind = limit.str("type")?.to_string();
    let number = limit.number("value")?;
    if number.is_negative() {
        return Err(limit.refuse("value", JoiError::NumberRange, "must be a positive number"));
    }
    let value = amount_of(&number, "limit.value")?;
    let alarm = match with_alarm {
        true => Some(amount_of(&limit.number("alarmPercentage")?, "limit.alarmPercentage")?),
        false => None,
    };
    limit.finish()?;
    Ok((LimitRequest { kind, value }, alarm))
}

pub fn parse_initial_position_and_limits(bytes: &[u8]) -> Result<InitialPositionAndLimits, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let currency = currency(&mut fields)?;
    let (limit, _) = limit(&mut fields, false)?;
    let initial_position = match fields.opt_number("initialPosition")? {
        Some(number) => amount_of(&number, "initialPosition")?,
        None => Amount::ZERO,
    };
    fields.finish()?;
    Ok(InitialPositionAndLimits { currency, limit, initial_position })
}

pub fn parse_limit_update(bytes: &[u8]) -> Result<LimitUpdate, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let currency = currency(&mut fields)?;
    let (limit, alarm) = limit(&mut fields, true)?;
    fields.finish()?;
    Ok(LimitUpdate { currency, limit, alarm_percentage: alarm.expect("PUT /limits reads alarmPercentage") })
}

/// A funds text: a string, kept up to the [`FUNDS_TEXT_LENGTH_MAX`] characters a column holds
/// (central-ledger's Joi has no bound; longer texts would fail its insert after the 202).
fn funds_text(fields: &mut Fields<'_>, field: &'static str) -> Result<String, FspiopError> {
    let text = fields.str(field)?;
    match text.chars().count() <= FUNDS_TEXT_LENGTH_MAX {
        true => Ok(text.to_string()),
        false => Err(fields.refuse(
            field,
            JoiError::StringLength,
            &format!("length must be less than or equal to {FUNDS_TEXT_LENGTH_MAX} characters long"),
        )),
    }
}

/// A funds `action` among `allowed`, with central-ledger's label; `None` when it may be absent.
fn funds_action(fields: &mut Fields<'_>, allowed: &[&str], required: bool) -> Result<Option<FundsAction>, FspiopError> {
    let parse = |it: &str| match it {
        "recordFundsIn" => Some(FundsAction::In),
        "recordFundsOutPrepareReserve" => Some(FundsAction::OutPrepareReserve),
        "recordFundsOutCommit" => Some(FundsAction::OutCommit),
        _ => Some(FundsAction::OutAbort),
    };
    match fields.opt_value("action") {
        None if required => Err(LEDGER.refuse(JoiError::Required, format!("\"{ACTION_LABEL}\" is required"))),
        None => Ok(None),
        Some(value) => match value.as_str().filter(|it| allowed.contains(it)) {
            Some(it) => Ok(parse(it)),
            None => Err(LEDGER.refuse(JoiError::AnyOnly, only_message(ACTION_LABEL, allowed))),
        },
    }
}

/// `POST /participants/{name}/accounts/{id}`: funds in, or the reservation of a funds out.
pub fn parse_funds_start(bytes: &[u8]) -> Result<FundsStart, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let transfer_id = funds_transfer_id(fields.str("transferId")?)?;
    let external_reference = funds_text(&mut fields, "externalReference")?;
    let action = funds_action(&mut fields, &["recordFundsIn", "recordFundsOutPrepareReserve"], true)?
        .expect("a required action");
    let reason = funds_text(&mut fields, "reason")?;
    let (amount, currency) = funds_amount(&mut fields)?;
    let extensions = extensions(&mut fields)?;
    fields.finish()?;
    Ok(FundsStart { transfer_id, action, reason, external_reference, amount, currency, extensions })
}

/// `amount: {amount, currency}`: `Joi.number().positive().precision(4)`, which (converting)
/// rounds to four decimals before it checks the sign.
fn funds_amount(fields: &mut Fields<'_>) -> Result<(Amount, Option<Currency>), FspiopError> {
    let mut money = match fields.opt_value("amount") {
        None => return Err(LEDGER.refuse(JoiError::Required, format!("\"{AMOUNT_LABEL}\" is required"))),
        Some(Value::Object(map)) => Fields::nested(LEDGER, map, "amount."),
        Some(_) => {
            return Err(LEDGER.refuse(JoiError::ObjectBase, format!("\"{AMOUNT_LABEL}\" must be of type object")))
        }
    };
    let number = money.number("amount")?;
    let amount = amount_of(&number, "amount.amount")?;
    if !amount.is_positive() {
        return Err(money.refuse("amount", JoiError::NumberRange, "must be a positive number"));
    }
    let currency = currency(&mut money)?;
    money.finish()?;
    Ok((amount, currency))
}

/// `extensionList: {extension: [{key, value}]}`, all optional; items with both kept.
fn extensions(fields: &mut Fields<'_>) -> Result<Vec<(String, String)>, FspiopError> {
    let Some(mut list) = fields.opt_object("extensionList", false)? else {
        return Ok(Vec::new());
    };
    let items = list.array("extension", false)?.unwrap_or_default();
    let mut res = Vec::with_capacity(items.len());
    for (idx, item) in items.iter().enumerate() {
        let mut item = list.item("extension", idx, item, false)?;
        let key = item.opt_str("key")?;
        let value = item.opt_str("value")?;
        item.finish()?;
        if let (Some(key), Some(value)) = (key, value) {
            res.push((key.to_string(), value.to_string()));
        }
    }
    list.finish()?;
    Ok(res)
}

/// `PUT /participants/{name}/accounts/{id}/transfers/{transferId}`: commit or abort a funds
/// out. `action` is optional in central-ledger's schema; without one, `None` (accepted, and
/// nothing to do).
pub fn parse_funds_finish(bytes: &[u8], transfer_id: TransferId) -> Result<Option<FundsRequest>, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let action = funds_action(&mut fields, &["recordFundsOutCommit", "recordFundsOutAbort"], false)?;
    let reason = funds_text(&mut fields, "reason")?;
    fields.finish()?;
    Ok(action.map(|action| FundsRequest {
        transfer_id,
        action,
        reason,
        external_reference: None,
        amount: None,
        extensions: Vec::new(),
    }))
}

/// `POST /settlementModels`.
pub fn parse_settlement_model(bytes: &[u8]) -> Result<ModelRequest, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(LEDGER, &map);
    let name_text = fields.str("name")?;
    let name = model_name(&fields, name_text)?;
    let granularity = fields.one_of("settlementGranularity", &["GROSS", "NET"], Granularity::from_name)?;
    let interchange = fields.one_of("settlementInterchange", &["BILATERAL", "MULTILATERAL"], Interchange::from_name)?;
    let delay = fields.one_of("settlementDelay", &["IMMEDIATE", "DEFERRED"], Delay::from_name)?;
    let currency = currency(&mut fields)?;
    let require_liquidity_check = fields.bool("requireLiquidityCheck")?;
    let ledger_account_type = LedgerAccountType::from_name(fields.str("ledgerAccountType")?);
    let auto_position_reset = fields.bool("autoPositionReset")?;
    let settlement_account_type = fields.one_of(
        "settlementAccountType",
        &["SETTLEMENT", "INTERCHANGE_FEE_SETTLEMENT"],
        LedgerAccountType::from_name,
    )?;
    fields.finish()?;
    Ok(ModelRequest {
        name,
        granularity,
        interchange,
        delay,
        currency,
        require_liquidity_check,
        ledger_account_type,
        auto_position_reset,
        settlement_account_type,
    })
}

/// A model name: `Joi.string().alphanum().min(2).max(30)`, its rules in that order.
fn model_name(fields: &Fields<'_>, text: &str) -> Result<ModelName, FspiopError> {
    if !text.bytes().all(|it| it.is_ascii_alphanumeric()) {
        return Err(fields.refuse("name", JoiError::StringPattern, "must only contain alpha-numeric characters"));
    }
    match ModelName::parse(text) {
        Some(name) => Ok(name),
        None if text.len() < MODEL_NAME_LENGTH_MIN => Err(fields.refuse(
            "name",
            JoiError::StringLength,
            &format!("length must be at least {MODEL_NAME_LENGTH_MIN} characters long"),
        )),
        None => Err(fields.refuse(
            "name",
            JoiError::StringLength,
            &format!("length must be less than or equal to {MODEL_NAME_LENGTH_MAX} characters long"),
        )),
    }
}

/// One account in a Participant object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountBody {
    pub id: u64,
    pub ledger_account_type: &'static str,
    pub currency: String,
    pub is_active: u8,
    pub created_date: String,
    pub created_by: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_link: String,
}

/// The Participant object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantBody {
    pub name: String,
    pub id: String,
    pub created: String,
    pub is_active: u8,
    pub links: Links,
    pub accounts: Vec<AccountBody>,
    pub is_proxy: u8,
}

/// An account with its balance (`GET /participants/{name}/accounts`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountBalanceBody {
    pub id: u64,
    pub ledger_account_type: &'static str,
    pub currency: String,
    pub is_active: u8,
    pub value: Value,
    pub reserved_value: Value,
    pub changed_date: String,
}

/// A position (`GET /participants/{name}/positions`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionBody {
    pub currency: String,
    pub value: Value,
    pub changed_date: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitValue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: Value,
    pub alarm_percentage: Value,
}

/// A limit (`GET`/`PUT /participants/{name}/limits`); `name` only in the all-participants list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub currency: String,
    pub limit: LimitValue,
}

/// `{type, value}`.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// A settlement model as `GET /settlementModels` lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlementModelBody {
    pub settlement_model_id: u64,
    pub name: String,
    pub is_active: u8,
    pub settlement_granularity: &'static str,
    pub settlement_interchange: &'static str,
    pub settlement_delay: &'static str,
    pub currency: Option<String>,
    pub require_liquidity_check: u8,
    #[serde(rename = "ledgerAccountTypeId")]
    pub ledger_account_type: &'static str,
    pub settlement_account_type: &'static str,
    pub auto_position_reset: u8,
}

/// A funds action as it travels on the admin-transfer hub: the checked request, whom it is for,
/// and the hash of the operator's body (the duplicate check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FundsEvent {
    pub participant: String,
    pub account_id: u64,
    pub transfer_id: String,
    pub action: String,
    pub reason: String,
    pub external_reference: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub extensions: Vec<(String, String)>,
    pub hash: String,
}

/// A [`FundsEvent`] read back into ledger types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsCommand {
    pub participant: FspId,
    pub account: ledger_core::ids::AccountId,
    pub request: FundsRequest,
    pub hash: crate::RequestHash,
}

fn funds_action_name(action: FundsAction) -> &'static str {
    match action {
        FundsAction::In => "recordFundsIn",
        FundsAction::OutPrepareReserve => "recordFundsOutPrepareReserve",
        FundsAction::OutCommit => "recordFundsOutCommit",
        FundsAction::OutAbort => "recordFundsOutAbort",
    }
}

impl FundsEvent {
    pub fn new(
        participant: &FspId,
        account: ledger_core::ids::AccountId,
        request: &FundsRequest,
        hash: &crate::RequestHash,
    ) -> FundsEvent {
        FundsEvent {
            participant: participant.as_str().to_string(),
            account_id: account.0,
            transfer_id: request.transfer_id.as_str().to_string(),
            action: funds_action_name(request.action).to_string(),
            reason: request.reason.clone(),
            external_reference: request.external_reference.clone(),
            amount: request.amount.map(|(amount, _)| amount.to_fspiop_string()),
            currency: request.amount.map(|(_, currency)| currency.code().to_string()),
            extensions: request.extensions.clone(),
            hash: hash.as_str().to_string(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a funds event always serialises")
    }

    /// Reads an event this build wrote; `Err` names what is wrong (the event is dead-lettered).
    pub fn parse(bytes: &[u8]) -> Result<FundsCommand, String> {
        let event: FundsEvent = serde_json::from_slice(bytes).map_err(|err| format!("not a funds event: {err}"))?;
        let participant = FspId::parse(&event.participant).ok_or("participant")?;
        let transfer_id = TransferId::parse(&event.transfer_id).ok_or("transfer id")?;
        let action = [FundsAction::In, FundsAction::OutPrepareReserve, FundsAction::OutCommit, FundsAction::OutAbort]
            .into_iter()
            .find(|it| funds_action_name(*it) == event.action)
            .ok_or("action")?;
        let amount = match (&event.amount, &event.currency) {
            (Some(amount), Some(currency)) => Some((
                Amount::parse_fspiop(amount).map_err(|_| "amount")?,
                Currency::parse(currency).ok_or("currency")?,
            )),
            _ => None,
        };
        let request = FundsRequest {
            transfer_id,
            action,
            reason: event.reason,
            external_reference: event.external_reference,
            amount,
            extensions: event.extensions,
        };
        let account = ledger_core::ids::AccountId(event.account_id);
        Ok(FundsCommand { participant, account, request, hash: crate::RequestHash::new(event.hash) })
    }
}

/// `GET /enums`: central-ledger's reference enumerations as `{NAME: id}` maps.
pub fn enums_body() -> Value {
    use ledger_core::account::{LedgerEntryType, ParticipantRole, HUB_NAME, LEDGER_ACCOUNT_TYPES};
    use ledger_core::state::TRANSFER_STATES;
    let names = |pairs: Vec<(String, Value)>| Value::Object(pairs.into_iter().collect());
    let endpoint_type = ENDPOINT_TYPES.iter().map(|(name, id)| (name.to_string(), Value::from(*id))).collect();
    let ledger_account_type =
        LEDGER_ACCOUNT_TYPES.iter().map(|it| (it.name().to_string(), Value::from(it.id()))).collect();
    let entry_types = [
        ("PRINCIPLE_VALUE", LedgerEntryType::PrincipleValue),
        ("SETTLEMENT_NET_RECIPIENT", LedgerEntryType::SettlementNetRecipient),
        ("SETTLEMENT_NET_SENDER", LedgerEntryType::SettlementNetSender),
        ("SETTLEMENT_NET_ZERO", LedgerEntryType::SettlementNetZero),
        ("RECORD_FUNDS_IN", LedgerEntryType::RecordFundsIn),
        ("RECORD_FUNDS_OUT", LedgerEntryType::RecordFundsOut),
    ];
    let ledger_entry_type = entry_types.iter().map(|(name, it)| (name.to_string(), Value::from(it.id()))).collect();
    let roles = [
        ("PAYER_DFSP", ParticipantRole::PayerDfsp),
        ("PAYEE_DFSP", ParticipantRole::PayeeDfsp),
        ("HUB", ParticipantRole::Hub),
        ("DFSP_SETTLEMENT", ParticipantRole::DfspSettlement),
        ("DFSP_POSITION", ParticipantRole::DfspPosition),
    ];
    let role_type = roles.iter().map(|(name, it)| (name.to_string(), Value::from(it.id()))).collect();
    let transfer_state = TRANSFER_STATES.iter().map(|it| (it.name().to_string(), Value::from(it.name()))).collect();
    let state_enum = ["RECEIVED", "RESERVED", "COMMITTED", "ABORTED", "SETTLED"]
        .iter()
        .map(|it| (it.to_string(), Value::from(*it)))
        .collect();
    serde_json::json!({
        "endpointType": names(endpoint_type),
        "ledgerAccountType": names(ledger_account_type),
        "ledgerEntryType": names(ledger_entry_type),
        "participantLimitType": { NET_DEBIT_CAP: 1 },
        "transferParticipantRoleType": names(role_type),
        "transferState": names(transfer_state),
        "transferStateEnum": names(state_enum),
        "hubParticipant": { "id": 1, "name": HUB_NAME },
    })
}

mod endpoint_types;

pub use endpoint_types::{endpoint_type, ENDPOINT_TYPES};

#[cfg(test)]
mod tests;
