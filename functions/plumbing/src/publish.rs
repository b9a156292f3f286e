//! The one seam through which every function publishes events: a [`Publisher`] sends a list of
//! [`OutgoingEvent`]s to one [`Hub`], either to Azure Event Hubs ([`EventHubsPublisher`]) or to the
//! local emulator's ingestion endpoint ([`LocalHubsPublisher`], whose wire protocol its module
//! documents).
//!
//! Functions publish through the SDK rather than through the Functions host's `eventHub` output
//! binding, because the binding cannot set a partition key for custom handlers (azure.md §0), and
//! the position function relies on per-participant ordering.
//!
//! # Contract
//! - Events of one `publish` call that share a partition key arrive in the order they were given.
//!   Events with different keys, and events without a key, have no order relative to each other
//!   (they may land on different partitions).
//! - A failed call may have sent some of its events already. Retrying the whole call is the
//!   recovery: envelope ids are derived from the event they answer, so consumers recognise the
//!   repeats.
//! - [`PublishError::is_transient`] tells the caller whether to fail the invocation (the host's
//!   retry policy delivers the batch again) or to treat the events as undeliverable.
//!
//! # Configuration (environment variables, i.e. app settings)
//! - `LOCAL_HUBS_URL`: base URL of the local emulator, e.g. `http://127.0.0.1:7080`. When set it
//!   wins, and events go to `{LOCAL_HUBS_URL}/hubs/{hub}/events`.
//! - `EVENTHUB_NAMESPACE`: the fully qualified Event Hubs namespace, e.g.
//!   `evhns-switch.servicebus.windows.net` (no scheme, no path). Used when `LOCAL_HUBS_URL` is not.
//! - `IDENTITY_ENDPOINT`: set by App Service / Functions when the app has a managed identity.
//!   Present → `ManagedIdentityCredential`; absent → `DeveloperToolsCredential` (Azure CLI, then
//!   azd), for a developer's machine.
//! - `AZURE_CLIENT_ID`: optional client id of a user-assigned managed identity; ignored without
//!   `IDENTITY_ENDPOINT`.
//!
//! Empty values count as unset, because an app setting cleared in the portal stays as `""`.
//! With neither `LOCAL_HUBS_URL` nor `EVENTHUB_NAMESPACE`, [`publisher_from_env`] fails with
//! [`PublisherConfigError::NoTarget`] rather than guessing.

pub mod coalescing;
pub mod event_hubs;
pub mod local;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub use coalescing::CoalescingPublisher;
pub use event_hubs::{plan_batches, CredentialChoice, EventHubsConfig, EventHubsPublisher, Namespace, PlannedBatch};
pub use local::LocalHubsPublisher;

/// Names the local emulator's base URL.
pub const LOCAL_HUBS_URL_VAR: &str = "LOCAL_HUBS_URL";
/// Names the Event Hubs namespace FQDN.
pub const EVENTHUB_NAMESPACE_VAR: &str = "EVENTHUB_NAMESPACE";
/// Names the client id of a user-assigned managed identity.
pub const AZURE_CLIENT_ID_VAR: &str = "AZURE_CLIENT_ID";
/// Set by the App Service / Functions platform when a managed identity is available.
pub const IDENTITY_ENDPOINT_VAR: &str = "IDENTITY_ENDPOINT";

/// The event hubs the switch publishes to: exactly those the Event Hubs triggers in
/// `functions/bindings` consume (a test holds the two lists together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hub {
    TransferPrepare,
    TransferFulfil,
    TransferGet,
    TransferPosition,
    NotificationEvent,
    AdminTransfer,
    SettlementWindowClose,
}

impl Hub {
    /// Every hub, in declaration order (so `Hub::ALL[hub.index()] == hub`).
    pub const ALL: [Hub; 7] = [
        Hub::TransferPrepare,
        Hub::TransferFulfil,
        Hub::TransferGet,
        Hub::TransferPosition,
        Hub::NotificationEvent,
        Hub::AdminTransfer,
        Hub::SettlementWindowClose,
    ];

    /// The event hub's name in the namespace (and in the function.json files).
    pub fn name(self) -> &'static str {
        match self {
            Hub::TransferPrepare => "transfer-prepare",
            Hub::TransferFulfil => "transfer-fulfil",
            Hub::TransferGet => "transfer-get",
            Hub::TransferPosition => "transfer-position",
            Hub::NotificationEvent => "notification-event",
            Hub::AdminTransfer => "admin-transfer",
            Hub::SettlementWindowClose => "settlement-window-close",
        }
    }

    /// The hub's position in [`Hub::ALL`], for per-hub arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One event to publish: its body (an envelope's JSON, usually) and the partition key that keeps
/// it in order with the other events of that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEvent {
    pub partition_key: Option<String>,
    pub body: String,
}

impl OutgoingEvent {
    pub fn keyed(partition_key: impl Into<String>, body: impl Into<String>) -> OutgoingEvent {
        OutgoingEvent { partition_key: Some(partition_key.into()), body: body.into() }
    }

