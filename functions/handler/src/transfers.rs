//! The transfers capability: FSPIOP `/transfers` from the edge to the callbacks, one module per
//! function of the pipeline.
//!
//! - `edge`: the FSPIOP HTTP edge (header and body checks, 202/200, publish).
//! - `prepare`: the prepare function.
//! - `position`: the position function.
//! - `fulfil`: the fulfil function.
//! - `timeout`: the timeout function (timer trigger): expiry and stranded transfers, in batches.
//! - `timeout_events`: the events it emits, rebuilt from the ledger for stranded transfers.
//! - `get`: answers `GET /transfers/{id}`.
//! - `notification`: HTTP callbacks to the DFSPs, per Mojaloop's callback matrix.
//!
//! These modules import the crate's shared modules (`envelope`, `outbox`, `state_rows`,
//! `messages`, `audit`, `signatures`) and one another only downward (`timeout` uses
//! `timeout_events`); none imports `crate::state`, `crate::app` or `crate::operator`.

pub mod edge;
pub mod fulfil;
pub mod get;
pub mod notification;
pub mod position;
pub mod prepare;
pub mod timeout;
pub mod timeout_events;
