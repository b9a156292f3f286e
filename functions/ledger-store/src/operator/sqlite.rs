//! The SQLite half of the operator APIs and settlement (see `operator`); `mysql.rs` is its
//! twin.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use ledger_core::account::{Account, ParticipantRole};
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use ledger_core::model::{ModelDefinition, ModelId, SettlementModel};
use ledger_core::settlement::{Aggregation, ContentId, SettlementId};
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::decode::{account_type, delay, granularity, interchange, model_name, role, settlement_state};
use super::{
    assemble_settlements, assemble_windows, check_id_count, sql, AccountBalance, ContentRecord, NewContent,
    NewContentState, NewSettlement, NewSettlementState, OperatorStore, SettlementAccount, SettlementRecord,
    SettlementTx, Window, WindowRecord, WindowSum, EXTERNAL_REFERENCE_LENGTH_MAX, SETTLEMENT_REASON_LENGTH_MAX,
};
use crate::decode::{currency, window_state};
use crate::error::StoreError;
use crate::sqlite::amounts::{amount_value, StoredAmount};
use crate::sqlite::error::sql_error;
use crate::sqlite::{SqliteStore, SqliteTx};
use crate::statements::placeholders;
use crate::text::truncate_chars;

#[async_trait]
impl OperatorStore for SqliteStore {
    async fn participants_created(&self) -> Result<HashMap<ParticipantId, Timestamp>, StoreError> {
        let conn = self.reader.lock().await;
        participants_created(&conn)
    }

    async fn account_balances(&self, participant: ParticipantId) -> Result<Vec<AccountBalance>, StoreError> {
        let conn = self.reader.lock().await;
        account_balances(&conn, participant)
    }

    async fn set_limit_alarm(
        &self,
        account: AccountId,
        percentage: Amount,
        changed: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = self.writer.lock().await;
        set_limit_alarm(&conn, account, percentage, changed)
    }

    async fn limit_alarm(&self, account: AccountId) -> Result<Option<Amount>, StoreError> {
        let conn = self.reader.lock().await;
        limit_alarm(&conn, account)
    }

    async fn create_settlement_model(
        &self,
        definition: &ModelDefinition,
        created: Timestamp,
    ) -> Result<SettlementModel, StoreError> {
        let conn = self.writer.lock().await;
        create_settlement_model(&conn, definition, created)
    }

    async fn settlement_models(&self) -> Result<Vec<SettlementModel>, StoreError> {
        let conn = self.reader.lock().await;
        settlement_models(&conn)
    }

    async fn set_settlement_model_active(&self, id: ModelId, active: bool) -> Result<(), StoreError> {
        let conn = self.writer.lock().await;
        set_settlement_model_active(&conn, id, active)
    }

    async fn windows(&self, ids: Option<&[WindowId]>) -> Result<Vec<WindowRecord>, StoreError> {
        let conn = self.reader.lock().await;
        windows(&conn, ids)
    }

    async fn settlements(&self, ids: Option<&[SettlementId]>) -> Result<Vec<SettlementRecord>, StoreError> {
        let conn = self.reader.lock().await;
        settlements(&conn, ids)
    }
}

#[async_trait]
impl SettlementTx for SqliteTx {
    async fn open_window(&mut self) -> Result<Window, StoreError> {
        open_window(&self.conn)
    }

    async fn close_open_window(&mut self, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
        close_open_window(&self.conn, reason, at)
    }

    async fn window_fulfilment_count(&mut self, window: WindowId) -> Result<u64, StoreError> {
        let sql = "SELECT COUNT(*) FROM transfer_fulfilment WHERE settlement_window_id = ?";
        let n: i64 = self.conn.query_row(sql, [window.0 as i64], |row| row.get(0)).map_err(sql_error)?;
        Ok(n as u64)
    }

    async fn windows_for_update(&mut self, ids: &[WindowId]) -> Result<Vec<WindowRecord>, StoreError> {
        // The writer connection is held for the whole transaction: the rows are as locked as
        // they get in SQLite.
        windows(&self.conn, Some(ids))
    }

    async fn window_sums(&mut self, window: WindowId) -> Result<Vec<WindowSum>, StoreError> {
        window_sums(&self.conn, window)
    }

    async fn set_window_states(
        &mut self,
        rows: &[(WindowId, WindowState)],
        reason: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        set_window_states(&self.conn, rows, reason, at)
    }

    async fn insert_window_contents(
        &mut self,
        rows: &[NewContent],
        at: Timestamp,
    ) -> Result<Vec<ContentId>, StoreError> {
        insert_window_contents(&self.conn, rows, at)
    }

