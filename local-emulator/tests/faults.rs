//! Fault injection end to end, on SQLite and on MariaDB: the handler crashing right before and
//! right after a batch's commit, every batch delivered twice, a slow partition, a DFSP endpoint
//! that fails, and the handler killed over and over while transfers flow. Afterwards every
//! accepted transfer has exactly one final state, every payer heard of it, no position moved
//! twice, and every position equals the end of its journal.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger_core::account::Account;
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use local_emulator::faults::Fault;
use local_emulator::simulator::Simulators;
use support::*;

/// How long a sender keeps retrying a prepare the edge could not accept (handler down).
const SEND_RETRY_FOR: Duration = Duration::from_secs(60);
/// How long the kill test waits for every transfer's outcome.
const OUTCOME_WAIT: Duration = Duration::from_secs(120);

/// Sends a prepare until the switch accepts it (a DFSP retries a 5xx or a dropped connection).
async fn send_until_accepted(sims: &Simulators, payer: &str, payee: &str, amount: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let body = sims.prepare_body(&id, payer, payee, amount, "USD");
    let deadline = Instant::now() + SEND_RETRY_FOR;
    loop {
        match sims.send(reqwest::Method::POST, "/transfers", payer, payee, &body).await {
            Ok(202) => return id,
            Ok(status) if status < 500 => panic!("prepare {id} refused with {status}"),
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("prepare {id} never accepted: {other:?}"),
        }
    }
}

fn payer_heard(received: &[local_emulator::simulator::Received], payer: &str, id: &str) -> bool {
    received.iter().any(|it| it.fsp == payer && it.method == "PUT" && it.path.contains(id))
}

/// One transfer through a switch with `faults`; the payer's and payee's positions after it.
async fn one_transfer_with(backend: Backend, faults: Vec<Fault>) -> (String, String, Switch) {
    let switch = start(backend, Options { faults, ..Options::default() }).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    let (payee, _) = switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    let id = send_until_accepted(sims, PAYER, PAYEE, "100").await;
    let committed = sims
        .wait_until(OUTCOME_WAIT, |r| {
            r.iter().any(|it| it.fsp == PAYER && it.body["transferState"] == "COMMITTED" && it.path.contains(&id))
        })
        .await;
    assert!(committed, "{:#?}", sims.received());
    assert!(switch.emulator.wait_idle(OUTCOME_WAIT).await);
    let positions = (switch.position(&payer).await, switch.position(&payee).await);
    check_journals(&switch, &[payer, payee]).await;
    (positions.0, positions.1, switch)
}

async fn a_crash_right_after_the_position_commit_loses_nothing(backend: Backend) {
    let (payer, payee, switch) =
        one_transfer_with(backend, vec![Fault::parse("crash:position:after-commit:1").unwrap()]).await;
    assert_eq!((payer.as_str(), payee.as_str()), ("100.0000", "-100.0000"));
    assert!(switch.emulator.supervisor.starts() >= 2, "the handler crashed and came back");
    assert_eq!(switch.emulator.counters.abandoned_batches.load(Ordering::SeqCst), 0);
    switch.finish().await;
}

async fn a_crash_right_after_the_prepare_commit_loses_nothing(backend: Backend) {
    let (payer, payee, switch) =
        one_transfer_with(backend, vec![Fault::parse("crash:prepare:after-commit:1").unwrap()]).await;
    assert_eq!((payer.as_str(), payee.as_str()), ("100.0000", "-100.0000"));
    assert!(switch.emulator.supervisor.starts() >= 2, "the handler crashed and came back");
    switch.finish().await;
}

async fn a_crash_right_before_the_fulfil_commit_loses_nothing(backend: Backend) {
    let (payer, payee, switch) =
        one_transfer_with(backend, vec![Fault::parse("crash:fulfil:before-commit:1").unwrap()]).await;
    assert_eq!((payer.as_str(), payee.as_str()), ("100.0000", "-100.0000"));
    assert!(switch.emulator.supervisor.starts() >= 2, "the handler crashed and came back");
    switch.finish().await;
}

