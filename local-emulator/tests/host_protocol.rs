//! The Functions host stand-in against a stand-in custom handler written in Python (a different
//! process speaking only the documented protocol): readiness on `GET /`, invocations at
//! `POST /<function>` in the host's JSON, the retry policy with `RetryContext`, and a batch that
//! fails its last retry checkpointed past, as on Azure, so the next event is delivered.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use local_emulator::hubs::NewEvent;
use local_emulator::{Emulator, EmulatorConfig, StoreChoice};
use serde_json::Value;

const HUB: &str = "test-hub";
const WAIT: Duration = Duration::from_secs(30);

/// Answers readiness, records every invocation to the file named by its first argument, and
/// fails every invocation whose event body is `fail`.
const HANDLER: &str = r#"
import http.server, json, os, sys
port = int(os.environ["FUNCTIONS_CUSTOMHANDLER_PORT"])
record = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ready")
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(record, "a") as out:
            out.write(json.dumps({"path": self.path, "body": body}) + "\n")
        events = json.loads(body["Data"]["events"])
        failing = "fail" in events
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b"boom" if failing else b'{"Outputs":{},"Logs":["ok"],"ReturnValue":null}')
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"#;

fn app_root(dir: &Path) -> PathBuf {
    let root = dir.join("app");
    std::fs::create_dir_all(root.join("functions/bindings/echo")).unwrap();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(repository.join("host.json"), root.join("host.json")).unwrap();
    let function = serde_json::json!({
        "bindings": [{ "type": "eventHubTrigger", "direction": "in", "name": "events", "eventHubName": HUB,
                       "connection": "EventHubConnection", "consumerGroup": "cg-echo", "cardinality": "many", "dataType": "string" }],
        "retry": { "strategy": "fixedDelay", "maxRetryCount": 2, "delayInterval": "00:00:00.2" }
    });
    std::fs::write(root.join("functions/bindings/echo/function.json"), function.to_string()).unwrap();
    root
}

fn invocations(record: &Path) -> Vec<Value> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_batch_is_retried_per_policy_then_checkpointed_past() {
    let dir = std::env::temp_dir().join(format!("le_host_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("handler.py"), HANDLER).unwrap();
    let record = dir.join("invocations.jsonl");
    let config = EmulatorConfig {
        app_root: app_root(&dir),
        data_dir: dir.join("data"),
        store: StoreChoice::Embedded,
        partitions: 1,
        fspiop_port: 0,
        admin_port: 0,
        settlement_port: 0,
        hubs_port: 0,
        handler_program: PathBuf::from("python3"),
        handler_arguments: vec![dir.join("handler.py").display().to_string(), record.display().to_string()],
        handler_environment: Vec::new(),
        callback_version: fspiop::ApiVersion::V1_0,
        jws_sign: false,
        operator_key: None,
        faults: Vec::new(),
        mtls: None,
    };
    let emulator = Emulator::start(config).await.expect("the emulator starts the Python handler");

    let event = |body: &str| NewEvent { partition_key: Some("k".into()), body: body.into() };
    emulator.hubs.append(HUB, vec![event("fail")]).await.unwrap();
    emulator.hubs.append(HUB, vec![event("fine")]).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while emulator.hubs.checkpoint(HUB, "cg-echo", 0) != Some(1) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(emulator.hubs.checkpoint(HUB, "cg-echo", 0), Some(1), "both batches checkpointed");

    let seen = invocations(&record);
    assert_eq!(seen.len(), 4, "three attempts at the failing batch, then the next: {seen:#?}");
    for (attempt, invocation) in seen.iter().take(3).enumerate() {
        assert_eq!(invocation["path"], "/echo");
        let metadata = &invocation["body"]["Metadata"];
        assert_eq!(metadata["RetryContext"]["RetryCount"], attempt as u64);
        assert_eq!(metadata["RetryContext"]["MaxRetryCount"], 2);
        assert_eq!(metadata["PartitionContext"]["EventHubName"], HUB);
        assert_eq!(metadata["PartitionContext"]["ConsumerGroup"], "cg-echo");
        assert_eq!(metadata["sys"]["MethodName"], "echo");
        assert!(invocation["body"]["Data"]["events"].is_string(), "the batch is JSON inside a string");
        assert_eq!(metadata["SequenceNumberArray"], "[0]");
    }
    assert!(seen[1]["body"]["Metadata"]["RetryContext"]["Exception"]["Message"].as_str().unwrap().contains("500"));
    assert_eq!(seen[3]["body"]["Data"]["events"], r#"["fine"]"#);
    assert_eq!(emulator.counters.abandoned_batches.load(Ordering::SeqCst), 1);
    emulator.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = std::fs::remove_dir_all(&dir);
}
