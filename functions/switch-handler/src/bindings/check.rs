//! This project's rules for the binding files, each a named [`ConfigProblem`]; the host would
//! accept files that break most of them, and the switch would then lose or reorder transfers.

use std::collections::BTreeMap;

use std::time::Duration;

use super::{Cardinality, FunctionApp, FunctionSpec, NcrontabSchedule, RetryPolicy, Trigger};

/// Event Hubs Standard allows 10 event hubs per namespace (azure.md §2.1).
pub const EVENT_HUBS_PER_NAMESPACE_MAX: usize = 10;

/// The longest wait between two retries of an Event Hubs batch: once the store is back, a
/// partition that was retrying resumes within this long.
pub const RETRY_INTERVAL_MAX: Duration = Duration::from_secs(60);

/// `maxRetryCount` for "retry until it succeeds" (the host's convention).
pub const RETRY_COUNT_UNBOUNDED: i32 = -1;

/// The executable host.json must start: the packaging step names the binary `handler`.
const EXECUTABLE: &str = "handler";

/// The host's limit on function names (`^[a-z][a-z0-9_\-]{0,127}$`, any case, not `host`).
const FUNCTION_NAME_CHARS_MAX: usize = 128;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    #[error("host.json starts `{found}`, not `{EXECUTABLE}`")]
    ExecutableNotHandler { found: String },

    #[error("function folder `{function}` is not a valid function name")]
    InvalidFunctionName { function: String },

    /// Function names are case-insensitive to the host.
    #[error("function name `{function}` is used twice (ignoring case)")]
    DuplicateFunctionName { function: String },

    #[error("function `{function}`: binding name `{binding}` is not valid (a letter, then letters or digits)")]
    InvalidBindingName { function: String, binding: String },

    /// Without `cardinality: many` the host invokes once per event (its default is `one`).
    #[error("function `{function}`: Event Hubs trigger must have `cardinality: many`")]
    CardinalityNotMany { function: String },

    /// Without `dataType: string` the host JSON-parses every body and fails the batch on one bad one.
    #[error("function `{function}`: Event Hubs trigger must have `dataType: string`")]
    DataTypeNotString { function: String },

    #[error("function `{function}`: Event Hubs trigger needs its own `consumerGroup` (not `$Default`)")]
    NoConsumerGroup { function: String },

    /// Two functions reading one hub in one consumer group steal each other's partitions.
    #[error("functions `{first}` and `{second}` share consumer group `{consumer_group}` on hub `{hub}`")]
    SharedConsumerGroup { hub: String, consumer_group: String, first: String, second: String },

    /// The host checkpoints a failed batch; only a retry policy gets it delivered again.
    #[error("function `{function}`: Event Hubs trigger needs a retry policy")]
    NoRetryPolicy { function: String },

    /// After the last retry the host checkpoints past the batch, so a finite count turns an
    /// outage longer than the retries into lost events. Failures that retrying cannot cure are
    /// the function's to answer (reject or dead-letter), never the host's to drop.
    #[error("function `{function}`: Event Hubs retry policy has maxRetryCount {max_retry_count}; it must be -1 (until it succeeds)")]
    FiniteRetryCount { function: String, max_retry_count: i32 },

    /// A partition retrying a batch resumes at most this long after its store is back.
    #[error("function `{function}`: Event Hubs retry interval is {interval:?}, above the {max:?} cap")]
    RetryIntervalTooLong { function: String, interval: Duration, max: Duration },

    #[error("{count} event hubs are consumed; a Standard namespace holds at most {max}")]
    TooManyEventHubs { count: usize, max: usize },

    #[error("function `{function}`: schedule is not six-field NCRONTAB: {reason}")]
    InvalidSchedule { function: String, reason: String },

    /// Proxying (and so axum seeing the real request) only applies to HTTP-in/HTTP-out functions.
    #[error("function `{function}`: an HTTP trigger must have exactly one output, of type `http`")]
    HttpNotProxiable { function: String },

    /// The handler serves invocations at `/<function>` and proxied requests at their own paths on
    /// one port, so a function name must not be the first segment of an HTTP route.
    #[error("function `{function}` is invoked at `/{function}`, which HTTP function `{http_function}` also serves")]
    InvocationPathShadowsRoute { function: String, http_function: String },
}

pub(super) fn check(app: &FunctionApp) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if app.host.executable != EXECUTABLE {
        problems.push(ConfigProblem::ExecutableNotHandler { found: app.host.executable.clone() });
    }
    let mut lower_names = BTreeMap::new();
    for function in &app.functions {
        if lower_names.insert(function.name.to_ascii_lowercase(), ()).is_some() {
            problems.push(ConfigProblem::DuplicateFunctionName { function: function.name.clone() });
        }
        check_function(app, function, &mut problems);
    }
    check_consumer_groups(app, &mut problems);
    check_invocation_paths(app, &mut problems);
    let count = app.event_hubs().len();
    if count > EVENT_HUBS_PER_NAMESPACE_MAX {
        problems.push(ConfigProblem::TooManyEventHubs { count, max: EVENT_HUBS_PER_NAMESPACE_MAX });
    }
    problems
}

