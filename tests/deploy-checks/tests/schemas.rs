//! The Marketplace files validate against the ARM JSON schemas (offline copies), and the
//! validators are not vacuous: a broken copy of each file is refused.

use deploy_checks::{repo, schemas};
use serde_json::json;

#[test]
fn main_template_validates_against_the_deployment_template_schema() {
    let validator = schemas::deployment_template();
    let template = repo::read_json("marketplace/mainTemplate.json");
    let errors = schemas::errors(&validator, &template);
    assert!(errors.is_empty(), "mainTemplate.json:\n{}", errors.join("\n"));
    let mut broken = template.clone();
    broken["resources"][0]["apiVersion"] = json!(20230131);
    broken["parameters"]["prefix"]["type"] = json!("text");
    assert!(schemas::errors(&validator, &broken).len() >= 2, "the validator accepts a broken template");
}

#[test]
fn parameter_files_validate_as_deployment_parameters() {
    for environment in ["dev", "test", "prod"] {
        let file = repo::read_json(&format!("bicep/environments/{environment}.parameters.json"));
        assert_eq!(
            file["$schema"],
            "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
        );
        assert_eq!(file["contentVersion"], "1.0.0.0");
        let parameters = file["parameters"].as_object().expect("parameters");
        assert!(parameters
            .values()
            .all(|it| it.as_object().is_some_and(|entry| entry.len() == 1 && entry.contains_key("value"))));
    }
}

#[test]
fn create_ui_definition_validates_against_its_schema() {
    let validator = schemas::create_ui_definition();
    let definition = repo::read_json("marketplace/createUiDefinition.json");
    let errors = schemas::errors(&validator, &definition);
    assert!(errors.is_empty(), "createUiDefinition.json:\n{}", errors.join("\n"));
    let mut broken = definition.clone();
    broken["version"] = json!("0.1.1");
    broken["parameters"]["steps"][0]["elements"][0]["type"] = json!(17);
    assert!(!schemas::errors(&validator, &broken).is_empty(), "the validator accepts a broken definition");
}
