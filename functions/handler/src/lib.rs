//! The switch's function set: the FSPIOP edge and the prepare, position, fulfil, notification,
//! timeout and get functions, served as one Azure Functions custom-handler binary.
//!
//! # Layout
//! - `envelope`: the versioned event every hub carries (Mojaloop's message shape).
//!
//! Each function is load → decide → write: it loads from the store, asks `ledger-core`, writes
//! in one transaction, then publishes. The protocol with the Functions host is `switch-handler`'s.

pub mod envelope;
