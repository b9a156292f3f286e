//! The MySQL half of transfers and positions (see `transfers`); `sqlite.rs` is its twin.
//!
//! Transfers are clustered on a sequential `transfer_seq` and every child row is keyed by it.
//! The trait speaks transfer ids, so each [`MysqlTx`] keeps the `transfer_id → transfer_seq`
//! pairs its reads and inserts saw, and a child insert looks up only the ids it has not seen,
//! in one statement per chunk.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use ledger_core::account::LedgerAccountType;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId, WindowId};
use ledger_core::position::PositionAccount;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Transaction, Value};

use super::{
    CurrentState, HashKind, NewFulfilment, NewPositionChange, NewStateChange, NewTransfer, NewTransferError,
    TransferRecord, TransferStore, TransferTx, ERROR_DESCRIPTION_LENGTH_MAX, STATE_REASON_LENGTH_MAX,
};
use crate::checks::keyed_by_own_transfer;
use crate::decode::{condition, currency, fsp_id, fulfilment, transfer_id};
use crate::error::StoreError;
use crate::mysql::columns::{account_values, decimal_value, ms, net_debit_cap, transfer_id_values, Columns};
use crate::mysql::error::store_error;
use crate::mysql::{insert_rows, load_seqs, MysqlStore, MysqlTx, SeqCache, ZERO_DECIMAL};
use crate::reference::NET_DEBIT_CAP_LIMIT_TYPE;
use crate::statements::{in_list_chunks, insert_runs, lock_order, placeholders};
use crate::text::truncate_chars;

#[async_trait]
impl TransferStore for MysqlStore {
    async fn transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let mut found = load_transfers(&mut conn, &mut SeqCache::new(), std::slice::from_ref(id)).await?;
        Ok(found.remove(id))
    }

    async fn transfers(&self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        let mut conn = self.conn().await?;
        load_transfers(&mut conn, &mut SeqCache::new(), ids).await
    }

    async fn state_history(&self, id: &TransferId) -> Result<Vec<CurrentState>, StoreError> {
        let mut conn = self.conn().await?;
        // The named transfer first, whatever the statistics say: see current_states.
        let sql = "SELECT s.state, s.seq, s.created_ms FROM transfer t \
                   STRAIGHT_JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
                   WHERE t.transfer_id = ? ORDER BY s.seq";
        let rows: Vec<Row> = conn.exec(sql, (id.as_str(),)).await.map_err(store_error)?;
        rows.into_iter().map(|row| current_state(&mut Columns::new(row))).collect()
    }

    async fn position_journal(
        &self,
        account: AccountId,
    ) -> Result<Vec<(Option<TransferId>, Amount, Amount)>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = "SELECT t.transfer_id, c.change_amount, c.value FROM participant_position_change c \
                   LEFT JOIN transfer t ON t.transfer_seq = c.transfer_seq WHERE c.account_id = ? ORDER BY c.id";
        let rows: Vec<Row> = conn.exec(sql, (account.0,)).await.map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let mut cols = Columns::new(row);
                let id = cols.value::<Option<String>>()?.map(|it| transfer_id(&it)).transpose()?;
                Ok((id, cols.amount()?, cols.amount()?))
            })
            .collect()
    }
}

