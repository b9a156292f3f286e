//! Fresh journals for the conformance suite: a SQLite temp file, a new MariaDB database, a new
//! Cosmos database on the local stand-in. None of them is ever skipped: a missing MariaDB or a
//! stand-in that cannot start fails the test.
#![allow(dead_code)]

pub mod cosmos_stand_in;

use std::path::PathBuf;

use journal::cosmos::{CosmosAuth, CosmosJournal, CosmosJournalConfig};
use journal::mysql::MysqlJournal;
use journal::sqlite::SqliteJournal;
use journal::Journal;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Pool};

/// Where the MySQL-compatible test server is; each test creates its own database there.
pub const MYSQL_URL_VARIABLE: &str = "LEDGER_TEST_MYSQL_URL";
pub const MYSQL_URL_DEFAULT: &str = "mysql://root@127.0.0.1:3306";
/// Prefix of every database the tests create, so CI's cleanup finds leftovers.
pub const TEST_DATABASE_PREFIX: &str = "ledger_t_";
/// The stand-in accepts any key; this is the well-known emulator key's shape.
const STAND_IN_KEY: &str = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";
/// The region the stand-in reports for its account.
const STAND_IN_REGION: &str = "South Central US";
const COSMOS_CONTAINER: &str = "journal";

/// A journal that removes its storage when the test ends.
pub struct TestJournal {
    pub journal: Box<dyn Journal>,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Database(Pool, String),
    /// The stand-in keeps everything in memory and ends with the test process.
    Nothing,
}

impl TestJournal {
    pub async fn finish(self) {
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database(pool, database) => {
                let mut conn = pool.get_conn().await.expect("connection for cleanup");
                conn.query_drop(format!("DROP DATABASE `{database}`")).await.expect("drop the test database");
                drop(conn);
                pool.disconnect().await.expect("close the pool");
            }
            Cleanup::Nothing => (),
        }
    }
}

fn unique_name() -> String {
    format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

pub async fn sqlite_journal() -> TestJournal {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let journal = SqliteJournal::open(&path).await.expect("open the SQLite journal");
    TestJournal { journal: Box::new(journal), cleanup: Cleanup::File(path) }
}

/// A fresh MariaDB database. There is no skip: without a server this fails.
pub async fn mysql_journal() -> TestJournal {
    let server = std::env::var(MYSQL_URL_VARIABLE).unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_string());
    let database = unique_name();
    let opts = Opts::from_url(&server).expect("a valid LEDGER_TEST_MYSQL_URL");
    let mut conn = Conn::new(opts.clone())
        .await
        .unwrap_or_else(|err| panic!("MySQL at {server} must be reachable for the journal tests: {err} (the test command `bash tests/run.sh` starts a MariaDB when none is running; LEDGER_TEST_MYSQL_URL names another server)"));
    conn.query_drop(format!("CREATE DATABASE `{database}` CHARACTER SET utf8mb4")).await.expect("create database");
    conn.disconnect().await.expect("disconnect");
    let pool = Pool::new(OptsBuilder::from_opts(opts).db_name(Some(database.clone())));
    let journal = MysqlJournal::open(pool.clone()).await.expect("open the MySQL journal");
    TestJournal { journal: Box::new(journal), cleanup: Cleanup::Database(pool, database) }
}

/// A fresh database and container on the Cosmos stand-in, which starts on first use.
pub async fn cosmos_journal() -> TestJournal {
    let port = cosmos_stand_in::port();
    let config = CosmosJournalConfig {
        endpoint: format!("https://127.0.0.1:{port}/"),
        auth: CosmosAuth::Key(STAND_IN_KEY.to_string()),
        database: unique_name(),
        container: COSMOS_CONTAINER.to_string(),
        region: STAND_IN_REGION.to_string(),
        emulator: true,
    };
    create_container(&config).await;
    let journal = CosmosJournal::open(config).await.expect("open the Cosmos journal");
    TestJournal { journal: Box::new(journal), cleanup: Cleanup::Nothing }
}

async fn create_container(config: &CosmosJournalConfig) {
    use azure_data_cosmos::models::{ContainerProperties, PartitionKeyDefinition};
    let client = journal::cosmos::client(config).await.expect("Cosmos client for the stand-in");
    client.create_database(&config.database, None).await.expect("create the Cosmos database");
    let properties = ContainerProperties::new(config.container.clone(), PartitionKeyDefinition::from("/transferId"));
    client
        .database_client(config.database.as_str())
        .create_container(properties, None)
        .await
        .expect("create the container");
}
