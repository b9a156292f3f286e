//! How the SQLite store keeps an amount exactly over the whole range of [`Amount`]: its units of
//! 10^-4 as an INTEGER while they fit 64 bits, otherwise as their decimal text, in columns with
//! no declared type (migration 0005 says why). Each value has exactly one stored form.
//!
//! SQLite does no arithmetic on amounts: its SUM would turn the text form into a lossy REAL,
//! so the window sums are added up here, in `i128`.

use std::collections::BTreeMap;

use ledger_core::account::ParticipantRole;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, Value, ValueRef};
use rusqlite::Connection;

use super::sql_error;
use crate::decode::currency;
use crate::operator::decode::account_type;
use crate::operator::WindowSum;
use crate::StoreError;

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

/// The position changes of the transfers whose fulfilment names the window, one row each.
const WINDOW_CHANGES: &str = "SELECT c.account_id, pc.participant_id, pc.ledger_account_type, pc.currency, c.change_amount \
    FROM transfer_fulfilment f JOIN participant_position_change c ON c.transfer_seq = f.transfer_seq \
    JOIN participant_currency pc ON pc.account_id = c.account_id WHERE f.settlement_window_id = ?";

/// A window's position changes summed per account and sign (a positive change is the payer's),
/// ordered by account and payer first: what `operator::sql::WINDOW_SUMS` gives on MySQL.
pub(crate) fn window_sums(conn: &Connection, window: WindowId) -> Result<Vec<WindowSum>, StoreError> {
    let mut stmt = conn.prepare_cached(WINDOW_CHANGES).map_err(sql_error)?;
    let mut rows = stmt.query([window.0 as i64]).map_err(sql_error)?;
    let mut sums: BTreeMap<(AccountId, u8), WindowSum> = BTreeMap::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let account = AccountId(row.get::<_, i64>(0).map_err(sql_error)? as u64);
        let change = row.get::<_, StoredAmount>(4).map_err(sql_error)?.0;
        let role = match change.is_positive() {
            true => ParticipantRole::PayerDfsp,
            false => ParticipantRole::PayeeDfsp,
        };
        let sum = match sums.get_mut(&(account, role.id())) {
            Some(it) => it,
            None => {
                let first = WindowSum {
                    account,
                    participant: ParticipantId(row.get::<_, i64>(1).map_err(sql_error)? as u64),
                    kind: account_type(row.get(2).map_err(sql_error)?)?,
                    currency: currency(&row.get::<_, String>(3).map_err(sql_error)?)?,
                    role,
                    amount: Amount::ZERO,
                };
                sums.entry((account, role.id())).or_insert(first)
            }
        };
        // Beyond i128 would take some 10^16 transfers of the largest FSPIOP amount.
        let units = sum.amount.units().checked_add(change.units());
        sum.amount = Amount::from_units(units.ok_or_else(|| StoreError::Corrupt(format!("window {window} sum overflows")))?);
    }
    Ok(sums.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: Value) -> FromSqlResult<StoredAmount> {
        StoredAmount::column_result(ValueRef::from(&value))
    }

    #[test]
    fn each_amount_has_one_stored_form_and_reads_back() {
        let edges = [0, 1, -1, i128::from(i64::MAX), i128::from(i64::MIN), i128::from(i64::MAX) + 1, i128::from(i64::MIN) - 1];
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
