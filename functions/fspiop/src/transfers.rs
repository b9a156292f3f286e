//! The bodies of the FSPIOP transfers API: serde wire types, the parsers that turn a received body
//! into checked requests built from the ledger's value types, and the bodies the hub sends.
//!
//! v1.1 and v2.0 bodies have the same shape; they differ in one rule, applied here: every v2.0
//! object is closed (`additionalProperties: false`, an unknown field is 3103) where v1.1 ignores
//! unknown fields. Content version 1.0 follows the v1.1 rules. Transfer ids are UUIDs of versions
//! 1–7 or ULIDs on every version: ml-api-adapter validates all versions against the one spec it
//! serves, whose `CorrelationId` is that (api-snippets' own v1.1 schema allows UUID versions 1–5
//! only).
//!
//! # Which error is reported
//! A body is parsed into a `serde_json::Value` and walked in the order Mojaloop's ajv validation
//! checks it (see `schema`), so the one error returned is the one Mojaloop would report first:
//! size (3104), then JSON syntax (3101), then per object: type (3101), the first missing required
//! property in the schema's `required` order (3102), an unknown property in v2.0 (3103), then each
//! property in schema order, each checked for type (3101) then enum, length and pattern (3100).
//! Deriving `Deserialize` on the checked types could not give that order, nor the error texts.

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use ledger_core::amount::Amount;
use ledger_core::condition::{IlpCondition, IlpFulfilment, ILP_VALUE_BYTES};
use ledger_core::currency::Currency;
use ledger_core::ids::{FspId, TransferId, FSP_ID_LENGTH_MAX};
use ledger_core::state::TransferStateEnum;
use ledger_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::datetime::{format_fspiop_datetime, parse_fspiop_datetime, DATETIME_PATTERN};
use crate::error::{ErrorCode, FspiopError, ERROR_DESCRIPTION_CHARS_MAX};
use crate::hash::RequestHash;
use crate::headers::ApiVersion;
use crate::schema::{
    check_array, check_enum, check_object, check_string, invalid_error, is_base64url_char, required, type_error,
    JsonPath, ObjectRule, Pattern, StringRule,
};

/// Every parser here starts from this read; kept at its old path for callers.
pub use crate::json::parse_json_body;
/// The shared types these bodies are built from, at the path callers have always used.
pub use crate::wire::{
    ErrorInformation, ErrorInformationObject, Extension, ExtensionList, EXTENSIONS_MAX, EXTENSION_KEY_CHARS_MAX,
    EXTENSION_VALUE_CHARS_MAX,
};

/// Longest `ilpPacket`, in characters.
pub const ILP_PACKET_CHARS_MAX: usize = 32_768;
/// Longest condition or fulfilment text the schema allows before its pattern is checked.
pub const ILP_VALUE_CHARS_MAX: usize = 48;
/// How far in the future a `completedTimestamp` may be (`MAX_CALLBACK_TIME_LAG_DILATION_MILLISECONDS`).
pub const COMPLETED_TIMESTAMP_FUTURE_MS_MAX: i64 = 200;
/// How far in the past a `completedTimestamp` may be (`MAX_FULFIL_TIMEOUT_DURATION_SECONDS`, 300 s).
pub const COMPLETED_TIMESTAMP_PAST_MS_MAX: i64 = 300_000;

/// ml-api-adapter's `CorrelationId`, on every content version (module documentation).
const TRANSFER_ID_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$|^[0-9A-HJKMNP-TV-Z]{26}$";
const AMOUNT_PATTERN: &str = "^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$";
const ILP_VALUE_PATTERN: &str = "^[A-Za-z0-9-_]{43}$";
const ILP_PACKET_PATTERN: &str = "^[A-Za-z0-9-_]+[=]{0,2}$";
const ERROR_CODE_PATTERN: &str = "^[1-9]\\d{3}$";

// ---------------------------------------------------------------------------------------------
// Wire types: the JSON exactly as it travels, every leaf a string.

/// `Money`: an amount and its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: String,
    pub amount: String,
}

