//! The FSPIOP error-code table, the error body the switch sends, and the one mapping from ledger
//! rejections to FSPIOP errors.
//!
//! Codes, names, messages and HTTP statuses follow Mojaloop's `central-services-error-handling`
//! (`errors.js`, `enums.js`): a description is `"<message>"` or `"<message> - <detail>"`, cut to
//! 128 characters, and a code outside the table takes its name and status from its two-digit
//! error type (e.g. `51xx` is a payee rejection, HTTP 400).

use ledger_core::ids::FspId;
use ledger_core::rejection::{AdminRefusal, Rejection};
use serde::{Serialize, Serializer};
use std::fmt;

use crate::datetime::format_fspiop_datetime;
use crate::wire::{truncate_chars, ErrorInformation, ErrorInformationObject, Extension, ExtensionList};

/// Longest `errorDescription` the API allows; longer descriptions are cut, as Mojaloop does.
pub const ERROR_DESCRIPTION_CHARS_MAX: usize = 128;
/// Smallest and largest four-digit error code (`^[1-9]\d{3}$`).
const ERROR_CODE_MIN: u16 = 1_000;
const ERROR_CODE_MAX: u16 = 9_999;
/// Key of the extension that carries an error into a `PATCH` or `GET` body.
pub const CAUSE_EXTENSION_KEY: &str = "cause";

/// An FSPIOP error code: the ones this switch raises, by name, plus any other valid code a payee
/// sends in `PUT /transfers/{ID}/error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1001: no callback endpoint is configured for an FSP.
    DestinationCommunicationError,
    /// 2001: unexpected failure, unknown transfer on fulfil, position state mismatch.
    InternalServerError,
    /// 2002: `PATCH /transfers/{ID}` sent to the switch (HTTP 501).
    NotImplemented,
    /// 3000: e.g. `GET` by an FSP that is not a party to the transfer.
    ClientError,
    /// 3001: no supported version in `Accept` or `Content-Type` (HTTP 406).
    UnacceptableVersion,
    /// 3002: unknown path (HTTP 404).
    UnknownUri,
    /// 3003: admin API, hub accounts missing or not allowed.
    AddPartyInfoError,
    /// 3100: a schema pattern, enum or length failed, or a business validation.
    ValidationError,
    /// 3101: a header or field has the wrong format or JSON type.
    MalformedSyntax,
    /// 3102: a required header or field is missing.
    MissingElement,
    /// 3103: an unknown field in a v2.0 body.
    TooManyElements,
    /// 3104: the body is larger than the API allows.
    TooLargePayload,
    /// 3105: the JWS signature does not verify.
    InvalidSignature,
    /// 3106: same id, different body.
    ModifiedRequest,
    /// 3200: unknown participant or resource.
    IdNotFound,
    /// 3208: `GET` of an unknown transfer.
    TransferIdNotFound,
    /// 3303: the transfer expired.
    TransferExpired,
    /// 4001: the payer's liquidity cover cannot hold the amount.
    PayerFspInsufficientLiquidity,
    /// 4200: the payer's net debit cap cannot hold the amount.
    PayerLimitError,
    /// 6000: no settlement model applies.
    GenericSettlementError,
    /// Any other code matching `^[1-9]\d{3}$`, typically a payee's 5xxx.
    Other(OtherErrorCode),
}

/// A valid four-digit code that is none of the named [`ErrorCode`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtherErrorCode(u16);

impl OtherErrorCode {
    pub fn number(self) -> u16 {
        self.0
    }
}

/// What the table says about a named code.
struct CodeInfo {
    code: ErrorCode,
    number: u16,
    name: &'static str,
    message: &'static str,
    http_status: u16,
}

const fn info(code: ErrorCode, number: u16, name: &'static str, message: &'static str, http_status: u16) -> CodeInfo {
    CodeInfo { code, number, name, message, http_status }
}

