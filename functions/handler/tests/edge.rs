//! The FSPIOP edge over real HTTP to a recording ingestion endpoint (the local hubs protocol):
//! valid requests are published and answered 202/200, bad ones get Mojaloop's synchronous error
//! and publish nothing.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::Json;
use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use handler::envelope::{Action, Envelope};
use handler::messages::EdgeRequest;
use handler::transfers::edge::{handle_checked, EdgeResponse};
use jws::keys::PrivateKey;
use jws::sign::{SignRequest, Signer};
use plumbing::publish::local::IngestRequest;
use plumbing::publish::LocalHubsPublisher;
use support::*;

type Received = Arc<Mutex<Vec<(String, IngestRequest)>>>;

async fn ingest(
    State(received): State<Received>,
    Path(hub): Path<String>,
    Json(request): Json<IngestRequest>,
) -> axum::http::StatusCode {
    received.lock().unwrap().push((hub, request));
    axum::http::StatusCode::ACCEPTED
}

async fn start_hubs() -> (Received, LocalHubsPublisher) {
    let received = Received::default();
    let app = axum::Router::new().route("/hubs/{hub}/events", axum::routing::post(ingest)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (received, LocalHubsPublisher::new(url.parse().unwrap()).unwrap())
}

/// The edge without signature checks (`JWS_VALIDATE` unset).
async fn handle(
    publisher: &LocalHubsPublisher,
    request: &EdgeRequest,
    now: ledger_core::time::Timestamp,
) -> EdgeResponse {
    handle_checked(publisher, None, request, now).await
}

fn request(method: &str, path: &str, source: &str, body: &str) -> EdgeRequest {
    let headers = BTreeMap::from([
        ("accept".to_string(), "application/vnd.interoperability.transfers+json;version=1".to_string()),
        ("content-type".to_string(), CONTENT_TYPE.to_string()),
        ("date".to_string(), format_http_date(NOW)),
        ("fspiop-source".to_string(), source.to_string()),
    ]);
    EdgeRequest { method: method.to_string(), path: path.to_string(), headers, body: body.as_bytes().to_vec() }
}

fn post_body(id: &str) -> String {
    serde_json::json!({
        "transferId": id,
        "payerFsp": "payerfsp",
        "payeeFsp": "payeefsp",
        "amount": {"amount": "10", "currency": "USD"},
        "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25l",
        "condition": TTK_CONDITION,
        "expiration": format_fspiop_datetime(NOW.plus_ms(60_000)),
    })
    .to_string()
}

fn error_code(response: &EdgeResponse) -> String {
    let body: serde_json::Value = serde_json::from_str(response.body.as_deref().unwrap_or("{}")).unwrap();
    body["errorInformation"]["errorCode"].as_str().unwrap_or_default().to_string()
}

const ID: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";

#[tokio::test]
async fn a_valid_prepare_is_published_byte_for_byte_and_accepted() {
    let (received, publisher) = start_hubs().await;
    let body = post_body(ID);
    let response = handle(&publisher, &request("POST", "/transfers", "payerfsp", &body), NOW).await;
    assert_eq!(response, EdgeResponse { status: 202, body: None });
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "transfer-prepare");
    let event = Envelope::from_json(&received[0].1.events[0].body).unwrap();
    assert_eq!(event.payload_bytes().unwrap(), body.as_bytes());
    assert_eq!((event.id.as_str(), event.from.as_str(), event.to.as_str()), (ID, "payerfsp", "payeefsp"));
}

/// `request` with the FSPIOP-Signature, -URI and -HTTP-Method headers of `signer`'s signature.
fn signed(signer: &Signer, mut request: EdgeRequest) -> EdgeRequest {
    let date = request.headers["date"].clone();
    let signature = signer
        .sign(&SignRequest {
            method: &request.method,
            url: &request.path,
            source: "payerfsp",
            destination: None,
            date: Some(&date),
            body: &request.body,
        })
        .unwrap();
    request.headers.insert("fspiop-signature".to_string(), signature.signature);
    request.headers.insert("fspiop-uri".to_string(), signature.uri);
    request.headers.insert("fspiop-http-method".to_string(), signature.http_method);
    request
}

