//! Starts the local Cosmos DB stand-in (`cosmos-stand-in/serve.js`, npm `@zeit/cosmosdb-server`)
//! once per test binary, installing its npm packages with `npm ci` when they are missing.
//! Every failure panics: the Cosmos half of the suite never silently passes without a server.
//!
//! The server reads its standard input and exits when it closes, so it ends with the test
//! process however that ends (the pipe's write end is held in a static for the process's life).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long the server may take to print that it is ready (it takes about a second).
const START_TIMEOUT_S: u64 = 30;

struct StandIn {
    port: u16,
    // Held so the server lives until the test process ends; never read.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

static STAND_IN: OnceLock<StandIn> = OnceLock::new();

/// The stand-in's port, starting it on first use.
pub fn port() -> u16 {
    STAND_IN.get_or_init(start).port
}

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cosmos-stand-in")
}

fn start() -> StandIn {
    let dir = directory();
    if !dir.join("node_modules").join("@zeit").join("cosmosdb-server").is_dir() {
        install(&dir);
    }
    let mut child = Command::new("node")
        .arg("serve.js")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| panic!("the Cosmos stand-in needs node on PATH: {err}"));
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    let port = read_ready_port(stdout);
    StandIn { port, _stdin: Mutex::new(stdin), _child: Mutex::new(child) }
}

fn install(dir: &PathBuf) {
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|err| panic!("the Cosmos stand-in needs npm on PATH to install it: {err}"));
    assert!(status.success(), "npm ci in {} failed: {status}", dir.display());
}

/// Waits for `ready <port>` on the server's output.
fn read_ready_port(stdout: std::process::ChildStdout) -> u16 {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let res = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = sender.send(res);
    });
    let line = match receiver.recv_timeout(Duration::from_secs(START_TIMEOUT_S)) {
        Ok(Ok(line)) => line,
        Ok(Err(err)) => panic!("reading the Cosmos stand-in's output: {err}"),
        Err(_) => panic!("the Cosmos stand-in did not start within {START_TIMEOUT_S} s"),
    };
    match line.trim().strip_prefix("ready ").and_then(|it| it.parse().ok()) {
        Some(port) => port,
        None => panic!("the Cosmos stand-in printed {line:?} instead of `ready <port>`"),
    }
}
