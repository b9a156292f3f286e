//! What the admin and settlement APIs share at the HTTP edge: the error answer (Mojaloop's
//! `{errorInformation}` with its status), JSON answers, and date formatting.
//!
//! A business refusal or bad input is answered with its FSPIOP code and status and changes
//! nothing; a store fault is a 500 (2001) the operator may retry.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fspiop::datetime::format_fspiop_datetime;
use fspiop::{ErrorCode, FspiopError};
use ledger_core::rejection::Rejection;
use ledger_core::time::Timestamp;
use ledger_store::StoreError;
use serde::Serialize;

/// Why an operator request was not done.
#[derive(Debug)]
pub enum ApiError {
    /// Bad input or a business refusal: answered as Mojaloop answers it.
    Refused(FspiopError),
    /// The store failed; nothing was done, the request may be sent again.
    Store(StoreError),
}

pub type ApiResult = Result<Response, ApiError>;

impl From<FspiopError> for ApiError {
    fn from(error: FspiopError) -> ApiError {
        ApiError::Refused(error)
    }
}

impl From<Rejection> for ApiError {
    fn from(rejection: Rejection) -> ApiError {
        ApiError::Refused(FspiopError::from_rejection(&rejection))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::Store(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self {
            ApiError::Refused(error) => error,
            ApiError::Store(error) => {
                tracing::warn!(%error, "operator request failed in the store");
                FspiopError::new(ErrorCode::InternalServerError)
            }
        };
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, [("content-type", "application/json")], error.to_json()).into_response()
    }
}

/// A JSON answer with a status.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> ApiResult {
    let text = serde_json::to_string(body).expect("response bodies always serialise");
    Ok((status, [("content-type", "application/json")], text).into_response())
}

/// A status without a body.
pub fn empty(status: StatusCode) -> ApiResult {
    Ok(status.into_response())
}

/// Dates as the operator APIs print them (ISO 8601, milliseconds, `Z`).
pub fn date(at: Timestamp) -> String {
    format_fspiop_datetime(at)
}
