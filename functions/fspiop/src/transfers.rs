//! The bodies of the FSPIOP transfers API: serde wire types, the parsers that turn a received body
//! into checked requests built from the ledger's value types, and the bodies the hub sends.
//!
//! v1.1 and v2.0 bodies have the same shape; they differ only in two rules, both applied here:
//! v2.0 accepts UUID versions 1–7 and ULIDs as transfer ids where v1.1 accepts UUID versions 1–5,
//! and every v2.0 object is closed (`additionalProperties: false`, an unknown field is 3103) where
//! v1.1 ignores unknown fields. Content version 1.0 follows the v1.1 rules.
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
use ledger_core::ids::{FspId, TransferId, TransferIdKind, FSP_ID_LENGTH_MAX};
use ledger_core::state::TransferStateEnum;
use ledger_core::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::datetime::{format_fspiop_datetime, parse_fspiop_datetime, DATETIME_PATTERN};
use crate::error::{truncate_chars, ErrorCode, FspiopError, ERROR_DESCRIPTION_CHARS_MAX};
use crate::hash::RequestHash;
use crate::headers::{ApiVersion, CONTENT_LENGTH_BYTES_MAX, PAYLOAD_TOO_LARGE};
use crate::schema::{
    check_array, check_enum, check_object, check_string, invalid_error, is_base64url_char, required, type_error,
    JsonPath, ObjectRule, Pattern, StringRule,
};

/// Longest `ilpPacket`, in characters.
pub const ILP_PACKET_CHARS_MAX: usize = 32_768;
/// Longest condition or fulfilment text the schema allows before its pattern is checked.
pub const ILP_VALUE_CHARS_MAX: usize = 48;
/// Most extensions an extension list may hold.
pub const EXTENSIONS_MAX: usize = 16;
/// Longest extension key, in characters.
pub const EXTENSION_KEY_CHARS_MAX: usize = 32;
/// Longest extension value, in characters.
pub const EXTENSION_VALUE_CHARS_MAX: usize = 128;
/// How far in the future a `completedTimestamp` may be (`MAX_CALLBACK_TIME_LAG_DILATION_MILLISECONDS`).
pub const COMPLETED_TIMESTAMP_FUTURE_MS_MAX: i64 = 200;
/// How far in the past a `completedTimestamp` may be (`MAX_FULFIL_TIMEOUT_DURATION_SECONDS`, 300 s).
pub const COMPLETED_TIMESTAMP_PAST_MS_MAX: i64 = 300_000;

const TRANSFER_ID_V1_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
const TRANSFER_ID_V2_PATTERN: &str =
    "^[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$|^[0-9A-HJKMNP-TV-Z]{26}$";
const AMOUNT_PATTERN: &str = "^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$";
const ILP_VALUE_PATTERN: &str = "^[A-Za-z0-9-_]{43}$";
const ILP_PACKET_PATTERN: &str = "^[A-Za-z0-9-_]+[=]{0,2}$";
const ERROR_CODE_PATTERN: &str = "^[1-9]\\d{3}$";
/// hapi's wording for a body that is not JSON, kept so the text reads as Mojaloop's would.
const INVALID_JSON: &str = "Invalid request payload JSON format";

// ---------------------------------------------------------------------------------------------
// Wire types: the JSON exactly as it travels, every leaf a string.

/// `Money`: an amount and its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub currency: String,
    pub amount: String,
}

/// One `{key, value}` extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub key: String,
    pub value: String,
}

/// `ExtensionList`: 1 to 16 extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionList {
    pub extension: Vec<Extension>,
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

/// `ErrorInformation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInformation {
    pub error_code: String,
    pub error_description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_list: Option<ExtensionList>,
}

/// The body of `PUT /transfers/{ID}/error` and of every synchronous error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorInformationObject {
    pub error_information: ErrorInformation,
}

