//! Keys in Azure Key Vault secrets: the hub's private key in [`HUB_PRIVATE_KEY_SECRET`] and each
//! participant's public key in `jws-pub-<participant>` ([`PUBLIC_KEY_SECRET_PREFIX`]). Key
//! Vault names hold only letters, digits and `-`, so a participant whose name has other
//! characters needs another source. The identity needs "Key Vault Secrets User" (get, list).
//!
//! Put a [`CachedKeys`](crate::source::CachedKeys) in front: a load lists the vault and reads
//! every key secret, which is fine every few minutes and not per request.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::StatusCode;
use azure_security_keyvault_secrets::{ResourceExt, SecretClient};
use futures::TryStreamExt;

use crate::error::KeyError;
use crate::source::{check_key_count, KeyMaterial, KeySource};

pub const HUB_PRIVATE_KEY_SECRET: &str = "jws-hub-private-key";
pub const PUBLIC_KEY_SECRET_PREFIX: &str = "jws-pub-";

/// A Key Vault holding the JWS keys.
pub struct KeyVaultKeySource {
    client: SecretClient,
}

impl KeyVaultKeySource {
    /// `vault_url` is `https://<vault>.vault.azure.net/`; the credential is the switch's
    /// (managed identity on Azure, developer tools locally).
    pub fn new(vault_url: &str, credential: Arc<dyn TokenCredential>) -> Result<KeyVaultKeySource, KeyError> {
        let client = SecretClient::new(vault_url, credential, None).map_err(vault_error)?;
        Ok(KeyVaultKeySource { client })
    }

    /// A secret's current value; `None` when the vault has no such secret.
    async fn secret(&self, name: &str) -> Result<Option<String>, KeyError> {
        match self.client.get_secret(name, None).await {
            Ok(response) => Ok(response.into_model().map_err(vault_error)?.value),
            Err(err) if err.http_status() == Some(StatusCode::NotFound) => Ok(None),
            Err(err) => Err(vault_error(err)),
        }
    }

    /// Names of the participant key secrets (enabled or not: a disabled one fails its read).
    async fn public_key_secret_names(&self) -> Result<Vec<String>, KeyError> {
        let mut pages = self.client.list_secret_properties(None).map_err(vault_error)?;
        let mut names = Vec::new();
        while let Some(properties) = pages.try_next().await.map_err(vault_error)? {
            let name = properties.resource_id().map_err(vault_error)?.name;
            if name.starts_with(PUBLIC_KEY_SECRET_PREFIX) {
                names.push(name);
                check_key_count(names.len())?;
            }
        }
        Ok(names)
    }
}

#[async_trait]
impl KeySource for KeyVaultKeySource {
    async fn load(&self) -> Result<KeyMaterial, KeyError> {
        let hub_private_key = self.secret(HUB_PRIVATE_KEY_SECRET).await?;
        let mut public_keys = BTreeMap::new();
        for name in self.public_key_secret_names().await? {
            if let Some(pem) = self.secret(&name).await? {
                public_keys.insert(name[PUBLIC_KEY_SECRET_PREFIX.len()..].to_string(), pem);
            }
        }
        Ok(KeyMaterial { hub_private_key, public_keys })
    }
}

fn vault_error(err: azure_core::Error) -> KeyError {
    KeyError::Unavailable(format!("Key Vault: {err}"))
}
