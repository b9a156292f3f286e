//! Shared test support: fresh SQLite and MariaDB stores, a provisioned scheme, and FSPIOP
//! prepare events as the edge would publish them.
#![allow(dead_code)]

pub mod hubs;

#[allow(unused_imports)]
pub use hubs::{app_publishing_to, recording_hubs, serve_router, taken_events, Hubs};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use fspiop::datetime::{format_fspiop_datetime, format_http_date};
use handler::envelope::{Action, Envelope, EventKind, Request};
use handler::outbox::{Report, Route};
use handler::transfers::notification::{ENDPOINT_TRANSFER_ERROR, ENDPOINT_TRANSFER_POST, ENDPOINT_TRANSFER_PUT};
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{FspId, TransferId};
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, MysqlStore, MysqlStoreConfig, SqliteStore};

pub const NOW: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
pub const TTK_CONDITION: &str = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM";
pub const CONTENT_TYPE: &str = "application/vnd.interoperability.transfers+json;version=1.1";

/// Runs each named case on a fresh SQLite file and on a fresh MariaDB database.
#[macro_export]
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, path) = super::support::sqlite().await;
                    super::$case(store).await;
                    super::support::remove_sqlite(path);
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let store = super::support::mysql().await;
                    super::$case(store.clone()).await;
                    store.drop_database().await.expect("drop the test database");
                }
            )*
        }
    };
}

/// Runs each named case on a fresh SQLite file with its journal file beside it, and on a fresh
/// MariaDB database with the journal table in it: the case gets the store and the journal the
/// handler process would open for it (`handler::process::JournalTarget`).
#[macro_export]
macro_rules! on_both_stores_with_journal {
    ($($case:ident),* $(,)?) => {
        mod sqlite_journal {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, path) = super::support::sqlite().await;
                    let journal_path = handler::process::sqlite_journal_path(&path);
                    let target = handler::process::JournalTarget::Sqlite(journal_path.clone());
                    let journal = handler::process::open_journal(target).await.expect("open the SQLite journal");
                    super::$case(store, journal).await;
                    super::support::remove_sqlite(path);
                    super::support::remove_sqlite(journal_path);
                }
            )*
        }
        mod mysql_journal {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let config = super::support::mysql_config();
                    let store = super::support::mysql_at(config.clone()).await;
                    let target = handler::process::JournalTarget::Mysql(config);
                    let journal = handler::process::open_journal(target).await.expect("open the MySQL journal");
                    super::$case(store.clone(), journal).await;
                    store.drop_database().await.expect("drop the test database");
                }
            )*
        }
    };
}

/// The payer's and the payee's POSITION and SETTLEMENT accounts.
pub struct Scheme {
    pub payer: Account,
    pub payer_settlement: Account,
    pub payee: Account,
}

/// Two DFSPs, each funded with `funding` and capped at 1000.
pub async fn provision(store: &dyn LedgerStore, funding: &str) -> Scheme {
    let mut accounts = Vec::new();
    for name in ["payerfsp", "payeefsp"] {
        let participant = store.create_participant(&fsp(name), NOW).await.unwrap();
        let position =
            store.create_account(participant.id, usd(), LedgerAccountType::Position, true, NOW).await.unwrap();
        let settlement =
            store.create_account(participant.id, usd(), LedgerAccountType::Settlement, true, NOW).await.unwrap();
        store.set_net_debit_cap(position.id, NetDebitCap::new(Amount::from_whole(1000)).unwrap(), NOW).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.lock_balances(&[settlement.id]).await.unwrap();
        tx.update_positions(&[(settlement.id, -Amount::parse_decimal(funding).unwrap())], NOW).await.unwrap();
        tx.commit().await.unwrap();
        accounts.push((position, settlement));
    }
    let (payee, _) = accounts.pop().unwrap();
    let (payer, payer_settlement) = accounts.pop().unwrap();
    Scheme { payer, payer_settlement, payee }
}

/// Points the callback endpoints of `payerfsp` and `payeefsp` at `base`, one path per DFSP.
pub async fn register_endpoints(store: &dyn LedgerStore, base: &str) {
    for name in ["payerfsp", "payeefsp"] {
        let participant = store.participant(&fsp(name)).await.unwrap().unwrap();
        let endpoints = [
            (ENDPOINT_TRANSFER_POST, format!("{base}/{name}/transfers")),
            (ENDPOINT_TRANSFER_PUT, format!("{base}/{name}/transfers/{{{{transferId}}}}")),
            (ENDPOINT_TRANSFER_ERROR, format!("{base}/{name}/transfers/{{{{transferId}}}}/error")),
        ];
        for (kind, url) in endpoints {
            store.set_endpoint(participant.id, kind, &url, NOW).await.unwrap();
        }
    }
}

