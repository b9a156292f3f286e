//! The pure Mojaloop ledger core: exact amounts, identifiers, transfer states and the
//! decisions the switch makes (prepare validation, duplicate checks, batch positions, fulfil,
//! timeouts, funds in and out, settlement windows).
//!
//! # Layout
//! - `amount`, `currency`, `ids`, `time`, `condition`: parsed value types; nothing else in the
//!   ledger takes a bare string or number for these.
//! - `account`: participants, accounts, limits and the reference enumerations.
//! - `state`: internal transfer states, their API enumeration and the allowed transitions.
//! - `rejection`: the closed enum of business rejections.
//! - `model`: settlement models and which one applies to an account.
//! - `prepare`, `position`, `fulfil`, `timeout`, `funds`, `window`, `admin`, `settlement`: the
//!   decisions.
//!
//! The core never does IO, never reads a clock, never allocates ids and knows nothing of SQL,
//! HTTP or JSON: callers load, ask, and write.

pub mod account;
pub mod admin;
pub mod amount;
pub mod condition;
pub mod currency;
pub mod fulfil;
pub mod funds;
pub mod ids;
pub mod model;
pub mod position;
pub mod prepare;
pub mod rejection;
pub mod settlement;
pub mod state;
pub mod time;
pub mod timeout;
pub mod window;