#[async_trait]
impl TransferTx for MysqlTx {
    async fn lock_positions(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError> {
        let mut res = BTreeMap::new();
        // Ascending ids in every chunk and across chunks: see lock_positions_chunk.
        for chunk in in_list_chunks(&lock_order(accounts)) {
            lock_positions_chunk(&mut self.tx, &chunk, &mut res).await?;
        }
        self.checks.locked(res.iter().map(|(id, it)| (*id, it.position)));
        Ok(res)
    }

    async fn lock_balances(
        &mut self,
        accounts: &[AccountId],
    ) -> Result<BTreeMap<AccountId, (Amount, Amount)>, StoreError> {
        let mut res = BTreeMap::new();
        for chunk in in_list_chunks(&lock_order(accounts)) {
            // Ascending order, as in lock_positions, so concurrent batches cannot deadlock.
            let sql = format!(
                "SELECT account_id, value, reserved_value FROM participant_position \
                  WHERE account_id IN ({}) ORDER BY account_id FOR UPDATE",
                placeholders(chunk.len())
            );
            let rows: Vec<Row> = self.tx.exec(sql, account_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let mut cols = Columns::new(row);
                res.insert(AccountId(cols.value()?), (cols.amount()?, cols.amount()?));
            }
        }
        self.checks.locked(res.iter().map(|(id, (value, _))| (*id, *value)));
        Ok(res)
    }

    async fn current_states(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
        let states = current_states(&mut self.tx, &mut self.seqs, ids).await?;
        self.checks.states_read(&states);
        Ok(states)
    }

    async fn hashes(
        &mut self,
        kind: HashKind,
        ids: &[TransferId],
    ) -> Result<HashMap<TransferId, RequestHash>, StoreError> {
        // The duplicate-check tables are LEFT JOINed, so the seqs of transfers without a hash
        // are cached too: the batch's insert_hashes then needs no lookup.
        let source = match kind {
            HashKind::Prepare => "SELECT t.transfer_id, t.transfer_seq, t.prepare_hash FROM transfer t",
            HashKind::Fulfil => {
                "SELECT t.transfer_id, t.transfer_seq, d.hash FROM transfer t \
                 LEFT JOIN transfer_fulfilment_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
            HashKind::Error => {
                "SELECT t.transfer_id, t.transfer_seq, d.hash FROM transfer t \
                 LEFT JOIN transfer_error_duplicate_check d ON d.transfer_seq = t.transfer_seq"
            }
        };
        let mut res = HashMap::new();
        for chunk in in_list_chunks(ids) {
            let sql = format!("{source} WHERE t.transfer_id IN ({})", placeholders(chunk.len()));
            let rows: Vec<Row> = self.tx.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
            for row in rows {
                let mut cols = Columns::new(row);
                let id = cols.transfer_id()?;
                self.seqs.insert(id.clone(), cols.value()?);
                if let Some(hash) = cols.value::<Option<String>>()? {
                    res.insert(id, RequestHash::new(hash));
                }
            }
        }
        Ok(res)
    }

    async fn transfers(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
        let records = load_transfers(&mut self.tx, &mut self.seqs, ids).await?;
        self.checks.transfers_read(&records);
        Ok(records)
    }

    async fn insert_transfers(&mut self, rows: &[NewTransfer]) -> Result<(), StoreError> {
        insert_transfers(&mut self.tx, &mut self.seqs, rows).await?;
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
        let values = rows.iter().map(|(id, hash, at)| (id, vec![Value::from(hash.as_str()), ms(*at)])).collect();
        let head = format!("INSERT INTO {table} (transfer_seq, hash, created_ms)");
        insert_children(&mut self.tx, &mut self.seqs, &head, values).await
    }

    async fn insert_state_changes(&mut self, rows: &[NewStateChange]) -> Result<(), StoreError> {
        insert_state_changes(&mut self.tx, &mut self.seqs, rows).await?;
        self.checks.state_changes(rows);
        Ok(())
    }

    async fn insert_position_changes(&mut self, rows: &[NewPositionChange]) -> Result<(), StoreError> {
        // insert_children keeps the rows' order, which the auto-increment id makes the
        // journal's order.
        let values = rows
            .iter()
            .map(|row| {
                let values = vec![
                    Value::from(row.account.0),
                    Value::from(row.seq),
                    decimal_value(row.change),
                    decimal_value(row.value),
                    decimal_value(row.reserved),
                    ms(row.created),
                ];
                Ok((&row.transfer_id, values))
            })
            .collect::<Result<_, StoreError>>()?;
        let head = "INSERT INTO participant_position_change \
                    (transfer_seq, account_id, seq, change_amount, value, reserved_value, created_ms)";
        insert_children(&mut self.tx, &mut self.seqs, head, values).await?;
        self.checks.position_changes(rows);
        Ok(())
    }

    async fn update_positions(&mut self, rows: &[(AccountId, Amount)], changed: Timestamp) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|(account, value)| {
                Ok(vec![Value::from(account.0), decimal_value(*value), Value::from(ZERO_DECIMAL), ms(changed)])
            })
            .collect::<Result<_, StoreError>>()?;
        // One statement per chunk instead of one UPDATE per account. Every account has its row
        // (create_account writes it), so only the UPDATE branch runs; an unknown account fails
        // the foreign key (NotFound) instead of creating a row. VALUES() works on MariaDB 10.11
        // and MySQL 8.0; MySQL 8.0.20+ deprecates it in favour of a row alias MariaDB lacks.
        let head = "INSERT INTO participant_position (account_id, value, reserved_value, changed_ms)";
        let tail = " ON DUPLICATE KEY UPDATE value = VALUES(value), changed_ms = VALUES(changed_ms)";
        insert_rows(&mut self.tx, head, tail, values).await?;
        self.checks.positions(rows);
        Ok(())
    }

