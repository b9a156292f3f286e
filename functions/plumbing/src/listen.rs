//! TCP listeners and the HTTP/1 serving loop of the switch and its tools (the handler, the
//! emulator's APIs and hubs endpoint), with every connection bounded.
//!
//! - **Accept queue.** Tokio's `TcpListener::bind` listens with the standard library's backlog
//!   of 128. When a peer's pool opens more connections than that at once (the load generator's
//!   256 first transfers, the Functions host stand-in forwarding them, a callback burst after a
//!   pause), the kernel drops the SYNs beyond the queue and the peer sends them again only after
//!   its one-second retransmission timeout. [`bind`] asks for [`LISTEN_BACKLOG`].
//! - **Connections.** [`serve`] holds at most [`ConnectionLimits::connections_max`] connections
//!   per listener. At the cap it closes the connection idle longest to make room, and refuses
//!   (closes) the new one when none is idle, so idle connections can neither exhaust the
//!   process's file descriptors nor lock out a client that has a request to send.
//! - **Timeouts.** A request head must arrive within [`ConnectionLimits::header_read_timeout`]
//!   of its first byte (a client trickling a header is dropped), and a connection with no request
//!   is closed after [`ConnectionLimits::idle_timeout`]; a body must arrive within
//!   [`ConnectionLimits::body_read_timeout`]. The idle timeout is longer than the idle
//!   timeout of the pooled clients that talk to these listeners (the host stand-in's, reqwest's
//!   90 s, .NET's 60 s for the Functions host), so such a client never picks a connection the
//!   server is closing.
//! - **Honest rejections.** hyper answers a request it cannot parse (bad framing, a URI that is
//!   not ASCII, a head over [`HEAD_BYTES_MAX`]) with a bare 400/414/431 before any route sees it;
//!   the connection's writer turns that answer into the same status with Mojaloop's
//!   `errorInformation` (3101, or 3104 for size), like every other 4xx of the switch.
//! - **File descriptors.** [`raise_open_files_limit`] lifts the soft limit to the hard one at
//!   start, so the caps, not the default 1,024, bound what a process holds.

mod connection;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};

use connection::ConnectionState;

/// The accept queue asked for; the kernel caps it at `net.core.somaxconn` (4,096 by default
/// since Linux 5.4).
pub const LISTEN_BACKLOG: u32 = 4096;
/// Most connections one listener holds. Four listeners of the emulator at the cap, plus its
/// pooled connections to the handler, stay well inside a hard limit of 20,000 descriptors.
pub const CONNECTIONS_PER_LISTENER_MAX: usize = 2_048;
/// How long a request head may take from its first byte.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request body may take to arrive once its head has (a body at the limit takes
/// well under a second even on a slow link); after it the route gets a read error (400, 3101).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection may stay without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest request head (request line and headers) hyper reads; more is answered 431.
pub const HEAD_BYTES_MAX: usize = 65_536;
/// How long a new connection waits, at the cap, for the idle connection closed for it.
const EVICTION_WAIT: Duration = Duration::from_millis(200);
/// After an accept error (out of descriptors, say) the loop waits this long before the next
/// accept, instead of spinning on the same error.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
const _: () = assert!(HEADER_READ_TIMEOUT.as_secs() < IDLE_TIMEOUT.as_secs());
const _: () = assert!(crate::limits::REQUEST_HEADER_BYTES_MAX < HEAD_BYTES_MAX);

/// How one listener bounds its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub connections_max: usize,
    pub header_read_timeout: Duration,
    /// How long a request's body may take to arrive, from its head.
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
}

/// The limits every listener of the switch serves with.
pub const LIMITS: ConnectionLimits = ConnectionLimits {
    connections_max: CONNECTIONS_PER_LISTENER_MAX,
    header_read_timeout: HEADER_READ_TIMEOUT,
    body_read_timeout: BODY_READ_TIMEOUT,
    idle_timeout: IDLE_TIMEOUT,
};

/// Binds `address` and listens with [`LISTEN_BACKLOG`] (address reuse on, as Tokio's own bind
/// does, so a restarted process can bind its port at once). Needs a Tokio runtime.
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Raises this process's soft limit on open files to its hard limit; the limit now in force.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit(2) writes the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit(2) reads the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}

/// Counts of what a listener did with its connections, for tests and logs.
#[derive(Debug, Default)]
pub struct ListenerCounts {
    pub accepted: AtomicU64,
    /// Closed at the cap because no connection was idle.
    pub refused: AtomicU64,
    /// Idle connections closed to make room for a new one.
    pub evicted: AtomicU64,
    pub header_timeouts: AtomicU64,
    pub idle_timeouts: AtomicU64,
    /// hyper's own bare rejections rewritten with `errorInformation`.
    pub rejections_rewritten: AtomicU64,
}

/// Serves `router` on `listener` with `limits` until the process ends.
pub async fn serve(listener: TcpListener, router: Router, limits: ConnectionLimits) {
    serve_until(listener, router, limits, Arc::default(), std::future::pending()).await;
}

