//! Every API version in bicep/ and marketplace/mainTemplate.json passes arm-ttk's age rule
//! (latest stable, or under 730 days old) against the repository's table of latest versions,
//! `tests/deploy-checks/api-versions.yaml`, whose review must itself be recent.

use std::collections::BTreeSet;

use deploy_checks::api_versions::{self, Table};
use deploy_checks::{bicep, repo};

/// Every `(file, type, version)` the Bicep files declare, `existing` references included.
fn bicep_versions() -> Vec<(String, String, String)> {
    let mut files = vec![repo::root().join("bicep/main.bicep")];
    let mut modules: Vec<_> =
        std::fs::read_dir(repo::root().join("bicep/modules")).unwrap().map(|it| it.unwrap().path()).collect();
    modules.sort();
    files.extend(modules);
    let mut out = Vec::new();
    for path in files {
        let file = bicep::parse_file(&path);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for resource in file.resources {
            out.push((name.clone(), resource.type_name, resource.api_version));
        }
    }
    out
}

/// Every `(place, type, version)` of the ARM template: resources and `reference()` calls.
fn arm_versions() -> Vec<(String, String, String)> {
    let template = repo::read_json("marketplace/mainTemplate.json");
    let mut out = Vec::new();
    for resource in template["resources"].as_array().unwrap() {
        let place = resource["comments"].as_str().unwrap_or("mainTemplate.json").to_string();
        out.push((
            place,
            resource["type"].as_str().unwrap().to_string(),
            resource["apiVersion"].as_str().unwrap().to_string(),
        ));
    }
    for (type_name, version) in api_versions::arm_reference_versions(&repo::read("marketplace/mainTemplate.json")) {
        out.push(("mainTemplate.json reference()".to_string(), type_name, version));
    }
    out
}

#[test]
fn every_api_version_is_the_latest_stable_or_under_730_days_old() {
    let table = Table::load();
    let today = api_versions::today();
    let mut failures = Vec::new();
    let all: Vec<_> = bicep_versions().into_iter().chain(arm_versions()).collect();
    assert!(all.len() > 60, "{} versions found", all.len());
    for (place, type_name, version) in &all {
        if let Err(reason) = table.check(type_name, version, today) {
            failures.push(format!("{place}: {reason}"));
        }
    }
    assert!(failures.is_empty(), "API versions arm-ttk would refuse:\n{}", failures.join("\n"));
}

#[test]
fn the_table_lists_only_types_the_deployment_uses() {
    let table = Table::load();
    let used: BTreeSet<String> = bicep_versions().into_iter().map(|(_, type_name, _)| type_name).collect();
    let listed: BTreeSet<String> = table.latest_stable.keys().cloned().collect();
    let unused: Vec<_> = listed.difference(&used).collect();
    assert!(unused.is_empty(), "{} lists types nothing deploys: {unused:?}", api_versions::TABLE_PATH);
    assert!(table.max_age_days == 730, "arm-ttk's limit is 730 days");
}

/// The check is not vacuous: the versions the Azure review refused fail it on the review's date.
#[test]
fn the_versions_the_review_refused_fail() {
    let table = Table::load();
    let review_day = api_versions::parse_date("2026-12-08").unwrap();
    for (type_name, version) in [
        ("Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31"),
        ("Microsoft.KeyVault/vaults", "2024-11-01"),
        ("Microsoft.KeyVault/vaults/secrets", "2024-11-01"),
    ] {
        assert!(table.check(type_name, version, review_day).is_err(), "{type_name}@{version} passes");
    }
}