async fn a_crash_after_the_timeout_scan_commits_still_tells_both_sides(backend: Backend) {
    let switch = start(
        backend,
        Options { faults: vec![Fault::parse("crash:timeout:after-commit:1").unwrap()], ..Options::default() },
    )
    .await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    sims.set_payee_mode(PAYEE, local_emulator::simulator::PayeeMode::Silent);
    let (id, body) = prepare_expiring_soon(sims);
    assert_eq!(sims.send(reqwest::Method::POST, "/transfers", PAYER, PAYEE, &body).await.unwrap(), 202);
    let told = |r: &[local_emulator::simulator::Received], fsp: &str| {
        r.iter().any(|it| {
            it.fsp == fsp
                && it.path.ends_with("/error")
                && it.body["errorInformation"]["errorCode"] == "3303"
                && it.path.contains(&id)
        })
    };
    let both = sims.wait_until(OUTCOME_WAIT, |r| told(r, PAYER) && told(r, PAYEE)).await;
    assert!(both, "{:#?}", sims.received());
    assert!(switch.emulator.supervisor.starts() >= 2, "the handler crashed after the scan and came back");
    assert!(switch.emulator.wait_idle(OUTCOME_WAIT).await);
    assert_eq!(switch.position(&payer).await, "0.0000", "the reservation is reversed once");
    check_journals(&switch, &[payer]).await;
    switch.finish().await;
}

async fn every_batch_delivered_twice_moves_positions_once(backend: Backend) {
    let faults = [
        "redeliver:prepare",
        "redeliver:position",
        "redeliver:fulfil",
        "redeliver:notification",
        "delay:transfer-position/0:100",
        "delay:transfer-position/1:100",
    ]
    .iter()
    .map(|it| Fault::parse(it).unwrap())
    .collect();
    let (payer, payee, switch) = one_transfer_with(backend, faults).await;
    assert_eq!((payer.as_str(), payee.as_str()), ("100.0000", "-100.0000"));
    let received = switch.simulators.received();
    let to_payer: Vec<_> = received.iter().filter(|it| it.fsp == PAYER).collect();
    assert_eq!(to_payer.len(), 1, "a redelivered notification is not sent again: {to_payer:#?}");
    switch.finish().await;
}

async fn a_failing_dfsp_endpoint_gets_its_callback_on_a_retry(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    switch.add_dfsp(PAYER, "1000", 1000).await;
    switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;
    sims.fail_next_callbacks(PAYER, 2);
    let id = send_until_accepted(sims, PAYER, PAYEE, "10").await;
    assert!(sims.wait_until(OUTCOME_WAIT, |r| payer_heard(r, PAYER, &id)).await, "{:#?}", sims.received());
    assert_eq!(sims.refused(PAYER), 2);
    switch.finish().await;
}

