//! Key sources and the refreshing cache: files and variables with real PEM keys, the cache's
//! refresh, retry and staleness rules against a fake source with time passed in, and the Key
//! Vault source's construction (it cannot reach Azure here).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use jws::keys::KeyError;
use jws::keyvault::KeyVaultKeySource;
use jws::source::{
    CachedKeys, EnvKeySource, FileKeySource, KeyMaterial, KeySet, KeySource, HUB_PRIVATE_KEY_VARIABLE,
    KEY_REFRESH_INTERVAL_MS, KEY_RETRY_INTERVAL_MS, KEY_STALE_MAX_MS, PUBLIC_KEY_VARIABLE_PREFIX,
};

const START_MS: i64 = 1_790_000_000_000;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap()
}

fn material(participants: &[&str]) -> KeyMaterial {
    KeyMaterial {
        hub_private_key: Some(fixture("hub-private.pem")),
        public_keys: participants.iter().map(|it| (it.to_string(), fixture("payerfsp.pem"))).collect(),
    }
}

/// A source whose answer the test sets, counting loads.
#[derive(Default)]
struct FakeSource {
    answer: Mutex<Option<Result<KeyMaterial, KeyError>>>,
    loads: Mutex<usize>,
}

impl FakeSource {
    fn answer(&self, answer: Result<KeyMaterial, KeyError>) {
        *self.answer.lock().unwrap() = Some(answer);
    }

    fn loads(&self) -> usize {
        *self.loads.lock().unwrap()
    }
}

#[async_trait]
impl KeySource for FakeSource {
    async fn load(&self) -> Result<KeyMaterial, KeyError> {
        *self.loads.lock().unwrap() += 1;
        self.answer.lock().unwrap().clone().expect("the test sets an answer first")
    }
}

fn participants(keys: &KeySet) -> Vec<&str> {
    let mut it: Vec<&str> =
        ["payerfsp", "payeefsp", "newfsp"].into_iter().filter(|p| keys.validator().has_key(p)).collect();
    it.sort();
    it
}

#[tokio::test]
async fn the_cache_loads_once_per_interval_and_picks_up_rotated_keys() {
    let source = Arc::new(FakeSource::default());
    source.answer(Ok(material(&["payerfsp"])));
    let cache = CachedKeys::new(source.clone());

    let keys = cache.current(START_MS).await.unwrap();
    assert!(keys.signer().is_some());
    assert_eq!(participants(&keys), ["payerfsp"]);
    cache.current(START_MS + KEY_REFRESH_INTERVAL_MS - 1).await.unwrap();
    assert_eq!(source.loads(), 1);

    source.answer(Ok(material(&["payerfsp", "newfsp"])));
    let keys = cache.current(START_MS + KEY_REFRESH_INTERVAL_MS).await.unwrap();
    assert_eq!(source.loads(), 2);
    assert_eq!(participants(&keys), ["newfsp", "payerfsp"]);
}

#[tokio::test]
async fn a_failing_source_is_retried_later_while_the_last_keys_serve_until_they_are_too_old() {
    let source = Arc::new(FakeSource::default());
    source.answer(Ok(material(&["payerfsp"])));
    let cache = CachedKeys::new(source.clone());
    cache.current(START_MS).await.unwrap();

    let outage = KeyError::Unavailable("vault unreachable".to_string());
    source.answer(Err(outage.clone()));
    let failed_at = START_MS + KEY_REFRESH_INTERVAL_MS;
    assert_eq!(participants(&cache.current(failed_at).await.unwrap()), ["payerfsp"]);
    assert_eq!(source.loads(), 2);
    // No new attempt before the retry interval, then one.
    cache.current(failed_at + KEY_RETRY_INTERVAL_MS - 1).await.unwrap();
    assert_eq!(source.loads(), 2);
    cache.current(failed_at + KEY_RETRY_INTERVAL_MS).await.unwrap();
    assert_eq!(source.loads(), 3);

    // Past the staleness limit the old keys are no longer trusted.
    assert_eq!(cache.current(START_MS + KEY_STALE_MAX_MS).await.map(|_| ()), Ok(()));
    assert_eq!(cache.current(START_MS + KEY_STALE_MAX_MS + 1).await.map(|_| ()), Err(outage));

    // The source recovers: fresh keys again.
    source.answer(Ok(material(&["payeefsp"])));
    let later = START_MS + KEY_STALE_MAX_MS + 1 + KEY_RETRY_INTERVAL_MS;
    assert_eq!(participants(&cache.current(later).await.unwrap()), ["payeefsp"]);
}

