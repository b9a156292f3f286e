//! The shared plumbing of the switch's processes: what the handler, the local emulator and the
//! load generator need around the Functions host and Event Hubs, and nothing of the ledger or of
//! Mojaloop's events.
//!
//! # Layout
//! - `listen`: TCP listeners with a deep accept queue, and the bounded HTTP/1 serving loop.
//! - `limits`: the hub's event limit and the request limits derived from it.
//! - `publish`: the one seam for sending events to a hub (Event Hubs, or the local emulator).
//! - `group`: group commit's shared step (take what waits, write once).
//! - `callback_client`: the pooled HTTP client outgoing calls use (no headers of its own).
//! - `durable`: writes retried in place while their store is unavailable.
//! - `telemetry`: log lines, invocation spans and metrics (Application Insights when configured).
//! - `fault`: crash points for fault-injection tests (inert unless `SWITCH_FAULT_CRASH` is set).
//!
//! Of Mojaloop it knows only the `errorInformation` body the listeners answer their own refusals
//! with (`fspiop::FspiopError`), so that every 4xx of the switch has one shape.

pub mod callback_client;
pub mod durable;
pub mod fault;
pub mod group;
pub mod limits;
pub mod listen;
pub mod publish;
pub mod telemetry;
