//! The host's HTTP client to the custom handler on loopback: plain hyper, HTTP/1.1, pooled. The
//! host sends every invocation and every proxied FSPIOP and operator request through it, so it is
//! on the hot path of each transfer several times; a general-purpose client's layers (redirects,
//! retries, decompression, proxies) cost a tenth of the emulator's CPU under load and served
//! nothing on a loopback hop to our own child process.
//!
//! A pooled connection is never one the handler is closing: the pool drops connections idle for
//! [`POOL_IDLE_TIMEOUT`], well before the handler closes them ([`plumbing::listen::IDLE_TIMEOUT`]).
//! A connection can still close under a request for other reasons (the handler restarting); a
//! request that the handler may safely get twice (an invocation, which every function handles
//! again harmlessly, or an idempotent method) is then sent once more when the connection closed
//! before any byte of the answer.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use plumbing::callback_client::describe;

/// Idle connections kept to the handler. Every proxied request in flight holds one, and a
/// connection returned to a full pool is closed, so the bound must cover the busiest moment
/// (a load of 256 concurrent transfers opened and closed connections all the time at 64).
const IDLE_CONNECTIONS_MAX: usize = 2048;
/// How long a connection may sit in the pool unused; shorter than the handler's idle timeout.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const _: () = assert!(POOL_IDLE_TIMEOUT.as_secs() * 2 <= plumbing::listen::IDLE_TIMEOUT.as_secs());

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
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(IDLE_CONNECTIONS_MAX)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);
        HandlerClient { client }
    }
}

/// Whether the handler may get the same request twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Send once more when the connection closed before any byte of the answer.
    Safe,
    /// Never send twice (a request whose method is not idempotent).
    Never,
}

impl Repeat {
    /// `Safe` for HTTP's idempotent methods.
    pub fn for_method(method: &Method) -> Repeat {
        match method.is_idempotent() {
            true => Repeat::Safe,
            false => Repeat::Never,
        }
    }
}

impl HandlerClient {
    /// Sends `request` and reads the whole answer, within `timeout`; see the module
    /// documentation for `repeat`.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
        repeat: Repeat,
    ) -> Result<Answer, String> {
        let exchange = async {
            let again = (repeat == Repeat::Safe).then(|| copy(&request));
            let response = match (self.client.request(request).await, again) {
                (Ok(response), _) => response,
                (Err(err), Some(again)) if closed_before_answer(&err) => {
                    tracing::debug!("the handler closed the connection before answering; sending once more");
                    self.client.request(again).await.map_err(|err| describe(&err))?
                }
                (Err(err), _) => return Err(describe(&err)),
            };
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|err| describe(&err))?.to_bytes();
            Ok(Answer { status: parts.status, headers: parts.headers, body })
        };
        tokio::time::timeout(timeout, exchange).await.map_err(|_| format!("no answer within {timeout:?}"))?
    }
}

/// The same request again (the body is shared, not copied).
fn copy(request: &Request<Full<Bytes>>) -> Request<Full<Bytes>> {
    let mut again = Request::new(request.body().clone());
    *again.method_mut() = request.method().clone();
    *again.uri_mut() = request.uri().clone();
    *again.version_mut() = request.version();
    *again.headers_mut() = request.headers().clone();
    again
}

/// The connection closed (or was found closed) before any byte of the answer arrived.
fn closed_before_answer(err: &hyper_util::client::legacy::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(it) = source {
        if let Some(hyper) = it.downcast_ref::<hyper::Error>() {
            return hyper.is_incomplete_message() || hyper.is_canceled();
        }
        source = it.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A server that answers the first request on each connection, kept alive, and closes the
    /// connection without answering when a second request comes on it: what a handler closing a
    /// connection under a request looks like to the pool.
    async fn one_answer_per_connection() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = stream.read(&mut buffer).await;
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                    let _ = stream.read(&mut buffer).await;
                });
            }
        });
        format!("http://{address}/")
    }

    fn get(url: &str, method: Method) -> Request<Full<Bytes>> {
        Request::builder().method(method).uri(url).body(Full::new(Bytes::new())).unwrap()
    }

    #[tokio::test]
    async fn a_safe_request_is_sent_again_when_its_connection_closes_before_the_answer() {
        let url = one_answer_per_connection().await;
        let client = HandlerClient::default();
        let timeout = Duration::from_secs(10);
        assert_eq!(client.send(get(&url, Method::GET), timeout, Repeat::Safe).await.unwrap().status, 200);
        // The pooled connection is reused, the server closes it under the request, and the
        // request goes again on a new connection.
        assert_eq!(client.send(get(&url, Method::GET), timeout, Repeat::Safe).await.unwrap().status, 200);
        assert_eq!(Repeat::for_method(&Method::POST), Repeat::Never);
        assert!(
            client.send(get(&url, Method::POST), timeout, Repeat::Never).await.is_err(),
            "a POST is never sent twice"
        );
    }
}
