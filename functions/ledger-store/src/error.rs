//! The one error type of the store: operating failures and refused data, never business
//! outcomes (those are the core's `Rejection`s).

/// Why a store operation failed. Business outcomes are never errors here; these are
/// operating failures the caller may retry, or data the store refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique key already holds this row: a concurrent writer got there first, or the row
    /// was written by an earlier delivery. Re-running the batch from its load step resolves it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A value does not fit the schema (e.g. more ids in one read than a statement takes).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database could not be reached or failed; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The database holds a value the ledger cannot read back: a bug or tampering.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether running the same work again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Conflict(_) | StoreError::Unavailable(_))
    }
}
