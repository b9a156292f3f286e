//! A reading of Bicep files through the tree-sitter grammar (tree-sitter-bicep, the parser
//! azure.md §7 uses offline): declarations with their decorators, literal values, syntax errors,
//! and the constructs that would make `bicep build` emit languageVersion 2.0, which Managed
//! Applications reject (azure.md §4.1).
//!
//! This is syntax only: no symbol resolution and no type checking (local-stand-ins.md §5).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tree_sitter::{Node, Parser};

/// Node kinds whose presence makes `bicep build` emit languageVersion 2.0, or which checkov's
/// Bicep parser cannot read (Azure/bicep `EmitterSettings.cs`; local-stand-ins.md §5).
const VERSION_2_KINDS: [&str; 11] = [
    "type_declaration",
    "user_defined_function",
    "lambda_expression",
    "import_statement",
    "import_with_statement",
    "import_functionality",
    "nullable_type",
    "nullable_return_type",
    "assert_statement",
    "test_block",
    "union_type",
];

/// A value as written: a literal (string without interpolation, number, bool, null, or arrays
/// and objects of those), or any other expression as its source text.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    Expression(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// `string`, `int`, `bool`, `array` or `object`.
    pub type_name: String,
    pub secure: bool,
    pub default: Option<Expr>,
    pub allowed: Option<Vec<Value>>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    pub min_length: Option<i64>,
    pub max_length: Option<i64>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub symbol: String,
    /// `Microsoft.EventHub/namespaces/eventhubs`.
    pub type_name: String,
    pub api_version: String,
    pub existing: bool,
    pub looped: bool,
    pub conditional: bool,
    /// The `name` property of every object in a `siteConfig.appSettings` array.
    pub app_settings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub symbol: String,
    /// As written, relative to the declaring file.
    pub path: String,
    pub has_name: bool,
    pub looped: bool,
    pub conditional: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub type_name: String,
    pub secure: bool,
}

#[derive(Debug, Clone)]
pub struct BicepFile {
    pub path: PathBuf,
    pub params: Vec<Param>,
    pub variables: Vec<(String, Expr)>,
    pub resources: Vec<Resource>,
    pub modules: Vec<Module>,
    pub outputs: Vec<Output>,
    /// `line:column` of every ERROR or MISSING node.
    pub syntax_errors: Vec<String>,
    /// Why `bicep build` would emit languageVersion 2.0 (empty when it would not).
    pub version_2_reasons: Vec<String>,
    /// Paths given to `loadTextContent`, relative to this file.
    pub loaded_texts: Vec<String>,
}

/// A resource of the whole deployment: the file declaring it (relative to the main file's
/// folder), and whether a module around it is conditional or looped.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedResource {
    pub file: String,
    pub resource: Resource,
}

impl BicepFile {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|it| it.name == name)
    }

    pub fn variable(&self, name: &str) -> Option<&Expr> {
        self.variables.iter().find(|(it, _)| it == name).map(|(_, value)| value)
    }

    pub fn resource(&self, symbol: &str) -> Option<&Resource> {
        self.resources.iter().find(|it| it.symbol == symbol)
    }
}

/// Parses one file.
pub fn parse_file(path: &Path) -> BicepFile {
    let source = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    parse_source(path, &source)
}

/// Parses Bicep source; `path` only names it.
pub fn parse_source(path: &Path, source: &str) -> BicepFile {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_bicep::LANGUAGE.into()).expect("the Bicep grammar loads");
    let tree = parser.parse(source, None).expect("tree-sitter returns a tree");
    let root = tree.root_node();
    let mut file = BicepFile {
        path: path.to_path_buf(),
        params: Vec::new(),
        variables: Vec::new(),
        resources: Vec::new(),
        modules: Vec::new(),
        outputs: Vec::new(),
        syntax_errors: Vec::new(),
        version_2_reasons: Vec::new(),
        loaded_texts: Vec::new(),
    };
    walk_whole_tree(root, source, &mut file);
    let mut decorators: Vec<Node> = Vec::new();
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        match node.kind() {
            "decorators" => decorators.push(node),
            "parameter_declaration" => file.params.push(read_param(node, &decorators, source)),
            "variable_declaration" => file.variables.push(read_variable(node, source)),
            "resource_declaration" => file.resources.push(read_resource(node, source, &mut file.version_2_reasons)),
            "module_declaration" => file.modules.push(read_module(node, source)),
            "output_declaration" => file.outputs.push(read_output(node, &decorators, source)),
            _ => (),
        }
        if node.kind() != "decorators" && node.kind() != "comment" {
            decorators.clear();
        }
    }
    for module in &file.modules {
        if !module.has_name {
            file.version_2_reasons.push(format!("module `{}` has no name", module.symbol));
        }
    }
    for param in &file.params {
        if !is_primitive(&param.type_name) {
            file.version_2_reasons.push(format!("param `{}` has the type `{}`", param.name, param.type_name));
        }
    }
    for output in &file.outputs {
        if output.secure {
            file.version_2_reasons.push(format!("output `{}` is @secure()", output.name));
        }
        if !is_primitive(&output.type_name) {
            file.version_2_reasons.push(format!("output `{}` has the type `{}`", output.name, output.type_name));
        }
    }
    file
}

