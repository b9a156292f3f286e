//! The operator capability: the Hub operator's APIs and the functions they feed.
//!
//! - `http`: what the admin and settlement APIs share at the HTTP edge (`errorInformation`).
//! - `admin_api`: the central-ledger admin API (participants, accounts, limits, funds, models).
//! - `journal_api`: `GET /journal/{transferId}`, the message journal's read on the admin API.
//! - `admin_transfer`: the admin function (funds in and out from the admin-transfer hub).
//! - `settlement_api`: the central-settlement v2 API (windows, settlements, account steps, abort).
//! - `settlement`: the settlement function (aggregates closed windows).
//! - `settlement_transfer`: the position resets of settlement accounts against the Hub.
//! - `internal_transfer`: the one stepper of internal transfers (funds and settlement), and
//!   the Hub's FSP id.
//!
//! The APIs read the application state (`crate::state`); the functions take only the store.
//! Nothing here is imported by `crate::transfers`.

pub mod admin_api;
pub mod admin_transfer;
pub mod http;
pub mod internal_transfer;
pub mod journal_api;
pub mod settlement;
pub mod settlement_api;
pub mod settlement_transfer;
