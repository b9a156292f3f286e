//! Poison isolation over real HTTP, on SQLite and on MariaDB: one event of a batch whose
//! transfer the store cannot read (its state row tampered with in the database) fails alone,
//! in the prepare, position, fulfil and get functions; the other events of the same
//! invocation commit and are answered, and the poison is kept as a dead letter with its
//! transfer id, its DFSP-made request answered `2001`.

mod support;

use std::sync::Arc;

use handler::app::router;
use handler::envelope::Envelope;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use mysql_async::prelude::Queryable as _;
use serde_json::Value;
use support::*;

const TAMPER_SQL: &str =
    "UPDATE transfer_state_change SET state = 'TAMPERED' WHERE transfer_seq = (SELECT transfer_seq FROM transfer WHERE transfer_id = ?)";

/// Where the store lives, so the test can reach under it.
enum Backend {
    Sqlite(std::path::PathBuf),
    Mysql(String),
}

impl Backend {
    /// Makes the transfer's state rows unreadable: a deterministic fault of the kind a retry
    /// cannot cure.
    async fn tamper(&self, id: &TransferId) {
        match self {
            Backend::Sqlite(path) => {
                let connection = rusqlite::Connection::open(path).unwrap();
                let n = connection.execute(TAMPER_SQL, [id.as_str()]).unwrap();
                assert!(0 < n, "no state rows for {id}");
            }
            Backend::Mysql(url) => {
                let mut connection = mysql_async::Conn::from_url(url.as_str()).await.unwrap();
                connection.exec_drop(TAMPER_SQL, (id.as_str(),)).await.unwrap();
                assert!(0 < connection.affected_rows(), "no state rows for {id}");
                connection.disconnect().await.unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_one_poison_event_fails_alone_in_each_batch_function() {
    let (store, path) = sqlite().await;
    one_poison_event_fails_alone_in_each_batch_function(store, Backend::Sqlite(path.clone())).await;
    remove_sqlite(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_one_poison_event_fails_alone_in_each_batch_function() {
    let config = mysql_config();
    let url = config.url.clone();
    let store = mysql_at(config).await;
    one_poison_event_fails_alone_in_each_batch_function(store.clone(), Backend::Mysql(url)).await;
    store.drop_database().await.expect("drop the test database");
}

async fn one_poison_event_fails_alone_in_each_batch_function(store: Arc<dyn LedgerStore>, backend: Backend) {
    provision(store.as_ref(), "1000").await;
    let (hubs, hubs_url) = recording_hubs().await;
    let handler = serve_router(router(app_publishing_to(store.clone(), &hubs_url, fixed_now))).await;
    let client = reqwest::Client::new();
    let invoke = async |function: &str, events: &[Envelope]| -> Value {
        let bodies: Vec<String> = events.iter().map(Envelope::to_json).collect();
        let keys = vec![None; bodies.len()];
        let response =
            client.post(format!("{handler}/{function}")).json(&invocation(&bodies, &keys)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{function} must answer, not ask for a retry");
        response.json().await.unwrap()
    };

    // Three transfers recorded normally; then the middle one's state becomes unreadable.
    let (a, a_prepare) = prepare_event("payerfsp", "payeefsp", "1", NOW);
    let (poison, poison_prepare) = prepare_event("payerfsp", "payeefsp", "2", NOW);
    let (b, b_prepare) = prepare_event("payerfsp", "payeefsp", "3", NOW);
    invoke("prepare", &[a_prepare, poison_prepare.clone(), b_prepare]).await;
    let reserves = taken(&hubs, "transfer-position");
    assert_eq!(reserves.len(), 3);
    backend.tamper(&poison).await;

    // prepare: two new transfers around a resend of the poisoned one.
    let (c, c_prepare) = prepare_event("payerfsp", "payeefsp", "4", NOW);
    let (d, d_prepare) = prepare_event("payerfsp", "payeefsp", "5", NOW);
    invoke("prepare", &[c_prepare, poison_prepare, d_prepare]).await;
    assert_eq!(transfer_ids(&taken(&hubs, "transfer-position")), vec![c.to_string(), d.to_string()]);
    assert_internal_error_to(&taken(&hubs, "notification-event"), &poison, "payerfsp");
    assert_states(store.as_ref(), &[&c, &d], TransferState::ReceivedPrepare).await;

    // position: the poisoned transfer's reservation between two others.
    invoke("position", &reserves).await;
    let told = taken(&hubs, "notification-event");
    assert_eq!(transfer_ids(&told), vec![a.to_string(), b.to_string()], "only the healthy ones reach the payee");
    assert_states(store.as_ref(), &[&a, &b], TransferState::Reserved).await;

    // fulfil: the payee's fulfils, the poisoned one in the middle.
    let fulfils: Vec<Envelope> = [&a, &poison, &b]
        .iter()
        .map(|id| fulfil_event(id, "COMMITTED", Some(TTK_FULFILMENT), "payeefsp", CONTENT_TYPE, NOW))
        .collect();
    invoke("fulfil", &fulfils).await;
    assert_eq!(transfer_ids(&taken(&hubs, "transfer-position")), vec![a.to_string(), b.to_string()]);
    assert_internal_error_to(&taken(&hubs, "notification-event"), &poison, "payeefsp");
    assert_states(store.as_ref(), &[&a, &b], TransferState::ReceivedFulfil).await;

    // get: the payer asks after both.
    invoke("get", &[get_event(poison.as_str(), "payerfsp", NOW), get_event(a.as_str(), "payerfsp", NOW)]).await;
    let answers = taken(&hubs, "notification-event");
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_internal_error_to(&answers[..1], &poison, "payerfsp");
    assert_eq!(answers[1].id, a.to_string());
    assert_eq!(answers[1].metadata.event.state.code, 0, "the healthy GET is answered with the state");

    // Every poison kept, once per function that met it, with its transfer id.
    let dead = store.dead_letters(100).await.unwrap();
    let mut reasons: Vec<String> = dead.iter().map(|it| it.reason.split(':').next().unwrap().to_string()).collect();
    reasons.sort();
    assert_eq!(reasons, ["fulfil", "get", "position", "prepare"], "{dead:?}");
    assert!(dead.iter().all(|it| it.transfer_id.as_deref() == Some(poison.as_str())), "{dead:?}");
    assert!(dead.iter().all(|it| it.event_id.is_some()), "{dead:?}");
}

fn fixed_now() -> Timestamp {
    NOW
}

/// The events published to `hub` since the last call, in order.
fn taken(hubs: &Hubs, hub: &str) -> Vec<Envelope> {
    taken_events(hubs, hub).iter().map(|(_, body)| Envelope::from_json(body).unwrap()).collect()
}

fn transfer_ids(events: &[Envelope]) -> Vec<String> {
    events.iter().map(|it| it.id.clone()).collect()
}

fn assert_internal_error_to(events: &[Envelope], poison: &TransferId, recipient: &str) {
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.id, poison.to_string());
    assert_eq!(event.to, recipient);
    assert_eq!(event.from, "Hub");
    assert_eq!(event.metadata.event.state.code, 2001);
    assert_eq!(json(event)["errorInformation"]["errorCode"], "2001");
}

async fn assert_states(store: &dyn LedgerStore, ids: &[&TransferId], state: TransferState) {
    let ids: Vec<TransferId> = ids.iter().map(|it| (*it).clone()).collect();
    let found = store.transfers(&ids).await.unwrap();
    for id in &ids {
        assert_eq!(found[id].current.state, state, "{id}");
    }
}
