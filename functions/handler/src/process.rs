//! Running the handler process: what the `handler` binary (and the local emulator's embedded
//! handler) do at start. It binds
//! `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT` before connecting to anything (the host polls that
//! port for readiness), then opens the ledger store and the publisher and serves the functions.
//!
//! Configuration (environment, as Azure app settings arrive):
//! - `FUNCTIONS_CUSTOMHANDLER_PORT`: set by the Functions host (default 7071 for a manual run);
//! - `LEDGER_MYSQL_URL` (+ optional `LEDGER_MYSQL_CA`, a root CA file for TLS) selects MySQL;
//!   otherwise `LEDGER_SQLITE_PATH` (default `ledger.db`) selects the embedded store;
//! - `LOCAL_HUBS_URL` or `EVENTHUB_NAMESPACE`: where events go (see `plumbing::publish`);
//! - `ENABLE_ON_US_TRANSFERS`, `SEND_TRANSFER_CONFIRMATION_TO_PAYEE`: `true` / `false`;
//! - `CALLBACK_CONTENT_VERSION`: `1.0` (the default), `1.1` or `2.0`, the `Content-Type` version
//!   of the callbacks the Hub makes (Mojaloop's `PROTOCOL_VERSIONS.CONTENT.DEFAULT`; see
//!   `handler::transfers::notification`). 1.0 is what the Testing Toolkit's default environment expects
//!   (`expectedTransfersVersion`); a scheme on v2.0 sets 2.0. Any other value stops the handler;
//! - the message journal (`crate::audit`): `COSMOS_ENDPOINT` (+ `COSMOS_DATABASE`,
//!   `COSMOS_CONTAINER`, `REGION_NAME`; Entra ID as for Event Hubs, or `COSMOS_KEY` for the local
//!   stand-in only) selects Cosmos DB; else it sits beside the ledger: a `journal_entry` table
//!   in the MySQL database on its own small pool, or the SQLite file `<LEDGER_SQLITE_PATH>.journal`
//!   (a separate file, so journal appends never wait on the ledger's single writer);
//! - `JWS_VALIDATE`, `JWS_SIGN` (`true` / `false`, default off) with the keys from `KEYVAULT_URI`,
//!   `JWS_KEYS_DIR` or the environment (see `handler::signatures`);
//! - `RUST_LOG`: the log filter (default `info`); `APPLICATIONINSIGHTS_CONNECTION_STRING` also
//!   exports spans and metrics (see `plumbing::telemetry`).
//!
//! On SIGTERM or Ctrl-C it stops serving, and the telemetry guard flushes what is buffered.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use azure_core::credentials::TokenCredential;
use journal::cosmos::{CosmosAuth, CosmosJournal, CosmosJournalConfig};
use journal::mysql::MysqlJournal;
use journal::sqlite::SqliteJournal;
use journal::Journal;
use jws::source::CachedKeys;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, MysqlStore, MysqlStoreConfig, SqliteStore};
use plumbing::publish::{credential_choice, publisher_from_env, CoalescingPublisher, Publisher};
use plumbing::telemetry;

use crate::app::router;
use crate::journal_group::GroupedJournal;
use crate::signatures::{KeysTarget, JWS_SIGN_VAR, JWS_VALIDATE_VAR};
use crate::state::App;
use crate::transfers::notification::{NotificationConfig, Notifier};

const PORT_DEFAULT: u16 = 7071;
const SQLITE_PATH_DEFAULT: &str = "ledger.db";
const MYSQL_POOL_CONNECTIONS_MAX: usize = 16;
/// A callback's first retry waits this long; each further retry waits twice as long.
const CALLBACK_BACKOFF_INITIAL: Duration = Duration::from_millis(200);
/// The journal's own MySQL pool: one append per request or batch needs few connections.
const JOURNAL_POOL_CONNECTIONS_MAX: usize = 4;
const SQLITE_JOURNAL_SUFFIX: &str = ".journal";
pub const COSMOS_ENDPOINT_VAR: &str = "COSMOS_ENDPOINT";
pub const COSMOS_DATABASE_VAR: &str = "COSMOS_DATABASE";
pub const COSMOS_CONTAINER_VAR: &str = "COSMOS_CONTAINER";
/// Key auth for the local Cosmos stand-in only; Azure uses Entra ID.
pub const COSMOS_KEY_VAR: &str = "COSMOS_KEY";
/// Set by Azure Functions to the app's region.
pub const REGION_NAME_VAR: &str = "REGION_NAME";
pub const CALLBACK_CONTENT_VERSION_VAR: &str = "CALLBACK_CONTENT_VERSION";
/// The Testing Toolkit's `expectedTransfersVersion` in its default environment (module
/// documentation).
pub const CALLBACK_CONTENT_VERSION_DEFAULT: fspiop::ApiVersion = fspiop::ApiVersion::V1_0;

/// Runs the handler until a stop signal: telemetry, bind, store, publisher, serve. Call it from
/// inside a Tokio runtime.
pub async fn run() -> Result<(), String> {
    let _telemetry = telemetry::init();
    let result = serve().await;
    if let Err(err) = &result {
        tracing::error!("handler stopped: {err}");
    }
    result
}

