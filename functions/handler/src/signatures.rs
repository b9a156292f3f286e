//! FSPIOP-Signature in the handler: where the JWS keys come from, the edge's check of inbound
//! requests (`JWS_VALIDATE=true`) and the signing of the callbacks the Hub makes
//! (`JWS_SIGN=true`). Keys are read through `jws::source::CachedKeys` with the handler's clock.
//!
//! Key source, first match wins: `KEYVAULT_URI` (Key Vault secrets `jws-hub-private-key` and
//! `jws-pub-<participant>`, Entra ID credential as for Event Hubs); `JWS_KEYS_DIR` (every
//! `<participant>.pem` public key in it, and the hub's private key in [`HUB_PRIVATE_KEY_FILE`]
//! there); otherwise the environment (`JWS_HUB_PRIVATE_KEY`, `JWS_PUB_<participant>`).

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use fspiop::{ErrorCode, FspiopError};
use jws::keyvault::KeyVaultKeySource;
use jws::sign::SignRequest;
use jws::source::{CachedKeys, EnvKeySource, FileKeySource, KeySource};
use jws::validate::InboundRequest;
use ledger_core::account::HUB_NAME;
use ledger_core::time::Timestamp;

use crate::messages::{Callback, EdgeRequest};

pub const JWS_SIGN_VAR: &str = "JWS_SIGN";
pub const JWS_VALIDATE_VAR: &str = "JWS_VALIDATE";
pub const KEYVAULT_URI_VAR: &str = "KEYVAULT_URI";
pub const JWS_KEYS_DIR_VAR: &str = "JWS_KEYS_DIR";
/// The hub's private key in a `JWS_KEYS_DIR` (listed among the participants' keys too, where
/// it fails to parse as a public key and is reported as rejected, harmlessly).
pub const HUB_PRIVATE_KEY_FILE: &str = "hub-private.pem";

/// Where the keys are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysTarget {
    KeyVault(String),
    Directory(PathBuf),
    Environment,
}

impl KeysTarget {
    /// Reads the target from variables looked up by name (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> KeysTarget {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(uri) = var(KEYVAULT_URI_VAR) {
            return KeysTarget::KeyVault(uri);
        }
        match var(JWS_KEYS_DIR_VAR) {
            Some(dir) => KeysTarget::Directory(PathBuf::from(dir)),
            None => KeysTarget::Environment,
        }
    }

    /// The source; `credential` is asked for only when Key Vault is the target.
    pub fn source(
        &self,
        credential: impl FnOnce() -> Result<Arc<dyn TokenCredential>, String>,
    ) -> Result<Arc<dyn KeySource>, String> {
        Ok(match self {
            KeysTarget::KeyVault(uri) => {
                Arc::new(KeyVaultKeySource::new(uri, credential()?).map_err(|err| err.to_string())?)
            }
            KeysTarget::Directory(dir) => {
                let hub = dir.join(HUB_PRIVATE_KEY_FILE);
                let hub_private_key_file = hub.exists().then_some(hub);
                Arc::new(FileKeySource { public_key_dir: dir.clone(), hub_private_key_file })
            }
            KeysTarget::Environment => Arc::new(EnvKeySource::from_process().map_err(|err| err.to_string())?),
        })
    }
}

/// The edge's check: `Ok` when the request's signature verifies with its source's key. A
/// refusal is 3105 (400); keys that cannot be loaded are the switch's fault, 2001 (500), so the
/// DFSP sends again.
pub async fn check_inbound(keys: &CachedKeys, request: &EdgeRequest, now: Timestamp) -> Result<(), FspiopError> {
    let keys = keys.current(now.unix_ms()).await.map_err(|error| {
        tracing::error!(%error, "JWS keys unavailable; inbound signatures cannot be checked");
        FspiopError::with_detail(ErrorCode::InternalServerError, "signature keys unavailable")
    })?;
    let header = |name: &str| request.headers.get(name).map(String::as_str);
    let inbound = InboundRequest {
        source: header("fspiop-source"),
        destination: header("fspiop-destination"),
        uri: header("fspiop-uri"),
        http_method: header("fspiop-http-method"),
        date: header("date"),
        signature: header("fspiop-signature"),
        body: &request.body,
    };
    keys.validator().validate(&inbound).map_err(|rejection| FspiopError::invalid_signature(rejection.to_string()))
}

/// Signs a callback the Hub made (its `FSPIOP-Source` is the Hub and it has a body), setting
/// `FSPIOP-Signature`, `FSPIOP-URI` and `FSPIOP-HTTP-Method` for `url`. Forwarded messages keep
/// their sender's signature. Without a usable hub key the callback goes unsigned and the fault
/// is logged (the DFSP's refusal then dead-letters it for the operator).
pub async fn sign_callback(keys: &CachedKeys, callback: &mut Callback, url: &str, now: Timestamp) {
    let header = |name: &str| callback.headers.iter().find(|(it, _)| it == name).map(|(_, value)| value.as_str());
    if header("fspiop-source") != Some(HUB_NAME) || callback.body.is_empty() {
        return;
    }
    let keys = match keys.current(now.unix_ms()).await {
        Ok(keys) => keys,
        Err(error) => {
            tracing::error!(%error, recipient = %callback.recipient, "JWS keys unavailable; callback sent unsigned");
            return;
        }
    };
    let Some(signer) = keys.signer() else {
        tracing::error!(recipient = %callback.recipient, "no hub private key; callback sent unsigned");
        return;
    };
    let request = SignRequest {
        method: callback.method,
        url,
        source: HUB_NAME,
        destination: header("fspiop-destination"),
        date: header("date"),
        body: &callback.body,
    };
    match signer.sign(&request) {
        Ok(signed) => {
            callback
                .headers
                .retain(|(name, _)| !matches!(name.as_str(), "fspiop-uri" | "fspiop-http-method" | "fspiop-signature"));
            callback.headers.push(("fspiop-uri".to_string(), signed.uri));
            callback.headers.push(("fspiop-http-method".to_string(), signed.http_method));
            callback.headers.push(("fspiop-signature".to_string(), signed.signature));
        }
        Err(error) => {
            tracing::error!(%error, recipient = %callback.recipient, "callback could not be signed; sent unsigned")
        }
    }
}
