//! The FSPIOP listener over mutual TLS, with certificates made by the openssl CLI for the test: a
//! DFSP's certificate lets it send as itself, not as another DFSP; no certificate gets 403 3100; a
//! certificate from another CA does not get through the handshake.

mod support;

use local_emulator::mtls::MtlsFiles;
use support::certs::{client, issue};
use support::*;

async fn post_as(
    client: &reqwest::Client,
    url: &str,
    source: &str,
    body: &serde_json::Value,
) -> Result<(u16, serde_json::Value), reqwest::Error> {
    let content_type = local_emulator::simulator::CONTENT_TYPE_V1_1;
    let response = client
        .post(format!("{url}/transfers"))
        .header("accept", content_type)
        .header("content-type", content_type)
        .header("date", httpdate_now())
        .header("fspiop-source", source)
        .header("fspiop-destination", PAYEE)
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(serde_json::Value::Null)))
}

fn httpdate_now() -> String {
    chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_a_dfsps_own_certificate_lets_it_send_as_itself() {
    let dir = std::env::temp_dir().join(format!("le_mtls_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    issue(&dir, "scheme", "localhost", true);
    issue(&dir, "scheme", PAYER, false);
    issue(&dir, "rogue", "roguefsp", false);
    let files = MtlsFiles {
        client_ca: dir.join("scheme-ca.pem"),
        server_certificate: dir.join("localhost.pem"),
        server_key: dir.join("localhost.key"),
    };
    let switch = start(Backend::Sqlite, Options { mtls: Some(files), ..Options::default() }).await;
    switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let url = switch.emulator.fspiop_url();
    assert!(url.starts_with("https://"));
    let body = switch.simulators.prepare_body(&uuid::Uuid::new_v4().to_string(), PAYER, PAYEE, "10", "USD");

    let (status, _) = post_as(&client(&dir, Some(PAYER)), &url, PAYER, &body).await.unwrap();
    assert_eq!(status, 202, "the payer's own certificate");

    let (status, answer) = post_as(&client(&dir, Some(PAYER)), &url, PAYEE, &body).await.unwrap();
    assert_eq!((status, answer["errorInformation"]["errorCode"].as_str()), (400, Some("3100")), "{answer}");

    let (status, answer) = post_as(&client(&dir, None), &url, PAYER, &body).await.unwrap();
    assert_eq!((status, answer["errorInformation"]["errorCode"].as_str()), (403, Some("3100")), "{answer}");

    let rogue = {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.join("scheme-ca.pem")).unwrap()).unwrap();
        let mut pem = std::fs::read(dir.join("roguefsp.pem")).unwrap();
        pem.extend(std::fs::read(dir.join("roguefsp.key")).unwrap());
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .identity(reqwest::Identity::from_pem(&pem).unwrap())
            .no_proxy()
            .build()
            .unwrap()
    };
    assert!(post_as(&rogue, &url, "roguefsp", &body).await.is_err(), "another CA's certificate fails the handshake");

    switch.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}
