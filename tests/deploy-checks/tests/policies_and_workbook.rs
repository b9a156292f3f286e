//! The APIM policies are well-formed XML (they deploy with format `xml`) and the FSPIOP one
//! binds the client certificate to FSPIOP-Source with FSPIOP error bodies; every KQL tile of the
//! workbook queries only names the handler (functions/plumbing/src/telemetry.rs,
//! functions/handler/src/app.rs) or the gateway policy actually emit.

use std::collections::BTreeSet;

use deploy_checks::repo;
use switch_handler::bindings::FunctionApp;

const POLICIES: [&str; 4] = ["fspiop.xml", "operator-admin.xml", "operator-settlement.xml", "health.xml"];
/// Tables a workbook tile scoped to the App Insights component may query.
const TABLES: [&str; 4] = ["requests", "customMetrics", "traces", "dependencies"];

fn policy(name: &str) -> String {
    repo::read(&format!("bicep/policies/{name}"))
}

#[test]
fn policies_are_well_formed_xml_with_every_section() {
    for name in POLICIES {
        let text = policy(name);
        let document = roxmltree::Document::parse(&text).unwrap_or_else(|err| panic!("{name}: {err}"));
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "policies", "{name}");
        let sections: Vec<&str> = root.children().filter(|it| it.is_element()).map(|it| it.tag_name().name()).collect();
        assert_eq!(sections, ["inbound", "backend", "outbound", "on-error"], "{name}");
        for section in root.children().filter(|it| it.is_element()) {
            let first = section.children().find(|it| it.is_element()).map(|it| it.tag_name().name());
            assert_eq!(first, Some("base"), "{name}: <{}> starts with <base />", section.tag_name().name());
        }
    }
}

#[test]
fn the_fspiop_policy_binds_the_certificate_to_fspiop_source() {
    let text = policy("fspiop.xml");
    let document = roxmltree::Document::parse(&text).unwrap();
    let element =
        |tag: &str| document.descendants().find(|it| it.has_tag_name(tag)).unwrap_or_else(|| panic!("no <{tag}>"));
    let validate = element("validate-client-certificate");
    for attribute in ["validate-trust", "validate-not-before", "validate-not-after", "validate-revocation"] {
        assert_eq!(validate.attribute(attribute), Some("true"), "{attribute}");
    }
    assert_eq!(validate.attribute("ignore-error"), Some("false"));
    let variables: Vec<(&str, &str)> = document
        .descendants()
        .filter(|it| it.has_tag_name("set-variable"))
        .map(|it| (it.attribute("name").unwrap(), it.attribute("value").unwrap()))
        .collect();
    let cert_fsp = variables.iter().find(|(name, _)| *name == "certFsp").expect("certFsp").1;
    assert!(
        cert_fsp.contains("context.Request.Certificate")
            && cert_fsp.contains("{{fsp-cert-map}}")
            && cert_fsp.contains("cert.Thumbprint")
    );
    assert!(cert_fsp.contains("&&"), "entities decode to the C# operators");
    assert!(!cert_fsp.contains("//"), "a line comment would swallow the expression once XML joins its lines");
    let claimed = variables.iter().find(|(name, _)| *name == "claimedFsp").expect("claimedFsp").1;
    assert!(claimed.contains("\"FSPIOP-Source\""));
    // The refusal compares the two and answers an FSPIOP error body.
    let whens: Vec<roxmltree::Node> = document.descendants().filter(|it| it.has_tag_name("when")).collect();
    let mismatch = whens
        .iter()
        .find(|it| {
            it.attribute("condition")
                .is_some_and(|c| c.contains("claimedFsp") && c.contains("certFsp") && c.contains("!string.Equals"))
        })
        .expect("a when comparing FSPIOP-Source with the certificate's participant");
    let body =
        mismatch.descendants().find(|it| it.has_tag_name("set-body")).and_then(|it| it.text()).expect("error body");
    let body: serde_json::Value = serde_json::from_str(body).expect("the error body is JSON");
    assert_eq!(body["errorInformation"]["errorCode"], "3100");
    let status = mismatch.descendants().find(|it| it.has_tag_name("set-status")).unwrap();
    assert_eq!(status.attribute("code"), Some("400"));
    // Certificate failures answer in FSPIOP form too, and the trusted header cannot be forged.
    let on_error = element("on-error");
    assert!(on_error
        .descendants()
        .any(|it| it.attribute("condition").is_some_and(|c| c.contains("validate-client-certificate"))));
    let forwarded = document.descendants().find(|it| it.attribute("name") == Some("X-Authenticated-FSP")).unwrap();
    assert_eq!(forwarded.attribute("exists-action"), Some("override"));
}