/// Every resource the deployment of `main` creates: its own and, recursively, its modules'.
/// `existing` references are not created and are left out.
pub fn deployed_resources(main: &Path) -> Vec<DeployedResource> {
    let base = main.parent().expect("main file has a folder");
    let mut out = Vec::new();
    collect_resources(base, Path::new(main.file_name().expect("file name")), false, false, &mut out);
    out
}

fn collect_resources(base: &Path, relative: &Path, looped: bool, conditional: bool, out: &mut Vec<DeployedResource>) {
    let file = parse_file(&base.join(relative));
    let folder = relative.parent().unwrap_or(Path::new(""));
    for resource in file.resources.iter().filter(|it| !it.existing) {
        let mut resource = resource.clone();
        resource.looped |= looped;
        resource.conditional |= conditional;
        out.push(DeployedResource { file: relative.to_string_lossy().into_owned(), resource });
    }
    for module in &file.modules {
        let path = folder.join(&module.path);
        collect_resources(base, &path, looped || module.looped, conditional || module.conditional, out);
    }
}

fn is_primitive(type_name: &str) -> bool {
    matches!(type_name, "string" | "int" | "bool" | "array" | "object")
}

fn walk_whole_tree(node: Node, source: &str, file: &mut BicepFile) {
    if node.is_error() || node.is_missing() {
        let at = node.start_position();
        file.syntax_errors.push(format!("{}:{}", at.row + 1, at.column + 1));
    }
    if VERSION_2_KINDS.contains(&node.kind()) {
        let at = node.start_position();
        file.version_2_reasons.push(format!("{} at {}:{}", node.kind(), at.row + 1, at.column + 1));
    }
    if node.kind() == "call_expression" && callee(node, source).as_deref() == Some("loadTextContent") {
        if let Some(Value::String(path)) = arguments(node).first().and_then(|it| literal(*it, source)) {
            file.loaded_texts.push(path);
        }
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        walk_whole_tree(child, source, file);
    }
}

fn text<'a>(node: Node, source: &'a str) -> &'a str {
    &source[node.byte_range()]
}

fn first_named<'a>(node: Node<'a>, kind: &str) -> Option<Node<'a>> {
    let mut cursor = node.walk();
    let found = node.named_children(&mut cursor).find(|it| it.kind() == kind);
    found
}

fn identifier(node: Node, source: &str) -> String {
    first_named(node, "identifier").map(|it| text(it, source).to_string()).unwrap_or_default()
}

fn callee(call: Node, source: &str) -> Option<String> {
    call.named_child(0).map(|it| text(it, source).to_string())
}

fn arguments(call: Node) -> Vec<Node> {
    let Some(arguments) = first_named(call, "arguments") else { return Vec::new() };
    let mut cursor = arguments.walk();
    let nodes: Vec<Node> = arguments.named_children(&mut cursor).filter(|it| it.kind() != "comment").collect();
    nodes
}

/// The value node of a declaration: its last named child that is not the name, the type or a
/// comment.
fn declared_value(node: Node) -> Option<Node> {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.named_children(&mut cursor).collect();
    children.into_iter().skip(1).rfind(|it| it.kind() != "type" && it.kind() != "comment")
}

/// A literal value, or `None` for anything computed.
pub fn literal(node: Node, source: &str) -> Option<Value> {
    match node.kind() {
        "string" => {
            let mut cursor = node.walk();
            let mut out = String::new();
            for part in node.named_children(&mut cursor) {
                match part.kind() {
                    "string_content" => out.push_str(text(part, source)),
                    "escape_sequence" => out.push_str(&unescape(text(part, source))),
                    _ => return None,
                }
            }
            Some(Value::String(out))
        }
        "number" => text(node, source).parse::<i64>().ok().map(Value::from),
        "boolean" => Some(Value::Bool(text(node, source) == "true")),
        "null" => Some(Value::Null),
        "unary_expression" => match literal(node.named_child(0)?, source)? {
            Value::Number(n) if text(node, source).starts_with('-') => Some(Value::from(-n.as_i64()?)),
            _ => None,
        },
        "array" => {
            let mut cursor = node.walk();
            let items: Vec<Node> = node.named_children(&mut cursor).filter(|it| it.kind() != "comment").collect();
            items.into_iter().map(|it| literal(it, source)).collect::<Option<Vec<Value>>>().map(Value::Array)
        }
        "object" => {
            let mut map = Map::new();
            let mut cursor = node.walk();
            for property in node.named_children(&mut cursor).filter(|it| it.kind() == "object_property") {
                let key = property.named_child(0)?;
                let key = match key.kind() {
                    "string" => literal(key, source)?.as_str()?.to_string(),
                    _ => text(key, source).to_string(),
                };
                map.insert(key, literal(property.named_child(1)?, source)?);
            }
            Some(Value::Object(map))
        }
        _ => None,
    }
}

