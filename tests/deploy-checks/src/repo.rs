//! Paths of the repository and of the shared ARM schemas, found from this crate's manifest
//! directory so the tests run from any working directory.

use std::path::{Path, PathBuf};

/// Overrides where the ARM JSON schemas are (`.../schemas/arm`); by default the `shared/`
/// folder beside the repository, where CI puts it.
pub const ARM_SCHEMAS_DIR_VAR: &str = "ARM_SCHEMAS_DIR";

/// The repository root (two levels above this crate).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../..").canonicalize().expect("repository root");
    assert!(root.join("host.json").is_file(), "no host.json at {}", root.display());
    root
}

/// The folder holding `2019-04-01/deploymentTemplate.json` and `0.1.2-preview/…`. Panics with
/// the paths it tried: the schema checks must fail, not skip, without their schemas.
pub fn arm_schemas_dir() -> PathBuf {
    let dir = match std::env::var_os(ARM_SCHEMAS_DIR_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => root().join("../shared/schemas/arm"),
    };
    let probe = dir.join("2019-04-01/deploymentTemplate.json");
    assert!(probe.is_file(), "ARM schemas not found at {} (set {ARM_SCHEMAS_DIR_VAR})", dir.display());
    dir
}

/// Reads a file of the repository as text.
pub fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// Reads a JSON file of the repository.
pub fn read_json(relative: &str) -> serde_json::Value {
    serde_json::from_str(&read(relative)).unwrap_or_else(|err| panic!("{relative} is not JSON: {err}"))
}