    async fn insert_errors(&mut self, rows: &[NewTransferError]) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|row| {
                let values = vec![
                    Value::from(row.seq),
                    Value::from(row.code),
                    Value::from(truncate_chars(&row.description, ERROR_DESCRIPTION_LENGTH_MAX)),
                    ms(row.created),
                ];
                (&row.transfer_id, values)
            })
            .collect();
        let head = "INSERT INTO transfer_error (transfer_seq, seq, error_code, error_description, created_ms)";
        insert_children(&mut self.tx, &mut self.seqs, head, values).await
    }

    async fn insert_fulfilments(&mut self, rows: &[NewFulfilment]) -> Result<(), StoreError> {
        let values = rows
            .iter()
            .map(|row| {
                let values = vec![
                    Value::from(row.fulfilment.map(|it| it.to_base64url())),
                    ms(row.completed),
                    Value::from(row.window.0),
                    ms(row.created),
                ];
                (&row.transfer_id, values)
            })
            .collect();
        let head =
            "INSERT INTO transfer_fulfilment (transfer_seq, ilp_fulfilment, completed_ms, settlement_window_id, created_ms)";
        insert_children(&mut self.tx, &mut self.seqs, head, values).await
    }
}

/// Locks one chunk of POSITION accounts (ascending ids) and, through the joins, the same
/// participant's SETTLEMENT account in that currency and the active NET_DEBIT_CAP row.
///
/// One statement with `ORDER BY account_id` walks the primary key upwards, so InnoDB takes the
/// row locks account by account in ascending order. Every batch locking in the same order
/// cannot deadlock with another: the first to reach a shared account goes first, the other
/// waits without holding anything the first still needs. A SETTLEMENT row is locked right after
/// its POSITION row, not at its own id; only a `lock_balances` over a settlement account *and*
/// a higher POSITION account can cross that order, and InnoDB then aborts one side with a
/// deadlock, which is a `Conflict` the handler re-runs.
async fn lock_positions_chunk(
    tx: &mut Transaction<'static>,
    chunk: &[AccountId],
    res: &mut BTreeMap<AccountId, PositionAccount>,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT pc.account_id, pp.value, pp.reserved_value, sp.value, pl.value \
           FROM participant_currency pc \
           JOIN participant_position pp ON pp.account_id = pc.account_id \
           LEFT JOIN participant_currency sc ON sc.participant_id = pc.participant_id \
                AND sc.currency = pc.currency AND sc.ledger_account_type = {settlement} \
           LEFT JOIN participant_position sp ON sp.account_id = sc.account_id \
           LEFT JOIN participant_limit pl ON pl.account_id = pc.account_id \
                AND pl.limit_type = {cap} AND pl.is_active = 1 \
          WHERE pc.account_id IN ({ids}) \
          ORDER BY pc.account_id \
            FOR UPDATE",
        settlement = LedgerAccountType::Settlement.id(),
        cap = NET_DEBIT_CAP_LIMIT_TYPE,
        ids = placeholders(chunk.len()),
    );
    let rows: Vec<Row> = tx.exec(sql, account_values(chunk)).await.map_err(store_error)?;
    for row in rows {
        let mut cols = Columns::new(row);
        let id = AccountId(cols.value()?);
        let account = PositionAccount {
            position: cols.amount()?,
            reserved: cols.amount()?,
            // No SETTLEMENT account means no liquidity: the position check refuses prepares.
            settlement_balance: cols.amount_opt()?.unwrap_or(Amount::ZERO),
            net_debit_cap: cols.amount_opt()?.map(net_debit_cap).transpose()?,
        };
        // set_net_debit_cap keeps one active cap per account; two rows mean the invariant broke.
        if res.insert(id, account).is_some() {
            return Err(StoreError::Corrupt(format!("account {id} has more than one active net debit cap")));
        }
    }
    Ok(())
}

