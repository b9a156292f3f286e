//! marketplace/mainTemplate.json is the Bicep by other means: same resources (one per Bicep
//! declaration, named in `comments`), types, API versions, loops, conditions, parameters,
//! outputs, app settings and inlined texts; it stays languageVersion 1.0; it keeps the arm-ttk
//! rules azure.md §4.3 names; createUiDefinition's outputs are its parameters; checkov passes.

use std::collections::{BTreeMap, BTreeSet};

use deploy_checks::bicep::{self, Expr};
use deploy_checks::{repo, tools};
use serde_json::Value;

const COMMENT_PREFIX: &str = "bicep: ";
/// Resource types whose location is `global`.
const GLOBAL_TYPES: [&str; 2] = ["Microsoft.Insights/actionGroups", "Microsoft.Insights/metricAlerts"];
/// Host names arm-ttk's DeploymentTemplate-Must-Not-Contain-Hardcoded-Uri refuses (a subset).
const HARD_CODED_HOSTS: [&str; 6] = [
    "core.windows.net",
    "management.azure.com",
    "login.microsoftonline.com",
    "vault.azure.net",
    "database.windows.net",
    "graph.windows.net",
];

fn template() -> Value {
    repo::read_json("marketplace/mainTemplate.json")
}

fn main_bicep() -> bicep::BicepFile {
    bicep::parse_file(&repo::root().join("bicep/main.bicep"))
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    declaration: String,
    type_name: String,
    api_version: String,
    looped: bool,
    conditional: bool,
}

#[test]
fn resources_are_those_of_the_bicep() {
    let from_bicep: BTreeSet<Shape> = bicep::deployed_resources(&repo::root().join("bicep/main.bicep"))
        .into_iter()
        .map(|it| Shape {
            declaration: format!("{}#{}", it.file, it.resource.symbol),
            type_name: it.resource.type_name,
            api_version: it.resource.api_version,
            looped: it.resource.looped,
            conditional: it.resource.conditional,
        })
        .collect();
    let template = template();
    let resources = template["resources"].as_array().expect("resources is an array (languageVersion 1.0)");
    let from_arm: BTreeSet<Shape> = resources
        .iter()
        .map(|it| Shape {
            declaration: it["comments"]
                .as_str()
                .and_then(|c| c.strip_prefix(COMMENT_PREFIX))
                .expect("comments names the declaration")
                .to_string(),
            type_name: it["type"].as_str().unwrap().to_string(),
            api_version: it["apiVersion"].as_str().unwrap().to_string(),
            looped: it.get("copy").is_some(),
            conditional: it.get("condition").is_some(),
        })
        .collect();
    assert_eq!(from_arm.len(), resources.len(), "two ARM resources name the same declaration");
    let only_bicep: Vec<_> = from_bicep.difference(&from_arm).collect();
    let only_arm: Vec<_> = from_arm.difference(&from_bicep).collect();
    assert!(only_bicep.is_empty() && only_arm.is_empty(), "only in Bicep: {only_bicep:#?}\nonly in ARM: {only_arm:#?}");
}

#[test]
fn parameters_are_those_of_main_bicep() {
    let main = main_bicep();
    let template = template();
    let arm = template["parameters"].as_object().unwrap();
    let names_bicep: Vec<&str> = main.params.iter().map(|it| it.name.as_str()).collect();
    let names_arm: Vec<&str> = arm.keys().map(String::as_str).collect();
    assert_eq!(names_arm, names_bicep, "same parameters in the same order");
    for param in &main.params {
        let entry = &arm[&param.name];
        let expected_type = if param.secure { format!("secure{}", param.type_name) } else { param.type_name.clone() };
        assert_eq!(entry["type"], Value::from(expected_type), "{}", param.name);
        let default = match &param.default {
            None => Value::Null,
            Some(Expr::Literal(value)) => value.clone(),
            Some(Expr::Expression(text)) => Value::from(format!("[{text}]")),
        };
        assert_eq!(entry.get("defaultValue").cloned().unwrap_or(Value::Null), default, "{} default", param.name);
        let bounds = [
            ("minValue", param.min_value),
            ("maxValue", param.max_value),
            ("minLength", param.min_length),
            ("maxLength", param.max_length),
        ];
        for (key, value) in bounds {
            assert_eq!(entry.get(key).and_then(Value::as_i64), value, "{} {key}", param.name);
        }
        assert_eq!(
            entry.get("allowedValues").cloned(),
            param.allowed.clone().map(Value::Array),
            "{} allowed",
            param.name
        );
        assert_eq!(
            entry["metadata"]["description"].as_str(),
            param.description.as_deref(),
            "{} description",
            param.name
        );
    }
}

