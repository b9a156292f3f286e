//! The deploy and packaging scripts, run for real against stand-ins: `infra/deploy.sh --dry-run`
//! prints every az command in order; with a recording `az` on PATH (a script that logs its
//! arguments and answers canned values) it runs them; the function zip has the flat layout the
//! host needs (azure.md §1.1); the Marketplace zip holds the two files at its root.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use deploy_checks::{repo, tools};
use switch_handler::bindings::FunctionApp;

const FUNCTION_APP: &str = "func-test";
const GATEWAY: &str = "https://apim-test.azure-api.net";
const PASSWORD: &str = "Correct-Horse-42";
/// Base64 of a fake DER certificate, as a PEM file carries it.
const CA_BASE64: &str = "TUlJQmZha2VDZXJ0aWZpY2F0ZQ==";
const HANDLER_BYTES: &[u8] = b"#!/bin/sh\necho not a real handler\n";
/// Unix permission bits the handler must keep in the zip (the host executes it directly).
const HANDLER_MODE: u32 = 0o755;

/// A scratch directory under the build's target folder, fresh per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deploy-checks-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let handler = dir.join("handler-prebuilt");
    fs::write(&handler, HANDLER_BYTES).unwrap();
    let ca = dir.join("scheme-ca.pem");
    fs::write(&ca, format!("-----BEGIN CERTIFICATE-----\n{CA_BASE64}\n-----END CERTIFICATE-----\n")).unwrap();
    (handler, ca)
}

fn deploy(dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Output {
    let (handler, ca) = inputs(dir);
    let out = dir.join("out");
    let script = repo::root().join("infra/deploy.sh");
    let mut args = vec![
        script.to_str().unwrap(),
        "--resource-group",
        "rg-test",
        "--location",
        "northeurope",
        "--environment",
        "dev",
        "--scheme-ca",
        ca.to_str().unwrap(),
        "--handler-binary",
        handler.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    tools::run("bash", &args, dir, envs)
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect()
}

/// The az subcommands (the words before the first option), in order.
fn subcommands(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| line.split(' ').skip(2).take_while(|word| !word.starts_with('-')).collect::<Vec<_>>().join(" "))
        .collect()
}

const EXPECTED_SUBCOMMANDS: [&str; 8] = [
    "account show",
    "group create",
    "deployment group create",
    "deployment group show",
    "deployment group show",
    "functionapp deployment source config-zip",
    "functionapp function list",
    "rest",
];

#[test]
fn dry_run_prints_every_az_command_in_order_and_runs_none() {
    let dir = scratch("dry-run");
    // An `az` that fails if called at all.
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    write_script(&bin.join("az"), "#!/bin/sh\necho called >&2\nexit 97\n");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = deploy(&dir, &["--dry-run"], &[("PATH", &path)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = stdout_lines(&output);
    assert!(lines.iter().all(|it| it.starts_with("+ az ")), "{lines:#?}");
    assert_eq!(subcommands(&lines), EXPECTED_SUBCOMMANDS);
    let create = &lines[2];
    assert!(create.contains("--template-file ") && create.contains("bicep/main.bicep"), "{create}");
    assert!(create.contains("bicep/environments/dev.parameters.json"), "{create}");
    assert!(create.contains(&format!("schemeCaCertificate={CA_BASE64}")), "PEM body passed as base64 DER: {create}");
    assert!(create.contains("location=northeurope"), "{create}");
    assert!(lines[5].contains(&format!("--src {}", dir.join("out/app.zip").display())), "{}", lines[5]);
    assert!(lines[7].contains("/health") && lines[7].contains("--skip-authorization-header"), "{}", lines[7]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("called"), "dry run called az");
    check_function_zip(&dir.join("out/app.zip"));
}

#[test]
fn dry_run_without_a_binary_prints_the_musl_build() {
    let dir = scratch("dry-run-build");
    let (_, ca) = inputs(&dir);
    let script = repo::root().join("infra/deploy.sh");
    let args = [
        script.to_str().unwrap(),
        "--resource-group",
        "rg",
        "--environment",
        "prod",
        "--scheme-ca",
        ca.to_str().unwrap(),
        "--dry-run",
    ];
    let output = tools::run("bash", &args, &dir, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = stdout_lines(&output);
    let build = lines.iter().find(|it| it.starts_with("+ cargo build")).expect("the build is printed");
    for part in [
        "--release",
        "--locked",
        "-p handler",
        "--target x86_64-unknown-linux-musl",
        "--features handler/vendored-openssl",
    ] {
        assert!(build.contains(part), "{build} lacks {part}");
    }
    assert!(lines.iter().any(|it| it.contains("prod.parameters.json")));
}

/// A recording stand-in for `az`: logs one line per call (arguments separated by tabs) and
/// answers what the script asks for.
fn recording_az(bin: &Path, log: &Path, health_body: &str) {
    let script = format!(
        r#"#!/bin/bash
( IFS=$'\t'; echo "$*" ) >> '{log}'
case "$*" in
  *functionAppName*) echo '{FUNCTION_APP}' ;;
  *apimGatewayUrl*) echo '{GATEWAY}' ;;
  "functionapp function list"*) printf 'prepare\nposition\n' ;;
  rest*) echo '{health_body}' ;;
esac
exit 0
"#,
        log = log.display()
    );
    write_script(&bin.join("az"), &script);
}

