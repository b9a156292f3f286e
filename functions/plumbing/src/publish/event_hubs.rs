//! The Azure Event Hubs publisher: one `ProducerClient` per hub, opened on first use and kept for
//! the process lifetime, sending partition-keyed `EventDataBatch`es over AMQP.
//!
//! Clients are never opened per call: opening costs an AMQP connection plus a claims-based-auth
//! exchange, and in azure_messaging_eventhubs 0.15 closing one leaks its token-refresh task
//! (azure.md §2.5). A client that fails to open is not cached, so the next call tries again; an
//! open client is never replaced, because the SDK's recoverable connection reconnects by itself.
//!
//! # Phases of one `publish`
//! | phase | what | tested |
//! |---|---|---|
//! | plan | [`plan_batches`] groups events by partition key, keeping order within a key | pure |
//! | fill | each group fills batches made with its key; a full one is sent, a new one begun | with a fake |
//! | send | batches go out one after another, in plan order | needs Azure |
//!
//! Partition keys are only settable on batches in 0.15 (`SendEventOptions` has only a partition
//! id), hence batches even for a single event. The SDK retries AMQP failures itself before an
//! error reaches `classify`.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core_amqp::{AmqpError, AmqpErrorCondition, AmqpErrorKind};
use azure_identity::{
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
};
use azure_messaging_eventhubs::error::ErrorKind as EventHubsErrorKind;
use azure_messaging_eventhubs::{EventDataBatch, EventDataBatchOptions, EventHubsError, ProducerClient};
use tokio::sync::OnceCell;

use super::{Hub, OutgoingEvent, PublishError, Publisher, PublisherConfigError};

/// Sent as the AMQP client's application id, so the service's diagnostics name the caller.
const APPLICATION_ID: &str = "mojaloop-switch";

