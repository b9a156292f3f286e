//! The central-ledger admin API's JSON: request bodies parsed into ledger types (with Joi's
//! error codes, see `body`), and the response bodies the operator and TTK read.

use ledger_core::account::LedgerAccountType;
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::funds::FundsAction;
use ledger_core::ids::{FspId, TransferId};
use ledger_core::model::{Delay, Granularity, Interchange, ModelDefinition, ModelName};
use serde::Serialize;
use serde_json::Value;

pub use crate::body::amount_number;
use crate::body::{malformed, parse_object, Fields};
use crate::FspiopError;

/// Longest funds `reason` and `externalReference` kept (central-ledger's columns).
pub const FUNDS_TEXT_LENGTH_MAX: usize = 512;
/// The only limit type Mojaloop has.
pub const NET_DEBIT_CAP: &str = "NET_DEBIT_CAP";
/// The alarm threshold a limit gets when none is given (`thresholdAlarmPercentage`).
pub const DEFAULT_ALARM_PERCENTAGE: i64 = 10;

/// The endpoint types an FSP may register, with the id `GET /enums` gives each: central-ledger's
/// `endpointType` seed (seeds/endpointType.js), in its order. The seed lists
/// `TP_CB_URL_CONSENT_REQUEST_PUT_ERROR` twice; its second row is ignored on insert but takes its
/// auto-increment value, hence the gap after 48.
pub const ENDPOINT_TYPES: [(&str, u16); 62] = [
    ("ALARM_NOTIFICATION_URL", 1),
    ("ALARM_NOTIFICATION_TOPIC", 2),
    ("FSPIOP_CALLBACK_URL_TRANSFER_POST", 3),
    ("FSPIOP_CALLBACK_URL_TRANSFER_PUT", 4),
    ("FSPIOP_CALLBACK_URL_TRANSFER_ERROR", 5),
    ("FSPIOP_CALLBACK_URL_FX_QUOTES", 6),
    ("FSPIOP_CALLBACK_URL_FX_TRANSFER_POST", 7),
    ("FSPIOP_CALLBACK_URL_FX_TRANSFER_PUT", 8),
    ("FSPIOP_CALLBACK_URL_FX_TRANSFER_ERROR", 9),
    ("NET_DEBIT_CAP_THRESHOLD_BREACH_EMAIL", 10),
    ("NET_DEBIT_CAP_ADJUSTMENT_EMAIL", 11),
    ("SETTLEMENT_TRANSFER_POSITION_CHANGE_EMAIL", 12),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_PUT", 13),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT", 14),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR", 15),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR", 16),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_DELETE", 17),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_DELETE", 18),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT", 19),
    ("FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR", 20),
    ("FSPIOP_CALLBACK_URL_PARTIES_GET", 21),
    ("FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_GET", 22),
    ("FSPIOP_CALLBACK_URL_PARTIES_PUT", 23),
    ("FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT", 24),
    ("FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR", 25),
    ("FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR", 26),
    ("FSPIOP_CALLBACK_URL_QUOTES", 27),
    ("FSPIOP_CALLBACK_URL_BULK_TRANSFER_POST", 28),
    ("FSPIOP_CALLBACK_URL_BULK_TRANSFER_PUT", 29),
    ("FSPIOP_CALLBACK_URL_BULK_TRANSFER_ERROR", 30),
    ("FSPIOP_CALLBACK_URL_AUTHORIZATIONS", 31),
    ("FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE", 32),
    ("FSPIOP_CALLBACK_URL_BULK_QUOTES", 33),
    ("TP_CB_URL_TRANSACTION_REQUEST_GET", 34),
    ("TP_CB_URL_TRANSACTION_REQUEST_POST", 35),
    ("TP_CB_URL_TRANSACTION_REQUEST_PUT", 36),
    ("TP_CB_URL_TRANSACTION_REQUEST_PUT_ERROR", 37),
    ("TP_CB_URL_TRANSACTION_REQUEST_PATCH", 38),
    ("TP_CB_URL_TRANSACTION_REQUEST_AUTH_POST", 39),
    ("TP_CB_URL_TRANSACTION_REQUEST_AUTH_PUT", 40),
    ("TP_CB_URL_TRANSACTION_REQUEST_AUTH_PUT_ERROR", 41),
    ("TP_CB_URL_TRANSACTION_REQUEST_VERIFY_POST", 42),
    ("TP_CB_URL_TRANSACTION_REQUEST_VERIFY_PUT", 43),
    ("TP_CB_URL_TRANSACTION_REQUEST_VERIFY_PUT_ERROR", 44),
    ("TP_CB_URL_CONSENT_REQUEST_POST", 45),
    ("TP_CB_URL_CONSENT_REQUEST_PUT", 46),
    ("TP_CB_URL_CONSENT_REQUEST_PUT_ERROR", 47),
    ("TP_CB_URL_CONSENT_REQUEST_PATCH", 48),
    ("TP_CB_URL_CREATE_CREDENTIAL_POST", 50),
    ("TP_CB_URL_CONSENT_POST", 51),
    ("TP_CB_URL_CONSENT_GET", 52),
    ("TP_CB_URL_CONSENT_PUT", 53),
    ("TP_CB_URL_CONSENT_PATCH", 54),
    ("TP_CB_URL_CONSENT_PUT_ERROR", 55),
    ("TP_CB_URL_CONSENT_GENERATE_CHALLENGE_POST", 56),
    ("TP_CB_URL_CONSENT_GENERATE_CHALLENGE_PUT_ERROR", 57),
    ("TP_CB_URL_ACCOUNTS_GET", 58),
    ("TP_CB_URL_ACCOUNTS_PUT", 59),
    ("TP_CB_URL_ACCOUNTS_PUT_ERROR", 60),
    ("TP_CB_URL_SERVICES_GET", 61),
    ("TP_CB_URL_SERVICES_PUT", 62),
    ("TP_CB_URL_SERVICES_PUT_ERROR", 63),
];

