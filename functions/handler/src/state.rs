//! The application state every route shares, built once per process (`crate::process`) and
//! handed to the router (`crate::app`). It sits below the operator APIs, which read it, and
//! above the transfer functions, which take only what they use (the store, the notifier).

use std::sync::Arc;

use journal::Journal;
use jws::source::CachedKeys;
use ledger_core::prepare::PrepareRules;
use ledger_core::time::Timestamp;
use ledger_store::LedgerStore;
use plumbing::publish::Publisher;

use crate::transfers::notification::Notifier;

/// Everything the functions share, built once per process.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn LedgerStore>,
    pub publisher: Arc<dyn Publisher>,
    pub notifier: Notifier,
    pub rules: PrepareRules,
    /// The clock, injected so tests can fix time.
    pub now: fn() -> Timestamp,
    /// The message journal the edge appends every request to and `GET /journal/{id}` reads;
    /// the notifier holds the same one for callbacks. `None`: nothing is journaled.
    pub journal: Option<Arc<dyn Journal>>,
    /// `JWS_VALIDATE=true`: the keys inbound `FSPIOP-Signature`s are checked with.
    pub signature_keys: Option<Arc<CachedKeys>>,
}
