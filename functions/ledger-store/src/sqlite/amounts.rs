//! How the SQLite store keeps an amount exactly over the whole range of [`Amount`]: its units of
//! 10^-4 as an INTEGER while they fit 64 bits, otherwise as their decimal text, in columns with
//! no declared type (migration 0005 says why). Each value has exactly one stored form.
//!
//! SQLite does no arithmetic on amounts: its SUM would turn the text form into a lossy REAL,
//! so the window sums are added up in Rust, in `i128` (`operator/sqlite.rs`).

use ledger_core::amount::Amount;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, Value, ValueRef};

/// The stored form of an amount: INTEGER units in the common range, text beyond it.
pub(crate) fn amount_value(amount: Amount) -> Value {
    match i64::try_from(amount.units()) {
        Ok(units) => Value::Integer(units),
        Err(_) => Value::Text(amount.units().to_string()),
    }
}

/// An amount read back from either stored form; anything else is corrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredAmount(pub Amount);

impl FromSql for StoredAmount {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<StoredAmount> {
        match value {
            ValueRef::Integer(units) => Ok(StoredAmount(Amount::from_units(i128::from(units)))),
            ValueRef::Text(text) => wide_units(text).map(|it| StoredAmount(Amount::from_units(it))),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

/// Units stored as text: canonical digits (what `i128::to_string` prints) beyond 64 bits, as
/// [`amount_value`] writes them; an INTEGER-sized value in text was not written by this store.
fn wide_units(text: &[u8]) -> FromSqlResult<i128> {
    let corrupt = || FromSqlError::Other(format!("stored amount {:?}", String::from_utf8_lossy(text)).into());
    let units: i128 = std::str::from_utf8(text).ok().and_then(|it| it.parse().ok()).ok_or_else(corrupt)?;
    let canonical = units.to_string().as_bytes() == text;
    match canonical && i64::try_from(units).is_err() {
        true => Ok(units),
        false => Err(corrupt()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Value) -> FromSqlResult<StoredAmount> {
        StoredAmount::column_result(ValueRef::from(&value))
    }

    #[test]
    fn each_amount_has_one_stored_form_and_reads_back() {
        let edges =
            [0, 1, -1, i128::from(i64::MAX), i128::from(i64::MIN), i128::from(i64::MAX) + 1, i128::from(i64::MIN) - 1];
        for units in edges.into_iter().chain([10_i128.pow(22) - 1, i128::MAX, i128::MIN]) {
            let value = amount_value(Amount::from_units(units));
            assert_eq!(matches!(value, Value::Integer(_)), i64::try_from(units).is_ok(), "{units}");
            assert_eq!(read(value), Ok(StoredAmount(Amount::from_units(units))));
        }
    }

    #[test]
    fn text_this_store_would_not_write_is_corrupt() {
        for text in ["12", "-5", "+99999999999999999999999", "099999999999999999999999", "1e30", "", "x"] {
            assert!(read(Value::Text(text.to_string())).is_err(), "{text:?}");
        }
        assert!(matches!(read(Value::Real(1.0)), Err(FromSqlError::InvalidType)));
        assert!(matches!(read(Value::Blob(vec![1])), Err(FromSqlError::InvalidType)));
    }
}
