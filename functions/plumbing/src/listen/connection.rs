//! One connection under its limits: hyper's HTTP/1 connection over a watched socket, a guard
//! on each request, and a watchdog that closes the connection when a head takes too long, when
//! it has been idle too long, when the listener needs its slot, or drains it at shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use axum::Router;
use fspiop::FspiopError;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{watch, Notify};

use super::{ConnectionLimits, ListenerCounts, HEAD_BYTES_MAX};
use crate::limits::REQUEST_HEADERS_MAX;

/// "No head is being read".
const NONE_MS: u64 = u64::MAX;

/// What the socket, the request guard and the watchdog share about one connection.
pub(super) struct ConnectionState {
    started: Instant,
    requests_in_flight: AtomicUsize,
    /// When the first byte of the head now being read arrived, in ms since `started`.
    head_started_ms: AtomicU64,
    /// The last byte read or written, in ms since `started`.
    last_activity_ms: AtomicU64,
    evicted: AtomicBool,
    /// Wakes the watchdog when a deadline may have moved.
    changed: Notify,
}

/// Why the watchdog closes a connection.
enum Expiry {
    Header,
    Idle,
}

impl ConnectionState {
    pub(super) fn new() -> ConnectionState {
        ConnectionState {
            started: Instant::now(),
            requests_in_flight: AtomicUsize::new(0),
            head_started_ms: AtomicU64::new(NONE_MS),
            last_activity_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    /// No request in progress and no head arriving.
    pub(super) fn is_idle(&self) -> bool {
        self.requests_in_flight.load(Ordering::Acquire) == 0 && self.head_started_ms.load(Ordering::Acquire) == NONE_MS
    }

    pub(super) fn last_activity_ms(&self) -> u64 {
        self.last_activity_ms.load(Ordering::Relaxed)
    }

    /// Asks the connection to close as soon as it is idle.
    pub(super) fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.changed.notify_one();
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(NONE_MS - 1)
    }

    fn on_read(&self) {
        let now = self.now_ms();
        self.last_activity_ms.store(now, Ordering::Relaxed);
        let head_started = self.requests_in_flight.load(Ordering::Acquire) == 0
            && self.head_started_ms.compare_exchange(NONE_MS, now, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if head_started {
            self.changed.notify_one();
        }
    }

    fn on_write(&self) {
        self.last_activity_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// When the watchdog must look again: `None` while a request is in progress.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        if self.requests_in_flight.load(Ordering::Acquire) != 0 {
            return None;
        }
        match self.head_started_ms.load(Ordering::Acquire) {
            NONE_MS => Some(self.started + Duration::from_millis(self.last_activity_ms()) + limits.idle_timeout),
            head_ms => Some(self.started + Duration::from_millis(head_ms) + limits.header_read_timeout),
        }
    }

    fn expiry(&self, limits: &ConnectionLimits) -> Option<Expiry> {
        let deadline = self.deadline(limits)?;
        if Instant::now() < deadline {
            return None;
        }
        match self.head_started_ms.load(Ordering::Acquire) {
            NONE_MS => Some(Expiry::Idle),
            _ => Some(Expiry::Header),
        }
    }
}

/// Serves one accepted connection until it ends or the watchdog closes it.
pub(super) async fn serve_connection<Io: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: Io,
    router: Router,
    limits: ConnectionLimits,
    state: &Arc<ConnectionState>,
    counts: &Arc<ListenerCounts>,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Watched {
        inner: stream,
        state: Arc::clone(state),
        counts: Arc::clone(counts),
        replacement: None,
    });
    let service = Tracked { router, state: Arc::clone(state), body_read_timeout: limits.body_read_timeout };
    let mut builder = http1::Builder::new();
    // One contiguous write per answer, so the writer sees hyper's own rejections whole.
    builder.writev(false).max_buf_size(HEAD_BYTES_MAX).max_headers(REQUEST_HEADERS_MAX);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        let deadline = state.deadline(&limits);
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!("connection ended: {err}");
                }
                return;
            }
            () = sleep_until(deadline) => match state.expiry(&limits) {
                Some(Expiry::Header) => {
                    counts.header_timeouts.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Some(Expiry::Idle) => {
                    counts.idle_timeouts.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                None => (),
            },
            () = state.changed.notified() => {
                if state.evicted.load(Ordering::Acquire) && state.is_idle() {
                    return;
                }
            }
            _ = stopping.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// The router, with each request counted in flight until its answer is ready and its body
/// bounded in time.
#[derive(Clone)]
struct Tracked {
    router: Router,
    state: Arc<ConnectionState>,
    body_read_timeout: Duration,
}

/// A request body that fails when it has not all arrived by its deadline, so a client cannot
/// hold a request (and its connection) open by sending the body slowly or not at all.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl hyper::body::Body for TimedBody {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|it| it.map_err(Into::into))),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err("the request body did not arrive in time".into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Holds a request in flight; dropping it (answered or abandoned) makes the connection idle.
struct RequestGuard(Arc<ConnectionState>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.on_write();
        self.0.requests_in_flight.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_one();
    }
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.state.requests_in_flight.fetch_add(1, Ordering::AcqRel);
        self.state.head_started_ms.store(NONE_MS, Ordering::Release);
        let guard = RequestGuard(Arc::clone(&self.state));
        let deadline = Box::pin(tokio::time::sleep(self.body_read_timeout));
        let request = request.map(|body| Body::new(TimedBody { inner: body, deadline }));
        let answer = tower::ServiceExt::oneshot(self.router.clone(), request);
        Box::pin(async move {
            let response = answer.await;
            drop(guard);
            response
        })
    }
}

