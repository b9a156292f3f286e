//! The Hub's JWS signing key for `up --jws-sign`: kept in the data directory's `jws/` folder,
//! made on first start and loaded on every later one, so the Hub signs with the same key across
//! restarts and DFSPs can verify with the public half.
//!
//! The folder is the handler's `JWS_KEYS_DIR`: `hub-private.pem` is the key the handler signs
//! with (`handler::signatures`), and `Hub.pem` its public key, the file a DFSP (or TTK) verifies
//! the Hub's `FSPIOP-Signature` with. A folder that holds a private key but no public one gets
//! nothing new: the operator's own key is used as it is.

use std::path::{Path, PathBuf};

use handler::signatures::HUB_PRIVATE_KEY_FILE;
use jws::keys::{generate_hub_key, PrivateKey};

/// The folder under the data directory.
pub const KEYS_DIR: &str = "jws";
/// The Hub's public key in that folder, named as the participant whose key it is.
pub const HUB_PUBLIC_KEY_FILE: &str = "Hub.pem";

/// Why the key could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum HubKeyError {
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("{path}: not a usable hub signing key: {reason}")]
    Unusable { path: PathBuf, reason: String },
    #[error("making the hub key: {0}")]
    Generate(String),
}

/// Makes sure `<data_dir>/jws/hub-private.pem` holds a usable key, generating one (and
/// `Hub.pem`) if there is none; returns the folder.
pub fn ensure(data_dir: &Path) -> Result<PathBuf, HubKeyError> {
    let dir = data_dir.join(KEYS_DIR);
    let private_path = dir.join(HUB_PRIVATE_KEY_FILE);
    match std::fs::read_to_string(&private_path) {
        Ok(pem) => {
            PrivateKey::from_pem(&pem)
                .map_err(|err| HubKeyError::Unusable { path: private_path.clone(), reason: err.to_string() })?;
            return Ok(dir);
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (),
        Err(err) => return Err(file_error(&private_path, err)),
    }
    let generated = generate_hub_key().map_err(|err| HubKeyError::Generate(err.to_string()))?;
    std::fs::create_dir_all(&dir).map_err(|err| file_error(&dir, err))?;
    // The public half first: a crash between the two leaves no private key without its public one.
    write_atomically(&dir.join(HUB_PUBLIC_KEY_FILE), generated.public_pem.as_bytes(), false)?;
    write_atomically(&private_path, generated.private_pem.as_bytes(), true)?;
    tracing::info!(dir = %dir.display(), "made a new hub signing key");
    Ok(dir)
}

fn file_error(path: &Path, err: std::io::Error) -> HubKeyError {
    HubKeyError::File { path: path.to_path_buf(), reason: err.to_string() }
}

/// Writes a temporary file beside `path` and renames it over `path`; a private file is readable
/// by its owner only.
fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), HubKeyError> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes).map_err(|err| file_error(&temporary, err))?;
    if private {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))
            .map_err(|err| file_error(&temporary, err))?;
    }
    std::fs::rename(&temporary, path).map_err(|err| file_error(path, err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("le_key_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_first_start_makes_a_key_and_later_starts_keep_it() {
        let data = temp_dir();
        let dir = ensure(&data).unwrap();
        assert_eq!(dir, data.join(KEYS_DIR));
        let private = std::fs::read_to_string(dir.join(HUB_PRIVATE_KEY_FILE)).unwrap();
        let public = std::fs::read_to_string(dir.join(HUB_PUBLIC_KEY_FILE)).unwrap();
        assert!(PrivateKey::from_pem(&private).is_ok());
        assert!(jws::keys::PublicKey::from_pem(&public).is_ok());
        let mode = std::fs::metadata(dir.join(HUB_PRIVATE_KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is the owner's alone");
        ensure(&data).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join(HUB_PRIVATE_KEY_FILE)).unwrap(),
            private,
            "the same key after a restart"
        );
        assert_eq!(std::fs::read_to_string(dir.join(HUB_PUBLIC_KEY_FILE)).unwrap(), public);
        std::fs::remove_dir_all(&data).unwrap();
    }

    #[test]
    fn an_unusable_key_stops_the_start_instead_of_being_replaced() {
        let data = temp_dir();
        std::fs::create_dir_all(data.join(KEYS_DIR)).unwrap();
        let path = data.join(KEYS_DIR).join(HUB_PRIVATE_KEY_FILE);
        std::fs::write(&path, "not a key").unwrap();
        let error = ensure(&data).unwrap_err();
        assert!(matches!(error, HubKeyError::Unusable { .. }), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key", "an operator's file is never overwritten");
        std::fs::remove_dir_all(&data).unwrap();
    }
}