#[tokio::test]
async fn with_jws_validate_a_signed_request_is_accepted_and_a_tampered_or_unsigned_one_gets_3105() {
    let (received, publisher) = start_hubs().await;
    let keys = jws_keys(&[("JWS_PUB_payerfsp", jws_fixture("payerfsp.pem"))]);
    let signer = Signer::new(PrivateKey::from_pem(&jws_fixture("payerfsp-private-pkcs1.pem")).unwrap());
    let good = signed(&signer, request("POST", "/transfers", "payerfsp", &post_body(ID)));
    let response = handle_checked(&publisher, Some(&keys), &good, NOW).await;
    assert_eq!(response, EdgeResponse { status: 202, body: None });
    // The same signature over another (still valid) amount.
    let mut tampered = good.clone();
    tampered.body =
        String::from_utf8(good.body.clone()).unwrap().replace(r#""amount":"10""#, r#""amount":"11""#).into_bytes();
    assert_ne!(tampered.body, good.body);
    let unsigned = request("POST", "/transfers", "payerfsp", &post_body(ID));
    // A key for another participant does not verify payerfsp's requests.
    let mut wrong_source = signed(&signer, request("POST", "/transfers", "payerfsp", &post_body(ID)));
    wrong_source.headers.insert("fspiop-source".to_string(), "payeefsp".to_string());
    for (refused, why) in
        [(tampered, "tampered body"), (unsigned, "no signature"), (wrong_source, "source without a key")]
    {
        let response = handle_checked(&publisher, Some(&keys), &refused, NOW).await;
        assert_eq!((response.status, error_code(&response)), (400, "3105".to_string()), "{why}: {response:?}");
    }
    // A GET has no body to sign and is not checked.
    let get = request("GET", &format!("/transfers/{ID}"), "payerfsp", "");
    assert_eq!(handle_checked(&publisher, Some(&keys), &get, NOW).await.status, 202);
    assert_eq!(received.lock().unwrap().len(), 2, "only the signed POST and the GET are published");
}

#[tokio::test]
async fn answers_go_to_the_fulfil_hub_with_their_action() {
    let (received, publisher) = start_hubs().await;
    let put = serde_json::json!({"transferState": "COMMITTED", "fulfilment": TTK_FULFILMENT, "completedTimestamp": format_fspiop_datetime(NOW)});
    let error = serde_json::json!({"errorInformation": {"errorCode": "5101", "errorDescription": "Payee limit"}});
    let cases = [
        (request("PUT", &format!("/transfers/{ID}"), "payeefsp", &put.to_string()), 200, Action::Commit),
        (request("PUT", &format!("/transfers/{ID}/error"), "payeefsp", &error.to_string()), 200, Action::Abort),
        (request("GET", &format!("/transfers/{ID}"), "payerfsp", ""), 202, Action::Get),
    ];
    for (request, status, _) in &cases {
        assert_eq!(handle(&publisher, request, NOW).await.status, *status, "{} {}", request.method, request.path);
    }
    let received = received.lock().unwrap();
    let hubs: Vec<&str> = received.iter().map(|(hub, _)| hub.as_str()).collect();
    assert_eq!(hubs, ["transfer-fulfil", "transfer-fulfil", "transfer-get"]);
    for ((_, ingest), (_, _, action)) in received.iter().zip(&cases) {
        assert_eq!(Envelope::from_json(&ingest.events[0].body).unwrap().metadata.event.action, *action);
    }
}

#[tokio::test]
async fn bad_requests_get_mojaloops_synchronous_errors_and_publish_nothing() {
    let (received, publisher) = start_hubs().await;
    let mut no_date = request("POST", "/transfers", "payerfsp", &post_body(ID));
    no_date.headers.remove("date");
    let late = serde_json::json!({"transferState": "COMMITTED", "fulfilment": TTK_FULFILMENT, "completedTimestamp": format_fspiop_datetime(NOW.plus_ms(10_000))});
    let cases = [
        (no_date, 400, "3102"),
        (request("POST", "/transfers", "payerfsp", "{not json"), 400, "3101"),
        (request("PUT", &format!("/transfers/{ID}"), "payeefsp", &late.to_string()), 400, "3100"),
        (request("PATCH", &format!("/transfers/{ID}"), "payeefsp", "{}"), 501, "2002"),
        (request("DELETE", &format!("/transfers/{ID}"), "payeefsp", ""), 405, "3000"),
        (request("POST", "/quotes", "payerfsp", "{}"), 404, "3002"),
        // A blank id, as it stands in the path: an unknown URI (TTK bug fix #849), not 3100.
        (request("PUT", "/transfers/%20", "payeefsp", &late.to_string()), 404, "3002"),
        (request("PUT", "/transfers/%20%20/error", "payeefsp", "{}"), 404, "3002"),
        (request("GET", "/transfers/%20", "payerfsp", ""), 404, "3002"),
        (request("GET", "/transfers/not-an-id", "payerfsp", ""), 400, "3100"),
    ];
    for (request, status, code) in &cases {
        let response = handle(&publisher, request, NOW).await;
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (*status, *code),
            "{} {}",
            request.method,
            request.path
        );
    }
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ulid_and_uuid_v7_ids_are_taken_with_every_content_version() {
    let (received, publisher) = start_hubs().await;
    let ids = ["01HZX9JQK4RM2V8T6B3N7C5D1E", "01890f33-6e8c-7b1a-9d8e-0123456789ab"];
    for version in ["1.0", "1.1", "2.0"] {
        let content_type = format!("application/vnd.interoperability.transfers+json;version={version}");
        for id in ids {
            let mut post = request("POST", "/transfers", "payerfsp", &post_body(id));
            let mut put = request("PUT", &format!("/transfers/{id}"), "payeefsp", r#"{"transferState":"RESERVED"}"#);
            let mut get = request("GET", &format!("/transfers/{id}"), "payerfsp", "");
            for it in [&mut post, &mut put, &mut get] {
                it.headers.insert("content-type".to_string(), content_type.clone());
            }
            for (it, status) in [(post, 202), (put, 200), (get, 202)] {
                assert_eq!(handle(&publisher, &it, NOW).await.status, status, "{} {} at {version}", it.method, it.path);
            }
        }
    }
    assert_eq!(received.lock().unwrap().len(), 3 * 2 * 3);
}

#[tokio::test]
async fn a_switch_that_cannot_publish_says_so_instead_of_accepting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let publisher = LocalHubsPublisher::new(url.parse().unwrap()).unwrap();
    let response = handle(&publisher, &request("POST", "/transfers", "payerfsp", &post_body(ID)), NOW).await;
    // Unreachable hubs are a fault a retry can cure: 503, not a 500.
    assert_eq!((response.status, error_code(&response).as_str()), (503, "2003"));
}