#[test]
fn outputs_variables_settings_and_texts_match() {
    let main = main_bicep();
    let template = template();
    let outputs: Vec<(&str, &str)> = template["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v["type"].as_str().unwrap()))
        .collect();
    let expected: Vec<(&str, &str)> = main.outputs.iter().map(|it| (it.name.as_str(), it.type_name.as_str())).collect();
    assert_eq!(outputs, expected);
    // The hubs and consumer groups (held to the bindings by tests/bicep.rs).
    let Some(Expr::Literal(hubs)) = main.variable("eventHubs") else { panic!("eventHubs") };
    assert_eq!(&template["variables"]["eventHubs"], hubs);
    // App settings of the function app.
    let site =
        bicep::parse_file(&repo::root().join("bicep/modules/functionapp.bicep")).resource("site").cloned().unwrap();
    let arm_site = find(&template, "modules/functionapp.bicep#site");
    let arm_settings: Vec<&str> = arm_site["properties"]["siteConfig"]["appSettings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| it["name"].as_str().unwrap())
        .collect();
    assert_eq!(arm_settings, site.app_settings);
    // Texts Bicep loads with loadTextContent are inlined verbatim.
    let inlined = [
        ("modules/monitoring.bicep#workbook", "serializedData", "bicep/workbook/switch-workbook.json"),
        ("modules/apim.bicep#fspiopPolicy", "value", "bicep/policies/fspiop.xml"),
        ("modules/apim.bicep#adminPolicy", "value", "bicep/policies/operator-admin.xml"),
        ("modules/apim.bicep#settlementPolicy", "value", "bicep/policies/operator-settlement.xml"),
        ("modules/apim.bicep#healthPolicy", "value", "bicep/policies/health.xml"),
    ];
    for (declaration, key, file) in inlined {
        assert_eq!(
            find(&template, declaration)["properties"][key].as_str(),
            Some(repo::read(file).as_str()),
            "{declaration} inlines {file}"
        );
    }
}

fn find<'a>(template: &'a Value, declaration: &str) -> &'a Value {
    let comment = format!("{COMMENT_PREFIX}{declaration}");
    template["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|it| it["comments"] == comment.as_str())
        .unwrap_or_else(|| panic!("{declaration}"))
}

#[test]
fn the_template_is_language_version_1_and_keeps_arm_ttk_rules() {
    let template = template();
    let text = repo::read("marketplace/mainTemplate.json");
    assert!(template.get("languageVersion").is_none(), "Managed Applications accept only languageVersion 1.0");
    assert_eq!(template["$schema"], "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#");
    for (name, param) in template["parameters"].as_object().unwrap() {
        if param["type"] == "securestring" {
            assert!(param.get("defaultValue").is_none(), "{name}: secure parameters have no default");
        }
        if name.to_lowercase().contains("password") {
            assert_eq!(param["type"], "securestring", "{name}");
        }
        assert!(text.contains(&format!("parameters('{name}')")), "parameter {name} is never used");
    }
    for name in template["variables"].as_object().unwrap().keys() {
        assert!(text.contains(&format!("variables('{name}')")), "variable {name} is never used");
    }
    for resource in template["resources"].as_array().unwrap() {
        if let Some(location) = resource.get("location") {
            // Private DNS zones, action groups and metric alerts are global resources; arm-ttk
            // allows the literal `global`.
            let type_name = resource["type"].as_str().unwrap();
            let global_type =
                type_name.starts_with("Microsoft.Network/privateDnsZones") || GLOBAL_TYPES.contains(&type_name);
            let global = global_type && location == "global";
            assert!(global || location == "[parameters('location')]", "location is not hard-coded: {location}");
        }
    }
    let mut body = template.clone();
    body.as_object_mut().unwrap().remove("$schema");
    let body = body.to_string();
    for host in HARD_CODED_HOSTS {
        assert!(!body.contains(host), "hard-coded {host}");
    }
    let outputs = serde_json::to_string(&template["outputs"]).unwrap().to_lowercase();
    for secret in ["password", "secret", "connectionstring", "listkeys", "instrumentationkey"] {
        assert!(!outputs.contains(secret), "outputs may not carry secrets ({secret})");
    }
}

#[test]
fn create_ui_definition_outputs_are_template_parameters() {
    let definition = repo::read_json("marketplace/createUiDefinition.json");
    let template = template();
    let parameters = template["parameters"].as_object().unwrap();
    assert_eq!(definition["handler"], "Microsoft.Azure.CreateUIDef");
    assert_eq!(definition["version"], "0.1.2-preview");
    let outputs = definition["parameters"]["outputs"].as_object().unwrap();
    assert_eq!(outputs["location"], "[location()]", "Location-Should-Be-In-Outputs");
    for name in outputs.keys() {
        assert!(parameters.contains_key(name), "output {name} is not a template parameter");
    }
    for (name, param) in parameters {
        if param.get("defaultValue").is_none() {
            assert!(outputs.contains_key(name), "required parameter {name} is not asked for");
        }
    }
    // Every output reads an element that exists, and each element fits its parameter.
    let mut elements: BTreeMap<String, Value> = BTreeMap::new();
    for element in definition["parameters"]["basics"].as_array().unwrap() {
        elements.insert(format!("[basics('{}')]", element["name"].as_str().unwrap()), element.clone());
    }
    for step in definition["parameters"]["steps"].as_array().unwrap() {
        for element in step["elements"].as_array().unwrap() {
            elements.insert(
                format!("[steps('{}').{}]", step["name"].as_str().unwrap(), element["name"].as_str().unwrap()),
                element.clone(),
            );
        }
    }
    for (name, source) in outputs.iter().filter(|(name, _)| name.as_str() != "location") {
        let element =
            elements.get(source.as_str().unwrap()).unwrap_or_else(|| panic!("{name}: {source} is no element"));
        check_element(name, element, &parameters[name]);
    }
}

/// The arm-ttk createUiDefinition rules azure.md §4.3 lists, for one element.
fn check_element(name: &str, element: &Value, parameter: &Value) {
    assert!(element["toolTip"].as_str().is_some_and(|it| !it.is_empty()), "{name}: Tooltips-Should-Be-Present");
    let constraints = &element["constraints"];
    match element["type"].as_str().unwrap() {
        "Microsoft.Common.TextBox" => {
            assert!(
                constraints["regex"].is_string() && constraints["validationMessage"].is_string(),
                "{name}: Textboxes-Are-Well-Formed"
            );
        }
        "Microsoft.Common.PasswordBox" => {
            let min = parameter["minLength"].as_i64().expect("password parameter has minLength");
            assert!(
                constraints["regex"].as_str().unwrap().contains(&format!("{{{min},")),
                "{name}: PasswordBoxes-Must-Have-Min-Length"
            );
        }
        "Microsoft.Common.DropDown" | "Microsoft.Common.OptionsGroup" => {
            let values: Vec<&Value> =
                constraints["allowedValues"].as_array().unwrap().iter().map(|it| &it["value"]).collect();
            if let Some(allowed) = parameter["allowedValues"].as_array() {
                assert!(
                    values.iter().all(|it| allowed.contains(it)),
                    "{name}: Allowed-Values-Should-Actually-Be-Allowed"
                );
            }
            let labels: Vec<&Value> =
                constraints["allowedValues"].as_array().unwrap().iter().map(|it| &it["label"]).collect();
            assert!(labels.contains(&&element["defaultValue"]), "{name}: the default is one of the labels");
            for value in values {
                let kind = parameter["type"].as_str().unwrap();
                let fits = match kind {
                    "int" => value.is_i64(),
                    "bool" => value.is_boolean(),
                    _ => value.is_string(),
                };
                assert!(fits, "{name}: {value} is not a {kind}");
                if let (Some(n), Some(min)) = (value.as_i64(), parameter["minValue"].as_i64()) {
                    assert!(min <= n, "{name}: {n} below minValue");
                }
                if let (Some(n), Some(max)) = (value.as_i64(), parameter["maxValue"].as_i64()) {
                    assert!(n <= max, "{name}: {n} above maxValue");
                }
            }
        }
        "Microsoft.Common.FileUpload" => {
            assert_eq!(element["options"]["openMode"], "binary", "{name}: the certificate arrives as base64");
            assert_eq!(element["options"]["uploadMode"], "file", "{name}");
        }
        other => panic!("{name}: unexpected element type {other}"),
    }
}

#[test]
fn checkov_passes_the_arm_template_apart_from_accepted_findings() {
    tools::assert_checkov_clean(&repo::root().join("marketplace"), "arm");
}

/// The README's Deploy-to-Azure button opens this template with this wizard, and its cost table
/// says when its prices are from.
#[test]
fn the_readme_button_opens_the_template_and_its_wizard() {
    let readme = repo::read("README.md");
    let link = readme
        .split("(https://portal.azure.com/#create/Microsoft.Template/uri/")
        .nth(1)
        .expect("a Deploy to Azure button");
    let link = link.split(')').next().unwrap();
    let decoded = link.replace("%3A", ":").replace("%2F", "/");
    let (template, wizard) = decoded.split_once("/createUIDefinitionUri/").expect("the button names the wizard");
    assert!(template.ends_with("/main/marketplace/mainTemplate.json"), "{template}");
    assert!(wizard.ends_with("/main/marketplace/createUiDefinition.json"), "{wizard}");
    assert!(readme.contains("as of\n2026-12-08") || readme.contains("as of 2026-12-08"), "the cost table is dated");
}