    async fn insert_content_states(&mut self, rows: &[NewContentState], at: Timestamp) -> Result<(), StoreError> {
        insert_content_states(&self.conn, rows, at)
    }

    async fn settlements_for_update(&mut self, ids: &[SettlementId]) -> Result<Vec<SettlementRecord>, StoreError> {
        settlements(&self.conn, Some(ids))
    }

    async fn insert_settlement(&mut self, row: &NewSettlement) -> Result<SettlementId, StoreError> {
        insert_settlement(&self.conn, row)
    }

    async fn insert_settlement_states(&mut self, rows: &[NewSettlementState], at: Timestamp) -> Result<(), StoreError> {
        insert_settlement_states(&self.conn, rows, at)
    }
}

type Res<T> = Result<T, StoreError>;

fn query<T>(conn: &Connection, sql: &str, params: Vec<Value>, read: impl Fn(&Row<'_>) -> Res<T>) -> Res<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_error)?;
    let mut rows = stmt.query(params_from_iter(params)).map_err(sql_error)?;
    let mut res = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        res.push(read(row)?);
    }
    Ok(res)
}

fn col<T: rusqlite::types::FromSql>(row: &Row<'_>, idx: usize) -> Res<T> {
    row.get(idx).map_err(sql_error)
}

fn ms(row: &Row<'_>, idx: usize) -> Res<Timestamp> {
    Ok(Timestamp::from_unix_ms(col(row, idx)?))
}

/// `WHERE <column> IN (…)` for the ids, or nothing for all rows.
fn id_filter(column: &str, ids: Option<&[u64]>) -> Res<(String, Vec<Value>)> {
    match ids {
        None => Ok((String::new(), Vec::new())),
        Some(ids) => {
            check_id_count(ids.len())?;
            let values = ids.iter().map(|it| Value::Integer(*it as i64)).collect();
            Ok((format!(" WHERE {column} IN ({})", placeholders(ids.len().max(1))), pad(values)))
        }
    }
}

/// An empty IN list is not SQL: a NULL matches nothing.
fn pad(mut values: Vec<Value>) -> Vec<Value> {
    if values.is_empty() {
        values.push(Value::Null);
    }
    values
}

fn participants_created(conn: &Connection) -> Res<HashMap<ParticipantId, Timestamp>> {
    let rows = query(conn, "SELECT participant_id, created_ms FROM participant", Vec::new(), |row| {
        Ok((ParticipantId(col::<i64>(row, 0)? as u64), ms(row, 1)?))
    })?;
    Ok(rows.into_iter().collect())
}

fn account_balances(conn: &Connection, participant: ParticipantId) -> Res<Vec<AccountBalance>> {
    query(conn, sql::ACCOUNT_BALANCES, vec![Value::Integer(participant.0 as i64)], |row| {
        let account = Account {
            id: AccountId(col::<i64>(row, 0)? as u64),
            participant: ParticipantId(col::<i64>(row, 1)? as u64),
            currency: currency(&col::<String>(row, 2)?)?,
            kind: account_type(col(row, 3)?)?,
            is_active: col(row, 4)?,
        };
        Ok(AccountBalance {
            account,
            value: col::<StoredAmount>(row, 5)?.0,
            reserved: col::<StoredAmount>(row, 6)?.0,
            changed: ms(row, 7)?,
            created: ms(row, 8)?,
        })
    })
}

fn set_limit_alarm(conn: &Connection, account: AccountId, percentage: Amount, changed: Timestamp) -> Res<()> {
    let sql = "INSERT INTO participant_limit_alarm (account_id, alarm_percentage, changed_ms) VALUES (?, ?, ?) \
               ON CONFLICT (account_id) DO UPDATE SET alarm_percentage = excluded.alarm_percentage, changed_ms = excluded.changed_ms";
    conn.execute(sql, params![account.0 as i64, amount_value(percentage), changed.unix_ms()]).map_err(sql_error)?;
    Ok(())
}

fn limit_alarm(conn: &Connection, account: AccountId) -> Res<Option<Amount>> {
    let sql = "SELECT alarm_percentage FROM participant_limit_alarm WHERE account_id = ?";
    let found: Option<StoredAmount> =
        conn.query_row(sql, [account.0 as i64], |row| row.get(0)).optional().map_err(sql_error)?;
    Ok(found.map(|it| it.0))
}

