//! Only the payee fulfils, end to end over real HTTP through the local emulator, on SQLite and
//! on MariaDB, in plain HTTP and over mutual TLS (where the edge ties FSPIOP-Source to the client
//! certificate, so each DFSP sends as itself): a third DFSP's PUT COMMITTED, RESERVED or ABORTED
//! and its PUT /error, and the payer's PUT and PUT /error, each leave the reserved transfer
//! untouched, get 3100 back to the sender alone and nothing to the payer or the payee; the
//! payee's own fulfil then commits. The payee's PUT addressed to someone other than the payer
//! still aborts the transfer, as in Mojaloop (TTK bug fix #2697).

mod support;

use std::collections::HashMap;
use std::path::PathBuf;

use ledger_core::account::Account;
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use local_emulator::simulator::{IlpSecret, PayeeMode, Received, CONTENT_TYPE_V1_1};
use reqwest::Method;
use serde_json::{json, Value};
use support::*;

const OTHER: &str = "otherfsp";
const NOT_PAYEE: &str =
    "Generic validation error - fspiop-source does not match payee fsp on the Fulfil callback response";
const NOT_PAYER: &str =
    "Generic validation error - fspiop-destination does not match payer fsp on the Fulfil callback response";
const AMOUNT: &str = "10";

/// What a DFSP sends about a transfer.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// `PUT /transfers/{id}` with this `transferState` (and the right fulfilment, except ABORTED).
    Put(&'static str),
    /// `PUT /transfers/{id}/error` with 5104.
    Error,
}

/// The answers nobody but the payee may give, with their senders.
const NOT_FROM_THE_PAYEE: [(&str, Answer); 6] = [
    (OTHER, Answer::Put("COMMITTED")),
    (OTHER, Answer::Put("RESERVED")),
    (OTHER, Answer::Put("ABORTED")),
    (OTHER, Answer::Error),
    (PAYER, Answer::Put("COMMITTED")),
    (PAYER, Answer::Error),
];

/// The three DFSPs as clients of the FSPIOP API: plain HTTP, or each with its own certificate.
struct Dfsps {
    url: String,
    clients: HashMap<&'static str, reqwest::Client>,
    /// Conditions of the transfers the test prepares, so it knows their fulfilments.
    secret: IlpSecret,
    certificates: Option<PathBuf>,
}

/// A prepared transfer: its id and the fulfilment of its condition.
struct Prepared {
    id: String,
    fulfilment: String,
}

impl Dfsps {
    /// Sends an FSPIOP request as `source`; the HTTP status.
    async fn send(&self, method: Method, path: &str, source: &str, destination: &str, body: &Value) -> u16 {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let response = self.clients[source]
            .request(method, format!("{}{path}", self.url))
            .header("accept", CONTENT_TYPE_V1_1)
            .header("content-type", CONTENT_TYPE_V1_1)
            .header("date", date)
            .header("fspiop-source", source)
            .header("fspiop-destination", destination)
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|err| panic!("{source} reaches the switch: {err}"));
        response.status().as_u16()
    }

    /// The payer's prepare to the (silent) payee, waited for until the payee has it, so the
    /// transfer is RESERVED.
    async fn prepare(&self, switch: &Switch) -> Prepared {
        let id = uuid::Uuid::new_v4().to_string();
        let mut body = switch.simulators.prepare_body(&id, PAYER, PAYEE, AMOUNT, "USD");
        let fulfilment = self.secret.fulfilment(body["ilpPacket"].as_str().unwrap());
        body["condition"] = fulfilment.condition().to_base64url().into();
        assert_eq!(self.send(Method::POST, "/transfers", PAYER, PAYEE, &body).await, 202);
        let arrived = switch
            .simulators
            .wait_until(CALLBACK_WAIT, |r| r.iter().any(|it| it.fsp == PAYEE && it.body["transferId"] == id.as_str()))
            .await;
        assert!(arrived, "the payee gets the prepare: {:#?}", switch.simulators.received());
        assert_eq!(state(switch, &id).await, (TransferState::Reserved, 2));
        Prepared { id, fulfilment: fulfilment.to_base64url() }
    }

    /// `answer` about `transfer` from `source` to `destination`; the HTTP status.
    async fn answer(&self, transfer: &Prepared, source: &str, destination: &str, answer: Answer) -> u16 {
        let completed = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let (path, body) = match answer {
            Answer::Put("ABORTED") => (
                format!("/transfers/{}", transfer.id),
                json!({ "completedTimestamp": completed, "transferState": "ABORTED" }),
            ),
            Answer::Put(state) => {
                let body = json!({ "fulfilment": transfer.fulfilment, "completedTimestamp": completed, "transferState": state });
                (format!("/transfers/{}", transfer.id), body)
            }
            Answer::Error => {
                let body =
                    json!({ "errorInformation": { "errorCode": "5104", "errorDescription": "Transaction declined" } });
                (format!("/transfers/{}/error", transfer.id), body)
            }
        };
        self.send(Method::PUT, &path, source, destination, &body).await
    }
}