/// `POST /participants`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantCreate {
    pub name: FspId,
    pub currency: Currency,
    pub is_proxy: bool,
}

/// `POST /participants/{name}/initialPositionAndLimits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialPositionAndLimits {
    pub currency: Currency,
    pub limit: Amount,
    pub initial_position: Amount,
}

/// `PUT /participants/{name}/limits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitUpdate {
    pub currency: Currency,
    pub limit: Amount,
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

fn fields_of(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, FspiopError> {
    parse_object(bytes)
}

fn fsp_name(fields: &mut Fields<'_>, field: &'static str) -> Result<FspId, FspiopError> {
    let text = fields.str(field)?;
    // central-ledger's Joi: alphanumeric with `-` and `_`, 2 to 30 characters.
    let valid = (2..=30).contains(&text.len()) && text.bytes().all(|it| it.is_ascii_alphanumeric() || it == b'-' || it == b'_');
    match valid.then(|| FspId::parse(text)).flatten() {
        Some(name) => Ok(name),
        None => Err(malformed(format!("\"{field}\" with value \"{text}\" fails to match the required pattern"))),
    }
}

pub fn parse_participant_create(bytes: &[u8]) -> Result<ParticipantCreate, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let name = fsp_name(&mut fields, "name")?;
    let currency = fields.currency("currency")?;
    let is_proxy = fields.opt_bool("isProxy")?.unwrap_or(false);
    fields.finish()?;
    Ok(ParticipantCreate { name, currency, is_proxy })
}

/// `{isActive}` (participant, account or settlement model update).
pub fn parse_is_active(bytes: &[u8]) -> Result<bool, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let active = fields.bool("isActive")?;
    fields.finish()?;
    Ok(active)
}

/// `{type, value}`: an endpoint. Any type passes here, as central-ledger's Joi lets any string
/// through; whether the type is known is the handler's question ([`endpoint_type`]), asked
/// after the participant is found.
pub fn parse_endpoint(bytes: &[u8]) -> Result<(String, String), FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let kind = fields.str("type")?.to_string();
    let value = fields.str("value")?.to_string();
    fields.finish()?;
    Ok((kind, value))
}

