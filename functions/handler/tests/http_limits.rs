//! The handler's HTTP limits over real TCP: a body at the limit is accepted and its event fits
//! the hub, one byte more is 413 with 3104; malformed framing, a URL that is not UTF-8, unknown
//! paths, wrong methods and PATCH all get Mojaloop's `errorInformation`; idle connections beyond
//! the cap make room or are refused without the server failing; a client trickling its head is
//! dropped after the header-read timeout, an idle one after the idle timeout.

mod edge_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use edge_support::*;
use handler::envelope::Envelope;
use plumbing::limits::{
    base64_bytes, EVENT_TRANSPORT_BYTES_MAX, HUB_EVENT_BYTES_MAX, REQUEST_BODY_BYTES_MAX, REQUEST_HEADERS_MAX,
    REQUEST_HEADER_BYTES_MAX,
};
use plumbing::listen::{ConnectionLimits, LIMITS};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const ID: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";

/// A valid transfer padded with JSON whitespace to exactly `length` bytes.
fn padded_transfer(length: usize) -> Vec<u8> {
    let compact = transfer_body(ID, "10").to_string();
    assert!(compact.len() < length);
    let mut body = compact.into_bytes();
    let closing = body.pop().unwrap();
    body.resize(length - 1, b' ');
    body.push(closing);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_at_the_limit_is_carried_and_one_byte_more_is_413() {
    let recorder = Arc::new(Recorder::default());
    let (router, path) = app(Arc::clone(&recorder)).await;
    let (address, _) = serve(router, LIMITS).await;

    // The most headers the edge takes, each value full of bytes JSON must escape.
    let body = padded_transfer(REQUEST_BODY_BYTES_MAX);
    let mut headers = fspiop_headers("payerfsp");
    // `request_bytes` adds host, connection and content-length.
    let added = "hostswitchconnectionclosecontent-length".len() + body.len().to_string().len();
    let used: usize = headers.iter().map(|(name, value)| name.len() + value.len()).sum::<usize>() + added;
    let n_extra = REQUEST_HEADERS_MAX - headers.len() - 3;
    let per_header = (REQUEST_HEADER_BYTES_MAX - used) / n_extra;
    for n in 0..n_extra {
        let name = format!("x-pad-{n:03}");
        headers.push((name.clone(), "\"".repeat(per_header - name.len())));
    }
    let answer = exchange(address, &request_bytes("POST", b"/transfers", &headers, &body)).await;
    assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let event = &events[0].1;
    assert!(
        event.len() + EVENT_TRANSPORT_BYTES_MAX <= HUB_EVENT_BYTES_MAX,
        "the event of {} bytes fits the hub",
        event.len()
    );
    assert!(base64_bytes(body.len()) < event.len());
    assert_eq!(Envelope::from_json(event).unwrap().payload_bytes().unwrap(), body);

    let over = padded_transfer(REQUEST_BODY_BYTES_MAX + 1);
    let answer = exchange(address, &request_bytes("POST", b"/transfers", &fspiop_headers("payerfsp"), &over)).await;
    assert_eq!(answer.status, 413);
    assert_eq!(error_code(answer.status, &answer.body), "3104");
    assert_eq!(recorder.events.lock().unwrap().len(), 1, "nothing more was published");

    let mut many = fspiop_headers("payerfsp");
    many.push(("x-large".to_string(), "a".repeat(REQUEST_HEADER_BYTES_MAX)));
    let answer = exchange(address, &request_bytes("POST", b"/transfers", &many, &padded_transfer(1_000))).await;
    assert_eq!((answer.status, error_code(answer.status, &answer.body).as_str()), (431, "3104"));
    remove(path);
}

/// Sends `bytes` and returns the status and Mojaloop error code of the answer.
async fn refused(address: std::net::SocketAddr, bytes: &[u8]) -> (u16, String) {
    let answer = exchange(address, bytes).await;
    assert!(
        (400..500).contains(&answer.status) || answer.status == 501,
        "{}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    (answer.status, error_code(answer.status, &answer.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_carries_mojaloop_error_information() {
    let recorder = Arc::new(Recorder::default());
    let (router, path) = app(recorder).await;
    let (address, counts) = serve(router, LIMITS).await;
    let fspiop = fspiop_headers("payerfsp");
    let none: Vec<(String, String)> = Vec::new();
    let json = vec![("content-type".to_string(), "application/json".to_string())];

    // Malformed framing: hyper's own rejections, rewritten.
    assert_eq!(refused(address, b"GARBAGE\r\n\r\n").await, (400, "3101".to_string()));
    assert_eq!(
        refused(address, b"POST /transfers HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\nabcde")
            .await,
        (400, "3101".to_string())
    );
    assert_eq!(refused(address, b"GET /transfers/x HTTP/1.1\r\nbad header\r\n\r\n").await, (400, "3101".to_string()));
    let long_head = format!("GET /transfers/x HTTP/1.1\r\nx-long: {}\r\n\r\n", "a".repeat(70_000));
    assert_eq!(refused(address, long_head.as_bytes()).await, (431, "3104".to_string()));
    // A chunked body with a bad chunk size: the route's body read fails.
    let chunked = b"POST /transfers HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    assert_eq!(refused(address, chunked).await.1, "3101");
    assert!(0 < counts.rejections_rewritten.load(Ordering::Relaxed));

    // A URL that is not UTF-8: raw bytes (hyper refuses them) and percent-encoded (the path
    // parameter cannot be decoded).
    assert_eq!(
        refused(address, &request_bytes("GET", b"/transfers/\xff\xfe", &fspiop, b"")).await,
        (400, "3101".to_string())
    );
    assert_eq!(
        refused(address, &request_bytes("GET", b"/participants/%FF%FE", &none, b"")).await,
        (400, "3101".to_string())
    );
    assert_eq!(
        refused(address, &request_bytes("GET", b"/v2/settlementWindows/%C3%28", &none, b"")).await,
        (400, "3101".to_string())
    );

    // Unknown paths on every API the handler serves.
    for unknown in
        [&b"/quotes"[..], b"/transfers/a/b/c", b"/participants/payerfsp/unknown", b"/v2/unknown", b"/v3/settlements"]
    {
        assert_eq!(
            refused(address, &request_bytes("GET", unknown, &none, b"")).await,
            (404, "3002".to_string()),
            "{}",
            String::from_utf8_lossy(unknown)
        );
    }
    // Wrong methods.
    assert_eq!(
        refused(address, &request_bytes("DELETE", b"/participants", &none, b"")).await,
        (405, "3000".to_string())
    );
    assert_eq!(
        refused(address, &request_bytes("DELETE", b"/transfers/x", &fspiop, b"")).await,
        (405, "3000".to_string())
    );
    assert_eq!(
        refused(address, &request_bytes("PATCH", b"/v2/settlementWindows/1", &json, b"{}")).await,
        (405, "3000".to_string())
    );
    // PATCH is the one 5xx: the switch only sends it.
    assert_eq!(
        refused(address, &request_bytes("PATCH", format!("/transfers/{ID}").as_bytes(), &fspiop, b"{}")).await,
        (501, "2002".to_string())
    );
    // Bad JSON on the operator APIs.
    assert_eq!(refused(address, &request_bytes("POST", b"/participants", &json, b"{\"name\":")).await.0, 400);
    assert_eq!(refused(address, &request_bytes("POST", b"/v2/settlements", &json, b"\xff\xfe")).await.0, 400);
    remove(path);
}

/// Small limits, so the test opens a handful of connections and waits a few seconds.
const SMALL: ConnectionLimits = ConnectionLimits {
    connections_max: 8,
    header_read_timeout: Duration::from_secs(1),
    body_read_timeout: Duration::from_secs(1),
    idle_timeout: Duration::from_secs(3),
};

/// Whether the server has closed `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(tokio::time::timeout(within, stream.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
}

async fn ready(address: std::net::SocketAddr) -> u16 {
    exchange(address, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_beyond_the_cap_make_room_and_the_server_keeps_serving() {
    let (router, path) = app(Arc::new(Recorder::default())).await;
    let (address, counts) = serve(router, SMALL).await;
    let mut idle = Vec::new();
    for _ in 0..3 * SMALL.connections_max {
        idle.push(TcpStream::connect(address).await.unwrap());
    }
    // Every connection beyond the cap closed an idle one to make room; a request gets through.
    assert_eq!(ready(address).await, 200);
    assert!(counts.evicted.load(Ordering::Relaxed) as usize >= 2 * SMALL.connections_max);
    let mut n_closed = 0;
    for stream in &mut idle {
        n_closed += usize::from(closed_within(stream, Duration::from_millis(50)).await);
    }
    assert!(2 * SMALL.connections_max <= n_closed, "{n_closed} idle connections were closed");

    // Connections that are all in the middle of a head are not idle: a new one is refused.
    let mut busy = Vec::new();
    for _ in 0..SMALL.connections_max {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        busy.push(stream);
        // Read by the server before the next connection looks for an idle one to close.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut refused = TcpStream::connect(address).await.unwrap();
    assert!(closed_within(&mut refused, Duration::from_secs(5)).await, "refused at the cap");
    assert!(0 < counts.refused.load(Ordering::Relaxed));
    // Their heads time out, and the server serves again.
    for stream in &mut busy {
        assert!(closed_within(stream, SMALL.header_read_timeout * 5).await);
    }
    assert_eq!(ready(address).await, 200);
    remove(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_head_is_dropped_after_the_header_read_timeout_and_an_idle_connection_after_the_idle_timeout() {
    let (router, path) = app(Arc::new(Recorder::default())).await;
    let (address, counts) = serve(router, SMALL).await;

    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    // Still trickling, within the timeout: the head's clock does not restart with each byte.
    tokio::time::sleep(SMALL.header_read_timeout / 2).await;
    let _ = slow.write_all(b"x-slow: 1\r\n").await;
    assert!(closed_within(&mut slow, SMALL.header_read_timeout * 3).await);
    assert_eq!(counts.header_timeouts.load(Ordering::Relaxed), 1);

    // A kept-alive connection answers, then is closed once idle for the idle timeout (and not
    // after the shorter header-read timeout).
    let mut kept = TcpStream::connect(address).await.unwrap();
    kept.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut answer = [0u8; 256];
    let n = kept.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    assert!(!closed_within(&mut kept, SMALL.header_read_timeout * 2).await, "still open after the header-read timeout");
    assert!(closed_within(&mut kept, SMALL.idle_timeout * 3).await, "closed after the idle timeout");
    assert_eq!(counts.idle_timeouts.load(Ordering::Relaxed), 1);
    assert_eq!(ready(address).await, 200);

    // A body that never arrives in full: the route's read fails after the body-read timeout.
    let mut cut = TcpStream::connect(address).await.unwrap();
    cut.write_all(&request_bytes("POST", b"/transfers", &fspiop_headers("payerfsp"), b"{}")[..]).await.unwrap();
    let mut short = TcpStream::connect(address).await.unwrap();
    let whole = request_bytes("POST", b"/transfers", &fspiop_headers("payerfsp"), &[b' '; 100]);
    short.write_all(&whole[..whole.len() - 10]).await.unwrap();
    let answer =
        tokio::time::timeout(SMALL.body_read_timeout * 5, read_answer(&mut short)).await.expect("answered in time");
    let answer = parse_answer(&answer);
    assert_eq!((answer.status, error_code(answer.status, &answer.body).as_str()), (400, "3101"));
    let answer = parse_answer(&read_answer(&mut cut).await);
    assert_eq!(answer.status, 400, "the whole body was there: refused for its content");
    remove(path);
}
