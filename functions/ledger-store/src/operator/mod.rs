//! The operator APIs and settlement: balances with dates, limit alarms and settlement models
//! ([`OperatorStore`]), and the settlement windows with their contents and aggregation, and
//! settlements with their accounts ([`SettlementTx`] inside a transaction, [`OperatorStore`]
//! for reads). Every state here is an insert-only journal row; a current state is the latest
//! row.

use std::collections::HashMap;

use async_trait::async_trait;
use ledger_core::account::{Account, LedgerAccountType, ParticipantRole};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, ParticipantId, WindowId};
use ledger_core::model::{ModelDefinition, ModelId, SettlementModel};
use ledger_core::settlement::{Aggregation, ContentId, SettlementId, SettlementState};
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;

use crate::error::StoreError;

pub(crate) mod mysql;
pub(crate) mod sqlite;

/// Longest settlement or content reason kept, in characters (`reason VARCHAR(512)`).
pub const SETTLEMENT_REASON_LENGTH_MAX: usize = 512;
/// Longest external reference kept, in characters (`externalReference VARCHAR(50)` upstream;
/// the admin API allows longer ones for funds, so this column is wider).
pub const EXTERNAL_REFERENCE_LENGTH_MAX: usize = 512;

/// A settlement window and its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub id: WindowId,
    pub state: WindowState,
    pub created: Timestamp,
}

/// An account with its balance and dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    pub account: Account,
    pub value: Amount,
    pub reserved: Amount,
    pub changed: Timestamp,
    pub created: Timestamp,
}

/// A settlement window with its current state, reason and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    pub window: Window,
    pub reason: Option<String>,
    pub changed: Timestamp,
    pub contents: Vec<ContentRecord>,
}

/// One content of a window: the aggregated position changes of one account type and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRecord {
    pub id: ContentId,
    pub window: WindowId,
    pub kind: LedgerAccountType,
    pub currency: Currency,
    pub model: ModelId,
    pub state: WindowState,
    pub settlement: Option<SettlementId>,
    pub created: Timestamp,
    pub changed: Timestamp,
    pub aggregations: Vec<Aggregation>,
}

/// A window's position changes summed per account and sign, as the close aggregation reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSum {
    pub account: AccountId,
    pub participant: ParticipantId,
    pub kind: LedgerAccountType,
    pub currency: Currency,
    pub role: ParticipantRole,
    pub amount: Amount,
}

/// A content to insert; its first state comes with [`NewContentState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContent {
    pub window: WindowId,
    pub kind: LedgerAccountType,
    pub currency: Currency,
    pub model: ModelId,
    pub aggregations: Vec<Aggregation>,
}

/// An appended content state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContentState {
    pub content: ContentId,
    pub state: WindowState,
    pub settlement: Option<SettlementId>,
    pub reason: String,
}

/// A settlement with its windows and accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementRecord {
    pub id: SettlementId,
    pub model: ModelId,
    pub reason: String,
    pub state: SettlementState,
    pub created: Timestamp,
    pub changed: Timestamp,
    pub windows: Vec<WindowId>,
    pub accounts: Vec<SettlementAccount>,
}

/// One account of a settlement with its net amount (positive: the participant owes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementAccount {
    pub account: AccountId,
    pub participant: ParticipantId,
    pub currency: Currency,
    pub net: Amount,
    pub state: SettlementState,
    pub reason: Option<String>,
    pub external_reference: Option<String>,
    pub created: Timestamp,
    pub changed: Timestamp,
}

/// A settlement to insert (its states come with [`NewSettlementState`] rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSettlement {
    pub model: ModelId,
    pub reason: String,
    pub windows: Vec<WindowId>,
    /// `(account, net amount)`.
    pub accounts: Vec<(AccountId, Amount)>,
    pub created: Timestamp,
}

/// An appended settlement state (`account: None`) or settlement account state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSettlementState {
    pub settlement: SettlementId,
    pub account: Option<AccountId>,
    pub state: SettlementState,
    pub reason: Option<String>,
    pub external_reference: Option<String>,
}

/// The operator APIs' reads and single writes outside a transaction: balances with dates,
/// limit alarms, settlement models, windows and settlements.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// When each participant was created.
    async fn participants_created(&self) -> Result<HashMap<ParticipantId, Timestamp>, StoreError>;

    /// A participant's accounts with their balances and dates, ordered by account id.
    async fn account_balances(&self, participant: ParticipantId) -> Result<Vec<AccountBalance>, StoreError>;

    /// Sets the alarm threshold (a percentage) of an account's limit.
    async fn set_limit_alarm(
        &self,
        account: AccountId,
        percentage: Amount,
        changed: Timestamp,
    ) -> Result<(), StoreError>;

    async fn limit_alarm(&self, account: AccountId) -> Result<Option<Amount>, StoreError>;

    /// Stores a settlement model, active; [`StoreError::Conflict`] for a taken name, or a taken
    /// (currency, account type) pair.
    async fn create_settlement_model(
        &self,
        definition: &ModelDefinition,
        created: Timestamp,
    ) -> Result<SettlementModel, StoreError>;

    /// Every settlement model, by id.
    async fn settlement_models(&self) -> Result<Vec<SettlementModel>, StoreError>;

    async fn set_settlement_model_active(&self, id: ModelId, active: bool) -> Result<(), StoreError>;

    /// Windows with their content (all windows for `None`), by id.
    async fn windows(&self, ids: Option<&[WindowId]>) -> Result<Vec<WindowRecord>, StoreError>;

    /// Settlements with their windows and accounts (all for `None`), by id.
    async fn settlements(&self, ids: Option<&[SettlementId]>) -> Result<Vec<SettlementRecord>, StoreError>;
}