/// The seeded endpoint type a registration names, in its canonical spelling; `None` for a type
/// central-ledger does not know. Its lookup (`endpointType.name`, MySQL's default
/// case-insensitive collation) ignores ASCII case, and it answers with the seeded name.
pub fn endpoint_type(kind: &str) -> Option<&'static str> {
    ENDPOINT_TYPES.iter().find(|(name, _)| name.eq_ignore_ascii_case(kind)).map(|(name, _)| *name)
}

/// `{currency, type}`: a hub account.
pub fn parse_hub_account(bytes: &[u8]) -> Result<(Currency, LedgerAccountType), FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let currency = fields.currency("currency")?;
    let names: Vec<&str> = ledger_core::account::LEDGER_ACCOUNT_TYPES.iter().map(|it| it.name()).collect();
    let kind = fields.one_of("type", &names, LedgerAccountType::from_name)?;
    fields.finish()?;
    Ok((currency, kind))
}

fn net_debit_cap(limit: &mut Fields<'_>) -> Result<Amount, FspiopError> {
    limit.one_of("type", &[NET_DEBIT_CAP], |_| Some(()))?;
    let value = limit.number("value")?;
    if value.is_negative() {
        return Err(malformed("\"limit.value\" must be greater than or equal to 0"));
    }
    Ok(value)
}

pub fn parse_initial_position_and_limits(bytes: &[u8]) -> Result<InitialPositionAndLimits, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let currency = fields.currency("currency")?;
    let mut limit_fields = fields.object("limit")?;
    let limit = net_debit_cap(&mut limit_fields)?;
    limit_fields.finish()?;
    let initial_position = fields.opt_number("initialPosition")?.unwrap_or(Amount::ZERO);
    fields.finish()?;
    Ok(InitialPositionAndLimits { currency, limit, initial_position })
}

pub fn parse_limit_update(bytes: &[u8]) -> Result<LimitUpdate, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let currency = fields.currency("currency")?;
    let mut limit_fields = fields.object("limit")?;
    let limit = net_debit_cap(&mut limit_fields)?;
    let alarm = limit_fields.opt_number("alarmPercentage")?;
    limit_fields.finish()?;
    fields.finish()?;
    let alarm_percentage = alarm.unwrap_or(Amount::from_whole(DEFAULT_ALARM_PERCENTAGE));
    Ok(LimitUpdate { currency, limit, alarm_percentage })
}

fn transfer_id(fields: &mut Fields<'_>) -> Result<TransferId, FspiopError> {
    let text = fields.str("transferId")?;
    TransferId::parse(text).ok_or_else(|| malformed(format!("\"transferId\" with value \"{text}\" fails to match the required pattern")))
}

fn funds_text(fields: &mut Fields<'_>, field: &'static str) -> Result<String, FspiopError> {
    let text = fields.str(field)?;
    match text.chars().count() <= FUNDS_TEXT_LENGTH_MAX {
        true => Ok(text.to_string()),
        false => Err(malformed(format!("\"{field}\" length must be less than or equal to {FUNDS_TEXT_LENGTH_MAX} characters long"))),
    }
}

/// `POST /participants/{name}/accounts/{id}`: funds in, or the reservation of a funds out.
pub fn parse_funds_start(bytes: &[u8]) -> Result<FundsRequest, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let transfer_id = transfer_id(&mut fields)?;
    let external_reference = funds_text(&mut fields, "externalReference")?;
    let action = fields.one_of("action", &["recordFundsIn", "recordFundsOutPrepareReserve"], |it| match it {
        "recordFundsIn" => Some(FundsAction::In),
        _ => Some(FundsAction::OutPrepareReserve),
    })?;
    let reason = funds_text(&mut fields, "reason")?;
    let mut money = fields.object("amount")?;
    let amount_text = money.str("amount")?;
    let amount = Amount::parse_fspiop(amount_text)
        .ok()
        .filter(|it| it.is_positive())
        .ok_or_else(|| malformed(format!("\"amount.amount\" with value \"{amount_text}\" fails to match the required pattern")))?;
    let currency = money.currency("currency")?;
    money.finish()?;
    let extensions = extensions(fields.opt_value("extensionList"))?;
    fields.finish()?;
    Ok(FundsRequest { transfer_id, action, reason, external_reference: Some(external_reference), amount: Some((amount, currency)), extensions })
}