impl Extension {
    /// An extension cut to the schema's limits (32-character key, 128-character value), as
    /// Mojaloop cuts the values it writes.
    pub fn truncated(key: &str, value: &str) -> Extension {
        Extension {
            key: truncate_chars(key, EXTENSION_KEY_CHARS_MAX).to_string(),
            value: truncate_chars(value, EXTENSION_VALUE_CHARS_MAX).to_string(),
        }
    }
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

/// Parses a received JSON body: 3104 over the size limit, 3101 if it is not JSON.
///
/// Numbers are read exactly and object keys keep their received order, so the value re-prints
/// as Node's `JSON.stringify(JSON.parse(body))` would (see `hash`).
pub fn parse_json_body(body: &[u8]) -> Result<Value, FspiopError> {
    if CONTENT_LENGTH_BYTES_MAX < body.len() as u64 {
        return Err(FspiopError::with_detail(ErrorCode::TooLargePayload, PAYLOAD_TOO_LARGE));
    }
    serde_json::from_slice(body).map_err(|_| FspiopError::with_detail(ErrorCode::MalformedSyntax, INVALID_JSON))
}

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
    let transfer_id = transfer_id_field(required(map, &path, "transferId")?, &path.child("transferId"), version)?;
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

fn transfer_id_field(value: &Value, path: &JsonPath, version: ApiVersion) -> Result<TransferId, FspiopError> {
    match version {
        ApiVersion::V2_0 => pattern_field(value, path, TRANSFER_ID_V2_PATTERN, TransferId::parse),
        ApiVersion::V1_0 | ApiVersion::V1_1 => pattern_field(value, path, TRANSFER_ID_V1_PATTERN, parse_v1_transfer_id),
    }
}

/// v1.x ids are UUIDs of versions 1 to 5 only.
fn parse_v1_transfer_id(text: &str) -> Option<TransferId> {
    TransferId::parse(text).filter(|id| matches!(id.kind(), TransferIdKind::Uuid(1..=5)))
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

/// The `{ID}` of `/transfers/{ID}`, checked against the transfer id pattern of the version.
///
/// Mojaloop trims the path before routing, so a blank id is an unknown URI (3002, TTK bug #849);
/// any other id that is not a valid transfer id is 3100 here, where Mojaloop would accept it and
/// answer later with a 3208 or 2001 callback.
pub fn parse_path_transfer_id(raw: &str, version: ApiVersion) -> Result<TransferId, FspiopError> {
    if raw.trim().is_empty() {
        return Err(FspiopError::unknown_uri());
    }
    let path = JsonPath::path_parameter("ID");
    transfer_id_field(&Value::String(raw.to_string()), &path, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The Testing Toolkit's `validFulfillment` / `validCondition` pair.
    const TTK_FULFILMENT: &str = "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA";
    const TTK_CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";
    const UUID_V4: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";
    const UUID_V7: &str = "01890f33-6e8c-7b1a-9d8e-0123456789ab";
    const ULID: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const VERSIONS: [ApiVersion; 3] = [ApiVersion::V1_0, ApiVersion::V1_1, ApiVersion::V2_0];

    fn valid_post() -> Value {
        json!({
            "transferId": UUID_V4,
            "payerFsp": "payerfsp",
            "payeeFsp": "payeefsp",
            "amount": {"amount": "60.1234", "currency": "USD"},
            "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNlOiB1SXlweUYzY3pYSXBFdzVVc05TYWh3CkVuY3J5cHRpb246IG5vbmUKUGF5bWVudC1JZDogMTMyMzZhM2ItOGZhOC00MTYzLTg0NDctNGMzZWQzZGE5OGE3CgpDb250ZW50LUxlbmd0aDogMTM1CkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vanNvbgpTZW5kZXItSWRlbnRpZmllcjogOTI4MDYzOTEKCiJ7XCJmZWVcIjowLFwidHJhbnNmZXJDb2RlXCI6XCJpbnZvaWNlXCIsXCJkZWJpdE5hbWVcIjpcImFsaWNlIGNvb3BlclwiLFwiY3JlZGl0TmFtZVwiOlwibWVyIGNoYW50XCIsXCJkZWJpdElkZW50aWZpZXJcIjpcIjkyODA2MzkxXCJ9IgA",
            "condition": TTK_CONDITION,
            "expiration": "2016-05-24T08:38:08.699-04:00",
            "extensionList": {"extension": [{"key": "k1", "value": "v1"}, {"key": "k2", "value": "v2"}]}
        })
    }

    fn valid_put() -> Value {
        json!({"fulfilment": TTK_FULFILMENT, "completedTimestamp": "2016-05-24T08:38:08.699Z", "transferState": "COMMITTED"})
    }

    fn valid_error() -> Value {
        json!({"errorInformation": {"errorCode": "5101", "errorDescription": "Payee rejected quote"}})
    }

    /// `base` with the value at a JSON pointer set (`Some`) or removed (`None`).
    fn edited(mut base: Value, pointer: &str, value: Option<Value>) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = base.pointer_mut(parent).unwrap();
        match (parent, value) {
            (Value::Object(map), Some(value)) => {
                map.insert(key.to_string(), value);
            }
            (Value::Object(map), None) => {
                map.shift_remove(key);
            }
            (Value::Array(items), Some(value)) => items[key.parse::<usize>().unwrap()] = value,
            (other, _) => panic!("cannot edit {other}"),
        }
        base
    }

    fn bytes(value: &Value) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    /// Mojaloop cuts descriptions to 128 characters; expected texts are written out in full.
    fn cut(text: &str) -> String {
        truncate_chars(text, crate::error::ERROR_DESCRIPTION_CHARS_MAX).to_string()
    }

    fn assert_error(result: Result<(), FspiopError>, code: u16, description: &str, case: &str) {
        let error = result.expect_err(case);
        assert_eq!((error.code().number(), error.description()), (code, cut(description).as_str()), "{case}");
        assert_eq!(error.http_status(), 400, "{case}");
    }

    fn post_result(body: &Value, version: ApiVersion) -> Result<(), FspiopError> {
        parse_transfers_post(&bytes(body), version).map(|_| ())
    }

    fn pattern(path: &str, source: &str) -> String {
        format!("Generic validation error - /requestBody{path} must match pattern \"{source}\"")
    }

    #[test]
    fn a_valid_prepare_parses_into_ledger_types() {
        for version in VERSIONS {
            let body = bytes(&valid_post());
            let parsed = parse_transfers_post(&body, version).unwrap();
            let prepare = &parsed.request;
            assert_eq!(prepare.transfer_id.as_str(), UUID_V4);
            assert_eq!((prepare.payer_fsp.as_str(), prepare.payee_fsp.as_str()), ("payerfsp", "payeefsp"));
            assert_eq!((prepare.amount, prepare.currency.code()), (Amount::from_units(601_234), "USD"));
            assert_eq!(prepare.condition.to_base64url(), TTK_CONDITION);
            assert_eq!(prepare.expiration.unix_ms(), 1_464_093_488_699);
            assert_eq!(prepare.extension_list.as_ref().map(|list| list.extension.len()), Some(2));
            assert_eq!(parsed.hash, crate::hash::hash_body(&body).unwrap());
        }
    }

    #[test]
    fn bodies_that_are_not_json_objects() {
        let malformed = "Malformed syntax - Invalid request payload JSON format";
        for body in [&b""[..], b"{", b"{\"transferId\":}", b"\xfe\xff", b"{} x"] {
            assert_error(
                parse_transfers_post(body, ApiVersion::V1_1).map(|_| ()),
                3101,
                malformed,
                &format!("{body:?}"),
            );
        }
        for body in ["[]", "null", "\"x\"", "5", "true"] {
            let result = parse_transfers_put(body.as_bytes(), ApiVersion::V2_0).map(|_| ());
            assert_error(result, 3101, "Malformed syntax - /requestBody must be object", body);
        }
        let huge = vec![b' '; CONTENT_LENGTH_BYTES_MAX as usize + 1];
        assert_error(
            parse_transfers_error(&huge, ApiVersion::V1_1).map(|_| ()),
            3104,
            "Too large payload - Payload size is too large",
            "huge",
        );
    }

    #[test]
    fn every_required_prepare_field_is_reported_missing() {
        for field in ["transferId", "payeeFsp", "payerFsp", "amount", "ilpPacket", "condition", "expiration"] {
            let body = edited(valid_post(), &format!("/{field}"), None);
            let description = format!("Missing mandatory element - /requestBody must have required property '{field}'");
            for version in VERSIONS {
                assert_error(post_result(&body, version), 3102, &description, field);
            }
        }
        let body = edited(valid_post(), "/amount/currency", None);
        let description = "Missing mandatory element - /requestBody/amount must have required property 'currency'";
        assert_error(post_result(&body, ApiVersion::V1_1), 3102, description, "currency");
        assert!(post_result(&edited(valid_post(), "/extensionList", None), ApiVersion::V2_0).is_ok());
    }

    #[test]
    fn wrong_json_types_are_malformed_syntax() {
        let cases = [
            ("/transferId", json!(5), "/transferId must be string"),
            ("/payerFsp", Value::Null, "/payerFsp must be string"),
            ("/amount", json!("100"), "/amount must be object"),
            ("/amount/amount", json!(100), "/amount/amount must be string"),
            ("/amount/currency", json!(840), "/amount/currency must be string"),
            ("/ilpPacket", json!(["a"]), "/ilpPacket must be string"),
            ("/condition", json!({}), "/condition must be string"),
            ("/expiration", json!(1_464_079_088_699_i64), "/expiration must be string"),
            ("/extensionList", json!([]), "/extensionList must be object"),
            ("/extensionList/extension", json!({}), "/extensionList/extension must be array"),
            ("/extensionList/extension/1", json!("k=v"), "/extensionList/extension/1 must be object"),
            ("/extensionList/extension/0/key", json!(true), "/extensionList/extension/0/key must be string"),
            ("/extensionList/extension/0/value", json!(1.5), "/extensionList/extension/0/value must be string"),
        ];
        for (pointer, value, message) in cases {
            let body = edited(valid_post(), pointer, Some(value));
            for version in VERSIONS {
                assert_error(
                    post_result(&body, version),
                    3101,
                    &format!("Malformed syntax - /requestBody{message}"),
                    pointer,
                );
            }
        }
    }

    #[test]
    fn field_rules_are_generic_validation_errors() {
        let long_fsp = "f".repeat(33);
        let long_packet = "A".repeat(ILP_PACKET_CHARS_MAX + 1);
        let ilp_value = "^[A-Za-z0-9-_]{43}$";
        let packet = "^[A-Za-z0-9-_]+[=]{0,2}$";
        let cases: Vec<(&str, Value, String)> = vec![
            ("/payeeFsp", json!(""), "Generic validation error - /requestBody/payeeFsp must NOT have fewer than 1 characters".into()),
            ("/payerFsp", json!(long_fsp), "Generic validation error - /requestBody/payerFsp must NOT have more than 32 characters".into()),
            ("/amount/currency", json!("XYZ"), "Generic validation error - /requestBody/amount/currency must be equal to one of the allowed values".into()),
            ("/amount/currency", json!("usd"), "Generic validation error - /requestBody/amount/currency must be equal to one of the allowed values".into()),
            ("/amount/amount", json!("1.50"), pattern("/amount/amount", AMOUNT_PATTERN)),
            ("/amount/amount", json!("-1"), pattern("/amount/amount", AMOUNT_PATTERN)),
            ("/amount/amount", json!("01"), pattern("/amount/amount", AMOUNT_PATTERN)),
            ("/amount/amount", json!("1.12345"), pattern("/amount/amount", AMOUNT_PATTERN)),
            ("/amount/amount", json!("1234567890123456789"), pattern("/amount/amount", AMOUNT_PATTERN)),
            ("/ilpPacket", json!(""), "Generic validation error - /requestBody/ilpPacket must NOT have fewer than 1 characters".into()),
            ("/ilpPacket", json!(long_packet), "Generic validation error - /requestBody/ilpPacket must NOT have more than 32768 characters".into()),
            ("/ilpPacket", json!("AYIB==="), pattern("/ilpPacket", packet)),
            ("/ilpPacket", json!("AY IB"), pattern("/ilpPacket", packet)),
            ("/ilpPacket", json!("=="), pattern("/ilpPacket", packet)),
            ("/condition", json!(&TTK_CONDITION[..42]), pattern("/condition", ilp_value)),
            ("/condition", json!(format!("{TTK_CONDITION}=")), pattern("/condition", ilp_value)),
            ("/condition", json!(TTK_CONDITION.replace('-', "+")), pattern("/condition", ilp_value)),
            ("/condition", json!("A".repeat(49)), "Generic validation error - /requestBody/condition must NOT have more than 48 characters".into()),
            ("/expiration", json!("2016-05-24T08:38:08Z"), pattern("/expiration", DATETIME_PATTERN)),
            ("/expiration", json!("2016-02-30T08:38:08.699Z"), pattern("/expiration", DATETIME_PATTERN)),
            ("/extensionList/extension", json!([]), "Generic validation error - /requestBody/extensionList/extension must NOT have fewer than 1 items".into()),
            ("/extensionList/extension/0/key", json!(""), "Generic validation error - /requestBody/extensionList/extension/0/key must NOT have fewer than 1 characters".into()),
            ("/extensionList/extension/1/key", json!("k".repeat(33)), "Generic validation error - /requestBody/extensionList/extension/1/key must NOT have more than 32 characters".into()),
            ("/extensionList/extension/1/value", json!("v".repeat(129)), "Generic validation error - /requestBody/extensionList/extension/1/value must NOT have more than 128 characters".into()),
        ];
        for (pointer, value, description) in cases {
            let body = edited(valid_post(), pointer, Some(value));
            for version in VERSIONS {
                assert_error(post_result(&body, version), 3100, &description, pointer);
            }
        }
        let seventeen = json!(vec![json!({"key": "k", "value": "v"}); EXTENSIONS_MAX + 1]);
        let body = edited(valid_post(), "/extensionList/extension", Some(seventeen));
        let description =
            "Generic validation error - /requestBody/extensionList/extension must NOT have more than 16 items";
        assert_error(post_result(&body, ApiVersion::V1_1), 3100, description, "17 extensions");
        let body = edited(valid_post(), "/extensionList/extension/0", Some(json!({"key": "k"})));
        let description =
            "Missing mandatory element - /requestBody/extensionList/extension/0 must have required property 'value'";
        assert_error(post_result(&body, ApiVersion::V1_1), 3102, description, "extension without value");
        let body = edited(valid_post(), "/extensionList", Some(json!({})));
        let description =
            "Missing mandatory element - /requestBody/extensionList must have required property 'extension'";
        assert_error(post_result(&body, ApiVersion::V2_0), 3102, description, "empty extension list");
    }

    #[test]
    fn limits_are_inclusive() {
        let cases = [
            ("/payerFsp", json!("f".repeat(FSP_ID_LENGTH_MAX))),
            ("/ilpPacket", json!("A".repeat(ILP_PACKET_CHARS_MAX))),
            ("/ilpPacket", json!("AYIB==")),
            ("/amount/amount", json!("123456789012345678.1234")),
            ("/amount/amount", json!("0")),
            ("/extensionList/extension/0/key", json!("k".repeat(EXTENSION_KEY_CHARS_MAX))),
            ("/extensionList/extension/0/value", json!("é".repeat(EXTENSION_VALUE_CHARS_MAX))),
            ("/extensionList/extension", json!(vec![json!({"key": "k", "value": "v"}); EXTENSIONS_MAX])),
        ];
        for (pointer, value) in cases {
            assert!(post_result(&edited(valid_post(), pointer, Some(value)), ApiVersion::V2_0).is_ok(), "{pointer}");
        }
    }

    #[test]
    fn transfer_id_rules_differ_by_version() {
        let v1 = pattern("/transferId", TRANSFER_ID_V1_PATTERN);
        let v2 = pattern("/transferId", TRANSFER_ID_V2_PATTERN);
        let cases = [
            (UUID_V4, true, true),
            ("3d4a8f57-1c3e-11ee-be56-0242ac120002", true, true),
            (UUID_V7, false, true),
            (ULID, false, true),
            ("B51EC534-EE48-4575-B6A9-EAD2955B8069", false, false),
            ("b51ec534-ee48-8575-b6a9-ead2955b8069", false, false),
            ("01arz3ndektsv4rrffq69g5fav", false, false),
            ("", false, false),
        ];
        for (id, v1_ok, v2_ok) in cases {
            let body = edited(valid_post(), "/transferId", Some(json!(id)));
            for (version, ok, description) in
                [(ApiVersion::V1_0, v1_ok, &v1), (ApiVersion::V1_1, v1_ok, &v1), (ApiVersion::V2_0, v2_ok, &v2)]
            {
                match ok {
                    true => assert_eq!(
                        parse_transfers_post(&bytes(&body), version).unwrap().request.transfer_id.as_str(),
                        id
                    ),
                    false => assert_error(post_result(&body, version), 3100, description, id),
                }
            }
        }
    }

    #[test]
    fn unknown_fields_are_ignored_in_v1_and_refused_in_v2() {
        let too_many =
            |path: &str| format!("Too many elements - /requestBody{path} must NOT have additional properties");
        let cases = [
            ("/note", ""),
            ("/amount/note", "/amount"),
            ("/extensionList/note", "/extensionList"),
            ("/extensionList/extension/0/note", "/extensionList/extension/0"),
        ];
        for (pointer, path) in cases {
            let body = edited(valid_post(), pointer, Some(json!("x")));
            assert!(post_result(&body, ApiVersion::V1_0).is_ok(), "{pointer}");
            assert!(post_result(&body, ApiVersion::V1_1).is_ok(), "{pointer}");
            assert_error(post_result(&body, ApiVersion::V2_0), 3103, &too_many(path), pointer);
        }
        let put = edited(valid_put(), "/transferId", Some(json!(UUID_V4)));
        assert!(parse_transfers_put(&bytes(&put), ApiVersion::V1_1).is_ok());
        assert_error(parse_transfers_put(&bytes(&put), ApiVersion::V2_0).map(|_| ()), 3103, &too_many(""), "put");
        let error = edited(valid_error(), "/errorInformation/note", Some(json!("x")));
        assert!(parse_transfers_error(&bytes(&error), ApiVersion::V1_1).is_ok());
        let result = parse_transfers_error(&bytes(&error), ApiVersion::V2_0).map(|_| ());
        assert_error(result, 3103, &too_many("/errorInformation"), "error");
    }

    #[test]
    fn the_first_failure_follows_schema_order_not_body_order() {
        // Required beats everything else at the same level.
        let body = edited(edited(valid_post(), "/expiration", None), "/transferId", Some(json!(5)));
        let missing = "Missing mandatory element - /requestBody must have required property 'expiration'";
        assert_error(post_result(&body, ApiVersion::V1_1), 3102, missing, "missing and mistyped");
        let body = edited(edited(valid_post(), "/note", Some(json!(1))), "/payeeFsp", None);
        let missing = "Missing mandatory element - /requestBody must have required property 'payeeFsp'";
        assert_error(post_result(&body, ApiVersion::V2_0), 3102, missing, "missing and extra");
        // The first missing property in the schema's `required` order, whatever the body order.
        let body = edited(edited(valid_post(), "/condition", None), "/payerFsp", None);
        let missing = "Missing mandatory element - /requestBody must have required property 'payerFsp'";
        assert_error(post_result(&body, ApiVersion::V1_1), 3102, missing, "two missing");
        // An unknown property beats a bad property value in v2.0.
        let body = edited(edited(valid_post(), "/note", Some(json!(1))), "/transferId", Some(json!("x")));
        assert_error(
            post_result(&body, ApiVersion::V2_0),
            3103,
            "Too many elements - /requestBody must NOT have additional properties",
            "extra",
        );
        // Properties in schema order: amount is checked before expiration even if it comes later.
        let reordered = r#"{"expiration":"bad","transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069","payerFsp":"a","payeeFsp":"b","ilpPacket":"AA","condition":"GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM","amount":{"amount":"1.0","currency":"XYZ"}}"#;
        let result = parse_transfers_post(reordered.as_bytes(), ApiVersion::V1_1).map(|_| ());
        let currency =
            "Generic validation error - /requestBody/amount/currency must be equal to one of the allowed values";
        assert_error(result, 3100, currency, "schema order");
        // Within a value, the type comes before the pattern.
        let body = edited(valid_post(), "/transferId", Some(json!(["x"])));
        assert_error(
            post_result(&body, ApiVersion::V2_0),
            3101,
            "Malformed syntax - /requestBody/transferId must be string",
            "type first",
        );
    }

    #[test]
    fn a_put_parses_and_names_its_action() {
        let parsed = parse_transfers_put(&bytes(&valid_put()), ApiVersion::V1_1).unwrap();
        let fulfil = parsed.request;
        let condition = IlpCondition::from_base64url(TTK_CONDITION).unwrap();
        assert!(fulfil.fulfilment.unwrap().satisfies(&condition));
        assert_eq!(fulfil.completed_timestamp.map(Timestamp::unix_ms), Some(1_464_079_088_699));
        assert_eq!(fulfil.action(), FulfilAction::Commit);
        let actions = [
            ("RECEIVED", FulfilAction::Commit),
            ("RESERVED", FulfilAction::Reserve),
            ("ABORTED", FulfilAction::Reject),
        ];
        for (state, action) in actions {
            let body = json!({ "transferState": state });
            let fulfil = parse_transfers_put(&bytes(&body), ApiVersion::V2_0).unwrap().request;
            assert_eq!((fulfil.action(), fulfil.fulfilment, fulfil.completed_timestamp), (action, None, None));
        }
    }

    #[test]
    fn put_field_rules() {
        let enum_error =
            "Generic validation error - /requestBody/transferState must be equal to one of the allowed values";
        let cases = [
            (
                "/transferState",
                None,
                3102,
                "Missing mandatory element - /requestBody must have required property 'transferState'".to_string(),
            ),
            ("/transferState", Some(json!("SETTLED")), 3100, enum_error.to_string()),
            ("/transferState", Some(json!("committed")), 3100, enum_error.to_string()),
            (
                "/transferState",
                Some(json!(3)),
                3101,
                "Malformed syntax - /requestBody/transferState must be string".to_string(),
            ),
            ("/fulfilment", Some(json!("short")), 3100, pattern("/fulfilment", "^[A-Za-z0-9-_]{43}$")),
            (
                "/fulfilment",
                Some(Value::Null),
                3101,
                "Malformed syntax - /requestBody/fulfilment must be string".to_string(),
            ),
            ("/completedTimestamp", Some(json!("2016-05-24")), 3100, pattern("/completedTimestamp", DATETIME_PATTERN)),
            (
                "/extensionList",
                Some(json!({"extension": []})),
                3100,
                "Generic validation error - /requestBody/extensionList/extension must NOT have fewer than 1 items"
                    .to_string(),
            ),
        ];
        for (pointer, value, code, description) in cases {
            let body = edited(valid_put(), pointer, value);
            for version in VERSIONS {
                assert_error(parse_transfers_put(&bytes(&body), version).map(|_| ()), code, &description, pointer);
            }
        }
    }

    #[test]
    fn conditions_and_fulfilments_with_spare_bits_set_decode_like_node() {
        // 'N' differs from 'M' only in the two bits past the 256th; Node's Buffer ignores them.
        let spare_bits = format!("{}N", &TTK_CONDITION[..42]);
        assert_eq!(IlpCondition::from_base64url(&spare_bits), None, "the strict decoder refuses it");
        let body = edited(valid_post(), "/condition", Some(json!(spare_bits)));
        let parsed = parse_transfers_post(&bytes(&body), ApiVersion::V1_1).unwrap();
        assert_eq!(parsed.request.condition, IlpCondition::from_base64url(TTK_CONDITION).unwrap());
        let fulfilment = format!("{}B", &TTK_FULFILMENT[..42]);
        let put = parse_transfers_put(
            &bytes(&json!({"transferState": "COMMITTED", "fulfilment": fulfilment})),
            ApiVersion::V1_1,
        )
        .unwrap();
        assert_eq!(put.request.fulfilment, IlpFulfilment::from_base64url(TTK_FULFILMENT));
    }

    #[test]
    fn a_payee_error_is_forwarded_verbatim() {
        let parsed = parse_transfers_error(&bytes(&valid_error()), ApiVersion::V2_0).unwrap();
        let abort = parsed.request;
        assert_eq!((abort.error_code.number(), abort.error_description.as_str()), (5101, "Payee rejected quote"));
        let error = abort.to_error();
        assert_eq!(
            error.to_json(),
            r#"{"errorInformation":{"errorCode":"5101","errorDescription":"Payee rejected quote"}}"#
        );
        let undefined = edited(valid_error(), "/errorInformation/errorCode", Some(json!("5900")));
        let abort = parse_transfers_error(&bytes(&undefined), ApiVersion::V1_1).unwrap().request;
        assert!(!abort.error_code.is_defined_by_api());
    }

    #[test]
    fn error_body_field_rules() {
        let info = "/errorInformation";
        let cases = [
            ("/errorInformation", None, 3102, "Missing mandatory element - /requestBody must have required property 'errorInformation'".to_string()),
            ("/errorInformation/errorCode", None, 3102, "Missing mandatory element - /requestBody/errorInformation must have required property 'errorCode'".to_string()),
            ("/errorInformation/errorDescription", None, 3102, "Missing mandatory element - /requestBody/errorInformation must have required property 'errorDescription'".to_string()),
            ("/errorInformation", Some(json!("x")), 3101, "Malformed syntax - /requestBody/errorInformation must be object".to_string()),
            ("/errorInformation/errorCode", Some(json!(5101)), 3101, "Malformed syntax - /requestBody/errorInformation/errorCode must be string".to_string()),
            ("/errorInformation/errorCode", Some(json!("510")), 3100, pattern(&format!("{info}/errorCode"), "^[1-9]\\d{3}$")),
            ("/errorInformation/errorCode", Some(json!("0101")), 3100, pattern(&format!("{info}/errorCode"), "^[1-9]\\d{3}$")),
            ("/errorInformation/errorDescription", Some(json!("")), 3100, "Generic validation error - /requestBody/errorInformation/errorDescription must NOT have fewer than 1 characters".to_string()),
            ("/errorInformation/errorDescription", Some(json!("d".repeat(129))), 3100, "Generic validation error - /requestBody/errorInformation/errorDescription must NOT have more than 128 characters".to_string()),
        ];
        for (pointer, value, code, description) in cases {
            let body = edited(valid_error(), pointer, value);
            for version in VERSIONS {
                assert_error(parse_transfers_error(&bytes(&body), version).map(|_| ()), code, &description, pointer);
            }
        }
    }

    #[test]
    fn hub_bodies_print_in_central_ledgers_field_order() {
        let at = Timestamp::from_unix_ms(1_464_079_088_699);
        let fulfilment = IlpFulfilment::from_base64url(TTK_FULFILMENT).unwrap();
        let put = TransfersIdPutResponse::from_hub(at, TransferStateEnum::Committed, Some(&fulfilment), None);
        assert_eq!(
            put.to_json(),
            r#"{"completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"COMMITTED","fulfilment":"UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA"}"#
        );
        let patch = TransfersIdPatchResponse::from_hub(None, at, TransferStateEnum::Committed, None);
        assert_eq!(patch.to_json(), r#"{"completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"COMMITTED"}"#);
        let cause = FspiopError::from(&ledger_core::rejection::Rejection::InvalidFulfilment).cause_extension();
        let id = TransferId::parse(UUID_V4).unwrap();
        let aborted = TransfersIdPatchResponse::from_hub(
            Some(&id),
            at,
            TransferStateEnum::Aborted,
            Some(ExtensionList { extension: vec![cause] }),
        );
        assert_eq!(
            aborted.to_json(),
            concat!(
                r#"{"transferId":"b51ec534-ee48-4575-b6a9-ead2955b8069","completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"ABORTED","#,
                r#""extensionList":{"extension":[{"key":"cause","value":"3100: Generic validation error - invalid fulfilment"}]}}"#
            )
        );
        let settled = TransfersIdPutResponse::from_hub(at, TransferStateEnum::Settled, None, None);
        assert_eq!(settled.to_json(), r#"{"completedTimestamp":"2016-05-24T08:38:08.699Z","transferState":"SETTLED"}"#);
    }

    #[test]
    fn wire_types_round_trip_through_serde_and_the_parser() {
        let prepare = parse_transfers_post(&bytes(&valid_post()), ApiVersion::V2_0).unwrap().request;
        let wire = TransfersPostRequest::from(&prepare);
        let reparsed = parse_transfers_post(&serde_json::to_vec(&wire).unwrap(), ApiVersion::V2_0).unwrap().request;
        assert_eq!(reparsed, prepare);
        let from_serde: TransfersPostRequest = serde_json::from_value(valid_post()).unwrap();
        assert_eq!(from_serde.amount, Money { currency: "USD".into(), amount: "60.1234".into() });
        let put: TransfersIdPutResponse = serde_json::from_value(valid_put()).unwrap();
        assert_eq!(put.transfer_state, "COMMITTED");
        let error: ErrorInformationObject = serde_json::from_value(valid_error()).unwrap();
        assert_eq!(error.error_information.error_code, "5101");
    }

    #[test]
    fn completed_timestamps_must_be_recent() {
        let now = Timestamp::from_unix_ms(1_700_000_000_000);
        let future = "Generic validation error - completedTimestamp fails because future timestamp was provided";
        let past = "Generic validation error - completedTimestamp fails because provided timestamp exceeded the maximum timeout duration";
        let cases = [
            (COMPLETED_TIMESTAMP_FUTURE_MS_MAX, None),
            (COMPLETED_TIMESTAMP_FUTURE_MS_MAX + 1, Some(future)),
            (-COMPLETED_TIMESTAMP_PAST_MS_MAX, None),
            (-COMPLETED_TIMESTAMP_PAST_MS_MAX - 1, Some(past)),
            (0, None),
        ];
        for (offset_ms, expected) in cases {
            let result = check_completed_timestamp(now.plus_ms(offset_ms), now);
            match expected {
                None => assert!(result.is_ok(), "{offset_ms}"),
                Some(description) => assert_error(result, 3100, description, &offset_ms.to_string()),
            }
        }
    }

    #[test]
    fn path_ids_follow_the_version_pattern() {
        for blank in ["", " ", "\t"] {
            let error = parse_path_transfer_id(blank, ApiVersion::V1_1).unwrap_err();
            assert_eq!((error.code(), error.http_status()), (ErrorCode::UnknownUri, 404));
        }
        assert_eq!(parse_path_transfer_id(UUID_V4, ApiVersion::V1_1).unwrap().as_str(), UUID_V4);
        assert_eq!(parse_path_transfer_id(ULID, ApiVersion::V2_0).unwrap().as_str(), ULID);
        let v1 = format!("Generic validation error - /path/ID must match pattern \"{TRANSFER_ID_V1_PATTERN}\"");
        assert_error(parse_path_transfer_id(ULID, ApiVersion::V1_1).map(|_| ()), 3100, &v1, "ulid on v1.1");
    }

    fn uuid_v4(bits: u128) -> String {
        let hex = format!("{bits:032x}");
        format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
    }

    proptest::proptest! {
        #[test]
        fn any_valid_prepare_parses_back_to_its_values(
            id_bits in proptest::prelude::any::<u128>(),
            payer in "[a-z0-9]{1,32}",
            payee in "[a-zA-Z0-9 ]{1,32}",
            units in 0_i128..10_i128.pow(22),
            currency in proptest::sample::select(vec!["USD", "XXX", "JPY", "KWD", "TZS"]),
            condition in proptest::prelude::any::<[u8; 32]>(),
            expiration_ms in 0_i64..253_402_300_799_999,
            version in proptest::sample::select(VERSIONS.to_vec()),
        ) {
            let prepare = TransferPrepare {
                transfer_id: TransferId::parse(&uuid_v4(id_bits)).unwrap(),
                payee_fsp: FspId::parse(&payee).unwrap(),
                payer_fsp: FspId::parse(&payer).unwrap(),
                amount: Amount::from_units(units),
                currency: Currency::parse(currency).unwrap(),
                ilp_packet: IlpPacket::parse("AYIB").unwrap(),
                condition: IlpCondition::from_bytes(condition),
                expiration: Timestamp::from_unix_ms(expiration_ms),
                extension_list: None,
            };
            let body = serde_json::to_vec(&TransfersPostRequest::from(&prepare)).unwrap();
            let parsed = parse_transfers_post(&body, version).unwrap();
            proptest::prop_assert_eq!(parsed.request, prepare);
            proptest::prop_assert_eq!(parsed.hash, crate::hash::hash_body(&body).unwrap());
        }
    }

    #[test]
    fn ilp_packets_and_extensions_keep_their_text() {
        assert_eq!(IlpPacket::parse("AYIB==").map(|it| it.as_str().to_string()), Some("AYIB==".to_string()));
        assert_eq!(IlpPacket::parse(""), None);
        assert_eq!(IlpPacket::parse("A=B"), None);
        let extension = Extension::truncated(&"k".repeat(40), &"v".repeat(200));
        assert_eq!((extension.key.len(), extension.value.len()), (EXTENSION_KEY_CHARS_MAX, EXTENSION_VALUE_CHARS_MAX));
    }
}
