//! A bounded fuzz of the edge: generated requests (methods, paths, headers, bodies, near-valid
//! FSPIOP transfers, operator API calls) against the handler's router, the bulk in-process and
//! a share over real TCP (where framing can be broken too), each answer checked: never a 5xx
//! except 501 for PATCH, never a panic, and Mojaloop's `errorInformation` (errorCode and
//! errorDescription) on every 4xx.
//!
//! `EDGE_FUZZ_INPUTS` sets the number of inputs (default 100,000) and `EDGE_FUZZ_SEED` the seed
//! (default fixed, so a failure replays); the counts by status are printed at the end.

mod edge_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use edge_support::*;
use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use plumbing::limits::REQUEST_BODY_BYTES_MAX;
use plumbing::listen::LIMITS;
use tower::ServiceExt as _;

const INPUTS_DEFAULT: usize = 100_000;
const SEED_DEFAULT: u64 = 0x5eed_ed9e_f022_2026;
/// Inputs answered side by side.
const IN_FLIGHT_MAX: usize = 16;
/// One input in this many goes over real TCP.
const REAL_HTTP_EVERY: usize = 50;

/// splitmix64: small, fast, and the same sequence everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn bytes_up_to(&mut self, n: usize) -> Vec<u8> {
        let n = 1 + self.below(n);
        self.bytes(n)
    }

    fn text_up_to(&mut self, n: usize) -> String {
        let n = self.below(n);
        self.text(n)
    }

    /// Text from an alphabet with the characters that break parsers.
    fn text(&mut self, n: usize) -> String {
        const ALPHABET: &[&str] = &[
            "a", "Z", "0", "9", "-", "_", ".", "/", "%", "%FF", "%00", "{", "}", "\"", "\\", " ", "é", "€", "😀", ";",
            "=", ",", "+", "?", "#",
        ];
        (0..n).map(|_| self.pick(ALPHABET)).collect()
    }
}

/// An input sent over TCP: its bytes, and whether its framing is broken on purpose.
type Wire = (Vec<u8>, bool);

/// One generated request.
struct Input {
    method: String,
    path: Vec<u8>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn transfer_id(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => "01HZX9JQK4RM2V8T6B3N7C5D1E".to_string(),
        1 => rng.text_up_to(40),
        2 => "%20".to_string(),
        _ => {
            let bytes: [u8; 16] = rng.bytes(16).try_into().unwrap();
            uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
        }
    }
}

fn path(rng: &mut Rng) -> Vec<u8> {
    let id = transfer_id(rng);
    let text = match rng.below(20) {
        0..=4 => "/transfers".to_string(),
        5..=8 => format!("/transfers/{id}"),
        9..=10 => format!("/transfers/{id}/error"),
        11 => format!("/transfers/{id}/{}", rng.text(5)),
        12 => rng
            .pick(&[
                "/participants",
                "/participants/payerfsp",
                "/participants/limits",
                "/enums",
                "/settlementModels",
                "/health",
            ])
            .to_string(),
        13 => format!(
            "/participants/{}/{}",
            rng.text(6),
            rng.pick(&["endpoints", "limits", "positions", "accounts", "initialPositionAndLimits", "x"])
        ),
        14 => format!(
            "/v2/{}",
            rng.pick(&[
                "settlementWindows",
                "settlementWindows/1",
                "settlements",
                "settlements/1",
                "settlements/x/participants/1"
            ])
        ),
        15 => format!("/journal/{id}"),
        16 => format!("/{}", rng.text_up_to(30)),
        17 => format!("/transfers?{}", rng.text(10)),
        18 => return [b"/transfers/".to_vec(), rng.bytes_up_to(8)].concat(),
        _ => format!(
            "/{}",
            rng.pick(&["quotes", "parties/MSISDN/1", "fxTransfers", "prepare", "position", "", "transfers//"])
        ),
    };
    text.into_bytes()
}

fn headers(rng: &mut Rng) -> Vec<(String, String)> {
    let mut headers = fspiop_headers(rng.pick(&["payerfsp", "payeefsp", "Hub", "unknownfsp", "", "a b"]));
    if rng.chance(30) {
        let drop = rng.below(headers.len());
        headers.remove(drop);
    }
    for _ in 0..rng.below(3) {
        let n = rng.below(headers.len().max(1));
        if let Some(header) = headers.get_mut(n) {
            header.1 = match rng.below(8) {
                0 => String::new(),
                1 => rng.text_up_to(60),
                2 => "application/vnd.interoperability.transfers+json;version=9.9".to_string(),
                3 => "application/json".to_string(),
                4 => "Thu, 01 Jan 1970 00:00:00 GMT".to_string(),
                5 => format_http_date(NOW.plus_ms(rng.next() as i64 % 1_000_000_000)),
                6 => "application/vnd.interoperability.transfers+json;version=1.0".to_string(),
                _ => "a".repeat(rng.below(2_000)),
            };
        }
    }
    if rng.chance(10) {
        headers.push((
            rng.pick(&["fspiop-destination", "fspiop-signature", "fspiop-proxy", "x-forwarded-for", "expect"])
                .to_string(),
            rng.text_up_to(20),
        ));
    }
    if rng.chance(2) {
        headers.push(("x-large".to_string(), "b".repeat(16_384)));
    }
    headers
}

