//! Checks of bicep/: it parses, stays within languageVersion 1.0, uses the API versions of
//! azure.md §3.1, creates exactly the hubs and consumer groups the function.json files name,
//! gives the handler the app settings it reads, and passes checkov apart from accepted findings.

use std::collections::{BTreeMap, BTreeSet};

use deploy_checks::bicep::{self, Expr};
use deploy_checks::{repo, tools};
use serde_json::Value;
use switch_handler::bindings::{FunctionApp, Trigger, EVENT_HUBS_PER_NAMESPACE_MAX};

/// The API version to use per resource type (azure.md §3.1 "Use" column; the managed identity is
/// not in that table: 2023-01-31 is its long-standing GA version).
const API_VERSIONS: [(&str, &str); 12] = [
    ("Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31"),
    ("Microsoft.Storage/", "2025-06-01"),
    ("Microsoft.Web/", "2025-03-01"),
    ("Microsoft.EventHub/", "2026-01-01"),
    ("Microsoft.DBforMySQL/", "2024-12-30"),
    ("Microsoft.DocumentDB/", "2025-04-15"),
    ("Microsoft.KeyVault/", "2024-11-01"),
    ("Microsoft.OperationalInsights/workspaces", "2025-02-01"),
    ("Microsoft.Insights/components", "2020-02-02"),
    ("Microsoft.Insights/workbooks", "2023-06-01"),
    ("Microsoft.ApiManagement/", "2024-05-01"),
    ("Microsoft.Authorization/roleAssignments", "2022-04-01"),
];

/// Partitions per hub on Standard (azure.md §2.1).
const STANDARD_PARTITIONS_MAX: i64 = 32;
/// Retention on Standard, in days (azure.md §2.1).
const STANDARD_RETENTION_DAYS_MAX: i64 = 7;

/// The app settings the function app must carry, and where each is read.
const APP_SETTINGS: [(&str, &str); 18] = [
    ("AzureWebJobsStorage__accountName", "host"),
    ("AzureWebJobsStorage__credential", "host"),
    ("AzureWebJobsStorage__clientId", "host"),
    ("APPLICATIONINSIGHTS_CONNECTION_STRING", "functions/plumbing/src/telemetry.rs"),
    ("EventHubConnection__fullyQualifiedNamespace", "host"),
    ("EventHubConnection__credential", "host"),
    ("EventHubConnection__clientId", "host"),
    ("EVENTHUB_NAMESPACE", "functions/plumbing/src/publish.rs"),
    ("AZURE_CLIENT_ID", "functions/plumbing/src/publish.rs"),
    ("LEDGER_MYSQL_URL", "functions/handler/src/process.rs"),
    ("LEDGER_MYSQL_CA", "functions/handler/src/process.rs"),
    ("COSMOS_ENDPOINT", "journal"),
    ("COSMOS_DATABASE", "journal"),
    ("COSMOS_CONTAINER", "journal"),
    ("KEYVAULT_URI", "jws"),
    ("ENABLE_ON_US_TRANSFERS", "functions/handler/src/process.rs"),
    ("SEND_TRANSFER_CONFIRMATION_TO_PAYEE", "functions/handler/src/process.rs"),
    ("CALLBACK_CONTENT_VERSION", "functions/handler/src/process.rs"),
];