/// Serves `router` on `listener` with `limits`, counting into `counts`, until `shutdown`
/// resolves; then stops accepting, lets every connection finish its request in progress, and
/// returns when all are closed.
pub async fn serve_until(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    counts: Arc<ListenerCounts>,
    shutdown: impl Future<Output = ()>,
) {
    let prepare = move |stream: TcpStream| {
        let router = router.clone();
        async move { Some((stream, router)) }
    };
    serve_prepared(listener, limits, counts, shutdown, prepare).await;
}

/// [`serve_until`] for connections that need a step of their own before HTTP (a TLS handshake):
/// `prepare` turns the accepted stream into the stream to serve and the router to serve it
/// with, or `None` to close it; it must finish within the header-read timeout.
pub async fn serve_prepared<Prepare, Prepared, Io>(
    listener: TcpListener,
    limits: ConnectionLimits,
    counts: Arc<ListenerCounts>,
    shutdown: impl Future<Output = ()>,
    prepare: Prepare,
) where
    Prepare: Fn(TcpStream) -> Prepared + Send + Sync + 'static,
    Prepared: Future<Output = Option<(Io, Router)>> + Send + 'static,
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    assert!(0 < limits.connections_max);
    let prepare = Arc::new(prepare);
    let slots = Arc::new(Semaphore::new(limits.connections_max));
    let open: Arc<Mutex<BTreeMap<u64, Arc<ConnectionState>>>> = Arc::default();
    let (stop, stopping) = watch::channel(false);
    let mut next_id: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!("accept: {err}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match make_room(&slots, &open, &counts).await {
                Some(permit) => permit,
                None => {
                    counts.refused.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, "connection refused: {} connections and none idle", limits.connections_max);
                    continue;
                }
            },
        };
        counts.accepted.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let (id, state) = (next_id, Arc::new(ConnectionState::new()));
        open.lock().expect("not poisoned").insert(id, Arc::clone(&state));
        let (prepare, open, counts, stopping) =
            (Arc::clone(&prepare), Arc::clone(&open), Arc::clone(&counts), stopping.clone());
        tokio::spawn(async move {
            if let Ok(Some((io, router))) = tokio::time::timeout(limits.header_read_timeout, prepare(stream)).await {
                connection::serve_connection(io, router, limits, &state, &counts, stopping).await;
            }
            open.lock().expect("not poisoned").remove(&id);
            drop(permit);
        });
    }
    let _ = stop.send(true);
    let all = u32::try_from(limits.connections_max).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// At the cap: asks the connection idle longest to close, and waits briefly for its slot.
async fn make_room(
    slots: &Arc<Semaphore>,
    open: &Mutex<BTreeMap<u64, Arc<ConnectionState>>>,
    counts: &ListenerCounts,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let idle = {
        let open = open.lock().expect("not poisoned");
        open.values().filter(|it| it.is_idle()).min_by_key(|it| it.last_activity_ms()).cloned()
    };
    let idle = idle?;
    idle.evict();
    counts.evicted.fetch_add(1, Ordering::Relaxed);
    tokio::time::timeout(EVICTION_WAIT, Arc::clone(slots).acquire_owned()).await.ok()?.ok()
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd as _;

    use super::*;

    /// A listening socket's `TCP_INFO` holds its accept queue's bound (`tcpi_sacked`) and how
    /// many connections wait in it (`tcpi_unacked`).
    fn accept_queue(listener: &TcpListener) -> (u32, u32) {
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let got = unsafe {
            libc::getsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut info as *mut libc::tcp_info).cast(),
                &mut len,
            )
        };
        assert_eq!(got, 0, "getsockopt(TCP_INFO): {}", std::io::Error::last_os_error());
        (info.tcpi_sacked, info.tcpi_unacked)
    }

    #[tokio::test]
    async fn the_accept_queue_holds_a_burst_beyond_the_standard_backlog() {
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn").unwrap().trim().parse().unwrap();
        let (bound, _) = accept_queue(&listener);
        assert_eq!(bound, LISTEN_BACKLOG.min(somaxconn));

        // Nothing is accepted until all have connected: with the standard backlog the 130th
        // handshake's SYN would be dropped and retried until the guard below gives up.
        let address = listener.local_addr().unwrap();
        let burst = 300;
        let connect_all = async {
            let mut streams = Vec::new();
            for _ in 0..burst {
                streams.push(tokio::net::TcpStream::connect(address).await.unwrap());
            }
            streams
        };
        let streams = tokio::time::timeout(Duration::from_secs(30), connect_all)
            .await
            .expect("every handshake completes without being dropped");
        assert_eq!(accept_queue(&listener).1, burst);
        for _ in 0..streams.len() {
            listener.accept().await.unwrap();
        }
        assert_eq!(accept_queue(&listener).1, 0);
    }

    #[test]
    fn the_open_files_limit_is_raised_to_the_hard_limit() {
        let raised = raise_open_files_limit().unwrap();
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
        assert_eq!(raised, limit.rlim_cur);
        assert_eq!(limit.rlim_cur, limit.rlim_max);
    }
}
