//! Checkpointing for the embedded SQLite files (the ledger and the message journal): a thread of
//! its own that copies the write-ahead log into the database file and keeps the log short.
//!
//! A passive checkpoint never waits for the writer or the readers, but it only copies; the log
//! starts again from its beginning only when a writer finds every frame copied. Under continuous
//! writes that never happens (frames arrive while the checkpoint copies), so the log grew for as
//! long as the load lasted: 20 MB a second at 500 transfers a second, 785 MB after 40 s. Every
//! append then extends the file (its sync writes metadata too), and every read of a page not in
//! the log searches the log's whole index. Median latency at a steady 500/s fell from 65 to
//! 40 ms once the log happened to start again.
//!
//! So the checkpointer thread copies (passive checkpoints) and, when the log is longer than
//! [`WalPolicy::restart_frames`], marks a restart as due; the store's single writer, right after
//! its next commit, runs one more passive checkpoint on its own connection
//! ([`WalRestart::restart_if_due`]). While the writer holds its connection no frame can arrive,
//! so that checkpoint copies the few frames written since the last one, and the writer's next
//! transaction starts the log from its beginning. Neither waits for anybody: a `RESTART`
//! checkpoint, which waits for readers and holds new writers off meanwhile, never got the write
//! lock from the checkpointer's connection (SQLite's busy handler polls, and a writer committing
//! back to back always took the lock first), and run by the writer it stalled the whole pipeline
//! for up to a second now and then.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

/// How often the checkpointer runs by default.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);
/// Log length, in frames (pages), beyond which the log is started again by default: 16 MiB of
/// 4 KiB pages, under a second of writes at the loads the switch is built for.
pub const WAL_RESTART_FRAMES: i64 = 4_096;

/// When the checkpointer runs and when it asks for a restart.
#[derive(Debug, Clone, Copy)]
pub struct WalPolicy {
    pub interval: Duration,
    pub restart_frames: i64,
}

impl Default for WalPolicy {
    fn default() -> WalPolicy {
        WalPolicy { interval: CHECKPOINT_INTERVAL, restart_frames: WAL_RESTART_FRAMES }
    }
}

/// The checkpointer's request to the writer to start the log again.
#[derive(Debug, Clone, Default)]
pub struct WalRestart {
    due: Arc<AtomicBool>,
}

impl WalRestart {
    /// Called by the writer right after a commit, on the writer's connection (outside any
    /// transaction): if the checkpointer asked for it, copies what is left of the log while no
    /// new frame can arrive, so the writer's next transaction starts the log again. Passive: it
    /// waits for nobody, and stays due if a reader's older snapshot kept frames from being copied.
    pub fn restart_if_due(&self, writer: &Connection) {
        if !self.due.swap(false, Ordering::Relaxed) {
            return;
        }
        if !passive_checkpoint(writer).is_some_and(|it| it.copied_all()) {
            self.due.store(true, Ordering::Relaxed);
        }
    }
}

/// Checkpoints on a thread named `name`, over its own connection `conn` to the database, every
/// `policy.interval` while `alive()` holds, and marks a restart as due in the returned
/// [`WalRestart`] when the log is long. A failed checkpoint leaves the frames in the log, where
/// readers find them; the next one copies them.
pub fn start_checkpointer(
    name: &str,
    conn: Connection,
    policy: WalPolicy,
    alive: impl Fn() -> bool + Send + 'static,
) -> WalRestart {
    let restart = WalRestart::default();
    let due = restart.due.clone();
    let work = move || {
        while alive() {
            std::thread::sleep(policy.interval);
            if passive_checkpoint(&conn).is_some_and(|it| it.log_frames > policy.restart_frames) {
                due.store(true, Ordering::Relaxed);
            }
        }
    };
    // Without the thread the writer's own automatic checkpoints (`wal_autocheckpoint`) remain.
    let _ = std::thread::Builder::new().name(name.to_string()).spawn(work);
    restart
}

/// What `PRAGMA wal_checkpoint` reports.
struct Checkpointed {
    /// Whether it could not run (another checkpoint was running).
    busy: bool,
    log_frames: i64,
    copied_frames: i64,
}

impl Checkpointed {
    fn copied_all(&self) -> bool {
        !self.busy && self.copied_frames == self.log_frames
    }
}

/// Runs a passive checkpoint; `None` if SQLite refused it.
fn passive_checkpoint(conn: &Connection) -> Option<Checkpointed> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(Checkpointed { busy: row.get::<_, i64>(0)? != 0, log_frames: row.get(1)?, copied_frames: row.get(2)? })
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROWS: usize = 6_000;
    const ROW_BYTES: usize = 2_048;

    fn open(path: &std::path::Path) -> Connection {
        let conn = Connection::open(path).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        // Only the log's length is under test; syncs would only slow the test down.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA wal_autocheckpoint = 0;")
            .unwrap();
        conn
    }

    #[test]
    fn the_log_stays_short_under_continuous_writes_and_reads() {
        let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("sqlite_wal_test_{}_{unique}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.db");
        let writer = open(&path);
        writer.execute_batch("CREATE TABLE row (id INTEGER PRIMARY KEY, data BLOB NOT NULL)").unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let policy = WalPolicy { interval: Duration::from_millis(10), restart_frames: 256 };
        let alive = running.clone();
        let restart = start_checkpointer("test-checkpoint", open(&path), policy, move || alive.load(Ordering::Relaxed));
        let reading = running.clone();
        let reader_path = path.clone();
        let reader = std::thread::spawn(move || {
            let conn = open(&reader_path);
            let mut reads = 0u64;
            // Short reads with gaps between them, as a store's reader makes; a reader that never
            // leaves the log holds the restart off (and writers with it, RESTART_WAIT_MS at a time).
            while reading.load(Ordering::Relaxed) {
                let _: Option<i64> = conn.query_row("SELECT MAX(id) FROM row", [], |row| row.get(0)).unwrap();
                reads += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            reads
        });
        let mut largest_log = 0;
        for n in 0..ROWS {
            writer.execute("INSERT INTO row (data) VALUES (?)", [vec![n as u8; ROW_BYTES]]).unwrap();
            restart.restart_if_due(&writer);
            largest_log = largest_log.max(std::fs::metadata(dir.join("test.db-wal")).map(|it| it.len()).unwrap_or(0));
        }
        running.store(false, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0, "the reader read while the writer wrote");
        let written = (ROWS * ROW_BYTES) as u64;
        // Every row went through the log, with its pages: a log that never starts again grows
        // to about six times the rows' bytes here (75 MB for 12 MB), one restarted as asked to
        // between a third and once the rows' bytes, depending on how far the writer outruns the
        // checkpointer on the machine's disk. Twice the rows' bytes tells the two apart anywhere.
        assert!(largest_log < 2 * written, "the log reached {largest_log} bytes for {written} bytes of rows");
        let count: i64 = writer.query_row("SELECT COUNT(*) FROM row", [], |row| row.get(0)).unwrap();
        assert_eq!(count, ROWS as i64);
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
