//! The invocation response as axum sends it: 200, JSON, and never an empty body.

use axum::body::to_bytes;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Map, Value};
use switch_handler::invocation::HTTP_OUTPUT_BINDING;
use switch_handler::{HttpOutput, InvocationResponse};

/// Far above any body these tests build; `to_bytes` needs a cap.
const BODY_BYTES_MAX: usize = 1 << 20;

async fn sent(response: InvocationResponse) -> (StatusCode, Option<String>, Value) {
    let response = response.into_response();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = to_bytes(response.into_body(), BODY_BYTES_MAX).await.unwrap_or_default();
    (status, content_type, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_empty_response_is_still_the_full_object() {
    let (status, content_type, body) = sent(InvocationResponse::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_eq!(body, json!({"Outputs": {}, "Logs": [], "ReturnValue": null}));
}

#[tokio::test]
async fn http_output_and_logs_travel_in_the_body() {
    let mut health = Map::new();
    health.insert("status".into(), json!("OK"));
    let mut response = InvocationResponse::new();
    response
        .log("health checked")
        .set_http(HTTP_OUTPUT_BINDING, HttpOutput::object(200, health).header("Cache-Control", "no-store"));
    let (status, _, body) = sent(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "Outputs": {"res": {"statusCode": "200", "status": "200", "body": {"status": "OK"},
                                "headers": {"Cache-Control": "no-store", "Content-Type": "application/json"}}},
            "Logs": ["health checked"],
            "ReturnValue": null
        })
    );
}