pub fn prepare_event(payer: &str, payee: &str, amount: &str, at: Timestamp) -> (TransferId, Envelope) {
    let id = TransferId::parse(&uuid::Uuid::new_v4().to_string()).unwrap();
    let event = prepare_event_with_id(&id, payer, payee, amount, at);
    (id, event)
}

pub fn prepare_event_with_id(id: &TransferId, payer: &str, payee: &str, amount: &str, at: Timestamp) -> Envelope {
    let body = serde_json::json!({
        "transferId": id.as_str(),
        "payerFsp": payer,
        "payeeFsp": payee,
        "amount": {"amount": amount, "currency": "USD"},
        "ilpPacket": "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNl",
        "condition": TTK_CONDITION,
        "expiration": format_fspiop_datetime(NOW.plus_ms(60_000)),
    })
    .to_string();
    let headers = BTreeMap::from([
        ("accept".to_string(), "application/vnd.interoperability.transfers+json;version=1".to_string()),
        ("content-type".to_string(), CONTENT_TYPE.to_string()),
        ("date".to_string(), format_http_date(at)),
        ("fspiop-source".to_string(), payer.to_string()),
        ("fspiop-destination".to_string(), payee.to_string()),
    ]);
    let request = Request {
        transfer_id: id.as_str(),
        from: payer,
        to: payee,
        headers: &headers,
        content_type: CONTENT_TYPE,
        body: body.as_bytes(),
    };
    Envelope::request(request, EventKind::Prepare, Action::Prepare, at)
}

pub fn only_notification(report: &Report) -> &Envelope {
    assert_eq!(report.emitted.len(), 1, "{report:?}");
    assert_eq!(report.emitted[0].route, Route::Notification);
    &report.emitted[0].envelope
}

pub fn bodies(report: &Report) -> Vec<String> {
    report.emitted.iter().map(|it| it.envelope.to_json()).collect()
}

pub fn event_ids(report: &Report) -> Vec<String> {
    report.emitted.iter().map(|it| it.envelope.metadata.event.id.clone()).collect()
}

pub fn json(envelope: &Envelope) -> serde_json::Value {
    serde_json::from_slice(&envelope.payload_bytes().unwrap()).unwrap()
}

pub fn fsp(name: &str) -> FspId {
    FspId::parse(name).unwrap()
}

pub fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

pub async fn sqlite() -> (Arc<dyn LedgerStore>, PathBuf) {
    let path = std::env::temp_dir().join(format!("handler_t_{}.db", uuid::Uuid::new_v4().simple()));
    (Arc::new(SqliteStore::open(&path).await.expect("open SQLite")), path)
}

pub fn remove_sqlite(path: PathBuf) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// A fresh database on the MySQL-compatible test server; no skip without one.
pub async fn mysql() -> Arc<MysqlStore> {
    mysql_at(mysql_config()).await
}

