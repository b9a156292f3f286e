//! The GitHub Actions workflows (.github/workflows): they parse; CI runs the project's own entry
//! point; pull requests get a what-if per environment; main deploys dev, then test, then prod,
//! each in its GitHub environment (the approval rules live there); a schedule runs the drift
//! check. Their `run` steps that call az run for real against a recording `az` stand-in, which
//! answers what-if with a canned result: the drift check fails on a change and passes without.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use deploy_checks::{repo, tools};
use serde_json::Value;

const ENVIRONMENTS: [&str; 3] = ["dev", "test", "prod"];

fn workflow(name: &str) -> Value {
    let text = repo::read(&format!(".github/workflows/{name}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn steps(job: &Value) -> Vec<&Value> {
    job["steps"].as_array().map(|it| it.iter().collect()).unwrap_or_default()
}

/// The `run` scripts of a job's steps, in order.
fn runs(job: &Value) -> Vec<String> {
    steps(job).iter().filter_map(|it| it["run"].as_str().map(str::to_string)).collect()
}

#[test]
fn every_workflow_parses_and_every_step_runs_or_uses_something() {
    let dir = repo::root().join(".github/workflows");
    let mut names: Vec<String> =
        fs::read_dir(&dir).unwrap().map(|it| it.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["ci.yml", "deploy-environment.yml", "deploy.yml", "drift.yml"]);
    for name in &names {
        let file = workflow(name);
        // YAML 1.2 reading: `on` is a key, not the boolean true.
        assert!(file.get("on").is_some(), "{name}: no `on`");
        for (job_name, job) in file["jobs"].as_object().unwrap() {
            let uses_workflow = job.get("uses").is_some();
            assert!(uses_workflow || !steps(job).is_empty(), "{name}: {job_name} has no steps");
            for step in steps(job) {
                assert!(
                    step.get("run").is_some() != step.get("uses").is_some(),
                    "{name}: {job_name}: a step runs or uses, not both"
                );
            }
        }
    }
}

#[test]
fn ci_runs_the_projects_entry_point() {
    let ci = workflow("ci.yml");
    let job = &ci["jobs"]["build-and-test"];
    assert!(runs(job).iter().any(|it| it.contains("bash .ci/run")), "CI compiles and tests what .ci/run does");
    assert!(ci["on"].get("pull_request").is_some() && ci["on"].get("push").is_some());
}

#[test]
fn deploys_go_dev_then_test_then_prod_each_in_its_environment() {
    let deploy = workflow("deploy.yml");
    let jobs = &deploy["jobs"];
    let what_if = &jobs["what-if"];
    assert_eq!(what_if["if"], "github.event_name == 'pull_request'");
    assert_eq!(what_if["strategy"]["matrix"]["environment"], serde_json::json!(ENVIRONMENTS));
    assert!(runs(what_if).iter().any(|it| it.starts_with("infra/what-if.sh") && !it.contains("--fail-on-change")));
    let mut previous = "package";
    for environment in ENVIRONMENTS {
        let job = &jobs[format!("deploy-{environment}")];
        assert_eq!(job["needs"], previous, "deploy-{environment} waits for {previous}");
        assert_eq!(job["uses"], "./.github/workflows/deploy-environment.yml");
        assert_eq!(job["with"]["environment"], environment);
        previous = match environment {
            "dev" => "deploy-dev",
            "test" => "deploy-test",
            _ => "deploy-prod",
        };
    }
    assert_eq!(jobs["package"]["if"], "github.event_name == 'push'");
    assert!(runs(&jobs["package"]).iter().any(|it| it.contains("infra/deploy.sh --package-only")));
    let callee = workflow("deploy-environment.yml");
    let job = &callee["jobs"]["deploy"];
    // The GitHub environment carries the approval rule, the identity and the secrets.
    assert_eq!(job["environment"], "${{ inputs.environment }}");
    let scripts = runs(job);
    assert!(scripts[0].starts_with("infra/what-if.sh"), "what-if before every deploy");
    assert!(scripts[1].contains("infra/deploy.sh") && scripts[1].contains("--handler-binary"));
    assert_eq!(deploy["permissions"]["id-token"], "write", "OpenID Connect sign-in");
}

#[test]
fn drift_runs_on_a_schedule_against_every_environment() {
    let drift = workflow("drift.yml");
    assert!(drift["on"]["schedule"][0]["cron"].is_string());
    let job = &drift["jobs"]["drift"];
    assert_eq!(job["strategy"]["matrix"]["environment"], serde_json::json!(ENVIRONMENTS));
    assert!(runs(job).iter().any(|it| it.contains("--fail-on-change")));
}

/// A recording `az`: logs its arguments (tab-separated), answers what-if with `what_if_json`.
fn recording_az(dir: &Path, what_if_json: &str) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("az.log");
    let answer = dir.join("what-if.json");
    fs::write(&answer, what_if_json).unwrap();
    let script = format!(
        "#!/bin/bash\n( IFS=$'\\t'; echo \"$*\" ) >> '{}'\ncase \"$*\" in\n  \"deployment group what-if\"*) cat '{}' ;;\n  \
         *functionAppName*) echo func-switch ;;\n  *apimGatewayUrl*) echo https://apim-switch.azure-api.net ;;\n  \
         rest*) echo '{{\"status\":\"OK\"}}' ;;\nesac\nexit 0\n",
        log.display(),
        answer.display()
    );
    let az = bin.join("az");
    fs::write(&az, script).unwrap();
    fs::set_permissions(&az, fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

/// Runs one workflow `run` script from the repository root, as the runner would, with the job's
/// environment variables.
fn run_step(script: &str, bin: &Path, environment: &str) -> Output {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let runner_temp = bin.parent().unwrap().join("runner-temp");
    fs::create_dir_all(&runner_temp).unwrap();
    let envs = [
        ("PATH", path.as_str()),
        ("RUNNER_TEMP", runner_temp.to_str().unwrap()),
        ("LOCATION", "northeurope"),
        ("ENVIRONMENT", environment),
        ("RESOURCE_GROUP", "rg-switch"),
        ("MYSQL_ADMIN_PASSWORD", "Correct-Horse-42"),
        ("SCHEME_CA_CERTIFICATE", "TUlJQmZha2U="),
    ];
    tools::run("bash", &["-e", "-c", script], &repo::root(), &envs)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deploy-checks-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

const NO_CHANGE: &str = r#"{"status":"Succeeded","changes":[{"changeType":"NoChange","resourceId":"/x/vnet"},{"changeType":"Ignore","resourceId":"/x/other"}]}"#;
const DRIFTED: &str = r#"{"status":"Succeeded","changes":[{"changeType":"Modify","resourceId":"/x/mysql"},{"changeType":"NoChange","resourceId":"/x/vnet"}]}"#;

#[test]
fn the_what_if_steps_call_az_with_each_environments_parameters() {
    let deploy = workflow("deploy.yml");
    let script = runs(&deploy["jobs"]["what-if"]).into_iter().find(|it| it.contains("what-if.sh")).unwrap();
    let mut seen = BTreeSet::new();
    for environment in ENVIRONMENTS {
        let dir = scratch(&format!("what-if-{environment}"));
        let (bin, log) = recording_az(&dir, DRIFTED);
        let output = run_step(&script, &bin, environment);
        assert!(
            output.status.success(),
            "a pull request's what-if reports, it does not fail: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let calls: Vec<Vec<String>> =
            fs::read_to_string(&log).unwrap().lines().map(|it| it.split('\t').map(str::to_string).collect()).collect();
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        assert_eq!(call[..3], ["deployment", "group", "what-if"]);
        let parameters = call.iter().find(|it| it.starts_with('@')).unwrap();
        assert!(parameters.ends_with(&format!("bicep/environments/{environment}.parameters.json")), "{parameters}");
        assert!(repo::root().join(&parameters[1..]).is_file() || Path::new(&parameters[1..]).is_file(), "{parameters}");
        assert!(
            call.contains(&"rg-switch".to_string())
                && call.contains(&"mysqlAdminPassword=Correct-Horse-42".to_string())
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 change(s)"));
        seen.insert(environment);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn the_drift_check_fails_on_a_change_and_passes_without() {
    let drift = workflow("drift.yml");
    let script = runs(&drift["jobs"]["drift"]).into_iter().find(|it| it.contains("--fail-on-change")).unwrap();
    let dir = scratch("drift-changed");
    let (bin, _) = recording_az(&dir, DRIFTED);
    let output = run_step(&script, &bin, "prod");
    assert!(!output.status.success(), "a drifted environment must fail the run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Modify: /x/mysql") && stderr.contains("drifted"), "{stderr}");
    let dir = scratch("drift-clean");
    let (bin, _) = recording_az(&dir, NO_CHANGE);
    let output = run_step(&script, &bin, "prod");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("0 change(s)"));
}

#[test]
fn every_parameter_file_the_workflows_name_exists() {
    for environment in ENVIRONMENTS {
        assert!(
            repo::root().join(format!("bicep/environments/{environment}.parameters.json")).is_file(),
            "{environment}"
        );
    }
}

/// The deploy step, run as written: the scheme CA from its secret, infra/deploy.sh with the
/// handler the package job built; az calls in the order of a deployment, ending with the smoke
/// test.
#[test]
fn the_deploy_step_runs_the_deployment_with_the_prebuilt_handler() {
    let callee = workflow("deploy-environment.yml");
    let script = runs(&callee["jobs"]["deploy"]).into_iter().find(|it| it.contains("infra/deploy.sh")).unwrap();
    // The artifact the package job uploads, where download-artifact puts it.
    let prebuilt = repo::root().join("target/prebuilt/handler");
    fs::create_dir_all(prebuilt.parent().unwrap()).unwrap();
    fs::write(&prebuilt, b"#!/bin/sh\n").unwrap();
    let dir = scratch("deploy-step");
    let (bin, log) = recording_az(&dir, NO_CHANGE);
    let output = run_step(&script, &bin, "test");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let calls: Vec<String> = fs::read_to_string(&log).unwrap().lines().map(str::to_string).collect();
    let subcommands: Vec<String> = calls
        .iter()
        .map(|it| it.split('\t').take_while(|w| !w.starts_with('-')).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(subcommands.first().map(String::as_str), Some("account show"));
    assert!(
        subcommands.contains(&"deployment group create".to_string())
            && subcommands.last().map(String::as_str) == Some("rest"),
        "{subcommands:?}"
    );
    let create = calls.iter().find(|it| it.starts_with("deployment\tgroup\tcreate")).unwrap();
    assert!(
        create.contains("bicep/environments/test.parameters.json")
            && create.contains("schemeCaCertificate=TUlJQmZha2U="),
        "{create}"
    );
    assert!(dir.join("runner-temp/deploy/app.zip").is_file(), "the zip is built from the prebuilt handler");
}
