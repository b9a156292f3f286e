//! The callbacks the Hub makes, end to end over real HTTP on SQLite and MariaDB: their
//! Content-Type (`up --callback-version`, and the payee's own version for what answers its PUT),
//! their FSPIOP-Signature (`up --jws-sign`, checked with the public key the emulator leaves in
//! its data directory), the v1.1 RESERVED flow with its PATCH, and the 3303s of an expiry.

mod support;

use std::time::Duration;

use jws::keys::PublicKey;
use jws::validate::{InboundRequest, Validator};
use local_emulator::simulator::{PayeeMode, Received};
use reqwest::Method;
use support::*;

const V1_0: &str = "application/vnd.interoperability.transfers+json;version=1.0";
const V1_1: &str = "application/vnd.interoperability.transfers+json;version=1.1";
const V2_0: &str = "application/vnd.interoperability.transfers+json;version=2.0";
/// How soon after a transfer's expiration both parties must have its 3303.
const EXPIRY_NOTICE_WITHIN: Duration = Duration::from_secs(5);

/// The callbacks `fsp` received about `id` with `method`, `path_end` the end of their path.
fn about<'a>(received: &'a [Received], fsp: &str, method: &str, id: &str, path_end: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|it| it.fsp == fsp && it.method == method && it.path.contains(id) && it.path.ends_with(path_end))
        .collect()
}

fn arrived(received: &[Received], fsp: &str, method: &str, id: &str, path_end: &str) -> bool {
    !about(received, fsp, method, id, path_end).is_empty()
}

