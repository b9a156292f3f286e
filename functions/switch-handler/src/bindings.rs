//! The function app's configuration files, host.json and one function.json per function, read into
//! types. These files are the single source of truth for which functions exist, what triggers them
//! and on which Event Hub, so the local emulator and the Bicep generator read them through
//! [`FunctionApp::load`] rather than keeping lists of their own.
//!
//! Parsing accepts what the files may legally say (e.g. a trigger without `cardinality`, which the
//! host reads as `one`); [`FunctionApp::check`] then holds them to this project's rules (batch
//! triggers, one consumer group per function, a retry policy, at most 10 hubs, …).
//!
//! Keys are read with the casing Microsoft documents (`eventHubName`, `defaultExecutablePath`);
//! the host itself would also accept other casings, which these files do not use.

mod check;
mod ncrontab;
mod timespan;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use check::{
    is_valid_binding_name, is_valid_function_name, ConfigProblem, EVENT_HUBS_PER_NAMESPACE_MAX, RETRY_COUNT_UNBOUNDED,
    RETRY_INTERVAL_MAX,
};
pub use ncrontab::{NcrontabSchedule, ScheduleError};
pub use timespan::parse_timespan;

/// Where the function folders live in this repository, relative to its root. The packaging step
/// copies each folder beside host.json at the root of the deployment zip.
pub const BINDINGS_DIR: &str = "functions/bindings";
pub const HOST_JSON: &str = "host.json";
pub const FUNCTION_JSON: &str = "function.json";

/// The route prefix the host uses when host.json sets none.
const DEFAULT_ROUTE_PREFIX: &str = "api";

/// Why the configuration files could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    /// Not JSON, or JSON missing a required key or with a key of the wrong type.
    #[error("{path} is malformed: {reason}")]
    Malformed { path: PathBuf, reason: String },
    /// Well-formed JSON the host would not accept (no trigger, an unknown trigger, a bad interval).
    #[error("{path} is invalid: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// The whole app: host.json and every function, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionApp {
    pub host: HostConfig,
    pub functions: Vec<FunctionSpec>,
}

/// What this project reads from host.json.
#[derive(Debug, Clone, PartialEq)]
pub struct HostConfig {
    pub version: String,
    /// `customHandler.description.defaultExecutablePath`: the binary the host starts.
    pub executable: String,
    pub arguments: Vec<String>,
    /// HTTP-only functions get the original request proxied to the handler at its original path.
    pub enable_proxying_http_request: bool,
    pub enable_forwarding_http_request: bool,
    pub function_timeout: Option<Duration>,
    pub extension_bundle: Option<ExtensionBundle>,
    /// `extensions.http.routePrefix`; the host's default `api` when absent.
    pub http_route_prefix: String,
    pub event_hubs: EventHubsOptions,
    /// A retry policy for every function that has none of its own.
    pub retry: Option<RetryPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ExtensionBundle {
    pub id: String,
    pub version: String,
}

/// `extensions.eventHubs`; `None` means the extension's default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventHubsOptions {
    pub max_event_batch_size: Option<u32>,
    pub min_event_batch_size: Option<u32>,
    pub batch_checkpoint_frequency: Option<u32>,
    pub prefetch_count: Option<u32>,
    /// `initialOffsetOptions.type`: `fromStart`, `fromEnd` or `fromEnqueuedTime`.
    pub initial_offset: Option<String>,
}

/// One function: its folder name, its trigger, its outputs and its retry policy.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// The folder name, which is the function name and the path the host POSTs invocations to.
    pub name: String,
    pub trigger: Trigger,
    pub outputs: Vec<OutputBinding>,
    pub retry: Option<RetryPolicy>,
}

