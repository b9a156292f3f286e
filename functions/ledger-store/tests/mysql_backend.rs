//! MySQL/MariaDB-only checks of the MySQL store beyond the conformance suite: idempotent and
//! concurrent migrations, bad configurations, pool and lock behaviour, deadlocks, window locks,
//! chunked batches, text limits, and TLS against a private MariaDB that requires it.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use ledger_core::amount::Amount;
use ledger_core::ids::TransferId;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::prelude::*;
use ledger_store::{
    DeliveryKey, HashKind, MysqlStore, MysqlStoreConfig, NewDelivery, NewPositionChange, NewStateChange, StoreError,
};
use mysql_async::prelude::Queryable;

fn server() -> String {
    std::env::var(MYSQL_URL_VARIABLE).unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_string())
}

fn fresh_name() -> String {
    format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

async fn raw(database: &str) -> mysql_async::Conn {
    mysql_async::Conn::from_url(format!("{}/{database}", server())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_twice_and_concurrently_is_idempotent() {
    let name = fresh_name();
    let (a, b, c) = tokio::join!(open_mysql(&name), open_mysql(&name), open_mysql(&name));
    let d = open_mysql(&name).await;
    assert_eq!(d.participants().await.unwrap().len(), 1);
    let mut conn = raw(&name).await;
    let versions: Vec<u32> = conn.query("SELECT version FROM schema_migration").await.unwrap();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let windows: Vec<u64> = conn.query("SELECT settlement_window_id FROM settlement_window").await.unwrap();
    assert_eq!(windows, [1]);
    conn.disconnect().await.unwrap();
    d.drop_database().await.unwrap();
    for store in [a, b, c, d] {
        store.close().await.unwrap();
    }
}

/// Migration 6 runs again when its record was lost (the process died between its DDL, which
/// MySQL commits on its own, and the record): the index exists once, and opening succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_list_index_migration_runs_again_safely() {
    let name = fresh_name();
    let store = open_mysql(&name).await;
    let mut conn = raw(&name).await;
    conn.query_drop("DELETE FROM schema_migration WHERE version = 6").await.unwrap();
    let again = open_mysql(&name).await;
    let versions: Vec<u32> = conn.query("SELECT version FROM schema_migration WHERE version = 6").await.unwrap();
    assert_eq!(versions, [6]);
    let index_columns: Vec<String> = conn
        .query(
            "SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE() \
             AND table_name = 'transfer_timeout' AND index_name = 'transfer_timeout_transfer'",
        )
        .await
        .unwrap();
    assert_eq!(index_columns, ["transfer_seq"]);
    conn.disconnect().await.unwrap();
    again.drop_database().await.unwrap();
    for store in [store, again] {
        store.close().await.unwrap();
    }
}

/// A database migration 3 left (deliveries keyed by event id) keeps its deliveries when
/// migration 4 keys them by transfer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_recorded_under_the_event_keyed_layout_survive_the_upgrade() {
    const TRANSFER: &str = "b51ec534-ee48-4575-b6a9-ead2955b8069";
    let delivery = |event: &str| NewDelivery {
        event_id: event.to_string(),
        recipient: "payerfsp".to_string(),
        transfer_id: TRANSFER.to_string(),
        delivered: NOW,
    };
    let key = |event: &str| DeliveryKey {
        transfer_id: TRANSFER.to_string(),
        event_id: event.to_string(),
        recipient: "payerfsp".to_string(),
    };
    let primary_key = |name: String| async move {
        let mut conn = raw(&name).await;
        let columns: Vec<String> = conn
            .query(format!(
                "SELECT column_name FROM information_schema.key_column_usage WHERE table_schema = '{name}' \
                 AND table_name = 'notification_delivery' AND constraint_name = 'PRIMARY' ORDER BY ordinal_position"
            ))
            .await
            .unwrap();
        conn.disconnect().await.unwrap();
        columns
    };
    let name = fresh_name();
    let store = open_mysql(&name).await;
    store.record_deliveries(&[delivery("e1"), delivery("e2")]).await.unwrap();
    store.close().await.unwrap();
    let mut conn = raw(&name).await;
    conn.query_drop("ALTER TABLE notification_delivery DROP PRIMARY KEY, ADD PRIMARY KEY (event_id, recipient)")
        .await
        .unwrap();
    conn.query_drop("DELETE FROM schema_migration WHERE version = 4").await.unwrap();
    conn.disconnect().await.unwrap();
    assert_eq!(primary_key(name.clone()).await, ["event_id", "recipient"]);

    let store = open_mysql(&name).await;
    assert_eq!(primary_key(name.clone()).await, ["transfer_id", "event_id", "recipient"]);
    let found = store.delivered(&[key("e1"), key("e2"), key("e3")]).await.unwrap();
    assert_eq!(found, [key("e1"), key("e2")].into_iter().collect());
    store.record_deliveries(&[delivery("e1"), delivery("e3")]).await.unwrap();
    assert_eq!(store.delivered(&[key("e1"), key("e3")]).await.unwrap().len(), 2);
    store.drop_database().await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configs_are_invalid() {
    let no_db = MysqlStoreConfig { url: server(), ca_certificate: None, pool_connections_max: 2 };
    assert!(matches!(MysqlStore::open(no_db).await, Err(StoreError::Invalid(_))));
    let no_pool = MysqlStoreConfig {
        url: format!("{}/{}", server(), fresh_name()),
        ca_certificate: None,
        pool_connections_max: 0,
    };
    assert!(matches!(MysqlStore::open(no_pool).await, Err(StoreError::Invalid(_))));
    let down =
        MysqlStoreConfig { url: "mysql://root@127.0.0.1:1/x".into(), ca_certificate: None, pool_connections_max: 1 };
    assert!(matches!(MysqlStore::open(down).await, Err(StoreError::Unavailable(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_transaction_is_rolled_back_on_a_single_connection_pool() {
    let name = fresh_name();
    let config =
        MysqlStoreConfig { url: format!("{}/{name}", server()), ca_certificate: None, pool_connections_max: 1 };
    let store = MysqlStore::open(config).await.unwrap();
    let payer = provision_dfsp(&store, "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(&store, "payeefsp", "1000", "1000").await;
    for _ in 0..3 {
        let row = new_transfer(&payer, &payee, "5");
        let mut tx = store.begin().await.unwrap();
        tx.lock_positions(&[payer.position.id]).await.unwrap();
        tx.insert_transfers(std::slice::from_ref(&row)).await.unwrap();
        tx.update_positions(&[(payer.position.id, amount("5"))], NOW).await.unwrap();
        drop(tx);
        assert!(store.transfer(&row.transfer_id).await.unwrap().is_none());
        assert_eq!(store.balance(payer.position.id).await.unwrap().0, Amount::ZERO);
    }
    store.drop_database().await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn position_locks_cover_the_settlement_account_and_block_other_writers() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let dfsp = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let mut tx = store.begin().await.unwrap();
    tx.lock_positions(&[dfsp.position.id]).await.unwrap();
    let other = store.clone();
    let settlement = dfsp.settlement.id;
    let waiter = tokio::spawn(async move {
        let mut tx = other.begin().await.unwrap();
        let balances = tx.lock_balances(&[settlement]).await.unwrap();
        tx.update_positions(&[(settlement, balances[&settlement].0 - amount("1"))], NOW).await.unwrap();
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiter.is_finished(), "the settlement account is locked with the position");
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    assert_eq!(store.balance(settlement).await.unwrap().0, -amount("1001"));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_a_conflict() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let a = provision_dfsp(store.as_ref(), "dfspa", "1", "1").await;
    let mut tx1 = store.begin().await.unwrap();
    let mut tx2 = store.begin().await.unwrap();
    tx1.lock_balances(&[a.position.id]).await.unwrap();
    tx2.lock_balances(&[a.settlement.id]).await.unwrap();
    let first = tokio::spawn(async move {
        let res = tx1.lock_balances(&[a.settlement.id]).await.map(|_| ());
        (res, tx1)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = tx2.lock_balances(&[a.position.id]).await.map(|_| ());
    let (first, tx1) = first.await.unwrap();
    let results = [first, second];
    assert!(results.iter().any(|it| matches!(it, Err(StoreError::Conflict(_)))), "{results:?}");
    drop((tx1, tx2));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_are_shared_by_fulfils_and_exclusive_to_a_close() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let mut fulfil1 = store.begin().await.unwrap();
    let mut fulfil2 = store.begin().await.unwrap();
    fulfil1.open_window().await.unwrap();
    let shared = tokio::time::timeout(Duration::from_secs(2), fulfil2.open_window()).await;
    assert!(shared.is_ok(), "two fulfil batches read the OPEN window side by side");
    let closer = store.clone();
    let close = tokio::spawn(async move {
        let mut tx = closer.begin().await.unwrap();
        let res = tx.close_open_window("close", NOW).await.unwrap();
        tx.commit().await.unwrap();
        res
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!close.is_finished(), "a close waits for batches tagging the window");
    drop(fulfil1);
    fulfil2.commit().await.unwrap();
    let (closed, opened) = tokio::time::timeout(Duration::from_secs(5), close).await.unwrap().unwrap();
    assert_eq!((closed.id.0, opened.id.0), (1, 2));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_batches_are_chunked() {
    const N_ROWS: usize = 1_234;
    let test = mysql_store().await;
    let store = test.store.clone();
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000000", "1000000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let rows: Vec<_> = (0..N_ROWS)
        .map(|idx| {
            let mut row = new_transfer(&payer, &payee, "1.5");
            row.extensions = vec![("k".into(), format!("v{idx}")), ("z".into(), "a".into())];
            row
        })
        .collect();
    let ids: Vec<TransferId> = rows.iter().map(|it| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await.unwrap();
    // A position is journaled and written only under its lock, as the handlers do.
    tx.lock_positions(&[payer.position.id]).await.unwrap();
    tx.insert_transfers(&rows).await.unwrap();
    let changes: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(idx, it)| NewPositionChange {
            account: payer.position.id,
            transfer_id: it.transfer_id.clone(),
            seq: 2,
            change: amount("1.5"),
            value: Amount::from_units(15_000 * (idx as i128 + 1)),
            reserved: Amount::ZERO,
            created: NOW,
        })
        .collect();
    tx.insert_position_changes(&changes).await.unwrap();
    tx.update_positions(&[(payer.position.id, Amount::from_units(15_000 * N_ROWS as i128))], NOW).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let records = tx.transfers(&ids).await.unwrap();
    assert_eq!(records.len(), N_ROWS);
    assert_eq!(records[&ids[777]].extensions, rows[777].extensions);
    assert_eq!(tx.current_states(&ids).await.unwrap().len(), N_ROWS);
    assert_eq!(tx.hashes(HashKind::Prepare, &ids).await.unwrap().len(), N_ROWS);
    let expired = tx.due_timeouts(EXPIRATION.plus_ms(1), 5_000).await.unwrap();
    assert_eq!(expired.len(), N_ROWS);
    tx.delete_timeouts(&expired).await.unwrap();
    assert!(tx.due_timeouts(EXPIRATION.plus_ms(1), 5_000).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    assert_eq!(store.position_journal(payer.position.id).await.unwrap().len(), N_ROWS);
    assert_eq!(store.balance(payer.position.id).await.unwrap().0, Amount::from_units(15_000 * N_ROWS as i128));
    test.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_texts_are_truncated() {
    let name = fresh_name();
    let store = Arc::new(open_mysql(&name).await);
    let payer = provision_dfsp(store.as_ref(), "payerfsp", "1000", "1000").await;
    let payee = provision_dfsp(store.as_ref(), "payeefsp", "1000", "1000").await;
    let row = new_transfer(&payer, &payee, "1");
    let mut tx = store.begin().await.unwrap();
    tx.insert_transfers(std::slice::from_ref(&row)).await.unwrap();
    let reason = Some("é".repeat(600));
    let change = NewStateChange {
        transfer_id: row.transfer_id.clone(),
        seq: 2,
        state: TransferState::Reserved,
        reason,
        created: NOW,
    };
    tx.insert_state_changes(&[change]).await.unwrap();
    let (closed, _) = tx.close_open_window(&"ü".repeat(700), Timestamp::from_unix_ms(5)).await.unwrap();
    tx.commit().await.unwrap();
    let mut conn = raw(&name).await;
    let n_chars: Option<u64> = conn
        .exec_first(
            "SELECT CHAR_LENGTH(s.reason) FROM transfer t JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
             WHERE t.transfer_id = ? AND s.seq = 2",
            (row.transfer_id.as_str(),),
        )
        .await
        .unwrap();
    assert_eq!(n_chars, Some(512));
    let n_chars: Option<u64> = conn
        .exec_first("SELECT CHAR_LENGTH(reason) FROM settlement_window WHERE settlement_window_id = ?", (closed.id.0,))
        .await
        .unwrap();
    assert_eq!(n_chars, Some(512));
    conn.disconnect().await.unwrap();
    // Setting a flag to the value it has is not "not found".
    let participant = store.participant(&payer.name).await.unwrap().unwrap();
    store.set_participant_active(participant.id, true).await.unwrap();
    store.set_account_active(payer.position.id, true).await.unwrap();
    store.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_closes_serialise() {
    let test = mysql_store().await;
    let store = test.store.clone();
    let mut first = store.begin().await.unwrap();
    first.close_open_window("first", NOW).await.unwrap();
    let other = store.clone();
    let second = tokio::spawn(async move {
        let mut tx = other.begin().await.unwrap();
        let res = tx.close_open_window("second", NOW).await;
        if res.is_ok() {
            tx.commit().await.unwrap();
        }
        res
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    let res = second.await.unwrap();
    eprintln!("second close: {res:?}");
    match res {
        Ok((closed, opened)) => assert_eq!((closed.id.0, opened.id.0), (2, 3)),
        Err(err) => assert!(err.is_transient(), "{err}"),
    }
    test.finish().await;
}

/// A private MariaDB that requires TLS, with a certificate from a CA made for the test.
#[test]
fn tls_with_the_configured_root_ca() {
    let server = TlsServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let url = format!("mysql://root@127.0.0.1:{}/{}", server.port, fresh_name());
        let plain = MysqlStoreConfig { url: url.clone(), ca_certificate: None, pool_connections_max: 2 };
        let refused = MysqlStore::open(plain).await.err();
        assert!(
            matches!(&refused, Some(StoreError::Unavailable(text)) if text.contains("1045")),
            "the server refuses a connection without TLS: {refused:?}"
        );
        let wrong_ca = MysqlStoreConfig {
            url: url.clone(),
            ca_certificate: Some(server.other_ca.clone()),
            pool_connections_max: 2,
        };
        let untrusted = MysqlStore::open(wrong_ca).await.err();
        assert!(
            matches!(&untrusted, Some(StoreError::Unavailable(text)) if text.contains("UnknownIssuer")),
            "a server certificate from another CA is refused: {untrusted:?}"
        );
        let config = MysqlStoreConfig { url, ca_certificate: Some(server.ca.clone()), pool_connections_max: 2 };
        let store = MysqlStore::open(config).await.unwrap_or_else(|err| panic!("TLS with the right CA: {err}"));
        let created = store.create_participant(&fsp("payerfsp"), NOW).await.unwrap();
        assert_eq!(store.participant(&fsp("payerfsp")).await.unwrap(), Some(created));
        store.drop_database().await.unwrap();
        store.close().await.unwrap();
    });
}

/// How long a fresh MariaDB may take to accept connections.
const SERVER_START_WAIT: Duration = Duration::from_secs(30);

/// A MariaDB in a temporary directory, listening on a free loopback port and requiring TLS.
/// Dropping it kills the server and deletes the directory, also when the test panics.
struct TlsServer {
    dir: PathBuf,
    child: Option<Child>,
    port: u16,
    /// The CA that signed the server's certificate.
    ca: PathBuf,
    /// A CA that signed nothing the server has.
    other_ca: PathBuf,
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = std::env::temp_dir().join(format!("ledger_tls_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap_or_else(|err| panic!("create {}: {err}", dir.display()));
        let mut server =
            TlsServer { ca: dir.join("ca.pem"), other_ca: dir.join("other-ca.pem"), dir, child: None, port: 0 };
        server.make_certificates();
        let datadir = server.dir.join("data");
        let install = program("mariadb-install-db");
        run(Command::new(&install)
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", datadir.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]));
        server.port = free_port();
        let log = server.dir.join("mariadbd.err");
        let child = Command::new(program("mariadbd"))
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", datadir.display()))
            .arg(format!("--socket={}", server.dir.join("mariadbd.sock").display()))
            .arg(format!("--pid-file={}", server.dir.join("mariadbd.pid").display()))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--port={}", server.port))
            .args(["--bind-address=127.0.0.1", "--skip-name-resolve"])
            .args(["--character-set-server=utf8mb4", "--collation-server=utf8mb4_general_ci"])
            .arg(format!("--ssl-cert={}", server.dir.join("server.pem").display()))
            .arg(format!("--ssl-key={}", server.dir.join("server.key").display()))
            .arg(format!("--ssl-ca={}", server.ca.display()))
            .arg("--require-secure-transport=ON")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("start mariadbd: {err}"));
        server.child = Some(child);
        server.wait_until_listening(&log);
        server
    }

    /// A CA, a server certificate it signs (SAN 127.0.0.1 and localhost) and an unrelated CA.
    fn make_certificates(&self) {
        let config = self.dir.join("openssl.cnf");
        std::fs::write(
            &config,
            "[req]\ndistinguished_name = dn\n[dn]\n\
             [ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n\
             [server]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n\
             subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        )
        .unwrap();
        let file = |name: &str| self.dir.join(name).display().to_string();
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        for (name, subject) in [("ca", "/CN=ledger-test-ca"), ("other-ca", "/CN=ledger-test-other-ca")] {
            run(openssl(&config)
                .args(["req", "-x509", "-days", "2", "-extensions", "ca", "-subj", subject])
                .args(key)
                .args(["-keyout", &file(&format!("{name}.key")), "-out", &file(&format!("{name}.pem"))]));
        }
        run(openssl(&config).args(["req", "-new", "-subj", "/CN=127.0.0.1"]).args(key).args([
            "-keyout",
            &file("server.key"),
            "-out",
            &file("server.csr"),
        ]));
        run(openssl(&config)
            .args([
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                &file("server.csr"),
                "-CA",
                &file("ca.pem"),
                "-CAkey",
                &file("ca.key"),
            ])
            .args([
                "-CAcreateserial",
                "-extfile",
                &file("openssl.cnf"),
                "-extensions",
                "server",
                "-out",
                &file("server.pem"),
            ]));
    }

    fn wait_until_listening(&mut self, log: &Path) {
        let deadline = Instant::now() + SERVER_START_WAIT;
        let server_log = || std::fs::read_to_string(log).unwrap_or_default();
        loop {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().unwrap()) {
                panic!("mariadbd exited with {status} before accepting connections; its log:\n{}", server_log());
            }
            if Instant::now() > deadline {
                let port = self.port;
                panic!(
                    "mariadbd did not accept connections on port {port} within {SERVER_START_WAIT:?}; its log:\n{}",
                    server_log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port free on the loopback interface now (the OS picks it; released for the server).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|it| it.local_addr()).expect("a free loopback port").port()
}

/// The path of a MariaDB program; the server lives in an sbin directory, often not on PATH.
fn program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|it| it.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed; the TLS test needs a MariaDB server (apt-get install mariadb-server)")
        })
}

/// The `openssl` command with only the test's configuration (`req` reads it from OPENSSL_CONF).
fn openssl(config: &Path) -> Command {
    let mut command = Command::new("openssl");
    command.env("OPENSSL_CONF", config);
    command
}

/// Runs a setup command to success; a missing program or a failure ends the test with its output.
fn run(command: &mut Command) {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.stdin(Stdio::null()).output().unwrap_or_else(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            panic!("`{program}` is not installed; the TLS test needs it (apt-get install {program})");
        }
        panic!("run {program}: {err}")
    });
    assert!(
        output.status.success(),
        "{command:?} failed with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
