//! Checks of bicep/: it parses, stays within languageVersion 1.0, creates exactly the hubs and
//! consumer groups the function.json files name, gives the handler the app settings it reads, and passes checkov apart from accepted findings.

use std::collections::{BTreeMap, BTreeSet};

use deploy_checks::bicep::{self, Expr};
use deploy_checks::{repo, tools};
use serde_json::Value;
use switch_handler::bindings::{FunctionApp, Trigger, EVENT_HUBS_PER_NAMESPACE_MAX};

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
            assert!(
                path.parent().unwrap().join(loaded).is_file(),
                "{}: loadTextContent('{loaded}') is missing",
                path.display()
            );
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
    let on_disk: BTreeSet<String> = bicep_files()
        .iter()
        .skip(1)
        .map(|it| format!("modules/{}", it.file_name().unwrap().to_string_lossy()))
        .collect();
    assert_eq!(used, on_disk);
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
    assert!(
        source.contains("value: '@Microsoft.KeyVault(SecretUri=${ledgerMysqlUrlSecretUri})'"),
        "LEDGER_MYSQL_URL is a Key Vault reference"
    );
    assert!(source.contains("name: 'custom'"), "custom runtime");
    assert!(source.contains("tier: 'FlexConsumption'"), "Flex Consumption");
    // The handler accepts exactly `true`/`false`; ARM's string(true) is `True`.
    assert!(source.contains("enableOnUsTransfers ? 'true' : 'false'"));
    assert!(source.contains("sendTransferConfirmationToPayee ? 'true' : 'false'"));
    assert!(
        source.contains("keyVaultReferenceIdentity: identityId"),
        "Key Vault references resolve with the user-assigned identity"
    );
}

