//! The emulator assembled: reads host.json and the function.json files, opens the hubs in the
//! data directory, starts the handler under the host stand-in, starts the triggers, and serves
//! the edge's three APIs and the hubs' ingestion endpoint.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use switch_handler::bindings::{FunctionApp, Trigger};
use tokio::net::TcpListener;

use crate::edge::{self, Api, ADMIN_API, FSPIOP_API, SETTLEMENT_API};
use crate::faults::{Fault, Faults};
use crate::host::{self, Counters, Dispatch, HandlerCommand, Supervisor};
use crate::hub_key::{self, HubKeyError};
use crate::hubs::{self, Hubs};
use crate::mtls::{self, MtlsError, MtlsFiles};
use crate::routes::{http_routes, Route};

/// Partitions per hub when none are asked for. Azure runs 4 (the Bicep's default) so instances
/// can share the work; on one machine every partition is one more consumer per function, each
/// with its own small batches, invocations, commits and syncs. One partition per hub doubled
/// the load generator's throughput on SQLite and on MariaDB (issue 7), and orders nothing
/// differently: events of one key stay in order on any partition count. `--partitions N`
/// exercises more.
pub const PARTITIONS_DEFAULT: u32 = 1;
/// Mojaloop's conventional ports.
pub const FSPIOP_PORT_DEFAULT: u16 = 3000;
pub const ADMIN_PORT_DEFAULT: u16 = 3001;
pub const SETTLEMENT_PORT_DEFAULT: u16 = 3007;
/// How often `wait_idle` looks at the backlog.
const IDLE_POLL: Duration = Duration::from_millis(20);

/// Which ledger store the handler uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// SQLite in the data directory (`ledger.db`): the embedded default.
    Embedded,
    /// MySQL / MariaDB at this URL.
    Mysql(String),
}

