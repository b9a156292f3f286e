//! The SQLite half of transfers and positions (see `transfers`); `mysql.rs` is its twin.
//!
//! Transfers get a sequential `transfer_seq` to which all child rows are keyed. This store is
//! the only writer while a transaction runs, so `insert_transfers` knows the next seqs up front
//! and child rows of other calls resolve their transfer id inside their INSERT.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use ledger_core::account::{LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId, WindowId};
use ledger_core::position::PositionAccount;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, Row};

use super::{
    CurrentState, HashKind, NewFulfilment, NewPositionChange, NewStateChange, NewTransfer, NewTransferError,
    TransferRecord, TransferStore, TransferTx, ERROR_DESCRIPTION_LENGTH_MAX, STATE_REASON_LENGTH_MAX,
};
use crate::checks::keyed_by_own_transfer;
use crate::decode::{condition, currency, fsp_id, fulfilment, transfer_id, transfer_state};
use crate::error::StoreError;
use crate::reference::NET_DEBIT_CAP_LIMIT_TYPE;
use crate::sqlite::amounts::{amount_value, StoredAmount};
use crate::sqlite::error::sql_error;
use crate::sqlite::{expect_one_row, insert_rows, SqliteStore, SqliteTx};
use crate::statements::{in_list_chunks, insert_runs, lock_order, placeholders};
use crate::text::truncate_chars;

#[async_trait]
impl TransferStore for SqliteStore {
    async fn transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>, StoreError> {
        let conn = self.reader.lock().await;
        let mut found = load_transfers(&conn, std::slice::from_ref(id))?;
        Ok(found.remove(id))
    }

    async fn transfers(&self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        let conn = self.reader.lock().await;
        load_transfers(&conn, ids)
    }

    async fn state_history(&self, id: &TransferId) -> Result<Vec<CurrentState>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT s.state, s.seq, s.created_ms FROM transfer t \
                     JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
                     WHERE t.transfer_id = ? ORDER BY s.seq",
                )
                .map_err(sql_error)?;
            let rows = stmt.query_map([id.as_str()], |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?)));
            // Bound to a local so `rows` (which borrows `stmt`) is dropped before `stmt`.
            #[allow(clippy::let_and_return)]
            let res = rows
                .map_err(sql_error)?
                .map(|it| it.map_err(sql_error).and_then(|(state, seq, at)| current_state(&state, seq, at)))
                .collect();
            res
        })()
    }

    async fn position_journal(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Option<TransferId>, Amount, Amount)>, StoreError> {
        let conn = self.reader.lock().await;
        (|| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT t.transfer_id, c.change_amount, c.value FROM participant_position_change c \
                     LEFT JOIN transfer t ON t.transfer_seq = c.transfer_seq WHERE c.account_id = ? ORDER BY c.id",
                )
                .map_err(sql_error)?;
            let rows = stmt.query_map([account.0 as i64], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, StoredAmount>(1)?.0,
                    row.get::<_, StoredAmount>(2)?.0,
                ))
            });
            // Bound to a local so `rows` (which borrows `stmt`) is dropped before `stmt`.
            #[allow(clippy::let_and_return)]
            let res = rows
                .map_err(sql_error)?
                .map(|it| {
                    let (id, change, value) = it.map_err(sql_error)?;
                    let id = id.map(|it| transfer_id(&it)).transpose()?;
                    Ok((id, change, value))
                })
                .collect();
            res
        })()
    }
}