async fn serve() -> Result<(), String> {
    let port =
        std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT").ok().and_then(|it| it.parse().ok()).unwrap_or(PORT_DEFAULT);
    // Bind first: the host counts any answer on this port as "ready" and gives up after 60 s.
    let listener = plumbing::listen::bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .map_err(|err| format!("bind port {port}: {err}"))?;
    let store = open_store().await?;
    // Concurrent requests' events share one send per hub (group commit).
    let publisher: Arc<dyn Publisher> =
        Arc::new(CoalescingPublisher::new(publisher_from_env().map_err(|err| err.to_string())?));
    let lookup = |name: &str| std::env::var(name).ok();
    // Concurrent requests' journal entries share one append (group commit), like their events.
    let journal: Arc<dyn Journal> =
        Arc::new(GroupedJournal::new(open_journal(JournalTarget::from_lookup(lookup)?).await?));
    let mut notifier = Notifier::new(NotificationConfig {
        confirm_to_payee: flag("SEND_TRANSFER_CONFIRMATION_TO_PAYEE", true),
        hub_content_version: callback_content_version(lookup)?,
        backoff_initial: CALLBACK_BACKOFF_INITIAL,
    })
    .map_err(|err| err.to_string())?
    .with_journal(journal.clone());
    let (sign, validate) = (flag(JWS_SIGN_VAR, false), flag(JWS_VALIDATE_VAR, false));
    let keys = match sign || validate {
        true => {
            let source = KeysTarget::from_lookup(lookup).source(|| entra_credential(lookup))?;
            Some(Arc::new(CachedKeys::new(source)))
        }
        false => None,
    };
    if let (true, Some(keys)) = (sign, &keys) {
        notifier = notifier.with_signing(keys.clone());
    }
    let signature_keys = keys.filter(|_| validate);
    let rules = PrepareRules { on_us_transfers_allowed: flag("ENABLE_ON_US_TRANSFERS", false) };
    let app = App { store, publisher, notifier, rules, now: system_now, journal: Some(journal), signature_keys };
    tracing::info!("serving on 127.0.0.1:{port}");
    let counts = Arc::default();
    plumbing::listen::serve_until(listener, router(app), plumbing::listen::LIMITS, counts, stop_signal()).await;
    Ok(())
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM, the usual way a process is asked to stop.
async fn stop_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("stop signal received; draining");
}

async fn open_store() -> Result<Arc<dyn LedgerStore>, String> {
    if let Ok(url) = std::env::var("LEDGER_MYSQL_URL") {
        let ca_certificate = std::env::var("LEDGER_MYSQL_CA").ok().map(PathBuf::from);
        let config = MysqlStoreConfig { url, ca_certificate, pool_connections_max: MYSQL_POOL_CONNECTIONS_MAX };
        return Ok(Arc::new(MysqlStore::open(config).await.map_err(|err| err.to_string())?));
    }
    let path = std::env::var("LEDGER_SQLITE_PATH").unwrap_or_else(|_| SQLITE_PATH_DEFAULT.to_string());
    Ok(Arc::new(SqliteStore::open(PathBuf::from(path).as_path()).await.map_err(|err| err.to_string())?))
}

/// Where the message journal lives (module documentation).
#[derive(Debug, Clone)]
pub enum JournalTarget {
    Cosmos(CosmosJournalConfig),
    Mysql(MysqlStoreConfig),
    Sqlite(PathBuf),
}

impl JournalTarget {
    /// Reads the target from variables looked up by name (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String> + Copy) -> Result<JournalTarget, String> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(endpoint) = var(COSMOS_ENDPOINT_VAR) {
            let required =
                |name: &str| var(name).ok_or_else(|| format!("{COSMOS_ENDPOINT_VAR} is set but {name} is not"));
            let (auth, emulator) = match var(COSMOS_KEY_VAR) {
                Some(key) => (CosmosAuth::Key(key), true),
                None => (CosmosAuth::Entra(entra_credential(lookup)?), false),
            };
            return Ok(JournalTarget::Cosmos(CosmosJournalConfig {
                endpoint,
                auth,
                database: required(COSMOS_DATABASE_VAR)?,
                container: required(COSMOS_CONTAINER_VAR)?,
                region: var(REGION_NAME_VAR).unwrap_or_default(),
                emulator,
            }));
        }
        if let Some(url) = var("LEDGER_MYSQL_URL") {
            let ca_certificate = var("LEDGER_MYSQL_CA").map(PathBuf::from);
            return Ok(JournalTarget::Mysql(MysqlStoreConfig {
                url,
                ca_certificate,
                pool_connections_max: JOURNAL_POOL_CONNECTIONS_MAX,
            }));
        }
        let ledger = var("LEDGER_SQLITE_PATH").unwrap_or_else(|| SQLITE_PATH_DEFAULT.to_string());
        Ok(JournalTarget::Sqlite(sqlite_journal_path(Path::new(&ledger))))
    }
}

