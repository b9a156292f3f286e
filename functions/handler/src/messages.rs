//! The two HTTP messages the switch journals and signs: a DFSP's request as the FSPIOP edge
//! takes it, and a callback as the notification function sends it. They sit below the edge,
//! the notification function, `audit` and `signatures`, which all read them.

use ledger_core::ids::FspId;
use std::collections::BTreeMap;

/// An HTTP request as the edge sees it: header names lower-cased.
#[derive(Debug, Clone)]
pub struct EdgeRequest {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// One HTTP callback to one DFSP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub recipient: FspId,
    pub method: &'static str,
    pub endpoint_type: &'static str,
    /// `/transfers`, `/transfers/{id}` or `/transfers/{id}/error`: FSPIOP-URI.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}