/// Latest state of each id: all its journal rows, keeping the highest `seq`. The join reads
/// `transfer_seq` from the `transfer_id` index alone (a secondary index holds the primary key).
///
/// `STRAIGHT_JOIN` keeps the listed transfers first. A fresh database's statistics are taken
/// while its tables are nearly empty, and with them MariaDB 10.11 read the whole state journal
/// for every batch (`SHOW EXPLAIN`: `s ALL`, then `t eq_ref`) until InnoDB recalculated them:
/// at 1,000 transfers/s a scan that grew with the journal, batches of 50–100 ms, and in some
/// runs the pipeline fell minutes behind.
async fn current_states<Q: Queryable>(
    q: &mut Q,
    seqs: &mut SeqCache,
    ids: &[TransferId],
) -> Result<HashMap<TransferId, CurrentState>, StoreError> {
    let mut res: HashMap<TransferId, CurrentState> = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, t.transfer_seq, s.state, s.seq, s.created_ms FROM transfer t \
               STRAIGHT_JOIN transfer_state_change s ON s.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = q.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            let id = cols.transfer_id()?;
            seqs.insert(id.clone(), cols.value()?);
            let state = current_state(&mut cols)?;
            let entry = res.entry(id).or_insert(state);
            if entry.seq < state.seq {
                *entry = state;
            }
        }
    }
    Ok(res)
}

/// Inserts the transfer rows, reads their `transfer_seq` back, then writes the children.
async fn insert_transfers(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    rows: &[NewTransfer],
) -> Result<(), StoreError> {
    let head = "INSERT INTO transfer (transfer_id, payer_fsp, payee_fsp, payer_account_id, payee_account_id, amount, \
                currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms)";
    for chunk in insert_runs(rows) {
        let values = chunk.iter().map(transfer_values).collect::<Result<_, StoreError>>()?;
        insert_rows(tx, head, "", values).await?;
        cache_inserted_seqs(tx, seqs, chunk.len()).await?;
    }
    // Ids the range reads missed are looked up by id when the first states are written.
    let first_states: Vec<NewStateChange> = rows
        .iter()
        .map(|row| NewStateChange {
            transfer_id: row.transfer_id.clone(),
            seq: 1,
            state: row.state,
            reason: row.reason.clone(),
            created: row.created,
        })
        .collect();
    insert_state_changes(tx, seqs, &first_states).await?;
    let extensions = rows
        .iter()
        .flat_map(|row| {
            let id = &row.transfer_id;
            row.extensions
                .iter()
                .map(move |(key, value)| (id, vec![Value::from(key.as_str()), Value::from(value.as_str())]))
        })
        .collect();
    insert_children(tx, seqs, "INSERT INTO transfer_extension (transfer_seq, ext_key, ext_value)", extensions).await?;
    // Only transfers still waiting for a payee can time out; INVALID ones are already final.
    let timeouts = rows
        .iter()
        .filter(|row| row.state == TransferState::ReceivedPrepare)
        .map(|row| (&row.transfer_id, vec![ms(row.expiration)]))
        .collect();
    insert_children(tx, seqs, "INSERT INTO transfer_timeout (transfer_seq, expiration_ms)", timeouts).await
}

fn transfer_values(row: &NewTransfer) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        Value::from(row.transfer_id.as_str()),
        Value::from(row.payer.as_str()),
        Value::from(row.payee.as_str()),
        Value::from(row.payer_account.map(|it| it.0)),
        Value::from(row.payee_account.map(|it| it.0)),
        decimal_value(row.amount),
        Value::from(row.currency.code()),
        Value::from(row.condition.map(|it| it.to_base64url())),
        ms(row.expiration),
        Value::from(row.ilp_packet.as_str()),
        Value::from(row.hash.as_str()),
        ms(row.created),
    ])
}

