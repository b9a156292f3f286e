//! The journal in Azure Cosmos DB (NoSQL API): one document per entry in a container
//! partitioned on `/transferId`, the entry id as the document id.
//!
//! - **Idempotent append.** Each entry is a `create`; a 409 Conflict means the id is already
//!   stored, which is success (the first write wins, as in the SQL backends). Writes run
//!   concurrently, at most [`WRITES_IN_FLIGHT_MAX`] at a time.
//! - **Reads** are single-partition queries that filter on the partition-key path (the local
//!   stand-in demands it, local-stand-ins.md §3) and stop after [`READ_ENTRIES_MAX`] + 1.
//! - **Body.** Stored as text when it is UTF-8 and its JSON form is small enough, else as
//!   base64 (`bodyEncoding` says which), so a document always stays under Cosmos' 2 MB limit.
//! - **Auth.** Entra ID on Azure ([`CosmosAuth::Entra`] with the caller's `TokenCredential`:
//!   managed identity there, developer tools locally; the identity needs the data-plane role
//!   "Cosmos DB Built-in Data Contributor"). A key only for the local stand-in. The database
//!   and container are created by the deployment (control-plane calls need key auth).
//! - **Emulator mode** ([`CosmosJournalConfig::emulator`]) makes the three client adjustments
//!   the stand-in needs: HTTP/1.1 only, certificate checks relaxed for loopback emulator hosts
//!   only (the SDK's own rule), and plain JSON instead of Cosmos binary encoding.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::{Secret, TokenCredential};
use azure_data_cosmos::options::{BinaryEncodingOptions, ConnectionPoolOptions, ServerCertificateValidation};
use azure_data_cosmos::{
    AccountEndpoint, AccountReference, ContainerClient, CosmosClient, CosmosError, CosmosRuntime, FeedScope, Query,
    RoutingStrategy,
};
use base64::Engine;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::{
    check_batch, transfer_journal, Direction, EntryFields, EntryId, Header, Journal, JournalEntry, JournalError,
    TransferJournal, TransferKey, BODY_BYTES_MAX, READ_ENTRIES_MAX,
};

/// Concurrent document writes per append. Cosmos takes one item per request; a few dozen in
/// flight keep a batch fast without tripping the account's request-unit throttling.
pub const WRITES_IN_FLIGHT_MAX: usize = 16;
/// Longest JSON string a body is stored as text in. Over it (an adversarial body that escapes
/// badly, e.g. all quotes) the body goes as base64, whose size is known in advance.
const BODY_TEXT_JSON_BYTES_MAX: usize = 1_500_000;
/// Cosmos' item size limit.
const DOCUMENT_BYTES_MAX: usize = 2_000_000;
/// An upper bound on everything but the body: 16 headers of 64 + 4 096 characters (at most
/// 6 bytes each once escaped) are about 400 KB in the worst case; URL and names add little.
const OTHER_FIELDS_BYTES_MAX: usize = 450_000;
const _: () = assert!(BODY_BYTES_MAX.div_ceil(3) * 4 <= BODY_TEXT_JSON_BYTES_MAX);
const _: () = assert!(BODY_TEXT_JSON_BYTES_MAX + OTHER_FIELDS_BYTES_MAX <= DOCUMENT_BYTES_MAX);

const BODY_ENCODING_UTF8: &str = "utf8";
const BODY_ENCODING_BASE64: &str = "base64";

/// How to authenticate.
#[derive(Clone)]
pub enum CosmosAuth {
    /// The account key (local stand-in, or an account with local auth enabled).
    Key(String),
    /// Microsoft Entra ID.
    Entra(Arc<dyn TokenCredential>),
}

/// Where the journal lives.
#[derive(Clone)]
pub struct CosmosJournalConfig {
    /// `https://<account>.documents.azure.com/`.
    pub endpoint: String,
    pub auth: CosmosAuth,
    pub database: String,
    pub container: String,
    /// The Azure region the switch runs in; the SDK prefers the account's nearest region.
    pub region: String,
    /// The local stand-in (see the module documentation); never set for Azure.
    pub emulator: bool,
}

/// Shows everything but the key.
impl fmt::Debug for CosmosJournalConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            CosmosAuth::Key(_) => "key",
            CosmosAuth::Entra(_) => "entra",
        };
        f.debug_struct("CosmosJournalConfig")
            .field("endpoint", &self.endpoint)
            .field("auth", &auth)
            .field("database", &self.database)
            .field("container", &self.container)
            .field("region", &self.region)
            .field("emulator", &self.emulator)
            .finish()
    }
}