/// A transfer whose fields are mutated: amounts Mojaloop's pattern allows and does not, wrong
/// types, missing and extra fields.
fn near_valid_transfer(rng: &mut Rng) -> Vec<u8> {
    let amount = rng.pick(&[
        "10",
        "0",
        "-1",
        "100000000000000",
        "999999999999999999",
        "9999999999999999999",
        "1.2345",
        "1.23456",
        "01",
        "1e3",
        " 1",
        "",
        "12345678901234567890.1234",
    ]);
    let mut body = transfer_body(&transfer_id(rng), amount);
    for _ in 0..rng.below(3) {
        let field = rng.pick(&[
            "transferId",
            "payerFsp",
            "payeeFsp",
            "amount",
            "ilpPacket",
            "condition",
            "expiration",
            "extensionList",
            "currency",
        ]);
        let value = match rng.below(8) {
            0 => serde_json::Value::Null,
            1 => serde_json::json!(rng.next() as i64),
            2 => serde_json::json!(rng.text_up_to(50)),
            3 => serde_json::json!({"extension": [{"key": rng.text(5), "value": rng.text(10)}]}),
            4 => serde_json::json!([]),
            5 => serde_json::json!(format_fspiop_datetime(NOW.plus_ms(rng.next() as i64 % 10_000_000))),
            6 => {
                serde_json::json!({"amount": rng.text(6), "currency": rng.pick(&["USD", "XXX", "usd", "EURO", ""])})
            }
            _ => {
                body.as_object_mut().unwrap().remove(field);
                continue;
            }
        };
        body[field] = value;
    }
    body.to_string().into_bytes()
}

fn body(rng: &mut Rng) -> Vec<u8> {
    match rng.below(20) {
        0..=7 => near_valid_transfer(rng),
        8 => serde_json::json!({"transferState": rng.pick(&["COMMITTED", "RESERVED", "ABORTED", "x"]), "fulfilment": rng.text(43), "completedTimestamp": format_fspiop_datetime(NOW)}).to_string().into_bytes(),
        9 => serde_json::json!({"errorInformation": {"errorCode": rng.pick(&["5101", "3100", "0000", "abc"]), "errorDescription": rng.text(20)}}).to_string().into_bytes(),
        10 => serde_json::json!({"name": rng.text(8), "currency": rng.pick(&["USD", "XXX", "x"])}).to_string().into_bytes(),
        11 => serde_json::json!({"state": rng.text(6), "reason": rng.text(6)}).to_string().into_bytes(),
        12 => rng.bytes_up_to(300),
        13 => {
            let mut cut = near_valid_transfer(rng);
            cut.truncate(rng.below(cut.len()));
            cut
        }
        14 => Vec::new(),
        15 if rng.chance(5) => vec![b' '; REQUEST_BODY_BYTES_MAX + 1 + rng.below(100)],
        _ => rng.text_up_to(200).into_bytes(),
    }
}

