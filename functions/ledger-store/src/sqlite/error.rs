//! How SQLite's errors become [`StoreError`]s: which failures a retry can cure.

use crate::error::StoreError;

pub(crate) fn sql_error(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(code, _) => match code.code {
            // A taken key is a concurrent or earlier writer: re-running from the load step
            // resolves it. Any other constraint (NOT NULL, CHECK, a foreign key) fails the same
            // way every time, and must not be retried forever.
            rusqlite::ErrorCode::ConstraintViolation
                if matches!(
                    code.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                ) =>
            {
                StoreError::Conflict(err.to_string())
            }
            rusqlite::ErrorCode::ConstraintViolation => StoreError::Invalid(err.to_string()),
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                StoreError::Conflict(err.to_string())
            }
            _ => StoreError::Unavailable(err.to_string()),
        },
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StoreError::Corrupt(err.to_string())
        }
        _ => StoreError::Unavailable(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure_of(setup: &str, statement: &str) -> StoreError {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection.execute_batch(setup).unwrap();
        sql_error(connection.execute_batch(statement).unwrap_err())
    }

    const TABLES: &str = "PRAGMA foreign_keys = ON; \
        CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE); \
        CREATE TABLE child (parent INTEGER NOT NULL REFERENCES parent (id), n INTEGER CHECK (n > 0)); \
        INSERT INTO parent VALUES (1, 'a');";

    #[test]
    fn a_taken_key_is_a_conflict_a_retry_resolves() {
        assert!(matches!(failure_of(TABLES, "INSERT INTO parent VALUES (1, 'b')"), StoreError::Conflict(_)));
        assert!(matches!(failure_of(TABLES, "INSERT INTO parent VALUES (2, 'a')"), StoreError::Conflict(_)));
        assert!(failure_of(TABLES, "INSERT INTO parent VALUES (2, 'a')").is_transient());
    }

    #[test]
    fn other_constraints_fail_for_good() {
        for statement in [
            "INSERT INTO parent VALUES (2, NULL)",
            "INSERT INTO child VALUES (9, 1)",
            "INSERT INTO child VALUES (1, 0)",
        ] {
            let failure = failure_of(TABLES, statement);
            assert!(matches!(failure, StoreError::Invalid(_)), "{statement}: {failure:?}");
            assert!(!failure.is_transient(), "{statement}");
        }
    }
}
