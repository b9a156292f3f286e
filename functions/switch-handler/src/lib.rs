//! The Azure Functions custom-handler side of the switch: how the Functions host talks to our one
//! axum binary, and which functions the host runs. It knows the host's protocol and the binding
//! files, and nothing of Mojaloop: the function logic that turns a batch into ledger work lives
//! elsewhere and receives already decoded [`EventBatch`]es, [`TimerInvocation`]s and requests.
//!
//! The protocol (azure.md §1): the host starts the `handler` binary, waits until something answers
//! on `127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT`, then POSTs one JSON body per invocation to
//! `/<FunctionName>` and reads back `{Outputs, Logs, ReturnValue}`. HTTP-only functions are instead
//! proxied to the handler as the original request at its original path.
//!
//! # Layout
//! - `invocation`: the request ([`InvocationRequest`], decoding both real JSON and the host's
//!   JSON-in-a-string double encoding), its typed readings per trigger ([`EventBatch`] with one
//!   [`Event`] per body, [`TimerInvocation`], [`HttpTriggerRequest`]), the closed
//!   [`InvocationError`], and the answer ([`InvocationResponse`], [`HttpOutput`]) guarded against
//!   the host's base64 mangling of output strings.
//! - `bindings`: host.json and every `functions/bindings/<name>/function.json` read into a
//!   [`FunctionApp`], and [`FunctionApp::check`] holding them to the project's rules (batch
//!   triggers, own consumer groups, retry policies, at most ten hubs, valid NCRONTAB). The local
//!   emulator and the Bicep read the functions through it.
//!
//! # Not here
//! No business logic and no I/O beyond reading the binding files: what a function does with a
//! batch, and whether a failure should be a 5xx (retry) or a dead letter, is the caller's decision.

pub mod bindings;
pub mod invocation;

pub use bindings::{Cardinality, ConfigProblem, FunctionApp, FunctionSpec, HostConfig, RetryPolicy, Trigger};
pub use invocation::{
    Event, EventBatch, HttpBody, HttpOutput, HttpTriggerRequest, InvocationError, InvocationRequest,
    InvocationResponse, PartitionContext, RetryContext, Sys, TimerInvocation,
};
