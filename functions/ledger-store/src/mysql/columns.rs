//! How values travel to and from MySQL: parameters built from ledger values, and result rows
//! read column by column, where a value the ledger cannot read is [`StoreError::Corrupt`].

use ledger_core::account::NetDebitCap;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, FspId, TransferId};
use ledger_core::time::Timestamp;
use mysql_async::prelude::FromValue;
use mysql_async::{Row, Value};

use crate::decode::transfer_id;
use crate::error::StoreError;

pub(crate) fn fsp_id_values(names: &[FspId]) -> Vec<Value> {
    names.iter().map(|it| Value::from(it.as_str())).collect()
}

pub(crate) fn transfer_id_values(ids: &[TransferId]) -> Vec<Value> {
    ids.iter().map(|it| Value::from(it.as_str())).collect()
}

pub(crate) fn account_values(ids: &[AccountId]) -> Vec<Value> {
    ids.iter().map(|it| Value::from(it.0)).collect()
}

/// An amount as the exact decimal text a `DECIMAL(39,4)` column takes; every `Amount` fits.
pub(crate) fn decimal_value(amount: Amount) -> Value {
    Value::from(amount.to_decimal_string())
}

pub(crate) fn ms(at: Timestamp) -> Value {
    Value::from(at.unix_ms())
}

/// A result row read column by column, in order; a value the ledger cannot read is `Corrupt`.
pub(crate) struct Columns {
    row: Row,
    next_idx: usize,
}

impl Columns {
    pub(crate) fn new(row: Row) -> Columns {
        Columns { row, next_idx: 0 }
    }

    pub(crate) fn value<T: FromValue>(&mut self) -> Result<T, StoreError> {
        let idx = self.next_idx;
        self.next_idx += 1;
        match self.row.take_opt::<T, usize>(idx) {
            Some(Ok(value)) => Ok(value),
            Some(Err(err)) => Err(StoreError::Corrupt(format!("column {idx}: {err}"))),
            None => Err(StoreError::Corrupt(format!("column {idx} is missing"))),
        }
    }

    /// DECIMAL columns arrive as text in both protocols, so no float is ever involved.
    pub(crate) fn amount(&mut self) -> Result<Amount, StoreError> {
        decimal(&self.value::<String>()?)
    }

    pub(crate) fn amount_opt(&mut self) -> Result<Option<Amount>, StoreError> {
        self.value::<Option<String>>()?.map(|it| decimal(&it)).transpose()
    }

    pub(crate) fn timestamp(&mut self) -> Result<Timestamp, StoreError> {
        Ok(Timestamp::from_unix_ms(self.value()?))
    }

    pub(crate) fn flag(&mut self) -> Result<bool, StoreError> {
        Ok(self.value::<i64>()? != 0)
    }

    pub(crate) fn transfer_id(&mut self) -> Result<TransferId, StoreError> {
        transfer_id(&self.value::<String>()?)
    }
}

pub(crate) fn decimal(text: &str) -> Result<Amount, StoreError> {
    Amount::parse_stored(text).map_err(|err| StoreError::Corrupt(format!("amount {text:?}: {err:?}")))
}

pub(crate) fn net_debit_cap(value: Amount) -> Result<NetDebitCap, StoreError> {
    NetDebitCap::new(value)
        .ok_or_else(|| StoreError::Corrupt(format!("negative net debit cap {}", value.to_decimal_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_amount_travels_as_exact_decimal_text() {
        assert_eq!(decimal_value(Amount::from_units(-125_000)), Value::from("-12.5000"));
        for units in [10_i128.pow(22) - 1, i128::MAX, i128::MIN] {
            let Value::Bytes(text) = decimal_value(Amount::from_units(units)) else { panic!("text") };
            assert_eq!(decimal(std::str::from_utf8(&text).unwrap()), Ok(Amount::from_units(units)));
        }
    }
}