/// The embedded journal's file beside a SQLite ledger: `<ledger>.journal`.
pub fn sqlite_journal_path(ledger: &Path) -> PathBuf {
    let mut name = ledger.as_os_str().to_owned();
    name.push(SQLITE_JOURNAL_SUFFIX);
    PathBuf::from(name)
}

/// Opens the journal. For MySQL the ledger store must have been opened first (it creates the
/// database).
pub async fn open_journal(target: JournalTarget) -> Result<Arc<dyn Journal>, String> {
    let failed = |err: journal::JournalError| format!("message journal: {err}");
    Ok(match target {
        JournalTarget::Cosmos(config) => Arc::new(CosmosJournal::open(config).await.map_err(failed)?),
        JournalTarget::Mysql(config) => {
            let pool = ledger_store::mysql_pool(&config).map_err(|err| format!("message journal: {err}"))?;
            Arc::new(MysqlJournal::open(pool).await.map_err(failed)?)
        }
        JournalTarget::Sqlite(path) => Arc::new(SqliteJournal::open(&path).await.map_err(failed)?),
    })
}

/// `CALLBACK_CONTENT_VERSION`, read from variables looked up by name (tests pass a map): unset
/// or blank is the default, anything but a supported version is refused.
pub fn callback_content_version(lookup: impl Fn(&str) -> Option<String>) -> Result<fspiop::ApiVersion, String> {
    match lookup(CALLBACK_CONTENT_VERSION_VAR).map(|it| it.trim().to_string()).filter(|it| !it.is_empty()) {
        None => Ok(CALLBACK_CONTENT_VERSION_DEFAULT),
        Some(text) => fspiop::ApiVersion::parse(&text).ok_or_else(|| {
            let supported: Vec<&str> = fspiop::ApiVersion::SUPPORTED.iter().map(|it| it.as_str()).collect();
            format!("{CALLBACK_CONTENT_VERSION_VAR}={text}: not one of {}", supported.join(", "))
        }),
    }
}

fn entra_credential(lookup: impl Fn(&str) -> Option<String>) -> Result<Arc<dyn TokenCredential>, String> {
    credential_choice(lookup).credential().map_err(|err| err.to_string())
}

fn flag(name: &str, default: bool) -> bool {
    match std::env::var(name).as_deref() {
        Ok("true") => true,
        Ok("false") => false,
        _ => default,
    }
}

fn system_now() -> Timestamp {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_unix_ms(since_epoch.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(vars: &'static [(&'static str, &'static str)]) -> Result<JournalTarget, String> {
        JournalTarget::from_lookup(|name| vars.iter().find(|(it, _)| *it == name).map(|(_, value)| value.to_string()))
    }

    #[test]
    fn the_callback_version_defaults_to_1_0_and_refuses_unknown_versions() {
        let version = |value: Option<&'static str>| {
            callback_content_version(move |name| {
                assert_eq!(name, CALLBACK_CONTENT_VERSION_VAR);
                value.map(str::to_string)
            })
        };
        assert_eq!(version(None), Ok(fspiop::ApiVersion::V1_0));
        assert_eq!(version(Some(" ")), Ok(fspiop::ApiVersion::V1_0));
        assert_eq!(version(Some("1.1")), Ok(fspiop::ApiVersion::V1_1));
        assert_eq!(version(Some(" 2.0 ")), Ok(fspiop::ApiVersion::V2_0));
        for wrong in ["2", "1.2", "v1.0", "application/vnd.interoperability.transfers+json;version=1.0"] {
            let error = version(Some(wrong)).unwrap_err();
            assert!(error.contains("CALLBACK_CONTENT_VERSION") && error.contains("1.1, 1.0, 2.0"), "{error}");
        }
    }

    #[test]
    fn the_journal_follows_the_settings() {
        const COSMOS: [(&str, &str); 5] = [
            ("COSMOS_ENDPOINT", "https://127.0.0.1:8081/"),
            ("COSMOS_DATABASE", "switch"),
            ("COSMOS_CONTAINER", "journal"),
            ("COSMOS_KEY", "k"),
            ("LEDGER_MYSQL_URL", "mysql://x/db"),
        ];
        match target(&COSMOS) {
            Ok(JournalTarget::Cosmos(config)) => {
                assert!(config.emulator && matches!(config.auth, CosmosAuth::Key(_)));
                assert_eq!((config.database.as_str(), config.container.as_str()), ("switch", "journal"));
            }
            other => panic!("{other:?}"),
        }
        assert!(target(&[("COSMOS_ENDPOINT", "https://a.documents.azure.com/")])
            .unwrap_err()
            .contains("COSMOS_DATABASE"));
        match target(&[("LEDGER_MYSQL_URL", "mysql://root@db/ledger")]) {
            Ok(JournalTarget::Mysql(config)) => assert_eq!(config.pool_connections_max, JOURNAL_POOL_CONNECTIONS_MAX),
            other => panic!("{other:?}"),
        }
        match target(&[("LEDGER_SQLITE_PATH", "/data/ledger.db")]) {
            Ok(JournalTarget::Sqlite(path)) => assert_eq!(path, PathBuf::from("/data/ledger.db.journal")),
            other => panic!("{other:?}"),
        }
    }
}
