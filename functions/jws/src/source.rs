//! Where keys come from, and the cache in front of them.
//!
//! A [`KeySource`] returns PEM texts: the hub's private key and participants' public keys. Three
//! sources: [`FileKeySource`] (a directory of `<participant>.pem` plus the hub key file),
//! [`EnvKeySource`] (`JWS_HUB_PRIVATE_KEY`, `JWS_PUB_<participant>`) and, in `keyvault`,
//! Azure Key Vault. [`CachedKeys`] parses what a source returns into a [`KeySet`] (a
//! [`Signer`] and a [`Validator`]) and reloads it every [`KEY_REFRESH_INTERVAL_MS`], so a key
//! rotated in the source is picked up without a restart.
//!
//! Time is an argument (`now_ms`), so the refresh rules are tested without waiting.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::KeyError;
use crate::keys::{PrivateKey, PublicKey};
use crate::pem::PEM_BYTES_MAX;
use crate::sign::Signer;
use crate::validate::Validator;

/// How long loaded keys are used before the source is read again.
pub const KEY_REFRESH_INTERVAL_MS: i64 = 5 * 60 * 1_000;
/// After a failed reload, how long until the next attempt (the old keys serve meanwhile).
pub const KEY_RETRY_INTERVAL_MS: i64 = 30 * 1_000;
/// How old the last good keys may get while reloads keep failing. Past it, calls fail: a
/// revoked key must not stay trusted forever because the vault is unreachable.
pub const KEY_STALE_MAX_MS: i64 = 60 * 60 * 1_000;
/// Most participant keys one source may hold.
pub const PUBLIC_KEYS_MAX: usize = 10_000;
/// The variable holding the hub's private key PEM.
pub const HUB_PRIVATE_KEY_VARIABLE: &str = "JWS_HUB_PRIVATE_KEY";
/// Prefix of the variables holding participants' public keys: `JWS_PUB_<participant>`.
pub const PUBLIC_KEY_VARIABLE_PREFIX: &str = "JWS_PUB_";
/// The extension of public key files in a key directory.
pub const PUBLIC_KEY_FILE_EXTENSION: &str = "pem";

/// PEM texts as a source holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyMaterial {
    pub hub_private_key: Option<String>,
    /// By participant name (the `FSPIOP-Source` value).
    pub public_keys: BTreeMap<String, String>,
}

/// A place keys are read from.
#[async_trait]
pub trait KeySource: Send + Sync {
    async fn load(&self) -> Result<KeyMaterial, KeyError>;
}

/// Parsed keys: what signing and validation use.
#[derive(Debug)]
pub struct KeySet {
    signer: Option<Signer>,
    validator: Validator,
    rejected: Vec<(String, KeyError)>,
}

impl KeySet {
    /// Parses the material. A bad hub key fails the whole set (the hub could not sign); a bad
    /// participant key leaves that participant without a key (its requests are refused) and is
    /// listed in [`KeySet::rejected`] so it can be reported.
    pub fn from_material(material: &KeyMaterial) -> Result<KeySet, KeyError> {
        let signer = match &material.hub_private_key {
            Some(pem) => Some(Signer::new(PrivateKey::from_pem(pem)?)),
            None => None,
        };
        let mut keys = HashMap::new();
        let mut rejected = Vec::new();
        for (participant, pem) in &material.public_keys {
            match PublicKey::from_pem(pem) {
                Ok(key) => {
                    keys.insert(participant.clone(), key);
                }
                Err(err) => rejected.push((participant.clone(), err)),
            }
        }
        Ok(KeySet { signer, validator: Validator::new(keys), rejected })
    }

    /// The hub's signer, when the source holds a hub key.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Participants whose key could not be parsed, with the reason.
    pub fn rejected(&self) -> &[(String, KeyError)] {
        &self.rejected
    }
}

/// A source with a cache: [`CachedKeys::current`] reads the source at most every
/// [`KEY_REFRESH_INTERVAL_MS`] (every [`KEY_RETRY_INTERVAL_MS`] while it fails).
pub struct CachedKeys {
    source: Arc<dyn KeySource>,
    // tokio's Mutex: held across the reload so concurrent callers wait for one load instead
    // of each hitting the source.
    state: tokio::sync::Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    keys: Option<Arc<KeySet>>,
    loaded_ms: i64,
    /// No load before this time (0 at first: load on the first call).
    next_load_ms: i64,
    last_error: Option<KeyError>,
}

impl CacheState {
    /// The last good keys while they are fresh enough, else why there are none.
    fn usable(&self, now_ms: i64) -> Result<Arc<KeySet>, KeyError> {
        match (&self.keys, &self.last_error) {
            (Some(keys), _) if now_ms - self.loaded_ms <= KEY_STALE_MAX_MS => Ok(keys.clone()),
            (_, Some(err)) => Err(err.clone()),
            (_, None) => Err(KeyError::Unavailable("no keys loaded yet".to_string())),
        }
    }
}

