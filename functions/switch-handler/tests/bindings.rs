//! The repository's host.json and function.json files, read through [`FunctionApp::load`] and held
//! to the project's rules; plus the rules themselves, each shown to catch a broken file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use switch_handler::bindings::{
    BindingsError, NcrontabSchedule, OutputBinding, BINDINGS_DIR, EVENT_HUBS_PER_NAMESPACE_MAX, FUNCTION_JSON,
    HOST_JSON, RETRY_COUNT_UNBOUNDED, RETRY_INTERVAL_MAX,
};
use switch_handler::{Cardinality, ConfigProblem, FunctionApp, FunctionSpec, HostConfig, RetryPolicy, Trigger};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn app() -> FunctionApp {
    FunctionApp::load(&repo_root()).unwrap_or_else(|e| panic!("the binding files load: {e}"))
}

/// (function, hub) for every Event Hubs-triggered function.
const EVENT_HUB_FUNCTIONS: [(&str, &str); 7] = [
    ("admin", "admin-transfer"),
    ("fulfil", "transfer-fulfil"),
    ("get", "transfer-get"),
    ("notification", "notification-event"),
    ("position", "transfer-position"),
    ("prepare", "transfer-prepare"),
    ("settlement", "settlement-window-close"),
];

/// Until the batch succeeds, waiting 1 s, 2 s, 4 s, 8 s, then 10 s between attempts.
const RETRY: RetryPolicy = RetryPolicy::ExponentialBackoff {
    max_retry_count: RETRY_COUNT_UNBOUNDED,
    minimum_interval: Duration::from_secs(1),
    maximum_interval: Duration::from_secs(10),
};

#[test]
fn the_repository_files_keep_every_rule() {
    assert_eq!(app().check(), Vec::<ConfigProblem>::new());
}

#[test]
fn the_function_set_is_the_designed_one() {
    let names: Vec<String> = app().functions.iter().map(|f| f.name.clone()).collect();
    assert_eq!(
        names,
        [
            "admin",
            "admin_api",
            "fspiop",
            "fulfil",
            "get",
            "health",
            "notification",
            "position",
            "prepare",
            "settlement",
            "settlement_api",
            "timeout"
        ]
    );
    let mut lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    lower.dedup();
    assert_eq!(lower.len(), names.len(), "function names are unique ignoring case");
    assert!(names.iter().all(|n| switch_handler::bindings::is_valid_function_name(n)));
}

#[test]
fn event_hub_triggers_are_batches_with_own_groups_and_retries() {
    let app = app();
    let mut groups = Vec::new();
    for (function, expected_hub) in EVENT_HUB_FUNCTIONS {
        let Some(spec) = app.function(function) else { panic!("function {function} exists") };
        let Trigger::EventHub { binding, hub, consumer_group, connection, cardinality, data_type } = &spec.trigger
        else {
            panic!("{function} is triggered by Event Hubs")
        };
        assert_eq!(binding, "events", "{function}");
        assert_eq!(hub, expected_hub, "{function}");
        assert_eq!(consumer_group.as_deref(), Some(format!("cg-{function}").as_str()), "{function}");
        assert_eq!(connection, "EventHubConnection", "{function}");
        assert_eq!(*cardinality, Cardinality::Many, "{function}");
        assert_eq!(data_type.as_deref(), Some("string"), "{function}");
        assert_eq!(spec.retry, Some(RETRY), "{function}");
        assert!(spec.outputs.is_empty(), "{function} publishes with the SDK, not an output binding");
        groups.push(consumer_group.clone());
    }
    groups.sort();
    groups.dedup();
    assert_eq!(groups.len(), EVENT_HUB_FUNCTIONS.len(), "every consumer group is unique");
}

#[test]
fn hubs_fit_a_standard_namespace_and_are_listed_in_the_readme() {
    let app = app();
    let hubs = app.event_hubs();
    assert!(hubs.len() <= EVENT_HUBS_PER_NAMESPACE_MAX, "{} hubs", hubs.len());
    let mut expected: Vec<&str> = EVENT_HUB_FUNCTIONS.iter().map(|(_, hub)| *hub).collect();
    expected.sort_unstable();
    assert_eq!(hubs, expected);
    let readme_path = repo_root().join(BINDINGS_DIR).join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap_or_else(|e| panic!("{}: {e}", readme_path.display()));
    for hub in hubs {
        assert!(readme.contains(&format!("`{hub}`")), "README lists hub {hub}");
    }
}