/// The named codes with Mojaloop's names, messages and HTTP statuses.
const NAMED_CODES: [CodeInfo; 20] = [
    info(
        ErrorCode::DestinationCommunicationError,
        1001,
        "DESTINATION_COMMUNICATION_ERROR",
        "Destination communication error",
        503,
    ),
    info(ErrorCode::InternalServerError, 2001, "INTERNAL_SERVER_ERROR", "Internal server error", 500),
    info(ErrorCode::NotImplemented, 2002, "NOT_IMPLEMENTED", "Not implemented", 501),
    info(ErrorCode::ClientError, 3000, "CLIENT_ERROR", "Generic client error", 400),
    info(ErrorCode::UnacceptableVersion, 3001, "UNACCEPTABLE_VERSION", "Unacceptable version requested", 406),
    info(ErrorCode::UnknownUri, 3002, "UNKNOWN_URI", "Unknown URI", 404),
    info(ErrorCode::AddPartyInfoError, 3003, "ADD_PARTY_INFO_ERROR", "Add Party information error", 400),
    info(ErrorCode::ValidationError, 3100, "VALIDATION_ERROR", "Generic validation error", 400),
    info(ErrorCode::MalformedSyntax, 3101, "MALFORMED_SYNTAX", "Malformed syntax", 400),
    info(ErrorCode::MissingElement, 3102, "MISSING_ELEMENT", "Missing mandatory element", 400),
    info(ErrorCode::TooManyElements, 3103, "TOO_MANY_ELEMENTS", "Too many elements", 400),
    info(ErrorCode::TooLargePayload, 3104, "TOO_LARGE_PAYLOAD", "Too large payload", 400),
    info(ErrorCode::InvalidSignature, 3105, "INVALID_SIGNATURE", "Invalid signature", 400),
    info(ErrorCode::ModifiedRequest, 3106, "MODIFIED_REQUEST", "Modified request", 400),
    info(ErrorCode::IdNotFound, 3200, "ID_NOT_FOUND", "Generic ID not found", 400),
    info(ErrorCode::TransferIdNotFound, 3208, "TRANSFER_ID_NOT_FOUND", "Transfer ID not found", 400),
    info(ErrorCode::TransferExpired, 3303, "TRANSFER_EXPIRED", "Transfer expired", 400),
    info(
        ErrorCode::PayerFspInsufficientLiquidity,
        4001,
        "PAYER_FSP_INSUFFICIENT_LIQUIDITY",
        "Payer FSP insufficient liquidity",
        400,
    ),
    info(ErrorCode::PayerLimitError, 4200, "PAYER_LIMIT_ERROR", "Payer limit error", 400),
    info(ErrorCode::GenericSettlementError, 6000, "GENERIC_SETTLEMENT_ERROR", "Generic Settlement Error", 400),
];

/// One of Mojaloop's error types: codes sharing their first two digits share a name, a
/// description and the HTTP status of those codes that have none of their own. Codes in none of
/// these types are refused by central-ledger when a payee sends them ("API specification
/// undefined errorCode"). Descriptions are spelled as Mojaloop spells them ("Blocker" included).
struct ErrorType {
    prefix: u16,
    name: &'static str,
    description: &'static str,
    http_status: u16,
}

const fn error_type(prefix: u16, name: &'static str, description: &'static str, http_status: u16) -> ErrorType {
    ErrorType { prefix, name, description, http_status }
}

const ERROR_TYPES: [ErrorType; 17] = [
    error_type(10, "GENERIC_COMMUNICATION_ERROR", "Generic Communication Error", 503),
    error_type(20, "GENERIC_SERVER_ERROR", "Generic Server Error", 500),
    error_type(30, "GENERIC_CLIENT_ERROR", "Generic Client Error", 400),
    error_type(31, "CLIENT_VALIDATION_ERROR", "Client Validation Error", 400),
    error_type(32, "IDENTIFIER_ERROR", "Identifier Error", 400),
    error_type(33, "EXPIRED_ERROR", "Expired Error", 400),
    error_type(40, "GENERIC_PAYER_ERROR", "Generic Payer Error", 400),
    error_type(41, "PAYER_REJECTION_ERROR", "Payer Rejection Error", 400),
    error_type(42, "PAYER_LIMIT_ERROR", "Payer Limit Error", 400),
    error_type(43, "PAYER_PERMISSION_ERROR", "Payer Permission Error", 400),
    error_type(44, "PAYER_BLOCKED_ERROR", "Payer Blocker Error", 400),
    error_type(50, "GENERIC_PAYEE_ERROR", "Generic Payee Error", 400),
    error_type(51, "PAYEE_REJECTION_ERROR", "Payee Rejection Error", 400),
    error_type(52, "PAYEE_LIMIT_ERROR", "Payee Limit Error", 400),
    error_type(53, "PAYEE_PERMISSION_ERROR", "Payee Permission Error", 400),
    error_type(54, "PAYEE_BLOCKED_ERROR", "Payee Blocker Error", 400),
    error_type(60, "GENERIC_SETTLEMENT_ERROR", "Settlement Related Error", 400),
];