/// The body of `POST /transfers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransfersPostRequest {
    pub transfer_id: String,
    pub payee_fsp: String,
    pub payer_fsp: String,
    pub amount: Money,
    pub ilp_packet: String,
    pub condition: String,
    pub expiration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_list: Option<ExtensionList>,
}

/// The body of `PUT /transfers/{ID}`. Fields are in the order central-ledger writes them when the
/// hub makes this body itself (`toFulfil`), which is the order they serialise in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransfersIdPutResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_timestamp: Option<String>,
    pub transfer_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_list: Option<ExtensionList>,
}

/// The body of `PATCH /transfers/{ID}`, which only the hub sends.
///
/// `transferId` is not in the schema, but central-ledger puts it first in the `PATCH` that tells
/// a payee its `RESERVED` transfer was aborted; it is left out when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransfersIdPatchResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    pub completed_timestamp: String,
    pub transfer_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_list: Option<ExtensionList>,
}

impl TransfersIdPutResponse {
    /// The body the hub itself makes for `PUT /transfers/{ID}` (after `GET`, for a duplicate
    /// prepare, and to the payer after a `RESERVED` fulfil).
    pub fn from_hub(
        completed: Timestamp,
        state: TransferStateEnum,
        fulfilment: Option<&IlpFulfilment>,
        extension_list: Option<ExtensionList>,
    ) -> TransfersIdPutResponse {
        TransfersIdPutResponse {
            completed_timestamp: Some(format_fspiop_datetime(completed)),
            transfer_state: state.name().to_string(),
            fulfilment: fulfilment.map(IlpFulfilment::to_base64url),
            extension_list,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a body of strings always serialises")
    }
}

impl TransfersIdPatchResponse {
    /// The body of the hub's `PATCH /transfers/{ID}` to a payee that answered `RESERVED`.
    pub fn from_hub(
        transfer_id: Option<&TransferId>,
        completed: Timestamp,
        state: TransferStateEnum,
        extension_list: Option<ExtensionList>,
    ) -> TransfersIdPatchResponse {
        TransfersIdPatchResponse {
            transfer_id: transfer_id.map(|id| id.as_str().to_string()),
            completed_timestamp: format_fspiop_datetime(completed),
            transfer_state: state.name().to_string(),
            extension_list,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a body of strings always serialises")
    }
}

impl From<&TransferPrepare> for TransfersPostRequest {
    fn from(prepare: &TransferPrepare) -> TransfersPostRequest {
        TransfersPostRequest {
            transfer_id: prepare.transfer_id.as_str().to_string(),
            payee_fsp: prepare.payee_fsp.as_str().to_string(),
            payer_fsp: prepare.payer_fsp.as_str().to_string(),
            amount: Money { currency: prepare.currency.code().to_string(), amount: prepare.amount.to_fspiop_string() },
            ilp_packet: prepare.ilp_packet.as_str().to_string(),
            condition: prepare.condition.to_base64url(),
            expiration: format_fspiop_datetime(prepare.expiration),
            extension_list: prepare.extension_list.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checked requests: what a parser returns once every rule has passed.

/// A received body, checked, together with its duplicate-check hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    pub request: T,
    pub hash: RequestHash,
}

/// An `ilpPacket`: `^[A-Za-z0-9-_]+[=]{0,2}$`, 1 to 32 768 characters. Kept as text; the switch
/// never looks inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IlpPacket(String);

impl IlpPacket {
    pub fn parse(text: &str) -> Option<IlpPacket> {
        let n_chars = text.chars().count();
        (0 < n_chars && n_chars <= ILP_PACKET_CHARS_MAX && is_ilp_packet(text)).then(|| IlpPacket(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A checked `POST /transfers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPrepare {
    pub transfer_id: TransferId,
    pub payee_fsp: FspId,
    pub payer_fsp: FspId,
    pub amount: Amount,
    pub currency: Currency,
    pub ilp_packet: IlpPacket,
    pub condition: IlpCondition,
    pub expiration: Timestamp,
    pub extension_list: Option<ExtensionList>,
}

/// A checked `PUT /transfers/{ID}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferFulfil {
    pub fulfilment: Option<IlpFulfilment>,
    pub completed_timestamp: Option<Timestamp>,
    /// One of `RECEIVED`, `RESERVED`, `COMMITTED`, `ABORTED` (never `SETTLED`).
    pub transfer_state: TransferStateEnum,
    pub extension_list: Option<ExtensionList>,
}

/// What the ledger is asked to do with a `PUT /transfers/{ID}` (ml-api-adapter `fulfilMessageDto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfilAction {
    /// `COMMITTED`, and also `RECEIVED`: anything that is neither of the others.
    Commit,
    /// `RESERVED`: commit, then `PATCH` the payee.
    Reserve,
    /// `ABORTED`: accepted with 200, then dropped; payees must abort with `PUT .../error`.
    Reject,
}

impl TransferFulfil {
    pub fn action(&self) -> FulfilAction {
        match self.transfer_state {
            TransferStateEnum::Aborted => FulfilAction::Reject,
            TransferStateEnum::Reserved => FulfilAction::Reserve,
            _ => FulfilAction::Commit,
        }
    }
}

/// A checked `PUT /transfers/{ID}/error`: the payee's error, to be forwarded to the payer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferAbort {
    pub error_code: ErrorCode,
    /// 1 to 128 characters.
    pub error_description: String,
    pub extension_list: Option<ExtensionList>,
}

impl TransferAbort {
    /// The error as the payer receives it: the payee's code and description, verbatim.
    pub fn to_error(&self) -> FspiopError {
        FspiopError::forwarded(self.error_code, &self.error_description, self.extension_list.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsers.

/// Parses and checks a `POST /transfers` body.
pub fn parse_transfers_post(body: &[u8], version: ApiVersion) -> Result<Parsed<TransferPrepare>, FspiopError> {
    let value = parse_json_body(body)?;
    let request = prepare_from_json(&value, version)?;
    Ok(Parsed { request, hash: crate::hash::hash_json(&value) })
}

/// Parses and checks a `PUT /transfers/{ID}` body.
pub fn parse_transfers_put(body: &[u8], version: ApiVersion) -> Result<Parsed<TransferFulfil>, FspiopError> {
    let value = parse_json_body(body)?;
    let request = fulfil_from_json(&value, version)?;
    Ok(Parsed { request, hash: crate::hash::hash_json(&value) })
}

/// Parses and checks a `PUT /transfers/{ID}/error` body.
pub fn parse_transfers_error(body: &[u8], version: ApiVersion) -> Result<Parsed<TransferAbort>, FspiopError> {
    let value = parse_json_body(body)?;
    let request = abort_from_json(&value, version)?;
    Ok(Parsed { request, hash: crate::hash::hash_json(&value) })
}

const TRANSFERS_POST: ObjectRule = ObjectRule {
    properties: &[
        "transferId",
        "payeeFsp",
        "payerFsp",
        "amount",
        "ilpPacket",
        "condition",
        "expiration",
        "extensionList",
    ],
    required: &["transferId", "payeeFsp", "payerFsp", "amount", "ilpPacket", "condition", "expiration"],
};
const MONEY: ObjectRule = ObjectRule { properties: &["currency", "amount"], required: &["currency", "amount"] };
const TRANSFERS_PUT: ObjectRule = ObjectRule {
    properties: &["fulfilment", "completedTimestamp", "transferState", "extensionList"],
    required: &["transferState"],
};
const ERROR_INFORMATION_OBJECT: ObjectRule =
    ObjectRule { properties: &["errorInformation"], required: &["errorInformation"] };
const ERROR_INFORMATION: ObjectRule = ObjectRule {
    properties: &["errorCode", "errorDescription", "extensionList"],
    required: &["errorCode", "errorDescription"],
};
const EXTENSION_LIST: ObjectRule = ObjectRule { properties: &["extension"], required: &["extension"] };
const EXTENSION: ObjectRule = ObjectRule { properties: &["key", "value"], required: &["key", "value"] };

fn prepare_from_json(value: &Value, version: ApiVersion) -> Result<TransferPrepare, FspiopError> {
    let path = JsonPath::body();
    let closed = version.rejects_additional_properties();
    let map = check_object(value, &path, &TRANSFERS_POST, closed)?;
    let transfer_id = transfer_id_field(required(map, &path, "transferId")?, &path.child("transferId"))?;
    let payee_fsp = fsp_id_field(required(map, &path, "payeeFsp")?, &path.child("payeeFsp"))?;
    let payer_fsp = fsp_id_field(required(map, &path, "payerFsp")?, &path.child("payerFsp"))?;
    let (amount, currency) = money_field(required(map, &path, "amount")?, &path.child("amount"), closed)?;
    let ilp_packet = ilp_packet_field(required(map, &path, "ilpPacket")?, &path.child("ilpPacket"))?;
    let condition = condition_field(required(map, &path, "condition")?, &path.child("condition"))?;
    let expiration = datetime_field(required(map, &path, "expiration")?, &path.child("expiration"))?;
    let extension_list = optional_extension_list(map, &path, closed)?;
    Ok(TransferPrepare {
        transfer_id,
        payee_fsp,
        payer_fsp,
        amount,
        currency,
        ilp_packet,
        condition,
        expiration,
        extension_list,
    })
}

fn fulfil_from_json(value: &Value, version: ApiVersion) -> Result<TransferFulfil, FspiopError> {
    let path = JsonPath::body();
    let closed = version.rejects_additional_properties();
    let map = check_object(value, &path, &TRANSFERS_PUT, closed)?;
    let fulfilment = match map.get("fulfilment") {
        Some(value) => Some(fulfilment_field(value, &path.child("fulfilment"))?),
        None => None,
    };
    let completed_timestamp = match map.get("completedTimestamp") {
        Some(value) => Some(datetime_field(value, &path.child("completedTimestamp"))?),
        None => None,
    };
    let state_path = path.child("transferState");
    let transfer_state = check_enum(required(map, &path, "transferState")?, &state_path, parse_transfer_state)?;
    let extension_list = optional_extension_list(map, &path, closed)?;
    Ok(TransferFulfil { fulfilment, completed_timestamp, transfer_state, extension_list })
}

fn abort_from_json(value: &Value, version: ApiVersion) -> Result<TransferAbort, FspiopError> {
    let root = JsonPath::body();
    let closed = version.rejects_additional_properties();
    let map = check_object(value, &root, &ERROR_INFORMATION_OBJECT, closed)?;
    let path = root.child("errorInformation");
    let info = check_object(required(map, &root, "errorInformation")?, &path, &ERROR_INFORMATION, closed)?;
    let error_code = error_code_field(required(info, &path, "errorCode")?, &path.child("errorCode"))?;
    let description_rule =
        StringRule { min_chars: Some(1), max_chars: Some(ERROR_DESCRIPTION_CHARS_MAX), pattern: None };
    let description_path = path.child("errorDescription");
    let error_description =
        check_string(required(info, &path, "errorDescription")?, &description_path, &description_rule)?;
    let extension_list = optional_extension_list(info, &path, closed)?;
    Ok(TransferAbort { error_code, error_description: error_description.to_string(), extension_list })
}

/// A string checked by a pattern alone, parsed by the type that owns the rule; a value the
/// type rejects is reported as the schema's pattern failure.
fn pattern_field<T>(
    value: &Value,
    path: &JsonPath,
    source: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, FspiopError> {
    let Value::String(text) = value else {
        return Err(type_error(path, "string"));
    };
    parse(text).ok_or_else(|| invalid_error(path, &format!("must match pattern \"{source}\"")))
}

fn transfer_id_field(value: &Value, path: &JsonPath) -> Result<TransferId, FspiopError> {
    pattern_field(value, path, TRANSFER_ID_PATTERN, TransferId::parse)
}

fn fsp_id_field(value: &Value, path: &JsonPath) -> Result<FspId, FspiopError> {
    let rule = StringRule { min_chars: Some(1), max_chars: Some(FSP_ID_LENGTH_MAX), pattern: None };
    let text = check_string(value, path, &rule)?;
    FspId::parse(text)
        .ok_or_else(|| invalid_error(path, &format!("must NOT have more than {FSP_ID_LENGTH_MAX} characters")))
}

fn money_field(value: &Value, path: &JsonPath, closed: bool) -> Result<(Amount, Currency), FspiopError> {
    let map = check_object(value, path, &MONEY, closed)?;
    let currency = check_enum(required(map, path, "currency")?, &path.child("currency"), Currency::parse)?;
    let amount = pattern_field(required(map, path, "amount")?, &path.child("amount"), AMOUNT_PATTERN, |text| {
        Amount::parse_fspiop(text).ok()
    })?;
    Ok((amount, currency))
}

fn ilp_packet_field(value: &Value, path: &JsonPath) -> Result<IlpPacket, FspiopError> {
    let pattern = Pattern { source: ILP_PACKET_PATTERN, matches: is_ilp_packet };
    let rule = StringRule { min_chars: Some(1), max_chars: Some(ILP_PACKET_CHARS_MAX), pattern: Some(pattern) };
    let text = check_string(value, path, &rule)?;
    Ok(IlpPacket(text.to_string()))
}

const ILP_VALUE_RULE: StringRule = StringRule {
    min_chars: None,
    max_chars: Some(ILP_VALUE_CHARS_MAX),
    pattern: Some(Pattern { source: ILP_VALUE_PATTERN, matches: is_ilp_value_text }),
};

fn condition_field(value: &Value, path: &JsonPath) -> Result<IlpCondition, FspiopError> {
    let text = check_string(value, path, &ILP_VALUE_RULE)?;
    let condition =
        IlpCondition::from_base64url(text).or_else(|| decode_ilp_value_leniently(text).map(IlpCondition::from_bytes));
    condition.ok_or_else(|| invalid_error(path, &format!("must match pattern \"{ILP_VALUE_PATTERN}\"")))
}

fn fulfilment_field(value: &Value, path: &JsonPath) -> Result<IlpFulfilment, FspiopError> {
    let text = check_string(value, path, &ILP_VALUE_RULE)?;
    let fulfilment =
        IlpFulfilment::from_base64url(text).or_else(|| decode_ilp_value_leniently(text).map(IlpFulfilment::from_bytes));
    fulfilment.ok_or_else(|| invalid_error(path, &format!("must match pattern \"{ILP_VALUE_PATTERN}\"")))
}

/// Base64url with the last character's two spare bits ignored. The schema only asks for 43
/// base64url characters, and Node's `Buffer.from(text, 'base64')`, which central-ledger uses,
/// ignores those bits; the strict canonical decoder in `ledger_core` would refuse such a value.
fn decode_ilp_value_leniently(text: &str) -> Option<[u8; ILP_VALUE_BYTES]> {
    let config = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone);
    let bytes = GeneralPurpose::new(&URL_SAFE, config).decode(text).ok()?;
    bytes.try_into().ok()
}

fn datetime_field(value: &Value, path: &JsonPath) -> Result<Timestamp, FspiopError> {
    pattern_field(value, path, DATETIME_PATTERN, parse_fspiop_datetime)
}

fn error_code_field(value: &Value, path: &JsonPath) -> Result<ErrorCode, FspiopError> {
    pattern_field(value, path, ERROR_CODE_PATTERN, ErrorCode::parse)
}

fn optional_extension_list(
    map: &Map<String, Value>,
    parent: &JsonPath,
    closed: bool,
) -> Result<Option<ExtensionList>, FspiopError> {
    match map.get("extensionList") {
        Some(value) => extension_list_field(value, &parent.child("extensionList"), closed).map(Some),
        None => Ok(None),
    }
}

fn extension_list_field(value: &Value, path: &JsonPath, closed: bool) -> Result<ExtensionList, FspiopError> {
    let map = check_object(value, path, &EXTENSION_LIST, closed)?;
    let items_path = path.child("extension");
    let items = check_array(required(map, path, "extension")?, &items_path, 1, EXTENSIONS_MAX)?;
    let extension = items
        .iter()
        .enumerate()
        .map(|(idx, item)| extension_field(item, &items_path.index(idx), closed))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ExtensionList { extension })
}

fn extension_field(value: &Value, path: &JsonPath, closed: bool) -> Result<Extension, FspiopError> {
    let map = check_object(value, path, &EXTENSION, closed)?;
    let key_rule = StringRule { min_chars: Some(1), max_chars: Some(EXTENSION_KEY_CHARS_MAX), pattern: None };
    let value_rule = StringRule { min_chars: Some(1), max_chars: Some(EXTENSION_VALUE_CHARS_MAX), pattern: None };
    let key = check_string(required(map, path, "key")?, &path.child("key"), &key_rule)?;
    let value = check_string(required(map, path, "value")?, &path.child("value"), &value_rule)?;
    Ok(Extension { key: key.to_string(), value: value.to_string() })
}

/// The `TransferState` enumeration a DFSP may send (no `SETTLED`).
fn parse_transfer_state(text: &str) -> Option<TransferStateEnum> {
    match text {
        "RECEIVED" => Some(TransferStateEnum::Received),
        "RESERVED" => Some(TransferStateEnum::Reserved),
        "COMMITTED" => Some(TransferStateEnum::Committed),
        "ABORTED" => Some(TransferStateEnum::Aborted),
        _ => None,
    }
}

/// `^[A-Za-z0-9-_]+[=]{0,2}$`.
fn is_ilp_packet(text: &str) -> bool {
    let data = text.trim_end_matches('=');
    let n_padding = text.len() - data.len();
    !data.is_empty() && n_padding <= 2 && data.bytes().all(is_base64url_char)
}

/// `^[A-Za-z0-9-_]{43}$`.
fn is_ilp_value_text(text: &str) -> bool {
    text.len() == ledger_core::condition::ILP_VALUE_TEXT_LENGTH && text.bytes().all(is_base64url_char)
}

// ---------------------------------------------------------------------------------------------
// Checks outside the schema.

/// ml-api-adapter's synchronous check of a `PUT /transfers/{ID}` that carries a
/// `completedTimestamp`: at most 200 ms in the future and 300 s in the past, else 3100. Mojaloop
/// skips it when the request has an `fspiop-proxy` header; that choice is the caller's.
pub fn check_completed_timestamp(completed: Timestamp, now: Timestamp) -> Result<(), FspiopError> {
    let (completed_ms, now_ms) = (completed.unix_ms(), now.unix_ms());
    if now_ms.saturating_add(COMPLETED_TIMESTAMP_FUTURE_MS_MAX) < completed_ms {
        let detail = "completedTimestamp fails because future timestamp was provided";
        return Err(FspiopError::with_detail(ErrorCode::ValidationError, detail));
    }
    if completed_ms < now_ms.saturating_sub(COMPLETED_TIMESTAMP_PAST_MS_MAX) {
        let detail = "completedTimestamp fails because provided timestamp exceeded the maximum timeout duration";
        return Err(FspiopError::with_detail(ErrorCode::ValidationError, detail));
    }
    Ok(())
}

/// The `{ID}` of `/transfers/{ID}` as it stands in the request's path (percent-encoded),
/// checked against the transfer id pattern, the same on every version.
///
/// Mojaloop trims the path before routing, so an id that is blank once decoded (`%20`) is an
/// unknown URI (3002, TTK bug #849); any other id that is not a valid transfer id is 3100 here,
/// where Mojaloop would accept it and answer later with a 3208 or 2001 callback.
pub fn parse_path_transfer_id(raw: &str) -> Result<TransferId, FspiopError> {
    let decoded = percent_decoded(raw);
    if decoded.trim().is_empty() {
        return Err(FspiopError::unknown_uri());
    }
    let path = JsonPath::path_parameter("ID");
    transfer_id_field(&Value::String(decoded), &path)
}

/// `%XX` escapes decoded (a `%` without two hex digits stays as it is), invalid UTF-8 replaced.
fn percent_decoded(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = match (bytes[at], bytes.get(at + 1..at + 3)) {
            (b'%', Some(hex)) => std::str::from_utf8(hex).ok().and_then(|it| u8::from_str_radix(it, 16).ok()),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests;