fn write_script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_real_run_calls_az_with_the_deployment_and_the_package() {
    let dir = scratch("recorded");
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("az.log");
    recording_az(&bin, &log, r#"{"status":"OK"}"#);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = deploy(&dir, &[], &[("PATH", &path), ("MYSQL_ADMIN_PASSWORD", PASSWORD)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let calls: Vec<Vec<String>> =
        fs::read_to_string(&log).unwrap().lines().map(|it| it.split('\t').map(str::to_string).collect()).collect();
    let lines: Vec<String> = calls.iter().map(|it| format!("+ az {}", it.join(" "))).collect();
    assert_eq!(subcommands(&lines), EXPECTED_SUBCOMMANDS);
    let create = &calls[2];
    assert!(create.contains(&format!("mysqlAdminPassword={PASSWORD}")), "{create:?}");
    assert!(create.contains(&"--resource-group".to_string()) && create.contains(&"rg-test".to_string()));
    let zip_deploy = &calls[5];
    assert_eq!(value_after(zip_deploy, "--name"), FUNCTION_APP);
    assert_eq!(value_after(zip_deploy, "--src"), dir.join("out/app.zip").to_str().unwrap());
    assert_eq!(value_after(&calls[7], "--url"), format!("{GATEWAY}/health"));
    check_function_zip(&dir.join("out/app.zip"));
}

fn value_after<'a>(args: &'a [String], option: &str) -> &'a str {
    let at = args.iter().position(|it| it == option).unwrap_or_else(|| panic!("{option} missing in {args:?}"));
    &args[at + 1]
}

#[test]
fn a_failing_smoke_test_fails_the_deployment() {
    let dir = scratch("unhealthy");
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("az.log");
    recording_az(&bin, &log, "upstream connect error");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let envs = [
        ("PATH", path.as_str()),
        ("MYSQL_ADMIN_PASSWORD", PASSWORD),
        ("DEPLOY_HEALTH_ATTEMPTS_MAX", "2"),
        ("DEPLOY_HEALTH_RETRY_DELAY_S", "0"),
    ];
    let output = deploy(&dir, &[], &envs);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("never answered"));
    let n_rest = fs::read_to_string(&log).unwrap().lines().filter(|it| it.starts_with("rest")).count();
    assert_eq!(n_rest, 2);
}

#[test]
fn missing_inputs_are_refused_before_any_az_call() {
    let dir = scratch("refused");
    let script = repo::root().join("infra/deploy.sh");
    let script = script.to_str().unwrap();
    let cases: [&[&str]; 3] = [
        &[script, "--environment", "dev", "--scheme-ca", "x"],
        &[script, "--resource-group", "rg", "--environment", "staging", "--scheme-ca", "x"],
        &[script, "--resource-group", "rg", "--environment", "dev"],
    ];
    for args in cases {
        let output = tools::run("bash", args, &dir, &[]);
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(output.stdout.is_empty(), "{args:?} printed commands");
    }
    let (handler, ca) = inputs(&dir);
    let no_password = [
        script,
        "--resource-group",
        "rg",
        "--environment",
        "dev",
        "--scheme-ca",
        ca.to_str().unwrap(),
        "--handler-binary",
        handler.to_str().unwrap(),
    ];
    let output = tools::run("bash", &no_password, &dir, &[("MYSQL_ADMIN_PASSWORD", "")]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("MYSQL_ADMIN_PASSWORD"));
}

/// The zip reads like the host's app root: host.json and handler at the root, one folder per
/// function with its function.json, nothing else; the handler executable; the files unchanged.
fn check_function_zip(path: &Path) {
    let app = FunctionApp::load(&repo::root()).expect("bindings");
    let mut archive = zip::ZipArchive::new(fs::File::open(path).expect("zip exists")).expect("a zip");
    let mut expected: BTreeSet<String> =
        ["host.json".to_string(), "handler".to_string(), "mysql-ca.pem".to_string()].into();
    expected.extend(app.functions.iter().map(|it| format!("{}/function.json", it.name)));
    let names: BTreeSet<String> = zip_names(&mut archive).into_iter().filter(|it| !it.ends_with('/')).collect();
    assert_eq!(names, expected);
    let unpacked = path.with_extension("unpacked");
    let _ = fs::remove_dir_all(&unpacked);
    for name in &expected {
        let mut entry = archive.by_name(name).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        let source = match name.as_str() {
            "handler" => {
                assert_eq!(entry.unix_mode().map(|it| it & 0o777), Some(HANDLER_MODE), "handler keeps its run bit");
                HANDLER_BYTES.to_vec()
            }
            "host.json" => fs::read(repo::root().join("host.json")).unwrap(),
            "mysql-ca.pem" => fs::read(repo::root().join("infra/mysql-ca.pem")).unwrap(),
            other => fs::read(repo::root().join("functions/bindings").join(other)).unwrap(),
        };
        assert_eq!(bytes, source, "{name} is copied unchanged");
        let target = unpacked.join(name);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, bytes).unwrap();
    }
    // The host's reading of the unpacked zip is the repository's reading.
    assert_eq!(FunctionApp::load_package(&unpacked).expect("package loads"), app);
}

#[test]
fn the_marketplace_package_holds_the_two_files_at_its_root() {
    let dir = scratch("marketplace");
    let script = repo::root().join("marketplace/package.sh");
    let output = tools::run("bash", &[script.to_str().unwrap(), "--out", dir.to_str().unwrap()], &dir, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut archive = zip::ZipArchive::new(fs::File::open(dir.join("marketplace.zip")).unwrap()).unwrap();
    let names = zip_names(&mut archive);
    assert_eq!(names, ["mainTemplate.json", "createUiDefinition.json"]);
    for name in names {
        let mut text = String::new();
        archive.by_name(&name).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, repo::read(&format!("marketplace/{name}")));
    }
}

/// Entry names in archive order.
fn zip_names(archive: &mut zip::ZipArchive<fs::File>) -> Vec<String> {
    (0..archive.len())
        .map(|index| archive.by_index(index).expect("entry").name().expect("UTF-8 name").to_string())
        .collect()
}
