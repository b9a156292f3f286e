//! A MariaDB server of the test's own: `mariadb-install-db` initialises a data directory in a
//! temporary folder, `mariadbd` serves it on a free port and its own socket, and the test can kill
//! it (SIGKILL, as a crash or a lost host would) and start it again on the same data directory.
//! Missing binaries fail the test: an outage test that cannot make an outage proves nothing.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian and most distributions install the two programs when they are not on `PATH`.
const SERVER_PROGRAMS: [&str; 3] = ["mariadbd", "/usr/sbin/mariadbd", "/usr/libexec/mariadbd"];
const INSTALL_PROGRAMS: [&str; 2] = ["mariadb-install-db", "/usr/bin/mariadb-install-db"];
/// How long a (re)started server may take to accept connections, crash recovery included.
const READY_WITHIN: Duration = Duration::from_secs(120);
const READY_POLL: Duration = Duration::from_millis(100);
/// Small InnoDB files and buffers: the test's data is a few MB, and a smaller redo log is a
/// shorter crash recovery.
const SERVER_SETTINGS: [&str; 5] = [
    "--innodb-buffer-pool-size=128M",
    "--innodb-log-file-size=32M",
    "--max-connections=400",
    "--skip-name-resolve",
    "--bind-address=127.0.0.1",
];

/// A private MariaDB server; killed and its files removed on drop.
pub struct PrivateMariadb {
    server_program: PathBuf,
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

impl PrivateMariadb {
    /// Initialises a data directory and starts the server on it.
    pub fn start() -> PrivateMariadb {
        let server_program = find_program(&SERVER_PROGRAMS);
        let install_program = find_program(&INSTALL_PROGRAMS);
        let dir = std::env::temp_dir().join(format!("le_mariadb_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        let mut install = Command::new(&install_program);
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .arg("--innodb-log-file-size=32M");
        as_current_user(&mut install);
        let output = install.output().unwrap_or_else(|err| panic!("running {}: {err}", install_program.display()));
        let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{} failed: {log}", install_program.display());
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|it| it.local_addr()).map(|it| it.port()).unwrap();
        let mut server = PrivateMariadb { server_program, dir, port, child: None };
        server.restart();
        server
    }

    /// The server's URL, without a database.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL): no shutdown, no flush, like a crashed host.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server on its data directory (after a kill: with crash recovery) and waits
    /// until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let mut command = Command::new(&self.server_program);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--socket={}", self.dir.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", self.dir.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", self.error_log().display()))
            .args(SERVER_SETTINGS)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        as_current_user(&mut command);
        let child = command.spawn().unwrap_or_else(|err| panic!("starting {}: {err}", self.server_program.display()));
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_WITHIN;
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("mariadbd exited with {status}: {}", self.error_log_tail());
            }
            // The server listens only once InnoDB (and its crash recovery) is done.
            if TcpStream::connect_timeout(&address, READY_POLL).is_ok() {
                return;
            }
            std::thread::sleep(READY_POLL);
        }
        panic!("mariadbd did not accept connections within {READY_WITHIN:?}: {}", self.error_log_tail());
    }

    fn error_log(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    /// The end of the server's error log, for failure messages.
    pub fn error_log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.error_log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for PrivateMariadb {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The first of `candidates` that exists (a bare name is looked up on `PATH`); panics when none
/// does. Nothing is run to find out: `mariadb-install-db --version` would install.
fn find_program(candidates: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for candidate in candidates {
        let found = match candidate.contains('/') {
            true => Some(PathBuf::from(candidate)).filter(|it| it.is_file()),
            false => std::env::split_paths(&path).map(|dir| dir.join(candidate)).find(|it| it.is_file()),
        };
        if let Some(found) = found {
            return found;
        }
    }
    panic!("MariaDB is not installed: none of {candidates:?} exists (the outage test needs its own mariadbd)");
}

/// `mariadbd` refuses to run as root unless told to; as anyone else it runs as that user.
fn as_current_user(command: &mut Command) {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        command.arg("--user=root");
    }
}