/// The binding that starts the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    EventHub {
        /// The binding `name`: the key of the batch in the invocation's `Data`.
        binding: String,
        hub: String,
        /// `None` means `$Default`.
        consumer_group: Option<String>,
        /// The app-setting prefix naming the namespace and credential.
        connection: String,
        cardinality: Cardinality,
        data_type: Option<String>,
    },
    Timer {
        binding: String,
        schedule: String,
        run_on_startup: bool,
        use_monitor: bool,
    },
    Http {
        binding: String,
        /// Lower case, as written; empty means every method.
        methods: Vec<String>,
        /// `None` means the function name.
        route: Option<String>,
        auth_level: String,
    },
}

/// How many events one invocation carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// The host's default when function.json says nothing.
    One,
    Many,
}

/// An output binding: its `name` (the key in the response's `Outputs`) and `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputBinding {
    pub name: String,
    pub kind: String,
}

/// A runtime retry policy (function.json or host.json `retry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPolicy {
    ExponentialBackoff { max_retry_count: i32, minimum_interval: Duration, maximum_interval: Duration },
    FixedDelay { max_retry_count: i32, delay_interval: Duration },
}

impl FunctionApp {
    /// Reads this repository's layout: `root/host.json` and one folder per function under
    /// `root/functions/bindings/`, each of which must hold a function.json.
    pub fn load(root: &Path) -> Result<FunctionApp, BindingsError> {
        FunctionApp::load_from(&root.join(HOST_JSON), &root.join(BINDINGS_DIR), true)
    }

    /// Reads the deployment layout: host.json and the function folders side by side at `root`.
    /// Folders without a function.json are not functions and are skipped.
    pub fn load_package(root: &Path) -> Result<FunctionApp, BindingsError> {
        FunctionApp::load_from(&root.join(HOST_JSON), root, false)
    }

    fn load_from(host_path: &Path, functions_dir: &Path, every_folder: bool) -> Result<FunctionApp, BindingsError> {
        let host = HostConfig::from_json_str(&read(host_path)?, host_path)?;
        let mut functions = Vec::new();
        for folder in function_folders(functions_dir)? {
            let path = folder.join(FUNCTION_JSON);
            if !every_folder && !path.is_file() {
                continue;
            }
            let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            functions.push(FunctionSpec::from_json_str(&name, &read(&path)?, &path)?);
        }
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(FunctionApp { host, functions })
    }

    pub fn function(&self, name: &str) -> Option<&FunctionSpec> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The distinct Event Hubs the triggers consume, sorted.
    pub fn event_hubs(&self) -> Vec<&str> {
        let mut hubs: Vec<&str> = self
            .functions
            .iter()
            .filter_map(|f| match &f.trigger {
                Trigger::EventHub { hub, .. } => Some(hub.as_str()),
                _ => None,
            })
            .collect();
        hubs.sort_unstable();
        hubs.dedup();
        hubs
    }

    /// Every way the files break this project's rules; empty when they keep them all.
    pub fn check(&self) -> Vec<ConfigProblem> {
        check::check(self)
    }
}

impl FunctionSpec {
    /// Parses one function.json. `name` is the folder name; `path` is only used in errors.
    pub fn from_json_str(name: &str, json: &str, path: &Path) -> Result<FunctionSpec, BindingsError> {
        let raw: RawFunction = serde_json::from_str(json).map_err(|e| malformed(path, e))?;
        let mut trigger = None;
        let mut outputs = Vec::new();
        for binding in raw.bindings {
            let is_trigger = binding.kind.to_ascii_lowercase().ends_with("trigger");
            match (is_trigger, binding.direction.as_str()) {
                (true, _) if trigger.is_some() => return Err(invalid(path, "more than one trigger binding")),
                (true, _) => trigger = Some(binding.into_trigger(path)?),
                (false, "out") => outputs.push(OutputBinding { name: binding.name, kind: binding.kind }),
                (false, direction) => {
                    let reason = format!("binding `{}` ({direction}) is neither a trigger nor an output", binding.name);
                    return Err(invalid(path, &reason));
                }
            }
        }
        let trigger = trigger.ok_or_else(|| invalid(path, "no trigger binding"))?;
        let retry = raw.retry.map(|r| r.into_policy(path)).transpose()?;
        Ok(FunctionSpec { name: name.to_owned(), trigger, outputs, retry })
    }

