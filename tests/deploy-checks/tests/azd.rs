//! azure.yaml (`azd up`): it parses; it provisions bicep/main.bicep with parameters that are
//! main.bicep's and cover every required one; its service deploys the folder its prepackage hook
//! fills; and the hook, run as written (with a prebuilt binary instead of the musl build), packages
//! the app without calling az.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use deploy_checks::{bicep, repo, tools};
use serde_json::Value;

fn azure_yaml() -> Value {
    serde_yaml_ng::from_str(&repo::read("azure.yaml")).expect("azure.yaml is YAML")
}

#[test]
fn azure_yaml_provisions_the_bicep_and_deploys_the_hooks_package() {
    let config = azure_yaml();
    assert_eq!(config["infra"]["provider"], "bicep");
    let main = repo::root()
        .join(config["infra"]["path"].as_str().unwrap())
        .join(format!("{}.bicep", config["infra"]["module"].as_str().unwrap()));
    assert!(main.is_file(), "{}", main.display());
    let service = &config["services"]["switch"];
    assert_eq!(service["host"], "function");
    // azd builds nothing for `custom` and deploys the folder as is.
    assert_eq!(service["language"], "custom");
    assert_eq!(service["remoteBuild"], false);
    let hook = config["hooks"]["prepackage"]["run"].as_str().expect("a prepackage hook");
    assert!(hook.starts_with("./infra/deploy.sh --package-only"), "{hook}");
    let out = hook.split_whitespace().skip_while(|it| *it != "--out").nth(1).expect("--out");
    assert_eq!(
        service["project"].as_str().unwrap(),
        format!("{out}/package"),
        "the service deploys what the hook builds"
    );
    // azd finds the app by this tag.
    assert!(repo::read("bicep/modules/functionapp.bicep").contains("'azd-service-name': 'switch'"));
}

#[test]
fn azd_parameters_are_main_bicep_parameters_and_cover_the_required_ones() {
    let main = bicep::parse_file(&repo::root().join("bicep/main.bicep"));
    let file = repo::read_json("bicep/main.parameters.json");
    let values = file["parameters"].as_object().unwrap();
    for name in values.keys() {
        assert!(main.param(name).is_some(), "{name} is not a parameter of main.bicep");
    }
    for param in main.params.iter().filter(|it| it.default.is_none()) {
        assert!(values.contains_key(&param.name), "azd would prompt for {}", param.name);
    }
    // Secrets come from the azd environment, never from the file.
    assert_eq!(values["mysqlAdminPassword"]["value"], "${MYSQL_ADMIN_PASSWORD}");
}

#[test]
fn the_prepackage_hook_packages_without_az() {
    let dir = std::env::temp_dir().join(format!("deploy-checks-{}-azd", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let az = bin.join("az");
    fs::write(&az, "#!/bin/sh\necho az called >&2\nexit 97\n").unwrap();
    fs::set_permissions(&az, fs::Permissions::from_mode(0o755)).unwrap();
    let handler = dir.join("handler-prebuilt");
    fs::write(&handler, b"#!/bin/sh\n").unwrap();
    let config = azure_yaml();
    let hook = config["hooks"]["prepackage"]["run"].as_str().unwrap();
    let out = dir.join("out");
    // The hook's words, then a prebuilt binary (no musl build here) and a scratch output folder:
    // the script takes the last value of a repeated option.
    let mut args: Vec<String> = hook.split_whitespace().map(str::to_string).collect();
    args.extend(["--handler-binary".into(), handler.display().to_string(), "--out".into(), out.display().to_string()]);
    let script = args.remove(0);
    let mut all = vec![script.as_str()];
    all.extend(args.iter().map(String::as_str));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = tools::run("bash", &all, &repo::root(), &[("PATH", &path)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!String::from_utf8_lossy(&output.stderr).contains("az called"));
    let package = out.join("package");
    for file in ["host.json", "handler", "mysql-ca.pem"] {
        assert!(package.join(file).is_file(), "{file} missing from {}", package.display());
    }
    assert!(out.join("app.zip").is_file());
    assert_eq!(
        fs::read(package.join("mysql-ca.pem")).unwrap(),
        fs::read(repo::root().join("infra/mysql-ca.pem")).unwrap()
    );
    assert!(Path::new(&repo::root().join("infra/mysql-ca.pem")).is_file());
    let pem = repo::read("infra/mysql-ca.pem");
    assert_eq!(
        pem.matches("-----BEGIN CERTIFICATE-----").count(),
        3,
        "DigiCert Global Root G2, Microsoft RSA Root 2017, DigiCert Global Root CA"
    );
}
