//! Transfers end to end over real HTTP against the local emulator, on SQLite and on MariaDB: the
//! happy path, the negative rows of the callback matrix, duplicates, timeouts and GET, each
//! checked by the callbacks the simulated DFSPs receive and the positions in the ledger.

mod support;

use local_emulator::simulator::{PayeeMode, Received};
use reqwest::Method;
use support::*;

fn has(received: &[Received], fsp: &str, method: &str, path_end: &str, id: &str) -> bool {
    received
        .iter()
        .any(|it| it.fsp == fsp && it.method == method && it.path.contains(id) && it.path.ends_with(path_end))
}

fn one<'a>(received: &'a [Received], fsp: &str, method: &str, path: &str) -> &'a Received {
    let matching: Vec<&Received> =
        received.iter().filter(|it| it.fsp == fsp && it.method == method && it.path == path).collect();
    assert_eq!(matching.len(), 1, "{fsp} {method} {path}: {matching:#?}");
    matching[0]
}

async fn a_transfer_commits_and_both_sides_hear_of_it(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    let (payee, _) = switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;

    let (id, status) = sims.send_transfer(PAYER, PAYEE, "100", "USD").await.unwrap();
    assert_eq!(status, 202);
    let path = format!("/transfers/{id}");
    let arrived =
        sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", &id, &id) && has(r, PAYEE, "PUT", &id, &id)).await;
    assert!(arrived, "callbacks: {:#?}", sims.received());

    let received = sims.received();
    let prepare = one(&received, PAYEE, "POST", "/transfers");
    assert_eq!(prepare.body["transferId"], id.as_str());
    assert_eq!(prepare.header("fspiop-source"), Some(PAYER), "the payer's prepare is forwarded as sent");
    let to_payer = one(&received, PAYER, "PUT", &path);
    assert_eq!(to_payer.body["transferState"], "COMMITTED");
    assert!(to_payer.body["fulfilment"].is_string());
    assert_eq!(to_payer.header("fspiop-source"), Some(PAYEE));
    assert_eq!(to_payer.header("accept"), None, "a PUT callback carries no Accept, as in Mojaloop");
    let to_payee = one(&received, PAYEE, "PUT", &path);
    assert_eq!(to_payee.body["transferState"], "COMMITTED");
    assert_eq!(to_payee.header("fspiop-source"), Some("Hub"));

    assert_eq!(switch.position(&payer).await, "100.0000");
    assert_eq!(switch.position(&payee).await, "-100.0000");
    switch.finish().await;
}