#[tokio::test]
async fn a_source_that_never_loaded_fails_and_so_does_a_bad_hub_key() {
    let source = Arc::new(FakeSource::default());
    source.answer(Err(KeyError::Unavailable("down".to_string())));
    let cache = CachedKeys::new(source.clone());
    assert_eq!(cache.current(START_MS).await.map(|_| ()), Err(KeyError::Unavailable("down".to_string())));

    let mut bad_hub = material(&["payerfsp"]);
    bad_hub.hub_private_key = Some(fixture("payerfsp.pem"));
    source.answer(Ok(bad_hub));
    assert!(matches!(cache.current(START_MS + KEY_RETRY_INTERVAL_MS).await, Err(KeyError::Unsupported(_))));
}

#[test]
fn a_bad_participant_key_leaves_only_that_participant_without_a_key() {
    let mut it = material(&["payerfsp"]);
    it.public_keys.insert("payeefsp".to_string(), "not a key".to_string());
    let keys = KeySet::from_material(&it).unwrap();
    assert_eq!(participants(&keys), ["payerfsp"]);
    assert_eq!(keys.rejected().len(), 1);
    assert_eq!(keys.rejected()[0].0, "payeefsp");
    let without_hub = KeySet::from_material(&KeyMaterial { hub_private_key: None, ..material(&[]) }).unwrap();
    assert!(without_hub.signer().is_none());
}

#[tokio::test]
async fn files_give_one_key_per_pem_in_the_directory_and_the_hub_key() {
    let dir = std::env::temp_dir().join(format!("jws_t_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("payerfsp.pem"), fixture("payerfsp.pem")).unwrap();
    std::fs::write(dir.join("payeefsp.pem"), fixture("payeefsp.pem")).unwrap();
    std::fs::write(dir.join("README.txt"), "not a key").unwrap();
    let source =
        FileKeySource { public_key_dir: dir.clone(), hub_private_key_file: Some(fixtures().join("hub-private.pem")) };
    let loaded = source.load().await;
    std::fs::remove_dir_all(&dir).unwrap();
    let loaded = loaded.unwrap();
    assert_eq!(loaded.public_keys.keys().collect::<Vec<_>>(), ["payeefsp", "payerfsp"]);
    let keys = KeySet::from_material(&loaded).unwrap();
    assert_eq!(participants(&keys), ["payeefsp", "payerfsp"]);
    assert!(keys.signer().is_some());

    let missing = FileKeySource { public_key_dir: dir, hub_private_key_file: None };
    assert!(matches!(missing.load().await, Err(KeyError::Unavailable(_))));
}

#[tokio::test]
async fn variables_give_the_hub_key_and_one_key_per_prefixed_name() {
    // A PEM in an app setting often arrives on one line with literal "\n".
    let one_line = fixture("payeefsp.pem").trim_end().replace('\n', "\\n");
    let vars = [
        (HUB_PRIVATE_KEY_VARIABLE.to_string(), fixture("hub-private.pem")),
        (format!("{PUBLIC_KEY_VARIABLE_PREFIX}payerfsp"), fixture("payerfsp.pem")),
        (format!("{PUBLIC_KEY_VARIABLE_PREFIX}payeefsp"), one_line),
        ("PATH".to_string(), "/usr/bin".to_string()),
    ];
    let source = EnvKeySource::from_vars(vars).unwrap();
    let keys = KeySet::from_material(&source.load().await.unwrap()).unwrap();
    assert_eq!(participants(&keys), ["payeefsp", "payerfsp"]);
    assert!(keys.rejected().is_empty());
    assert!(keys.signer().is_some());
}

/// Never asked for a token: constructing the client does no I/O.
#[derive(Debug)]
struct NoCredential;

#[async_trait]
impl TokenCredential for NoCredential {
    async fn get_token(&self, _: &[&str], _: Option<TokenRequestOptions<'_>>) -> azure_core::Result<AccessToken> {
        unreachable!("the Key Vault source must not fetch a token when it is built")
    }
}

#[test]
fn the_key_vault_source_builds_for_a_vault_url_and_refuses_anything_else() {
    assert!(KeyVaultKeySource::new("https://kv-switch.vault.azure.net/", Arc::new(NoCredential)).is_ok());
    assert!(matches!(KeyVaultKeySource::new("not a url", Arc::new(NoCredential)), Err(KeyError::Unavailable(_))));
}