/// Settlement windows and settlements inside one transaction: the OPEN window a fulfil tags
/// its commits with, closing it, and the settlement function's reads under lock and writes.
#[async_trait]
pub trait SettlementTx: Send {
    /// The OPEN settlement window.
    async fn open_window(&mut self) -> Result<Window, StoreError>;

    /// Closes the OPEN window (→ PROCESSING) and opens the next one; returns `(closed, opened)`.
    async fn close_open_window(&mut self, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError>;

    /// Number of fulfilments tagged with a window.
    async fn window_fulfilment_count(&mut self, window: WindowId) -> Result<u64, StoreError>;

    /// Locks and reads windows with their content, by id; unknown ids are absent.
    async fn windows_for_update(&mut self, ids: &[WindowId]) -> Result<Vec<WindowRecord>, StoreError>;

    /// A window's position changes (of transfers whose fulfilment is tagged with it), summed per
    /// account and sign.
    async fn window_sums(&mut self, window: WindowId) -> Result<Vec<WindowSum>, StoreError>;

    /// Moves windows to a state, with a journal row each.
    async fn set_window_states(
        &mut self,
        rows: &[(WindowId, WindowState)],
        reason: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Inserts window contents with their aggregations; returns their ids in order.
    /// [`StoreError::Conflict`] if the window already has content of that type and currency.
    async fn insert_window_contents(
        &mut self,
        rows: &[NewContent],
        at: Timestamp,
    ) -> Result<Vec<ContentId>, StoreError>;

    async fn insert_content_states(&mut self, rows: &[NewContentState], at: Timestamp) -> Result<(), StoreError>;

    /// Locks and reads settlements, by id; unknown ids are absent.
    async fn settlements_for_update(&mut self, ids: &[SettlementId]) -> Result<Vec<SettlementRecord>, StoreError>;

    /// Inserts a settlement with its windows and accounts (no state yet).
    async fn insert_settlement(&mut self, row: &NewSettlement) -> Result<SettlementId, StoreError>;

    async fn insert_settlement_states(&mut self, rows: &[NewSettlementState], at: Timestamp) -> Result<(), StoreError>;
}

/// The SQL both backends run for the operator rows (`?` placeholders; `{in}` is replaced by a
/// placeholder list, `{lock}` by the backend's locking clause).
pub(crate) mod sql {
    pub const MODEL_COLUMNS: &str = "settlement_model_id, name, is_active, granularity, interchange, delay, currency, \
        require_liquidity_check, ledger_account_type, settlement_account_type, auto_position_reset";
    pub const INSERT_MODEL: &str =
        "INSERT INTO settlement_model (name, is_active, granularity, interchange, delay, currency, \
        require_liquidity_check, ledger_account_type, settlement_account_type, auto_position_reset, created_ms) \
        VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    pub const ACCOUNT_BALANCES: &str =
        "SELECT c.account_id, c.participant_id, c.currency, c.ledger_account_type, c.is_active, \
        p.value, p.reserved_value, p.changed_ms, c.created_ms FROM participant_currency c \
        JOIN participant_position p ON p.account_id = c.account_id WHERE c.participant_id = ? ORDER BY c.account_id";
    pub const WINDOWS: &str =
        "SELECT settlement_window_id, state, created_ms, reason, changed_ms FROM settlement_window";
    pub const CONTENTS: &str = "SELECT c.content_id, c.settlement_window_id, c.ledger_account_type, c.currency, \
        c.settlement_model_id, s.state, s.settlement_id, c.created_ms, s.created_ms FROM settlement_window_content c \
        JOIN settlement_window_content_state_change s ON s.id = (SELECT MAX(x.id) FROM settlement_window_content_state_change x \
        WHERE x.content_id = c.content_id)";
    pub const AGGREGATIONS: &str =
        "SELECT a.content_id, a.account_id, pc.participant_id, a.participant_role, a.amount \
        FROM settlement_content_aggregation a JOIN participant_currency pc ON pc.account_id = a.account_id \
        JOIN settlement_window_content c ON c.content_id = a.content_id";
    /// Position changes of the transfers whose fulfilment names the window, per account and sign.
    /// MySQL only: SQLite's SUM is not exact beyond 64 bits, so that store adds them up itself.
    pub const WINDOW_SUMS: &str = "SELECT c.account_id, pc.participant_id, pc.ledger_account_type, pc.currency, \
        CASE WHEN c.change_amount > 0 THEN 1 ELSE 0 END AS payer, SUM(c.change_amount) \
        FROM transfer_fulfilment f JOIN participant_position_change c ON c.transfer_seq = f.transfer_seq \
        JOIN participant_currency pc ON pc.account_id = c.account_id WHERE f.settlement_window_id = ? \
        GROUP BY c.account_id, pc.participant_id, pc.ledger_account_type, pc.currency, payer ORDER BY c.account_id, payer DESC";
    pub const SETTLEMENTS: &str =
        "SELECT s.settlement_id, s.settlement_model_id, s.reason, s.created_ms, sc.state, sc.created_ms \
        FROM settlement s JOIN settlement_state_change sc ON sc.id = (SELECT MAX(x.id) FROM settlement_state_change x \
        WHERE x.settlement_id = s.settlement_id AND x.account_id IS NULL)";
    pub const SETTLEMENT_WINDOWS: &str = "SELECT settlement_id, settlement_window_id FROM settlement_settlement_window";
    pub const SETTLEMENT_ACCOUNTS: &str =
        "SELECT p.settlement_id, p.account_id, pc.participant_id, pc.currency, p.net_amount, \
        sc.state, sc.reason, sc.external_reference, p.created_ms, sc.created_ms FROM settlement_participant_currency p \
        JOIN participant_currency pc ON pc.account_id = p.account_id \
        JOIN settlement_state_change sc ON sc.id = (SELECT MAX(x.id) FROM settlement_state_change x \
        WHERE x.settlement_id = p.settlement_id AND x.account_id = p.account_id)";
}

/// Builds settlement records from their rows (settlements, window links, accounts).
pub(crate) fn assemble_settlements(
    heads: Vec<SettlementRecord>,
    windows: Vec<(SettlementId, WindowId)>,
    accounts: Vec<(SettlementId, SettlementAccount)>,
) -> Vec<SettlementRecord> {
    let mut res = heads;
    for (settlement, window) in windows {
        if let Some(it) = res.iter_mut().find(|it| it.id == settlement) {
            it.windows.push(window);
        }
    }
    for (settlement, account) in accounts {
        if let Some(it) = res.iter_mut().find(|it| it.id == settlement) {
            it.accounts.push(account);
        }
    }
    for it in &mut res {
        it.windows.sort();
        it.accounts.sort_by_key(|account| account.account);
    }
    res
}

/// Builds window records from their rows (windows, contents, aggregations).
pub(crate) fn assemble_windows(
    heads: Vec<WindowRecord>,
    contents: Vec<ContentRecord>,
    aggregations: Vec<(ContentId, Aggregation)>,
) -> Vec<WindowRecord> {
    let mut res = heads;
    let mut contents = contents;
    for (content, aggregation) in aggregations {
        if let Some(it) = contents.iter_mut().find(|it| it.id == content) {
            it.aggregations.push(aggregation);
        }
    }
    contents.sort_by_key(|it| it.id);
    for content in contents {
        if let Some(it) = res.iter_mut().find(|it| it.window.id == content.window) {
            it.contents.push(content);
        }
    }
    res
}

/// Decoding of stored codes shared by both backends; a value the ledger cannot read is corrupt.
pub(crate) mod decode {
    use ledger_core::account::{LedgerAccountType, ParticipantRole};
    use ledger_core::model::{Delay, Granularity, Interchange, ModelName};
    use ledger_core::settlement::SettlementState;

    use crate::error::StoreError;

    fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
        StoreError::Corrupt(format!("{what} {value:?}"))
    }

    pub fn account_type(id: u8) -> Result<LedgerAccountType, StoreError> {
        LedgerAccountType::from_id(id).ok_or_else(|| corrupt("account type", id))
    }
    pub fn role(id: u8) -> Result<ParticipantRole, StoreError> {
        ParticipantRole::from_id(id).ok_or_else(|| corrupt("participant role", id))
    }
    pub fn settlement_state(text: &str) -> Result<SettlementState, StoreError> {
        SettlementState::from_name(text).ok_or_else(|| corrupt("settlement state", text))
    }
    pub fn model_name(text: &str) -> Result<ModelName, StoreError> {
        ModelName::parse(text).ok_or_else(|| corrupt("settlement model name", text))
    }
    pub fn granularity(id: u8) -> Result<Granularity, StoreError> {
        Granularity::from_id(id).ok_or_else(|| corrupt("granularity", id))
    }
    pub fn interchange(id: u8) -> Result<Interchange, StoreError> {
        Interchange::from_id(id).ok_or_else(|| corrupt("interchange", id))
    }
    pub fn delay(id: u8) -> Result<Delay, StoreError> {
        Delay::from_id(id).ok_or_else(|| corrupt("delay", id))
    }
}

/// `IN (?, ?, …)` lists are one statement: callers keep id lists below this.
pub(crate) fn check_id_count(n_ids: usize) -> Result<(), StoreError> {
    match n_ids <= crate::statements::STATEMENT_ROWS_MAX {
        true => Ok(()),
        false => Err(StoreError::Invalid(format!(
            "{n_ids} ids in one read; at most {}",
            crate::statements::STATEMENT_ROWS_MAX
        ))),
    }
}
