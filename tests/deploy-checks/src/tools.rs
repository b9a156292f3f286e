//! The external programs some checks run (checkov, bash, zip). A missing program fails the
//! check that needs it, with the install line, instead of skipping it.

use std::path::Path;
use std::process::{Command, Output};

/// Overrides the checkov executable (default: `checkov` on PATH).
pub const CHECKOV_VAR: &str = "CHECKOV";
/// The checkov release the accepted-findings lists were written against (azure.md §7).
pub const CHECKOV_VERSION: &str = "3.3.30";

/// Runs `program` with `args` in `dir`, panicking with an install hint if it cannot start.
pub fn run(program: &str, args: &[&str], dir: &Path, envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir);
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().unwrap_or_else(|err| panic!("cannot run `{program}` ({err}); {}", install_hint(program)))
}

/// Runs checkov offline (local-stand-ins.md §5): no download, no mapping fetch, parse errors fail.
pub fn checkov(args: &[&str], dir: &Path) -> Output {
    let program = std::env::var(CHECKOV_VAR).unwrap_or_else(|_| "checkov".to_string());
    let mut all = vec!["--compact", "--quiet", "--skip-download", "-o", "json"];
    all.extend_from_slice(args);
    run(&program, &all, dir, &[("CKV_PARSE_ERROR_FAIL", "true"), ("BC_SKIP_MAPPING", "TRUE")])
}

fn install_hint(program: &str) -> String {
    match program {
        "checkov" => format!("install it with `pip install checkov=={CHECKOV_VERSION}` (or set {CHECKOV_VAR})"),
        "zip" | "unzip" => "install the Debian package `zip`/`unzip`".to_string(),
        other => format!("`{other}` must be on PATH"),
    }
}
