//! The MySQL half of the operator APIs and settlement (see `operator`); `sqlite.rs` is its
//! twin.

use std::collections::HashMap;

use async_trait::async_trait;
use ledger_core::account::Account;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use ledger_core::model::{ModelDefinition, ModelId, SettlementModel};
use ledger_core::settlement::{Aggregation, ContentId, SettlementId};
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use mysql_async::prelude::Queryable;
use mysql_async::{Row, Transaction, Value};

use super::decode::{account_type, delay, granularity, interchange, model_name, role, settlement_state};
use super::{
    assemble_settlements, assemble_windows, check_id_count, sql, AccountBalance, ContentRecord, NewContent,
    NewContentState, NewSettlement, NewSettlementState, OperatorStore, SettlementAccount, SettlementRecord,
    SettlementTx, Window, WindowRecord, WindowSum, EXTERNAL_REFERENCE_LENGTH_MAX, SETTLEMENT_REASON_LENGTH_MAX,
};
use crate::decode::{currency, window_state};
use crate::error::StoreError;
use crate::mysql::columns::{decimal_value, ms, Columns};
use crate::mysql::error::store_error;
use crate::mysql::{inserted_id, MysqlStore, MysqlTx};
use crate::statements::placeholders;
use crate::text::truncate_chars;

#[async_trait]
impl OperatorStore for MysqlStore {
    async fn participants_created(&self) -> Result<HashMap<ParticipantId, Timestamp>, StoreError> {
        participants_created(&mut self.conn().await?).await
    }

    async fn account_balances(&self, participant: ParticipantId) -> Result<Vec<AccountBalance>, StoreError> {
        account_balances(&mut self.conn().await?, participant).await
    }

    async fn set_limit_alarm(
        &self,
        account: AccountId,
        percentage: Amount,
        changed: Timestamp,
    ) -> Result<(), StoreError> {
        set_limit_alarm(&mut self.conn().await?, account, percentage, changed).await
    }

    async fn limit_alarm(&self, account: AccountId) -> Result<Option<Amount>, StoreError> {
        limit_alarm(&mut self.conn().await?, account).await
    }

    async fn create_settlement_model(
        &self,
        definition: &ModelDefinition,
        created: Timestamp,
    ) -> Result<SettlementModel, StoreError> {
        create_settlement_model(&mut self.conn().await?, definition, created).await
    }

    async fn settlement_models(&self) -> Result<Vec<SettlementModel>, StoreError> {
        settlement_models(&mut self.conn().await?).await
    }

    async fn set_settlement_model_active(&self, id: ModelId, active: bool) -> Result<(), StoreError> {
        let sql = "UPDATE settlement_model SET is_active = ? WHERE settlement_model_id = ?";
        self.update_one(sql, (i64::from(active), id.0), &format!("settlement model {}", id.0)).await
    }

    async fn windows(&self, ids: Option<&[WindowId]>) -> Result<Vec<WindowRecord>, StoreError> {
        windows(&mut self.conn().await?, ids, "").await
    }

    async fn settlements(&self, ids: Option<&[SettlementId]>) -> Result<Vec<SettlementRecord>, StoreError> {
        settlements(&mut self.conn().await?, ids, "").await
    }
}

#[async_trait]
impl SettlementTx for MysqlTx {
    async fn open_window(&mut self) -> Result<Window, StoreError> {
        // A shared lock: fulfil batches tagging commits with this window run side by side,
        // while close_open_window (exclusive) waits for them, so no commit lands in a window
        // after it closed.
        open_window(&mut self.tx, "LOCK IN SHARE MODE").await
    }

