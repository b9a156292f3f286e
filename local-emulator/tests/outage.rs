//! A two-minute database outage under load loses nothing (issue 20, finding 2).
//!
//! The switch runs under the local emulator on a MariaDB server of the test's own. DFSPs send
//! about 100 transfers a second (half of them expiring after 60 s, so the outage expires them at
//! every step, half after 10 min, so they commit after it), the simulated payees fulfil them, and
//! the server is killed (SIGKILL) for two minutes while the load goes on, then started again on
//! the same data directory. After a bounded drain:
//! - every accepted (202) transfer has exactly one final state, and ends in it;
//! - every DFSP's position is the sum of its committed transfers, and its journal adds up to it;
//! - every callback reached its DFSP once: the payer hears of the outcome once, the payee gets the
//!   prepare once if the transfer was reserved, the commit once if it committed, and the errors its
//!   own fulfil and the expiry caused if it was aborted after the reservation;
//! - the message journal holds every accepted request and every callback, and every request the
//!   edge refused (one in [`REFUSED_EVERY`] sends has no amount), outage or not;
//! - no batch was given up by the host.
//!
//! Every broken promise is listed before the test fails, so one run tells all that is wrong.

#[path = "support/private_mariadb.rs"]
mod private_mariadb;
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_store::prelude::*;
use ledger_store::{MysqlStore, MysqlStoreConfig};
use local_emulator::simulator::{Answered, Received};
use private_mariadb::PrivateMariadb;
use serde_json::Value;
use support::*;

const DFSPS: [&str; 4] = ["dfspa", "dfspb", "dfspc", "dfspd"];
/// Liquidity and net debit cap of each DFSP: far above what the run moves, so no transfer is
/// refused for want of funds and every outcome comes from the outage alone.
const FUNDING: &str = "100000000";
const NET_DEBIT_CAP: i64 = 100_000_000;
/// The load: one transfer every 10 ms.
const SEND_INTERVAL: Duration = Duration::from_millis(10);
/// Load before the kill, the outage under load, and load after the restart.
const BEFORE_OUTAGE: Duration = Duration::from_secs(10);
const OUTAGE: Duration = Duration::from_secs(120);
const AFTER_OUTAGE: Duration = Duration::from_secs(10);
/// The drain: every accepted transfer must be final within this long after the load stops. A
/// short-lived transfer left reserved expires 60 s after it was sent and the timeout scan runs
/// every second in tests; a long-lived one has nothing to wait for but the backlog, so one still
/// open after the drain was stranded.
const DRAIN_MAX: Duration = Duration::from_secs(300);
const DRAIN_POLL: Duration = Duration::from_secs(2);
/// Every other transfer lives this long instead of the simulators' 60 s, so that transfers caught
/// by the outage also commit after it (the others expire, in every step of the pipeline).
const LONG_VALIDITY: Duration = Duration::from_secs(600);
/// How long callbacks still in flight after the drain may take to arrive.
const CALLBACK_SETTLE: Duration = Duration::from_secs(10);
/// Journal reads in flight at once.
const JOURNAL_READS_CONCURRENT: usize = 16;
/// One send in this many is refused at the edge (no amount): its journal entry must survive the
/// outage too.
const REFUSED_EVERY: usize = 25;
/// What the edge answers a prepare without an amount.
const REFUSED_STATUS: u16 = 400;
/// Examples listed per broken promise.
const EXAMPLES_MAX: usize = 5;

/// One `POST /transfers` the load sent, and the switch's answer.
#[derive(Debug, Clone)]
struct Sent {
    id: String,
    payer: &'static str,
    payee: &'static str,
    amount: &'static str,
    /// Sent without an amount, to be refused.
    malformed: bool,
    status: Result<u16, String>,
}

/// One transfer (or account) breaking a promise: the shape of the breach, which groups like
/// cases in the report, and the case itself.
struct Case {
    shape: String,
    detail: String,
}

