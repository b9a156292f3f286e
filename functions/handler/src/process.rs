//! Running the handler process: what the `handler` binary (and the local emulator's embedded
//! handler) do at start. It binds
//! `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT` before connecting to anything (the host polls that
//! port for readiness), then opens the ledger store and the publisher and serves the functions.
//!
//! Configuration (environment, as Azure app settings arrive):
//! - `FUNCTIONS_CUSTOMHANDLER_PORT`: set by the Functions host (default 7071 for a manual run);
//! - `LEDGER_MYSQL_URL` (+ optional `LEDGER_MYSQL_CA`, a root CA file for TLS) selects MySQL;
//!   otherwise `LEDGER_SQLITE_PATH` (default `ledger.db`) selects the embedded store;
//! - `LOCAL_HUBS_URL` or `EVENTHUB_NAMESPACE`: where events go (see `handler::publish`);
//! - `ENABLE_ON_US_TRANSFERS`, `SEND_TRANSFER_CONFIRMATION_TO_PAYEE`: `true` / `false`;
//! - `RUST_LOG`: the log filter (default `info`); `APPLICATIONINSIGHTS_CONNECTION_STRING` also
//!   exports spans and metrics (see `handler::telemetry`).
//!
//! On SIGTERM or Ctrl-C it stops serving, and the telemetry guard flushes what is buffered.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::app::{router, App};
use crate::notification::{NotificationConfig, Notifier};
use crate::publish::publisher_from_env;
use crate::telemetry;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerStore, MysqlStore, MysqlStoreConfig, SqliteStore};

const PORT_DEFAULT: u16 = 7071;
const SQLITE_PATH_DEFAULT: &str = "ledger.db";
const MYSQL_POOL_CONNECTIONS_MAX: usize = 16;
const CALLBACK_BACKOFF_INITIAL: Duration = Duration::from_millis(200);

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
    let port = std::env::var("FUNCTIONS_CUSTOMHANDLER_PORT").ok().and_then(|it| it.parse().ok()).unwrap_or(PORT_DEFAULT);
    // Bind first: the host counts any answer on this port as "ready" and gives up after 60 s.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|err| format!("bind port {port}: {err}"))?;
    let store = open_store().await?;
    let publisher = publisher_from_env().map_err(|err| err.to_string())?;
    let notifier = Notifier::new(NotificationConfig {
        confirm_to_payee: flag("SEND_TRANSFER_CONFIRMATION_TO_PAYEE", true),
        hub_content_version: fspiop::ApiVersion::V1_1,
        backoff_initial: CALLBACK_BACKOFF_INITIAL,
    })
    .map_err(|err| err.to_string())?;
    let rules = PrepareRules { on_us_transfers_allowed: flag("ENABLE_ON_US_TRANSFERS", false) };
    let app = App { store, publisher, notifier, rules, now: system_now };
    tracing::info!("serving on 127.0.0.1:{port}");
    axum::serve(listener, router(app)).with_graceful_shutdown(stop_signal()).await.map_err(|err| err.to_string())
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