async fn insert_state_changes(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    rows: &[NewStateChange],
) -> Result<(), StoreError> {
    let values = rows
        .iter()
        .map(|row| {
            let reason = row.reason.as_deref().map(|it| truncate_chars(it, STATE_REASON_LENGTH_MAX));
            let values =
                vec![Value::from(row.seq), Value::from(row.state.name()), Value::from(reason), ms(row.created)];
            (&row.transfer_id, values)
        })
        .collect();
    let head = "INSERT INTO transfer_state_change (transfer_seq, seq, state, reason, created_ms)";
    insert_children(tx, seqs, head, values).await
}

/// After an INSERT of `n_rows` transfers, caches the seqs of the rows found in the `n_rows` seqs
/// from LAST_INSERT_ID() (the first row's seq) on: where that INSERT most likely put them.
///
/// The rows of one INSERT take increasing seqs, consecutive unless a concurrent insert takes
/// some in between (`innodb_autoinc_lock_mode = 2`, MySQL 8's default) or
/// `auto_increment_increment` is above 1. So the range is only a guess, never trusted: the read
/// returns real `(transfer_id, transfer_seq)` pairs whichever rows it finds, and the ids it
/// misses are looked up by id later ([`insert_children`]). Reading one primary-key range costs
/// a third of probing the random `transfer_id` index once per row.
async fn cache_inserted_seqs(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    n_rows: usize,
) -> Result<(), StoreError> {
    let (Some(first), Ok(n_rows)) = (tx.last_insert_id(), u64::try_from(n_rows)) else {
        return Ok(());
    };
    let last = first.saturating_add(n_rows.saturating_sub(1));
    let sql = "SELECT transfer_id, transfer_seq FROM transfer WHERE transfer_seq BETWEEN ? AND ?";
    let rows: Vec<Row> = tx.exec(sql, (first, last)).await.map_err(store_error)?;
    for row in rows {
        let mut cols = Columns::new(row);
        seqs.insert(cols.transfer_id()?, cols.value()?);
    }
    Ok(())
}

/// Inserts rows of a child table whose first column is `transfer_seq`, given each row's
/// transfer id and its other values; rows keep their order. A row naming a transfer that is not
/// stored fails the whole call with [`StoreError::NotFound`] before anything is written.
async fn insert_children(
    tx: &mut Transaction<'static>,
    seqs: &mut SeqCache,
    head: &str,
    rows: Vec<(&TransferId, Vec<Value>)>,
) -> Result<(), StoreError> {
    load_seqs(tx, seqs, rows.iter().map(|(id, _)| *id)).await?;
    // Each row lands on its own transfer: the cache names one seq per id, and no seq twice.
    debug_assert!(keyed_by_own_transfer(rows.iter().filter_map(|(id, _)| Some((*id, *seqs.get(*id)?)))));
    let values = rows
        .into_iter()
        .map(|(id, values)| {
            let seq = seqs.get(id).ok_or_else(|| StoreError::NotFound(format!("transfer {id}")))?;
            let mut full = Vec::with_capacity(values.len() + 1);
            full.push(Value::from(*seq));
            full.extend(values);
            Ok(full)
        })
        .collect::<Result<_, StoreError>>()?;
    insert_rows(tx, head, "", values).await
}

/// Full records of the known ids: the transfer row with its fulfilment and error, the latest
/// state and the extensions in insertion order.
async fn load_transfers<Q: Queryable>(
    q: &mut Q,
    seqs: &mut SeqCache,
    ids: &[TransferId],
) -> Result<HashMap<TransferId, TransferRecord>, StoreError> {
    let states = current_states(q, seqs, ids).await?;
    let mut res = HashMap::new();
    for chunk in in_list_chunks(ids) {
        let sql = format!(
            "SELECT t.transfer_id, t.payer_fsp, t.payee_fsp, t.payer_account_id, t.payee_account_id, t.amount, \
                    t.currency, t.ilp_condition, t.expiration_ms, t.ilp_packet, t.created_ms, \
                    f.ilp_fulfilment, f.settlement_window_id, e.error_code, e.error_description, t.transfer_seq \
               FROM transfer t \
               LEFT JOIN transfer_fulfilment f ON f.transfer_seq = t.transfer_seq \
               LEFT JOIN transfer_error e ON e.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({})",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = q.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            let record = transfer_record(&mut cols, &states)?;
            seqs.insert(record.transfer_id.clone(), cols.value()?);
            res.insert(record.transfer_id.clone(), record);
        }
        let sql = format!(
            // The listed transfers first, whatever the statistics say: see current_states.
            "SELECT t.transfer_id, x.ext_key, x.ext_value FROM transfer t \
               STRAIGHT_JOIN transfer_extension x ON x.transfer_seq = t.transfer_seq \
              WHERE t.transfer_id IN ({}) ORDER BY x.id",
            placeholders(chunk.len())
        );
        let rows: Vec<Row> = q.exec(sql, transfer_id_values(&chunk)).await.map_err(store_error)?;
        for row in rows {
            let mut cols = Columns::new(row);
            let id = cols.transfer_id()?;
            let extension = (cols.value()?, cols.value()?);
            if let Some(record) = res.get_mut(&id) {
                record.extensions.push(extension);
            }
        }
    }
    Ok(res)
}