#[test]
fn the_timer_is_valid_ncrontab_every_second() {
    let app = app();
    let Some(Trigger::Timer { binding, schedule, run_on_startup, use_monitor }) =
        app.function("timeout").map(|f| &f.trigger)
    else {
        panic!("timeout is a timer")
    };
    // Every second, so an expired transfer is released within about a second (plus the position
    // and notification steps); the schedule monitor is for schedules of a minute or more.
    assert_eq!((binding.as_str(), schedule.as_str()), ("timer", "*/1 * * * * *"));
    assert!(!run_on_startup && !*use_monitor);
    let Ok(parsed) = NcrontabSchedule::parse(schedule) else { panic!("{schedule} is NCRONTAB") };
    let fires: Vec<u32> = (0..60).filter(|s| parsed.matches(*s, 0, 0, 1, 1, 0)).collect();
    assert_eq!(fires, (0..60).collect::<Vec<u32>>());
}

#[test]
fn http_functions_are_proxiable_and_anonymous() {
    let app = app();
    let expected = [
        (
            "admin_api",
            vec!["get", "post", "put"],
            "{resource:regex(^(participants|settlementModels|ledgerAccountTypes|enums|transactions|journal)$)}/{*rest}",
        ),
        ("fspiop", vec!["get", "post", "put", "patch"], "transfers/{*rest}"),
        ("health", vec!["get"], "health"),
        ("settlement_api", vec!["get", "post", "put"], "v2/{*rest}"),
    ];
    for (function, methods, route) in expected {
        let Some(spec) = app.function(function) else { panic!("function {function} exists") };
        let Trigger::Http { binding, methods: found, route: found_route, auth_level } = &spec.trigger else {
            panic!("{function} is an HTTP function")
        };
        assert_eq!(binding, "req", "{function}");
        assert_eq!(found, &methods, "{function}");
        assert_eq!(found_route.as_deref(), Some(route), "{function}");
        assert_eq!(auth_level, "anonymous", "{function}");
        assert_eq!(spec.outputs, [OutputBinding { name: "res".into(), kind: "http".into() }], "{function}");
    }
}

#[test]
fn host_json_starts_the_handler_and_batches_events() {
    let host = app().host;
    assert_eq!(host.version, "2.0");
    assert_eq!(host.executable, "handler");
    assert!(host.arguments.is_empty());
    assert!(host.enable_proxying_http_request && !host.enable_forwarding_http_request);
    assert_eq!(host.http_route_prefix, "", "FSPIOP paths are exactly /transfers…");
    assert_eq!(host.function_timeout, Some(Duration::from_secs(300)));
    let Some(bundle) = &host.extension_bundle else { panic!("host.json names an extension bundle") };
    assert_eq!(
        (bundle.id.as_str(), bundle.version.as_str()),
        ("Microsoft.Azure.Functions.ExtensionBundle", "[4.*, 5.0.0)")
    );
    let hubs = &host.event_hubs;
    assert_eq!(hubs.max_event_batch_size, Some(100));
    assert_eq!(hubs.batch_checkpoint_frequency, Some(1));
    assert_eq!(hubs.prefetch_count, Some(300));
    assert_eq!(hubs.initial_offset.as_deref(), Some("fromStart"));
    assert_eq!(host.retry, None, "retry policies are per function");
}

/// Copies the repository's files into the flat zip layout and reads them back.
#[test]
fn the_package_layout_reads_the_same() {
    let package = std::env::temp_dir().join(format!("switch-handler-package-{}", std::process::id()));
    let copy = |from: &Path, to: &Path| std::fs::copy(from, to).map(|_| ()).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&package);
    std::fs::create_dir_all(package.join("not-a-function")).unwrap_or_else(|e| panic!("{e}"));
    copy(&repo_root().join(HOST_JSON), &package.join(HOST_JSON));
    for function in &app().functions {
        let folder = package.join(&function.name);
        std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
        copy(&repo_root().join(BINDINGS_DIR).join(&function.name).join(FUNCTION_JSON), &folder.join(FUNCTION_JSON));
    }
    let packaged = FunctionApp::load_package(&package);
    let _ = std::fs::remove_dir_all(&package);
    assert_eq!(packaged, Ok(app()));
}

