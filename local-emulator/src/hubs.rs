//! The Event Hubs stand-in: named hubs with a fixed number of partitions, one durable
//! append-only log in the data directory, partition-key hashing, and per-consumer-group
//! checkpoints. The Functions host stand-in reads from it; the handler publishes to it over HTTP
//! (`plumbing::publish::local` documents that wire protocol; [`router`] serves it).
//!
//! # Durability
//! Every partition of every hub appends to one file of JSON lines, `hubs/events.log`; each line
//! names its hub and partition. An append is acknowledged only after its lines are written and
//! `fsync`ed; appends that arrive while a sync is running, to any hub, are written and synced
//! together (group commit), so the whole namespace costs one sync per group. With a file per
//! partition every group cost a sync per partition, all at once, and syncs that pile up are what
//! stalls the disk (the load generator's README). A line torn by a crash is cut off when the log
//! is opened again. The logs of earlier versions, one per partition
//! (`hubs/<hub>/<partition>.log`), are moved into the shared log when it is opened (those of the
//! hubs and partitions the run has; others stay where they are).
//!
//! A checkpoint takes effect in memory at once and reaches its file (written to a temporary file
//! and renamed over it, not synced) within [`CHECKPOINT_FLUSH_INTERVAL`], and when the hubs are
//! dropped. Syncing a file per batch cost more than the batch's own ledger commit, and syncing
//! each flush added up to seventy syncs a second (one per changed file, ten flushes a second)
//! that protect nothing a redelivery does not, while every sync on the disk slows the others
//! (the ledger's commits among them). A checkpoint lost in a crash only moves the restart point
//! back: each consumer group resumes after its last checkpoint on file (from the oldest retained event
//! when the file is gone or unreadable), so what it had not checkpointed there is delivered
//! again, as on Azure after a crash between a batch and its checkpoint. Every function is
//! idempotent for exactly that reason.
//!
//! # Retention
//! Events every consumer group has checkpointed are dropped from memory; when the log is opened
//! the file is rewritten without them. (Azure keeps events for the hub's retention period instead;
//! nothing here reads behind a checkpoint.) Events of hubs or partitions the current
//! configuration does not have are kept as they are, for a later run that has them again.
//!
//! # Layout
//! Each module uses only those listed after it:
//! - `ingest`: the HTTP ingestion endpoint ([`router`]).
//! - `namespace`: [`Hubs`], the hubs and partitions of one namespace, where an event goes, and
//!   the checkpoints' effect on retention; [`backlog`].
//! - `log`: the shared log's single writer (group commit) and its recovery when opened.
//! - `checkpoints`: the consumer groups' checkpoints and their periodic flush.
//! - `partition`: one [`Partition`], its events in memory and the durable end consumers wait on.
//! - `files`: replacing a file whole, synced or not.
//! - `event`: the stored and new events, and [`HubsError`].

mod checkpoints;
mod event;
mod files;
mod ingest;
mod log;
mod namespace;
mod partition;
#[cfg(test)]
mod tests;

pub use checkpoints::CHECKPOINT_FLUSH_INTERVAL;
pub use event::{HubsError, NewEvent, StoredEvent};
pub use ingest::{router, EVENT_BYTES_MAX};
pub use namespace::{backlog, partition_for_key, Hubs};
pub use partition::Partition;
