//! How MySQL's and the driver's errors become [`StoreError`]s: which failures a retry can cure.

use crate::error::StoreError;

/// MySQL server error codes the store translates (`include/mysqld_error.h`).
const ER_DUP_ENTRY: u16 = 1062;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
const ER_NO_REFERENCED_ROW_2: u16 = 1452;
/// Values the schema refuses in strict mode: NULL into NOT NULL, out of range, truncated,
/// wrong string (e.g. non-ASCII into an ASCII column), too long, BIGINT out of range.
const VALUE_ERROR_CODES: [u16; 6] = [1048, 1264, 1265, 1366, 1406, 1690];

pub(crate) fn store_error(err: mysql_async::Error) -> StoreError {
    match &err {
        mysql_async::Error::Server(server) => server_error(server.code, err.to_string()),
        mysql_async::Error::Url(_) => StoreError::Invalid(err.to_string()),
        // Driver, I/O, TLS and pool errors: the connection or the server cannot be used now.
        _ => StoreError::Unavailable(err.to_string()),
    }
}

fn server_error(code: u16, text: String) -> StoreError {
    match code {
        // A lock-wait timeout rolls back only the statement in MySQL; the caller drops the
        // transaction on Conflict, which rolls back the rest.
        ER_DUP_ENTRY | ER_LOCK_WAIT_TIMEOUT | ER_LOCK_DEADLOCK => StoreError::Conflict(text),
        ER_NO_REFERENCED_ROW_2 => StoreError::NotFound(text),
        code if VALUE_ERROR_CODES.contains(&code) => StoreError::Invalid(text),
        _ => StoreError::Unavailable(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_map_to_store_errors() {
        assert!(matches!(server_error(ER_DUP_ENTRY, String::new()), StoreError::Conflict(_)));
        assert!(matches!(server_error(ER_LOCK_DEADLOCK, String::new()), StoreError::Conflict(_)));
        assert!(matches!(server_error(ER_LOCK_WAIT_TIMEOUT, String::new()), StoreError::Conflict(_)));
        assert!(matches!(server_error(ER_NO_REFERENCED_ROW_2, String::new()), StoreError::NotFound(_)));
        assert!(matches!(server_error(1264, String::new()), StoreError::Invalid(_)));
        assert!(matches!(server_error(1040, String::new()), StoreError::Unavailable(_)));
    }
}
