//! What the admin and settlement APIs share at the HTTP edge: the error answer (Mojaloop's
//! `{errorInformation}` with its status), JSON answers, and date formatting.
//!
//! A business refusal or bad input is answered with its FSPIOP code and status and changes
//! nothing; a store fault is a 500 (2001) the operator may retry.
//!
//! Every 4xx of the handler's router carries `errorInformation`: a path no route serves is
//! [`unknown_uri`] (404, 3002), and [`mojaloop_errors`] gives the bare answers of axum's own
//! rejections (a wrong method, a path segment that is not UTF-8, a body over the limit or cut
//! short) the Mojaloop error for their status (`FspiopError::for_http_rejection`).

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
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

/// How much of a bare rejection's text is kept as the error's detail (descriptions are cut to
/// 128 characters anyway).
const REJECTION_TEXT_BYTES_MAX: usize = 1_024;

/// The fallback: a path no route serves.
pub async fn unknown_uri() -> Response {
    ApiError::Refused(FspiopError::unknown_uri()).into_response()
}

/// Gives a 4xx without a JSON body (axum's rejections) Mojaloop's error body for its status,
/// keeping the status and the other headers (`Allow` on a 405).
pub async fn mojaloop_errors(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|it| it.to_str().ok())
        .is_some_and(|it| it.starts_with("application/json"));
    if !response.status().is_client_error() || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, REJECTION_TEXT_BYTES_MAX).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text);
    let error = FspiopError::for_http_rejection(parts.status.as_u16(), detail.trim());
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(error.to_json()))
}
