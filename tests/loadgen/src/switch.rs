//! The switch under load: the local emulator started in-process (its handler a child process) on
//! SQLite or a fresh MariaDB/MySQL database, or a remote deployment; and the scheme provisioned
//! on it, through the central-ledger admin API (the default) or, as a development fallback, by
//! writing into the local ledger store directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ledger_core::account::{LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::FspId;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, MysqlStore, MysqlStoreConfig, SqliteStore};
use local_emulator::provision::{self, AdminClient, DfspSpec};
use local_emulator::{Emulator, EmulatorConfig, StoreChoice};

use crate::options::{LocalTarget, Provision, Store, Target};

/// Connections of the pool that provisions directly and drops the database.
const MYSQL_POOL_CONNECTIONS: usize = 2;
/// The SQLite ledger's file in the emulator's data directory (where the emulator puts it).
const SQLITE_FILE: &str = "ledger.db";

/// A switch to send to.
pub struct Switch {
    pub fspiop_url: String,
    pub admin_url: String,
    pub operator_key: Option<String>,
    /// What the report says the target was.
    pub description: String,
    local: Option<LocalSwitch>,
}

struct LocalSwitch {
    emulator: Emulator,
    data_dir: PathBuf,
    keep_data: bool,
    /// The fresh database's URL, and whether to keep it.
    mysql: Option<(String, bool)>,
}

impl Switch {
    /// Starts the local emulator or names the remote switch.
    pub async fn start(target: &Target, data_dir: &Path) -> Result<Switch, String> {
        match target {
            Target::Local(local) => start_local(local, data_dir).await,
            Target::Remote { fspiop_url, admin_url, operator_key } => Ok(Switch {
                fspiop_url: fspiop_url.trim_end_matches('/').to_string(),
                admin_url: admin_url.trim_end_matches('/').to_string(),
                operator_key: operator_key.clone(),
                description: format!("remote {fspiop_url}"),
                local: None,
            }),
        }
    }

    /// Sets up the Hub and `dfsps` in `currency`.
    pub async fn provision(&self, how: Provision, currency: &str, dfsps: &[DfspSpec]) -> Result<(), String> {
        match (how, &self.local) {
            (Provision::Admin, _) => {
                let admin = AdminClient::new(&self.admin_url, self.operator_key.as_deref());
                provision::provision(&admin, currency, dfsps).await.map_err(|err| {
                    format!("provisioning through the admin API at {}: {err}\n(while the admin API is missing, `--provision direct` is a development fallback)", self.admin_url)
                })
            }
            (Provision::Direct, Some(local)) => {
                let store = local.open_store().await?;
                provision_directly(store.as_ref(), currency, dfsps).await
            }
            (Provision::Direct, None) => Err("--provision direct needs the local target".into()),
        }
    }

    /// Stops a local switch and removes its data (and drops its fresh database) unless kept.
    pub async fn stop(self) -> Result<(), String> {
        let Some(local) = self.local else {
            return Ok(());
        };
        local.emulator.stop();
        // The handler gets SIGTERM; give it a moment to close the store before the database goes.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let mut result = Ok(());
        if let Some((url, false)) = &local.mysql {
            let config = MysqlStoreConfig {
                url: url.clone(),
                ca_certificate: None,
                pool_connections_max: MYSQL_POOL_CONNECTIONS,
            };
            result = match MysqlStore::open(config).await {
                Ok(store) => store.drop_database().await.map_err(|err| format!("dropping {url}: {err}")),
                Err(err) => Err(format!("dropping {url}: {err}")),
            };
        }
        if !local.keep_data {
            let _ = std::fs::remove_dir_all(&local.data_dir);
        }
        result
    }
}

impl LocalSwitch {
    async fn open_store(&self) -> Result<Arc<dyn LedgerStore>, String> {
        match &self.mysql {
            Some((url, _)) => {
                let config = MysqlStoreConfig {
                    url: url.clone(),
                    ca_certificate: None,
                    pool_connections_max: MYSQL_POOL_CONNECTIONS,
                };
                let store = MysqlStore::open(config).await.map_err(|err| format!("opening {url}: {err}"))?;
                Ok(Arc::new(store))
            }
            None => {
                let path = self.data_dir.join(SQLITE_FILE);
                let store =
                    SqliteStore::open(&path).await.map_err(|err| format!("opening {}: {err}", path.display()))?;
                Ok(Arc::new(store))
            }
        }
    }
}

