//! The `local-emulator` command as a person runs it: `up --demo` provisions a scheme through the
//! admin API, commits a transfer and prints the callbacks and positions, on SQLite and on
//! MariaDB, with its data directory relative to the working directory; `--help` documents every
//! flag; bad flags are refused.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::Backend;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

/// How long `up --demo` may take to print its report.
const DEMO_WAIT: Duration = Duration::from_secs(120);
/// How long the emulator may take to stop after Ctrl-C.
const STOP_WAIT: Duration = Duration::from_secs(20);
const READY_LINE: &str = "Ctrl-C stops the switch.";

fn emulator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_local-emulator"))
}

async fn up_demo_commits_a_transfer(backend: Backend) {
    // The data directory is given relative to where the person stands, which is not the app root
    // the handler runs in.
    let work_dir = std::env::temp_dir();
    let data_dir_name = format!("le_cli_{}", uuid::Uuid::new_v4().simple());
    let data_dir = work_dir.join(&data_dir_name);
    let mut command = emulator();
    command.current_dir(&work_dir).args(["up", "--demo", "--data-dir", &data_dir_name]);
    for port in ["--fspiop-port", "--admin-port", "--settlement-port", "--simulators-port"] {
        command.args([port, "0"]);
    }
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Mariadb => {
            let server =
                std::env::var("LEDGER_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string());
            let url = format!("{}/ledger_t_{}", server.trim_end_matches('/'), uuid::Uuid::new_v4().simple());
            command.args(["--mysql", &url]);
            Some(url)
        }
    };
    let mut child = command.stdout(Stdio::piped()).kill_on_drop(true).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut output = String::new();
    let read = tokio::time::timeout(DEMO_WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            output.push_str(&line);
            output.push('\n');
            if line == READY_LINE {
                break;
            }
        }
    })
    .await;
    // Ctrl-C, as a person stops it: the emulator stops its handler and exits.
    let pid = child.id().expect("still running") as libc::pid_t;
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let stopped = tokio::time::timeout(STOP_WAIT, child.wait()).await;
    assert!(stopped.is_ok_and(|status| status.is_ok_and(|it| it.success())), "Ctrl-C stops the emulator cleanly");
    assert!(read.is_ok() && output.contains(READY_LINE), "the demo finished: {output}");
    assert!(output.contains("operator APIs are OPEN"), "--demo says it runs open: {output}");
    assert!(output.contains("-> 202"), "{output}");
    assert!(output.contains("payerfsp  <- PUT") && output.contains("transferState COMMITTED"), "{output}");
    let position_rows: Vec<&str> = output.lines().filter(|it| it.contains("POSITION")).collect();
    assert_eq!(position_rows.len(), 2, "{output}");
    assert!(position_rows[0].split_whitespace().eq(["payerfsp", "POSITION", "0", "100"]), "{output}");
    assert!(position_rows[1].split_whitespace().eq(["payeefsp", "POSITION", "0", "-100"]), "{output}");
    if let Some(url) = database {
        let config = ledger_store::MysqlStoreConfig { url, ca_certificate: None, pool_connections_max: 1 };
        ledger_store::MysqlStore::open(config).await.unwrap().drop_database().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(&data_dir);
}

on_both_backends!(up_demo_commits_a_transfer);

#[tokio::test]
async fn help_documents_every_flag() {
    let output = emulator().arg("--help").output().await.unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--data-dir",
        "--mysql",
        "--demo",
        "--partitions",
        "--fspiop-port",
        "--admin-port",
        "--settlement-port",
        "--handler",
        "--operator-key",
        "--open",
        "--mtls",
        "--fault",
        "--callback-version",
        "--jws-sign",
    ] {
        assert!(help.contains(flag), "{flag} is documented");
    }
}

#[tokio::test]
async fn bad_flags_are_refused_with_the_usage() {
    for args in [
        vec!["up", "--no-such-flag"],
        vec!["up", "--fault", "boom:x"],
        vec!["up", "--mtls", "ca.pem"],
        vec!["up", "--partitions", "many"],
        vec!["up", "--callback-version", "1.2"],
    ] {
        let output = emulator().args(&args).output().await.unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("USAGE"), "{args:?}");
    }
}