    async fn close_open_window(&mut self, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError> {
        close_open_window(&mut self.tx, reason, at).await
    }

    async fn window_fulfilment_count(&mut self, window: WindowId) -> Result<u64, StoreError> {
        let sql = "SELECT COUNT(*) FROM transfer_fulfilment WHERE settlement_window_id = ?";
        let row: Option<Row> = self.tx.exec_first(sql, (window.0,)).await.map_err(store_error)?;
        let row = row.ok_or_else(|| StoreError::Unavailable("COUNT returned no row".into()))?;
        Columns::new(row).value()
    }

    async fn windows_for_update(&mut self, ids: &[WindowId]) -> Result<Vec<WindowRecord>, StoreError> {
        windows(&mut self.tx, Some(ids), "FOR UPDATE").await
    }

    async fn window_sums(&mut self, window: WindowId) -> Result<Vec<WindowSum>, StoreError> {
        window_sums(&mut self.tx, window).await
    }

    async fn set_window_states(
        &mut self,
        rows: &[(WindowId, WindowState)],
        reason: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        set_window_states(&mut self.tx, rows, reason, at).await
    }

    async fn insert_window_contents(
        &mut self,
        rows: &[NewContent],
        at: Timestamp,
    ) -> Result<Vec<ContentId>, StoreError> {
        insert_window_contents(&mut self.tx, rows, at).await
    }

    async fn insert_content_states(&mut self, rows: &[NewContentState], at: Timestamp) -> Result<(), StoreError> {
        insert_content_states(&mut self.tx, rows, at).await
    }

    async fn settlements_for_update(&mut self, ids: &[SettlementId]) -> Result<Vec<SettlementRecord>, StoreError> {
        settlements(&mut self.tx, Some(ids), "FOR UPDATE").await
    }

    async fn insert_settlement(&mut self, row: &NewSettlement) -> Result<SettlementId, StoreError> {
        insert_settlement(&mut self.tx, row).await
    }

    async fn insert_settlement_states(&mut self, rows: &[NewSettlementState], at: Timestamp) -> Result<(), StoreError> {
        insert_settlement_states(&mut self.tx, rows, at).await
    }
}

type Res<T> = Result<T, StoreError>;

async fn query<Q: Queryable, T>(
    conn: &mut Q,
    sql: String,
    params: Vec<Value>,
    read: impl Fn(Columns) -> Res<T>,
) -> Res<Vec<T>> {
    let rows: Vec<Row> = conn.exec(sql, params).await.map_err(store_error)?;
    rows.into_iter().map(|row| read(Columns::new(row))).collect()
}

/// `WHERE <column> IN (…)` for the ids, or nothing for all rows; an empty list matches nothing.
fn id_filter(column: &str, ids: Option<&[u64]>) -> Res<(String, Vec<Value>)> {
    match ids {
        None => Ok((String::new(), Vec::new())),
        Some(ids) => {
            check_id_count(ids.len())?;
            let mut values: Vec<Value> = ids.iter().map(|it| Value::from(*it)).collect();
            if values.is_empty() {
                values.push(Value::NULL);
            }
            Ok((format!(" WHERE {column} IN ({})", placeholders(values.len())), values))
        }
    }
}

fn reason_value(text: Option<&str>, n_chars: usize) -> Value {
    text.map_or(Value::NULL, |it| Value::from(truncate_chars(it, n_chars)))
}

async fn participants_created<Q: Queryable>(conn: &mut Q) -> Res<HashMap<ParticipantId, Timestamp>> {
    let sql = "SELECT participant_id, created_ms FROM participant".to_string();
    let rows = query(conn, sql, Vec::new(), |mut cols| Ok((ParticipantId(cols.value()?), cols.timestamp()?))).await?;
    Ok(rows.into_iter().collect())
}

async fn account_balances<Q: Queryable>(conn: &mut Q, participant: ParticipantId) -> Res<Vec<AccountBalance>> {
    query(conn, sql::ACCOUNT_BALANCES.to_string(), vec![Value::from(participant.0)], |mut cols| {
        let account = Account {
            id: AccountId(cols.value()?),
            participant: ParticipantId(cols.value()?),
            currency: currency(&cols.value::<String>()?)?,
            kind: account_type(cols.value()?)?,
            is_active: cols.flag()?,
        };
        Ok(AccountBalance {
            account,
            value: cols.amount()?,
            reserved: cols.amount()?,
            changed: cols.timestamp()?,
            created: cols.timestamp()?,
        })
    })
    .await
}

async fn set_limit_alarm<Q: Queryable>(
    conn: &mut Q,
    account: AccountId,
    percentage: Amount,
    changed: Timestamp,
) -> Res<()> {
    let sql = "INSERT INTO participant_limit_alarm (account_id, alarm_percentage, changed_ms) VALUES (?, ?, ?) \
               ON DUPLICATE KEY UPDATE alarm_percentage = VALUES(alarm_percentage), changed_ms = VALUES(changed_ms)";
    let params = vec![Value::from(account.0), decimal_value(percentage), ms(changed)];
    conn.exec_drop(sql, params).await.map_err(store_error)
}

async fn limit_alarm<Q: Queryable>(conn: &mut Q, account: AccountId) -> Res<Option<Amount>> {
    let sql = "SELECT alarm_percentage FROM participant_limit_alarm WHERE account_id = ?".to_string();
    let rows = query(conn, sql, vec![Value::from(account.0)], |mut cols| cols.amount()).await?;
    Ok(rows.into_iter().next())
}

async fn create_settlement_model(
    conn: &mut mysql_async::Conn,
    definition: &ModelDefinition,
    created: Timestamp,
) -> Res<SettlementModel> {
    let it = definition;
    let params = vec![
        Value::from(it.name.as_str()),
        Value::from(it.granularity.id()),
        Value::from(it.interchange.id()),
        Value::from(it.delay.id()),
        it.currency.as_ref().map_or(Value::NULL, |it| Value::from(it.code())),
        Value::from(i64::from(it.require_liquidity_check)),
        Value::from(it.ledger_account_type.id()),
        Value::from(it.settlement_account_type.id()),
        Value::from(i64::from(it.auto_position_reset)),
        ms(created),
    ];
    conn.exec_drop(sql::INSERT_MODEL, params).await.map_err(store_error)?;
    Ok(SettlementModel { id: ModelId(inserted_id(conn)?), definition: definition.clone(), is_active: true })
}

async fn settlement_models<Q: Queryable>(conn: &mut Q) -> Res<Vec<SettlementModel>> {
    let sql = format!("SELECT {} FROM settlement_model ORDER BY settlement_model_id", sql::MODEL_COLUMNS);
    query(conn, sql, Vec::new(), |mut cols| {
        let id = ModelId(cols.value()?);
        let name = model_name(&cols.value::<String>()?)?;
        let is_active = cols.flag()?;
        let definition = ModelDefinition {
            name,
            granularity: granularity(cols.value()?)?,
            interchange: interchange(cols.value()?)?,
            delay: delay(cols.value()?)?,
            currency: cols.value::<Option<String>>()?.map(|it| currency(&it)).transpose()?,
            require_liquidity_check: cols.flag()?,
            ledger_account_type: account_type(cols.value()?)?,
            settlement_account_type: account_type(cols.value()?)?,
            auto_position_reset: cols.flag()?,
        };
        Ok(SettlementModel { id, definition, is_active })
    })
    .await
}

async fn windows<Q: Queryable>(conn: &mut Q, ids: Option<&[WindowId]>, locking: &str) -> Res<Vec<WindowRecord>> {
    let raw: Option<Vec<u64>> = ids.map(|ids| ids.iter().map(|it| it.0).collect());
    let (filter, values) = id_filter("settlement_window_id", raw.as_deref())?;
    let sql = format!("{}{filter} ORDER BY settlement_window_id {locking}", sql::WINDOWS);
    let heads = query(conn, sql, values, |mut cols| {
        let id = WindowId(cols.value()?);
        let window = Window { id, state: window_state(&cols.value::<String>()?)?, created: cols.timestamp()? };
        Ok(WindowRecord { window, reason: cols.value()?, changed: cols.timestamp()?, contents: Vec::new() })
    })
    .await?;
    let (filter, values) = id_filter("c.settlement_window_id", raw.as_deref())?;
    let contents = query(conn, format!("{}{filter}", sql::CONTENTS), values.clone(), |mut cols| {
        Ok(ContentRecord {
            id: ContentId(cols.value()?),
            window: WindowId(cols.value()?),
            kind: account_type(cols.value()?)?,
            currency: currency(&cols.value::<String>()?)?,
            model: ModelId(cols.value()?),
            state: window_state(&cols.value::<String>()?)?,
            settlement: cols.value::<Option<u64>>()?.map(SettlementId),
            created: cols.timestamp()?,
            changed: cols.timestamp()?,
            aggregations: Vec::new(),
        })
    })
    .await?;
    let sql = format!("{}{filter} ORDER BY a.account_id, a.participant_role", sql::AGGREGATIONS);
    let aggregations = query(conn, sql, values, |mut cols| {
        let content = ContentId(cols.value()?);
        let aggregation = Aggregation {
            account: AccountId(cols.value()?),
            participant: ParticipantId(cols.value()?),
            role: role(cols.value()?)?,
            amount: cols.amount()?,
        };
        Ok((content, aggregation))
    })
    .await?;
    Ok(assemble_windows(heads, contents, aggregations))
}

async fn window_sums<Q: Queryable>(conn: &mut Q, window: WindowId) -> Res<Vec<WindowSum>> {
    query(conn, sql::WINDOW_SUMS.to_string(), vec![Value::from(window.0)], |mut cols| {
        let account = AccountId(cols.value()?);
        let participant = ParticipantId(cols.value()?);
        let kind = account_type(cols.value()?)?;
        let currency = currency(&cols.value::<String>()?)?;
        let payer: i64 = cols.value()?;
        let role = role(if payer == 1 { 1 } else { 2 })?;
        Ok(WindowSum { account, participant, kind, currency, role, amount: cols.amount()? })
    })
    .await
}

async fn set_window_states(
    tx: &mut mysql_async::Transaction<'static>,
    rows: &[(WindowId, WindowState)],
    reason: &str,
    at: Timestamp,
) -> Res<()> {
    let reason = truncate_chars(reason, SETTLEMENT_REASON_LENGTH_MAX);
    for (id, state) in rows {
        let sql = "UPDATE settlement_window SET state = ?, reason = ?, changed_ms = ? WHERE settlement_window_id = ?";
        tx.exec_drop(sql, (state.name(), reason, at.unix_ms(), id.0)).await.map_err(store_error)?;
        if tx.affected_rows() == 0 {
            return Err(StoreError::NotFound(format!("settlement window {id}")));
        }
        record_window_state(tx, *id, *state, reason, at).await?;
    }
    Ok(())
}

async fn insert_window_contents(
    tx: &mut mysql_async::Transaction<'static>,
    rows: &[NewContent],
    at: Timestamp,
) -> Res<Vec<ContentId>> {
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let sql = "INSERT INTO settlement_window_content (settlement_window_id, ledger_account_type, currency, \
                   settlement_model_id, created_ms) VALUES (?, ?, ?, ?, ?)";
        let params = (row.window.0, row.kind.id(), row.currency.code(), row.model.0, at.unix_ms());
        tx.exec_drop(sql, params).await.map_err(store_error)?;
        let id = ContentId(inserted_id(tx)?);
        for it in &row.aggregations {
            let sql = "INSERT INTO settlement_content_aggregation (content_id, account_id, participant_role, amount) VALUES (?, ?, ?, ?)";
            let params =
                vec![Value::from(id.0), Value::from(it.account.0), Value::from(it.role.id()), decimal_value(it.amount)];
            tx.exec_drop(sql, params).await.map_err(store_error)?;
        }
        ids.push(id);
    }
    Ok(ids)
}

