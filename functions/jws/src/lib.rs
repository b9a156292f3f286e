//! FSPIOP-Signature (JWS) signing and validation, with keys from files, the environment or Key Vault.