/// Settings Flex Consumption refuses or ignores (azure.md §1.11).
const FLEX_FORBIDDEN_SETTINGS: [&str; 3] = ["FUNCTIONS_WORKER_RUNTIME", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENT"];


fn main_file() -> bicep::BicepFile {
    bicep::parse_file(&repo::root().join("bicep/main.bicep"))
}

fn bicep_files() -> Vec<std::path::PathBuf> {
    let root = repo::root().join("bicep");
    let mut files = vec![root.join("main.bicep")];
    let mut modules: Vec<_> = std::fs::read_dir(root.join("modules")).unwrap().map(|it| it.unwrap().path()).collect();
    modules.sort();
    files.extend(modules);
    files
}

#[test]
fn every_bicep_file_parses_and_stays_within_language_version_1() {
    let files = bicep_files();
    assert!(files.len() > 8, "main.bicep and its modules: {files:?}");
    for path in files {
        let file = bicep::parse_file(&path);
        assert!(file.syntax_errors.is_empty(), "{}: syntax errors at {:?}", path.display(), file.syntax_errors);
        assert!(file.version_2_reasons.is_empty(), "{}: {:?}", path.display(), file.version_2_reasons);
        for loaded in &file.loaded_texts {
            assert!(path.parent().unwrap().join(loaded).is_file(), "{}: loadTextContent('{loaded}') is missing", path.display());
        }
    }
}

#[test]
fn every_module_file_is_used_and_every_module_exists() {
    let root = repo::root().join("bicep");
    let used: BTreeSet<String> = main_file().modules.iter().map(|it| it.path.clone()).collect();
    for module in &used {
        assert!(root.join(module).is_file(), "module {module} missing");
    }
    let on_disk: BTreeSet<String> = bicep_files().iter().skip(1).map(|it| format!("modules/{}", it.file_name().unwrap().to_string_lossy())).collect();
    assert_eq!(used, on_disk);
}

#[test]
fn api_versions_are_the_ones_azure_md_gives() {
    let resources = bicep::deployed_resources(&repo::root().join("bicep/main.bicep"));
    assert!(resources.len() > 40, "{} resources", resources.len());
    for deployed in &resources {
        let resource = &deployed.resource;
        let expected = API_VERSIONS.iter().find(|(prefix, _)| resource.type_name.starts_with(prefix));
        let Some((_, version)) = expected else { panic!("{}: {} has no agreed API version", deployed.file, resource.type_name) };
        assert_eq!(&resource.api_version, version, "{}: {}", deployed.file, resource.symbol);
    }
}

/// Hub name → consumer groups, as the Event Hubs triggers name them.
fn hubs_of_bindings() -> BTreeMap<String, BTreeSet<String>> {
    let app = FunctionApp::load(&repo::root()).expect("bindings load");
    let mut hubs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for function in &app.functions {
        if let Trigger::EventHub { hub, consumer_group, .. } = &function.trigger {
            let group = consumer_group.clone().expect("every trigger names its consumer group");
            hubs.entry(hub.clone()).or_default().insert(group);
        }
    }
    assert_eq!(hubs.keys().map(String::as_str).collect::<Vec<_>>(), app.event_hubs());
    hubs
}

#[test]
fn hubs_and_consumer_groups_are_exactly_those_of_the_bindings() {
    let Some(Expr::Literal(Value::Array(hubs))) = main_file().variable("eventHubs").cloned() else {
        panic!("main.bicep must declare `eventHubs` as a literal array");
    };
    let mut declared: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for hub in &hubs {
        let name = hub["name"].as_str().expect("hub name").to_string();
        let group = hub["consumerGroup"].as_str().expect("consumer group").to_string();
        assert!(declared.insert(name.clone(), BTreeSet::from([group])).is_none(), "hub {name} declared twice");
    }
    assert_eq!(declared, hubs_of_bindings());
    assert!(declared.len() <= EVENT_HUBS_PER_NAMESPACE_MAX, "{} hubs exceed a Standard namespace", declared.len());
    // The module creates one hub and one consumer group per entry, by loop.
    let module = bicep::parse_file(&repo::root().join("bicep/modules/eventhubs.bicep"));
    for symbol in ["hubs", "consumerGroups"] {
        assert!(module.resource(symbol).expect(symbol).looped, "{symbol} loops over eventHubs");
    }
}

#[test]
fn event_hubs_limits_fit_the_standard_tier() {
    let main = main_file();
    let partitions = main.param("eventHubsPartitionCount").unwrap();
    assert_eq!(partitions.max_value, Some(STANDARD_PARTITIONS_MAX));
    assert_eq!(main.param("eventHubsRetentionDays").unwrap().max_value, Some(STANDARD_RETENTION_DAYS_MAX));
    assert_eq!(main.param("eventHubsSku").unwrap().default, Some(Expr::Literal(Value::from("Standard"))));
}

#[test]
fn the_function_app_gets_the_settings_the_handler_reads() {
    let module = bicep::parse_file(&repo::root().join("bicep/modules/functionapp.bicep"));
    let site = module.resource("site").expect("site");
    let settings: BTreeSet<&str> = site.app_settings.iter().map(String::as_str).collect();
    let expected: BTreeSet<&str> = APP_SETTINGS.iter().map(|(name, _)| *name).collect();
    assert_eq!(settings, expected);
    for (name, reader) in APP_SETTINGS {
        if reader.ends_with(".rs") {
            assert!(repo::read(reader).contains(&format!("\"{name}\"")), "{reader} no longer reads {name}");
        }
    }
    for forbidden in FLEX_FORBIDDEN_SETTINGS {
        assert!(settings.iter().all(|it| !it.starts_with(forbidden)), "{forbidden} must not be set on Flex");
    }
    let source = repo::read("bicep/modules/functionapp.bicep");
    assert!(source.contains("value: '@Microsoft.KeyVault(SecretUri=${ledgerMysqlUrlSecretUri})'"), "LEDGER_MYSQL_URL is a Key Vault reference");
    assert!(source.contains("name: 'custom'"), "custom runtime");
    assert!(source.contains("tier: 'FlexConsumption'"), "Flex Consumption");
    // The handler accepts exactly `true`/`false`; ARM's string(true) is `True`.
    assert!(source.contains("enableOnUsTransfers ? 'true' : 'false'"));
    assert!(source.contains("sendTransferConfirmationToPayee ? 'true' : 'false'"));
    assert!(source.contains("keyVaultReferenceIdentity: identityId"), "Key Vault references resolve with the user-assigned identity");
}

#[test]
fn roles_are_least_privilege_and_not_swapped() {
    let expectations = [
        ("eventhubs.bicep", "eventHubsDataReceiverRoleId", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"),
        ("eventhubs.bicep", "eventHubsDataSenderRoleId", "2b629674-e913-4c01-ae53-ef4638d8f975"),
        ("keyvault.bicep", "keyVaultSecretsUserRoleId", "4633458b-17de-408a-b874-0445c86b69e6"),
        ("storage.bicep", "storageBlobDataOwnerRoleId", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"),
        ("cosmos.bicep", "dataContributorRoleId", "00000000-0000-0000-0000-000000000002"),
    ];
    let mut n_assignments = 0;
    for (file, variable, guid) in expectations {
        let module = bicep::parse_file(&repo::root().join("bicep/modules").join(file));
        assert_eq!(module.variable(variable), Some(&Expr::Literal(Value::from(guid))), "{file} {variable}");
        n_assignments += module.resources.iter().filter(|it| it.type_name.ends_with("roleAssignments")).count();
    }
    // Receiver + Sender, Secrets User, Blob Data Owner, Cosmos data contributor; nothing broader.
    assert_eq!(n_assignments, 5 + 1);
    let all = bicep_files().iter().map(|it| std::fs::read_to_string(it).unwrap()).collect::<String>();
    for owner_like in ["f526a384-b230-433a-b45c-95f59c4a2dec", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c"] {
        assert!(!all.contains(owner_like), "a broad role ({owner_like}) is assigned");
    }
}

#[test]
fn data_stores_are_configured_as_required() {
    let mysql = repo::read("bicep/modules/mysql.bicep");
    assert!(mysql.contains("name: 'require_secure_transport'") && mysql.contains("value: 'ON'"));
    assert!(mysql.contains("mode: zoneRedundantHa ? 'ZoneRedundant' : 'Disabled'"));
    let cosmos = repo::read("bicep/modules/cosmos.bicep");
    assert!(cosmos.contains("'/transferId'"), "journal partition key");
    assert!(cosmos.contains("disableLocalAuth: true"));
    let vault = repo::read("bicep/modules/keyvault.bicep");
    assert!(vault.contains("enableRbacAuthorization: true"));
    let monitoring = repo::read("bicep/modules/monitoring.bicep");
    assert!(monitoring.contains("DisableLocalAuth: false"), "the Rust exporter needs ikey ingestion");
    let main = main_file();
    assert!(main.param("mysqlAdminPassword").unwrap().secure);
    assert_eq!(main.param("mysqlAdminPassword").unwrap().default, None);
}

/// Parameters the deploy script passes on the command line instead of from the files.
const SCRIPT_PARAMETERS: [&str; 3] = ["mysqlAdminPassword", "schemeCaCertificate", "location"];

#[test]
fn parameter_files_fit_main_bicep() {
    let main = main_file();
    for environment in ["dev", "prod"] {
        let file = repo::read_json(&format!("bicep/parameters/{environment}.parameters.json"));
        let values = file["parameters"].as_object().expect("parameters");
        for (name, entry) in values {
            let param = main.param(name).unwrap_or_else(|| panic!("{environment}: {name} is not a parameter"));
            check_value(environment, param, &entry["value"]);
        }
        for param in main.params.iter().filter(|it| it.default.is_none()) {
            let supplied = values.contains_key(&param.name) || SCRIPT_PARAMETERS.contains(&param.name.as_str());
            assert!(supplied, "{environment}: required parameter {} has no value", param.name);
        }
        // Zone-redundant HA does not exist on Burstable servers.
        if values["mysqlZoneRedundantHa"]["value"] == Value::Bool(true) {
            assert_ne!(values["mysqlSkuTier"]["value"], "Burstable", "{environment}");
        }
    }
    let prod = repo::read_json("bicep/parameters/prod.parameters.json");
    assert_eq!(prod["parameters"]["mysqlZoneRedundantHa"]["value"], Value::Bool(true));
}

fn check_value(environment: &str, param: &bicep::Param, value: &Value) {
    let at = format!("{environment}: {}", param.name);
    match param.type_name.as_str() {
        "int" => {
            let n = value.as_i64().unwrap_or_else(|| panic!("{at} is not an int"));
            assert!(param.min_value.is_none_or(|min| min <= n), "{at} below minimum");
            assert!(param.max_value.is_none_or(|max| n <= max), "{at} above maximum");
        }
        "bool" => assert!(value.is_boolean(), "{at} is not a bool"),
        "string" => {
            let text = value.as_str().unwrap_or_else(|| panic!("{at} is not a string"));
            assert!(param.min_length.is_none_or(|min| min as usize <= text.len()), "{at} too short");
            assert!(param.max_length.is_none_or(|max| text.len() <= max as usize), "{at} too long");
        }
        other => panic!("{at}: unexpected type {other}"),
    }
    if let Some(allowed) = &param.allowed {
        assert!(allowed.contains(value), "{at}: {value} not allowed");
    }
}

#[test]
fn checkov_passes_the_bicep_apart_from_accepted_findings() {
    tools::assert_checkov_clean(&repo::root().join("bicep"), "bicep");
}