async fn a_payee_rejection_aborts_and_releases_the_reservation(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    sims.set_payee_mode(PAYEE, PayeeMode::Reject("5104".into()));

    let (id, _) = sims.send_transfer(PAYER, PAYEE, "40", "USD").await.unwrap();
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", "/error", &id)).await, "{:#?}", sims.received());
    let received = sims.received();
    let error = one(&received, PAYER, "PUT", &format!("/transfers/{id}/error"));
    assert_eq!(error.body["errorInformation"]["errorCode"], "5104");
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(switch.position(&payer).await, "0.0000");
    switch.finish().await;
}

async fn insufficient_liquidity_is_refused_with_4001(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "50", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;

    let (id, _) = sims.send_transfer(PAYER, PAYEE, "60", "USD").await.unwrap();
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", "/error", &id)).await, "{:#?}", sims.received());
    let received = sims.received();
    let error = one(&received, PAYER, "PUT", &format!("/transfers/{id}/error"));
    assert_eq!(error.body["errorInformation"]["errorCode"], "4001");
    assert!(!received.iter().any(|it| it.fsp == PAYEE), "the payee never hears of a refused transfer");
    assert_eq!(switch.position(&payer).await, "0.0000");
    switch.finish().await;
}

async fn an_unknown_payee_is_refused(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    switch.add_dfsp(PAYER, "1000", 1000).await;
    let sims = &switch.simulators;

    let (id, status) = sims.send_transfer(PAYER, "nobodyfsp", "10", "USD").await.unwrap();
    assert_eq!(status, 202);
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", "/error", &id)).await, "{:#?}", sims.received());
    let received = sims.received();
    let error = one(&received, PAYER, "PUT", &format!("/transfers/{id}/error"));
    let code = error.body["errorInformation"]["errorCode"].as_str().unwrap();
    assert!(code.starts_with("3"), "a validation error, got {code}");
    switch.finish().await;
}

async fn duplicates_are_resent_or_refused(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;

    let id = uuid::Uuid::new_v4().to_string();
    let body = sims.prepare_body(&id, PAYER, PAYEE, "10", "USD");
    assert_eq!(sims.send(Method::POST, "/transfers", PAYER, PAYEE, &body).await.unwrap(), 202);
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", &id, &id)).await);
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);

    // The same prepare again: the final state is sent to the payer once more.
    assert_eq!(sims.send(Method::POST, "/transfers", PAYER, PAYEE, &body).await.unwrap(), 202);
    let path = format!("/transfers/{id}");
    let resent =
        sims.wait_until(CALLBACK_WAIT, |r| r.iter().filter(|it| it.fsp == PAYER && it.path == path).count() == 2).await;
    assert!(resent, "{:#?}", sims.received());

    // A modified body with the same id: 3106.
    let mut modified = body.clone();
    modified["amount"]["amount"] = "11".into();
    assert_eq!(sims.send(Method::POST, "/transfers", PAYER, PAYEE, &modified).await.unwrap(), 202);
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", "/error", &id)).await, "{:#?}", sims.received());
    let received = sims.received();
    let error = one(&received, PAYER, "PUT", &format!("{path}/error"));
    assert_eq!(error.body["errorInformation"]["errorCode"], "3106");
    assert_eq!(switch.position(&payer).await, "10.0000", "no duplicate moved the position");
    switch.finish().await;
}

async fn an_unanswered_transfer_times_out_for_both_sides(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    sims.set_payee_mode(PAYEE, PayeeMode::Silent);

    let (id, body) = prepare_expiring_soon(sims);
    assert_eq!(sims.send(Method::POST, "/transfers", PAYER, PAYEE, &body).await.unwrap(), 202);
    let both = sims
        .wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", "/error", &id) && has(r, PAYEE, "PUT", "/error", &id))
        .await;
    assert!(both, "{:#?}", sims.received());
    for fsp in [PAYER, PAYEE] {
        let received = sims.received();
        let error = one(&received, fsp, "PUT", &format!("/transfers/{id}/error"));
        assert_eq!(error.body["errorInformation"]["errorCode"], "3303", "{fsp}");
    }
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(switch.position(&payer).await, "0.0000", "the reservation is reversed");
    switch.finish().await;
}

async fn get_answers_the_state_or_3208(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    let (id, _) = sims.send_transfer(PAYER, PAYEE, "5", "USD").await.unwrap();
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", &id, &id)).await);

    assert_eq!(sims.get_transfer(PAYER, &id).await.unwrap(), 202);
    let path = format!("/transfers/{id}");
    let answered =
        sims.wait_until(CALLBACK_WAIT, |r| r.iter().filter(|it| it.fsp == PAYER && it.path == path).count() == 2).await;
    assert!(answered, "{:#?}", sims.received());
    let last = sims.received().into_iter().rfind(|it| it.fsp == PAYER && it.path == path).unwrap();
    assert_eq!(last.body["transferState"], "COMMITTED");

    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(sims.get_transfer(PAYER, &unknown).await.unwrap(), 202);
    assert!(sims.wait_until(CALLBACK_WAIT, |r| has(r, PAYER, "PUT", "/error", &unknown)).await);
    let received = sims.received();
    let error = one(&received, PAYER, "PUT", &format!("/transfers/{unknown}/error"));
    assert_eq!(error.body["errorInformation"]["errorCode"], "3208");
    switch.finish().await;
}

async fn bad_requests_get_synchronous_fspiop_errors(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let client = reqwest::Client::new();
    let url = format!("{}/transfers", switch.emulator.fspiop_url());
    let response = client.post(&url).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["errorInformation"]["errorCode"].as_str().unwrap().starts_with("3"), "{body}");
    let patch = client.patch(format!("{url}/{}", uuid::Uuid::new_v4())).send().await.unwrap();
    assert!(patch.status().is_client_error() || patch.status() == 501, "{}", patch.status());
    // The operator APIs are not on the FSPIOP port.
    let admin_here = client.get(format!("{}/participants", switch.emulator.fspiop_url())).send().await.unwrap();
    assert_eq!(admin_here.status(), 404);
    // And need the operator key on theirs.
    let without_key = client.get(format!("{}/participants", switch.emulator.admin_url())).send().await.unwrap();
    assert_eq!(without_key.status(), 401);
    switch.finish().await;
}

async fn health_answers_like_mojaloop(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let client = reqwest::Client::new();
    let answer = client
        .get(format!("{}/health", switch.emulator.admin_url()))
        .header("ocp-apim-subscription-key", OPERATOR_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["status"], "OK");
    assert_eq!(body["services"][0], serde_json::json!({ "name": "datastore", "status": "OK" }));
    assert!(body["startTime"].is_string() && body["uptime"].is_u64() && body["versionNumber"].is_string(), "{body}");
    let fspiop = client.get(format!("{}/health", switch.emulator.fspiop_url())).send().await.unwrap();
    assert_eq!(fspiop.status(), 200);
    switch.finish().await;
}

on_both_backends!(
    health_answers_like_mojaloop,
    a_transfer_commits_and_both_sides_hear_of_it,
    a_payee_rejection_aborts_and_releases_the_reservation,
    insufficient_liquidity_is_refused_with_4001,
    an_unknown_payee_is_refused,
    duplicates_are_resent_or_refused,
    an_unanswered_transfer_times_out_for_both_sides,
    get_answers_the_state_or_3208,
    bad_requests_get_synchronous_fspiop_errors,
);