/// Reads the transfer columns of [`load_transfers`]' row, leaving what follows them.
fn transfer_record(
    cols: &mut Columns,
    states: &HashMap<TransferId, CurrentState>,
) -> Result<TransferRecord, StoreError> {
    let transfer_id = cols.transfer_id()?;
    let current = state_of(states, &transfer_id)?;
    let payer = fsp_id(&cols.value::<String>()?)?;
    let payee = fsp_id(&cols.value::<String>()?)?;
    let payer_account = cols.value::<Option<u64>>()?.map(AccountId);
    let payee_account = cols.value::<Option<u64>>()?.map(AccountId);
    let amount = cols.amount()?;
    let currency = currency(&cols.value::<String>()?)?;
    let condition = cols.value::<Option<String>>()?.map(|it| condition(&it)).transpose()?;
    let expiration = cols.timestamp()?;
    let ilp_packet = cols.value()?;
    let created = cols.timestamp()?;
    let fulfilment = cols.value::<Option<String>>()?.map(|it| fulfilment(&it)).transpose()?;
    let window = cols.value::<Option<u64>>()?.map(WindowId);
    let error_code: Option<u16> = cols.value()?;
    let error_description: Option<String> = cols.value()?;
    Ok(TransferRecord {
        transfer_id,
        payer,
        payee,
        payer_account,
        payee_account,
        amount,
        currency,
        condition,
        expiration,
        ilp_packet,
        created,
        current,
        fulfilment,
        window,
        error: error_code.zip(error_description),
        extensions: Vec::new(),
    })
}

/// Reads `state, seq, created_ms`.
fn current_state(cols: &mut Columns) -> Result<CurrentState, StoreError> {
    let text: String = cols.value()?;
    let state =
        TransferState::from_name(&text).ok_or_else(|| StoreError::Corrupt(format!("transfer state {text:?}")))?;
    Ok(CurrentState { state, seq: cols.value()?, changed: cols.timestamp()? })
}

/// Every transfer is written with its first state, so one without is a broken journal.
fn state_of(states: &HashMap<TransferId, CurrentState>, id: &TransferId) -> Result<CurrentState, StoreError> {
    states.get(id).copied().ok_or_else(|| StoreError::Corrupt(format!("transfer {id} has no state")))
}

#[cfg(test)]
mod tests {
    use mysql_async::prelude::Queryable;

    use super::*;
    use crate::mysql::MysqlStoreConfig;
    use crate::prelude::*;