fn unescape(sequence: &str) -> String {
    match sequence {
        "\\'" => "'".to_string(),
        "\\\\" => "\\".to_string(),
        "\\n" => "\n".to_string(),
        "\\r" => "\r".to_string(),
        "\\t" => "\t".to_string(),
        "\\$" => "$".to_string(),
        other => other.to_string(),
    }
}

fn expr(node: Node, source: &str) -> Expr {
    match literal(node, source) {
        Some(value) => Expr::Literal(value),
        None => Expr::Expression(text(node, source).to_string()),
    }
}

/// `(name, arguments)` of each decorator.
fn decorator_calls<'a>(decorators: &[Node<'a>], source: &str) -> Vec<(String, Vec<Node<'a>>)> {
    let mut out = Vec::new();
    for group in decorators {
        let mut cursor = group.walk();
        for decorator in group.named_children(&mut cursor).filter(|it| it.kind() == "decorator") {
            if let Some(call) = first_named(decorator, "call_expression") {
                out.push((callee(call, source).unwrap_or_default(), arguments(call)));
            }
        }
    }
    out
}

fn read_param(node: Node, decorators: &[Node], source: &str) -> Param {
    let mut param = Param {
        name: identifier(node, source),
        type_name: first_named(node, "type").map(|it| text(it, source).to_string()).unwrap_or_default(),
        secure: false,
        default: declared_value(node).map(|it| expr(it, source)),
        allowed: None,
        min_value: None,
        max_value: None,
        min_length: None,
        max_length: None,
        description: None,
    };
    for (name, args) in decorator_calls(decorators, source) {
        let first = args.first().and_then(|it| literal(*it, source));
        match name.as_str() {
            "secure" => param.secure = true,
            "allowed" => param.allowed = first.and_then(|it| it.as_array().cloned()),
            "minValue" => param.min_value = first.and_then(|it| it.as_i64()),
            "maxValue" => param.max_value = first.and_then(|it| it.as_i64()),
            "minLength" => param.min_length = first.and_then(|it| it.as_i64()),
            "maxLength" => param.max_length = first.and_then(|it| it.as_i64()),
            "description" => param.description = first.and_then(|it| it.as_str().map(str::to_string)),
            _ => (),
        }
    }
    param
}

fn read_variable(node: Node, source: &str) -> (String, Expr) {
    let value = declared_value(node).map(|it| expr(it, source)).unwrap_or(Expr::Expression(String::new()));
    (identifier(node, source), value)
}

fn read_output(node: Node, decorators: &[Node], source: &str) -> Output {
    let secure = decorator_calls(decorators, source).iter().any(|(name, _)| name == "secure");
    let type_name = first_named(node, "type").map(|it| text(it, source).to_string()).unwrap_or_default();
    Output { name: identifier(node, source), type_name, secure }
}

/// The body object of a resource or module, whatever wraps it (`for`, `if`, both).
fn body(node: Node) -> Option<Node> {
    let mut current = node;
    loop {
        let mut cursor = current.walk();
        let children: Vec<Node> = current.named_children(&mut cursor).collect();
        if let Some(object) = children.iter().find(|it| it.kind() == "object") {
            return Some(*object);
        }
        current = *children.iter().find(|it| it.kind() == "for_statement" || it.kind() == "if_statement")?;
    }
}

fn has_wrapper(node: Node, kind: &str) -> bool {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.named_children(&mut cursor).collect();
    children.iter().any(|it| it.kind() == kind || (it.kind() == "for_statement" && has_wrapper(*it, kind)))
}

fn property<'a>(object: Node<'a>, key: &str, source: &str) -> Option<Node<'a>> {
    let mut cursor = object.walk();
    let found = object
        .named_children(&mut cursor)
        .filter(|it| it.kind() == "object_property")
        .find(|it| it.named_child(0).map(|k| text(k, source)) == Some(key));
    found.and_then(|it| it.named_child(1))
}