#[async_trait]
impl TransferTx for SqliteTx {
    async fn lock_positions(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError> {
        let ids = lock_order(accounts);
        let locked = lock_positions(&self.conn, &ids)?;
        self.checks.locked(locked.iter().map(|(id, it)| (*id, it.position)));
        Ok(locked)
    }

    async fn lock_balances(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<BTreeMap<AccountId, (Amount, Amount)>, StoreError> {
        let ids = lock_order(accounts);
        let locked = (|| {
            let mut res = BTreeMap::new();
            for chunk in in_list_chunks(&ids) {
                let sql = format!(
                    "SELECT account_id, value, reserved_value FROM participant_position WHERE account_id IN ({})",
                    placeholders(chunk.len())
                );
                let mut stmt = self.conn.prepare_cached(&sql).map_err(sql_error)?;
                let rows = stmt
                    .query_map(params_from_iter(chunk.iter().map(|it| it.0 as i64)), |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, StoredAmount>(1)?.0, row.get::<_, StoredAmount>(2)?.0))
                    })
                    .map_err(sql_error)?;
                for row in rows {
                    let (id, value, reserved) = row.map_err(sql_error)?;
                    res.insert(AccountId(id as u64), (value, reserved));
                }
            }
            Ok(res)
        })()?;
        self.checks.locked(locked.iter().map(|(id, (value, _))| (*id, *value)));
        Ok(locked)
    }

    async fn current_states(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
        let states = current_states(&self.conn, ids)?;
        self.checks.states_read(&states);
        Ok(states)
    }

    async fn hashes(
        &mut self,
        kind: HashKind,
        ids: &[TransferId],
    ) -> Result<HashMap<TransferId, RequestHash>, StoreError> {
        let source = match kind {
            HashKind::Prepare => "SELECT t.transfer_id, t.prepare_hash FROM transfer t",
            HashKind::Fulfil => {
                "SELECT t.transfer_id, d.hash FROM transfer t \
                 JOIN transfer_fulfilment_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
            HashKind::Error => {
                "SELECT t.transfer_id, d.hash FROM transfer t \
                 JOIN transfer_error_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
        };
        (|| {
            let mut res = HashMap::new();
            for chunk in in_list_chunks(ids) {
                let sql = format!("{source} WHERE t.transfer_id IN ({})", placeholders(chunk.len()));
                let mut stmt = self.conn.prepare_cached(&sql).map_err(sql_error)?;
                let rows = stmt
                    .query_map(params_from_iter(chunk.iter().map(|it| it.as_str())), |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                    })
                    .map_err(sql_error)?;
                for row in rows {
                    let (id, hash) = row.map_err(sql_error)?;
                    res.insert(transfer_id(&id)?, RequestHash::new(hash));
                }
            }
            Ok(res)
        })()
    }

    async fn transfers(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        let records = load_transfers(&self.conn, ids)?;
        self.checks.transfers_read(&records);
        Ok(records)
    }

    async fn insert_transfers(&mut self, rows: &[NewTransfer]) -> Result<(), StoreError> {
        insert_transfers(&self.conn, rows)?;
        self.checks.transfers_inserted(rows);
        Ok(())
    }

    async fn insert_hashes(
        &mut self,
        kind: HashKind,
        rows: &[(TransferId, RequestHash, Timestamp)],
    ) -> Result<(), StoreError> {
        let table = match kind {
            HashKind::Prepare => {
                return Err(StoreError::Invalid("prepare hashes are written with the transfer".into()))
            }
            HashKind::Fulfil => "transfer_fulfilment_duplicate_check",
            HashKind::Error => "transfer_error_duplicate_check",
        };
        let values = rows
            .iter()
            .map(|(id, hash, at)| Ok((id, vec![Value::Text(hash.as_str().to_string()), Value::Integer(at.unix_ms())])));
        insert_children(&self.conn, table, "hash, created_ms", values)
    }

    async fn insert_state_changes(&mut self, rows: &[NewStateChange]) -> Result<(), StoreError> {
        insert_state_changes(&self.conn, rows.iter().map(Ok))?;
        self.checks.state_changes(rows);
        Ok(())
    }

    async fn insert_position_changes(&mut self, rows: &[NewPositionChange]) -> Result<(), StoreError> {
        let values = rows.iter().map(|row| {
            let values = vec![
                Value::Integer(row.account.0 as i64),
                Value::Integer(i64::from(row.seq)),
                amount_value(row.change),
                amount_value(row.value),
                amount_value(row.reserved),
                Value::Integer(row.created.unix_ms()),
            ];
            Ok((&row.transfer_id, values))
        });
        let columns = "account_id, seq, change_amount, value, reserved_value, created_ms";
        insert_children(&self.conn, "participant_position_change", columns, values)?;
        self.checks.position_changes(rows);
        Ok(())
    }

    async fn update_positions(&mut self, rows: &[(AccountId, Amount)], changed: Timestamp) -> Result<(), StoreError> {
        (|| {
            let mut stmt = self
                .conn
                .prepare_cached("UPDATE participant_position SET value = ?, changed_ms = ? WHERE account_id = ?")
                .map_err(sql_error)?;
            for (account, value) in rows {
                let n = stmt
                    .execute(params![amount_value(*value), changed.unix_ms(), account.0 as i64])
                    .map_err(sql_error)?;
                expect_one_row(n, "position")?;
            }
            Ok(())
        })()?;
        self.checks.positions(rows);
        Ok(())
    }

    async fn insert_errors(&mut self, rows: &[NewTransferError]) -> Result<(), StoreError> {
        let values = rows.iter().map(|row| {
            let values = vec![
                Value::Integer(i64::from(row.seq)),
                Value::Integer(i64::from(row.code)),
                Value::Text(truncate_chars(&row.description, ERROR_DESCRIPTION_LENGTH_MAX).to_string()),
                Value::Integer(row.created.unix_ms()),
            ];
            Ok((&row.transfer_id, values))
        });
        let columns = "seq, error_code, error_description, created_ms";
        insert_children(&self.conn, "transfer_error", columns, values)
    }

    async fn insert_fulfilments(&mut self, rows: &[NewFulfilment]) -> Result<(), StoreError> {
        let values = rows.iter().map(|row| {
            let values = vec![
                row.fulfilment.map_or(Value::Null, |it| Value::Text(it.to_base64url())),
                Value::Integer(row.completed.unix_ms()),
                Value::Integer(row.window.0 as i64),
                Value::Integer(row.created.unix_ms()),
            ];
            Ok((&row.transfer_id, values))
        });
        let columns = "ilp_fulfilment, completed_ms, settlement_window_id, created_ms";
        insert_children(&self.conn, "transfer_fulfilment", columns, values)
    }
}