/// Everything `up` needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where host.json and `functions/bindings/` are.
    pub app_root: PathBuf,
    pub data_dir: PathBuf,
    pub store: StoreChoice,
    pub partitions: u32,
    /// 0 = any free port.
    pub fspiop_port: u16,
    pub admin_port: u16,
    pub settlement_port: u16,
    pub hubs_port: u16,
    /// The handler executable and its arguments.
    pub handler_program: PathBuf,
    pub handler_arguments: Vec<String>,
    /// Extra app settings for the handler.
    pub handler_environment: Vec<(String, String)>,
    /// The `Content-Type` version of the callbacks the Hub makes (`CALLBACK_CONTENT_VERSION`);
    /// 1.0 is what the Testing Toolkit's default environment expects.
    pub callback_version: fspiop::ApiVersion,
    /// Sign the Hub's callbacks (`JWS_SIGN`) with the key in `<data_dir>/jws`, made on first
    /// start (`hub_key`).
    pub jws_sign: bool,
    /// `None` runs the operator APIs open.
    pub operator_key: Option<String>,
    pub faults: Vec<Fault>,
    /// Mutual TLS on the FSPIOP listener; plain HTTP when `None`.
    pub mtls: Option<MtlsFiles>,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("reading the function app at {root}: {reason}")]
    App { root: PathBuf, reason: String },
    #[error("the data directory {dir}: {reason}")]
    DataDir { dir: PathBuf, reason: String },
    #[error("{0}")]
    Hubs(#[from] hubs::HubsError),
    #[error("listening on {what} port {port}: {reason}")]
    Listen { what: &'static str, port: u16, reason: String },
    #[error("{0}")]
    Mtls(#[from] MtlsError),
    #[error("{0}")]
    HubKey(#[from] HubKeyError),
    #[error("the handler did not become ready")]
    HandlerNotReady,
}

/// A running emulator.
pub struct Emulator {
    pub fspiop: SocketAddr,
    fspiop_scheme: &'static str,
    pub admin: SocketAddr,
    pub settlement: SocketAddr,
    pub hubs_endpoint: SocketAddr,
    pub hubs: Arc<Hubs>,
    pub supervisor: Arc<Supervisor>,
    pub faults: Arc<Faults>,
    pub counters: Arc<Counters>,
}

impl Emulator {
    /// Starts everything and waits until the handler answers. Needs a multi-threaded Tokio
    /// runtime: the hubs sync files with `block_in_place`.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
        // The handler runs in the app root, as on Azure, so every path it is given must not
        // depend on the directory the emulator was started from.
        let data_dir = std::path::absolute(&config.data_dir)
            .map_err(|err| StartError::DataDir { dir: config.data_dir.clone(), reason: err.to_string() })?;
        let config = EmulatorConfig { data_dir, ..config };
        let app = load_app(&config.app_root)?;
        let routes = Arc::new(
            http_routes(&app)
                .map_err(|err| StartError::App { root: config.app_root.clone(), reason: err.to_string() })?,
        );
        let hubs = Arc::new(Hubs::open(&config.data_dir, consumer_groups(&app), config.partitions.max(1))?);
        let faults = Arc::new(Faults::default());
        for fault in &config.faults {
            faults.set(fault.clone());
        }
        let counters = Arc::new(Counters::default());

        let (hubs_listener, hubs_endpoint) = listen("hubs", config.hubs_port).await?;
        let control = control_router(Arc::clone(&hubs), Arc::clone(&counters));
        tokio::spawn(serve(hubs_listener, hubs::router(Arc::clone(&hubs)).merge(control)));

        let keys_dir = match config.jws_sign {
            true => Some(hub_key::ensure(&config.data_dir)?),
            false => None,
        };
        let command = handler_command(&config, hubs_endpoint, keys_dir.as_deref());
        let supervisor = Arc::new(Supervisor::start(command, Arc::clone(&faults), app.host.function_timeout));
        let operator_key: Option<Arc<str>> = config.operator_key.as_deref().map(Arc::from);
        let fspiop = match &config.mtls {
            None => serve_api(FSPIOP_API, config.fspiop_port, &routes, &supervisor, &operator_key).await?,
            Some(files) => serve_fspiop_mtls(files, config.fspiop_port, &routes, &supervisor).await?,
        };
        let fspiop_scheme = if config.mtls.is_some() { "https" } else { "http" };
        let admin = serve_api(ADMIN_API, config.admin_port, &routes, &supervisor, &operator_key).await?;
        let settlement = serve_api(SETTLEMENT_API, config.settlement_port, &routes, &supervisor, &operator_key).await?;

        supervisor.ready_port(Duration::from_secs(90)).await.ok_or(StartError::HandlerNotReady)?;
        let dispatch = Arc::new(Dispatch {
            app,
            hubs: Arc::clone(&hubs),
            supervisor: Arc::clone(&supervisor),
            faults: Arc::clone(&faults),
            counters: Arc::clone(&counters),
        });
        host::start_triggers(dispatch);
        Ok(Emulator { fspiop, fspiop_scheme, admin, settlement, hubs_endpoint, hubs, supervisor, faults, counters })
    }

    pub fn fspiop_url(&self) -> String {
        format!("{}://{}", self.fspiop_scheme, self.fspiop)
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin)
    }

    /// The settlement API's base, including `/v2`.
    pub fn settlement_url(&self) -> String {
        format!("http://{}/v2", self.settlement)
    }

    /// Waits until every consumer group has checkpointed everything in its hubs, up to `within`;
    /// whether it got there.
    pub async fn wait_idle(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if hubs::backlog(&self.hubs).values().all(|behind| *behind == 0) {
                return true;
            }
            tokio::time::sleep(IDLE_POLL).await;
        }
        false
    }

    /// Stops the handler (gracefully) and stops restarting it.
    pub fn stop(&self) {
        self.supervisor.stop();
    }
}

fn load_app(root: &Path) -> Result<FunctionApp, StartError> {
    let app =
        FunctionApp::load(root).map_err(|err| StartError::App { root: root.to_path_buf(), reason: err.to_string() })?;
    if !app.host.enable_proxying_http_request && !app.host.enable_forwarding_http_request {
        let reason =
            "host.json must enable HTTP proxying (enableProxyingHttpRequest): the edge forwards requests as they are"
                .to_string();
        return Err(StartError::App { root: root.to_path_buf(), reason });
    }
    Ok(app)
}