/// Many transfers among four DFSPs while the handler is killed again and again.
async fn killing_the_handler_repeatedly_loses_and_doubles_nothing(backend: Backend) {
    const DFSPS: [&str; 4] = ["dfspa", "dfspb", "dfspc", "dfspd"];
    const TRANSFERS: usize = 120;
    const KILLS: usize = 6;
    let switch = Arc::new(start(backend, Options::default()).await);
    let mut accounts = HashMap::new();
    for name in DFSPS {
        accounts.insert(name, switch.add_dfsp(name, "100000", 100000).await.0);
    }

    let killer = {
        let switch = Arc::clone(&switch);
        tokio::spawn(async move {
            for _ in 0..KILLS {
                tokio::time::sleep(Duration::from_millis(700)).await;
                switch.emulator.supervisor.kill().await;
            }
        })
    };
    let mut senders = Vec::new();
    for n in 0..TRANSFERS {
        let switch = Arc::clone(&switch);
        let (payer, payee) = (DFSPS[n % 4], DFSPS[(n + 1 + n / 4) % 4]);
        let payee = if payee == payer { DFSPS[(n + 2) % 4] } else { payee };
        senders.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30 * n as u64)).await;
            let amount = format!("{}", 1 + n % 7);
            let id = send_until_accepted(&switch.simulators, payer, payee, &amount).await;
            (id, payer, payee, amount)
        }));
    }
    let mut sent = Vec::new();
    for sender in senders {
        sent.push(sender.await.unwrap());
    }
    killer.await.unwrap();

    let sims = &switch.simulators;
    let all_heard =
        sims.wait_until(OUTCOME_WAIT, |r| sent.iter().all(|(id, payer, ..)| payer_heard(r, payer, id))).await;
    let missing: Vec<&String> =
        sent.iter().filter(|(id, payer, ..)| !payer_heard(&sims.received(), payer, id)).map(|it| &it.0).collect();
    assert!(all_heard, "payers never heard of {missing:?}");
    assert!(switch.emulator.wait_idle(OUTCOME_WAIT).await);
    assert!(switch.emulator.supervisor.starts() as usize > KILLS, "the handler was killed {KILLS} times and restarted");
    assert_eq!(switch.emulator.counters.abandoned_batches.load(Ordering::SeqCst), 0, "no batch was given up");

    // Exactly one final state per transfer, and the positions it implies.
    let mut expected: HashMap<&str, Amount> = DFSPS.iter().map(|it| (*it, Amount::ZERO)).collect();
    for (id, payer, payee, amount) in &sent {
        let history = switch.store.state_history(&TransferId::parse(id).unwrap()).await.unwrap();
        let finals: Vec<TransferState> = history.iter().map(|it| it.state).filter(|it| it.is_final()).collect();
        assert_eq!(finals.len(), 1, "{id}: {history:?}");
        assert!(history.last().unwrap().state.is_final(), "{id} ends final: {history:?}");
        if finals[0] == TransferState::Committed {
            let amount = Amount::parse_decimal(amount).unwrap();
            *expected.get_mut(payer).unwrap() += amount;
            *expected.get_mut(payee).unwrap() += -amount;
        }
    }
    for name in DFSPS {
        let position = switch.store.balance(accounts[name].id).await.unwrap().0;
        assert_eq!(position, expected[name], "{name}: the position is the sum of its committed transfers");
    }
    let all: Vec<Account> = accounts.values().cloned().collect();
    check_journals(&switch, &all).await;
    Arc::into_inner(switch).expect("no other owner").finish().await;
}

/// Every journal's running value adds up, ends at the account's position, and holds at most a
/// reservation and its reversal (or one commit) per transfer.
async fn check_journals(switch: &Switch, accounts: &[Account]) {
    for account in accounts {
        let journal = switch.store.position_journal(account.id).await.unwrap();
        let mut running = Amount::ZERO;
        let mut per_transfer: HashMap<TransferId, Vec<Amount>> = HashMap::new();
        for (transfer, change, value) in &journal {
            running += *change;
            assert_eq!(running, *value, "account {:?}: the running value adds up", account.id);
            if let Some(transfer) = transfer {
                per_transfer.entry(transfer.clone()).or_default().push(*change);
            }
        }
        let position = switch.store.balance(account.id).await.unwrap().0;
        assert_eq!(running, position, "account {:?}: the journal ends at the position", account.id);
        for (transfer, changes) in per_transfer {
            let distinct: HashSet<String> = changes.iter().map(|it| it.to_decimal_string()).collect();
            assert!(
                changes.len() <= 2 && distinct.len() == changes.len(),
                "{transfer:?} moved account {:?} twice the same way: {changes:?}",
                account.id
            );
        }
    }
}

on_both_backends!(
    a_crash_right_after_the_position_commit_loses_nothing,
    a_crash_right_after_the_prepare_commit_loses_nothing,
    a_crash_right_before_the_fulfil_commit_loses_nothing,
    a_crash_after_the_timeout_scan_commits_still_tells_both_sides,
    every_batch_delivered_twice_moves_positions_once,
    a_failing_dfsp_endpoint_gets_its_callback_on_a_retry,
    killing_the_handler_repeatedly_loses_and_doubles_nothing,
);