    /// With `auto_increment_increment = 3` one INSERT's seqs are 3 apart, so the range read
    /// after it finds a third of its rows: the others must be looked up by id, and every child
    /// row must still land on its own transfer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seqs_do_not_depend_on_consecutive_auto_increments() {
        let store = test_store().await;
        let mut tx = store.begin_tx().await.unwrap();
        tx.query_drop("SET SESSION auto_increment_increment = 3").await.unwrap();
        let mut tx = MysqlTx { tx, seqs: SeqCache::new(), checks: Default::default() };
        let rows: Vec<NewTransfer> = (0..crate::statements::STATEMENT_ROWS_MAX + 7).map(|_| test_transfer()).collect();
        tx.insert_transfers(&rows).await.unwrap();
        let stored: Vec<(String, u64)> = tx.tx.query("SELECT transfer_id, transfer_seq FROM transfer").await.unwrap();
        let stored: SeqCache = stored.into_iter().map(|(id, seq)| (transfer_id(&id).unwrap(), seq)).collect();
        assert_eq!(tx.seqs, stored);
        let ids: Vec<TransferId> = rows.iter().map(|it| it.transfer_id.clone()).collect();
        let states = tx.current_states(&ids).await.unwrap();
        assert!(ids.iter().all(|id| states[id].state == TransferState::ReceivedPrepare));
        let expired = tx.due_timeouts(Timestamp::from_unix_ms(2), 10_000).await.unwrap();
        let mut expired: Vec<TransferId> = expired.into_iter().map(|(id, _)| id).collect();
        let mut expected = ids.clone();
        expired.sort();
        expected.sort();
        assert_eq!(expired, expected);
        drop(tx);
        store.drop_database().await.unwrap();
        store.close().await.unwrap();
    }

    /// Child rows find their transfer's seq whether or not the transaction read the transfer
    /// first; a row naming a transfer that does not exist fails the call, writing nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn child_rows_of_unknown_transfers_are_not_found() {
        let store = test_store().await;
        let row = test_transfer();
        let mut tx = store.begin().await.unwrap();
        tx.insert_transfers(std::slice::from_ref(&row)).await.unwrap();
        tx.commit().await.unwrap();
        let (known, unknown) = (row.transfer_id.clone(), test_transfer().transfer_id);
        let at = Timestamp::from_unix_ms(5);
        let change = |id: &TransferId| NewStateChange {
            transfer_id: id.clone(),
            seq: 2,
            state: TransferState::Reserved,
            reason: None,
            created: at,
        };
        let mut tx = store.begin().await.unwrap();
        let res = tx.insert_state_changes(&[change(&known), change(&unknown)]).await;
        assert!(matches!(res, Err(StoreError::NotFound(_))), "{res:?}");
        let units = Amount::from_units(10_000);
        let position = NewPositionChange {
            account: AccountId(1),
            transfer_id: unknown.clone(),
            seq: 2,
            change: units,
            value: units,
            reserved: Amount::ZERO,
            created: at,
        };
        assert!(matches!(tx.insert_position_changes(&[position]).await, Err(StoreError::NotFound(_))));
        let hash = (unknown, RequestHash::new("h".into()), at);
        assert!(matches!(tx.insert_hashes(HashKind::Fulfil, &[hash]).await, Err(StoreError::NotFound(_))));
        tx.insert_state_changes(&[change(&known)]).await.unwrap();
        tx.commit().await.unwrap();
        let history = store.state_history(&known).await.unwrap();
        let history: Vec<(u32, TransferState)> = history.iter().map(|it| (it.seq, it.state)).collect();
        assert_eq!(history, [(1, TransferState::ReceivedPrepare), (2, TransferState::Reserved)]);
        assert!(store.position_journal(AccountId(1)).await.unwrap().is_empty());
        store.drop_database().await.unwrap();
        store.close().await.unwrap();
    }

    /// A store on a fresh database of the test server (see `tests/common`), on one connection.
    async fn test_store() -> MysqlStore {
        let server = std::env::var("LEDGER_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let url = format!("{server}/ledger_t_{}", uuid::Uuid::new_v4().simple());
        MysqlStore::open(MysqlStoreConfig { url, ca_certificate: None, pool_connections_max: 1 })
            .await
            .unwrap_or_else(|err| panic!("MySQL at {server} must be reachable: {err} (the test command `bash tests/run.sh` starts a MariaDB when none is running; LEDGER_TEST_MYSQL_URL names another server)"))
    }

    fn test_transfer() -> NewTransfer {
        let id = uuid::Uuid::new_v4().to_string();
        NewTransfer {
            transfer_id: transfer_id(&id).unwrap(),
            payer: fsp_id("payerfsp").unwrap(),
            payee: fsp_id("payeefsp").unwrap(),
            payer_account: None,
            payee_account: None,
            amount: Amount::from_units(10_000),
            currency: currency("USD").unwrap(),
            condition: None,
            expiration: Timestamp::from_unix_ms(1),
            ilp_packet: "packet".into(),
            hash: RequestHash::new(format!("hash-{id}")),
            state: TransferState::ReceivedPrepare,
            reason: None,
            created: Timestamp::from_unix_ms(0),
            extensions: vec![("k".into(), id)],
        }
    }
}
