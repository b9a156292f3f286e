//! The API Management edge stand-in: one listener per API on Mojaloop's conventional ports
//! (FSPIOP :3000, admin :3001, settlement :3007), each exposing only its own functions' routes,
//! as the APIM API definitions do, and forwarding to the Functions host stand-in.
//!
//! The operator APIs (admin, settlement) require the operator key in `Ocp-Apim-Subscription-Key`
//! when one is configured (on Azure, APIM validates an Entra ID token there instead). DFSPs only
//! reach the FSPIOP API.
//!
//! Every refusal of the edge carries Mojaloop's `errorInformation`: a path none of the API's
//! functions serves is 404 3002, a served path with another method 405 3000, a missing or wrong
//! key 401 3000, a body over what the switch carries end to end
//! ([`plumbing::limits::REQUEST_BODY_BYTES_MAX`]) 413 3104, a body cut short or badly framed 400
//! 3101. 503 2003 says the handler cannot be reached now, which a retry can cure.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

use crate::handler_client::Repeat;
use crate::host::Supervisor;
use fspiop::FspiopError;

use crate::routes::{match_path, match_route, Route};

/// The header carrying the operator key (APIM's subscription-key header).
pub const OPERATOR_KEY_HEADER: &str = "ocp-apim-subscription-key";
/// Largest request body forwarded: what the switch carries end to end (a request's event must
/// fit the hub).
pub const REQUEST_BYTES_MAX: usize = plumbing::limits::REQUEST_BODY_BYTES_MAX;
const _: () = assert!(crate::hubs::EVENT_BYTES_MAX == plumbing::limits::HUB_EVENT_BYTES_MAX);
/// How long the body of a request may take to arrive, once its head has.
const REQUEST_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a proxied request waits for the handler's answer: Azure's front end gives up on an
/// HTTP-triggered function after 230 s.
const PROXY_ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(230);

/// Headers that describe one hop, not the request, and are not forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// One API of the edge.
#[derive(Debug, Clone)]
pub struct Api {
    pub name: &'static str,
    /// The functions whose routes this API exposes.
    pub functions: &'static [&'static str],
    /// Operator APIs require the operator key, when one is set.
    pub operator_only: bool,
}

/// The FSPIOP transfers API, for DFSPs.
pub const FSPIOP_API: Api = Api { name: "fspiop", functions: &["fspiop", "health"], operator_only: false };
/// The central-ledger admin API, for the operator.
pub const ADMIN_API: Api = Api { name: "admin", functions: &["admin_api", "health"], operator_only: true };
/// The central-settlement API (`/v2/...`), for the operator.
pub const SETTLEMENT_API: Api = Api { name: "settlement", functions: &["settlement_api"], operator_only: true };

#[derive(Clone)]
struct EdgeState {
    api: Api,
    routes: Arc<Vec<Route>>,
    supervisor: Arc<Supervisor>,
    operator_key: Option<Arc<str>>,
}

/// The router serving one API.
pub fn router(
    api: Api,
    routes: Arc<Vec<Route>>,
    supervisor: Arc<Supervisor>,
    operator_key: Option<Arc<str>>,
) -> Router {
    Router::new().fallback(forward).with_state(EdgeState { api, routes, supervisor, operator_key })
}

async fn forward(State(edge): State<EdgeState>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let path = uri.path().to_string();
    let response = answer(&edge, method.clone(), &uri, headers, body).await;
    tracing::info!(
        "{:<12} {method} {path} {} {} ms",
        edge.api.name,
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

async fn answer(edge: &EdgeState, method: Method, uri: &Uri, headers: HeaderMap, body: Body) -> Response {
    let served = |route: &&Route| edge.api.functions.contains(&route.function.as_str());
    if match_route(&edge.routes, method.as_str(), uri.path()).filter(served).is_none() {
        return match match_path(&edge.routes, uri.path()).any(|it| served(&it)) {
            true => refuse(&FspiopError::method_not_allowed()),
            false => refuse(&FspiopError::unknown_uri()),
        };
    }
    if edge.api.operator_only && !has_operator_key(edge, &headers) {
        return error(StatusCode::UNAUTHORIZED, "3000", "Operator key missing or wrong (Ocp-Apim-Subscription-Key)");
    }
    let body = match tokio::time::timeout(REQUEST_BODY_TIMEOUT, axum::body::to_bytes(body, REQUEST_BYTES_MAX)).await {
        Ok(Ok(body)) => body,
        Ok(Err(err)) if is_length_limit(&err) => {
            return refuse(&FspiopError::payload_too_large(format!("the body is over {REQUEST_BYTES_MAX} bytes")))
        }
        Ok(Err(_)) => return refuse(&FspiopError::malformed("the body could not be read (cut short or badly framed)")),
        Err(_) => return refuse(&FspiopError::for_http_rejection(408, "the body did not arrive in time")),
    };
    match proxy(&edge.supervisor, method, uri, &headers, body).await {
        Ok(response) => response,
        // The host answers 500 when the worker cannot be reached; 503 tells the DFSP to retry.
        Err(reason) => {
            tracing::error!("{}: cannot reach the handler: {reason}", edge.api.name);
            refuse(&FspiopError::service_unavailable())
        }
    }
}

/// Whether reading a body failed on the length limit (not on the connection).
fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(it) = source {
        if it.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = it.source();
    }
    false
}

/// The edge's own refusal with the error's status and body.
fn refuse(error: &FspiopError) -> Response {
    let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [("content-type", "application/json")], error.to_json()).into_response()
}

fn has_operator_key(edge: &EdgeState, headers: &HeaderMap) -> bool {
    let Some(expected) = &edge.operator_key else { return true };
    headers
        .get(OPERATOR_KEY_HEADER)
        .and_then(|it| it.to_str().ok())
        .is_some_and(|given| constant_time_equal(given.as_bytes(), expected.as_bytes()))
}

/// Compares without stopping at the first difference, so timing does not reveal the key.
fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Sends the request to the handler at its original path and relays the answer.
async fn proxy(
    supervisor: &Supervisor,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, String> {
    let (client, base) = supervisor.proxy_target().await.map_err(|err| err.to_string())?;
    let repeat = Repeat::for_method(&method);
    let path_and_query = uri.path_and_query().map_or(uri.path(), |it| it.as_str());
    let mut request = axum::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path_and_query}"))
        .body(http_body_util::Full::new(body))
        .map_err(|err| err.to_string())?;
    for (name, value) in headers {
        if !is_hop_by_hop(name) && name != "host" && name != "content-length" {
            request.headers_mut().append(name, value.clone());
        }
    }
    let answer = client.send(request, PROXY_ANSWER_TIMEOUT, repeat).await?;
    let mut relayed = HeaderMap::new();
    for (name, value) in &answer.headers {
        if !is_hop_by_hop(name) && name != "content-length" {
            relayed.append(name, value.clone());
        }
    }
    Ok((answer.status, relayed, answer.body).into_response())
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// An FSPIOP-shaped error from the edge itself.
fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({ "errorInformation": { "errorCode": code, "errorDescription": description } });
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_whole() {
        assert!(constant_time_equal(b"secret", b"secret"));
        assert!(!constant_time_equal(b"secret", b"secreT"));
        assert!(!constant_time_equal(b"secret", b"secret2"));
    }
}
