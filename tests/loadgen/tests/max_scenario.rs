//! The `loadgen` binary end to end: a short `max` scenario against the local emulator on SQLite
//! and on MariaDB, provisioned through the admin API; every transfer commits, latencies are
//! recorded, and the JSON result and SVG plot are written and well-formed. Nothing is timed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Transfers per run: enough for several batches, few enough to stay quick.
const TRANSFERS: u64 = 200;
/// DFSPs per run.
const DFSPS: u32 = 4;
/// The database-name prefix the test suites share (dropped after each run).
const DATABASE_PREFIX: &str = "ledger_t_";

fn loadgen(out: &Path, extra: &[&str]) -> std::process::Output {
    let me = env!("CARGO_BIN_EXE_loadgen");
    let transfers = TRANSFERS.to_string();
    let dfsps = DFSPS.to_string();
    let mut args = vec![
        "--scenario",
        "max",
        "--transfers",
        &transfers,
        "--duration",
        "120s",
        "--concurrency",
        "32",
        "--dfsps",
        &dfsps,
        "--handler",
        me,
        "--handler-arg",
        "handler",
        "--quiet",
        "--drain",
        "60s",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Command::new(me).args(&args).output().expect("loadgen runs")
}

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("loadgen_t_{}", uuid::Uuid::new_v4().simple()))
}

fn check_run(out: &Path, output: &std::process::Output, store: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "loadgen failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    let result: Value = serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["store"], store);
    assert_eq!(result["scenario"], "max");
    let transfers = &result["transfers"];
    assert_eq!(transfers["sent"], TRANSFERS, "{result:#}");
    assert_eq!(transfers["committed_total"], TRANSFERS, "every transfer committed: {result:#}");
    assert_eq!(transfers["failed_total"], 0, "{result:#}");
    assert_eq!(transfers["unfinished"], 0, "{result:#}");
    assert_eq!(transfers["payee_prepares"], TRANSFERS, "every payee was asked once");
    assert_eq!(result["committed"], TRANSFERS);
    assert_eq!(result["errors_by_code"], serde_json::json!({}));
    let latency = &result["latency_ms"];
    let ms = |name: &str| latency[name].as_f64().unwrap_or_else(|| panic!("latency_ms.{name}: {latency}"));
    assert!(0.0 < ms("p50"));
    assert!(
        ms("p50") <= ms("p90") && ms("p90") <= ms("p99") && ms("p99") <= ms("p99_9") && ms("p99_9") <= ms("max"),
        "{latency}"
    );
    let histogram = result["latency_histogram"].as_array().unwrap();
    assert_eq!(histogram.iter().map(|it| it["count"].as_u64().unwrap()).sum::<u64>(), TRANSFERS);
    let timeline = result["timeline"].as_array().unwrap();
    assert_eq!(timeline.iter().map(|it| it["committed"].as_u64().unwrap()).sum::<u64>(), TRANSFERS);
    assert!(0.0 < result["throughput_tps"].as_f64().unwrap());
    assert!(result["machine"]["load_before"].is_string());
    let cpu = &result["machine"]["cpu_during_run"];
    assert!(cpu["busy_share"].as_f64().is_some_and(|it| 0.0 < it && it <= 1.0), "machine CPU: {cpu}");
    assert!(cpu["busy_cpu_ms_per_committed_transfer"].as_f64().is_some_and(|it| 0.0 < it), "machine CPU: {cpu}");
    let reference = &result["machine"]["reference"];
    for value in [
        &reference["round_trip_us_idle_before_run"],
        &reference["round_trip_cpu_us_during_run"]["median"],
        &reference["busy_cpu_per_committed_transfer_in_round_trips"],
    ] {
        assert!(value.as_f64().is_some_and(|it| 0.0 < it), "reference work: {reference}");
    }

    let svg = std::fs::read_to_string(out.join("result.svg")).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("the plot is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    assert!(document.descendants().any(|it| it.has_tag_name("polyline")), "latency over time is drawn");
    let bars = document
        .descendants()
        .filter(|it| it.has_tag_name("rect") && it.children().any(|child| child.has_tag_name("title")))
        .count();
    assert!(0 < bars, "the histogram has bars");
    assert!(stdout.contains("throughput"), "{stdout}");
    assert!(!out.join("emulator").exists(), "the emulator's data is removed");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn max_scenario_on_sqlite() {
    let out = scratch();
    let output = loadgen(&out, &["--store", "sqlite"]);
    check_run(&out, &output, "sqlite");
}

#[test]
fn max_scenario_on_mariadb() {
    let out = scratch();
    let server = std::env::var("LEDGER_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string());
    let output =
        loadgen(&out, &["--store", "mysql", "--mysql-url", &server, "--mysql-database-prefix", DATABASE_PREFIX]);
    check_run(&out, &output, "mysql");
}

#[test]
fn help_documents_every_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_loadgen")).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/options.rs")).unwrap();
    let known = source.split("const KNOWN").nth(1).unwrap().split("];").next().unwrap();
    for flag in known.split('"').filter(|it| it.starts_with("--") && *it != "--help") {
        assert!(help.contains(&format!("    {flag} ")), "--help documents {flag}");
    }
    for switch in ["--keep-database", "--keep-data", "--quiet"] {
        assert!(help.contains(switch), "--help documents {switch}");
    }
    for scenario in ["max", "rate", "hotspot", "many-dfsps"] {
        assert!(help.contains(scenario));
    }
}
