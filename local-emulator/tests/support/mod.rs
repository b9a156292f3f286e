//! End-to-end test support: a whole switch under the local emulator (the real handler process,
//! hubs, host and edge) on a fresh SQLite file or a fresh MariaDB database, DFSP simulators
//! registered as the DFSPs' callback endpoints, and the ledger store opened beside it to check
//! what the switch wrote.

#![allow(dead_code)]

pub mod certs;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ledger_core::account::{Account, LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::FspId;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, MysqlStore, MysqlStoreConfig, SqliteStore};
use local_emulator::faults::Fault;
use local_emulator::simulator::Simulators;
use local_emulator::{Emulator, EmulatorConfig, StoreChoice};

pub const PAYER: &str = "payerfsp";
pub const PAYEE: &str = "payeefsp";
pub const OPERATOR_KEY: &str = "test-operator-key";
/// How long a test waits for callbacks.
pub const CALLBACK_WAIT: Duration = Duration::from_secs(30);
/// Partitions per hub in tests: more than one, so ordering by key is exercised.
const PARTITIONS: u32 = 2;

/// Which store the switch under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mariadb,
}

/// Runs each named case against a switch on SQLite and one on MariaDB.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::support::Backend::Sqlite).await;
                }
            )*
        }
        mod mariadb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::support::Backend::Mariadb).await;
                }
            )*
        }
    };
}

/// A running switch with its simulators and a view of its store.
pub struct Switch {
    pub emulator: Emulator,
    pub simulators: Simulators,
    pub store: Arc<dyn LedgerStore>,
    mysql: Option<Arc<MysqlStore>>,
    /// The test database's URL, on MariaDB.
    pub mysql_url: Option<String>,
    pub data_dir: PathBuf,
}

/// Options for [`start`].
#[derive(Default)]
pub struct Options {
    pub faults: Vec<Fault>,
    pub mtls: Option<local_emulator::mtls::MtlsFiles>,
    /// The MariaDB server the test database is created on (`mysql://user@host:port`); by
    /// default `LEDGER_TEST_MYSQL_URL`, else the machine's server on port 3306.
    pub mysql_server: Option<String>,
    /// `--callback-version`; 1.0 by default, as `up`.
    pub callback_version: Option<fspiop::ApiVersion>,
    /// `--jws-sign`.
    pub jws_sign: bool,
}