fn check_function(app: &FunctionApp, function: &FunctionSpec, problems: &mut Vec<ConfigProblem>) {
    let name = || function.name.clone();
    if !is_valid_function_name(&function.name) {
        problems.push(ConfigProblem::InvalidFunctionName { function: name() });
    }
    let bindings = std::iter::once(function.trigger_binding()).chain(function.outputs.iter().map(|o| o.name.as_str()));
    for binding in bindings.filter(|b| !is_valid_binding_name(b)) {
        problems.push(ConfigProblem::InvalidBindingName { function: name(), binding: binding.to_owned() });
    }
    match &function.trigger {
        Trigger::EventHub { cardinality, data_type, consumer_group, .. } => {
            if *cardinality != Cardinality::Many {
                problems.push(ConfigProblem::CardinalityNotMany { function: name() });
            }
            if !data_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("string")) {
                problems.push(ConfigProblem::DataTypeNotString { function: name() });
            }
            if consumer_group.as_deref().is_none_or(|g| g.eq_ignore_ascii_case("$Default")) {
                problems.push(ConfigProblem::NoConsumerGroup { function: name() });
            }
            match function.retry.or(app.host.retry) {
                None => problems.push(ConfigProblem::NoRetryPolicy { function: name() }),
                Some(policy) => check_event_hub_retry(&function.name, policy, problems),
            }
        }
        Trigger::Timer { schedule, .. } => {
            if let Err(e) = NcrontabSchedule::parse(schedule) {
                problems.push(ConfigProblem::InvalidSchedule { function: name(), reason: e.to_string() });
            }
        }
        Trigger::Http { .. } => {
            if !matches!(function.outputs.as_slice(), [only] if only.kind.eq_ignore_ascii_case("http")) {
                problems.push(ConfigProblem::HttpNotProxiable { function: name() });
            }
        }
    }
}

/// Event Hubs batches are retried until they succeed, with a capped wait between attempts.
fn check_event_hub_retry(function: &str, policy: RetryPolicy, problems: &mut Vec<ConfigProblem>) {
    let (max_retry_count, interval) = match policy {
        RetryPolicy::ExponentialBackoff { max_retry_count, maximum_interval, .. } => {
            (max_retry_count, maximum_interval)
        }
        RetryPolicy::FixedDelay { max_retry_count, delay_interval } => (max_retry_count, delay_interval),
    };
    if max_retry_count != RETRY_COUNT_UNBOUNDED {
        problems.push(ConfigProblem::FiniteRetryCount { function: function.to_owned(), max_retry_count });
    }
    if RETRY_INTERVAL_MAX < interval {
        problems.push(ConfigProblem::RetryIntervalTooLong {
            function: function.to_owned(),
            interval,
            max: RETRY_INTERVAL_MAX,
        });
    }
}

fn check_consumer_groups(app: &FunctionApp, problems: &mut Vec<ConfigProblem>) {
    let mut readers: BTreeMap<(String, String), &str> = BTreeMap::new();
    for function in &app.functions {
        let Trigger::EventHub { hub, consumer_group: Some(group), .. } = &function.trigger else {
            continue;
        };
        let key = (hub.to_ascii_lowercase(), group.to_ascii_lowercase());
        if let Some(first) = readers.insert(key, &function.name) {
            problems.push(ConfigProblem::SharedConsumerGroup {
                hub: hub.clone(),
                consumer_group: group.clone(),
                first: first.to_owned(),
                second: function.name.clone(),
            });
        }
    }
}

fn check_invocation_paths(app: &FunctionApp, problems: &mut Vec<ConfigProblem>) {
    let served: Vec<(String, &str)> = app
        .functions
        .iter()
        .filter_map(|f| match &f.trigger {
            Trigger::Http { route, .. } => {
                let route = route.as_deref().unwrap_or(&f.name);
                first_literal_segment(&app.host.http_route_prefix, route).map(|s| (s, f.name.as_str()))
            }
            _ => None,
        })
        .collect();
    for function in app.functions.iter().filter(|f| !matches!(f.trigger, Trigger::Http { .. })) {
        for (segment, http_function) in &served {
            if segment.eq_ignore_ascii_case(&function.name) {
                problems.push(ConfigProblem::InvocationPathShadowsRoute {
                    function: function.name.clone(),
                    http_function: (*http_function).to_owned(),
                });
            }
        }
    }
}

/// The first path segment requests to this route start with, when it is a literal.
fn first_literal_segment(prefix: &str, route: &str) -> Option<String> {
    let path = format!("{prefix}/{route}");
    let first = path.split('/').find(|s| !s.is_empty())?;
    match first.contains('{') {
        true => None,
        false => Some(first.to_owned()),
    }
}

/// The host's rule: `^[a-z][a-z0-9_\-]{0,127}$`, ignoring case, and not `host`.
pub fn is_valid_function_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    first_ok && rest_ok && name.len() <= FUNCTION_NAME_CHARS_MAX && !name.eq_ignore_ascii_case("host")
}

/// The host's rule: `^[a-zA-Z][a-zA-Z0-9]{0,127}$`, or `$return`.
pub fn is_valid_binding_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric());
    name == "$return" || (first_ok && rest_ok && name.len() <= FUNCTION_NAME_CHARS_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_follow_the_host() {
        for good in ["prepare", "admin_api", "fspiop", "a", "Get-1"] {
            assert!(is_valid_function_name(good), "{good}");
        }
        let too_long = "a".repeat(FUNCTION_NAME_CHARS_MAX + 1);
        for bad in ["", "1abc", "_x", "host", "HOST", "a.b", "a b", too_long.as_str()] {
            assert!(!is_valid_function_name(bad), "{bad}");
        }
    }

    #[test]
    fn binding_names_follow_the_host() {
        assert!(is_valid_binding_name("events"));
        assert!(is_valid_binding_name("$return"));
        assert!(!is_valid_binding_name("my_events"));
        assert!(!is_valid_binding_name("1x"));
    }

    #[test]
    fn first_segment_sees_through_the_prefix() {
        assert_eq!(first_literal_segment("", "transfers/{*rest}"), Some("transfers".into()));
        assert_eq!(first_literal_segment("api", "transfers"), Some("api".into()));
        assert_eq!(first_literal_segment("", "{resource:regex(^x$)}/{*rest}"), None);
    }
}