/// The journal in a Cosmos DB container.
pub struct CosmosJournal {
    container: ContainerClient,
}

impl CosmosJournal {
    /// Connects to an existing database and container.
    pub async fn open(config: CosmosJournalConfig) -> Result<CosmosJournal, JournalError> {
        let client = client(&config).await?;
        let container =
            client.database_client(config.database.as_str()).container_client(config.container.as_str(), None).await;
        Ok(CosmosJournal { container: container.map_err(cosmos_error)? })
    }
}

/// A client for the configured account (also what a test uses to create the container).
pub async fn client(config: &CosmosJournalConfig) -> Result<CosmosClient, JournalError> {
    let endpoint: AccountEndpoint = config
        .endpoint
        .parse()
        .map_err(|err| JournalError::Rejected(format!("Cosmos endpoint {:?}: {err}", config.endpoint)))?;
    let account = match &config.auth {
        CosmosAuth::Key(key) => AccountReference::with_authentication_key(endpoint, Secret::new(key.clone())),
        CosmosAuth::Entra(credential) => AccountReference::with_credential(endpoint, credential.clone()),
    };
    let mut builder = CosmosClient::builder();
    if config.emulator {
        builder = builder
            .with_runtime(emulator_runtime().await?)
            .with_binary_encoding_options(BinaryEncodingOptions::new().with_enabled(false));
    }
    let routing = RoutingStrategy::ProximityTo(config.region.clone().into());
    builder.build(account, routing).await.map_err(cosmos_error)
}

async fn emulator_runtime() -> Result<CosmosRuntime, JournalError> {
    let pool = ConnectionPoolOptions::builder()
        // The stand-in is Node's HTTP/1.1 server; the driver offers only h2 by default.
        .with_is_http2_allowed(false)
        // Its certificate is self-signed and expired; the SDK relaxes checks only for loopback
        // emulator hosts in this mode.
        .with_server_certificate_validation(ServerCertificateValidation::RequiredUnlessEmulator)
        .build()
        .map_err(cosmos_error)?;
    CosmosRuntime::builder().with_connection_pool(pool).build().await.map_err(cosmos_error)
}

#[async_trait]
impl Journal for CosmosJournal {
    async fn append(&self, entries: &[JournalEntry]) -> Result<(), JournalError> {
        check_batch(entries)?;
        // A loop rather than a closure: a closure here defeats the Send check of async_trait's
        // future (a known higher-ranked lifetime limitation).
        let mut writes = Vec::with_capacity(entries.len());
        for entry in entries {
            writes.push(self.create(entry));
        }
        futures::stream::iter(writes).buffer_unordered(WRITES_IN_FLIGHT_MAX).try_collect::<Vec<()>>().await?;
        Ok(())
    }

    async fn by_transfer(&self, transfer: &TransferKey) -> Result<TransferJournal, JournalError> {
        let query = Query::from("SELECT * FROM c WHERE c.transferId = @transferId ORDER BY c.timestampMs")
            .with_parameter("@transferId", transfer.as_str())
            .map_err(cosmos_error)?;
        let scope = FeedScope::partition(transfer.as_str().to_string());
        let items = self.container.query_items::<EntryDocument>(query, scope, None).await.map_err(cosmos_error)?;
        // One more than the limit tells whether there are more.
        let documents: Vec<EntryDocument> =
            items.take(READ_ENTRIES_MAX + 1).try_collect().await.map_err(cosmos_error)?;
        let entries = documents.into_iter().map(EntryDocument::into_entry).collect::<Result<Vec<_>, _>>()?;
        Ok(transfer_journal(entries))
    }
}

impl CosmosJournal {
    async fn create(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        let document = EntryDocument::from_entry(entry);
        let partition = entry.transfer().as_str().to_string();
        match self.container.create_item(partition, entry.id().as_str(), &document, None).await {
            Ok(_) => Ok(()),
            Err(err) if err.status().is_conflict() => Ok(()),
            Err(err) => Err(cosmos_error(err)),
        }
    }
}

