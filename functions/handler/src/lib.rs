//! The switch's function set: the FSPIOP edge, the transfer functions and the operator APIs,
//! served as one Azure Functions custom-handler binary.
//!
//! # Layout, from the top down
//! Each module imports only modules below it; no two import each other (ARCHITECTURE.md).
//! - `process`: the handler process's start (configuration from the environment, bind, serve).
//! - `app`: the router, composed here from every capability's routes and functions.
//! - `operator/`: the operator capability (admin and settlement APIs, the admin and settlement
//!   functions, funds and settlement transfers).
//! - `state`: `App`, what every route shares, built once per process.
//! - `transfers/`: the transfers capability (edge, prepare, position, fulfil, timeout, get,
//!   notification).
//! - shared by the capabilities:
//!   - `audit`: the message journal's entries for requests and callbacks.
//!   - `signatures`: FSPIOP-Signature keys, the edge's check and the signing of Hub callbacks.
//!   - `journal_group`: the message journal behind group commit (one append for many requests).
//!   - `isolate`: one event's failure kept from failing its batch (dead letters).
//!   - `outbox`: what a function emits after its commit, and its dead letters.
//!   - `envelope`: the versioned event every hub carries (Mojaloop's message shape).
//!   - `messages`: the HTTP request the edge takes and the callback the Hub sends.
//!   - `state_rows`: the rows of transfers' state journals, with their `seq`.
//!
//! Below the crate, `plumbing` holds what is not Mojaloop's (listeners, publishing, group
//! commit, the callback client, durable writes, telemetry, fault points), shared with the
//! local emulator and the load generator.
//!
//! Each function is load → decide → write: it loads from the store, asks `ledger-core`, writes
//! in one transaction, then publishes. The protocol with the Functions host is `switch-handler`'s.

pub mod app;
pub mod audit;
pub mod envelope;
pub mod isolate;
pub mod journal_group;
pub mod messages;
pub mod operator;
pub mod outbox;
pub mod process;
pub mod signatures;
pub mod state;
pub mod state_rows;
pub mod transfers;
