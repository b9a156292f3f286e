//! The operator's read of the message journal, `GET /journal/{transferId}`, served on the admin
//! API: the transfer's entries oldest first, bodies as text when they are UTF-8 (else base64).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use base64::Engine;
use fspiop::{ErrorCode, FspiopError};
use journal::{JournalEntry, TransferKey};
use ledger_core::time::Timestamp;
use serde_json::{json, Value};

use crate::operator::http::{date, json as json_answer, ApiError, ApiResult};
use crate::state::App;

/// The operator's read, served on the admin API.
pub fn routes() -> Router<App> {
    Router::new().route("/journal/{transfer_id}", get(read_journal))
}

async fn read_journal(State(app): State<App>, Path(transfer_id): Path<String>) -> ApiResult {
    let key = TransferKey::parse(&transfer_id)
        .map_err(|err| ApiError::Refused(FspiopError::with_detail(ErrorCode::MalformedSyntax, err.to_string())))?;
    let Some(journal) = app.journal.as_deref() else {
        return Err(ApiError::Refused(FspiopError::with_detail(
            ErrorCode::NotImplemented,
            "no message journal configured",
        )));
    };
    match journal.by_transfer(&key).await {
        Ok(found) => {
            let entries: Vec<Value> = found.entries.iter().map(entry_json).collect();
            json_answer(StatusCode::OK, &json!({ "transferId": key.as_str(), "entries": entries, "more": found.more }))
        }
        Err(error) => {
            tracing::warn!(%error, "message journal read failed");
            Err(ApiError::Refused(FspiopError::with_detail(
                ErrorCode::InternalServerError,
                "the message journal could not be read",
            )))
        }
    }
}

fn entry_json(entry: &JournalEntry) -> Value {
    let (body, encoding) = match std::str::from_utf8(entry.body()) {
        Ok(text) => (text.to_string(), "utf8"),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(entry.body()), "base64"),
    };
    let headers: Vec<Value> = entry.headers().iter().map(|it| json!({ "name": it.name, "value": it.value })).collect();
    json!({
        "id": entry.id().as_str(),
        "direction": entry.direction().as_str(),
        "timestamp": date(Timestamp::from_unix_ms(entry.timestamp_ms())),
        "method": entry.method(),
        "url": entry.url(),
        "source": entry.source(),
        "destination": entry.destination(),
        "httpStatus": entry.http_status(),
        "headers": headers,
        "body": body,
        "bodyEncoding": encoding,
        "bodyLength": entry.body_length(),
        "bodySha256": entry.body_sha256(),
        "truncated": entry.truncated(),
    })
}