    pub fn unkeyed(body: impl Into<String>) -> OutgoingEvent {
        OutgoingEvent { partition_key: None, body: body.into() }
    }
}

/// Sends events to a hub. Implementations keep per-key order within one call (module doc).
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `events` to `hub`; an empty list sends nothing and succeeds.
    async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError>;
}

/// Why events could not be published. [`PublishError::is_transient`] splits the variants into
/// "retry the call" and "retrying the same events will not help".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The hub could not be reached or failed on its side (connection refused or dropped, 5xx,
    /// AMQP link or session lost, token endpoint unreachable). Transient.
    #[error("hub {hub} is unavailable: {reason}")]
    Unavailable { hub: Hub, reason: String },
    /// The call took too long. Transient.
    #[error("publishing to hub {hub} timed out: {reason}")]
    Timeout { hub: Hub, reason: String },
    /// The service asked us to slow down (429, server busy, quota). Transient.
    #[error("hub {hub} is throttling: {reason}")]
    Throttled { hub: Hub, reason: String },
    /// An event is larger than the hub accepts, even alone. Permanent.
    #[error("an event is too large for hub {hub}: {reason}")]
    EventTooLarge { hub: Hub, reason: String },
    /// The namespace or emulator has no such hub. Permanent.
    #[error("hub {hub} does not exist: {reason}")]
    UnknownHub { hub: Hub, reason: String },
    /// The service refused the request (4xx, unauthorized, malformed). Permanent.
    #[error("hub {hub} rejected the events: {reason}")]
    Rejected { hub: Hub, reason: String },
}

impl PublishError {
    pub fn is_transient(&self) -> bool {
        match self {
            PublishError::Unavailable { .. } | PublishError::Timeout { .. } | PublishError::Throttled { .. } => true,
            PublishError::EventTooLarge { .. } | PublishError::UnknownHub { .. } | PublishError::Rejected { .. } => {
                false
            }
        }
    }

    pub fn hub(&self) -> Hub {
        match self {
            PublishError::Unavailable { hub, .. }
            | PublishError::Timeout { hub, .. }
            | PublishError::Throttled { hub, .. }
            | PublishError::EventTooLarge { hub, .. }
            | PublishError::UnknownHub { hub, .. }
            | PublishError::Rejected { hub, .. } => *hub,
        }
    }

    /// Classifies an HTTP-style status, which both the emulator and the Event Hubs management
    /// link report.
    pub(crate) fn from_status(hub: Hub, status: u16, reason: String) -> PublishError {
        match status {
            408 => PublishError::Timeout { hub, reason },
            429 => PublishError::Throttled { hub, reason },
            404 => PublishError::UnknownHub { hub, reason },
            413 => PublishError::EventTooLarge { hub, reason },
            500..=599 => PublishError::Unavailable { hub, reason },
            _ => PublishError::Rejected { hub, reason },
        }
    }
}

/// Where events go, as read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishTarget {
    Local { base_url: reqwest::Url },
    EventHubs(EventHubsConfig),
}

/// Why no publisher could be built from the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublisherConfigError {
    #[error("no event target: set LOCAL_HUBS_URL (emulator base URL) or EVENTHUB_NAMESPACE (namespace FQDN)")]
    NoTarget,
    #[error("{LOCAL_HUBS_URL_VAR}={value:?} is not a usable base URL: {reason}")]
    InvalidLocalUrl { value: String, reason: String },
    #[error("{EVENTHUB_NAMESPACE_VAR}={value:?} is not a namespace FQDN: {reason}")]
    InvalidNamespace { value: String, reason: String },
    #[error("cannot create the Azure credential: {0}")]
    Credential(String),
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(String),
}

impl PublishTarget {
    /// Reads the target from variables looked up by name (the module doc's table), so tests can
    /// pass a map instead of touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<PublishTarget, PublisherConfigError> {
        // An app setting cleared in the portal stays as an empty string: treat it as unset.
        let var = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(url) = var(LOCAL_HUBS_URL_VAR) {
            return Ok(PublishTarget::Local { base_url: local::parse_base_url(&url)? });
        }
        let Some(namespace) = var(EVENTHUB_NAMESPACE_VAR) else {
            return Err(PublisherConfigError::NoTarget);
        };
        let credential = credential_choice(&lookup);
        Ok(PublishTarget::EventHubs(EventHubsConfig { namespace: Namespace::parse(&namespace)?, credential }))
    }
}

/// The Entra ID credential the app's settings call for: the managed identity when
/// `IDENTITY_ENDPOINT` is set (user-assigned with `AZURE_CLIENT_ID`), else developer tools.
/// Event Hubs, Cosmos DB and Key Vault all authenticate with it.
pub fn credential_choice(lookup: impl Fn(&str) -> Option<String>) -> CredentialChoice {
    let var = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    match var(IDENTITY_ENDPOINT_VAR) {
        Some(_) => CredentialChoice::ManagedIdentity { client_id: var(AZURE_CLIENT_ID_VAR) },
        None => CredentialChoice::DeveloperTools,
    }
}