fn create_settlement_model(
    conn: &Connection,
    definition: &ModelDefinition,
    created: Timestamp,
) -> Res<SettlementModel> {
    let it = definition;
    let values = params![
        it.name.as_str(),
        it.granularity.id(),
        it.interchange.id(),
        it.delay.id(),
        it.currency.as_ref().map(|it| it.code().to_string()),
        it.require_liquidity_check,
        it.ledger_account_type.id(),
        it.settlement_account_type.id(),
        it.auto_position_reset,
        created.unix_ms()
    ];
    conn.execute(sql::INSERT_MODEL, values).map_err(sql_error)?;
    Ok(SettlementModel {
        id: ModelId(conn.last_insert_rowid() as u64),
        definition: definition.clone(),
        is_active: true,
    })
}

fn settlement_models(conn: &Connection) -> Res<Vec<SettlementModel>> {
    let sql = format!("SELECT {} FROM settlement_model ORDER BY settlement_model_id", sql::MODEL_COLUMNS);
    query(conn, &sql, Vec::new(), |row| {
        let definition = ModelDefinition {
            name: model_name(&col::<String>(row, 1)?)?,
            granularity: granularity(col(row, 3)?)?,
            interchange: interchange(col(row, 4)?)?,
            delay: delay(col(row, 5)?)?,
            currency: col::<Option<String>>(row, 6)?.map(|it| currency(&it)).transpose()?,
            require_liquidity_check: col(row, 7)?,
            ledger_account_type: account_type(col(row, 8)?)?,
            settlement_account_type: account_type(col(row, 9)?)?,
            auto_position_reset: col(row, 10)?,
        };
        Ok(SettlementModel { id: ModelId(col::<i64>(row, 0)? as u64), definition, is_active: col(row, 2)? })
    })
}

fn set_settlement_model_active(conn: &Connection, id: ModelId, active: bool) -> Res<()> {
    let sql = "UPDATE settlement_model SET is_active = ? WHERE settlement_model_id = ?";
    match conn.execute(sql, params![active, id.0 as i64]).map_err(sql_error)? {
        0 => Err(StoreError::NotFound(format!("settlement model {}", id.0))),
        _ => Ok(()),
    }
}

fn windows(conn: &Connection, ids: Option<&[WindowId]>) -> Res<Vec<WindowRecord>> {
    let raw: Option<Vec<u64>> = ids.map(|ids| ids.iter().map(|it| it.0).collect());
    let (filter, values) = id_filter("settlement_window_id", raw.as_deref())?;
    let heads =
        query(conn, &format!("{}{filter} ORDER BY settlement_window_id", sql::WINDOWS), values.clone(), |row| {
            let window = Window {
                id: WindowId(col::<i64>(row, 0)? as u64),
                state: window_state(&col::<String>(row, 1)?)?,
                created: ms(row, 2)?,
            };
            Ok(WindowRecord { window, reason: col(row, 3)?, changed: ms(row, 4)?, contents: Vec::new() })
        })?;
    let (filter, values) = id_filter("c.settlement_window_id", raw.as_deref())?;
    let contents = query(conn, &format!("{}{filter}", sql::CONTENTS), values.clone(), |row| {
        Ok(ContentRecord {
            id: ContentId(col::<i64>(row, 0)? as u64),
            window: WindowId(col::<i64>(row, 1)? as u64),
            kind: account_type(col(row, 2)?)?,
            currency: currency(&col::<String>(row, 3)?)?,
            model: ModelId(col::<i64>(row, 4)? as u64),
            state: window_state(&col::<String>(row, 5)?)?,
            settlement: col::<Option<i64>>(row, 6)?.map(|it| SettlementId(it as u64)),
            created: ms(row, 7)?,
            changed: ms(row, 8)?,
            aggregations: Vec::new(),
        })
    })?;
    let aggregations = query(
        conn,
        &format!("{}{filter} ORDER BY a.account_id, a.participant_role", sql::AGGREGATIONS),
        values,
        |row| {
            let aggregation = Aggregation {
                account: AccountId(col::<i64>(row, 1)? as u64),
                participant: ParticipantId(col::<i64>(row, 2)? as u64),
                role: role(col(row, 3)?)?,
                amount: col::<StoredAmount>(row, 4)?.0,
            };
            Ok((ContentId(col::<i64>(row, 0)? as u64), aggregation))
        },
    )?;
    Ok(assemble_windows(heads, contents, aggregations))
}

/// The position changes of the transfers whose fulfilment names the window, one row each.
const WINDOW_CHANGES: &str =
    "SELECT c.account_id, pc.participant_id, pc.ledger_account_type, pc.currency, c.change_amount \
    FROM transfer_fulfilment f JOIN participant_position_change c ON c.transfer_seq = f.transfer_seq \
    JOIN participant_currency pc ON pc.account_id = c.account_id WHERE f.settlement_window_id = ?";