fn case(shape: impl Into<String>, detail: impl Into<String>) -> Case {
    Case { shape: shape.into(), detail: detail.into() }
}

/// The broken promises, by name, each with the cases that break it.
#[derive(Default)]
struct Findings(Vec<(String, Vec<Case>)>);

impl Findings {
    fn add(&mut self, promise: &str, cases: Vec<Case>) {
        if !cases.is_empty() {
            self.0.push((promise.to_string(), cases));
        }
    }

    /// Per promise: how many cases, and per shape how many with an example.
    fn report(&self) -> String {
        let mut text = String::new();
        for (promise, cases) in &self.0 {
            text.push_str(&format!("\n- {promise}: {} case(s)", cases.len()));
            let mut shapes: Vec<(&str, usize, &str)> = Vec::new();
            for it in cases {
                match shapes.iter_mut().find(|(shape, ..)| *shape == it.shape) {
                    Some(entry) => entry.1 += 1,
                    None => shapes.push((&it.shape, 1, &it.detail)),
                }
            }
            shapes.sort_by_key(|it| std::cmp::Reverse(it.1));
            for (shape, n, example) in shapes.iter().take(EXAMPLES_MAX * 4) {
                text.push_str(&format!("\n    {n:>6} × {shape}\n           e.g. {example}"));
            }
        }
        text
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_two_minute_database_outage_under_load_loses_nothing() {
    let mut mariadb = PrivateMariadb::start();
    let options = Options { mysql_server: Some(mariadb.url()), ..Options::default() };
    let switch = Arc::new(start(Backend::Mariadb, options).await);
    let mut positions = HashMap::new();
    for name in DFSPS {
        positions.insert(name, switch.add_dfsp(name, FUNDING, NET_DEBIT_CAP).await.0);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(send_load(Arc::clone(&switch), Arc::clone(&stop)));
    tokio::time::sleep(BEFORE_OUTAGE).await;
    mariadb.kill();
    eprintln!("outage: MariaDB killed");
    tokio::time::sleep(OUTAGE).await;
    tokio::task::block_in_place(|| mariadb.restart());
    eprintln!("outage: MariaDB restarted on the same data directory");
    tokio::time::sleep(AFTER_OUTAGE).await;
    stop.store(true, Ordering::SeqCst);
    let sent = load.await.expect("the load task");
    let (malformed, sent): (Vec<Sent>, Vec<Sent>) = sent.into_iter().partition(|it| it.malformed);
    let malformed: Vec<&Sent> = malformed.iter().collect();
    let accepted: Vec<&Sent> = sent.iter().filter(|it| it.status == Ok(202)).collect();
    let refused: Vec<&Sent> = sent.iter().filter(|it| it.status != Ok(202)).collect();
    eprintln!(
        "outage: {} transfers sent, {} accepted, {} not: {:?}",
        sent.len(),
        accepted.len(),
        refused.len(),
        refused.iter().take(EXAMPLES_MAX).collect::<Vec<_>>()
    );
    assert!(accepted.len() * 2 > sent.len(), "the edge accepts transfers through the outage");

    // A view of the store opened after the restart: the switch's own pool saw the server die.
    let url = switch.mysql_url.clone().expect("a MariaDB switch");
    let store = MysqlStore::open(MysqlStoreConfig { url, ca_certificate: None, pool_connections_max: 8 })
        .await
        .expect("the restarted server");
    let started = Instant::now();
    let stranded = drain(&store, &accepted).await;
    eprintln!("outage: drained in {} s, {} not final", started.elapsed().as_secs(), stranded.len());
    let idle = switch.emulator.wait_idle(DRAIN_MAX).await;
    tokio::time::sleep(CALLBACK_SETTLE).await;

    let mut findings = Findings::default();
    let stranded = stranded.into_iter().map(|(id, last)| case(format!("last state {last}"), id)).collect();
    findings.add("accepted transfers not final after the drain", stranded);
    findings.add("hubs not drained", if idle { vec![] } else { vec![case("backlog left", "")] });
    let histories = histories(&store, &accepted).await;
    findings.add("accepted transfers without exactly one final state", one_final_state(&accepted, &histories));
    findings.add(
        "positions that are not the sum of committed transfers",
        positions_match(&store, &positions, &accepted, &histories).await,
    );
    let received = switch.simulators.received();
    let answered = switch.simulators.answered();
    findings.add("callbacks not sent exactly once", callbacks_once(&accepted, &histories, &received, &answered));
    findings.add("journal entries missing", journal_whole(&switch, &accepted, &histories, &received, &answered).await);
    findings.add("refused requests not journaled", refusals_journaled(&switch, &malformed).await);
    let abandoned = switch.emulator.counters.abandoned_batches.load(Ordering::SeqCst);
    findings.add(
        "batches given up by the host",
        if abandoned == 0 { vec![] } else { vec![case(format!("{abandoned} batches"), "")] },
    );
    summarise(&accepted, &histories);

    switch.emulator.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = std::fs::remove_dir_all(&switch.data_dir);
    drop(mariadb);
    assert!(findings.0.is_empty(), "after a {OUTAGE:?} outage:{}", findings.report());
}

/// Sends a transfer every [`SEND_INTERVAL`] among the DFSPs until `stop`; every send and its answer.
async fn send_load(switch: Arc<Switch>, stop: Arc<AtomicBool>) -> Vec<Sent> {
    const AMOUNTS: [&str; 5] = ["1", "2.5", "3", "7.25", "10"];
    let mut ticks = tokio::time::interval(SEND_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sends = Vec::new();
    let mut n: usize = 0;
    while !stop.load(Ordering::SeqCst) {
        ticks.tick().await;
        let (payer, payee) = (DFSPS[n % DFSPS.len()], DFSPS[(n + 1 + n / DFSPS.len()) % DFSPS.len()]);
        let payee = if payee == payer { DFSPS[(n + 2) % DFSPS.len()] } else { payee };
        let amount = AMOUNTS[n % AMOUNTS.len()];
        let switch = Arc::clone(&switch);
        let long_lived = n % 2 == 1;
        sends.push(tokio::spawn(async move {
            let sims = &switch.simulators;
            let id = uuid::Uuid::new_v4().to_string();
            let mut body = sims.prepare_body(&id, payer, payee, amount, "USD");
            let malformed = n % REFUSED_EVERY == REFUSED_EVERY / 2;
            if malformed {
                body.as_object_mut().expect("a prepare body").remove("amount");
            }
            if long_lived {
                let expiration = chrono::Utc::now() + chrono::Duration::from_std(LONG_VALIDITY).unwrap();
                body["expiration"] = expiration.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into();
            }
            let status = sims.send(reqwest::Method::POST, "/transfers", payer, payee, &body).await;
            Sent { id, payer, payee, amount, malformed, status }
        }));
        n += 1;
    }
    let mut sent = Vec::with_capacity(sends.len());
    for send in sends {
        sent.push(send.await.expect("a send task"));
    }
    sent
}

/// Waits until every accepted transfer is final, up to [`DRAIN_MAX`]; the ones that are not, with
/// their last state.
async fn drain(store: &MysqlStore, accepted: &[&Sent]) -> Vec<(String, String)> {
    let deadline = Instant::now() + DRAIN_MAX;
    let mut waiting: Vec<(String, String)> = accepted.iter().map(|it| (it.id.clone(), String::new())).collect();
    loop {
        let mut still = Vec::new();
        for (id, _) in waiting {
            let last = match store.state_history(&TransferId::parse(&id).unwrap()).await {
                Ok(history) => history.last().map(|it| it.state),
                Err(_) => None,
            };
            if !last.is_some_and(|it| it.is_final()) {
                still.push((id, last.map_or_else(|| "never written".to_string(), |it| format!("{it:?}"))));
            }
        }
        waiting = still;
        if waiting.is_empty() || deadline < Instant::now() {
            return waiting;
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}

/// Every accepted transfer's state history, oldest first.
async fn histories(store: &MysqlStore, accepted: &[&Sent]) -> HashMap<String, Vec<TransferState>> {
    let mut all = HashMap::new();
    for sent in accepted {
        let history = store.state_history(&TransferId::parse(&sent.id).unwrap()).await.expect("read a state history");
        all.insert(sent.id.clone(), history.iter().map(|it| it.state).collect());
    }
    all
}

fn one_final_state(accepted: &[&Sent], histories: &HashMap<String, Vec<TransferState>>) -> Vec<Case> {
    let mut broken = Vec::new();
    for sent in accepted {
        let history = &histories[&sent.id];
        let finals = history.iter().filter(|it| it.is_final()).count();
        let ends_final = history.last().is_some_and(|it| it.is_final());
        if finals != 1 || !ends_final {
            broken.push(case(format!("{history:?}"), sent.id.clone()));
        }
    }
    broken
}

fn committed(histories: &HashMap<String, Vec<TransferState>>, id: &str) -> bool {
    histories[id].last() == Some(&TransferState::Committed)
}

fn reserved(histories: &HashMap<String, Vec<TransferState>>, id: &str) -> bool {
    histories[id].contains(&TransferState::Reserved)
}

/// Each DFSP's position equals its committed transfers' sum, and its journal adds up to it.
async fn positions_match(
    store: &MysqlStore,
    positions: &HashMap<&str, ledger_core::account::Account>,
    accepted: &[&Sent],
    histories: &HashMap<String, Vec<TransferState>>,
) -> Vec<Case> {
    let mut expected: HashMap<&str, Amount> = DFSPS.iter().map(|it| (*it, Amount::ZERO)).collect();
    for sent in accepted.iter().filter(|it| committed(histories, &it.id)) {
        let amount = Amount::parse_decimal(sent.amount).unwrap();
        *expected.get_mut(sent.payer).unwrap() += amount;
        *expected.get_mut(sent.payee).unwrap() += -amount;
    }
    let mut broken = Vec::new();
    for name in DFSPS {
        let account = &positions[name];
        let position = store.balance(account.id).await.expect("read a position").0;
        if position != expected[name] {
            let detail = format!(
                "{name}: position {}, committed sum {}",
                position.to_decimal_string(),
                expected[name].to_decimal_string()
            );
            broken.push(case("position differs", detail));
        }
        let journal = store.position_journal(account.id).await.expect("read a position journal");
        let mut running = Amount::ZERO;
        for (_, change, value) in &journal {
            running += *change;
            if running != *value {
                let detail = format!(
                    "{name}: running value {} where the changes add to {}",
                    value.to_decimal_string(),
                    running.to_decimal_string()
                );
                broken.push(case("journal does not add up", detail));
                break;
            }
        }
        if running != position {
            let detail = format!(
                "{name}: journal ends at {}, position {}",
                running.to_decimal_string(),
                position.to_decimal_string()
            );
            broken.push(case("journal does not end at the position", detail));
        }
    }
    broken
}

/// The transfer a callback is about: its path's id, or a forwarded prepare's `transferId`.
fn callback_transfer(received: &Received) -> String {
    match received.path.split('/').nth(2) {
        Some(id) => id.to_string(),
        None => received.body["transferId"].as_str().unwrap_or_default().to_string(),
    }
}

/// What one DFSP received about one transfer, as `(method, kind)`; kind is `prepare`, `put`
/// or `error`.
fn callback_kind(received: &Received) -> (String, &'static str) {
    let kind = match (received.path.as_str(), received.path.ends_with("/error")) {
        ("/transfers", _) => "prepare",
        (_, true) => "error",
        (_, false) => "put",
    };
    (received.method.clone(), kind)
}

/// Whether the switch took a payee's answer (FSPIOP answers a PUT with 200).
fn taken(answer: &Answered) -> bool {
    answer.status.is_some_and(|status| (200..300).contains(&status))
}

/// Compares what each party received about each accepted transfer with what its outcome calls
/// for (module documentation).
fn callbacks_once(
    accepted: &[&Sent],
    histories: &HashMap<String, Vec<TransferState>>,
    received: &[Received],
    answered: &[Answered],
) -> Vec<Case> {
    let mut got: HashMap<(String, String), Vec<(String, &'static str)>> = HashMap::new();
    for it in received {
        got.entry((callback_transfer(it), it.fsp.clone())).or_default().push(callback_kind(it));
    }
    let mut fulfils_taken: HashMap<&str, usize> = HashMap::new();
    for it in answered.iter().filter(|it| taken(it)) {
        *fulfils_taken.entry(it.transfer_id.as_str()).or_default() += 1;
    }
    let mut broken = Vec::new();
    for sent in accepted {
        let id = sent.id.as_str();
        let (is_committed, is_reserved) = (committed(histories, id), reserved(histories, id));
        let payer_expects = vec![("PUT".to_string(), if is_committed { "put" } else { "error" })];
        let mut payee_expects = Vec::new();
        if is_reserved {
            payee_expects.push(("POST".to_string(), "prepare"));
        }
        if is_committed {
            payee_expects.push(("PUT".to_string(), "put"));
        }
        // The expiry's notice if the reservation expired, and a refusal of each fulfil the
        // switch took but did not commit with (after the expiry; a second one after a commit).
        let fulfils = fulfils_taken.get(id).copied().unwrap_or(0);
        let errors = usize::from(is_reserved && !is_committed) + fulfils.saturating_sub(usize::from(is_committed));
        payee_expects.extend(std::iter::repeat_n(("PUT".to_string(), "error"), errors));
        for (role, fsp, mut expects) in [("payer", sent.payer, payer_expects), ("payee", sent.payee, payee_expects)] {
            let mut found = got.get(&(id.to_string(), fsp.to_string())).cloned().unwrap_or_default();
            found.sort();
            expects.sort();
            if found != expects {
                let shape = format!("{role} got {found:?}, expected {expects:?}; history {:?}", histories[id]);
                broken.push(case(shape, format!("{id} to {fsp}")));
            }
        }
    }
    broken
}

/// Reads every accepted transfer's journal through the admin API and checks it holds the
/// accepted requests and the delivered callbacks.
async fn journal_whole(
    switch: &Switch,
    accepted: &[&Sent],
    histories: &HashMap<String, Vec<TransferState>>,
    received: &[Received],
    answered: &[Answered],
) -> Vec<Case> {
    let mut callbacks: HashMap<String, Vec<&Received>> = HashMap::new();
    for it in received {
        callbacks.entry(callback_transfer(it)).or_default().push(it);
    }
    let mut fulfils: HashMap<&str, Vec<&Answered>> = HashMap::new();
    for it in answered.iter().filter(|it| taken(it)) {
        fulfils.entry(it.transfer_id.as_str()).or_default().push(it);
    }
    let entries = read_journals(switch, accepted).await;
    let mut broken = Vec::new();
    for sent in accepted {
        let id = sent.id.as_str();
        let Some(found) = entries.get(id) else {
            broken.push(case("the journal could not be read", id));
            continue;
        };
        let mut expected =
            vec![(String::from("inbound_request"), String::from("POST"), String::from("/transfers"), 202)];
        for fulfil in fulfils.get(id).into_iter().flatten() {
            expected.push((
                "inbound_request".into(),
                "PUT".into(),
                fulfil.path.clone(),
                fulfil.status.map_or(0, i32::from),
            ));
        }
        for callback in callbacks.get(id).into_iter().flatten() {
            let status = if callback.method == "POST" { 202 } else { 200 };
            expected.push((
                "outbound_callback".into(),
                callback.method.clone(),
                format!("/{}{}", callback.fsp, callback.path),
                status,
            ));
        }
        let mut left: Vec<&Value> = found.iter().collect();
        for (direction, method, url_end, status) in expected {
            let matches = |entry: &&Value| {
                entry["direction"] == direction.as_str()
                    && entry["method"] == method.as_str()
                    && entry["url"].as_str().is_some_and(|url| url.ends_with(&url_end))
                    && entry["httpStatus"] == status
            };
            match left.iter().position(matches) {
                Some(at) => {
                    left.remove(at);
                }
                None => {
                    let kind = if url_end.ends_with("/error") {
                        "…/error"
                    } else if url_end.ends_with("/transfers") {
                        "…/transfers"
                    } else {
                        "…/transfers/{id}"
                    };
                    let shape = format!("no {direction} entry {method} {kind} {status}; history {:?}", histories[id]);
                    broken.push(case(shape, format!("{id}: {url_end}")));
                }
            }
        }
    }
    broken
}

/// Every accepted transfer's journal entries, read with `GET /journal/{transferId}`.
async fn read_journals(switch: &Switch, accepted: &[&Sent]) -> HashMap<String, Vec<Value>> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let admin = switch.emulator.admin_url();
    let permits = Arc::new(tokio::sync::Semaphore::new(JOURNAL_READS_CONCURRENT));
    let all = Arc::new(Mutex::new(HashMap::new()));
    let mut reads = tokio::task::JoinSet::new();
    for sent in accepted {
        let (client, url, id) = (client.clone(), format!("{admin}/journal/{}", sent.id), sent.id.clone());
        let (permits, all) = (Arc::clone(&permits), Arc::clone(&all));
        reads.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let answer = client.get(&url).header("ocp-apim-subscription-key", OPERATOR_KEY).send().await;
            let Ok(answer) = answer.and_then(|it| it.error_for_status()) else { return };
            let Ok(body) = answer.json::<Value>().await else { return };
            let entries = body["entries"].as_array().cloned().unwrap_or_default();
            all.lock().unwrap().insert(id, entries);
        });
    }
    while reads.join_next().await.is_some() {}
    let all = std::mem::take(&mut *all.lock().unwrap());
    all
}

/// Every refused request was answered [`REFUSED_STATUS`] and is in the journal with that answer,
/// whether the journal was up when it was refused or the notification hub carried its entry.
async fn refusals_journaled(switch: &Switch, malformed: &[&Sent]) -> Vec<Case> {
    let entries = read_journals(switch, malformed).await;
    let mut broken = Vec::new();
    for sent in malformed {
        if sent.status != Ok(REFUSED_STATUS) {
            broken.push(case(format!("answered {:?}", sent.status), sent.id.clone()));
            continue;
        }
        let journaled = entries.get(&sent.id).into_iter().flatten().any(|entry| {
            entry["direction"] == "inbound_request"
                && entry["method"] == "POST"
                && entry["url"].as_str().is_some_and(|url| url.ends_with("/transfers"))
                && entry["httpStatus"] == REFUSED_STATUS
        });
        if !journaled {
            broken.push(case("no inbound POST /transfers entry answered 400", sent.id.clone()));
        }
    }
    eprintln!("outage: {} refused requests sent, {} not journaled", malformed.len(), broken.len());
    broken
}

/// One line on how the accepted transfers ended, for the test's output.
fn summarise(accepted: &[&Sent], histories: &HashMap<String, Vec<TransferState>>) {
    let mut by_final: HashMap<String, usize> = HashMap::new();
    for sent in accepted {
        let last = histories[&sent.id].last().map_or_else(|| "never written".to_string(), |it| format!("{it:?}"));
        *by_final.entry(last).or_default() += 1;
    }
    eprintln!("outage: accepted transfers by last state: {by_final:?}");
}