/// A fully qualified Event Hubs namespace, e.g. `evhns-switch.servicebus.windows.net`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    /// Accepts a bare host name. Connection-string forms (`sb://…/`) are refused rather than
    /// trimmed, because 0.15 has no connection-string support and a silently rewritten value
    /// would hide a misconfigured app setting.
    pub fn parse(value: &str) -> Result<Namespace, PublisherConfigError> {
        let invalid = |reason: &str| PublisherConfigError::InvalidNamespace {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if value.contains("://") || value.contains('/') {
            return Err(invalid("give the host name only, without scheme or path"));
        }
        let labels_ok = value
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !value.contains('.') || !labels_ok {
            return Err(invalid("expected a dotted host name such as evhns-switch.servicebus.windows.net"));
        }
        Ok(Namespace(value.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which Entra ID credential authenticates to the namespace (0.15 supports no other auth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialChoice {
    /// On Azure: the app's managed identity, user-assigned when a client id is given.
    ManagedIdentity { client_id: Option<String> },
    /// On a developer's machine: the Azure CLI, then azd, login.
    DeveloperTools,
}

impl CredentialChoice {
    pub fn credential(&self) -> Result<Arc<dyn TokenCredential>, PublisherConfigError> {
        let credential_error = |e: azure_core::Error| PublisherConfigError::Credential(e.to_string());
        match self {
            CredentialChoice::ManagedIdentity { client_id } => {
                let options = client_id.clone().map(|id| ManagedIdentityCredentialOptions {
                    user_assigned_id: Some(UserAssignedId::ClientId(id)),
                    ..Default::default()
                });
                Ok(ManagedIdentityCredential::new(options).map_err(credential_error)?)
            }
            CredentialChoice::DeveloperTools => Ok(DeveloperToolsCredential::new(None).map_err(credential_error)?),
        }
    }
}

/// What [`EventHubsPublisher::new`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHubsConfig {
    pub namespace: Namespace,
    pub credential: CredentialChoice,
}

/// Publishes to Azure Event Hubs. Share one per process (`Arc`): it owns the producer clients.
pub struct EventHubsPublisher {
    namespace: Namespace,
    credential: Arc<dyn TokenCredential>,
    /// Indexed by [`Hub::index`]; each cell is filled by the first publish to that hub.
    producers: [OnceCell<ProducerClient>; Hub::ALL.len()],
}

impl EventHubsPublisher {
    /// Creates the credential; no connection is opened until the first publish.
    pub fn new(config: EventHubsConfig) -> Result<EventHubsPublisher, PublisherConfigError> {
        Ok(EventHubsPublisher::with_credential(config.namespace, config.credential.credential()?))
    }

    pub fn with_credential(namespace: Namespace, credential: Arc<dyn TokenCredential>) -> EventHubsPublisher {
        EventHubsPublisher { namespace, credential, producers: std::array::from_fn(|_| OnceCell::new()) }
    }

    /// The hub's client, opened now if this is the first use. Concurrent first uses wait for one
    /// open instead of racing to open several.
    async fn producer(&self, hub: Hub) -> Result<&ProducerClient, PublishError> {
        self.producers[hub.index()]
            .get_or_try_init(|| async {
                ProducerClient::builder()
                    .with_application_id(APPLICATION_ID.to_string())
                    .open(self.namespace.as_str(), hub.name(), self.credential.clone())
                    .await
                    .map_err(|e| classify(hub, &e))
            })
            .await
    }
}

#[async_trait]
impl Publisher for EventHubsPublisher {
    async fn publish(&self, hub: Hub, events: Vec<OutgoingEvent>) -> Result<(), PublishError> {
        if events.is_empty() {
            return Ok(());
        }
        let sender = HubSender { hub, client: self.producer(hub).await? };
        for planned in plan_batches(events) {
            send_planned(&sender, hub, planned).await?;
        }
        Ok(())
    }
}

/// The events of one partition key (or of none), in the order given. One planned batch becomes
/// one or more Event Hubs batches, depending on how many fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    pub partition_key: Option<String>,
    pub events: Vec<String>,
}

/// Groups events by partition key, in order of each key's first appearance, keeping the order of
/// events within a key. Key-less events form one group of their own.
pub fn plan_batches(events: Vec<OutgoingEvent>) -> Vec<PlannedBatch> {
    let mut planned: Vec<PlannedBatch> = Vec::new();
    for event in events {
        // A linear search: calls carry tens of events and a handful of keys, and a map would
        // lose the first-appearance order that makes the plan deterministic.
        match planned.iter_mut().find(|batch| batch.partition_key == event.partition_key) {
            Some(batch) => batch.events.push(event.body),
            None => planned.push(PlannedBatch { partition_key: event.partition_key, events: vec![event.body] }),
        }
    }
    planned
}

/// The batch operations that filling needs, so that the filling logic runs in tests against a
/// fake with a small size limit instead of against Azure.
trait BatchSender {
    type Batch;
    async fn create_batch(&self, partition_key: Option<String>) -> Result<Self::Batch, PublishError>;
    /// `Ok(false)` when the batch is full.
    fn try_add(&self, batch: &Self::Batch, body: &str) -> Result<bool, PublishError>;
    fn is_empty(&self, batch: &Self::Batch) -> bool;
    async fn send_batch(&self, batch: Self::Batch) -> Result<(), PublishError>;
}

/// Fills and sends the batches of one planned group, in order. An event that does not fit even
/// an empty batch cannot be sent at all.
async fn send_planned<S: BatchSender>(sender: &S, hub: Hub, planned: PlannedBatch) -> Result<(), PublishError> {
    let too_large = |body: &str| PublishError::EventTooLarge {
        hub,
        reason: format!("an event of {} bytes does not fit in an empty batch", body.len()),
    };
    let mut batch = sender.create_batch(planned.partition_key.clone()).await?;
    for body in &planned.events {
        if sender.try_add(&batch, body)? {
            continue;
        }
        if sender.is_empty(&batch) {
            return Err(too_large(body));
        }
        sender.send_batch(batch).await?;
        batch = sender.create_batch(planned.partition_key.clone()).await?;
        if !sender.try_add(&batch, body)? {
            return Err(too_large(body));
        }
    }
    if !sender.is_empty(&batch) {
        sender.send_batch(batch).await?;
    }
    Ok(())
}

/// The real [`BatchSender`]: one hub's producer client.
struct HubSender<'p> {
    hub: Hub,
    client: &'p ProducerClient,
}

impl<'p> BatchSender for HubSender<'p> {
    type Batch = EventDataBatch<'p>;

    async fn create_batch(&self, partition_key: Option<String>) -> Result<EventDataBatch<'p>, PublishError> {
        let options = EventDataBatchOptions { partition_key, ..Default::default() };
        self.client.create_batch(Some(options)).await.map_err(|e| classify(self.hub, &e))
    }

    fn try_add(&self, batch: &EventDataBatch<'p>, body: &str) -> Result<bool, PublishError> {
        batch.try_add_event_data(body.as_bytes().to_vec(), None).map_err(|e| classify(self.hub, &e))
    }

    fn is_empty(&self, batch: &EventDataBatch<'p>) -> bool {
        batch.is_empty()
    }

    async fn send_batch(&self, batch: EventDataBatch<'p>) -> Result<(), PublishError> {
        self.client.send_batch(batch, None).await.map_err(|e| classify(self.hub, &e))
    }
}

/// Maps an SDK error to a [`PublishError`]. Unknown errors count as transient: the host's retry
/// policy bounds the retries, while calling a recoverable failure permanent would drop events.
fn classify(hub: Hub, error: &EventHubsError) -> PublishError {
    let reason = error.to_string();
    match &error.kind {
        EventHubsErrorKind::AmqpError(amqp) => classify_amqp(hub, amqp, reason),
        EventHubsErrorKind::AzureCore(core) => classify_core(hub, core, reason),
        EventHubsErrorKind::SendRejected(Some(described)) => classify_condition(hub, &described.condition, reason),
        EventHubsErrorKind::SendRejected(None) => PublishError::Rejected { hub, reason },
        _ => PublishError::Unavailable { hub, reason },
    }
}

fn classify_amqp(hub: Hub, error: &AmqpError, reason: String) -> PublishError {
    match error.kind() {
        AmqpErrorKind::AmqpDescribedError(described) => classify_condition(hub, &described.condition, reason),
        AmqpErrorKind::ManagementStatusCode(status, _) => PublishError::from_status(hub, u16::from(*status), reason),
        AmqpErrorKind::AzureCore(core) => classify_core(hub, core, reason),
        AmqpErrorKind::IdleTimeoutElapsed(_) => PublishError::Timeout { hub, reason },
        AmqpErrorKind::TransferLimitExceeded(_) => PublishError::Throttled { hub, reason },
        AmqpErrorKind::SendRejected => PublishError::Rejected { hub, reason },
        // Closed or detached connections, sessions and links, framing and transport errors, and
        // deliveries whose outcome is unknown: a resend is safe because consumers deduplicate.
        _ => PublishError::Unavailable { hub, reason },
    }
}

fn classify_core(hub: Hub, error: &azure_core::Error, reason: String) -> PublishError {
    // The SDK sometimes wraps an AMQP error in an azure_core one; the AMQP kind says more.
    if let Some(amqp) = error.get_ref().and_then(|inner| inner.downcast_ref::<AmqpError>()) {
        return classify_amqp(hub, amqp, reason);
    }
    match error.kind() {
        azure_core::error::ErrorKind::HttpResponse { status, .. } => {
            PublishError::from_status(hub, u16::from(*status), reason)
        }
        azure_core::error::ErrorKind::DataConversion => PublishError::Rejected { hub, reason },
        // A token endpoint that does not answer is transient. A misconfigured identity fails
        // every call, which retrying will not fix, but treating it as permanent would dead-letter
        // every event of the outage.
        azure_core::error::ErrorKind::Credential
        | azure_core::error::ErrorKind::Connection
        | azure_core::error::ErrorKind::Io
        | azure_core::error::ErrorKind::Other => PublishError::Unavailable { hub, reason },
    }
}

fn classify_condition(hub: Hub, condition: &AmqpErrorCondition, reason: String) -> PublishError {
    match condition {
        AmqpErrorCondition::NotFound | AmqpErrorCondition::ResourceDeleted => PublishError::UnknownHub { hub, reason },
        AmqpErrorCondition::LinkPayloadSizeExceeded => PublishError::EventTooLarge { hub, reason },
        AmqpErrorCondition::ServerBusyError | AmqpErrorCondition::ResourceLimitExceeded => {
            PublishError::Throttled { hub, reason }
        }
        AmqpErrorCondition::TimeoutError | AmqpErrorCondition::OperationCancelled => {
            PublishError::Timeout { hub, reason }
        }
        AmqpErrorCondition::UnauthorizedAccess
        | AmqpErrorCondition::NotAllowed
        | AmqpErrorCondition::DecodeError
        | AmqpErrorCondition::InvalidField
        | AmqpErrorCondition::ArgumentError
        | AmqpErrorCondition::ArgumentOutOfRangeError
        | AmqpErrorCondition::NotImplemented
        | AmqpErrorCondition::PreconditionFailed
        | AmqpErrorCondition::PublisherRevokedError => PublishError::Rejected { hub, reason },
        // Internal errors, forced detaches, stolen links, disabled or updated entities: the SDK
        // itself retries these, so they are not the request's fault.
        _ => PublishError::Unavailable { hub, reason },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use azure_core_amqp::{AmqpDescribedError, AmqpOrderedMap};

    use super::*;

    /// A fake that records what it sends and holds at most `capacity_bytes` of bodies per batch.
    struct FakeSender {
        capacity_bytes: usize,
        sent: Mutex<Vec<PlannedBatch>>,
    }

    struct FakeBatch {
        partition_key: Option<String>,
        events: Mutex<Vec<String>>,
    }

    impl BatchSender for FakeSender {
        type Batch = FakeBatch;

        async fn create_batch(&self, partition_key: Option<String>) -> Result<FakeBatch, PublishError> {
            Ok(FakeBatch { partition_key, events: Mutex::new(Vec::new()) })
        }

        fn try_add(&self, batch: &FakeBatch, body: &str) -> Result<bool, PublishError> {
            let mut events = batch.events.lock().expect("not poisoned");
            let used: usize = events.iter().map(String::len).sum();
            if used + body.len() > self.capacity_bytes {
                return Ok(false);
            }
            events.push(body.to_string());
            Ok(true)
        }

        fn is_empty(&self, batch: &FakeBatch) -> bool {
            batch.events.lock().expect("not poisoned").is_empty()
        }

        async fn send_batch(&self, batch: FakeBatch) -> Result<(), PublishError> {
            let events = batch.events.into_inner().expect("not poisoned");
            self.sent.lock().expect("not poisoned").push(PlannedBatch { partition_key: batch.partition_key, events });
            Ok(())
        }
    }

    fn fill(capacity_bytes: usize, planned: PlannedBatch) -> (Result<(), PublishError>, Vec<PlannedBatch>) {
        let sender = FakeSender { capacity_bytes, sent: Mutex::new(Vec::new()) };
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let result = runtime.block_on(send_planned(&sender, Hub::TransferPosition, planned));
        (result, sender.sent.into_inner().expect("not poisoned"))
    }

    fn group(key: Option<&str>, events: &[&str]) -> PlannedBatch {
        PlannedBatch { partition_key: key.map(str::to_string), events: events.iter().map(|e| e.to_string()).collect() }
    }

    #[test]
    fn plan_groups_by_key_in_first_appearance_order_and_keeps_order_within_a_key() {
        let events = vec![
            OutgoingEvent::keyed("payerfsp", "a1"),
            OutgoingEvent::unkeyed("n1"),
            OutgoingEvent::keyed("payeefsp", "b1"),
            OutgoingEvent::keyed("payerfsp", "a2"),
            OutgoingEvent::unkeyed("n2"),
            OutgoingEvent::keyed("payerfsp", "a3"),
        ];
        let expected = vec![
            group(Some("payerfsp"), &["a1", "a2", "a3"]),
            group(None, &["n1", "n2"]),
            group(Some("payeefsp"), &["b1"]),
        ];
        assert_eq!(plan_batches(events), expected);
    }

    #[test]
    fn plan_of_nothing_is_nothing() {
        assert_eq!(plan_batches(Vec::new()), Vec::new());
    }

    #[test]
    fn a_group_that_fits_goes_out_as_one_batch_with_its_key() {
        let (result, sent) = fill(100, group(Some("payerfsp"), &["aaa", "bbb"]));
        assert_eq!(result, Ok(()));
        assert_eq!(sent, vec![group(Some("payerfsp"), &["aaa", "bbb"])]);
    }

    #[test]
    fn a_full_batch_is_sent_and_a_new_one_with_the_same_key_continues_in_order() {
        let (result, sent) = fill(6, group(Some("k"), &["aaa", "bbb", "ccc", "dd", "e"]));
        assert_eq!(result, Ok(()));
        assert_eq!(sent, vec![group(Some("k"), &["aaa", "bbb"]), group(Some("k"), &["ccc", "dd", "e"])]);
    }

    #[test]
    fn keyless_groups_fill_keyless_batches() {
        let (result, sent) = fill(4, group(None, &["xx", "yy", "zz"]));
        assert_eq!(result, Ok(()));
        assert_eq!(sent, vec![group(None, &["xx", "yy"]), group(None, &["zz"])]);
    }

    #[test]
    fn an_event_larger_than_an_empty_batch_is_a_permanent_error() {
        let (first, sent) = fill(4, group(Some("k"), &["toolarge"]));
        assert!(matches!(first, Err(PublishError::EventTooLarge { hub: Hub::TransferPosition, .. })), "{first:?}");
        assert!(sent.is_empty());
        // After a full batch is sent, the fresh batch refuses it too: still too large, not a loop.
        let (later, sent) = fill(4, group(Some("k"), &["ab", "cd", "toolarge"]));
        assert!(later.as_ref().is_err_and(|e| !e.is_transient()), "{later:?}");
        assert_eq!(sent, vec![group(Some("k"), &["ab", "cd"])]);
    }

    fn described(condition: AmqpErrorCondition) -> EventHubsError {
        let described = AmqpDescribedError::new(condition, None, AmqpOrderedMap::new());
        EventHubsError::from(AmqpError::from(AmqpErrorKind::AmqpDescribedError(described)))
    }

    #[test]
    fn amqp_conditions_map_to_the_documented_kinds() {
        let hub = Hub::TransferPrepare;
        assert!(matches!(classify(hub, &described(AmqpErrorCondition::NotFound)), PublishError::UnknownHub { .. }));
        assert!(matches!(
            classify(hub, &described(AmqpErrorCondition::LinkPayloadSizeExceeded)),
            PublishError::EventTooLarge { .. }
        ));
        assert!(matches!(
            classify(hub, &described(AmqpErrorCondition::ServerBusyError)),
            PublishError::Throttled { .. }
        ));
        assert!(matches!(classify(hub, &described(AmqpErrorCondition::TimeoutError)), PublishError::Timeout { .. }));
        assert!(!classify(hub, &described(AmqpErrorCondition::UnauthorizedAccess)).is_transient());
        assert!(classify(hub, &described(AmqpErrorCondition::InternalError)).is_transient());
        assert!(classify(hub, &described(AmqpErrorCondition::UnknownValue("x:new".to_string()))).is_transient());
    }

    #[test]
    fn dropped_connections_and_management_statuses_are_classified() {
        let hub = Hub::TransferFulfil;
        let dropped = AmqpErrorKind::ConnectionDropped("reset by peer".into());
        assert!(matches!(classify(hub, &AmqpError::from(dropped).into()), PublishError::Unavailable { .. }));
        let busy = AmqpErrorKind::ManagementStatusCode(azure_core::http::StatusCode::TooManyRequests, None);
        assert!(matches!(classify(hub, &AmqpError::from(busy).into()), PublishError::Throttled { .. }));
        let missing = AmqpErrorKind::ManagementStatusCode(azure_core::http::StatusCode::NotFound, None);
        assert!(matches!(classify(hub, &AmqpError::from(missing).into()), PublishError::UnknownHub { .. }));
    }

    #[test]
    fn azure_core_errors_are_classified_including_wrapped_amqp_ones() {
        let hub = Hub::NotificationEvent;
        let io = azure_core::Error::with_message(azure_core::error::ErrorKind::Io, "broken pipe");
        assert!(classify(hub, &io.into()).is_transient());
        let conversion = azure_core::Error::with_message(azure_core::error::ErrorKind::DataConversion, "bad");
        assert!(!classify(hub, &conversion.into()).is_transient());
        let wrapped: azure_core::Error = AmqpError::from(AmqpErrorKind::AmqpDescribedError(AmqpDescribedError::new(
            AmqpErrorCondition::NotFound,
            None,
            AmqpOrderedMap::new(),
        )))
        .into();
        assert!(matches!(classify(hub, &wrapped.into()), PublishError::UnknownHub { .. }));
    }

    #[test]
    fn namespace_accepts_host_names_only() {
        assert_eq!(
            Namespace::parse("EVHNS-Switch.servicebus.windows.net").map(|n| n.as_str().to_string()),
            Ok("evhns-switch.servicebus.windows.net".to_string())
        );
        for bad in ["sb://x.servicebus.windows.net/", "x.servicebus.windows.net/hub", "localhost", "a..b", "a b.c"] {
            assert!(matches!(Namespace::parse(bad), Err(PublisherConfigError::InvalidNamespace { .. })), "{bad}");
        }
    }

    #[test]
    fn developer_tools_credential_is_created_without_io() {
        assert!(CredentialChoice::DeveloperTools.credential().is_ok());
    }

    #[test]
    fn publishing_nothing_opens_no_client() {
        let credential = CredentialChoice::DeveloperTools.credential().expect("credential");
        let namespace = Namespace::parse("unreachable.invalid").expect("valid");
        let publisher = EventHubsPublisher::with_credential(namespace, credential);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        assert_eq!(runtime.block_on(publisher.publish(Hub::TransferGet, Vec::new())), Ok(()));
        assert!(publisher.producers.iter().all(|cell| cell.get().is_none()));
    }
}