fn lock_positions(conn: &Connection, ids: &[AccountId]) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError> {
    let mut res = BTreeMap::new();
    for chunk in in_list_chunks(ids) {
        // The settlement account is the same participant's SETTLEMENT account in the same
        // currency; the cap is the position account's active NET_DEBIT_CAP.
        let sql = format!(
            "SELECT pc.account_id, pp.value, pp.reserved_value, \
                    (SELECT sp.value FROM participant_currency sc \
                       JOIN participant_position sp ON sp.account_id = sc.account_id \
                      WHERE sc.participant_id = pc.participant_id AND sc.currency = pc.currency \
                        AND sc.ledger_account_type = {settlement}), \
                    (SELECT pl.value FROM participant_limit pl \
                      WHERE pl.account_id = pc.account_id AND pl.limit_type = {cap} AND pl.is_active = 1) \
               FROM participant_currency pc \
               JOIN participant_position pp ON pp.account_id = pc.account_id \
              WHERE pc.account_id IN ({}) ORDER BY pc.account_id",
            placeholders(chunk.len()),
            settlement = LedgerAccountType::Settlement.id(),
            cap = NET_DEBIT_CAP_LIMIT_TYPE,
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params_from_iter(chunk.iter().map(|it| it.0 as i64)), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, StoredAmount>(1)?.0,
                    row.get::<_, StoredAmount>(2)?.0,
                    row.get::<_, Option<StoredAmount>>(3)?.map(|it| it.0),
                    row.get::<_, Option<StoredAmount>>(4)?.map(|it| it.0),
                ))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (id, value, reserved, settlement, cap) = row.map_err(sql_error)?;
            let cap = cap.map(|it| NetDebitCap::new(it).ok_or_else(|| StoreError::Corrupt("negative cap".into())));
            let account = PositionAccount {
                position: value,
                reserved,
                settlement_balance: settlement.unwrap_or(Amount::ZERO),
                net_debit_cap: cap.transpose()?,
            };
            res.insert(AccountId(id as u64), account);
        }
    }
    Ok(res)
}

fn current_states(conn: &Connection, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
    let mut res: HashMap<TransferId, CurrentState> = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, s.state, s.seq, s.created_ms FROM transfer t \
             JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params_from_iter(chunk.iter().map(|it| it.as_str())), |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (id, state, seq, at) = row.map_err(sql_error)?;
            let state = current_state(&state, seq, at)?;
            let entry = res.entry(transfer_id(&id)?).or_insert(state);
            if entry.seq < state.seq {
                *entry = state;
            }
        }
    }
    Ok(res)
}