/// The process's publisher, chosen by the environment (module doc). Build it once at start-up
/// and share the `Arc`: each publisher keeps its connections for the process lifetime.
pub fn publisher_from_env() -> Result<Arc<dyn Publisher>, PublisherConfigError> {
    publisher_for(PublishTarget::from_lookup(|name| std::env::var(name).ok())?)
}

/// The publisher for an already-read target.
pub fn publisher_for(target: PublishTarget) -> Result<Arc<dyn Publisher>, PublisherConfigError> {
    match target {
        PublishTarget::Local { base_url } => Ok(Arc::new(LocalHubsPublisher::new(base_url)?)),
        PublishTarget::EventHubs(config) => Ok(Arc::new(EventHubsPublisher::new(config)?)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use switch_handler::FunctionApp;

    use super::*;

    fn target(vars: &[(&str, &str)]) -> Result<PublishTarget, PublisherConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        PublishTarget::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn hubs_are_exactly_the_event_hubs_the_triggers_consume() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let app = FunctionApp::load(&root).expect("the repository's bindings load");
        let mut ours: Vec<&str> = Hub::ALL.iter().map(|hub| hub.name()).collect();
        ours.sort_unstable();
        assert_eq!(ours, app.event_hubs());
    }

    #[test]
    fn hubs_display_as_their_names_and_index_matches_all() {
        for (i, hub) in Hub::ALL.into_iter().enumerate() {
            assert_eq!(hub.index(), i);
            assert_eq!(hub.to_string(), hub.name());
        }
    }

    #[test]
    fn transient_errors_are_connection_timeout_5xx_and_throttling() {
        let hub = Hub::TransferPosition;
        let cases = [
            (503, true),
            (500, true),
            (408, true),
            (429, true),
            (404, false),
            (413, false),
            (400, false),
            (401, false),
            (204, false),
        ];
        for (status, transient) in cases {
            let error = PublishError::from_status(hub, status, String::new());
            assert_eq!(error.is_transient(), transient, "status {status}");
            assert_eq!(error.hub(), hub);
        }
        assert!(matches!(PublishError::from_status(hub, 404, String::new()), PublishError::UnknownHub { .. }));
        assert!(matches!(PublishError::from_status(hub, 413, String::new()), PublishError::EventTooLarge { .. }));
    }

    #[test]
    fn local_url_wins_over_the_namespace() {
        let got = target(&[
            (LOCAL_HUBS_URL_VAR, "http://127.0.0.1:7080/"),
            (EVENTHUB_NAMESPACE_VAR, "x.servicebus.windows.net"),
        ]);
        let Ok(PublishTarget::Local { base_url }) = got else { panic!("expected local, got {got:?}") };
        assert_eq!(base_url.as_str(), "http://127.0.0.1:7080/");
    }

    #[test]
    fn namespace_uses_managed_identity_only_when_the_platform_offers_one() {
        let ns = (EVENTHUB_NAMESPACE_VAR, "evhns-switch.servicebus.windows.net");
        let client = (AZURE_CLIENT_ID_VAR, "1111-2222");
        let on_azure = target(&[ns, client, (IDENTITY_ENDPOINT_VAR, "http://169.254.255.2:8081/msi/token")]);
        let expected = EventHubsConfig {
            namespace: Namespace::parse("evhns-switch.servicebus.windows.net").expect("valid"),
            credential: CredentialChoice::ManagedIdentity { client_id: Some("1111-2222".to_string()) },
        };
        assert_eq!(on_azure, Ok(PublishTarget::EventHubs(expected)));
        let Ok(PublishTarget::EventHubs(dev)) = target(&[ns, client]) else { panic!("expected Event Hubs") };
        assert_eq!(dev.credential, CredentialChoice::DeveloperTools);
    }

    #[test]
    fn nothing_or_empty_values_is_a_clear_error() {
        assert_eq!(target(&[]), Err(PublisherConfigError::NoTarget));
        assert_eq!(
            target(&[(LOCAL_HUBS_URL_VAR, " "), (EVENTHUB_NAMESPACE_VAR, "")]),
            Err(PublisherConfigError::NoTarget)
        );
        assert!(PublisherConfigError::NoTarget.to_string().contains("LOCAL_HUBS_URL"));
    }

    #[test]
    fn malformed_values_are_rejected_with_the_variable_named() {
        let url = target(&[(LOCAL_HUBS_URL_VAR, "127.0.0.1:7080")]);
        assert!(matches!(url, Err(PublisherConfigError::InvalidLocalUrl { .. })), "{url:?}");
        let ns = target(&[(EVENTHUB_NAMESPACE_VAR, "sb://x.servicebus.windows.net/")]);
        let Err(error) = ns else { panic!("expected an error") };
        assert!(error.to_string().starts_with("EVENTHUB_NAMESPACE="), "{error}");
    }

    #[test]
    fn publisher_for_a_local_target_builds_without_io() {
        let base_url = reqwest::Url::parse("http://127.0.0.1:1/").expect("valid");
        assert!(publisher_for(PublishTarget::Local { base_url }).is_ok());
    }
}