/// Whether the simulated payee's answer about `id` was taken with 200, within [`CALLBACK_WAIT`].
async fn answered(sims: &local_emulator::simulator::Simulators, id: &str) -> bool {
    const POLL: Duration = Duration::from_millis(50);
    let deadline = std::time::Instant::now() + CALLBACK_WAIT;
    while std::time::Instant::now() < deadline {
        if sims.answered().iter().any(|it| it.transfer_id == id && it.status == Some(200)) {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    false
}

/// Checks a callback's FSPIOP-Signature with the Hub's key: `Ok` when it verifies.
fn verify(validator: &Validator, callback: &Received) -> Result<(), String> {
    let body = serde_json::to_vec(&callback.body).unwrap();
    let inbound = InboundRequest {
        source: callback.header("fspiop-source"),
        destination: callback.header("fspiop-destination"),
        uri: callback.header("fspiop-uri"),
        http_method: callback.header("fspiop-http-method"),
        date: callback.header("date"),
        signature: callback.header("fspiop-signature"),
        body: &body,
    };
    validator.validate(&inbound).map_err(|rejection| format!("{rejection}: {callback:#?}"))
}

/// The validator a DFSP would build from the public key `--jws-sign` left in the data directory.
fn hub_validator(switch: &Switch) -> Validator {
    let path =
        switch.data_dir.join(local_emulator::hub_key::KEYS_DIR).join(local_emulator::hub_key::HUB_PUBLIC_KEY_FILE);
    let key = PublicKey::from_pem(&std::fs::read_to_string(&path).unwrap()).unwrap();
    Validator::new([("Hub".to_string(), key)].into())
}

async fn hub_callbacks_carry_the_configured_version_and_a_signature_the_hubs_key_verifies(backend: Backend) {
    let options = Options { callback_version: Some(fspiop::ApiVersion::V2_0), jws_sign: true, ..Options::default() };
    let switch = start(backend, options).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    let validator = hub_validator(&switch);

    // A commit: the payee's PUT reaches the payer as sent (1.1, unsigned: the simulator does not
    // sign); the payee's confirmation is the Hub's, at 2.0 and signed.
    let (id, _) = sims.send_transfer(PAYER, PAYEE, "10", "USD").await.unwrap();
    let both = sims
        .wait_until(CALLBACK_WAIT, |r| arrived(r, PAYER, "PUT", &id, &id) && arrived(r, PAYEE, "PUT", &id, &id))
        .await;
    assert!(both, "{:#?}", sims.received());
    let received = sims.received();
    let forwarded = about(&received, PAYER, "PUT", &id, &id)[0];
    assert_eq!((forwarded.header("content-type"), forwarded.header("fspiop-signature")), (Some(V1_1), None));
    let confirmation = about(&received, PAYEE, "PUT", &id, &id)[0];
    assert_eq!((confirmation.header("fspiop-source"), confirmation.header("content-type")), (Some("Hub"), Some(V2_0)));
    verify(&validator, confirmation).unwrap();
    assert!(forwarded.at <= confirmation.at, "the payer hears first");

    // GETs: the state, and 3208 worded as central-ledger words it, both signed.
    let unknown = uuid::Uuid::new_v4().to_string();
    for transfer in [&id, &unknown] {
        assert_eq!(sims.get_transfer(PAYER, transfer).await.unwrap(), 202);
    }
    let answered = sims
        .wait_until(CALLBACK_WAIT, |r| {
            about(r, PAYER, "PUT", &id, &id).len() == 2 && arrived(r, PAYER, "PUT", &unknown, "/error")
        })
        .await;
    assert!(answered, "{:#?}", sims.received());
    let received = sims.received();
    let state = about(&received, PAYER, "PUT", &id, &id)[1];
    let not_found = about(&received, PAYER, "PUT", &unknown, "/error")[0];
    assert_eq!(state.body["transferState"], "COMMITTED");
    assert_eq!(
        not_found.body["errorInformation"]["errorDescription"],
        "Transfer ID not found - Provided Transfer ID was not found on the server."
    );
    for callback in [state, not_found] {
        assert_eq!((callback.header("content-type"), callback.header("accept")), (Some(V2_0), None), "{callback:#?}");
        verify(&validator, callback).unwrap();
    }

    // An expiry: 3303 to both parties soon after it, at 2.0, signed; the reservation released.
    sims.set_payee_mode(PAYEE, PayeeMode::Silent);
    let (expiring, body) = prepare_expiring_soon(sims);
    let expires_at = std::time::Instant::now() + Duration::from_secs(2);
    assert_eq!(sims.send(Method::POST, "/transfers", PAYER, PAYEE, &body).await.unwrap(), 202);
    let both = sims
        .wait_until(CALLBACK_WAIT, |r| {
            arrived(r, PAYER, "PUT", &expiring, "/error") && arrived(r, PAYEE, "PUT", &expiring, "/error")
        })
        .await;
    assert!(both, "{:#?}", sims.received());
    let received = sims.received();
    for fsp in [PAYER, PAYEE] {
        let notice = about(&received, fsp, "PUT", &expiring, "/error")[0];
        assert_eq!(notice.body["errorInformation"]["errorCode"], "3303", "{fsp}");
        assert_eq!(notice.header("content-type"), Some(V2_0), "{fsp}");
        assert!(
            notice.at <= expires_at + EXPIRY_NOTICE_WITHIN,
            "{fsp} heard {:?} after expiry",
            notice.at.saturating_duration_since(expires_at)
        );
        verify(&validator, notice).unwrap();
    }
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(switch.position(&payer).await, "10.0000", "only the committed transfer holds");
    switch.finish().await;
}

async fn a_reserved_answer_commits_and_patches_the_payee_in_its_version(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    let (payee, _) = switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    sims.set_payee_mode(PAYEE, PayeeMode::Reserve { to: None, content_type: None });

    let (id, _) = sims.send_transfer(PAYER, PAYEE, "10", "USD").await.unwrap();
    let both = sims
        .wait_until(CALLBACK_WAIT, |r| arrived(r, PAYER, "PUT", &id, &id) && arrived(r, PAYEE, "PATCH", &id, &id))
        .await;
    assert!(both, "{:#?}", sims.received());
    let received = sims.received();
    let committed = about(&received, PAYER, "PUT", &id, &id)[0];
    assert_eq!(
        (committed.body["transferState"].as_str(), committed.header("fspiop-source")),
        (Some("COMMITTED"), Some("Hub"))
    );
    assert!(committed.body["fulfilment"].is_string() && committed.body.get("transferId").is_none(), "{committed:#?}");
    let patch = about(&received, PAYEE, "PATCH", &id, &id)[0];
    assert_eq!(
        (patch.body["transferState"].as_str(), patch.header("fspiop-http-method")),
        (Some("COMMITTED"), Some("PATCH"))
    );
    assert_eq!((patch.header("fspiop-source"), patch.header("fspiop-destination")), (Some("Hub"), Some(PAYEE)));
    assert!(patch.body.get("fulfilment").is_none());
    // The Hub is at 1.0 (the default); both answer the payee's 1.1 RESERVED in 1.1.
    assert_eq!((committed.header("content-type"), patch.header("content-type")), (Some(V1_1), Some(V1_1)));
    assert!(committed.at <= patch.at, "the payer hears first");
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(
        (switch.position(&payer).await.as_str(), switch.position(&payee).await.as_str()),
        ("10.0000", "-10.0000")
    );

    // Addressed to someone other than the payer (TTK bug fix #2697): aborted, 3100 to the payer
    // at the Hub's 1.0, a PATCH ABORTED with the cause to the payee, GET says ABORTED.
    sims.set_payee_mode(PAYEE, PayeeMode::Reserve { to: Some("doesnotexistfsp".to_string()), content_type: None });
    let (misaddressed, _) = sims.send_transfer(PAYER, PAYEE, "20", "USD").await.unwrap();
    let both = sims
        .wait_until(CALLBACK_WAIT, |r| {
            arrived(r, PAYER, "PUT", &misaddressed, "/error")
                && arrived(r, PAYEE, "PATCH", &misaddressed, &misaddressed)
        })
        .await;
    assert!(both, "{:#?}", sims.received());
    let received = sims.received();
    let refusal = about(&received, PAYER, "PUT", &misaddressed, "/error")[0];
    let description =
        "Generic validation error - fspiop-destination does not match payer fsp on the Fulfil callback response";
    assert_eq!(refusal.body["errorInformation"]["errorCode"], "3100");
    assert_eq!(refusal.body["errorInformation"]["errorDescription"], description);
    assert_eq!(refusal.header("content-type"), Some(V1_0));
    let aborted = about(&received, PAYEE, "PATCH", &misaddressed, &misaddressed)[0];
    assert_eq!(aborted.body["transferState"], "ABORTED");
    assert_eq!(
        aborted.body["extensionList"]["extension"][0],
        serde_json::json!({ "key": "cause", "value": format!("3100: {description}") })
    );
    assert_eq!(aborted.header("content-type"), Some(V1_1));
    assert_eq!(sims.get_transfer(PAYER, &misaddressed).await.unwrap(), 202);
    assert!(sims.wait_until(CALLBACK_WAIT, |r| arrived(r, PAYER, "PUT", &misaddressed, &misaddressed)).await);
    assert_eq!(about(&sims.received(), PAYER, "PUT", &misaddressed, &misaddressed)[0].body["transferState"], "ABORTED");

    // RESERVED in 1.0, which has no PATCH: dropped as central-ledger drops it; still RESERVED.
    sims.set_payee_mode(PAYEE, PayeeMode::Reserve { to: None, content_type: Some(V1_0.to_string()) });
    let (dropped, _) = sims.send_transfer(PAYER, PAYEE, "30", "USD").await.unwrap();
    assert!(answered(sims, &dropped).await, "the payee's RESERVED is taken (200), then dropped");
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(sims.get_transfer(PAYER, &dropped).await.unwrap(), 202);
    assert!(sims.wait_until(CALLBACK_WAIT, |r| arrived(r, PAYER, "PUT", &dropped, &dropped)).await);
    let received = sims.received();
    assert_eq!(about(&received, PAYER, "PUT", &dropped, &dropped)[0].body["transferState"], "RESERVED");
    assert!(about(&received, PAYEE, "PATCH", &dropped, &dropped).is_empty());
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(switch.position(&payer).await, "40.0000", "10 committed, 30 still reserved, 20 released");
    switch.finish().await;
}

on_both_backends!(
    hub_callbacks_carry_the_configured_version_and_a_signature_the_hubs_key_verifies,
    a_reserved_answer_commits_and_patches_the_payee_in_its_version,
);