fn insert_transfers(conn: &Connection, rows: &[NewTransfer]) -> Result<(), StoreError> {
    // This transaction is the only writer, so the next sequence numbers are known up front and
    // the child rows need no lookup of the ids just inserted.
    let last: i64 = conn
        .query_row("SELECT COALESCE(MAX(transfer_seq), 0) FROM transfer", [], |row| row.get(0))
        .map_err(sql_error)?;
    let seqs: Vec<i64> = (1..=rows.len() as i64).map(|idx| last + idx).collect();
    let transfers = rows.iter().zip(&seqs).map(|(row, seq)| {
        Ok(vec![
            Value::Integer(*seq),
            Value::Text(row.transfer_id.to_string()),
            Value::Text(row.payer.to_string()),
            Value::Text(row.payee.to_string()),
            row.payer_account.map_or(Value::Null, |it| Value::Integer(it.0 as i64)),
            row.payee_account.map_or(Value::Null, |it| Value::Integer(it.0 as i64)),
            amount_value(row.amount),
            Value::Text(row.currency.code().to_string()),
            row.condition.map_or(Value::Null, |it| Value::Text(it.to_base64url())),
            Value::Integer(row.expiration.unix_ms()),
            Value::Text(row.ilp_packet.clone()),
            Value::Text(row.hash.as_str().to_string()),
            Value::Integer(row.created.unix_ms()),
        ])
    });
    let head = "INSERT INTO transfer (transfer_seq, transfer_id, payer_fsp, payee_fsp, payer_account_id, \
                payee_account_id, amount, currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms)";
    insert_rows(conn, head, "", transfers)?;
    // The child rows below are keyed by these seqs: each must be its own transfer's.
    debug_assert!(keyed_by_own_transfer(rows.iter().map(|it| &it.transfer_id).zip(seqs.iter().copied())));
    let first_states = rows.iter().zip(&seqs).map(|(row, seq)| {
        let reason = row.reason.as_deref().map(|it| truncate_chars(it, STATE_REASON_LENGTH_MAX).to_string());
        Ok(vec![
            Value::Integer(*seq),
            Value::Integer(1),
            Value::Text(row.state.name().to_string()),
            reason.map_or(Value::Null, Value::Text),
            Value::Integer(row.created.unix_ms()),
        ])
    });
    insert_rows(
        conn,
        "INSERT INTO transfer_state_change (transfer_seq, seq, state, reason, created_ms)",
        "",
        first_states,
    )?;
    let extensions = rows.iter().zip(&seqs).flat_map(|(row, seq)| {
        row.extensions
            .iter()
            .map(|(key, value)| Ok(vec![Value::Integer(*seq), Value::Text(key.clone()), Value::Text(value.clone())]))
    });
    insert_rows(conn, "INSERT INTO transfer_extension (transfer_seq, ext_key, ext_value)", "", extensions)?;
    let timeouts = rows
        .iter()
        .zip(&seqs)
        .filter(|(row, _)| row.state == TransferState::ReceivedPrepare)
        .map(|(row, seq)| Ok(vec![Value::Integer(row.expiration.unix_ms()), Value::Integer(*seq)]));
    insert_rows(conn, "INSERT INTO transfer_timeout (expiration_ms, transfer_seq)", "", timeouts)
}

fn insert_state_changes<'a>(
    conn: &Connection,
    rows: impl Iterator<Item = Result<&'a NewStateChange, StoreError>>,
) -> Result<(), StoreError> {
    let values = rows.map(|row| {
        let row = row?;
        let reason = row.reason.as_deref().map(|it| truncate_chars(it, STATE_REASON_LENGTH_MAX).to_string());
        let values = vec![
            Value::Integer(i64::from(row.seq)),
            Value::Text(row.state.name().to_string()),
            reason.map_or(Value::Null, Value::Text),
            Value::Integer(row.created.unix_ms()),
        ];
        Ok((&row.transfer_id, values))
    });
    insert_children(conn, "transfer_state_change", "seq, state, reason, created_ms", values)
}

/// Inserts rows of a child table keyed by `transfer_seq`, resolving each row's transfer id in
/// the same statement, one statement per chunk. Rows keep their order (the journal's ids are
/// its order); a row naming an unknown transfer is refused with [`StoreError::NotFound`].
fn insert_children<'a>(
    conn: &Connection,
    table: &str,
    columns: &str,
    rows: impl Iterator<Item = Result<(&'a TransferId, Vec<Value>), StoreError>>,
) -> Result<(), StoreError> {
    let mut all: Vec<Vec<Value>> = Vec::new();
    for row in rows {
        let (id, values) = row?;
        let mut full = Vec::with_capacity(values.len() + 2);
        // The row's place: each statement orders its rows by it.
        full.push(Value::Integer(all.len() as i64));
        full.push(Value::Text(id.to_string()));
        full.extend(values);
        all.push(full);
    }
    for run in insert_runs(&all) {
        execute_child_insert(conn, table, columns, run)?;
    }
    Ok(())
}