/// `PUT /participants/{name}/accounts/{id}/transfers/{transferId}`: commit or abort a funds out.
pub fn parse_funds_finish(bytes: &[u8], transfer_id: TransferId) -> Result<FundsRequest, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let action = fields.one_of("action", &["recordFundsOutCommit", "recordFundsOutAbort"], |it| match it {
        "recordFundsOutCommit" => Some(FundsAction::OutCommit),
        _ => Some(FundsAction::OutAbort),
    })?;
    let reason = funds_text(&mut fields, "reason")?;
    fields.finish()?;
    Ok(FundsRequest { transfer_id, action, reason, external_reference: None, amount: None, extensions: Vec::new() })
}

fn extensions(value: Option<&Value>) -> Result<Vec<(String, String)>, FspiopError> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let list = value.get("extension").and_then(Value::as_array).ok_or_else(|| malformed("\"extensionList.extension\" must be an array"))?;
    list.iter()
        .map(|it| match (it.get("key").and_then(Value::as_str), it.get("value").and_then(Value::as_str)) {
            (Some(key), Some(value)) => Ok((key.to_string(), value.to_string())),
            _ => Err(malformed("\"extensionList.extension\" items need a string key and value")),
        })
        .collect()
}

/// `POST /settlementModels`.
pub fn parse_settlement_model(bytes: &[u8]) -> Result<ModelDefinition, FspiopError> {
    let map = fields_of(bytes)?;
    let mut fields = Fields::new(&map);
    let name_text = fields.str("name")?;
    let name = ModelName::parse(name_text).ok_or_else(|| malformed(format!("\"name\" with value \"{name_text}\" fails to match the required pattern")))?;
    let granularity = fields.one_of("settlementGranularity", &["GROSS", "NET"], Granularity::from_name)?;
    let interchange = fields.one_of("settlementInterchange", &["BILATERAL", "MULTILATERAL"], Interchange::from_name)?;
    let delay = fields.one_of("settlementDelay", &["IMMEDIATE", "DEFERRED"], Delay::from_name)?;
    let currency = match fields.opt_str("currency")? {
        Some(code) => Some(Currency::parse(code).ok_or_else(|| malformed("\"currency\" must be a valid ISO 4217 currency code"))?),
        None => None,
    };
    let require_liquidity_check = fields.bool("requireLiquidityCheck")?;
    let names: Vec<&str> = ledger_core::account::LEDGER_ACCOUNT_TYPES.iter().map(|it| it.name()).collect();
    let ledger_account_type = fields.one_of("ledgerAccountType", &names, LedgerAccountType::from_name)?;
    let auto_position_reset = fields.bool("autoPositionReset")?;
    let settlement_account_type = fields.one_of("settlementAccountType", &names, LedgerAccountType::from_name)?;
    fields.finish()?;
    Ok(ModelDefinition {
        name,
        granularity,
        interchange,
        delay,
        currency,
        require_liquidity_check,
        ledger_account_type,
        settlement_account_type,
        auto_position_reset,
    })
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
    pub fn new(participant: &FspId, account: ledger_core::ids::AccountId, request: &FundsRequest, hash: &crate::RequestHash) -> FundsEvent {
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
    let ledger_account_type = LEDGER_ACCOUNT_TYPES.iter().map(|it| (it.name().to_string(), Value::from(it.id()))).collect();
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
    let state_enum = ["RECEIVED", "RESERVED", "COMMITTED", "ABORTED", "SETTLED"].iter().map(|it| (it.to_string(), Value::from(*it))).collect();
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

#[cfg(test)]
mod tests;
