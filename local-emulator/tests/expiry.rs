//! Expiry on time, end to end over real HTTP, on SQLite and on MariaDB: among a steady stream
//! of transfers that commit, transfers whose payee never answers are aborted at their expiration,
//! and both parties hear of it within [`EXPIRY_NOTICE_MAX`] of it (read from the callbacks'
//! arrival times against each transfer's expiration); committed and expired transfers alike
//! leave nothing on the timeout work-list.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use local_emulator::simulator::{PayeeMode, Received, Simulators};
use support::*;

/// The payee that never answers.
const SILENT: &str = "silentfsp";
/// How late after its expiration both parties may hear that a transfer expired.
const EXPIRY_NOTICE_MAX: Duration = Duration::from_secs(2);
/// How long the traffic runs, and how many transfers start each tick of it.
const TRAFFIC_TICKS: u32 = 40;
const TICK: Duration = Duration::from_millis(250);
const COMMITTING_PER_TICK: u32 = 10;
/// Every fourth tick, one transfer to the silent payee, expiring this long after it is sent.
const SILENT_EVERY_TICKS: u32 = 4;
const SILENT_VALIDITY: Duration = Duration::from_millis(3_500);
/// How long the test waits for every outcome once the traffic has stopped.
const OUTCOME_WAIT: Duration = Duration::from_secs(90);

/// A transfer sent to the silent payee: its id and its expiration.
struct Expiring {
    id: String,
    expiration: SystemTime,
}

/// Where an `Instant` of this process lies on the wall clock the expirations are written in.
struct Clock {
    instant: Instant,
    wall: SystemTime,
}

impl Clock {
    fn now() -> Clock {
        Clock { instant: Instant::now(), wall: SystemTime::now() }
    }

    fn wall(&self, at: Instant) -> SystemTime {
        self.wall + at.duration_since(self.instant)
    }
}

fn fspiop_time(at: SystemTime) -> String {
    let ms = at.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

async fn send(sims: &Simulators, payee: &str, expiration: SystemTime) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let mut body = sims.prepare_body(&id, PAYER, payee, "1", "USD");
    body["expiration"] = fspiop_time(expiration).into();
    let status = sims.send(reqwest::Method::POST, "/transfers", PAYER, payee, &body).await.unwrap();
    assert_eq!(status, 202, "prepare {id}");
    id
}

/// The 3303 error callback `fsp` received for `id`, if any.
fn expiry_notice<'a>(received: &'a [Received], fsp: &str, id: &str) -> Option<&'a Received> {
    received.iter().find(|it| {
        it.fsp == fsp
            && it.method == "PUT"
            && it.path == format!("/transfers/{id}/error")
            && it.body["errorInformation"]["errorCode"] == "3303"
    })
}

fn committed(received: &[Received], id: &str) -> bool {
    received
        .iter()
        .any(|it| it.fsp == PAYER && it.path == format!("/transfers/{id}") && it.body["transferState"] == "COMMITTED")
}

/// The cases run one at a time: they measure how late a notice is, and a second switch under
/// load beside the first only measures the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn unanswered_transfers_expire_on_time_among_committing_traffic(backend: Backend) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let switch = start(backend, Options::default()).await;
    let (payer, _) = switch.add_dfsp(PAYER, "100000", 100000).await;
    switch.add_dfsp(PAYEE, "100000", 100000).await;
    switch.add_dfsp(SILENT, "100000", 100000).await;
    let sims = switch.simulators.clone();
    sims.set_payee_mode(SILENT, PayeeMode::Silent);
    let clock = Clock::now();

    let mut committing = Vec::new();
    let mut expiring = Vec::new();
    let mut ticks = tokio::time::interval(TICK);
    for tick in 0..TRAFFIC_TICKS {
        ticks.tick().await;
        let validity = SystemTime::now() + Duration::from_secs(60);
        for _ in 0..COMMITTING_PER_TICK {
            let sims = sims.clone();
            committing.push(tokio::spawn(async move { send(&sims, PAYEE, validity).await }));
        }
        if tick % SILENT_EVERY_TICKS == 0 {
            let expiration = SystemTime::now() + SILENT_VALIDITY;
            expiring.push(Expiring { id: send(&sims, SILENT, expiration).await, expiration });
        }
    }
    let mut committing_ids = Vec::new();
    for sent in committing {
        committing_ids.push(sent.await.unwrap());
    }

    let all_heard = sims
        .wait_until(OUTCOME_WAIT, |r| {
            expiring
                .iter()
                .all(|it| expiry_notice(r, PAYER, &it.id).is_some() && expiry_notice(r, SILENT, &it.id).is_some())
                && committing_ids.iter().all(|id| committed(r, id))
        })
        .await;
    let received = sims.received();
    let unheard = expiring.iter().filter(|it| {
        expiry_notice(&received, PAYER, &it.id).is_none() || expiry_notice(&received, SILENT, &it.id).is_none()
    });
    let uncommitted = committing_ids.iter().filter(|id| !committed(&received, id));
    assert!(
        all_heard,
        "within {OUTCOME_WAIT:?}: {} expiries not heard by both, {} commits not heard",
        unheard.count(),
        uncommitted.count()
    );
    // Both parties of every expired transfer, how late after its expiration, latest first.
    let mut lateness: Vec<(Duration, &str, &str)> = Vec::new();
    for transfer in &expiring {
        for fsp in [PAYER, SILENT] {
            let notice = expiry_notice(&received, fsp, &transfer.id).expect("checked above");
            lateness.push((
                clock.wall(notice.at).duration_since(transfer.expiration).unwrap_or_default(),
                fsp,
                &transfer.id,
            ));
        }
    }
    lateness.sort_by(|a, b| b.cmp(a));
    eprintln!(
        "expiry notices, latest first, after expiration: {:?}",
        lateness.iter().map(|it| it.0).collect::<Vec<_>>()
    );
    let (latest, fsp, id) = lateness[0];
    assert!(
        latest <= EXPIRY_NOTICE_MAX,
        "{fsp} heard {latest:?} after transfer {id} expired; all: {:?}",
        lateness.iter().map(|it| it.0).collect::<Vec<_>>()
    );

    assert!(switch.emulator.wait_idle(OUTCOME_WAIT).await);
    for transfer in &expiring {
        let record = switch.store.transfer(&TransferId::parse(&transfer.id).unwrap()).await.unwrap().unwrap();
        assert_eq!(record.current.state, TransferState::ExpiredReserved, "{}", transfer.id);
    }
    let mut tx = switch.store.begin().await.unwrap();
    let listed: HashSet<TransferId> = tx
        .due_timeouts(Timestamp::from_unix_ms(i64::MAX), 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    drop(tx);
    assert!(listed.is_empty(), "{} transfers left on the timeout work-list", listed.len());
    let expected = Amount::from_whole(committing_ids.len() as i64);
    assert_eq!(
        switch.position(&payer).await,
        expected.to_decimal_string(),
        "the payer's position holds the committed transfers only"
    );
    switch.finish().await;
}

on_both_backends!(unanswered_transfers_expire_on_time_among_committing_traffic);