    /// The binding `name` of the trigger.
    pub fn trigger_binding(&self) -> &str {
        match &self.trigger {
            Trigger::EventHub { binding, .. } | Trigger::Timer { binding, .. } | Trigger::Http { binding, .. } => {
                binding
            }
        }
    }
}

impl HostConfig {
    /// Parses host.json. `path` is only used in errors.
    pub fn from_json_str(json: &str, path: &Path) -> Result<HostConfig, BindingsError> {
        let raw: RawHost = serde_json::from_str(json).map_err(|e| malformed(path, e))?;
        let handler = raw.custom_handler.ok_or_else(|| invalid(path, "no `customHandler` section"))?;
        let function_timeout = match raw.function_timeout {
            Some(text) => Some(interval(&text, "functionTimeout", path)?),
            None => None,
        };
        let extensions = raw.extensions.unwrap_or_default();
        let hubs = extensions.event_hubs.unwrap_or_default();
        Ok(HostConfig {
            version: raw.version,
            executable: handler.description.default_executable_path,
            arguments: handler.description.arguments,
            enable_proxying_http_request: handler.enable_proxying_http_request,
            enable_forwarding_http_request: handler.enable_forwarding_http_request,
            function_timeout,
            extension_bundle: raw.extension_bundle,
            http_route_prefix: extensions
                .http
                .and_then(|h| h.route_prefix)
                .unwrap_or_else(|| DEFAULT_ROUTE_PREFIX.to_owned()),
            event_hubs: EventHubsOptions {
                max_event_batch_size: hubs.max_event_batch_size,
                min_event_batch_size: hubs.min_event_batch_size,
                batch_checkpoint_frequency: hubs.batch_checkpoint_frequency,
                prefetch_count: hubs.prefetch_count,
                initial_offset: hubs.initial_offset_options.map(|o| o.kind),
            },
            retry: raw.retry.map(|r| r.into_policy(path)).transpose()?,
        })
    }
}

fn read(path: &Path) -> Result<String, BindingsError> {
    fs::read_to_string(path).map_err(|e| BindingsError::Read { path: path.to_owned(), reason: e.to_string() })
}

/// The sub-directories of `dir`, sorted (plain files such as a README are not functions).
fn function_folders(dir: &Path) -> Result<Vec<PathBuf>, BindingsError> {
    let read_error = |e: std::io::Error| BindingsError::Read { path: dir.to_owned(), reason: e.to_string() };
    let mut folders = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_dir() {
            folders.push(path);
        }
    }
    folders.sort();
    Ok(folders)
}

fn interval(text: &str, key: &str, path: &Path) -> Result<Duration, BindingsError> {
    parse_timespan(text).ok_or_else(|| invalid(path, &format!("`{key}` is not a TimeSpan (hh:mm:ss): `{text}`")))
}

fn malformed(path: &Path, error: serde_json::Error) -> BindingsError {
    BindingsError::Malformed { path: path.to_owned(), reason: error.to_string() }
}

fn invalid(path: &Path, reason: &str) -> BindingsError {
    BindingsError::Invalid { path: path.to_owned(), reason: reason.to_owned() }
}

