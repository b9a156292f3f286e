//! The `loadgen` binary with an expiring share, end to end on the local emulator: every fourth
//! transfer goes to the silent payee, which never answers, and expires; both of its parties
//! hear 3303 after its expiration, the others commit, and `result.json` counts each side once.
//! Nothing is timed beyond "after the expiration".

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

/// Transfers per run, a quarter of them expiring.
const TRANSFERS: u64 = 40;
const EXPIRING: u64 = TRANSFERS / 4;

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("loadgen_expiry_t_{}", uuid::Uuid::new_v4().simple()))
}

#[test]
fn an_expiring_share_is_expired_and_both_parties_told_after_its_expiration() {
    let out = scratch();
    let me = env!("CARGO_BIN_EXE_loadgen");
    let transfers = TRANSFERS.to_string();
    let args = [
        "--scenario",
        "rate",
        "--rate",
        "40",
        "--transfers",
        &transfers,
        "--duration",
        "60s",
        "--dfsps",
        "3",
        "--expiring-share",
        "0.25",
        "--expiring-expiration",
        "1s",
        "--store",
        "sqlite",
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
    let output = Command::new(me).args(args).output().expect("loadgen runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "loadgen failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    let result: Value = serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    let transfers = &result["transfers"];
    assert_eq!(transfers["sent"], TRANSFERS, "{result:#}");
    assert_eq!(transfers["committed_total"], TRANSFERS - EXPIRING, "{result:#}");
    assert_eq!(transfers["failed_total"], EXPIRING, "{result:#}");
    assert_eq!(transfers["unfinished"], 0, "{result:#}");
    assert_eq!(transfers["payee_prepares"], TRANSFERS - EXPIRING, "only answering payees count here");
    assert_eq!(result["errors_by_code"], json!({ "3303": EXPIRING }));
    let expiry = &result["expiry"];
    assert_eq!(expiry["silent_payee"], "lgfsp003", "one more DFSP than --dfsps");
    for (field, expected) in
        [("sent", EXPIRING), ("payers_told", EXPIRING), ("payee_prepares", EXPIRING), ("payees_told", EXPIRING)]
    {
        assert_eq!(expiry[field], expected, "expiry.{field}: {expiry:#}");
    }
    assert_eq!((expiry["refused"].as_u64(), expiry["outstanding"].as_u64()), (Some(0), Some(0)), "{expiry:#}");
    assert_eq!(expiry["payer_codes"], json!({ "3303": EXPIRING }));
    assert_eq!(expiry["payee_codes"], json!({ "3303": EXPIRING }));
    assert_eq!(expiry["payer_told_before_expiration"], 0, "never before the expiration: {expiry:#}");
    assert_eq!(expiry["payee_told_before_expiration"], 0, "{expiry:#}");
    for party in ["payer", "payee"] {
        let latency = &expiry[format!("{party}_after_expiration_ms")];
        assert_eq!(latency["count"], EXPIRING, "{expiry:#}");
        let ms = |name: &str| latency[name].as_f64().unwrap();
        assert!(0.0 < ms("p50") && ms("p50") <= ms("p99") && ms("p99") <= ms("max"), "{latency}");
    }
    assert!(stdout.contains("expiry → payer 3303"), "{stdout}");
    std::fs::remove_dir_all(&out).unwrap();
}
