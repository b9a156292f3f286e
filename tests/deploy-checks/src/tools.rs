//! The external programs some checks run (checkov, bash, zip). A missing program fails the
//! check that needs it, with the install line, instead of skipping it.

use std::path::Path;

use serde_json::Value;
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

/// checkov findings accepted on purpose, with the reason (they are skipped by id; anything
/// else checkov finds fails the test).
pub const CHECKOV_ACCEPTED: [(&str, &str); 26] = [
    ("CKV_AZURE_35", "public access follows privateNetworking (off in prod, private endpoint); checkov cannot read the expression"),
    ("CKV_AZURE_36", "same: no network rules; with privateNetworking the account is reached only by private endpoint"),
    ("CKV_AZURE_206", "ZRS is the replication chosen for the host storage; GRS buys nothing for leases"),
    ("CKV_AZURE_43", "checkov cannot evaluate the name expression (lowercase, <= 24 chars by construction)"),
    ("CKV_AZURE_101", "Cosmos public access follows privateNetworking (off in prod); Entra ID only (local auth off)"),
    ("CKV_AZURE_99", "same as CKV_AZURE_101"),
    ("CKV_AZURE_94", "geo-redundant MySQL backup is a cost decision left out of both sizes"),
    ("CKV_AZURE_53", "MySQL public access follows privateNetworking (off in prod); dev admits only the deploying client's IP; the switch uses the private endpoint"),
    ("CKV_AZURE_96", "infrastructure double encryption needs customer-managed keys, out of scope"),
    ("CKV_AZURE_41", "an expiring MySQL URL secret would stop the ledger; rotation is an operator task"),
    ("CKV_AZURE_66", "App Service logging knobs do not apply to a Flex custom handler (telemetry goes to App Insights)"),
    ("CKV_AZURE_63", "same as CKV_AZURE_66"),
    ("CKV_AZURE_65", "same as CKV_AZURE_66"),
    ("CKV_AZURE_80", "no .NET in a custom handler"),
    ("CKV_AZURE_88", "Flex Consumption has no Azure Files content share"),
    ("CKV_AZURE_13", "App Service auth is replaced by APIM (mTLS, Entra ID) plus the ingress restriction"),
    ("CKV_AZURE_222", "the function app is reached through APIM; ingress is restricted to the gateway's IP"),
    ("CKV_AZURE_17", "client certificates are negotiated at APIM, not at the function app"),
    ("CKV_AZURE_212", "Flex Consumption has no plan instance minimum; the HTTP functions get always-ready instances instead (functionAlwaysReadyHttpInstances, 2 in prod)"),
    ("CKV_AZURE_213", "health is probed through APIM by the deploy smoke test (GET /health)"),
    ("CKV_AZURE_225", "Flex Consumption plans have no zone-redundancy switch in this API version"),
    ("CKV_AZURE_107", "APIM without VNet: DFSPs reach it over the internet with mTLS"),
    ("CKV_AZURE_174", "same as CKV_AZURE_107"),
    ("CKV_AZURE_173", "TLS 1.0/1.1 and SSL 3.0 are off in customProperties, which checkov's ARM check does not read"),
    ("CKV_AZURE_109", "Key Vault public access follows privateNetworking (off in prod, private endpoint); RBAC only"),
    ("CKV_AZURE_189", "same as CKV_AZURE_109"),
];

/// Runs checkov on a folder; every failed check must be an accepted one, and nothing may fail to
/// parse.
pub fn assert_checkov_clean(dir: &Path, framework: &str) {
    let skip = CHECKOV_ACCEPTED.iter().map(|(id, _)| *id).collect::<Vec<_>>().join(",");
    let output = checkov(&["-d", ".", "--framework", framework, "--skip-check", &skip], dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|err| {
        panic!("checkov output is not JSON ({err}): {stdout}\n{}", String::from_utf8_lossy(&output.stderr))
    });
    let summary = &report["summary"];
    assert_eq!(summary["parsing_errors"], 0, "checkov could not parse: {summary}");
    assert!(summary["passed"].as_i64().unwrap_or(0) > 0, "checkov evaluated nothing: {summary}");
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|it| format!("{} {} ({})", it["check_id"], it["check_name"], it["resource"]))
        .collect();
    assert!(failed.is_empty(), "checkov findings:\n{}", failed.join("\n"));
    assert!(output.status.success(), "checkov exited with {}", output.status);
}