/// A window's position changes summed per account and sign (a positive change is the payer's),
/// ordered by account and payer first: what `sql::WINDOW_SUMS` gives on MySQL.
fn window_sums(conn: &Connection, window: WindowId) -> Result<Vec<WindowSum>, StoreError> {
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
        sum.amount =
            Amount::from_units(units.ok_or_else(|| StoreError::Corrupt(format!("window {window} sum overflows")))?);
    }
    Ok(sums.into_values().collect())
}

fn set_window_states(conn: &Connection, rows: &[(WindowId, WindowState)], reason: &str, at: Timestamp) -> Res<()> {
    let reason = truncate_chars(reason, SETTLEMENT_REASON_LENGTH_MAX);
    for (id, state) in rows {
        let sql = "UPDATE settlement_window SET state = ?, reason = ?, changed_ms = ? WHERE settlement_window_id = ?";
        if conn.execute(sql, params![state.name(), reason, at.unix_ms(), id.0 as i64]).map_err(sql_error)? == 0 {
            return Err(StoreError::NotFound(format!("settlement window {id}")));
        }
        record_window_state(conn, *id, *state, reason, at)?;
    }
    Ok(())
}

fn insert_window_contents(conn: &Connection, rows: &[NewContent], at: Timestamp) -> Res<Vec<ContentId>> {
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let sql = "INSERT INTO settlement_window_content (settlement_window_id, ledger_account_type, currency, \
                   settlement_model_id, created_ms) VALUES (?, ?, ?, ?, ?)";
        let values = params![row.window.0 as i64, row.kind.id(), row.currency.code(), row.model.0 as i64, at.unix_ms()];
        conn.execute(sql, values).map_err(sql_error)?;
        let id = ContentId(conn.last_insert_rowid() as u64);
        for it in &row.aggregations {
            let sql = "INSERT INTO settlement_content_aggregation (content_id, account_id, participant_role, amount) VALUES (?, ?, ?, ?)";
            conn.execute(sql, params![id.0 as i64, it.account.0 as i64, it.role.id(), amount_value(it.amount)])
                .map_err(sql_error)?;
        }
        ids.push(id);
    }
    Ok(ids)
}

fn insert_content_states(conn: &Connection, rows: &[NewContentState], at: Timestamp) -> Res<()> {
    for row in rows {
        let sql = "INSERT INTO settlement_window_content_state_change (content_id, state, settlement_id, reason, created_ms) \
                   VALUES (?, ?, ?, ?, ?)";
        let reason = truncate_chars(&row.reason, SETTLEMENT_REASON_LENGTH_MAX);
        let settlement = row.settlement.map(|it| it.0 as i64);
        conn.execute(sql, params![row.content.0 as i64, row.state.name(), settlement, reason, at.unix_ms()])
            .map_err(sql_error)?;
    }
    Ok(())
}

fn settlements(conn: &Connection, ids: Option<&[SettlementId]>) -> Res<Vec<SettlementRecord>> {
    let raw: Option<Vec<u64>> = ids.map(|ids| ids.iter().map(|it| it.0).collect());
    let (filter, values) = id_filter("s.settlement_id", raw.as_deref())?;
    let heads = query(conn, &format!("{}{filter} ORDER BY s.settlement_id", sql::SETTLEMENTS), values, |row| {
        Ok(SettlementRecord {
            id: SettlementId(col::<i64>(row, 0)? as u64),
            model: ModelId(col::<i64>(row, 1)? as u64),
            reason: col(row, 2)?,
            created: ms(row, 3)?,
            state: settlement_state(&col::<String>(row, 4)?)?,
            changed: ms(row, 5)?,
            windows: Vec::new(),
            accounts: Vec::new(),
        })
    })?;
    let (filter, values) = id_filter("settlement_id", raw.as_deref())?;
    let windows = query(conn, &format!("{}{filter}", sql::SETTLEMENT_WINDOWS), values, |row| {
        Ok((SettlementId(col::<i64>(row, 0)? as u64), WindowId(col::<i64>(row, 1)? as u64)))
    })?;
    let (filter, values) = id_filter("p.settlement_id", raw.as_deref())?;
    let accounts = query(conn, &format!("{}{filter}", sql::SETTLEMENT_ACCOUNTS), values, |row| {
        let account = SettlementAccount {
            account: AccountId(col::<i64>(row, 1)? as u64),
            participant: ParticipantId(col::<i64>(row, 2)? as u64),
            currency: currency(&col::<String>(row, 3)?)?,
            net: col::<StoredAmount>(row, 4)?.0,
            state: settlement_state(&col::<String>(row, 5)?)?,
            reason: col(row, 6)?,
            external_reference: col(row, 7)?,
            created: ms(row, 8)?,
            changed: ms(row, 9)?,
        };
        Ok((SettlementId(col::<i64>(row, 0)? as u64), account))
    })?;
    Ok(assemble_settlements(heads, windows, accounts))
}