#[test]
fn roles_are_least_privilege_and_not_swapped() {
    let expectations = [
        ("eventhubs.bicep", "eventHubsDataReceiverRoleId", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"),
        ("eventhubs.bicep", "eventHubsDataSenderRoleId", "2b629674-e913-4c01-ae53-ef4638d8f975"),
        ("keyvault.bicep", "keyVaultSecretsUserRoleId", "4633458b-17de-408a-b874-0445c86b69e6"),
        ("storage.bicep", "storageBlobDataOwnerRoleId", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"),
        ("cosmos.bicep", "dataContributorRoleId", "00000000-0000-0000-0000-000000000002"),
        ("apim.bicep", "monitoringMetricsPublisherRoleId", "3913510d-42f4-4e42-8a64-420c390055eb"),
    ];
    let mut n_assignments = 0;
    for (file, variable, guid) in expectations {
        let module = bicep::parse_file(&repo::root().join("bicep/modules").join(file));
        assert_eq!(module.variable(variable), Some(&Expr::Literal(Value::from(guid))), "{file} {variable}");
        n_assignments += module.resources.iter().filter(|it| it.type_name.ends_with("roleAssignments")).count();
    }
    // Receiver + Sender, Secrets User, Blob Data Owner, Cosmos data contributor, and the gateway's
    // Monitoring Metrics Publisher on App Insights; nothing broader.
    assert_eq!(n_assignments, 5 + 1 + 1);
    let all = bicep_files().iter().map(|it| std::fs::read_to_string(it).unwrap()).collect::<String>();
    for owner_like in [
        "f526a384-b230-433a-b45c-95f59c4a2dec",
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
    ] {
        assert!(!all.contains(owner_like), "a broad role ({owner_like}) is assigned");
    }
}

/// The review's findings: no 0.0.0.0 MySQL rule, APIM's logger without an instrumentation key,
/// every data service's public access following privateNetworking, and the app in the network.
#[test]
fn network_access_follows_the_parameters() {
    let all = bicep_files().iter().map(|it| std::fs::read_to_string(it).unwrap()).collect::<String>();
    assert!(!all.contains("'0.0.0.0'"), "a 0.0.0.0 firewall rule admits every Azure subscription");
    let apim = repo::read("bicep/modules/apim.bicep");
    assert!(!apim.contains("instrumentationKey"), "ingestion by instrumentation key ended on 2025-03-31");
    assert!(
        apim.contains("connectionString: appInsightsConnectionString")
            && apim.contains("identityClientId: 'systemAssigned'")
    );
    for file in ["mysql.bicep", "storage.bicep", "eventhubs.bicep", "keyvault.bicep", "cosmos.bicep"] {
        let source = repo::read(&format!("bicep/modules/{file}"));
        assert!(source.contains("publicNetworkAccess: publicNetworkAccess"), "{file} ignores privateNetworking");
    }
    let main = repo::read("bicep/main.bicep");
    assert!(main.contains("var publicNetworkAccess = privateNetworking ? 'Disabled' : 'Enabled'"));
    assert!(main.contains("clientIpAddress: privateNetworking ? '' : mysqlClientIpAddress"));
    let network = bicep::parse_file(&repo::root().join("bicep/modules/network.bicep"));
    let Some(Expr::Expression(services)) = network.variable("serviceEndpoints").cloned() else {
        panic!("serviceEndpoints")
    };
    for (name, group) in [("cosmos", "Sql"), ("keyvault", "vault"), ("eventhubs", "namespace"), ("blob", "blob")] {
        assert!(
            services.contains(&format!("name: '{name}'\n    groupId: '{group}'")),
            "no private endpoint for {name}"
        );
    }
    for symbol in ["zones", "zoneLinks", "privateEndpoints", "zoneGroups"] {
        assert!(
            network.resource(symbol).unwrap_or_else(|| panic!("{symbol}")).looped,
            "{symbol} loops over the endpoints"
        );
    }
    let functions = repo::read("bicep/modules/functionapp.bicep");
    assert!(functions.contains("virtualNetworkSubnetId: subnetId"), "VNet integration");
    assert!(
        repo::read("bicep/modules/network.bicep").contains("serviceName: 'Microsoft.App/environments'"),
        "Flex needs this delegation"
    );
    let prod = repo::read_json("bicep/environments/prod.parameters.json");
    assert_eq!(prod["parameters"]["privateNetworking"]["value"], Value::Bool(true), "prod is private");
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

/// The environments, each with bicep/environments/<name>.parameters.json.
const ENVIRONMENTS: [&str; 3] = ["dev", "test", "prod"];

/// Parameters the deploy script passes on the command line instead of from the files.
const SCRIPT_PARAMETERS: [&str; 3] = ["mysqlAdminPassword", "schemeCaCertificate", "location"];

#[test]
fn parameter_files_fit_main_bicep() {
    let main = main_file();
    for environment in ENVIRONMENTS {
        let file = repo::read_json(&format!("bicep/environments/{environment}.parameters.json"));
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
    let prod = repo::read_json("bicep/environments/prod.parameters.json");
    assert_eq!(prod["parameters"]["mysqlZoneRedundantHa"]["value"], Value::Bool(true));
    assert!(
        prod["parameters"]["functionAlwaysReadyHttpInstances"]["value"].as_i64().unwrap() > 0,
        "no cold starts on the DFSP-facing functions"
    );
}

/// Flex Consumption's default memory quota per subscription and region, in MB (Microsoft's Flex
/// Consumption plan page, "Considerations"; a quota request raises it).
const FLEX_REGIONAL_MEMORY_QUOTA_MB: i64 = 512_000;

/// The three environments may share one subscription and region: at full scale together they
/// must stay within the default quota, and always-ready instances within each maximum.
#[test]
fn function_sizing_fits_the_default_flex_memory_quota() {
    let mut total_mb = 0;
    for environment in ENVIRONMENTS {
        let file = repo::read_json(&format!("bicep/environments/{environment}.parameters.json"));
        let parameters = &file["parameters"];
        let memory_mb = parameters["functionInstanceMemoryMB"]["value"].as_i64().unwrap();
        let instances_max = parameters["functionMaximumInstanceCount"]["value"].as_i64().unwrap();
        let always_ready = parameters["functionAlwaysReadyHttpInstances"]["value"].as_i64().unwrap();
        assert!(always_ready <= instances_max, "{environment}");
        total_mb += memory_mb * instances_max;
    }
    assert!(total_mb <= FLEX_REGIONAL_MEMORY_QUOTA_MB, "{total_mb} MB at full scale exceeds the default quota");
    let functions = repo::read("bicep/modules/functionapp.bicep");
    assert!(functions.contains("name: 'http'"), "always-ready applies to the HTTP group");
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
        "array" => assert!(
            value.as_array().is_some_and(|it| it.iter().all(Value::is_string)),
            "{at} is not an array of strings"
        ),
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

/// Every resource that has diagnostics sends them to Log Analytics, and the alerts query only
/// what the handler emits (functions/plumbing/src/telemetry.rs, functions/handler/src/app.rs).
#[test]
fn diagnostics_cover_every_service_and_alerts_read_emitted_telemetry() {
    let diagnostics = bicep::parse_file(&repo::root().join("bicep/modules/diagnostics.bicep"));
    let scoped: BTreeSet<String> =
        diagnostics.resources.iter().filter(|it| it.existing).map(|it| it.type_name.clone()).collect();
    let settings =
        diagnostics.resources.iter().filter(|it| it.type_name == "Microsoft.Insights/diagnosticSettings").count();
    assert_eq!(settings, scoped.len(), "one setting per resource");
    let deployed: BTreeSet<String> = bicep::deployed_resources(&repo::root().join("bicep/main.bicep"))
        .into_iter()
        .map(|it| it.resource.type_name)
        .collect();
    for type_name in [
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/blobServices",
        "Microsoft.EventHub/namespaces",
        "Microsoft.KeyVault/vaults",
        "Microsoft.DBforMySQL/flexibleServers",
        "Microsoft.DocumentDB/databaseAccounts",
        "Microsoft.Web/sites",
        "Microsoft.ApiManagement/service",
        "Microsoft.Network/virtualNetworks",
    ] {
        assert!(deployed.contains(type_name) && scoped.contains(type_name), "{type_name} has no diagnostic setting");
    }
    let alerts = repo::read("bicep/modules/alerts.bicep");
    let telemetry = repo::read("functions/plumbing/src/telemetry.rs");
    assert!(
        telemetry.contains("\"mojaloop-switch-handler\"")
            && alerts.contains("var roleName = 'mojaloop-switch-handler'")
    );
    assert!(
        telemetry.contains("n_dead_letters")
            && repo::read("functions/handler/src/app.rs").contains("\"function.notification\"")
    );
    for metric in [
        "'cpu_percent'",
        "'storage_percent'",
        "'ThrottledRequests'",
        "\"n_dead_letters\"",
        "success == false",
        "\"ndc_used_percent\"",
    ] {
        assert!(alerts.contains(metric), "alerts.bicep lost {metric}");
    }
    // The NDC alert reads the position function's metric, at the share the handler warns from.
    assert!(telemetry.contains(".u64_gauge(\"ndc_used_percent\")"), "telemetry.rs no longer records ndc_used_percent");
    assert!(telemetry.contains("pub const NDC_USED_WARNING_PERCENT: u64 = 90;"));
    assert!(alerts.contains("var ndcUsedPercentThreshold = 90"));
    let module = bicep::parse_file(&repo::root().join("bicep/modules/alerts.bicep"));
    let n_alerts = module
        .resources
        .iter()
        .filter(|it| it.type_name.ends_with("scheduledQueryRules") || it.type_name.ends_with("metricAlerts"))
        .count();
    assert_eq!(n_alerts, 6);
    assert_eq!(main_file().param("alertEmailAddresses").unwrap().type_name, "array", "receivers are a parameter");
}
