//! Amounts over the whole FSPIOP range end to end over real HTTP, on SQLite and on MariaDB: an
//! amount the edge accepts always gets its business answer (a refusal by the payer's limits, a
//! validation error, or a commit where the limits allow it), never a store failure, and the
//! transfers sent beside it go through.

mod support;

use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use local_emulator::simulator::Received;
use support::*;

/// Fifteen integer digits: within FSPIOP's pattern, beyond Mojaloop's `DECIMAL(18,4)`.
const FIFTEEN_DIGITS: &str = "100000000000000";
/// FSPIOP's largest amount: the pattern allows it, the prepare's precision rule (18) refuses it.
const FSPIOP_LARGEST: &str = "999999999999999999.9999";

/// The payer's final callback for `id`: the transfer's PUT or its error.
fn final_callback<'a>(received: &'a [Received], id: &str) -> Option<&'a Received> {
    received.iter().find(|it| it.fsp == PAYER && it.method == "PUT" && it.path.starts_with(&format!("/transfers/{id}")))
}

fn error_code(callback: &Received) -> &str {
    callback.body["errorInformation"]["errorCode"].as_str().unwrap_or("none")
}

async fn wide_amounts_are_refused_by_the_ledger_and_the_others_commit(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "1000", 1000).await;
    let (payee, _) = switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;

    // Sent at once, so the wide amounts travel in the same batches as the normal ones.
    let sent = tokio::join!(
        sims.send_transfer(PAYER, PAYEE, "10", "USD"),
        sims.send_transfer(PAYER, PAYEE, FIFTEEN_DIGITS, "USD"),
        sims.send_transfer(PAYER, PAYEE, "20", "USD"),
        sims.send_transfer(PAYER, PAYEE, FSPIOP_LARGEST, "USD"),
        sims.send_transfer(PAYER, PAYEE, "30", "USD"),
    );
    let sent = [sent.0, sent.1, sent.2, sent.3, sent.4].map(|it| it.unwrap());
    assert!(sent.iter().all(|(_, status)| *status == 202), "{sent:?}");
    let ids: Vec<String> = sent.into_iter().map(|(id, _)| id).collect();
    let answered = sims.wait_until(CALLBACK_WAIT, |r| ids.iter().all(|id| final_callback(r, id).is_some())).await;
    assert!(answered, "every transfer gets its answer: {:#?}", sims.received());

    let received = sims.received();
    for idx in [0, 2, 4] {
        let callback = final_callback(&received, &ids[idx]).unwrap();
        assert_eq!(callback.body["transferState"], "COMMITTED", "{callback:#?}");
    }
    let fifteen = final_callback(&received, &ids[1]).unwrap();
    assert_eq!(error_code(fifteen), "4001", "the payer's liquidity refuses it: {fifteen:#?}");
    let largest = final_callback(&received, &ids[3]).unwrap();
    assert_eq!(error_code(largest), "3100", "beyond Mojaloop's precision of 18: {largest:#?}");
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(switch.position(&payer).await, "60.0000");
    assert_eq!(switch.position(&payee).await, "-60.0000");

    // Both were recorded with their exact amounts and their business outcome.
    let stored: Vec<TransferId> = ids.iter().map(|it| TransferId::parse(it).unwrap()).collect();
    let stored = switch.store.transfers(&stored).await.unwrap();
    let fifteen = &stored[&TransferId::parse(&ids[1]).unwrap()];
    assert_eq!(
        (fifteen.amount, fifteen.current.state),
        (Amount::from_whole(100_000_000_000_000), TransferState::AbortedRejected)
    );
    let largest = &stored[&TransferId::parse(&ids[3]).unwrap()];
    assert_eq!(
        (largest.amount, largest.current.state),
        (Amount::from_units(10_i128.pow(22) - 1), TransferState::Invalid)
    );
    switch.finish().await;
}

async fn a_fifteen_digit_amount_commits_where_the_limits_allow_it(backend: Backend) {
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "200000000000000", 200_000_000_000_000).await;
    let (payee, _) = switch.add_dfsp(PAYEE, "1000", 1000).await;
    let sims = &switch.simulators;

    let (id, status) = sims.send_transfer(PAYER, PAYEE, FIFTEEN_DIGITS, "USD").await.unwrap();
    assert_eq!(status, 202);
    let both = |r: &[Received]| {
        [PAYER, PAYEE]
            .iter()
            .all(|fsp| r.iter().any(|it| it.fsp == *fsp && it.method == "PUT" && it.path.contains(&id)))
    };
    assert!(sims.wait_until(CALLBACK_WAIT, both).await, "{:#?}", sims.received());
    let received = sims.received();
    let to_payer = final_callback(&received, &id).unwrap();
    assert_eq!(to_payer.body["transferState"], "COMMITTED", "{to_payer:#?}");
    assert!(switch.emulator.wait_idle(CALLBACK_WAIT).await);
    assert_eq!(switch.position(&payer).await, "100000000000000.0000");
    assert_eq!(switch.position(&payee).await, "-100000000000000.0000");
    switch.finish().await;
}

on_both_backends!(
    wide_amounts_are_refused_by_the_ledger_and_the_others_commit,
    a_fifteen_digit_amount_commits_where_the_limits_allow_it,
);
