//! The FSPIOP wire format of the switch's transfers API: everything that knows what the JSON and
//! the headers look like, and nothing else. It parses what FSPs send into the ledger's value types
//! (parse, don't validate), answers with Mojaloop's exact error codes and texts, and prints the
//! bodies the hub sends.
//!
//! No HTTP framework and no async: headers come in through [`headers::HeaderSource`] and bodies as
//! bytes, so any HTTP layer (axum, an Azure Functions custom handler, a test) calls the same code.
//!
//! # Layout
//! - `wire`: the data types every resource shares as they travel ([`wire::ExtensionList`],
//!   [`wire::ErrorInformation`]) and the extension limits. Depends on nothing else here.
//! - `error`: the FSPIOP error-code table ([`ErrorCode`]), the error body ([`FspiopError`]) and the
//!   one mapping from `ledger_core::rejection::Rejection` to FSPIOP errors.
//! - `json`: the first read of every received body, the size limit (3104) then JSON syntax (3101).
//! - `headers`: Accept / Content-Type / Date / Content-Length / FSPIOP-Source checks, the API
//!   versions ([`ApiVersion`]) and the parsed [`RequestHeaders`].
//! - `transfers`: serde wire types of the transfers bodies, the parsers that turn a body into a
//!   checked [`TransferPrepare`], [`TransferFulfil`] or [`TransferAbort`], and the hub's bodies.
//! - `hash`: the duplicate-check [`RequestHash`], as Node's `JSON.stringify` would hash it.
//! - `datetime`: the FSPIOP `DateTime` and HTTP `Date` formats.
//! - `admin`: the central-ledger admin API's request and response bodies.
//! - `body` (private): field-by-field reading of operator bodies as Joi reads them.
//! - `joi`: what Joi converts and refuses (exact numbers, booleans, ISO dates), and each operator
//!   service's code for a refusal.
//! - `settlement`: the central-settlement v2 API's request and response bodies.
//! - `schema` (private): the ajv-ordered checks behind the body parsers.
//!
//! The modules form layers, each using only those below it: `datetime`, then `wire`, then
//! `error`, then `json`, `schema` and `joi`, then `headers`, `hash` and `body`, then the
//! resources (`transfers`, `admin`, `settlement`).
//!
//! # Typical use
//! `validate_headers` → `parse_transfers_post(body, headers.content_version)` → the ledger;
//! every `Err(FspiopError)` is answered with `http_status()` and `to_json()`.

pub mod admin;
mod body;
pub mod datetime;
pub mod error;
pub mod hash;
pub mod headers;
pub mod joi;
pub mod json;
mod schema;
pub mod settlement;
pub mod transfers;
pub mod wire;

pub use error::{ErrorCode, FspiopError};
pub use hash::{hash_body, hash_json, RequestHash};
pub use headers::{validate_headers, AcceptVersion, ApiVersion, HeaderSource, Method, RequestHeaders};
pub use transfers::{
    parse_transfers_error, parse_transfers_post, parse_transfers_put, Parsed, TransferAbort, TransferFulfil,
    TransferPrepare,
};