fn execute_child_insert(conn: &Connection, table: &str, columns: &str, rows: &[Vec<Value>]) -> Result<(), StoreError> {
    let n_columns = rows[0].len();
    let selected: Vec<String> = (3..=n_columns).map(|idx| format!("v.column{idx}")).collect();
    let row = format!("({})", placeholders(n_columns));
    let sql = format!(
        "INSERT INTO {table} (transfer_seq, {columns}) SELECT t.transfer_seq, {} \
         FROM (VALUES {}) AS v JOIN transfer t ON t.transfer_id = v.column2 ORDER BY v.column1",
        selected.join(", "),
        vec![row; rows.len()].join(","),
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
    let n_inserted = stmt.execute(params_from_iter(rows.iter().flatten())).map_err(sql_error)?;
    if n_inserted != rows.len() {
        return Err(StoreError::NotFound(format!(
            "{} of {} {table} rows name no stored transfer",
            rows.len() - n_inserted,
            rows.len()
        )));
    }
    Ok(())
}

fn load_transfers(conn: &Connection, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
    let states = current_states(conn, ids)?;
    let mut res = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, t.payer_fsp, t.payee_fsp, t.payer_account_id, t.payee_account_id, t.amount, \
                    t.currency, t.ilp_condition, t.expiration_ms, t.ilp_packet, t.created_ms, \
                    f.ilp_fulfilment, f.settlement_window_id, e.error_code, e.error_description \
               FROM transfer t \
               LEFT JOIN transfer_fulfilment f ON f.transfer_seq = t.transfer_seq \
               LEFT JOIN transfer_error e ON e.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let mut rows = stmt.query(params_from_iter(chunk.iter().map(|it| it.as_str()))).map_err(sql_error)?;
        while let Some(row) = rows.next().map_err(sql_error)? {
            let record = transfer_record(row, &states)?;
            res.insert(record.transfer_id.clone(), record);
        }
    }
    for (id, key, value) in extensions(conn, ids)? {
        if let Some(record) = res.get_mut(&id) {
            record.extensions.push((key, value));
        }
    }
    Ok(res)
}

fn transfer_record(row: &Row<'_>, states: &HashMap<TransferId, CurrentState>) -> Result<TransferRecord, StoreError> {
    let get_error = |err: rusqlite::Error| sql_error(err);
    let id = transfer_id(&row.get::<_, String>(0).map_err(get_error)?)?;
    let current = *states.get(&id).ok_or_else(|| StoreError::Corrupt(format!("transfer {id} has no state")))?;
    let error_code: Option<i64> = row.get(13).map_err(get_error)?;
    let error_description: Option<String> = row.get(14).map_err(get_error)?;
    Ok(TransferRecord {
        payer: fsp_id(&row.get::<_, String>(1).map_err(get_error)?)?,
        payee: fsp_id(&row.get::<_, String>(2).map_err(get_error)?)?,
        payer_account: row.get::<_, Option<i64>>(3).map_err(get_error)?.map(|it| AccountId(it as u64)),
        payee_account: row.get::<_, Option<i64>>(4).map_err(get_error)?.map(|it| AccountId(it as u64)),
        amount: row.get::<_, StoredAmount>(5).map_err(get_error)?.0,
        currency: currency(&row.get::<_, String>(6).map_err(get_error)?)?,
        condition: row.get::<_, Option<String>>(7).map_err(get_error)?.map(|it| condition(&it)).transpose()?,
        expiration: Timestamp::from_unix_ms(row.get(8).map_err(get_error)?),
        ilp_packet: row.get(9).map_err(get_error)?,
        created: Timestamp::from_unix_ms(row.get(10).map_err(get_error)?),
        fulfilment: row.get::<_, Option<String>>(11).map_err(get_error)?.map(|it| fulfilment(&it)).transpose()?,
        window: row.get::<_, Option<i64>>(12).map_err(get_error)?.map(|it| WindowId(it as u64)),
        error: error_code.zip(error_description).map(|(code, text)| (code as u16, text)),
        extensions: Vec::new(),
        transfer_id: id,
        current,
    })
}

fn extensions(conn: &Connection, ids: &[TransferId]) -> Result<Vec<(TransferId, String, String)>, StoreError> {
    let mut res = Vec::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, x.ext_key, x.ext_value FROM transfer t \
             JOIN transfer_extension x ON x.transfer_seq = t.transfer_seq WHERE t.transfer_id IN ({}) ORDER BY x.id",
            placeholders(chunk.len())
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(sql_error)?;
        let rows = stmt
            .query_map(params_from_iter(chunk.iter().map(|it| it.as_str())), |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
            })
            .map_err(sql_error)?;
        for row in rows {
            let (id, key, value) = row.map_err(sql_error)?;
            res.push((transfer_id(&id)?, key, value));
        }
    }
    Ok(res)
}

fn current_state(state: &str, seq: i64, at: i64) -> Result<CurrentState, StoreError> {
    let state = transfer_state(state)?;
    Ok(CurrentState { state, seq: seq as u32, changed: Timestamp::from_unix_ms(at) })
}