#[test]
fn operator_policies_require_an_entra_id_token_with_the_role() {
    for name in ["operator-admin.xml", "operator-settlement.xml"] {
        let text = policy(name);
        let document = roxmltree::Document::parse(&text).unwrap();
        let jwt = document.descendants().find(|it| it.has_tag_name("validate-jwt")).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(jwt.attribute("header-name"), Some("Authorization"));
        let config = jwt.children().find(|it| it.has_tag_name("openid-config")).unwrap();
        assert_eq!(config.attribute("url"), Some("{{operator-openid-config-url}}"));
        let texts: Vec<&str> = jwt.descendants().filter_map(|it| it.text()).map(str::trim).collect();
        assert!(texts.contains(&"{{operator-audience}}") && texts.contains(&"{{operator-app-role}}"), "{name}");
    }
    let admin = policy("operator-admin.xml");
    for resource in ["participants", "settlementModels", "ledgerAccountTypes", "enums", "transactions", "journal"] {
        assert!(admin.contains(resource), "the admin API lets {resource} through");
    }
    // Every named value the policies use is declared in the APIM module.
    let module = repo::read("bicep/modules/apim.bicep");
    for name in POLICIES {
        for named in policy(name).split("{{").skip(1).filter_map(|it| it.split("}}").next()) {
            assert!(module.contains(&format!("name: '{named}'")), "{name}: named value {named} is not declared");
        }
    }
}

/// Every double-quoted literal of the handler's telemetry sources.
fn literals(text: &str) -> BTreeSet<String> {
    text.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn workbook_tiles_query_what_the_handler_and_gateway_emit() {
    let telemetry = repo::read("functions/plumbing/src/telemetry.rs");
    let app_source = repo::read("functions/handler/src/app.rs");
    let mut emitted = literals(&telemetry);
    // Span fields are identifiers in `info_span!`, not string literals.
    for field in ["function", "batch_size", "n_emitted", "n_dead_letters", "outcome", "duration_ms"] {
        assert!(
            telemetry.contains(&format!("        {field}")) || telemetry.contains(&format!("{field} = Empty")),
            "telemetry.rs no longer records {field}"
        );
        emitted.insert(field.to_string());
    }
    // Operation names: `function.<name>` (app.rs builds them with concat!) for each function.
    assert!(
        app_source.contains("concat!(\"function.\", $function)") || app_source.contains("\"function.notification\"")
    );
    let app = FunctionApp::load(&repo::root()).unwrap();
    for function in &app.functions {
        emitted.insert(format!("function.{}", function.name));
        emitted.insert(function.name.clone());
    }
    // What the gateway policy traces.
    let gateway = policy("fspiop.xml");
    for name in ["fspiop-error", "errorCode", "direction"] {
        assert!(gateway.contains(name), "fspiop.xml no longer traces {name}");
        emitted.insert(name.to_string());
    }
    let workbook = repo::read_json("bicep/workbook/switch-workbook.json");
    let tiles: Vec<&serde_json::Value> =
        workbook["items"].as_array().unwrap().iter().filter(|it| it["type"] == 3).collect();
    let titles: Vec<&str> = tiles.iter().map(|it| it["content"]["title"].as_str().unwrap()).collect();
    assert_eq!(tiles.len(), 6, "{titles:?}");
    for tile in tiles {
        let query = tile["content"]["query"].as_str().unwrap();
        let table = query.split_whitespace().next().unwrap();
        assert!(TABLES.contains(&table), "{table}");
        for literal in literals(query) {
            assert!(
                emitted.contains(&literal),
                "tile {}: \"{literal}\" is not emitted by the handler or the gateway",
                tile["name"]
            );
        }
    }
    assert!(emitted.contains("mojaloop-switch-handler"), "SERVICE_NAME changed");
    assert!(emitted.contains("transfers_by_outcome"));
}