async fn insert_content_states<Q: Queryable>(conn: &mut Q, rows: &[NewContentState], at: Timestamp) -> Res<()> {
    for row in rows {
        let sql = "INSERT INTO settlement_window_content_state_change (content_id, state, settlement_id, reason, created_ms) \
                   VALUES (?, ?, ?, ?, ?)";
        let params = vec![
            Value::from(row.content.0),
            Value::from(row.state.name()),
            row.settlement.map_or(Value::NULL, |it| Value::from(it.0)),
            reason_value(Some(&row.reason), SETTLEMENT_REASON_LENGTH_MAX),
            ms(at),
        ];
        conn.exec_drop(sql, params).await.map_err(store_error)?;
    }
    Ok(())
}

async fn settlements<Q: Queryable>(
    conn: &mut Q,
    ids: Option<&[SettlementId]>,
    locking: &str,
) -> Res<Vec<SettlementRecord>> {
    let raw: Option<Vec<u64>> = ids.map(|ids| ids.iter().map(|it| it.0).collect());
    let (filter, values) = id_filter("s.settlement_id", raw.as_deref())?;
    if !locking.is_empty() {
        let (lock_filter, lock_values) = id_filter("settlement_id", raw.as_deref())?;
        let sql = format!("SELECT settlement_id FROM settlement{lock_filter} ORDER BY settlement_id {locking}");
        conn.exec_drop(sql, lock_values).await.map_err(store_error)?;
    }
    let heads = query(conn, format!("{}{filter} ORDER BY s.settlement_id", sql::SETTLEMENTS), values, |mut cols| {
        Ok(SettlementRecord {
            id: SettlementId(cols.value()?),
            model: ModelId(cols.value()?),
            reason: cols.value()?,
            created: cols.timestamp()?,
            state: settlement_state(&cols.value::<String>()?)?,
            changed: cols.timestamp()?,
            windows: Vec::new(),
            accounts: Vec::new(),
        })
    })
    .await?;
    let (filter, values) = id_filter("settlement_id", raw.as_deref())?;
    let windows = query(conn, format!("{}{filter}", sql::SETTLEMENT_WINDOWS), values, |mut cols| {
        Ok((SettlementId(cols.value()?), WindowId(cols.value()?)))
    })
    .await?;
    let (filter, values) = id_filter("p.settlement_id", raw.as_deref())?;
    let accounts = query(conn, format!("{}{filter}", sql::SETTLEMENT_ACCOUNTS), values, |mut cols| {
        let settlement = SettlementId(cols.value()?);
        let account = SettlementAccount {
            account: AccountId(cols.value()?),
            participant: ParticipantId(cols.value()?),
            currency: currency(&cols.value::<String>()?)?,
            net: cols.amount()?,
            state: settlement_state(&cols.value::<String>()?)?,
            reason: cols.value()?,
            external_reference: cols.value()?,
            created: cols.timestamp()?,
            changed: cols.timestamp()?,
        };
        Ok((settlement, account))
    })
    .await?;
    Ok(assemble_settlements(heads, windows, accounts))
}