fn input(rng: &mut Rng) -> Input {
    let path = path(rng);
    // Mostly the method the path is served with, so requests get past routing.
    let fitting = match (path.starts_with(b"/transfers/"), path.ends_with(b"/error"), path.starts_with(b"/transfers")) {
        (_, true, _) => "PUT",
        (true, false, _) => rng.pick(&["PUT", "GET"]),
        (false, false, true) => "POST",
        _ => rng.pick(&["GET", "POST", "PUT"]),
    };
    let method = match rng.chance(70) {
        true => fitting,
        false => rng.pick(&["POST", "PUT", "GET", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO"]),
    };
    Input { method: method.to_string(), path, headers: headers(rng), body: body(rng) }
}

/// Broken framing, for the real-TCP share only.
fn broken_framing(rng: &mut Rng, input: &Input) -> Vec<u8> {
    let whole = request_bytes(&input.method, &input.path, &input.headers, &input.body);
    match rng.below(6) {
        0 => rng.bytes_up_to(200),
        1 => [b"POST /transfers HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd".to_vec()].concat(),
        2 => [
            b"POST /transfers HTTP/1.1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec(),
            rng.bytes(20),
        ]
        .concat(),
        3 => whole.iter().map(|it| if *it == b'\n' && rng.chance(20) { b'X' } else { *it }).collect(),
        4 => [b"GET /transfers HTTP/9.9\r\n\r\n".to_vec()].concat(),
        _ => {
            // The body shorter than its content-length: the server sees EOF mid-body.
            let mut cut = whole;
            cut.truncate(cut.len().saturating_sub(1 + rng.below(10)));
            cut
        }
    }
}

#[derive(Default)]
struct Tally {
    inputs: usize,
    real_http: usize,
    by_status: BTreeMap<u16, usize>,
}

/// The fuzz's one rule for every answer.
fn check(tally: &mut Tally, method: &str, status: u16, body: &[u8], described: impl Fn() -> String) {
    *tally.by_status.entry(status).or_default() += 1;
    assert!(
        status < 500 || (status == 501 && method == "PATCH"),
        "{status} for {}: {}",
        described(),
        String::from_utf8_lossy(body)
    );
    if (400..500).contains(&status) && method != "HEAD" {
        let _ = error_code(status, body);
    }
}

fn percent_encoded(path: &[u8]) -> String {
    path.iter()
        .map(|it| match it {
            b'/' | b'-' | b'_' | b'.' | b'~' | b'?' | b'=' | b'&' => (*it as char).to_string(),
            it if it.is_ascii_alphanumeric() => (*it as char).to_string(),
            it => format!("%{it:02X}"),
        })
        .collect()
}

async fn in_process(router: &axum::Router, input: &Input) -> (u16, Vec<u8>) {
    let path = String::from_utf8_lossy(&input.path).into_owned();
    let mut request = Request::builder().method(input.method.as_str());
    // Bytes no URI holds never reach a route (hyper refuses them; the TCP share sends them):
    // in-process they are sent percent-encoded.
    request = match path.parse::<axum::http::Uri>() {
        Ok(uri) => request.uri(uri),
        Err(_) => request.uri(percent_encoded(&input.path)),
    };
    for (name, value) in &input.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = match request.body(Body::from(input.body.clone())) {
        Ok(request) => request,
        Err(_) => Request::builder().method("GET").uri("/").body(Body::empty()).unwrap(),
    };
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, body.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_answers_every_input_honestly() {
    let inputs: usize = std::env::var("EDGE_FUZZ_INPUTS").ok().and_then(|it| it.parse().ok()).unwrap_or(INPUTS_DEFAULT);
    let seed: u64 = std::env::var("EDGE_FUZZ_SEED").ok().and_then(|it| it.parse().ok()).unwrap_or(SEED_DEFAULT);
    assert!(INPUTS_DEFAULT <= inputs || std::env::var("EDGE_FUZZ_INPUTS").is_ok());
    let recorder = Arc::new(Recorder { forget: true, ..Recorder::default() });
    let (router, path) = app(Arc::clone(&recorder)).await;
    let (address, _) = serve(router.clone(), LIMITS).await;
    let mut rng = Rng(seed);
    let mut tally = Tally::default();
    let mut n = 0;
    while n < inputs {
        // Generated in order (a seed replays them), answered side by side.
        let chunk: Vec<(usize, Input, Option<Wire>)> = (n..inputs.min(n + IN_FLIGHT_MAX))
            .map(|n| {
                let input = input(&mut rng);
                let wire = (n % REAL_HTTP_EVERY == 0).then(|| {
                    let broken = rng.chance(30);
                    let bytes = match broken {
                        true => broken_framing(&mut rng, &input),
                        false => request_bytes(&input.method, &input.path, &input.headers, &input.body),
                    };
                    (bytes, broken)
                });
                (n, input, wire)
            })
            .collect();
        let answers = futures::future::join_all(chunk.iter().map(|(_, input, wire)| async {
            match wire {
                Some((bytes, broken)) => over_tcp(address, bytes, *broken).await,
                None => Some(in_process(&router, input).await),
            }
        }))
        .await;
        for ((n, input, wire), answer) in chunk.iter().zip(answers) {
            let described = || format!("input {n} {} {}", input.method, String::from_utf8_lossy(&input.path));
            tally.real_http += usize::from(wire.is_some());
            match answer {
                Some((status, body)) => check(&mut tally, &input.method, status, &body, described),
                // Only bytes that are not HTTP may go unanswered (the server closes on them).
                None => {
                    assert!(wire.as_ref().is_some_and(|it| it.1), "no answer to {}", described());
                    *tally.by_status.entry(0).or_default() += 1;
                }
            }
            tally.inputs += 1;
        }
        n += chunk.len();
    }
    let published = *recorder.count.lock().unwrap();
    eprintln!(
        "edge fuzz: seed {seed}, {} inputs ({} over TCP), {published} published, answers by status: {:?}",
        tally.inputs, tally.real_http, tally.by_status
    );
    assert_eq!(tally.inputs, inputs);
    // The generator reaches the accepted paths too, not only refusals.
    assert!(0 < tally.by_status.get(&202).copied().unwrap_or(0));
    assert!(0 < published);
    remove(path);
}

/// One exchange over TCP; `None` when the server closed the connection without an answer.
async fn over_tcp(address: SocketAddr, bytes: &[u8], broken: bool) -> Option<(u16, Vec<u8>)> {
    use tokio::io::AsyncWriteExt as _;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let _ = stream.write_all(bytes).await;
    if broken {
        // The end of what the client sends, so a request cut short is not waited for; the
        // server may then close without answering (allowed for broken framing only).
        let _ = stream.shutdown().await;
    }
    let answer = tokio::time::timeout(LIMITS.header_read_timeout * 3, read_answer(&mut stream))
        .await
        .expect("an answer or a close in time");
    if answer.is_empty() {
        return None;
    }
    let answer = parse_answer(&answer);
    Some((answer.status, answer.body))
}