fn read_resource(node: Node, source: &str, version_2_reasons: &mut Vec<String>) -> Resource {
    let type_text =
        first_named(node, "string").and_then(|it| literal(it, source)).and_then(|it| it.as_str().map(str::to_string));
    let type_text = type_text.unwrap_or_default();
    let (type_name, api_version) = type_text.split_once('@').unwrap_or((&type_text, ""));
    let mut cursor = node.walk();
    let existing = node.children(&mut cursor).any(|it| it.kind() == "existing");
    let symbol = identifier(node, source);
    let body = body(node);
    if existing && body.and_then(|it| property(it, "dependsOn", source)).is_some() {
        version_2_reasons.push(format!("existing resource `{symbol}` has dependsOn"));
    }
    let app_settings = body
        .and_then(|it| property(it, "properties", source))
        .and_then(|it| property(it, "siteConfig", source))
        .and_then(|it| property(it, "appSettings", source))
        .map(|array| {
            let mut cursor = array.walk();
            let names: Vec<String> = array
                .named_children(&mut cursor)
                .filter_map(|it| property(it, "name", source))
                .filter_map(|it| literal(it, source)?.as_str().map(str::to_string))
                .collect();
            names
        })
        .unwrap_or_default();
    Resource {
        symbol,
        type_name: type_name.to_string(),
        api_version: api_version.to_string(),
        existing,
        looped: has_wrapper(node, "for_statement"),
        conditional: has_wrapper(node, "if_statement"),
        app_settings,
    }
}

fn read_module(node: Node, source: &str) -> Module {
    let path =
        first_named(node, "string").and_then(|it| literal(it, source)).and_then(|it| it.as_str().map(str::to_string));
    Module {
        symbol: identifier(node, source),
        path: path.unwrap_or_default(),
        has_name: body(node).and_then(|it| property(it, "name", source)).is_some(),
        looped: has_wrapper(node, "for_statement"),
        conditional: has_wrapper(node, "if_statement"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> BicepFile {
        parse_source(Path::new("test.bicep"), source)
    }

    #[test]
    fn declarations_and_decorators_are_read() {
        let file = parse(
            "@secure()\n@minLength(12)\nparam pw string\n@allowed([\n  'a'\n  'b'\n])\nparam p string = 'a'\n\
             param n int = -3\nparam l string = resourceGroup().location\n\
             var v = [\n  {\n    name: 'x'\n  }\n]\n\
             resource r 'Microsoft.X/y@2020-01-01' = [for h in v: {\n  name: h.name\n}]\n\
             resource e 'Microsoft.X/y@2021-01-01' existing = {\n  name: 'q'\n}\n\
             module m 'm.bicep' = if (true) {\n  name: 'm'\n}\noutput o string = 'x'\n",
        );
        assert!(file.syntax_errors.is_empty(), "{:?}", file.syntax_errors);
        assert!(file.version_2_reasons.is_empty(), "{:?}", file.version_2_reasons);
        let pw = file.param("pw").unwrap();
        assert!(pw.secure);
        assert_eq!(pw.min_length, Some(12));
        assert_eq!(pw.default, None);
        assert_eq!(file.param("p").unwrap().allowed, Some(vec![Value::from("a"), Value::from("b")]));
        assert_eq!(file.param("n").unwrap().default, Some(Expr::Literal(Value::from(-3))));
        assert_eq!(file.param("l").unwrap().default, Some(Expr::Expression("resourceGroup().location".into())));
        assert_eq!(file.variable("v"), Some(&Expr::Literal(serde_json::json!([{"name": "x"}]))));
        let r = file.resource("r").unwrap();
        assert_eq!(
            (r.type_name.as_str(), r.api_version.as_str(), r.looped, r.existing),
            ("Microsoft.X/y", "2020-01-01", true, false)
        );
        assert!(file.resource("e").unwrap().existing);
        assert!(file.modules[0].conditional && file.modules[0].has_name);
        assert_eq!(file.outputs[0].name, "o");
    }

    #[test]
    fn version_2_constructs_and_syntax_errors_are_reported() {
        let file = parse("type t = { a: string }\nparam p string?\nmodule m 'm.bicep' = {\n  params: {}\n}\n");
        assert!(
            file.version_2_reasons.iter().any(|it| it.starts_with("type_declaration")),
            "{:?}",
            file.version_2_reasons
        );
        assert!(file.version_2_reasons.iter().any(|it| it.starts_with("nullable_type")));
        assert!(file.version_2_reasons.iter().any(|it| it.contains("module `m` has no name")));
        assert!(!parse("param p string = \n").syntax_errors.is_empty());
    }
}