async fn insert_settlement(tx: &mut mysql_async::Transaction<'static>, row: &NewSettlement) -> Res<SettlementId> {
    let reason = truncate_chars(&row.reason, SETTLEMENT_REASON_LENGTH_MAX);
    let sql = "INSERT INTO settlement (settlement_model_id, reason, created_ms) VALUES (?, ?, ?)";
    tx.exec_drop(sql, (row.model.0, reason, row.created.unix_ms())).await.map_err(store_error)?;
    let id = SettlementId(inserted_id(tx)?);
    for window in &row.windows {
        let sql = "INSERT INTO settlement_settlement_window (settlement_id, settlement_window_id) VALUES (?, ?)";
        tx.exec_drop(sql, (id.0, window.0)).await.map_err(store_error)?;
    }
    for (account, net) in &row.accounts {
        let sql = "INSERT INTO settlement_participant_currency (settlement_id, account_id, net_amount, created_ms) VALUES (?, ?, ?, ?)";
        let params = vec![Value::from(id.0), Value::from(account.0), decimal_value(*net), ms(row.created)];
        tx.exec_drop(sql, params).await.map_err(store_error)?;
    }
    Ok(id)
}

async fn insert_settlement_states<Q: Queryable>(conn: &mut Q, rows: &[NewSettlementState], at: Timestamp) -> Res<()> {
    for row in rows {
        let sql = "INSERT INTO settlement_state_change (settlement_id, account_id, state, reason, external_reference, created_ms) \
                   VALUES (?, ?, ?, ?, ?, ?)";
        let params = vec![
            Value::from(row.settlement.0),
            row.account.map_or(Value::NULL, |it| Value::from(it.0)),
            Value::from(row.state.name()),
            reason_value(row.reason.as_deref(), SETTLEMENT_REASON_LENGTH_MAX),
            reason_value(row.external_reference.as_deref(), EXTERNAL_REFERENCE_LENGTH_MAX),
            ms(at),
        ];
        conn.exec_drop(sql, params).await.map_err(store_error)?;
    }
    Ok(())
}