#[derive(Deserialize)]
struct RawFunction {
    bindings: Vec<RawBinding>,
    retry: Option<RawRetry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBinding {
    #[serde(rename = "type")]
    kind: String,
    direction: String,
    name: String,
    event_hub_name: Option<String>,
    connection: Option<String>,
    consumer_group: Option<String>,
    cardinality: Option<String>,
    data_type: Option<String>,
    schedule: Option<String>,
    run_on_startup: Option<bool>,
    use_monitor: Option<bool>,
    methods: Option<Vec<String>>,
    route: Option<String>,
    auth_level: Option<String>,
}

impl RawBinding {
    fn into_trigger(self, path: &Path) -> Result<Trigger, BindingsError> {
        let missing = |key: &str| invalid(path, &format!("trigger `{}` has no `{key}`", self.name));
        match self.kind.to_ascii_lowercase().as_str() {
            "eventhubtrigger" => Ok(Trigger::EventHub {
                hub: self.event_hub_name.ok_or_else(|| missing("eventHubName"))?,
                connection: self.connection.ok_or_else(|| missing("connection"))?,
                cardinality: cardinality(self.cardinality.as_deref(), path)?,
                consumer_group: self.consumer_group,
                data_type: self.data_type,
                binding: self.name,
            }),
            "timertrigger" => Ok(Trigger::Timer {
                schedule: self.schedule.ok_or_else(|| missing("schedule"))?,
                run_on_startup: self.run_on_startup.unwrap_or(false),
                use_monitor: self.use_monitor.unwrap_or(true),
                binding: self.name,
            }),
            "httptrigger" => Ok(Trigger::Http {
                methods: self.methods.unwrap_or_default(),
                route: self.route,
                auth_level: self.auth_level.unwrap_or_else(|| "function".to_owned()),
                binding: self.name,
            }),
            other => Err(invalid(path, &format!("unsupported trigger type `{other}`"))),
        }
    }
}

fn cardinality(text: Option<&str>, path: &Path) -> Result<Cardinality, BindingsError> {
    match text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("one") => Ok(Cardinality::One),
        Some("many") => Ok(Cardinality::Many),
        Some(other) => Err(invalid(path, &format!("cardinality `{other}` is neither `one` nor `many`"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRetry {
    strategy: String,
    max_retry_count: i32,
    minimum_interval: Option<String>,
    maximum_interval: Option<String>,
    delay_interval: Option<String>,
}

impl RawRetry {
    /// The host's rules: a known strategy, `maxRetryCount` of -1 (forever) or more, and the
    /// intervals that strategy needs, with the minimum not above the maximum.
    fn into_policy(self, path: &Path) -> Result<RetryPolicy, BindingsError> {
        if self.max_retry_count < -1 {
            return Err(invalid(path, "retry `maxRetryCount` is below -1"));
        }
        let required = |value: Option<String>, key: &str| match value {
            Some(text) => interval(&text, key, path),
            None => Err(invalid(path, &format!("retry strategy `{}` needs `{key}`", self.strategy))),
        };
        match self.strategy.to_ascii_lowercase().as_str() {
            "exponentialbackoff" => {
                let minimum_interval = required(self.minimum_interval, "minimumInterval")?;
                let maximum_interval = required(self.maximum_interval, "maximumInterval")?;
                if minimum_interval > maximum_interval {
                    return Err(invalid(path, "retry `minimumInterval` is above `maximumInterval`"));
                }
                let max_retry_count = self.max_retry_count;
                Ok(RetryPolicy::ExponentialBackoff { max_retry_count, minimum_interval, maximum_interval })
            }
            "fixeddelay" => Ok(RetryPolicy::FixedDelay {
                max_retry_count: self.max_retry_count,
                delay_interval: required(self.delay_interval, "delayInterval")?,
            }),
            other => Err(invalid(path, &format!("unknown retry strategy `{other}`"))),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHost {
    version: String,
    custom_handler: Option<RawCustomHandler>,
    extension_bundle: Option<ExtensionBundle>,
    function_timeout: Option<String>,
    extensions: Option<RawExtensions>,
    retry: Option<RawRetry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCustomHandler {
    description: RawDescription,
    #[serde(default)]
    enable_forwarding_http_request: bool,
    #[serde(default)]
    enable_proxying_http_request: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescription {
    default_executable_path: String,
    #[serde(default)]
    arguments: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawExtensions {
    http: Option<RawHttp>,
    event_hubs: Option<RawEventHubs>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHttp {
    route_prefix: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawEventHubs {
    max_event_batch_size: Option<u32>,
    min_event_batch_size: Option<u32>,
    batch_checkpoint_frequency: Option<u32>,
    prefetch_count: Option<u32>,
    initial_offset_options: Option<RawInitialOffset>,
}

#[derive(Deserialize)]
struct RawInitialOffset {
    #[serde(rename = "type")]
    kind: String,
}