/// Codes outside the named set that Mojaloop's table gives a status of their own
/// (`SERVICE_CURRENTLY_UNAVAILABLE`, `PARTY_RESOLUTION_FAILURE`).
const UNAVAILABLE_CODES: [u16; 2] = [SERVICE_UNAVAILABLE_CODE, 2006];
/// `SERVICE_CURRENTLY_UNAVAILABLE`.
const SERVICE_UNAVAILABLE_CODE: u16 = 2003;

impl ErrorCode {
    /// The code for a number in 1000..=9999.
    pub fn from_number(number: u16) -> Option<ErrorCode> {
        if !(ERROR_CODE_MIN..=ERROR_CODE_MAX).contains(&number) {
            return None;
        }
        let named = NAMED_CODES.iter().find(|it| it.number == number);
        Some(named.map_or(ErrorCode::Other(OtherErrorCode(number)), |it| it.code))
    }

    /// Parses the wire form `^[1-9]\d{3}$`.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        let bytes = text.as_bytes();
        if bytes.len() != 4 || bytes[0] == b'0' || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        ErrorCode::from_number(text.parse().ok()?)
    }

    pub fn number(self) -> u16 {
        match (self, self.named()) {
            (ErrorCode::Other(other), _) => other.0,
            (_, Some(named)) => named.number,
            (_, None) => unreachable!("every named code is in NAMED_CODES"),
        }
    }

    /// Mojaloop's constant name, e.g. `VALIDATION_ERROR`; for other codes, their error type's
    /// name (`PAYEE_REJECTION_ERROR` for 5101), or `UNDEFINED_ERROR`.
    pub fn name(self) -> &'static str {
        match (self.named(), self.error_type()) {
            (Some(named), _) => named.name,
            (None, Some(error_type)) => error_type.name,
            (None, None) => "UNDEFINED_ERROR",
        }
    }

    /// The message that starts every description, e.g. `Generic validation error`.
    pub fn message(self) -> &'static str {
        match (self.named(), self.error_type()) {
            (Some(named), _) => named.message,
            (None, Some(error_type)) => error_type.description,
            (None, None) => "Undefined error",
        }
    }

    /// The HTTP status of a synchronous response carrying this code: 1xxx → 503, 20xx → 500
    /// (2002 → 501), 3001 → 406, 3002 → 404, everything else 400. `3000` for a wrong method is
    /// 405, which [`FspiopError::method_not_allowed`] sets.
    pub fn http_status(self) -> u16 {
        if let Some(named) = self.named() {
            return named.http_status;
        }
        let number = self.number();
        if UNAVAILABLE_CODES.contains(&number) {
            return 503;
        }
        match (self.error_type(), number / 1_000) {
            (Some(error_type), _) => error_type.http_status,
            (None, 1) => 503,
            (None, 2) => 500,
            (None, _) => 400,
        }
    }

    /// Whether central-ledger accepts this code from a payee's `PUT /transfers/{ID}/error`: it
    /// must belong to one of Mojaloop's error types (`10`, `20`, `30`–`33`, `40`–`44`, `50`–`54`,
    /// `60`), otherwise the abort is recorded as 3100 "API specification undefined errorCode".
    pub fn is_defined_by_api(self) -> bool {
        self.error_type().is_some()
    }

    fn named(self) -> Option<&'static CodeInfo> {
        NAMED_CODES.iter().find(|it| it.code == self)
    }

    fn error_type(self) -> Option<&'static ErrorType> {
        let prefix = self.number() / 100;
        ERROR_TYPES.iter().find(|it| it.prefix == prefix)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// An FSPIOP error as the switch sends it: a synchronous 4xx/5xx body or a `PUT .../error`
/// callback. The description is always at most [`ERROR_DESCRIPTION_CHARS_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("FSPIOP error {code}: {description}")]
pub struct FspiopError {
    code: ErrorCode,
    description: String,
    http_status: u16,
    extension_list: Option<ExtensionList>,
}

impl FspiopError {
    /// The code with its bare message as the description.
    pub fn new(code: ErrorCode) -> FspiopError {
        FspiopError::described(code, code.message().to_string())
    }

