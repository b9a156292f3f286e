//! The whole switch offline on one machine: stand-ins for the Azure Functions host, Event Hubs and
//! the API Management edge, driven by the same host.json and function.json files as Azure, with
//! the ledger in SQLite (or MySQL), DFSP simulators and a demo.
//!
//! # Layout
//! - `emulator`: assembles the parts and starts them (`Emulator::start`).
//! - `host`: the Functions host stand-in (handler process, Event Hubs and timer triggers).
//! - `handler_client`: the host's pooled HTTP client to the handler.
//! - `hub_key`: the Hub's JWS signing key for `--jws-sign`, made on first start.
//! - `hubs`: the Event Hubs stand-in (one durable log for every hub and partition, checkpoints, ingestion endpoint).
//! - `invocation`: the invocation bodies the host sends.
//! - `routes`: HTTP trigger route templates.
//! - `edge`: the API Management stand-in (FSPIOP :3000, admin :3001, settlement :3007).
//! - `mtls`: optional mutual TLS on the FSPIOP listener (the APIM client-certificate rule).
//! - `faults`: fault injection.
//! - `simulator`: DFSP simulators (callback endpoints, a payee that fulfils).
//! - `provision`: sets a scheme up through the admin API.
//! - `demo`: `up --demo`.

pub mod demo;
pub mod edge;
pub mod emulator;
pub mod faults;
pub mod handler_client;
pub mod host;
pub mod hub_key;
pub mod hubs;
pub mod invocation;
pub mod mtls;
pub mod provision;
pub mod routes;
pub mod simulator;

pub use emulator::{Emulator, EmulatorConfig, StartError, StoreChoice};
