//! What the HTTP-limit and fuzz tests share: the handler's router on a real SQLite store with a
//! recording publisher, served by `listen` with chosen limits, a raw HTTP/1.1 client (so
//! malformed requests can be sent at all), and the check that an answer is honest.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use handler::app::router;
use handler::state::App;
use handler::transfers::notification::{NotificationConfig, Notifier};
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, SqliteStore};
use plumbing::listen::{ConnectionLimits, ListenerCounts};
use plumbing::publish::{Hub, OutgoingEvent, PublishError, Publisher};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

pub const NOW: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
pub const CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";
pub const CONTENT_TYPE: &str = "application/vnd.interoperability.transfers+json;version=1.1";
pub const ACCEPT: &str = "application/vnd.interoperability.transfers+json;version=1";
/// How long a raw exchange may take before the test fails.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Keeps every published event; refuses nothing.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<(Hub, String)>>,
    /// Only counted, not kept (the fuzz publishes hundreds of thousands).
    pub forget: bool,
    pub count: Mutex<usize>,
}

#[async_trait]
impl Publisher for Recorder {
    async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError> {
        *self.count.lock().unwrap() += events.len();
        if !self.forget {
            self.events.lock().unwrap().extend(events.into_iter().map(|it| (hub, it.body)));
        }
        Ok(())
    }
}

fn fixed_now() -> Timestamp {
    NOW
}

/// The handler's router over a fresh SQLite ledger, publishing into `recorder`, journaling
/// every request the edge answers into a SQLite journal beside the ledger, as deployed.
pub async fn app(recorder: Arc<Recorder>) -> (axum::Router, PathBuf) {
    let path = fresh_path();
    let journal = journal::sqlite::SqliteJournal::open(&journal_path(&path)).await.unwrap();
    let (router, _) = app_with_journal(recorder, &path, Arc::new(journal)).await;
    (router, path)
}

/// A fresh ledger path; its journal, when there is one, is at [`journal_path`].
pub fn fresh_path() -> PathBuf {
    // Memory-backed when the machine has it: the fuzz journals every FSPIOP request it sends,
    // and the point is the edge, not the disk's sync latency.
    let shm = PathBuf::from("/dev/shm");
    let dir = if shm.is_dir() { shm } else { std::env::temp_dir() };
    dir.join(format!("edge-limits-{}.db", uuid::Uuid::new_v4()))
}

/// Where the journal of the ledger at `path` lives ([`remove`] removes both).
pub fn journal_path(path: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("{}.journal", path.display()))
}

/// The handler's router over a fresh SQLite ledger at `path`, with `journal`; also the store.
pub async fn app_with_journal(
    recorder: Arc<Recorder>,
    path: &std::path::Path,
    journal: Arc<dyn journal::Journal>,
) -> (axum::Router, Arc<dyn LedgerStore>) {
    let store: Arc<dyn LedgerStore> = Arc::new(SqliteStore::open(path).await.unwrap());
    let app = App {
        store: Arc::clone(&store),
        publisher: recorder,
        notifier: Notifier::new(notification_config()).unwrap(),
        rules: PrepareRules { on_us_transfers_allowed: false },
        now: fixed_now,
        journal: Some(journal),
        signature_keys: None,
    };
    (router(app), store)
}

pub fn notification_config() -> NotificationConfig {
    NotificationConfig {
        confirm_to_payee: true,
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: Duration::from_millis(5),
    }
}

/// Serves `router` with `limits` on a loopback port.
pub async fn serve(router: axum::Router, limits: ConnectionLimits) -> (SocketAddr, Arc<ListenerCounts>) {
    let listener = plumbing::listen::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    let address = listener.local_addr().unwrap();
    let counts = Arc::new(ListenerCounts::default());
    tokio::spawn(plumbing::listen::serve_until(listener, router, limits, Arc::clone(&counts), std::future::pending()));
    (address, counts)
}

