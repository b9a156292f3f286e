//! Applying the SQLite migrations (listed in `sqlite::MIGRATIONS`): each once, in its own
//! transaction, recorded in `schema_migration`.

use rusqlite::{Connection, OptionalExtension};

use super::{sql_error, MIGRATIONS};
use crate::error::StoreError;

/// Applies the pending migrations with foreign keys off, as rebuilding a table needs (SQLite's
/// "12 steps"; the pragma is a no-op inside a transaction), each checked before it commits.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA foreign_keys = OFF").map_err(sql_error)?;
    let res = migrate_each(conn);
    conn.execute_batch("PRAGMA foreign_keys = ON").map_err(sql_error)?;
    res
}

fn migrate_each(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migration (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)",
    )
    .map_err(sql_error)?;
    for (version, sql) in MIGRATIONS {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
        let applied: Option<i64> = conn
            .query_row("SELECT version FROM schema_migration WHERE version = ?", [version], |row| row.get(0))
            .optional()
            .map_err(sql_error)?;
        let res = match applied {
            Some(_) => Ok(()),
            None => conn
                .execute_batch(sql)
                .and_then(|()| conn.execute("INSERT INTO schema_migration VALUES (?, 0)", [version]).map(|_| ()))
                .map_err(sql_error)
                .and_then(|()| foreign_keys_hold(conn)),
        };
        match res {
            Ok(()) => conn.execute_batch("COMMIT").map_err(sql_error)?,
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err);
            }
        }
    }
    Ok(())
}

/// `PRAGMA foreign_key_check` finds no row pointing nowhere (what foreign keys would have
/// refused while they were off).
fn foreign_keys_hold(conn: &Connection) -> Result<(), StoreError> {
    let dangling: Option<String> =
        conn.query_row("PRAGMA foreign_key_check", [], |row| row.get(0)).optional().map_err(sql_error)?;
    match dangling {
        None => Ok(()),
        Some(table) => Err(StoreError::Corrupt(format!("a row of {table} references a missing row"))),
    }
}
