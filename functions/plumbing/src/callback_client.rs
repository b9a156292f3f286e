//! The HTTP client the notification function sends callbacks with: pooled, HTTP/1.1 over plain
//! TCP or TLS (the platform's trust store), no redirects, no proxy, and no header of its own. A
//! general-purpose client adds `Accept: */*` to every request, and Mojaloop's callbacks carry
//! only the headers the callback matrix gives them (a PUT callback has no Accept; the Testing
//! Toolkit checks that), so callbacks go out exactly as `notification` builds them.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_platform_verifier::ConfigVerifierExt as _;

/// Idle connections kept per DFSP host (and per emulator, by the local publisher).
pub const IDLE_CONNECTIONS_PER_HOST_MAX: usize = 32;
/// How long an idle pooled connection is kept.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a callback could not be sent or answered.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("{0}")]
    Transport(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// A pooled HTTP/1.1 client over plain TCP or TLS, adding no header of its own.
pub type PooledClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Builds a [`PooledClient`] whose connection attempts give up after `connect_timeout` and
/// which keeps up to `idle_per_host_max` idle connections per host.
pub fn pooled_client(connect_timeout: Option<Duration>, idle_per_host_max: usize) -> Result<PooledClient, String> {
    let tls = rustls::ClientConfig::with_platform_verifier().map_err(|err| err.to_string())?;
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(idle_per_host_max)
        .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
        .build(connector))
}

/// A cheap-to-clone, pooled callback client.
#[derive(Clone)]
pub struct CallbackClient {
    client: PooledClient,
    timeout: Duration,
}

impl CallbackClient {
    /// A client whose requests each get `timeout` in all.
    pub fn new(timeout: Duration) -> Result<CallbackClient, CallbackError> {
        let client = pooled_client(None, IDLE_CONNECTIONS_PER_HOST_MAX).map_err(CallbackError::Invalid)?;
        Ok(CallbackClient { client, timeout })
    }

    /// Sends one request with exactly these headers (plus `Host` and `Content-Length`, which
    /// HTTP/1.1 requires); the answer's status.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<StatusCode, CallbackError> {
        let method = Method::from_bytes(method.as_bytes()).map_err(|err| CallbackError::Invalid(err.to_string()))?;
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| CallbackError::Invalid(err.to_string()))?;
        for (name, value) in headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|err| CallbackError::Invalid(err.to_string()))?;
            let value = HeaderValue::from_str(value).map_err(|err| CallbackError::Invalid(err.to_string()))?;
            request.headers_mut().append(name, value);
        }
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| CallbackError::Timeout(self.timeout))?
            .map_err(|err| CallbackError::Transport(describe(&err)))?;
        Ok(response.status())
    }
}

/// The error with its causes, which say what actually failed (refused, reset, TLS).
pub fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}