async fn start_local(local: &LocalTarget, data_dir: &Path) -> Result<Switch, String> {
    std::fs::create_dir_all(data_dir).map_err(|err| format!("{}: {err}", data_dir.display()))?;
    let (handler_program, handler_arguments) = handler_command(local)?;
    let (store, mysql, description) = match &local.store {
        Store::Sqlite => {
            (StoreChoice::Embedded, None, format!("local emulator, SQLite at {}", data_dir.join(SQLITE_FILE).display()))
        }
        Store::Mysql { server_url, database_prefix, keep } => {
            let name = format!("{database_prefix}{}", uuid::Uuid::new_v4().simple());
            let url = format!("{}/{name}", server_url.trim_end_matches('/'));
            let description = format!("local emulator, MySQL database {name} at {}", server_url.trim_end_matches('/'));
            // Created (and migrated) here, so a missing server fails at once and plainly.
            let config = MysqlStoreConfig {
                url: url.clone(),
                ca_certificate: None,
                pool_connections_max: MYSQL_POOL_CONNECTIONS,
            };
            let store = MysqlStore::open(config)
                .await
                .map_err(|err| format!("MySQL at {server_url} must be reachable: {err}"))?;
            let _ = store.close().await;
            (StoreChoice::Mysql(url.clone()), Some((url, *keep)), description)
        }
    };
    let operator_key = format!("{}", uuid::Uuid::new_v4().simple());
    let config = EmulatorConfig {
        app_root: local.app_root.clone(),
        data_dir: data_dir.to_path_buf(),
        store,
        partitions: local.partitions,
        fspiop_port: 0,
        admin_port: 0,
        settlement_port: 0,
        hubs_port: 0,
        handler_program,
        handler_arguments,
        handler_environment: vec![("RUST_LOG".to_string(), local.handler_log.clone())],
        callback_version: fspiop::ApiVersion::V1_0,
        jws_sign: false,
        operator_key: Some(operator_key.clone()),
        faults: Vec::new(),
        // Plain HTTP: the generator measures the switch, not TLS handshakes.
        mtls: None,
    };
    let emulator = Emulator::start(config).await.map_err(|err| format!("starting the local emulator: {err}"))?;
    Ok(Switch {
        fspiop_url: emulator.fspiop_url(),
        admin_url: emulator.admin_url(),
        operator_key: Some(operator_key),
        description,
        local: Some(LocalSwitch { emulator, data_dir: data_dir.to_path_buf(), keep_data: local.keep_data, mysql }),
    })
}

/// `--handler` with its arguments, or `local-emulator handler` next to this executable.
fn handler_command(local: &LocalTarget) -> Result<(PathBuf, Vec<String>), String> {
    if let Some(program) = &local.handler {
        if !program.is_file() {
            return Err(format!("--handler {}: no such file", program.display()));
        }
        return Ok((program.clone(), local.handler_arguments.clone()));
    }
    let me = std::env::current_exe().map_err(|err| format!("cannot find my own executable: {err}"))?;
    let beside = me.parent().map(|it| it.join("local-emulator")).unwrap_or_else(|| PathBuf::from("local-emulator"));
    if !beside.is_file() {
        return Err(format!(
            "the handler {} is missing: build it first with `cargo build --release -p local-emulator -p loadgen` (or pass --handler PATH)",
            beside.display()
        ));
    }
    Ok((beside, vec!["handler".to_string()]))
}

/// The development fallback: what the admin API's calls would write, written into the store:
/// each DFSP with active POSITION and SETTLEMENT accounts, its net debit cap, endpoints, and its
/// liquidity as a (negative) settlement balance.
async fn provision_directly(store: &dyn LedgerStore, currency: &str, dfsps: &[DfspSpec]) -> Result<(), String> {
    let currency =
        Currency::parse(currency).ok_or_else(|| format!("--currency: `{currency}` is not an ISO 4217 currency"))?;
    let now = Timestamp::from_unix_ms(chrono::Utc::now().timestamp_millis());
    let failed =
        |what: &str, name: &str, err: ledger_store::StoreError| format!("provisioning {name} directly ({what}): {err}");
    for dfsp in dfsps {
        let name = dfsp.name.as_str();
        let fsp = FspId::parse(name).ok_or_else(|| format!("DFSP name `{name}` is not a valid FSP id"))?;
        let cap = Amount::parse_decimal(&dfsp.net_debit_cap).map_err(|err| format!("--ndc: {err:?}"))?;
        let cap = NetDebitCap::new(cap).ok_or("--ndc: a net debit cap cannot be negative")?;
        let funds = Amount::parse_decimal(&dfsp.funds_in).map_err(|err| format!("--funds: {err:?}"))?;
        let participant = store.create_participant(&fsp, now).await.map_err(|err| failed("participant", name, err))?;
        let position = store
            .create_account(participant.id, currency, LedgerAccountType::Position, true, now)
            .await
            .map_err(|err| failed("position account", name, err))?;
        let settlement = store
            .create_account(participant.id, currency, LedgerAccountType::Settlement, true, now)
            .await
            .map_err(|err| failed("settlement account", name, err))?;
        store.set_net_debit_cap(position.id, cap, now).await.map_err(|err| failed("net debit cap", name, err))?;
        let mut tx = store.begin().await.map_err(|err| failed("begin", name, err))?;
        tx.lock_balances(&[settlement.id]).await.map_err(|err| failed("lock", name, err))?;
        tx.update_positions(&[(settlement.id, -funds)], now).await.map_err(|err| failed("liquidity", name, err))?;
        tx.commit().await.map_err(|err| failed("commit", name, err))?;
        for (kind, url) in &dfsp.endpoints {
            store.set_endpoint(participant.id, kind, url, now).await.map_err(|err| failed("endpoint", name, err))?;
        }
    }
    Ok(())
}
