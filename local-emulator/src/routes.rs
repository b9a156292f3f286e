//! HTTP trigger routes as the Functions host matches them: the route prefix from host.json, then
//! the function's `route` template (literal segments, `{name}`, `{name?}`, `{name:regex(...)}`
//! and a trailing catch-all `{*name}`), and its `methods`.

use regex::Regex;
use switch_handler::bindings::{FunctionApp, Trigger};

/// One HTTP function's route.
#[derive(Debug, Clone)]
pub struct Route {
    pub function: String,
    /// Upper case; empty means every method.
    methods: Vec<String>,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Parameter { optional: bool, constraint: Option<Regex> },
    CatchAll,
}

/// Why a route template cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("function `{function}`: route `{route}`: {reason}")]
pub struct RouteError {
    pub function: String,
    pub route: String,
    pub reason: String,
}

/// Every HTTP function's route, in the order the host would try them: more literal segments
/// first, so `transfers/{*rest}` wins over `{resource}/{*rest}` for `/transfers`.
pub fn http_routes(app: &FunctionApp) -> Result<Vec<Route>, RouteError> {
    let prefix = app.host.http_route_prefix.trim_matches('/');
    let mut routes = Vec::new();
    for function in &app.functions {
        let Trigger::Http { methods, route, .. } = &function.trigger else { continue };
        let template = route.clone().unwrap_or_else(|| function.name.clone());
        let full = [prefix, template.trim_matches('/')]
            .iter()
            .filter(|it| !it.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        let segments = parse_template(&full).map_err(|reason| RouteError {
            function: function.name.clone(),
            route: template,
            reason,
        })?;
        routes.push(Route {
            function: function.name.clone(),
            methods: methods.iter().map(|it| it.to_uppercase()).collect(),
            segments,
        });
    }
    routes.sort_by_key(|route| std::cmp::Reverse(route.literal_count()));
    Ok(routes)
}

/// The function whose route matches `method` and `path`, if any.
pub fn match_route<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<&'a Route> {
    routes.iter().find(|route| route.allows(method) && route.matches(path))
}

/// The functions whose routes match `path` with any method (a wrong method is a 405 there).
pub fn match_path<'a>(routes: &'a [Route], path: &'a str) -> impl Iterator<Item = &'a Route> + 'a {
    routes.iter().filter(move |route| route.matches(path))
}

impl Route {
    fn literal_count(&self) -> usize {
        self.segments.iter().filter(|it| matches!(it, Segment::Literal(_))).count()
    }

    fn allows(&self, method: &str) -> bool {
        self.methods.is_empty() || self.methods.iter().any(|it| it.eq_ignore_ascii_case(method))
    }

    /// Whether `path` (with or without a leading `/`) fits the template.
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').filter(|it| !it.is_empty()).collect();
        let mut index = 0;
        for segment in &self.segments {
            match segment {
                Segment::CatchAll => return true,
                Segment::Literal(text) => {
                    if !parts.get(index).is_some_and(|it| it.eq_ignore_ascii_case(text)) {
                        return false;
                    }
                }
                Segment::Parameter { optional, constraint } => match parts.get(index) {
                    None if *optional => return index == parts.len(),
                    None => return false,
                    Some(part) => {
                        if constraint.as_ref().is_some_and(|it| !it.is_match(part)) {
                            return false;
                        }
                    }
                },
            }
            index += 1;
        }
        index == parts.len()
    }
}

fn parse_template(template: &str) -> Result<Vec<Segment>, String> {
    let pieces: Vec<&str> = template.split('/').filter(|it| !it.is_empty()).collect();
    let mut segments = Vec::new();
    for (index, piece) in pieces.iter().enumerate() {
        let Some(inner) = piece.strip_prefix('{').and_then(|it| it.strip_suffix('}')) else {
            if piece.contains(['{', '}']) {
                return Err(format!("segment `{piece}` mixes text and a parameter"));
            }
            segments.push(Segment::Literal(piece.to_string()));
            continue;
        };
        if inner.starts_with('*') {
            if index + 1 != pieces.len() {
                return Err("a catch-all parameter must be the last segment".to_string());
            }
            segments.push(Segment::CatchAll);
            continue;
        }
        segments.push(parse_parameter(inner)?);
    }
    Ok(segments)
}

fn parse_parameter(inner: &str) -> Result<Segment, String> {
    let (name, constraint) = match inner.split_once(':') {
        Some((name, constraint)) => (name, Some(constraint)),
        None => (inner, None),
    };
    let optional = name.ends_with('?');
    let constraint = match constraint {
        None => None,
        Some(text) => {
            let pattern = text
                .strip_prefix("regex(")
                .and_then(|it| it.strip_suffix(')'))
                .ok_or_else(|| format!("unsupported constraint `{text}` (only regex(...) is)"))?;
            Some(Regex::new(pattern).map_err(|err| format!("bad regex `{pattern}`: {err}"))?)
        }
    };
    Ok(Segment::Parameter { optional, constraint })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn repository_routes() -> Vec<Route> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        http_routes(&FunctionApp::load(&root).unwrap()).unwrap()
    }

    fn function_for(method: &str, path: &str) -> Option<String> {
        match_route(&repository_routes(), method, path).map(|it| it.function.clone())
    }

    #[test]
    fn fspiop_paths_reach_the_fspiop_function() {
        assert_eq!(function_for("POST", "/transfers").as_deref(), Some("fspiop"));
        assert_eq!(function_for("PUT", "/transfers/abc/error").as_deref(), Some("fspiop"));
        assert_eq!(function_for("PATCH", "/transfers/abc").as_deref(), Some("fspiop"));
    }

    #[test]
    fn operator_paths_reach_their_functions() {
        assert_eq!(function_for("POST", "/participants").as_deref(), Some("admin_api"));
        assert_eq!(function_for("GET", "/participants/payerfsp/limits").as_deref(), Some("admin_api"));
        assert_eq!(function_for("GET", "/enums").as_deref(), Some("admin_api"));
        assert_eq!(function_for("POST", "/v2/settlementWindows/1").as_deref(), Some("settlement_api"));
        assert_eq!(function_for("GET", "/health").as_deref(), Some("health"));
    }

    #[test]
    fn a_known_path_matches_whatever_the_method() {
        let routes = repository_routes();
        let functions: Vec<&str> = match_path(&routes, "/health").map(|it| it.function.as_str()).collect();
        assert_eq!(functions, ["health"]);
        assert_eq!(match_path(&routes, "/quotes").count(), 0);
    }

    #[test]
    fn unknown_paths_and_methods_match_nothing() {
        assert_eq!(function_for("GET", "/quotes"), None);
        assert_eq!(function_for("DELETE", "/transfers/abc"), None);
        assert_eq!(function_for("POST", "/health"), None);
    }

    #[test]
    fn templates_are_checked() {
        assert!(parse_template("a/{*rest}/b").is_err());
        assert!(parse_template("a{b}").is_err());
        assert!(parse_template("{x:int}").is_err());
        let segments = parse_template("a/{id?}").unwrap();
        let route = Route { function: "f".into(), methods: vec![], segments };
        assert!(route.matches("/a") && route.matches("/a/1") && !route.matches("/a/1/2"));
    }
}