const EVENT_HUB_JSON: &str = r#"{"bindings":[{"type":"eventHubTrigger","direction":"in","name":"events",
  "eventHubName":"transfer-prepare","connection":"EventHubConnection","consumerGroup":"cg-prepare",
  "cardinality":"many","dataType":"string"}],
  "retry":{"strategy":"exponentialBackoff","maxRetryCount":-1,"minimumInterval":"00:00:01","maximumInterval":"00:00:10"}}"#;

fn spec(name: &str, json: &str) -> Result<FunctionSpec, BindingsError> {
    FunctionSpec::from_json_str(name, json, Path::new("test/function.json"))
}

fn event_hub_spec(name: &str) -> FunctionSpec {
    spec(name, EVENT_HUB_JSON).unwrap_or_else(|e| panic!("{e}"))
}

/// Exponential backoff from 1 s to `maximum_s`, retried `max_retry_count` times.
fn retry_with(max_retry_count: i32, maximum_s: u64) -> RetryPolicy {
    RetryPolicy::ExponentialBackoff {
        max_retry_count,
        minimum_interval: Duration::from_secs(1),
        maximum_interval: Duration::from_secs(maximum_s),
    }
}

/// The repository's app with one change.
fn broken(edit: impl FnOnce(&mut FunctionApp)) -> Vec<ConfigProblem> {
    let mut app = app();
    edit(&mut app);
    app.check()
}

fn trigger_of<'a>(app: &'a mut FunctionApp, function: &str) -> &'a mut Trigger {
    match app.functions.iter_mut().find(|f| f.name == function) {
        Some(spec) => &mut spec.trigger,
        None => panic!("function {function} exists"),
    }
}

#[test]
fn trigger_rules_catch_their_breaches() {
    let name = |s: &str| s.to_owned();
    let cases: Vec<(&str, Vec<ConfigProblem>, Vec<ConfigProblem>)> = vec![
        (
            "another executable",
            broken(|a| a.host.executable = name("handler.exe")),
            vec![ConfigProblem::ExecutableNotHandler { found: name("handler.exe") }],
        ),
        (
            "cardinality one",
            broken(|a| {
                if let Trigger::EventHub { cardinality, .. } = trigger_of(a, "prepare") {
                    *cardinality = Cardinality::One;
                }
            }),
            vec![ConfigProblem::CardinalityNotMany { function: name("prepare") }],
        ),
        (
            "no dataType",
            broken(|a| {
                if let Trigger::EventHub { data_type, .. } = trigger_of(a, "fulfil") {
                    *data_type = None;
                }
            }),
            vec![ConfigProblem::DataTypeNotString { function: name("fulfil") }],
        ),
        (
            "the default consumer group",
            broken(|a| {
                if let Trigger::EventHub { consumer_group, .. } = trigger_of(a, "get") {
                    *consumer_group = Some(name("$Default"));
                }
            }),
            vec![ConfigProblem::NoConsumerGroup { function: name("get") }],
        ),
        (
            "no retry policy",
            broken(|a| a.functions.iter_mut().filter(|f| f.name == "position").for_each(|f| f.retry = None)),
            vec![ConfigProblem::NoRetryPolicy { function: name("position") }],
        ),
        (
            "a finite retry count",
            broken(|a| {
                a.functions.iter_mut().filter(|f| f.name == "fulfil").for_each(|f| f.retry = Some(retry_with(5, 10)))
            }),
            vec![ConfigProblem::FiniteRetryCount { function: name("fulfil"), max_retry_count: 5 }],
        ),
        (
            "no retries at all",
            broken(|a| {
                a.functions
                    .iter_mut()
                    .filter(|f| f.name == "notification")
                    .for_each(|f| f.retry = Some(retry_with(0, 10)))
            }),
            vec![ConfigProblem::FiniteRetryCount { function: name("notification"), max_retry_count: 0 }],
        ),
        (
            "a finite count in host.json, for a function without its own policy",
            broken(|a| {
                a.host.retry =
                    Some(RetryPolicy::FixedDelay { max_retry_count: 3, delay_interval: Duration::from_secs(5) });
                a.functions.iter_mut().filter(|f| f.name == "admin").for_each(|f| f.retry = None);
            }),
            vec![ConfigProblem::FiniteRetryCount { function: name("admin"), max_retry_count: 3 }],
        ),
        (
            "a fixed delay until success, at the cap",
            broken(|a| {
                let forever = RetryPolicy::FixedDelay {
                    max_retry_count: RETRY_COUNT_UNBOUNDED,
                    delay_interval: RETRY_INTERVAL_MAX,
                };
                a.functions.iter_mut().filter(|f| f.name == "get").for_each(|f| f.retry = Some(forever));
            }),
            vec![],
        ),
        (
            "an uncapped wait between retries",
            broken(|a| {
                a.functions.iter_mut().filter(|f| f.name == "prepare").for_each(|f| f.retry = Some(retry_with(-1, 61)))
            }),
            vec![ConfigProblem::RetryIntervalTooLong {
                function: name("prepare"),
                interval: Duration::from_secs(61),
                max: RETRY_INTERVAL_MAX,
            }],
        ),
        (
            "a second reader in the same group",
            broken(|a| a.functions.push(event_hub_spec("prepare2"))),
            vec![ConfigProblem::SharedConsumerGroup {
                hub: name("transfer-prepare"),
                consumer_group: name("cg-prepare"),
                first: name("prepare"),
                second: name("prepare2"),
            }],
        ),
    ];
    assert_cases(cases);
}