    /// `"<message> - <detail>"`; an empty detail gives the bare message, as in Mojaloop.
    pub fn with_detail(code: ErrorCode, detail: impl AsRef<str>) -> FspiopError {
        let detail = detail.as_ref();
        if detail.is_empty() {
            return FspiopError::new(code);
        }
        FspiopError::described(code, format!("{} - {detail}", code.message()))
    }

    /// A payee's error, forwarded with its own description (Mojaloop's
    /// `createFSPIOPErrorFromErrorInformation`, which uses the description verbatim).
    pub fn forwarded(code: ErrorCode, description: &str, extension_list: Option<ExtensionList>) -> FspiopError {
        FspiopError { extension_list, ..FspiopError::described(code, description.to_string()) }
    }

    /// Adds an extension list to the error body.
    pub fn with_extension_list(self, extension_list: ExtensionList) -> FspiopError {
        FspiopError { extension_list: Some(extension_list), ..self }
    }

    /// 3000 with HTTP 405, for a method the path does not serve.
    pub fn method_not_allowed() -> FspiopError {
        let description = "Generic client error - Method Not Allowed".to_string();
        FspiopError { http_status: 405, ..FspiopError::described(ErrorCode::ClientError, description) }
    }

    /// 3002 (404) for a path no route serves, worded as hapi's "Not Found" reaches the client.
    pub fn unknown_uri() -> FspiopError {
        FspiopError::with_detail(ErrorCode::UnknownUri, "Not Found")
    }

    /// 2002 (501): the switch only sends `PATCH /transfers/{ID}`, it does not serve it.
    pub fn not_implemented() -> FspiopError {
        FspiopError::new(ErrorCode::NotImplemented)
    }

    /// 3104 with HTTP 413: the body is larger than the switch carries (`detail` says the limit).
    pub fn payload_too_large(detail: impl AsRef<str>) -> FspiopError {
        FspiopError { http_status: 413, ..FspiopError::with_detail(ErrorCode::TooLargePayload, detail) }
    }

    /// 3104 with HTTP 431: the request's headers are more than the switch carries.
    pub fn headers_too_large(detail: impl AsRef<str>) -> FspiopError {
        FspiopError { http_status: 431, ..FspiopError::with_detail(ErrorCode::TooLargePayload, detail) }
    }

    /// 3101 (400): a request that cannot be read as HTTP or JSON (bad framing, a path that is
    /// not UTF-8, a body that is not JSON), as hapi's parse failures reach the client.
    pub fn malformed(detail: impl AsRef<str>) -> FspiopError {
        FspiopError::with_detail(ErrorCode::MalformedSyntax, detail)
    }

    /// 2003 (503) "Service currently unavailable": the switch could not take the request now
    /// (its hub or store is unreachable); sending it again later can succeed.
    pub fn service_unavailable() -> FspiopError {
        let code = ErrorCode::from_number(SERVICE_UNAVAILABLE_CODE).expect("2003 is a valid code");
        FspiopError { http_status: 503, ..FspiopError::described(code, "Service currently unavailable".to_string()) }
    }

    /// The Mojaloop error for a bare HTTP rejection that the HTTP layer (not a route) gave:
    /// 404 → 3002, 405 and 408 → 3000, 406 → 3001, 413 and 431 → 3104, any other 4xx → 3101,
    /// keeping the status. `detail` is the layer's own text, when it has one.
    pub fn for_http_rejection(status: u16, detail: &str) -> FspiopError {
        assert!((400..500).contains(&status), "only client errors are mapped: {status}");
        let error = match status {
            404 => return FspiopError::unknown_uri(),
            405 => return FspiopError::method_not_allowed(),
            406 => FspiopError::with_detail(ErrorCode::UnacceptableVersion, detail),
            408 => FspiopError::with_detail(ErrorCode::ClientError, detail),
            413 => FspiopError::payload_too_large(detail),
            431 => FspiopError::headers_too_large(detail),
            _ => FspiopError::malformed(detail),
        };
        FspiopError { http_status: status, ..error }
    }

    /// 3105 (400): an inbound `FSPIOP-Signature` the switch refuses; `detail` says why (the
    /// JWS validator's closed rejection, as text).
    pub fn invalid_signature(detail: impl AsRef<str>) -> FspiopError {
        FspiopError::with_detail(ErrorCode::InvalidSignature, detail)
    }