/// The stored document. Field names are camelCase like the rest of Cosmos' JSON.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryDocument {
    id: String,
    transfer_id: String,
    timestamp_ms: i64,
    direction: String,
    method: String,
    url: String,
    headers: Vec<Header>,
    body: String,
    body_encoding: String,
    body_length: u64,
    body_sha256: String,
    truncated: bool,
    source: String,
    destination: Option<String>,
    http_status: Option<u16>,
}

impl EntryDocument {
    fn from_entry(entry: &JournalEntry) -> EntryDocument {
        let (body, body_encoding) = encode_body(entry.body());
        EntryDocument {
            id: entry.id().as_str().to_string(),
            transfer_id: entry.transfer().as_str().to_string(),
            timestamp_ms: entry.timestamp_ms(),
            direction: entry.direction().as_str().to_string(),
            method: entry.method().to_string(),
            url: entry.url().to_string(),
            headers: entry.headers().to_vec(),
            body,
            body_encoding: body_encoding.to_string(),
            body_length: entry.body_length(),
            body_sha256: entry.body_sha256().to_string(),
            truncated: entry.truncated(),
            source: entry.source().to_string(),
            destination: entry.destination().map(str::to_string),
            http_status: entry.http_status(),
        }
    }

    fn into_entry(self) -> Result<JournalEntry, JournalError> {
        let corrupt = |what: &str| JournalError::Corrupt(format!("document {}: {what}", self.id));
        let direction = Direction::parse(&self.direction).ok_or_else(|| corrupt("unknown direction"))?;
        let body = decode_body(&self.body, &self.body_encoding).ok_or_else(|| corrupt("undecodable body"))?;
        let fields = EntryFields {
            id: EntryId::parse(&self.id)?,
            transfer: TransferKey::parse(&self.transfer_id)?,
            direction,
            method: self.method,
            url: self.url,
            headers: self.headers,
            body,
            source: self.source,
            destination: self.destination,
            http_status: self.http_status,
            timestamp_ms: self.timestamp_ms,
        };
        Ok(JournalEntry::restore(fields, self.body_length, self.body_sha256, self.truncated))
    }
}

fn encode_body(body: &[u8]) -> (String, &'static str) {
    if let Ok(text) = std::str::from_utf8(body) {
        // The JSON form is what counts against the item size: escapes can multiply it.
        let json_bytes = serde_json::to_string(text).map_or(usize::MAX, |it| it.len());
        if json_bytes <= BODY_TEXT_JSON_BYTES_MAX {
            return (text.to_string(), BODY_ENCODING_UTF8);
        }
    }
    (base64::engine::general_purpose::STANDARD.encode(body), BODY_ENCODING_BASE64)
}

fn decode_body(body: &str, encoding: &str) -> Option<Vec<u8>> {
    match encoding {
        BODY_ENCODING_UTF8 => Some(body.as_bytes().to_vec()),
        BODY_ENCODING_BASE64 => base64::engine::general_purpose::STANDARD.decode(body).ok(),
        _ => None,
    }
}

fn cosmos_error(err: CosmosError) -> JournalError {
    let status = err.status();
    if status.is_transient() || status.is_throttled() || status.is_timeout() || status.is_service_unavailable() {
        return JournalError::Unavailable(err.to_string());
    }
    // A status from the service other than the transient ones is a refusal (403 without the
    // data-plane role, 404 for a missing container, 400 for a bad request); anything that did
    // not come from the wire is the network.
    match err.is_from_wire() {
        true => JournalError::Rejected(err.to_string()),
        false => JournalError::Unavailable(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_through_both_encodings() {
        let json = br#"{"transferId":"b51ec534","note":"\u00e9 \"quoted\""}"#;
        let (text, encoding) = encode_body(json);
        assert_eq!(encoding, BODY_ENCODING_UTF8);
        assert_eq!(decode_body(&text, encoding).unwrap(), json);

        let binary = [0xff, 0x00, 0xfe];
        let (text, encoding) = encode_body(&binary);
        assert_eq!(encoding, BODY_ENCODING_BASE64);
        assert_eq!(decode_body(&text, encoding).unwrap(), binary);
        assert_eq!(decode_body("x", "rot13"), None);
    }

    #[test]
    fn a_body_that_escapes_badly_goes_as_base64_and_fits_a_document() {
        let quotes = vec![b'"'; BODY_BYTES_MAX];
        let (text, encoding) = encode_body(&quotes);
        assert_eq!(encoding, BODY_ENCODING_BASE64);
        assert!(text.len() <= BODY_TEXT_JSON_BYTES_MAX);
    }
}
