//! The host's HTTP client to the custom handler on loopback: plain hyper, HTTP/1.1, pooled. The
//! host sends every invocation and every proxied FSPIOP and operator request through it, so it is
//! on the hot path of each transfer several times; a general-purpose client's layers (redirects,
//! retries, decompression, proxies) cost a tenth of the emulator's CPU under load and served
//! nothing on a loopback hop to our own child process.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Request, StatusCode};
use handler::callback_client::describe;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Idle connections kept to the handler. Every proxied request in flight holds one, and a
/// connection returned to a full pool is closed, so the bound must cover the busiest moment
/// (a load of 256 concurrent transfers opened and closed connections all the time at 64).
const IDLE_CONNECTIONS_MAX: usize = 2048;

/// What the handler answered.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A cheap-to-clone, pooled client for `http://127.0.0.1:<port>`.
#[derive(Clone)]
pub struct HandlerClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for HandlerClient {
    fn default() -> HandlerClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        HandlerClient { client: Client::builder(TokioExecutor::new()).pool_max_idle_per_host(IDLE_CONNECTIONS_MAX).build(connector) }
    }
}

impl HandlerClient {
    /// Sends `request` and reads the whole answer, within `timeout`.
    pub async fn send(&self, request: Request<Full<Bytes>>, timeout: Duration) -> Result<Answer, String> {
        let exchange = async {
            let response = self.client.request(request).await.map_err(|err| describe(&err))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|err| describe(&err))?.to_bytes();
            Ok(Answer { status: parts.status, headers: parts.headers, body })
        };
        tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no answer within {timeout:?}"))?
    }
}