    /// 3208 for `GET /transfers/{ID}` of an unknown transfer, worded as TTK expects.
    pub fn transfer_id_not_found() -> FspiopError {
        FspiopError::with_detail(ErrorCode::TransferIdNotFound, "Provided Transfer ID was not found on the server.")
    }

    /// 1001 when an FSP has no endpoint of the given type (e.g. `FSPIOP_CALLBACK_URL_TRANSFER_PUT`).
    pub fn no_callback_endpoint(endpoint_type: &str, fsp: &FspId) -> FspiopError {
        FspiopError::with_detail(
            ErrorCode::DestinationCommunicationError,
            format!("no {endpoint_type} endpoint for DFSP {fsp}"),
        )
    }

    /// The single mapping from a ledger rejection to what the FSP is told.
    pub fn from_rejection(rejection: &Rejection) -> FspiopError {
        use ErrorCode::*;
        match rejection {
            Rejection::PrepareInvalid(failure) => {
                FspiopError::with_detail(ValidationError, failure.reason(format_fspiop_datetime))
            }
            Rejection::ModifiedRequest => FspiopError::new(ModifiedRequest),
            Rejection::PayerInsufficientLiquidity => FspiopError::new(PayerFspInsufficientLiquidity),
            Rejection::PayerLimitExceeded => FspiopError::new(PayerLimitError),
            Rejection::IncorrectState { .. } => FspiopError::new(InternalServerError),
            Rejection::TransferNotFound => FspiopError::with_detail(InternalServerError, "transfer not found"),
            Rejection::SourceNotPayee => FspiopError::with_detail(
                ValidationError,
                "fspiop-source does not match payee fsp on the Fulfil callback response",
            ),
            Rejection::DestinationNotPayer => FspiopError::with_detail(
                ValidationError,
                "fspiop-destination does not match payer fsp on the Fulfil callback response",
            ),
            Rejection::InvalidFulfilment => FspiopError::with_detail(ValidationError, "invalid fulfilment"),
            Rejection::NotReserved => FspiopError::with_detail(ValidationError, "non-RESERVED transfer state"),
            Rejection::TransferExpired => FspiopError::new(TransferExpired),
            Rejection::Admin(refusal) => FspiopError::with_detail(admin_code(refusal), refusal.reason()),
            Rejection::Settlement(refusal) => FspiopError::with_detail(ValidationError, refusal.reason()),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    pub fn extension_list(&self) -> Option<&ExtensionList> {
        self.extension_list.as_ref()
    }

    /// The `{key: "cause", value: "<code>: <description>"}` extension that central-ledger puts
    /// into the `PATCH` and `GET` bodies of an aborted transfer, cut to the extension value limit.
    pub fn cause_extension(&self) -> Extension {
        Extension::truncated(CAUSE_EXTENSION_KEY, &format!("{}: {}", self.code, self.description))
    }

    /// The `ErrorInformationObject` body.
    pub fn to_wire(&self) -> ErrorInformationObject {
        ErrorInformationObject {
            error_information: ErrorInformation {
                error_code: self.code.to_string(),
                error_description: self.description.clone(),
                extension_list: self.extension_list.clone(),
            },
        }
    }

    /// The body as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_wire()).expect("an error body of strings always serialises")
    }

    fn described(code: ErrorCode, description: String) -> FspiopError {
        FspiopError {
            code,
            description: truncate_chars(&description, ERROR_DESCRIPTION_CHARS_MAX).to_string(),
            http_status: code.http_status(),
            extension_list: None,
        }
    }
}

impl From<&Rejection> for FspiopError {
    fn from(rejection: &Rejection) -> FspiopError {
        FspiopError::from_rejection(rejection)
    }
}

impl Serialize for FspiopError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(serializer)
    }
}

