//! The HTTP limits end to end, through the APIM stand-in, the host stand-in and the handler, on
//! SQLite and on MariaDB: a body at the limit is carried by the hubs to a committed transfer and
//! one byte more is 413 with 3104; unknown paths, wrong methods, PATCH, a URL that is not UTF-8,
//! malformed framing and bad JSON get Mojaloop's `errorInformation` on every port; idle
//! connections beyond the cap do not stop the switch from serving.

mod support;

use std::time::Duration;

use fspiop::datetime::format_http_date;
use local_emulator::simulator::Received;
use plumbing::limits::REQUEST_BODY_BYTES_MAX;
use plumbing::listen::CONNECTIONS_PER_LISTENER_MAX;
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CONTENT_TYPE: &str = "application/vnd.interoperability.transfers+json;version=1.1";
const ACCEPT: &str = "application/vnd.interoperability.transfers+json;version=1";

fn error_code(body: &serde_json::Value) -> String {
    let information = &body["errorInformation"];
    assert!(information["errorDescription"].as_str().is_some_and(|it| !it.is_empty()), "{body}");
    information["errorCode"].as_str().unwrap_or_else(|| panic!("no errorCode: {body}")).to_string()
}

/// Sends and returns the status and the Mojaloop error code.
async fn refused(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{status} without a JSON body ({err}): {text}"));
    (status, error_code(&body))
}

fn padded(body: &serde_json::Value, length: usize) -> Vec<u8> {
    let mut bytes = body.to_string().into_bytes();
    let closing = bytes.pop().unwrap();
    bytes.resize(length - 1, b' ');
    bytes.push(closing);
    bytes
}

async fn a_body_at_the_limit_is_carried_end_to_end_and_one_byte_more_is_413(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        client
            .post(format!("{}/transfers", switch.emulator.fspiop_url()))
            .header("accept", ACCEPT)
            .header("content-type", CONTENT_TYPE)
            .header("date", format_http_date(now()))
            .header("fspiop-source", PAYER)
            .header("fspiop-destination", PAYEE)
            .body(body)
    };
    let id = uuid::Uuid::new_v4().to_string();
    let body = sims.prepare_body(&id, PAYER, PAYEE, "10", "USD");
    let response = post(padded(&body, REQUEST_BODY_BYTES_MAX)).send().await.unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let committed = |received: &[Received]| {
        received.iter().any(|it| it.fsp == PAYER && it.method == "PUT" && it.path == format!("/transfers/{id}"))
    };
    assert!(sims.wait_until(CALLBACK_WAIT, committed).await, "callbacks: {:#?}", sims.received());
    assert_eq!(switch.position(&payer).await, "10.0000");
    let forwarded = sims
        .received()
        .into_iter()
        .find(|it| it.fsp == PAYEE && it.method == "POST")
        .expect("the payee got the prepare");
    assert_eq!(forwarded.body["transferId"], id.as_str());

    let other = uuid::Uuid::new_v4().to_string();
    let over = padded(&sims.prepare_body(&other, PAYER, PAYEE, "10", "USD"), REQUEST_BODY_BYTES_MAX + 1);
    assert_eq!(refused(post(over)).await, (413, "3104".to_string()));
    assert_eq!(switch.emulator.counters.abandoned_batches.load(std::sync::atomic::Ordering::Relaxed), 0);
    switch.finish().await;
}

/// Raw bytes to `address`; the answer's status and body.
async fn raw(address: std::net::SocketAddr, bytes: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer: {text:?}"));
    (head[9..12].parse().unwrap(), serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {text}")))
}

async fn every_refusal_on_every_port_carries_mojaloop_error_information(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let client = reqwest::Client::new();
    let (fspiop, admin, settlement) =
        (switch.emulator.fspiop_url(), switch.emulator.admin_url(), switch.emulator.settlement_url());
    let keyed = |request: reqwest::RequestBuilder| request.header("ocp-apim-subscription-key", OPERATOR_KEY);
    let id = uuid::Uuid::new_v4();

    for base in [&fspiop, &admin, &settlement] {
        assert_eq!(
            refused(keyed(client.get(format!("{base}/unknown/path")))).await,
            (404, "3002".to_string()),
            "{base}"
        );
    }
    assert_eq!(
        refused(client.get(format!("{fspiop}/participants"))).await,
        (404, "3002".to_string()),
        "operator paths are not on the FSPIOP port"
    );
    assert_eq!(refused(client.delete(format!("{fspiop}/transfers/{id}"))).await, (405, "3000".to_string()));
    assert_eq!(refused(keyed(client.delete(format!("{admin}/participants")))).await, (405, "3000".to_string()));
    assert_eq!(refused(keyed(client.delete(format!("{settlement}/settlements")))).await, (405, "3000".to_string()));
    let patch = client
        .patch(format!("{fspiop}/transfers/{id}"))
        .header("content-type", CONTENT_TYPE)
        .header("date", format_http_date(now()))
        .header("fspiop-source", PAYER);
    assert_eq!(refused(patch.body("{}")).await, (501, "2002".to_string()));
    assert_eq!(refused(client.get(format!("{admin}/participants"))).await, (401, "3000".to_string()));
    let bad_json = keyed(client.post(format!("{admin}/participants")))
        .header("content-type", "application/json")
        .body("{\"name\":");
    assert_eq!(refused(bad_json).await.0, 400);
    assert_eq!(
        refused(keyed(client.get(format!("{settlement}/settlementWindows/%FF%FE")))).await,
        (400, "3101".to_string())
    );

    // What hyper refuses before any route: the emulator's listener gives it the error body.
    let address = switch.emulator.fspiop;
    let (status, body) = raw(address, b"GET /transfers/\xff\xfe HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "3101"));
    let (status, body) =
        raw(address, b"POST /transfers HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "3101"));
    let (status, body) = raw(address, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "3101"));
    switch.finish().await;
}

async fn idle_connections_beyond_the_cap_leave_the_switch_serving(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let mut idle = Vec::new();
    for _ in 0..CONNECTIONS_PER_LISTENER_MAX + 500 {
        idle.push(tokio::net::TcpStream::connect(switch.emulator.fspiop).await.unwrap());
    }
    let client = reqwest::Client::new();
    let health = client.get(format!("{}/health", switch.emulator.fspiop_url())).send().await.unwrap();
    assert_eq!(health.status(), 200);
    drop(idle);
    let health = client.get(format!("{}/health", switch.emulator.fspiop_url())).send().await.unwrap();
    assert_eq!(health.status(), 200);
    switch.finish().await;
}

on_both_backends!(
    a_body_at_the_limit_is_carried_end_to_end_and_one_byte_more_is_413,
    every_refusal_on_every_port_carries_mojaloop_error_information,
    idle_connections_beyond_the_cap_leave_the_switch_serving,
);
