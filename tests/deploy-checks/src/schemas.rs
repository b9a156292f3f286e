//! Offline JSON Schema validators for the ARM deployment template and createUiDefinition, built
//! from the local copies in `shared/schemas/arm` (their README says how): every `$ref` to
//! `https://schema.management.azure.com/schemas/…` resolves to a local file, the provider
//! resource schemas are replaced by the template schema's own `resourceBase` (type, apiVersion,
//! name, condition, copy, dependsOn, comments…), and `common/definitions.json#/definitions/expression`
//! is a stub for "an ARM expression". Any other remote reference fails.

use std::path::PathBuf;

use jsonschema::{Retrieve, Uri, Validator};
use serde_json::{json, Value};

use crate::repo;

const SCHEMA_BASE: &str = "https://schema.management.azure.com/schemas/";
const DEPLOYMENT_TEMPLATE: &str = "2019-04-01/deploymentTemplate.json";
const CREATE_UI_DEFINITION: &str = "0.1.2-preview/CreateUIDefinition.MultiVm.json";
const COMMON_DEFINITIONS: &str = "common/definitions.json";

/// Serves the local schema files for their public URIs.
struct LocalSchemas {
    dir: PathBuf,
}

impl Retrieve for LocalSchemas {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = uri.as_str();
        let Some(relative) = text.strip_prefix(SCHEMA_BASE) else {
            return Err(format!("no offline copy of {text}").into());
        };
        let relative = relative.split('#').next().unwrap_or_default();
        if relative == COMMON_DEFINITIONS {
            return Ok(json!({"definitions": {"expression": {"type": "string", "pattern": "^\\[(?!\\[).*\\]$"}}}));
        }
        let path = self.dir.join(relative);
        let contents = std::fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
        Ok(serde_json::from_str(&contents)?)
    }
}

fn load(relative: &str) -> Value {
    let path = repo::arm_schemas_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).expect("schema is JSON")
}

/// Builds a draft-04 validator (the createUiDefinition files say only `json-schema.org/schema#`,
/// so the draft and the base URI are given rather than detected).
fn build(schema: &Value, relative: &str) -> Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .with_base_uri(format!("{SCHEMA_BASE}{relative}"))
        .with_retriever(LocalSchemas { dir: repo::arm_schemas_dir() })
        .build(schema)
        .unwrap_or_else(|err| panic!("schema does not compile: {err}"))
}

/// The deployment template schema (draft-04) with provider resource schemas stubbed.
pub fn deployment_template() -> Validator {
    let mut schema = load(DEPLOYMENT_TEMPLATE);
    let definitions = schema["definitions"].as_object_mut().expect("definitions");
    assert!(definitions.contains_key("resourceBase"), "the schema layout changed");
    definitions.insert("resource".to_string(), json!({"allOf": [{"$ref": "#/definitions/resourceBase"}]}));
    build(&schema, DEPLOYMENT_TEMPLATE)
}

/// The createUiDefinition schema (MultiVm with its CommonControl and ProviderControl parts).
pub fn create_ui_definition() -> Validator {
    build(&load(CREATE_UI_DEFINITION), CREATE_UI_DEFINITION)
}

/// Every validation error of `instance`, as `path: message` lines.
pub fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
    validator.iter_errors(instance).map(|err| format!("{}: {}", err.instance_path(), err)).collect()
}