/// A switch with the payer, the (silent) payee and a third DFSP; the payer's and the payee's
/// POSITION accounts.
async fn start_scheme(backend: Backend, mtls: bool) -> (Switch, Dfsps, [Account; 2]) {
    let names = [PAYER, PAYEE, OTHER];
    let (options, certificates) = if mtls {
        let dir = std::env::temp_dir().join(format!("le_payee_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = support::certs::scheme(&dir, &names);
        (Options { mtls: Some(files), ..Options::default() }, Some(dir))
    } else {
        (Options::default(), None)
    };
    let switch = start(backend, options).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    let (payee, _) = switch.add_dfsp(PAYEE, "1000", 1000).await;
    switch.add_dfsp(OTHER, "1000", 1000).await;
    switch.simulators.set_payee_mode(PAYEE, PayeeMode::Silent);
    let client = |name: &str| match &certificates {
        Some(dir) => support::certs::client(dir, Some(name)),
        None => reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    let clients = names.into_iter().map(|name| (name, client(name))).collect();
    let url = switch.emulator.fspiop_url();
    assert_eq!(url.starts_with("https://"), mtls);
    (switch, Dfsps { url, clients, secret: IlpSecret::new(), certificates }, [payer, payee])
}

/// The transfer's current state and how many states it has had.
async fn state(switch: &Switch, id: &str) -> (TransferState, usize) {
    let id = TransferId::parse(id).unwrap();
    let record = switch.store.transfer(&id).await.unwrap().expect("the transfer is recorded");
    (record.current.state, switch.store.state_history(&id).await.unwrap().len())
}

/// What each DFSP received about the transfer, as `METHOD path` lines.
fn received_by_each(switch: &Switch, id: &str) -> [Vec<String>; 3] {
    [PAYER, PAYEE, OTHER].map(|fsp| {
        switch.simulators.received_for(fsp, id).iter().map(|it| format!("{} {}", it.method, it.path)).collect()
    })
}

fn only<'a>(received: &'a [Received], fsp: &str, path: &str) -> &'a Received {
    let matching: Vec<&Received> =
        received.iter().filter(|it| it.fsp == fsp && it.method == "PUT" && it.path == path).collect();
    assert_eq!(matching.len(), 1, "{fsp} PUT {path}: {matching:#?}");
    matching[0]
}

/// The payer's and the payee's positions.
async fn positions(switch: &Switch, accounts: &[Account; 2]) -> [Amount; 2] {
    [switch.store.balance(accounts[0].id).await.unwrap().0, switch.store.balance(accounts[1].id).await.unwrap().0]
}

async fn only_the_payee_fulfils(backend: Backend, mtls: bool) {
    let (switch, dfsps, accounts) = start_scheme(backend, mtls).await;
    let sims = &switch.simulators;
    for (sender, answer) in NOT_FROM_THE_PAYEE {
        let case = format!("{sender} {answer:?}");
        let transfer = dfsps.prepare(&switch).await;
        let id = transfer.id.as_str();
        let before = positions(&switch, &accounts).await;
        assert_eq!(dfsps.answer(&transfer, sender, PAYER, answer).await, 200, "{case}");
        let error_path = format!("/transfers/{id}/error");
        let refused =
            sims.wait_until(CALLBACK_WAIT, |r| r.iter().any(|it| it.fsp == sender && it.path == error_path)).await;
        assert!(refused, "{case}: {:#?}", sims.received());
        assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await, "{case}");
        let received = sims.received();
        let error = only(&received, sender, &error_path);
        assert_eq!(
            error.body,
            json!({ "errorInformation": { "errorCode": "3100", "errorDescription": NOT_PAYEE } }),
            "{case}"
        );
        assert_eq!(error.header("fspiop-source"), Some("Hub"), "{case}");
        let prepare_only = vec!["POST /transfers".to_string()];
        let error_only = vec![format!("PUT {error_path}")];
        let expected =
            if sender == PAYER { [error_only, prepare_only, vec![]] } else { [vec![], prepare_only, error_only] };
        assert_eq!(received_by_each(&switch, id), expected, "{case}: payer, payee, other");
        assert_eq!(state(&switch, id).await, (TransferState::Reserved, 2), "{case}");
        assert_eq!(positions(&switch, &accounts).await, before, "{case}");

        // The payee's own fulfil commits as if nobody else had spoken.
        assert_eq!(dfsps.answer(&transfer, PAYEE, PAYER, Answer::Put("COMMITTED")).await, 200, "{case}");
        let put_path = format!("/transfers/{id}");
        let both =
            |r: &[Received]| [PAYER, PAYEE].iter().all(|fsp| r.iter().any(|it| it.fsp == *fsp && it.path == put_path));
        assert!(sims.wait_until(CALLBACK_WAIT, both).await, "{case}: {:#?}", sims.received());
        let received = sims.received();
        assert_eq!(only(&received, PAYER, &put_path).body["transferState"], "COMMITTED", "{case}");
        assert_eq!(only(&received, PAYEE, &put_path).body["transferState"], "COMMITTED", "{case}");
        assert_eq!(state(&switch, id).await, (TransferState::Committed, 4), "{case}");
        let [payer_after, payee_after] = positions(&switch, &accounts).await;
        assert_eq!(payer_after, before[0], "{case}: the payer's reservation became the commit");
        assert_eq!(payee_after, before[1] - amount(), "{case}");
    }

    // The payee's own answer to someone other than the payer aborts the transfer.
    let transfer = dfsps.prepare(&switch).await;
    let id = transfer.id.as_str();
    let before = positions(&switch, &accounts).await;
    assert_eq!(dfsps.answer(&transfer, PAYEE, OTHER, Answer::Put("COMMITTED")).await, 200);
    let error_path = format!("/transfers/{id}/error");
    let both =
        |r: &[Received]| [PAYER, PAYEE].iter().all(|fsp| r.iter().any(|it| it.fsp == *fsp && it.path == error_path));
    assert!(sims.wait_until(CALLBACK_WAIT, both).await, "{:#?}", sims.received());
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    let received = sims.received();
    for fsp in [PAYER, PAYEE] {
        assert_eq!(only(&received, fsp, &error_path).body["errorInformation"]["errorDescription"], NOT_PAYER, "{fsp}");
    }
    assert_eq!(state(&switch, id).await.0, TransferState::AbortedError);
    let [payer_after, payee_after] = positions(&switch, &accounts).await;
    assert_eq!(payer_after, before[0] - amount(), "the reservation is released");
    assert_eq!(payee_after, before[1]);

    let certificates = dfsps.certificates.clone();
    switch.finish().await;
    if let Some(dir) = certificates {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn amount() -> Amount {
    Amount::parse_decimal(AMOUNT).unwrap()
}

async fn over_http(backend: Backend) {
    only_the_payee_fulfils(backend, false).await;
}

async fn over_mtls(backend: Backend) {
    only_the_payee_fulfils(backend, true).await;
}

on_both_backends!(over_http, over_mtls);
