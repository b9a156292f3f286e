//! What the hubs store and take, and the one error they answer with.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why the hubs could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HubsError {
    #[error("no event hub named `{0}`")]
    UnknownHub(String),
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("the log writer for {0} has stopped")]
    WriterStopped(String),
}

/// One stored event, as a consumer receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Dense per partition, from 0.
    #[serde(rename = "seq")]
    pub sequence_number: i64,
    /// The event's byte position in the log (the log is compacted when opened, so it only grows
    /// within one run, and within a partition).
    pub offset: u64,
    /// When the hub accepted it, in Unix milliseconds.
    #[serde(rename = "t")]
    pub enqueued_ms: i64,
    #[serde(rename = "key")]
    pub partition_key: Option<String>,
    pub body: String,
}

/// An event to append: its partition key (if any) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub partition_key: Option<String>,
    pub body: String,
}

/// An I/O failure at `path`, as the hubs report it.
pub(super) fn io_error(path: &Path, err: std::io::Error) -> HubsError {
    HubsError::Io { path: path.to_path_buf(), reason: err.to_string() }
}