fn insert_settlement(conn: &Connection, row: &NewSettlement) -> Res<SettlementId> {
    let reason = truncate_chars(&row.reason, SETTLEMENT_REASON_LENGTH_MAX);
    let sql = "INSERT INTO settlement (settlement_model_id, reason, created_ms) VALUES (?, ?, ?)";
    conn.execute(sql, params![row.model.0 as i64, reason, row.created.unix_ms()]).map_err(sql_error)?;
    let id = SettlementId(conn.last_insert_rowid() as u64);
    for window in &row.windows {
        let sql = "INSERT INTO settlement_settlement_window (settlement_id, settlement_window_id) VALUES (?, ?)";
        conn.execute(sql, params![id.0 as i64, window.0 as i64]).map_err(sql_error)?;
    }
    for (account, net) in &row.accounts {
        let sql = "INSERT INTO settlement_participant_currency (settlement_id, account_id, net_amount, created_ms) VALUES (?, ?, ?, ?)";
        conn.execute(sql, params![id.0 as i64, account.0 as i64, amount_value(*net), row.created.unix_ms()])
            .map_err(sql_error)?;
    }
    Ok(id)
}

fn insert_settlement_states(conn: &Connection, rows: &[NewSettlementState], at: Timestamp) -> Res<()> {
    for row in rows {
        let sql = "INSERT INTO settlement_state_change (settlement_id, account_id, state, reason, external_reference, created_ms) \
                   VALUES (?, ?, ?, ?, ?, ?)";
        let reason = row.reason.as_deref().map(|it| truncate_chars(it, SETTLEMENT_REASON_LENGTH_MAX));
        let reference = row.external_reference.as_deref().map(|it| truncate_chars(it, EXTERNAL_REFERENCE_LENGTH_MAX));
        let account = row.account.map(|it| it.0 as i64);
        let values = params![row.settlement.0 as i64, account, row.state.name(), reason, reference, at.unix_ms()];
        conn.execute(sql, values).map_err(sql_error)?;
    }
    Ok(())
}

fn open_window(conn: &Connection) -> Result<Window, StoreError> {
    let sql = "SELECT settlement_window_id, state, created_ms FROM settlement_window WHERE open_marker = 1";
    let row: (i64, String, i64) = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))))
        .map_err(sql_error)?;
    window(row)
}

fn close_open_window(conn: &Connection, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
    let open = open_window(conn)?;
    let processing = WindowState::Processing.name();
    conn.execute(
        "UPDATE settlement_window SET state = ?, open_marker = NULL, reason = ?, changed_ms = ? WHERE settlement_window_id = ?",
        params![processing, reason, at.unix_ms(), open.id.0 as i64],
    )
    .map_err(sql_error)?;
    record_window_state(conn, open.id, WindowState::Processing, reason, at)?;
    conn.execute(
        "INSERT INTO settlement_window (state, open_marker, reason, created_ms, changed_ms) VALUES (?, 1, ?, ?, ?)",
        params![WindowState::Open.name(), reason, at.unix_ms(), at.unix_ms()],
    )
    .map_err(sql_error)?;
    let next = WindowId(conn.last_insert_rowid() as u64);
    record_window_state(conn, next, WindowState::Open, reason, at)?;
    let closed = Window { id: open.id, state: WindowState::Processing, created: open.created };
    Ok((closed, Window { id: next, state: WindowState::Open, created: at }))
}

fn record_window_state(
    conn: &Connection,
    id: WindowId,
    state: WindowState,
    reason: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settlement_window_state_change (settlement_window_id, state, reason, created_ms) VALUES (?, ?, ?, ?)",
        params![id.0 as i64, state.name(), reason, at.unix_ms()],
    )
    .map_err(sql_error)?;
    Ok(())
}

fn window((id, state, created): (i64, String, i64)) -> Result<Window, StoreError> {
    let state = window_state(&state)?;
    Ok(Window { id: WindowId(id as u64), state, created: Timestamp::from_unix_ms(created) })
}