/// The consumer groups of each hub, from the Event Hubs triggers.
fn consumer_groups(app: &FunctionApp) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for function in &app.functions {
        if let Trigger::EventHub { hub, consumer_group, .. } = &function.trigger {
            groups
                .entry(hub.clone())
                .or_default()
                .push(consumer_group.clone().unwrap_or_else(|| "$Default".to_string()));
        }
    }
    groups
}

fn handler_command(config: &EmulatorConfig, hubs_endpoint: SocketAddr, keys_dir: Option<&Path>) -> HandlerCommand {
    let mut environment = vec![
        ("LOCAL_HUBS_URL".to_string(), format!("http://{hubs_endpoint}")),
        (handler::process::CALLBACK_CONTENT_VERSION_VAR.to_string(), config.callback_version.as_str().to_string()),
    ];
    if let Some(dir) = keys_dir {
        environment.push((handler::signatures::JWS_SIGN_VAR.to_string(), "true".to_string()));
        environment.push((handler::signatures::JWS_KEYS_DIR_VAR.to_string(), dir.display().to_string()));
    }
    match &config.store {
        StoreChoice::Embedded => {
            environment
                .push(("LEDGER_SQLITE_PATH".to_string(), config.data_dir.join("ledger.db").display().to_string()));
        }
        StoreChoice::Mysql(url) => environment.push(("LEDGER_MYSQL_URL".to_string(), url.clone())),
    }
    environment.extend(config.handler_environment.iter().cloned());
    HandlerCommand {
        program: config.handler_program.clone(),
        arguments: config.handler_arguments.clone(),
        environment,
        app_root: config.app_root.clone(),
    }
}

async fn serve_api(
    api: Api,
    port: u16,
    routes: &Arc<Vec<Route>>,
    supervisor: &Arc<Supervisor>,
    operator_key: &Option<Arc<str>>,
) -> Result<SocketAddr, StartError> {
    let key = if api.operator_only { operator_key.clone() } else { None };
    let (listener, address) = listen(api.name, port).await?;
    tokio::spawn(serve(listener, edge::router(api, Arc::clone(routes), Arc::clone(supervisor), key)));
    Ok(address)
}

async fn serve_fspiop_mtls(
    files: &MtlsFiles,
    port: u16,
    routes: &Arc<Vec<Route>>,
    supervisor: &Arc<Supervisor>,
) -> Result<SocketAddr, StartError> {
    let acceptor = mtls::acceptor(files)?;
    let (listener, address) = listen(FSPIOP_API.name, port).await?;
    let router = edge::router(FSPIOP_API, Arc::clone(routes), Arc::clone(supervisor), None);
    tokio::spawn(mtls::serve(listener, acceptor, router));
    Ok(address)
}

async fn listen(what: &'static str, port: u16) -> Result<(TcpListener, SocketAddr), StartError> {
    let failed = |err: std::io::Error| StartError::Listen { what, port, reason: err.to_string() };
    let listener = plumbing::listen::bind(SocketAddr::from(([127, 0, 0, 1], port))).map_err(failed)?;
    let address = listener.local_addr().map_err(failed)?;
    Ok((listener, address))
}

async fn serve(listener: TcpListener, router: Router) {
    plumbing::listen::serve(listener, router, plumbing::listen::LIMITS).await;
}

/// `GET /control/status`: backlog per hub and consumer group, invocation counts, handler starts.
fn control_router(hubs: Arc<Hubs>, counters: Arc<Counters>) -> Router {
    Router::new().route(
        "/control/status",
        get(move || {
            let (hubs, counters) = (Arc::clone(&hubs), Arc::clone(&counters));
            async move { Json(serde_json::json!({ "backlog": hubs::backlog(&hubs), "counters": host::summary(&counters) })) }
        }),
    )
}