/// The OPEN window (`open_marker = 1`), read with the given locking clause.
async fn open_window(tx: &mut Transaction<'static>, locking: &str) -> Result<Window, StoreError> {
    let sql = format!(
        "SELECT settlement_window_id, state, created_ms FROM settlement_window WHERE open_marker = 1 {locking}"
    );
    let row: Option<Row> = tx.exec_first(sql, ()).await.map_err(store_error)?;
    // Exactly one window is OPEN except for the moment a concurrent close swaps them; a
    // locking read that waited on that close can find none, and a re-run finds the new one.
    let row = row.ok_or_else(|| StoreError::Conflict("no OPEN settlement window (a close was under way)".into()))?;
    let mut cols = Columns::new(row);
    let id = WindowId(cols.value()?);
    let state = window_state(&cols.value::<String>()?)?;
    Ok(Window { id, state, created: cols.timestamp()? })
}

async fn close_open_window(
    tx: &mut Transaction<'static>,
    reason: &str,
    at: Timestamp,
) -> Result<(Window, Window), StoreError> {
    let open = open_window(tx, "FOR UPDATE").await?;
    let reason = truncate_chars(reason, SETTLEMENT_REASON_LENGTH_MAX);
    let processing = WindowState::Processing.name();
    // open_marker NULL frees the unique marker for the next window.
    let sql = "UPDATE settlement_window SET state = ?, open_marker = NULL, reason = ?, changed_ms = ? \
               WHERE settlement_window_id = ?";
    tx.exec_drop(sql, (processing, reason, at.unix_ms(), open.id.0)).await.map_err(store_error)?;
    record_window_state(tx, open.id, WindowState::Processing, reason, at).await?;
    let sql =
        "INSERT INTO settlement_window (state, open_marker, reason, created_ms, changed_ms) VALUES (?, 1, ?, ?, ?)";
    tx.exec_drop(sql, (WindowState::Open.name(), reason, at.unix_ms(), at.unix_ms())).await.map_err(store_error)?;
    let next = WindowId(inserted_id(tx)?);
    record_window_state(tx, next, WindowState::Open, reason, at).await?;
    let closed = Window { id: open.id, state: WindowState::Processing, created: open.created };
    Ok((closed, Window { id: next, state: WindowState::Open, created: at }))
}

async fn record_window_state(
    tx: &mut Transaction<'static>,
    id: WindowId,
    state: WindowState,
    reason: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO settlement_window_state_change (settlement_window_id, state, reason, created_ms) \
               VALUES (?, ?, ?, ?)";
    tx.exec_drop(sql, (id.0, state.name(), reason, at.unix_ms())).await.map_err(store_error)
}