/// The FSPIOP headers of a valid request from `source`.
pub fn fspiop_headers(source: &str) -> Vec<(String, String)> {
    vec![
        ("accept".to_string(), ACCEPT.to_string()),
        ("content-type".to_string(), CONTENT_TYPE.to_string()),
        ("date".to_string(), format_http_date(NOW)),
        ("fspiop-source".to_string(), source.to_string()),
    ]
}

/// A valid `POST /transfers` body.
pub fn transfer_body(id: &str, amount: &str) -> serde_json::Value {
    serde_json::json!({
        "transferId": id,
        "payerFsp": "payerfsp",
        "payeeFsp": "payeefsp",
        "amount": {"amount": amount, "currency": "USD"},
        "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25l",
        "condition": CONDITION,
        "expiration": format_fspiop_datetime(NOW.plus_ms(60_000)),
    })
}

/// A request as bytes on the wire, with `content-length` and `connection: close`.
pub fn request_bytes(method: &str, path: &[u8], headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(body.len() + 512);
    bytes.extend_from_slice(method.as_bytes());
    bytes.push(b' ');
    bytes.extend_from_slice(path);
    bytes.extend_from_slice(b" HTTP/1.1\r\nhost: switch\r\nconnection: close\r\n");
    for (name, value) in headers {
        bytes.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// What came back: status, lower-cased headers, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Writes `bytes` on a new connection and reads the answer until the server closes it.
pub async fn exchange(address: SocketAddr, bytes: &[u8]) -> Answer {
    let work = async {
        let mut stream = TcpStream::connect(address).await.unwrap();
        // The server may answer and close before it has read everything (a body over the
        // limit); what it answered is still there to read.
        let _ = stream.write_all(bytes).await;
        parse_answer(&read_answer(&mut stream).await)
    };
    tokio::time::timeout(EXCHANGE_TIMEOUT, work).await.expect("an answer in time")
}

/// Reads until the server closes, or a whole content-length framed answer is in.
pub async fn read_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
        if is_whole(&answer) {
            break;
        }
    }
    answer
}

fn is_whole(bytes: &[u8]) -> bool {
    let Some(head_end) = bytes.windows(4).position(|it| it == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let length =
        head.lines().find_map(|it| it.strip_prefix("content-length:")).and_then(|it| it.trim().parse::<usize>().ok());
    length.is_some_and(|length| head_end + 4 + length <= bytes.len())
}

/// Parses one HTTP/1.1 answer (content-length framed, as the switch frames them).
pub fn parse_answer(bytes: &[u8]) -> Answer {
    let head_end = bytes
        .windows(4)
        .position(|it| it == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no answer head in {:?}", String::from_utf8_lossy(bytes)));
    let head = std::str::from_utf8(&bytes[..head_end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|it| it.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let mut body = bytes[head_end + 4..].to_vec();
    if let Some(length) = headers.get("content-length").and_then(|it| it.parse::<usize>().ok()) {
        body.truncate(length);
    }
    Answer { status, headers, body }
}

/// The Mojaloop error code of a 4xx answer; panics (the test fails) when the body is not
/// `{errorInformation: {errorCode, errorDescription}}`.
pub fn error_code(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let value: serde_json::Value =
        serde_json::from_slice(body).unwrap_or_else(|err| panic!("{status} without a JSON body ({err}): {text}"));
    let information = &value["errorInformation"];
    let code = information["errorCode"].as_str().unwrap_or_else(|| panic!("{status} without errorCode: {text}"));
    assert!(code.len() == 4 && code.bytes().all(|it| it.is_ascii_digit()), "{status}: errorCode {code}");
    let description =
        information["errorDescription"].as_str().unwrap_or_else(|| panic!("{status} without errorDescription: {text}"));
    assert!(!description.is_empty());
    code.to_string()
}

pub fn remove(path: PathBuf) {
    for suffix in ["", "-wal", "-shm", ".journal", ".journal-wal", ".journal-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