#[test]
fn app_rules_catch_their_breaches() {
    let name = |s: &str| s.to_owned();
    let cases: Vec<(&str, Vec<ConfigProblem>, Vec<ConfigProblem>)> = vec![
        (
            "a name differing only in case",
            broken(|a| {
                let mut twin = event_hub_spec("Prepare");
                if let Trigger::EventHub { consumer_group, .. } = &mut twin.trigger {
                    *consumer_group = Some(name("cg-twin"));
                }
                a.functions.push(twin);
            }),
            vec![ConfigProblem::DuplicateFunctionName { function: name("Prepare") }],
        ),
        (
            "an invalid function name",
            broken(|a| a.functions.iter_mut().filter(|f| f.name == "health").for_each(|f| f.name = name("1health"))),
            vec![ConfigProblem::InvalidFunctionName { function: name("1health") }],
        ),
        (
            "a five-field schedule",
            broken(|a| {
                if let Trigger::Timer { schedule, .. } = trigger_of(a, "timeout") {
                    *schedule = name("*/15 * * * *");
                }
            }),
            vec![ConfigProblem::InvalidSchedule {
                function: name("timeout"),
                reason: name("`*/15 * * * *` has 5 fields; NCRONTAB with seconds has 6 (second minute hour day month day-of-week)"),
            }],
        ),
        (
            "an HTTP function with a second output",
            broken(|a| {
                let extra = OutputBinding { name: name("queue"), kind: name("queue") };
                a.functions.iter_mut().filter(|f| f.name == "health").for_each(|f| f.outputs.push(extra.clone()));
            }),
            vec![ConfigProblem::HttpNotProxiable { function: name("health") }],
        ),
        (
            "an event function named like a route",
            broken(|a| {
                let mut shadow = event_hub_spec("transfers");
                if let Trigger::EventHub { consumer_group, .. } = &mut shadow.trigger {
                    *consumer_group = Some(name("cg-transfers"));
                }
                a.functions.push(shadow);
            }),
            vec![ConfigProblem::InvocationPathShadowsRoute { function: name("transfers"), http_function: name("fspiop") }],
        ),
        (
            "eleven hubs",
            broken(|a| {
                for i in 0..4 {
                    let mut extra = event_hub_spec(&format!("extra{i}"));
                    if let Trigger::EventHub { hub, .. } = &mut extra.trigger {
                        *hub = format!("extra-hub-{i}");
                    }
                    a.functions.push(extra);
                }
            }),
            vec![ConfigProblem::TooManyEventHubs { count: 11, max: EVENT_HUBS_PER_NAMESPACE_MAX }],
        ),
    ];
    assert_cases(cases);
}

