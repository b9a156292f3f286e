//! Why a key could not be loaded: the one error type of PEM decoding (`pem`), key parsing
//! (`keys`) and the key sources (`source`, `keyvault`).
//!
//! It has its own module, below all of them, so that `pem` can report failures without
//! depending on the keys it decodes for.

/// Why a key could not be loaded. Closed: callers match every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("invalid PEM: {0}")]
    InvalidPem(String),
    #[error("encrypted PEM is not supported; store the key unencrypted in a secret store")]
    Encrypted,
    #[error("unsupported key: {0}")]
    Unsupported(String),
    #[error("RSA key of {bits} bits, at least {min} required")]
    WeakKey { bits: u32, min: u32 },
    /// A file, variable or vault could not be read; the cache retries later.
    #[error("key source unavailable: {0}")]
    Unavailable(String),
    /// The source holds more keys or bigger ones than the limits allow.
    #[error("key source over its limit: {0}")]
    OverLimit(String),
}
