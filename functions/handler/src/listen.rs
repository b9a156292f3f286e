//! TCP listeners with an accept queue deep enough for a connection pool's burst.
//!
//! Tokio's `TcpListener::bind` listens with the standard library's backlog of 128. When a peer's
//! pool opens more connections than that at once (the load generator's 256 first transfers, the
//! Functions host stand-in forwarding them, a callback burst after a pause), the kernel drops
//! the SYNs beyond the queue and the peer sends them again only after its one-second
//! retransmission timeout: a one-second stall for every request waiting on those connections.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};

/// The accept queue asked for; the kernel caps it at `net.core.somaxconn` (4,096 by default
/// since Linux 5.4).
pub const LISTEN_BACKLOG: u32 = 4096;

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

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd as _;
    use std::time::Duration;

    use super::*;

    /// A listening socket's `TCP_INFO` holds its accept queue's bound (`tcpi_sacked`) and how
    /// many connections wait in it (`tcpi_unacked`).
    fn accept_queue(listener: &TcpListener) -> (u32, u32) {
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let got = unsafe { libc::getsockopt(listener.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_INFO, (&mut info as *mut libc::tcp_info).cast(), &mut len) };
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
        let streams = tokio::time::timeout(Duration::from_secs(30), connect_all).await.expect("every handshake completes without being dropped");
        assert_eq!(accept_queue(&listener).1, burst);
        for _ in 0..streams.len() {
            listener.accept().await.unwrap();
        }
        assert_eq!(accept_queue(&listener).1, 0);
    }
}