/// Each case: what was broken, the problems found, the problems expected.
fn assert_cases(cases: Vec<(&str, Vec<ConfigProblem>, Vec<ConfigProblem>)>) {
    for (what, found, expected) in cases {
        assert_eq!(found, expected, "{what}");
    }
}

#[test]
fn unreadable_files_are_named_errors() {
    let invalid = |json: &str| matches!(spec("f", json), Err(BindingsError::Invalid { .. }));
    assert!(invalid(r#"{"bindings":[]}"#), "no trigger");
    assert!(invalid(r#"{"bindings":[{"type":"queueTrigger","direction":"in","name":"q"}]}"#), "unsupported trigger");
    assert!(
        invalid(r#"{"bindings":[{"type":"eventHubTrigger","direction":"in","name":"e","connection":"c"}]}"#),
        "no hub"
    );
    assert!(
        invalid(
            r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"t","schedule":"* * * * * *"},
        {"type":"timerTrigger","direction":"in","name":"u","schedule":"* * * * * *"}]}"#
        ),
        "two triggers"
    );
    assert!(
        invalid(
            r#"{"bindings":[{"type":"timerTrigger","direction":"in","name":"t","schedule":"* * * * * *"},
        {"type":"blob","direction":"in","name":"b"}]}"#
        ),
        "an input binding"
    );
    let with_retry = |retry: &str| {
        EVENT_HUB_JSON.replace(r#""retry":{"strategy":"exponentialBackoff","maxRetryCount":-1,"minimumInterval":"00:00:01","maximumInterval":"00:00:10"}"#, retry)
    };
    assert!(invalid(&with_retry(
        r#""retry":{"strategy":"exponentialBackoff","maxRetryCount":5,"minimumInterval":"00:00:31","maximumInterval":"00:00:30"}"#
    )));
    assert!(invalid(&with_retry(r#""retry":{"strategy":"fixedDelay","maxRetryCount":3}"#)));
    assert!(invalid(&with_retry(r#""retry":{"strategy":"linear","maxRetryCount":3}"#)));
    assert!(invalid(&with_retry(r#""retry":{"strategy":"fixedDelay","maxRetryCount":-2,"delayInterval":"00:00:05"}"#)));
    assert_eq!(
        spec("f", &with_retry(r#""retry":{"strategy":"fixedDelay","maxRetryCount":-1,"delayInterval":"00:00:05"}"#))
            .map(|s| s.retry),
        Ok(Some(RetryPolicy::FixedDelay { max_retry_count: -1, delay_interval: Duration::from_secs(5) }))
    );
    assert!(matches!(spec("f", "{"), Err(BindingsError::Malformed { .. })));
    let host = |json: &str| HostConfig::from_json_str(json, Path::new("host.json"));
    assert!(matches!(host(r#"{"version":"2.0"}"#), Err(BindingsError::Invalid { .. })));
    assert!(matches!(host(r#"{"customHandler":{}}"#), Err(BindingsError::Malformed { .. })));
    let missing_root = FunctionApp::load(Path::new("/nonexistent/switch-handler-root"));
    assert!(matches!(missing_root, Err(BindingsError::Read { .. })));
}

#[test]
fn omitted_settings_take_the_hosts_defaults() {
    let Ok(host) = HostConfig::from_json_str(
        r#"{"version":"2.0","customHandler":{"description":{"defaultExecutablePath":"handler"}}}"#,
        Path::new("host.json"),
    ) else {
        panic!("a minimal host.json parses")
    };
    assert_eq!(host.http_route_prefix, "api");
    assert!(!host.enable_proxying_http_request);
    let json =
        r#"{"bindings":[{"type":"eventHubTrigger","direction":"in","name":"e","eventHubName":"h","connection":"c"}]}"#;
    let Ok(FunctionSpec { trigger: Trigger::EventHub { cardinality, consumer_group, .. }, retry, .. }) =
        spec("f", json)
    else {
        panic!("a minimal Event Hubs function parses")
    };
    assert_eq!((cardinality, consumer_group, retry), (Cardinality::One, None, None));
}
