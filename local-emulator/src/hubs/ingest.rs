//! The ingestion endpoint the handler's local publisher posts to (`plumbing::publish::local`
//! documents the wire protocol), with Event Hubs' size limit on each event.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use plumbing::publish::local::IngestRequest;

use super::event::{HubsError, NewEvent};
use super::namespace::Hubs;

/// Largest event body accepted, in bytes: the Standard tier's 1 MB limit (azure.md §2.1).
pub const EVENT_BYTES_MAX: usize = 1_048_576;

/// The ingestion endpoint the handler's local publisher posts to: `POST /hubs/{hub}/events`.
pub fn router(hubs: Arc<Hubs>) -> Router {
    Router::new().route("/hubs/{hub}/events", post(ingest)).with_state(hubs)
}

async fn ingest(
    State(hubs): State<Arc<Hubs>>,
    UrlPath(hub): UrlPath<String>,
    Json(request): Json<IngestRequest>,
) -> (StatusCode, String) {
    if let Some(large) = request.events.iter().find(|it| it.body.len() > EVENT_BYTES_MAX) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("an event of {} bytes is over {EVENT_BYTES_MAX}", large.body.len()),
        );
    }
    let events =
        request.events.into_iter().map(|it| NewEvent { partition_key: it.partition_key, body: it.body }).collect();
    match hubs.append(&hub, events).await {
        Ok(()) => (StatusCode::ACCEPTED, String::new()),
        Err(err @ HubsError::UnknownHub(_)) => (StatusCode::NOT_FOUND, err.to_string()),
        Err(err) => (StatusCode::SERVICE_UNAVAILABLE, err.to_string()),
    }
}