impl CachedKeys {
    pub fn new(source: Arc<dyn KeySource>) -> CachedKeys {
        CachedKeys { source, state: tokio::sync::Mutex::new(CacheState::default()) }
    }

    /// The keys to use at `now_ms` (Unix milliseconds). Fails when the source has never loaded,
    /// or has failed for longer than [`KEY_STALE_MAX_MS`] since its last good load.
    pub async fn current(&self, now_ms: i64) -> Result<Arc<KeySet>, KeyError> {
        let mut state = self.state.lock().await;
        if now_ms < state.next_load_ms {
            return state.usable(now_ms);
        }
        let loaded = match self.source.load().await {
            Ok(material) => KeySet::from_material(&material),
            Err(err) => Err(err),
        };
        match loaded {
            Ok(keys) => {
                let keys = Arc::new(keys);
                state.keys = Some(keys.clone());
                state.loaded_ms = now_ms;
                state.next_load_ms = now_ms + KEY_REFRESH_INTERVAL_MS;
                state.last_error = None;
                Ok(keys)
            }
            Err(err) => {
                state.next_load_ms = now_ms + KEY_RETRY_INTERVAL_MS;
                state.last_error = Some(err);
                state.usable(now_ms)
            }
        }
    }
}

/// Keys in files: every `<participant>.pem` in a directory, and the hub key in its own file.
#[derive(Debug, Clone)]
pub struct FileKeySource {
    pub public_key_dir: PathBuf,
    pub hub_private_key_file: Option<PathBuf>,
}

#[async_trait]
impl KeySource for FileKeySource {
    async fn load(&self) -> Result<KeyMaterial, KeyError> {
        let hub_private_key = match &self.hub_private_key_file {
            Some(path) => Some(read_pem_file(path).await?),
            None => None,
        };
        let mut public_keys = BTreeMap::new();
        let mut dir =
            tokio::fs::read_dir(&self.public_key_dir).await.map_err(|err| io_error(&self.public_key_dir, err))?;
        while let Some(item) = dir.next_entry().await.map_err(|err| io_error(&self.public_key_dir, err))? {
            let path = item.path();
            // Other files (a README, the hub's own key kept elsewhere) are not keys.
            if path.extension().and_then(|it| it.to_str()) != Some(PUBLIC_KEY_FILE_EXTENSION) {
                continue;
            }
            let Some(participant) = path.file_stem().and_then(|it| it.to_str()) else {
                continue;
            };
            public_keys.insert(participant.to_string(), read_pem_file(&path).await?);
            check_key_count(public_keys.len())?;
        }
        Ok(KeyMaterial { hub_private_key, public_keys })
    }
}

async fn read_pem_file(path: &Path) -> Result<String, KeyError> {
    let metadata = tokio::fs::metadata(path).await.map_err(|err| io_error(path, err))?;
    if (PEM_BYTES_MAX as u64) < metadata.len() {
        return Err(KeyError::OverLimit(format!(
            "{} is {} bytes, at most {PEM_BYTES_MAX}",
            path.display(),
            metadata.len()
        )));
    }
    tokio::fs::read_to_string(path).await.map_err(|err| io_error(path, err))
}

fn io_error(path: &Path, err: std::io::Error) -> KeyError {
    KeyError::Unavailable(format!("{}: {err}", path.display()))
}

pub(crate) fn check_key_count(count: usize) -> Result<(), KeyError> {
    if PUBLIC_KEYS_MAX < count {
        return Err(KeyError::OverLimit(format!("more than {PUBLIC_KEYS_MAX} public keys")));
    }
    Ok(())
}

/// Keys in environment variables: [`HUB_PRIVATE_KEY_VARIABLE`] and
/// `JWS_PUB_<participant>` (the participant name verbatim, so names with characters a
/// variable name cannot hold need another source). The variables are read at construction.
#[derive(Debug, Clone)]
pub struct EnvKeySource {
    material: KeyMaterial,
}

impl EnvKeySource {
    /// Reads the process environment.
    pub fn from_process() -> Result<EnvKeySource, KeyError> {
        EnvKeySource::from_vars(std::env::vars())
    }

    /// Reads the given variables (tests pass their own instead of mutating the process's).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<EnvKeySource, KeyError> {
        let mut material = KeyMaterial::default();
        for (name, value) in vars {
            if name == HUB_PRIVATE_KEY_VARIABLE {
                material.hub_private_key = Some(value);
                continue;
            }
            if let Some(participant) = name.strip_prefix(PUBLIC_KEY_VARIABLE_PREFIX) {
                material.public_keys.insert(participant.to_string(), value);
                check_key_count(material.public_keys.len())?;
            }
        }
        Ok(EnvKeySource { material })
    }
}

#[async_trait]
impl KeySource for EnvKeySource {
    async fn load(&self) -> Result<KeyMaterial, KeyError> {
        Ok(self.material.clone())
    }
}
