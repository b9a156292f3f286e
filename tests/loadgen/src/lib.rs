//! Load generator and benchmark for the switch: many simulated DFSPs over the FSPIOP API,
//! provisioned through the central-ledger admin API, driven open-loop (a fixed rate) or
//! closed-loop (N in flight), each transfer measured from its `POST /transfers` to the payer's
//! `COMMITTED` callback.
//!
//! # Layout
//! - `options`: the command line, the scenarios' presets, the limits.
//! - `ids`: transfer ids that carry their index, DFSP names, conditions and fulfilments.
//! - `tracker`: transfers in flight, latency histograms, errors by FSPIOP code.
//! - `dfsps`: the callback server of every simulated DFSP, the payer's POST, the payee's PUT.
//! - `driver`: who pays whom and when (closed and open loop), and the drain.
//! - `expiry`: the expiring share (`--expiring-share`): from each one's expiration to the
//!   3303 callbacks of its payer and its silent payee.
//! - `switch`: the local emulator or a remote switch, and provisioning.
//! - `report`: the summary, `result.json` and `result.svg`.
//! - `run`: one run from start to end, with the progress line.

pub mod dfsps;
pub mod driver;
pub mod expiry;
pub mod ids;
pub mod machine;
pub mod options;
pub mod report;
pub mod run;
pub mod switch;
pub mod tracker;