/// Starts a switch on `backend` with two funded DFSPs (`funding` each, net debit cap `cap`).
pub async fn start(backend: Backend, options: Options) -> Switch {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
    let data_dir = std::env::temp_dir().join(format!("le_t_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let app_root = function_app_copy(&data_dir);
    let (choice, store, mysql): (StoreChoice, Arc<dyn LedgerStore>, Option<Arc<MysqlStore>>) = match backend {
        Backend::Sqlite => {
            let store = SqliteStore::open(&data_dir.join("ledger.db")).await.expect("open SQLite");
            (StoreChoice::Embedded, Arc::new(store), None)
        }
        Backend::Mariadb => {
            let server = options
                .mysql_server
                .clone()
                .or_else(|| std::env::var("LEDGER_TEST_MYSQL_URL").ok())
                .unwrap_or_else(|| "mysql://root@127.0.0.1:3306".to_string());
            let url = format!("{}/ledger_t_{}", server.trim_end_matches('/'), uuid::Uuid::new_v4().simple());
            let config = MysqlStoreConfig { url: url.clone(), ca_certificate: None, pool_connections_max: 4 };
            let store = Arc::new(
                MysqlStore::open(config)
                    .await
                    .unwrap_or_else(|err| panic!("MariaDB at {server} must be reachable: {err} (the test command `bash tests/run.sh` starts a MariaDB when none is running; LEDGER_TEST_MYSQL_URL names another server)")),
            );
            (StoreChoice::Mysql(url), store.clone() as Arc<dyn LedgerStore>, Some(store))
        }
    };
    let mysql_url = match &choice {
        StoreChoice::Mysql(url) => Some(url.clone()),
        StoreChoice::Embedded => None,
    };
    let config = EmulatorConfig {
        app_root,
        data_dir: data_dir.clone(),
        store: choice,
        partitions: PARTITIONS,
        fspiop_port: 0,
        admin_port: 0,
        settlement_port: 0,
        hubs_port: 0,
        handler_program: PathBuf::from(env!("CARGO_BIN_EXE_local-emulator")),
        handler_arguments: vec!["handler".to_string()],
        handler_environment: vec![("RUST_LOG".to_string(), "warn".to_string())],
        callback_version: options.callback_version.unwrap_or(fspiop::ApiVersion::V1_0),
        jws_sign: options.jws_sign,
        operator_key: Some(OPERATOR_KEY.to_string()),
        faults: options.faults,
        mtls: options.mtls,
    };
    let emulator = Emulator::start(config).await.expect("the emulator starts");
    let simulators = Simulators::start(&emulator.fspiop_url(), 0).await.expect("the simulators start");
    Switch { emulator, simulators, store, mysql, mysql_url, data_dir }
}

impl Switch {
    /// Creates `name` with active POSITION and SETTLEMENT accounts in USD, a net debit cap, the
    /// simulators' endpoints and `funding` of liquidity.
    pub async fn add_dfsp(&self, name: &str, funding: &str, cap: i64) -> (Account, Account) {
        let now = now();
        let store = self.store.as_ref();
        let participant = store.create_participant(&FspId::parse(name).unwrap(), now).await.unwrap();
        let position =
            store.create_account(participant.id, usd(), LedgerAccountType::Position, true, now).await.unwrap();
        let settlement =
            store.create_account(participant.id, usd(), LedgerAccountType::Settlement, true, now).await.unwrap();
        store.set_net_debit_cap(position.id, NetDebitCap::new(Amount::from_whole(cap)).unwrap(), now).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.lock_balances(&[settlement.id]).await.unwrap();
        tx.update_positions(&[(settlement.id, -Amount::parse_stored(funding).unwrap())], now).await.unwrap();
        tx.commit().await.unwrap();
        for (kind, url) in self.simulators.endpoints(name) {
            store.set_endpoint(participant.id, kind, &url, now).await.unwrap();
        }
        (position, settlement)
    }

    /// The position of an account, as decimal text.
    pub async fn position(&self, account: &Account) -> String {
        self.store.balance(account.id).await.unwrap().0.to_decimal_string()
    }

    /// Stops the switch and removes its data (and its MariaDB database).
    pub async fn finish(self) {
        self.emulator.stop();
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Some(mysql) = self.mysql {
            mysql.drop_database().await.expect("drop the test database");
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A prepare of 10 USD from the payer to the payee that expires in 2 seconds: its id and body.
pub fn prepare_expiring_soon(sims: &Simulators) -> (String, serde_json::Value) {
    let id = uuid::Uuid::new_v4().to_string();
    let mut body = sims.prepare_body(&id, PAYER, PAYEE, "10", "USD");
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    body["expiration"] = soon.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into();
    (id, body)
}

pub fn now() -> Timestamp {
    Timestamp::from_unix_ms(chrono::Utc::now().timestamp_millis())
}

pub fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

/// A copy of this repository's function app, as committed, in the test's data directory.
fn function_app_copy(data_dir: &Path) -> PathBuf {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let app = data_dir.join("app");
    std::fs::create_dir_all(app.join("functions/bindings")).unwrap();
    std::fs::copy(repository.join("host.json"), app.join("host.json")).unwrap();
    for entry in std::fs::read_dir(repository.join("functions/bindings")).unwrap() {
        let folder = entry.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        let name = folder.file_name().unwrap().to_owned();
        let target = app.join("functions/bindings").join(&name);
        std::fs::create_dir_all(&target).unwrap();
        let text = std::fs::read_to_string(folder.join("function.json")).unwrap();
        std::fs::write(target.join("function.json"), text).unwrap();
    }
    app
}