/// A configuration naming a fresh database on the test server.
pub fn mysql_config() -> MysqlStoreConfig {
    let server = std::env::var("LEDGER_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string());
    let url = format!("{}/ledger_t_{}", server.trim_end_matches('/'), uuid::Uuid::new_v4().simple());
    MysqlStoreConfig { url, ca_certificate: None, pool_connections_max: 4 }
}

/// The store for `config`, created and migrated; no skip without a server.
pub async fn mysql_at(config: MysqlStoreConfig) -> Arc<MysqlStore> {
    let url = config.url.clone();
    Arc::new(MysqlStore::open(config).await.unwrap_or_else(|err| panic!("MySQL at {url} must be reachable: {err} (the test command `bash tests/run.sh` starts a MariaDB when none is running; LEDGER_TEST_MYSQL_URL names another server)")))
}

/// The TTK fulfilment matching [`TTK_CONDITION`].
pub const TTK_FULFILMENT: &str = "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA";

/// A payee's `PUT /transfers/{id}` as the edge publishes it.
pub fn fulfil_event(
    id: &TransferId,
    state: &str,
    fulfilment: Option<&str>,
    source: &str,
    content_type: &str,
    at: Timestamp,
) -> Envelope {
    let mut body = serde_json::json!({ "transferState": state, "completedTimestamp": format_fspiop_datetime(at) });
    if let Some(fulfilment) = fulfilment {
        body["fulfilment"] = fulfilment.into();
    }
    let action = match state {
        "RESERVED" => Action::Reserve,
        "ABORTED" => Action::Reject,
        _ => Action::Commit,
    };
    answer_event(id, body, source, content_type, action, at)
}

/// A payee's `PUT /transfers/{id}/error` as the edge publishes it.
pub fn error_event(id: &TransferId, code: &str, description: &str, source: &str, at: Timestamp) -> Envelope {
    let body = serde_json::json!({ "errorInformation": { "errorCode": code, "errorDescription": description } });
    answer_event(id, body, source, CONTENT_TYPE, Action::Abort, at)
}

fn answer_event(
    id: &TransferId,
    body: serde_json::Value,
    source: &str,
    content_type: &str,
    action: Action,
    at: Timestamp,
) -> Envelope {
    let body = body.to_string();
    let headers = BTreeMap::from([
        ("content-type".to_string(), content_type.to_string()),
        ("date".to_string(), format_http_date(at)),
        ("fspiop-source".to_string(), source.to_string()),
        ("fspiop-destination".to_string(), "payerfsp".to_string()),
    ]);
    let request = Request {
        transfer_id: id.as_str(),
        from: source,
        to: "payerfsp",
        headers: &headers,
        content_type,
        body: body.as_bytes(),
    };
    Envelope::request(request, EventKind::Fulfil, action, at)
}

/// A `GET /transfers/{id}` as the edge publishes it.
pub fn get_event(id: &str, requester: &str, at: Timestamp) -> Envelope {
    let headers = BTreeMap::from([
        ("accept".to_string(), "application/vnd.interoperability.transfers+json;version=1".to_string()),
        ("content-type".to_string(), CONTENT_TYPE.to_string()),
        ("date".to_string(), format_http_date(at)),
        ("fspiop-source".to_string(), requester.to_string()),
    ]);
    let request = Request {
        transfer_id: id,
        from: requester,
        to: "Hub",
        headers: &headers,
        content_type: CONTENT_TYPE,
        body: b"",
    };
    Envelope::request(request, EventKind::Get, Action::Get, at)
}

/// A PEM key from the jws crate's test fixtures (`functions/jws/tests/fixtures`).
pub fn jws_fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../jws/tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Cached keys from the given `JWS_*` variables (the environment source, without touching the
/// process environment).
pub fn jws_keys(vars: &[(&str, String)]) -> Arc<jws::source::CachedKeys> {
    let vars = vars.iter().map(|(name, value)| (name.to_string(), value.clone()));
    let source = jws::source::EnvKeySource::from_vars(vars).expect("keys");
    Arc::new(jws::source::CachedKeys::new(Arc::new(source)))
}

/// An Event Hubs invocation as the host sends it: arrays as JSON inside strings.
pub fn invocation(events: &[String], keys: &[Option<String>]) -> serde_json::Value {
    let n = events.len();
    let encoded = |value: serde_json::Value| serde_json::Value::String(value.to_string());
    serde_json::json!({
        "Data": { "events": encoded(serde_json::json!(events)) },
        "Metadata": {
            "PartitionContext": {
                "FullyQualifiedNamespace": "local", "EventHubName": "hub", "ConsumerGroup": "cg", "PartitionId": "0",
                "IsCheckpointingAfterInvocation": true
            },
            "PartitionKeyArray": encoded(serde_json::json!(keys)),
            "OffsetArray": encoded(serde_json::json!((0..n).map(|it| it.to_string()).collect::<Vec<_>>())),
            "SequenceNumberArray": encoded(serde_json::json!((0..n).collect::<Vec<_>>())),
            "EnqueuedTimeUtcArray": encoded(serde_json::json!(vec!["2026-09-21T14:13:20.123Z"; n])),
            "PropertiesArray": encoded(serde_json::json!(vec![serde_json::json!({}); n])),
            "SystemPropertiesArray": encoded(serde_json::json!(vec![serde_json::json!({}); n])),
            "sys": { "MethodName": "function", "UtcNow": "2026-09-21T14:13:20.123Z", "RandGuid": "00000000-0000-0000-0000-000000000000" }
        }
    })
}
