//! The switch's function set: the FSPIOP edge and the prepare, position, fulfil, notification,
//! timeout and get functions, served as one Azure Functions custom-handler binary.
//!
//! # Layout
//! - `admin_api`: the central-ledger admin API (participants, accounts, limits, funds, models).
//! - `audit`: the message journal's entries for requests and callbacks, `GET /journal/{id}`.
//! - `admin_transfer`: the admin function (funds in and out from the admin-transfer hub).
//! - `operator_http`: what the admin and settlement APIs share at the HTTP edge.
//! - `settlement`: the settlement function (aggregates closed windows).
//! - `settlement_api`: the central-settlement v2 API (windows, settlements, account steps, abort).
//! - `settlement_transfer`: the position resets of settlement accounts against the Hub.
//! - `app`: the handler's router (function invocations, FSPIOP routes, readiness).
//! - `callback_client`: the pooled HTTP client callbacks go out with (no headers of its own).
//! - `edge`: the FSPIOP HTTP edge (header and body checks, 202/200, publish).
//! - `envelope`: the versioned event every hub carries (Mojaloop's message shape).
//! - `group`: group commit's shared step (take what waits, write once).
//! - `journal_group`: the message journal behind group commit (one append for concurrent requests).
//! - `listen`: TCP listeners with an accept queue deep enough for a connection burst.
//! - `fault`: crash points for fault-injection tests (inert unless `SWITCH_FAULT_CRASH` is set).
//! - `outbox`: what a function emits after its commit, and its dead letters.
//! - `prepare`: the prepare function.
//! - `fulfil`: the fulfil function.
//! - `timeout`: the timeout function (timer trigger): expiry and stranded transfers, in batches.
//! - `timeout_events`: the events it emits, rebuilt from the ledger for stranded transfers.
//! - `get`: answers `GET /transfers/{id}`.
//! - `notification`: HTTP callbacks to the DFSPs, per Mojaloop's callback matrix.
//! - `position`: the position function.
//! - `process`: the handler process's start (configuration from the environment, bind, serve).
//! - `publish`: the one seam for sending events to a hub (Event Hubs, or the local emulator).
//! - `signatures`: FSPIOP-Signature keys, the edge's check and the signing of Hub callbacks.
//! - `telemetry`: log lines, invocation spans and metrics (Application Insights when configured).
//!
//! Each function is load → decide → write: it loads from the store, asks `ledger-core`, writes
//! in one transaction, then publishes. The protocol with the Functions host is `switch-handler`'s.

pub mod admin_api;
pub mod admin_transfer;
pub mod app;
pub mod audit;
pub mod callback_client;
pub mod durable;
pub mod edge;
pub mod envelope;
pub mod fault;
pub mod fulfil;
pub mod group;
pub mod isolate;
pub mod journal_group;
pub mod listen;
pub mod get;
pub mod notification;
pub mod operator_http;
pub mod outbox;
pub mod position;
pub mod prepare;
pub mod settlement;
pub mod settlement_api;
pub mod settlement_transfer;
pub mod signatures;
pub mod process;
pub mod timeout;
pub mod timeout_events;
pub mod publish;
pub mod telemetry;