/// The code central-ledger answers each admin refusal with.
fn admin_code(refusal: &AdminRefusal) -> ErrorCode {
    use AdminRefusal::*;
    match refusal {
        ParticipantNotFound | AccountNotFound | ModelNotFound => ErrorCode::IdNotFound,
        HubAccountMissing(_) | NotHubAccountType | HubAccountExists | LedgerAccountTypeNotFound => {
            ErrorCode::AddPartyInfoError
        }
        CurrencyAlreadyRegistered
        | OnlyPositionAccountUpdate
        | ModelExists
        | ModelConflict
        | InvalidModel
        | CurrencyMismatch
        | AccountInactive
        | ParticipantInactive
        | HubNotModifiable => ErrorCode::ClientError,
        NoSettlementModel => ErrorCode::GenericSettlementError,
        // central-ledger raises these as internal errors (HTTP 500), and clients rely on it.
        LimitOrPositionAlreadySet | NoLimitForCurrency | NotSettlementAccount => ErrorCode::InternalServerError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger_core::amount::Amount;
    use ledger_core::currency::Currency;
    use ledger_core::rejection::PrepareFailure;
    use ledger_core::state::TransferState;
    use ledger_core::time::Timestamp;

    #[test]
    fn bare_http_rejections_get_mojaloops_codes_and_keep_their_status() {
        let cases = [
            (400, 3101, 400),
            (404, 3002, 404),
            (405, 3000, 405),
            (406, 3001, 406),
            (408, 3000, 408),
            (413, 3104, 413),
            (414, 3101, 414),
            (415, 3101, 415),
            (431, 3104, 431),
        ];
        for (status, code, answered) in cases {
            let error = FspiopError::for_http_rejection(status, "detail");
            assert_eq!((error.code().number(), error.http_status()), (code, answered), "{status}");
            assert!(!error.description().is_empty());
        }
        let unavailable = FspiopError::service_unavailable();
        assert_eq!(
            (unavailable.code().number(), unavailable.http_status(), unavailable.description()),
            (2003, 503, "Service currently unavailable")
        );
        assert_eq!(FspiopError::payload_too_large("over").http_status(), 413);
    }

    #[test]
    fn the_named_codes_match_mojaloops_table() {
        let table = [
            (
                ErrorCode::DestinationCommunicationError,
                1001,
                "DESTINATION_COMMUNICATION_ERROR",
                "Destination communication error",
                503,
            ),
            (ErrorCode::InternalServerError, 2001, "INTERNAL_SERVER_ERROR", "Internal server error", 500),
            (ErrorCode::NotImplemented, 2002, "NOT_IMPLEMENTED", "Not implemented", 501),
            (ErrorCode::ClientError, 3000, "CLIENT_ERROR", "Generic client error", 400),
            (ErrorCode::UnacceptableVersion, 3001, "UNACCEPTABLE_VERSION", "Unacceptable version requested", 406),
            (ErrorCode::UnknownUri, 3002, "UNKNOWN_URI", "Unknown URI", 404),
            (ErrorCode::AddPartyInfoError, 3003, "ADD_PARTY_INFO_ERROR", "Add Party information error", 400),
            (ErrorCode::ValidationError, 3100, "VALIDATION_ERROR", "Generic validation error", 400),
            (ErrorCode::MalformedSyntax, 3101, "MALFORMED_SYNTAX", "Malformed syntax", 400),
            (ErrorCode::MissingElement, 3102, "MISSING_ELEMENT", "Missing mandatory element", 400),
            (ErrorCode::TooManyElements, 3103, "TOO_MANY_ELEMENTS", "Too many elements", 400),
            (ErrorCode::TooLargePayload, 3104, "TOO_LARGE_PAYLOAD", "Too large payload", 400),
            (ErrorCode::InvalidSignature, 3105, "INVALID_SIGNATURE", "Invalid signature", 400),
            (ErrorCode::ModifiedRequest, 3106, "MODIFIED_REQUEST", "Modified request", 400),
            (ErrorCode::IdNotFound, 3200, "ID_NOT_FOUND", "Generic ID not found", 400),
            (ErrorCode::TransferIdNotFound, 3208, "TRANSFER_ID_NOT_FOUND", "Transfer ID not found", 400),
            (ErrorCode::TransferExpired, 3303, "TRANSFER_EXPIRED", "Transfer expired", 400),
            (
                ErrorCode::PayerFspInsufficientLiquidity,
                4001,
                "PAYER_FSP_INSUFFICIENT_LIQUIDITY",
                "Payer FSP insufficient liquidity",
                400,
            ),
            (ErrorCode::PayerLimitError, 4200, "PAYER_LIMIT_ERROR", "Payer limit error", 400),
            (ErrorCode::GenericSettlementError, 6000, "GENERIC_SETTLEMENT_ERROR", "Generic Settlement Error", 400),
        ];
        assert_eq!(table.len(), NAMED_CODES.len());
        for (code, number, name, message, status) in table {
            assert_eq!(
                (code.number(), code.name(), code.message(), code.http_status()),
                (number, name, message, status)
            );
            assert_eq!(ErrorCode::from_number(number), Some(code));
            assert_eq!(ErrorCode::parse(&number.to_string()), Some(code));
            assert_eq!(code.to_string(), number.to_string());
            assert!(code.is_defined_by_api());
        }
    }

    #[test]
    fn other_codes_take_their_error_types_name_and_status() {
        let cases = [
            (5101, "PAYEE_REJECTION_ERROR", "Payee Rejection Error", 400, true),
            (5000, "GENERIC_PAYEE_ERROR", "Generic Payee Error", 400, true),
            (5400, "PAYEE_BLOCKED_ERROR", "Payee Blocker Error", 400, true),
            (1000, "GENERIC_COMMUNICATION_ERROR", "Generic Communication Error", 503, true),
            (2000, "GENERIC_SERVER_ERROR", "Generic Server Error", 500, true),
            (2003, "GENERIC_SERVER_ERROR", "Generic Server Error", 503, true),
            (3107, "CLIENT_VALIDATION_ERROR", "Client Validation Error", 400, true),
            (4100, "PAYER_REJECTION_ERROR", "Payer Rejection Error", 400, true),
            (6001, "GENERIC_SETTLEMENT_ERROR", "Settlement Related Error", 400, true),
            (5900, "UNDEFINED_ERROR", "Undefined error", 400, false),
            (7000, "UNDEFINED_ERROR", "Undefined error", 400, false),
            (3400, "UNDEFINED_ERROR", "Undefined error", 400, false),
            (1100, "UNDEFINED_ERROR", "Undefined error", 503, false),
            (2100, "UNDEFINED_ERROR", "Undefined error", 500, false),
        ];
        for (number, name, message, status, defined) in cases {
            let code = ErrorCode::parse(&number.to_string()).unwrap();
            assert!(matches!(code, ErrorCode::Other(other) if other.number() == number), "{number}");
            assert_eq!(
                (code.name(), code.message(), code.http_status(), code.is_defined_by_api()),
                (name, message, status, defined)
            );
        }
    }

    #[test]
    fn only_four_digit_codes_without_a_leading_zero_parse() {
        for text in ["0100", "999", "10000", "", "31OO", "+310", " 3100", "3100 ", "３１００"] {
            assert_eq!(ErrorCode::parse(text), None, "{text}");
        }
        assert_eq!(ErrorCode::from_number(999), None);
        assert_eq!(ErrorCode::from_number(10_000), None);
        assert_eq!(ErrorCode::parse("9999").map(ErrorCode::number), Some(9_999));
    }

    #[test]
    fn descriptions_join_message_and_detail_and_are_cut_to_128_characters() {
        assert_eq!(FspiopError::new(ErrorCode::ModifiedRequest).description(), "Modified request");
        assert_eq!(FspiopError::with_detail(ErrorCode::ModifiedRequest, "").description(), "Modified request");
        assert_eq!(
            FspiopError::with_detail(ErrorCode::ValidationError, "x").description(),
            "Generic validation error - x"
        );
        let long = FspiopError::with_detail(ErrorCode::ValidationError, "é".repeat(200));
        assert_eq!(long.description().chars().count(), ERROR_DESCRIPTION_CHARS_MAX);
        assert!(long.description().starts_with("Generic validation error - éé"));
        let forwarded = FspiopError::forwarded(ErrorCode::parse("5101").unwrap(), &"ü".repeat(300), None);
        assert_eq!(forwarded.description(), "ü".repeat(ERROR_DESCRIPTION_CHARS_MAX));
    }

    #[test]
    fn every_rejection_maps_to_its_fspiop_error() {
        let fsp = FspId::parse("payerfsp").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let at = Timestamp::from_unix_ms(1_464_079_088_699);
        let invalid = |failure| Rejection::PrepareInvalid(failure);
        let cases = [
            (invalid(PrepareFailure::SourceNotPayer), 3100, "Generic validation error - FSPIOP-Source header should match Payer"),
            (invalid(PrepareFailure::AmountScale(Amount::from_units(1))), 3100, "Generic validation error - Amount 0.0001 exceeds allowed scale of 4"),
            (invalid(PrepareFailure::ParticipantNotFound(fsp.clone())), 3100, "Generic validation error - Participant payerfsp not found"),
            (invalid(PrepareFailure::ParticipantInactive(fsp.clone())), 3100, "Generic validation error - Participant payerfsp is inactive"),
            (
                invalid(PrepareFailure::ExpirationInPast(at)),
                3100,
                "Generic validation error - Expiration date 2016-05-24T08:38:08.699Z is already in the past",
            ),
            (invalid(PrepareFailure::AccountInactive(fsp, usd)), 3100, "Generic validation error - Participant payerfsp USD account is inactive"),
            (Rejection::ModifiedRequest, 3106, "Modified request"),
            (Rejection::PayerInsufficientLiquidity, 4001, "Payer FSP insufficient liquidity"),
            (Rejection::PayerLimitExceeded, 4200, "Payer limit error"),
            (
                Rejection::IncorrectState { found: None, expected: TransferState::Reserved },
                2001,
                "Internal server error",
            ),
            (Rejection::TransferNotFound, 2001, "Internal server error - transfer not found"),
            (
                Rejection::SourceNotPayee,
                3100,
                "Generic validation error - fspiop-source does not match payee fsp on the Fulfil callback response",
            ),
            (
                Rejection::DestinationNotPayer,
                3100,
                "Generic validation error - fspiop-destination does not match payer fsp on the Fulfil callback response",
            ),
            (Rejection::InvalidFulfilment, 3100, "Generic validation error - invalid fulfilment"),
            (Rejection::NotReserved, 3100, "Generic validation error - non-RESERVED transfer state"),
            (Rejection::TransferExpired, 3303, "Transfer expired"),
        ];
        for (rejection, number, description) in cases {
            let error = FspiopError::from(&rejection);
            assert_eq!((error.code().number(), error.description()), (number, description), "{rejection:?}");
            assert_eq!(error.http_status(), error.code().http_status());
        }
    }

    #[test]
    fn the_error_body_is_an_error_information_object() {
        let plain = FspiopError::with_detail(ErrorCode::ValidationError, "invalid fulfilment");
        assert_eq!(
            plain.to_json(),
            r#"{"errorInformation":{"errorCode":"3100","errorDescription":"Generic validation error - invalid fulfilment"}}"#
        );
        assert_eq!(serde_json::to_string(&plain).unwrap(), plain.to_json());
        let list = ExtensionList { extension: vec![Extension { key: "k".into(), value: "v".into() }] };
        let payee = FspiopError::forwarded(ErrorCode::parse("5101").unwrap(), "Payee rejected quote", Some(list));
        assert_eq!(
            payee.to_json(),
            r#"{"errorInformation":{"errorCode":"5101","errorDescription":"Payee rejected quote","extensionList":{"extension":[{"key":"k","value":"v"}]}}}"#
        );
    }

    #[test]
    fn special_constructors_carry_their_status_and_text() {
        let cases = [
            (FspiopError::method_not_allowed(), 3000, 405, "Generic client error - Method Not Allowed"),
            (FspiopError::unknown_uri(), 3002, 404, "Unknown URI - Not Found"),
            (FspiopError::not_implemented(), 2002, 501, "Not implemented"),
            (
                FspiopError::transfer_id_not_found(),
                3208,
                400,
                "Transfer ID not found - Provided Transfer ID was not found on the server.",
            ),
            (FspiopError::new(ErrorCode::ClientError), 3000, 400, "Generic client error"),
            (
                FspiopError::no_callback_endpoint(
                    "FSPIOP_CALLBACK_URL_TRANSFER_PUT",
                    &FspId::parse("payeefsp").unwrap(),
                ),
                1001,
                503,
                "Destination communication error - no FSPIOP_CALLBACK_URL_TRANSFER_PUT endpoint for DFSP payeefsp",
            ),
        ];
        for (error, number, status, description) in cases {
            assert_eq!(
                (error.code().number(), error.http_status(), error.description()),
                (number, status, description)
            );
        }
    }

    #[test]
    fn the_cause_extension_carries_code_and_description() {
        let error = FspiopError::from(&Rejection::InvalidFulfilment);
        let cause = error.cause_extension();
        assert_eq!(
            (cause.key.as_str(), cause.value.as_str()),
            ("cause", "3100: Generic validation error - invalid fulfilment")
        );
        let long = FspiopError::with_detail(ErrorCode::ValidationError, "x".repeat(200)).cause_extension();
        assert_eq!(long.value.chars().count(), crate::wire::EXTENSION_VALUE_CHARS_MAX);
    }
}