/// The socket, noting reads and writes for the watchdog and giving hyper's own bare 4xx
/// answers a Mojaloop error body.
struct Watched<Io> {
    inner: Io,
    state: Arc<ConnectionState>,
    counts: Arc<ListenerCounts>,
    /// A rewritten answer being written: its bytes, how many are written, and the length of
    /// hyper's buffer it stands for.
    replacement: Option<(Vec<u8>, usize, usize)>,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if before < buf.filled().len() {
                self.state.on_read();
            }
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacement.is_none() {
            if let Some(rewritten) = rewritten_rejection(buf) {
                self.counts.rejections_rewritten.fetch_add(1, Ordering::Relaxed);
                self.replacement = Some((rewritten, 0, buf.len()));
            }
        }
        let this = &mut *self;
        let Some((bytes, written, stands_for)) = &mut this.replacement else {
            let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
            if let Poll::Ready(Ok(n)) = polled {
                if 0 < n {
                    this.state.on_write();
                }
            }
            return polled;
        };
        while *written < bytes.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let stands_for = *stands_for;
        this.replacement = None;
        this.state.on_write();
        Poll::Ready(Ok(stands_for))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// hyper's answer to a request it could not parse is a whole head, a 4xx status and
/// `content-length: 0`, written alone; the switch's own 4xx answers always carry a body. The
/// same status with Mojaloop's error body, or `None` for anything else.
pub(super) fn rewritten_rejection(buf: &[u8]) -> Option<Vec<u8>> {
    let head_end = buf.windows(4).position(|it| it == b"\r\n\r\n")?;
    if head_end + 4 != buf.len() {
        return None;
    }
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status_text = status_line.strip_prefix("HTTP/1.1 ").or_else(|| status_line.strip_prefix("HTTP/1.0 "))?;
    let status: u16 = status_text.get(..3)?.parse().ok()?;
    if !(400..500).contains(&status) || !lines.any(|it| it.eq_ignore_ascii_case("content-length: 0")) {
        return None;
    }
    let detail = match status {
        414 => "the request line is too long".to_string(),
        431 => format!("the request head is over {HEAD_BYTES_MAX} bytes or {REQUEST_HEADERS_MAX} header fields"),
        _ => "the request is not well-formed HTTP/1.1".to_string(),
    };
    let body = FspiopError::for_http_rejection(status, &detail).to_json();
    let answer = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_client_errors_are_rewritten() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 20:00:00 GMT\r\n\r\n";
        let rewritten = String::from_utf8(rewritten_rejection(bare).unwrap()).unwrap();
        assert!(rewritten.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        let body: serde_json::Value = serde_json::from_str(rewritten.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["errorInformation"]["errorCode"], "3101");
        let large =
            rewritten_rejection(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n").unwrap();
        assert!(String::from_utf8(large).unwrap().contains("\"3104\""));

        assert_eq!(rewritten_rejection(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"), None);
        assert_eq!(rewritten_rejection(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}"), None);
        assert_eq!(rewritten_rejection(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n"), None);
        assert_eq!(rewritten_rejection(b"{\"errorInformation\":{}}"), None);
    }
}
