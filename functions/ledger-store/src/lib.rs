//! The ledger store: one transactional, batch-shaped API over the central-ledger tables, with
//! an embedded SQLite implementation (the default) and a MySQL/MariaDB one (Azure).
//!
//! # Layout
//! - [`LedgerStore`]: reference data (participants, accounts, limits, callback endpoints),
//!   reads outside a transaction, the notification function's delivery and dead-letter records
//!   (each call its own short transaction), and [`LedgerStore::begin`].
//! - [`LedgerTx`]: one database transaction. Handlers load what a batch needs (positions under
//!   row locks in ascending account order, transfer states, duplicate-check hashes), ask the
//!   core to decide, write every row kind with one multi-row statement, and commit. Dropping a
//!   transaction without [`LedgerTx::commit`] rolls it back: a batch commits whole or not at
//!   all.
//! - `operator`: the rows of the admin and settlement APIs (balances with dates, settlement
//!   models, window contents, settlements); `sqlite_operator` and `mysql_operator` hold their
//!   SQL.
//! - `sqlite` and `mysql`: the two implementations, with their migrations under
//!   `migrations/`, applied on open and idempotent. `sqlite_work_list` and `mysql_work_list`
//!   hold the timeout work-list's SQL.
//!
//! # Invariants
//! - State journals are insert-only: `transfer_state_change` rows are keyed by the transfer and
//!   a per-transfer `seq` and never updated, so two racing writers of the same next state
//!   collide on the key ([`StoreError::Conflict`]) instead of both succeeding. Both backends key
//!   every child row of a transfer on a sequential `transfer_seq`, not on the (mostly random)
//!   transfer id, so new rows append instead of landing on random pages.
//! - Every position update comes with a journal row whose `value` is the running position.
//! - Exactly one settlement window is OPEN: the database enforces it with a unique marker.
//! - A notification is recorded once per (event id, recipient): recording the pair again is a
//!   no-op, so re-emitted events are not delivered twice.
//! - The timeout work-list (`transfer_timeout`) has one entry per transfer that may still need
//!   the timeout function, keyed by when it is next due; the store never decides which: callers
//!   remove an entry in the transaction that makes its transfer final
//!   ([`LedgerTx::delete_timeouts_of`]), and a moved entry never comes back once removed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use async_trait::async_trait;
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap, Participant};
use ledger_core::amount::Amount;
use ledger_core::condition::{IlpCondition, IlpFulfilment};
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId, TransferId, WindowId};
use ledger_core::position::PositionAccount;
use ledger_core::prepare::RequestHash;
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_core::window::WindowState;
use ledger_core::model::{ModelDefinition, ModelId, SettlementModel};
use ledger_core::settlement::{ContentId, SettlementId};

use crate::operator::{AccountBalance, NewContent, NewContentState, NewSettlement, NewSettlementState, SettlementRecord, WindowRecord, WindowSum};

mod decode;
mod mysql;
pub mod operator;
mod sqlite;
mod sqlite_error;

pub use crate::mysql::{connect_pool as mysql_pool, MysqlStore, MysqlStoreConfig};
pub use crate::sqlite::SqliteStore;

/// Most rows one multi-row statement carries; larger inputs are split into chunks of this size
/// (SQLite allows 32 766 bound parameters and MySQL 65 535 per statement).
pub const STATEMENT_ROWS_MAX: usize = 500;
/// Longest reason text a state change keeps (`transferStateChange.reason VARCHAR(512)`).
pub const STATE_REASON_LENGTH_MAX: usize = 512;
/// Longest error description kept (`transferError.errorDescription VARCHAR(128)`).
pub const ERROR_DESCRIPTION_LENGTH_MAX: usize = 128;
/// Longest endpoint type, in characters (`participant_endpoint.endpoint_type VARCHAR(64)`);
/// longer ones are [`StoreError::Invalid`] on both backends.
pub const ENDPOINT_TYPE_LENGTH_MAX: usize = 64;
/// Longest endpoint value (URL template), in characters (`participant_endpoint.value VARCHAR(512)`).
pub const ENDPOINT_VALUE_LENGTH_MAX: usize = 512;
/// Longest event id, in characters (`notification_delivery.event_id`, `dead_letter.event_id`).
pub const EVENT_ID_LENGTH_MAX: usize = 64;
/// Longest notification recipient, in characters (an FSP name: `participant.name VARCHAR(128)`).
pub const RECIPIENT_LENGTH_MAX: usize = 128;
/// Longest transfer id kept with a delivery or a dead letter, in characters (a UUID or ULID).
pub const TRANSFER_ID_LENGTH_MAX: usize = 36;
/// Longest dead-letter source, in characters (`dead_letter.source VARCHAR(64)`).
pub const DEAD_LETTER_SOURCE_LENGTH_MAX: usize = 64;
/// Longest dead-letter body kept, in UTF-8 bytes (MySQL `MEDIUMTEXT`); a longer one is cut.
pub const DEAD_LETTER_BODY_BYTES_MAX: usize = 16_777_215;
/// Longest dead-letter reason kept, in UTF-8 bytes (MySQL `TEXT`); a longer one is cut.
pub const DEAD_LETTER_REASON_BYTES_MAX: usize = 65_535;

/// Why a store operation failed. Business outcomes are never errors here; these are
/// operating failures the caller may retry, or data the store refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique key already holds this row: a concurrent writer got there first, or the row
    /// was written by an earlier delivery. Re-running the batch from its load step resolves it.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A row the operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A value does not fit the schema (e.g. more ids in one read than a statement takes).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database could not be reached or failed; retry later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The database holds a value the ledger cannot read back: a bug or tampering.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether running the same work again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Conflict(_) | StoreError::Unavailable(_))
    }
}

/// A new transfer as prepare persists it (transfer row, first state, timeout entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransfer {
    pub transfer_id: TransferId,
    pub payer: FspId,
    pub payee: FspId,
    /// The payer side's account (+amount): the payer's POSITION account, or for internal
    /// transfers the debited account. `None` when validation failed before it was known.
    pub payer_account: Option<AccountId>,
    /// The payee side's account (−amount).
    pub payee_account: Option<AccountId>,
    pub amount: Amount,
    pub currency: Currency,
    /// `None` for internal transfers and for prepares whose condition did not decode.
    pub condition: Option<IlpCondition>,
    pub expiration: Timestamp,
    pub ilp_packet: String,
    pub hash: RequestHash,
    /// RECEIVED_PREPARE, or INVALID when validation failed.
    pub state: TransferState,
    pub reason: Option<String>,
    pub created: Timestamp,
    pub extensions: Vec<(String, String)>,
}

/// An appended transfer state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStateChange {
    pub transfer_id: TransferId,
    /// One more than the transfer's latest `seq`.
    pub seq: u32,
    pub state: TransferState,
    pub reason: Option<String>,
    pub created: Timestamp,
}

/// An appended position journal row, linked to the state change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPositionChange {
    pub account: AccountId,
    pub transfer_id: TransferId,
    pub seq: u32,
    pub change: Amount,
    pub value: Amount,
    pub reserved: Amount,
    pub created: Timestamp,
}

/// Which duplicate-check table a hash belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    Prepare,
    Fulfil,
    Error,
}

/// A transfer's error (one per transfer: `transferError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransferError {
    pub transfer_id: TransferId,
    pub seq: u32,
    pub code: u16,
    pub description: String,
    pub created: Timestamp,
}

/// A payee's accepted fulfilment, tagged with the settlement window that was OPEN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFulfilment {
    pub transfer_id: TransferId,
    pub fulfilment: Option<IlpFulfilment>,
    pub completed: Timestamp,
    pub window: WindowId,
    pub created: Timestamp,
}

/// A transfer's latest state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentState {
    pub state: TransferState,
    pub seq: u32,
    pub changed: Timestamp,
}

/// A transfer with everything a GET, a fulfil or a callback needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    pub transfer_id: TransferId,
    pub payer: FspId,
    pub payee: FspId,
    pub payer_account: Option<AccountId>,
    pub payee_account: Option<AccountId>,
    pub amount: Amount,
    pub currency: Currency,
    pub condition: Option<IlpCondition>,
    pub expiration: Timestamp,
    pub ilp_packet: String,
    pub created: Timestamp,
    pub current: CurrentState,
    pub fulfilment: Option<IlpFulfilment>,
    pub window: Option<WindowId>,
    pub error: Option<(u16, String)>,
    pub extensions: Vec<(String, String)>,
}

/// A settlement window and its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub id: WindowId,
    pub state: WindowState,
    pub created: Timestamp,
}

/// Which notification went to whom. Deliveries are stored and looked up by transfer first:
/// event ids are hashes, and a table keyed by them took every row to a page of its own (135
/// pages written per commit of 90 rows, against 8 keyed by time-ordered transfer ids such as
/// ULIDs, UUIDv7 or the load generator's). A transfer's deliveries always sit together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub transfer_id: String,
    pub event_id: String,
    pub recipient: String,
}

/// A notification sent to one recipient, recorded so that a re-emitted event (same id) is not
/// sent to that recipient again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// At most [`EVENT_ID_LENGTH_MAX`] characters.
    pub event_id: String,
    /// At most [`RECIPIENT_LENGTH_MAX`] characters.
    pub recipient: String,
    /// At most [`TRANSFER_ID_LENGTH_MAX`] characters.
    pub transfer_id: String,
    pub delivered: Timestamp,
}

/// An event a function could not process, or a callback that gave up after its retries, kept
/// for operators. Texts beyond their column are cut (on a character boundary), never refused:
/// recording a dead letter must not fail on its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    /// What gave up, e.g. `"prepare"` or `"notification"`.
    pub source: String,
    pub event_id: Option<String>,
    pub transfer_id: Option<String>,
    pub body: String,
    pub reason: String,
    pub created: Timestamp,
}

/// A stored dead letter; `id` grows with every insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterRecord {
    pub id: u64,
    pub source: String,
    pub event_id: Option<String>,
    pub transfer_id: Option<String>,
    pub body: String,
    pub reason: String,
    pub created: Timestamp,
}

/// The ledger store: see the crate documentation.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Opens a transaction. Writers are serialised per account by row locks (MySQL) or by the
    /// single writer (SQLite).
    async fn begin(&self) -> Result<Box<dyn LedgerTx>, StoreError>;

    /// A transfer with its latest state, or `None`.
    async fn transfer(&self, id: &TransferId) -> Result<Option<TransferRecord>, StoreError>;

    /// Several transfers with their latest states, read together (one round of queries for a
    /// whole batch); ids with no transfer are absent from the map.
    async fn transfers(&self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError>;

    /// A transfer's state journal, oldest first.
    async fn state_history(&self, id: &TransferId) -> Result<Vec<CurrentState>, StoreError>;

    /// An account's position journal, oldest first: `(transfer, change, running value)`.
    async fn position_journal(&self, account: AccountId) -> Result<Vec<(Option<TransferId>, Amount, Amount)>, StoreError>;

    /// Creates a participant; [`StoreError::Conflict`] if the name exists.
    async fn create_participant(&self, name: &FspId, created: Timestamp) -> Result<Participant, StoreError>;

    async fn participant(&self, name: &FspId) -> Result<Option<Participant>, StoreError>;

    async fn participants(&self) -> Result<Vec<Participant>, StoreError>;

    async fn set_participant_active(&self, id: ParticipantId, active: bool) -> Result<(), StoreError>;

    /// Creates an account with a zero position; [`StoreError::Conflict`] if the participant
    /// already has one of that type in that currency.
    async fn create_account(
        &self,
        participant: ParticipantId,
        currency: Currency,
        kind: LedgerAccountType,
        active: bool,
        created: Timestamp,
    ) -> Result<Account, StoreError>;

    async fn accounts(&self, participant: ParticipantId) -> Result<Vec<Account>, StoreError>;

    /// The named participants, each with its accounts (ascending account id), in two reads
    /// whatever the count: what a batch needs, instead of two reads per participant. Names
    /// without a participant are left out; the order is ascending participant id.
    async fn participants_with_accounts(&self, names: &[FspId]) -> Result<Vec<(Participant, Vec<Account>)>, StoreError>;

    async fn set_account_active(&self, id: AccountId, active: bool) -> Result<(), StoreError>;

    /// Replaces the account's active NET_DEBIT_CAP (the old row is deactivated, not changed).
    async fn set_net_debit_cap(&self, account: AccountId, cap: NetDebitCap, created: Timestamp) -> Result<(), StoreError>;

    async fn net_debit_cap(&self, account: AccountId) -> Result<Option<NetDebitCap>, StoreError>;

    /// Current value and reserved value of an account.
    async fn balance(&self, account: AccountId) -> Result<(Amount, Amount), StoreError>;

    /// Sets a participant's endpoint of a type (e.g. `FSPIOP_CALLBACK_URL_TRANSFER_PUT`, a
    /// Mustache template): inserts it, or replaces the value in place. Types are free text here.
    /// [`StoreError::NotFound`] for an unknown participant; [`StoreError::Invalid`] beyond
    /// [`ENDPOINT_TYPE_LENGTH_MAX`] / [`ENDPOINT_VALUE_LENGTH_MAX`].
    async fn set_endpoint(&self, participant: ParticipantId, endpoint_type: &str, value: &str, created: Timestamp) -> Result<(), StoreError>;

    /// A participant's active endpoints as `(type, value)`, ordered by type (bytewise); empty for
    /// an unknown participant.
    async fn endpoints(&self, participant: ParticipantId) -> Result<Vec<(String, String)>, StoreError>;

    /// The active endpoints of the named participants in one read, each list as
    /// [`LedgerStore::endpoints`] gives it; a name without a participant or an endpoint has no
    /// entry.
    async fn endpoints_by_name(&self, names: &[FspId]) -> Result<HashMap<FspId, Vec<(String, String)>>, StoreError>;

    /// Which of `keys` have a recorded delivery.
    async fn delivered(&self, keys: &[DeliveryKey]) -> Result<HashSet<DeliveryKey>, StoreError>;

    /// Records deliveries; a key already recorded is left as it is (not an error).
    /// [`StoreError::Invalid`] if a text exceeds its column, before anything is written.
    async fn record_deliveries(&self, rows: &[NewDelivery]) -> Result<(), StoreError>;

    async fn record_dead_letters(&self, rows: &[NewDeadLetter]) -> Result<(), StoreError>;

    /// The newest dead letters first (highest id), at most `limit`.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetterRecord>, StoreError>;

    /// When each participant was created.
    async fn participants_created(&self) -> Result<HashMap<ParticipantId, Timestamp>, StoreError>;

    /// A participant's accounts with their balances and dates, ordered by account id.
    async fn account_balances(&self, participant: ParticipantId) -> Result<Vec<AccountBalance>, StoreError>;

    /// Sets the alarm threshold (a percentage) of an account's limit.
    async fn set_limit_alarm(&self, account: AccountId, percentage: Amount, changed: Timestamp) -> Result<(), StoreError>;

    async fn limit_alarm(&self, account: AccountId) -> Result<Option<Amount>, StoreError>;

    /// Stores a settlement model, active; [`StoreError::Conflict`] for a taken name, or a taken
    /// (currency, account type) pair.
    async fn create_settlement_model(&self, definition: &ModelDefinition, created: Timestamp) -> Result<SettlementModel, StoreError>;

    /// Every settlement model, by id.
    async fn settlement_models(&self) -> Result<Vec<SettlementModel>, StoreError>;

    async fn set_settlement_model_active(&self, id: ModelId, active: bool) -> Result<(), StoreError>;

    /// Windows with their content (all windows for `None`), by id.
    async fn windows(&self, ids: Option<&[WindowId]>) -> Result<Vec<WindowRecord>, StoreError>;

    /// Settlements with their windows and accounts (all for `None`), by id.
    async fn settlements(&self, ids: Option<&[SettlementId]>) -> Result<Vec<SettlementRecord>, StoreError>;
}

/// One database transaction; dropping it without commit rolls it back.
#[async_trait]
pub trait LedgerTx: Send {
    /// Locks the POSITION accounts (ascending id, so concurrent batches cannot deadlock) and
    /// their participants' SETTLEMENT accounts in the same currency, and returns what the
    /// position decision needs. Unknown accounts are absent from the result.
    async fn lock_positions(&mut self, accounts: &[AccountId]) -> Result<BTreeMap<AccountId, PositionAccount>, StoreError>;

    /// Locks accounts and returns their `(value, reserved)` for balance moves that are not
    /// position decisions (funds in/out, settlement transfers).
    async fn lock_balances(&mut self, accounts: &[AccountId]) -> Result<BTreeMap<AccountId, (Amount, Amount)>, StoreError>;

    /// Latest state of each known transfer.
    async fn current_states(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, CurrentState>, StoreError>;

    /// Stored duplicate-check hashes of each id that has one.
    async fn hashes(&mut self, kind: HashKind, ids: &[TransferId]) -> Result<HashMap<TransferId, RequestHash>, StoreError>;

    /// Full records of the known transfers.
    async fn transfers(&mut self, ids: &[TransferId]) -> Result<HashMap<TransferId, TransferRecord>, StoreError>;

    /// Inserts transfers with their prepare hash, first state (seq 1), extensions and timeout
    /// entry. [`StoreError::Conflict`] if any id exists.
    async fn insert_transfers(&mut self, rows: &[NewTransfer]) -> Result<(), StoreError>;

    /// Inserts fulfil or error duplicate-check hashes.
    async fn insert_hashes(&mut self, kind: HashKind, rows: &[(TransferId, RequestHash, Timestamp)]) -> Result<(), StoreError>;

    async fn insert_state_changes(&mut self, rows: &[NewStateChange]) -> Result<(), StoreError>;

    async fn insert_position_changes(&mut self, rows: &[NewPositionChange]) -> Result<(), StoreError>;

    /// Sets accounts' values (each must have been locked in this transaction).
    async fn update_positions(&mut self, rows: &[(AccountId, Amount)], changed: Timestamp) -> Result<(), StoreError>;

    async fn insert_errors(&mut self, rows: &[NewTransferError]) -> Result<(), StoreError>;

    async fn insert_fulfilments(&mut self, rows: &[NewFulfilment]) -> Result<(), StoreError>;

    /// The OPEN settlement window.
    async fn open_window(&mut self) -> Result<Window, StoreError>;

    /// Closes the OPEN window (→ PROCESSING) and opens the next one; returns `(closed, opened)`.
    async fn close_open_window(&mut self, reason: &str, at: Timestamp) -> Result<(Window, Window), StoreError>;

    /// Number of fulfilments tagged with a window.
    async fn window_fulfilment_count(&mut self, window: WindowId) -> Result<u64, StoreError>;

    /// Entries of the timeout work-list due before `now` as `(transfer, due)`: soonest first,
    /// then in the order the transfers were stored, at most `limit`. The work-list holds one
    /// entry per transfer that is not final, due at its expiration until the timeout function
    /// moves it on ([`LedgerTx::move_timeouts`]).
    async fn due_timeouts(&mut self, now: Timestamp, limit: usize) -> Result<Vec<(TransferId, Timestamp)>, StoreError>;

    /// Removes timeout entries, named as [`LedgerTx::due_timeouts`] returned them; an entry no
    /// longer there (or due at another time) is left as it is.
    async fn delete_timeouts(&mut self, entries: &[(TransferId, Timestamp)]) -> Result<(), StoreError>;

    /// Moves timeout entries to a new due time: `(transfer, due as read, new due)`. An entry no
    /// longer due at the time read (removed meanwhile by the transaction that made its transfer
    /// final) is left as it is, so a finished transfer never gets its entry back.
    async fn move_timeouts(&mut self, entries: &[(TransferId, Timestamp, Timestamp)]) -> Result<(), StoreError>;

    /// Removes the timeout entries of these transfers, whenever due: called in the transaction
    /// that makes them final. Unknown transfers and transfers without an entry are skipped.
    async fn delete_timeouts_of(&mut self, ids: &[TransferId]) -> Result<(), StoreError>;

    /// Locks and reads windows with their content, by id; unknown ids are absent.
    async fn windows_for_update(&mut self, ids: &[WindowId]) -> Result<Vec<WindowRecord>, StoreError>;

    /// A window's position changes (of transfers whose fulfilment is tagged with it), summed per
    /// account and sign.
    async fn window_sums(&mut self, window: WindowId) -> Result<Vec<WindowSum>, StoreError>;

    /// Moves windows to a state, with a journal row each.
    async fn set_window_states(&mut self, rows: &[(WindowId, WindowState)], reason: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Inserts window contents with their aggregations; returns their ids in order.
    /// [`StoreError::Conflict`] if the window already has content of that type and currency.
    async fn insert_window_contents(&mut self, rows: &[NewContent], at: Timestamp) -> Result<Vec<ContentId>, StoreError>;

    async fn insert_content_states(&mut self, rows: &[NewContentState], at: Timestamp) -> Result<(), StoreError>;

    /// Locks and reads settlements, by id; unknown ids are absent.
    async fn settlements_for_update(&mut self, ids: &[SettlementId]) -> Result<Vec<SettlementRecord>, StoreError>;

    /// Inserts a settlement with its windows and accounts (no state yet).
    async fn insert_settlement(&mut self, row: &NewSettlement) -> Result<SettlementId, StoreError>;

    async fn insert_settlement_states(&mut self, rows: &[NewSettlementState], at: Timestamp) -> Result<(), StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

impl fmt::Debug for dyn LedgerTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerTx")
    }
}

/// Truncates text to at most `n_chars` characters, on a character boundary.
pub(crate) fn truncate_chars(text: &str, n_chars: usize) -> &str {
    match text.char_indices().nth(n_chars) {
        Some((idx, _)) => &text[..idx],
        None => text,
    }
}

/// Cuts text to at most `n_bytes` UTF-8 bytes, on a character boundary.
pub(crate) fn truncate_bytes(text: &str, n_bytes: usize) -> &str {
    if text.len() <= n_bytes {
        return text;
    }
    let mut end = n_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Refuses a text longer than its column (`n_chars` characters) with [`StoreError::Invalid`].
pub(crate) fn check_length(what: &str, text: &str, n_chars: usize) -> Result<(), StoreError> {
    match text.chars().nth(n_chars) {
        Some(_) => Err(StoreError::Invalid(format!("{what} is longer than {n_chars} characters"))),
        None => Ok(()),
    }
}

/// Checks every delivery's texts against their columns.
pub(crate) fn check_deliveries(rows: &[NewDelivery]) -> Result<(), StoreError> {
    for row in rows {
        check_length("event id", &row.event_id, EVENT_ID_LENGTH_MAX)?;
        check_length("recipient", &row.recipient, RECIPIENT_LENGTH_MAX)?;
        check_length("transfer id", &row.transfer_id, TRANSFER_ID_LENGTH_MAX)?;
    }
    Ok(())
}

/// A dead letter with every text cut to its column: `(source, event_id, transfer_id, body,
/// reason)`.
pub(crate) fn dead_letter_texts(row: &NewDeadLetter) -> (&str, Option<&str>, Option<&str>, &str, &str) {
    (
        truncate_chars(&row.source, DEAD_LETTER_SOURCE_LENGTH_MAX),
        row.event_id.as_deref().map(|it| truncate_chars(it, EVENT_ID_LENGTH_MAX)),
        row.transfer_id.as_deref().map(|it| truncate_chars(it, TRANSFER_ID_LENGTH_MAX)),
        truncate_bytes(&row.body, DEAD_LETTER_BODY_BYTES_MAX),
        truncate_bytes(&row.reason, DEAD_LETTER_REASON_BYTES_MAX),
    )
}

/// The distinct transfer ids of delivery keys, in first-seen order.
pub(crate) fn distinct_transfer_ids(keys: &[DeliveryKey]) -> Vec<&str> {
    let mut seen = HashSet::new();
    keys.iter().map(|key| key.transfer_id.as_str()).filter(|it| seen.insert(*it)).collect()
}

/// Splits rows for multi-row statements.
pub(crate) fn statement_chunks<T>(rows: &[T]) -> std::slice::Chunks<'_, T> {
    rows.chunks(STATEMENT_ROWS_MAX)
}

/// The row counts statements are shaped to: powers of two, then [`STATEMENT_ROWS_MAX`]. Every
/// distinct count is one more statement text to prepare; with any count from 1 to 500 the
/// prepared-statement caches (rusqlite's, mysql_async's) kept missing: about a fifth of the
/// handler's SQLite time went to parsing statements, and MariaDB prepared and closed them all
/// the time.
pub const STATEMENT_SHAPES: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, STATEMENT_ROWS_MAX];

/// The smallest shape that holds `n` rows (at most [`STATEMENT_ROWS_MAX`]).
pub(crate) fn shape_for(n: usize) -> usize {
    STATEMENT_SHAPES.iter().copied().find(|shape| n <= *shape).unwrap_or(STATEMENT_ROWS_MAX)
}

/// `n` comma-separated `?` placeholders, for an `IN (…)` list or a VALUES row.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// The batch reads' statements, the same text on both backends, for an `IN` list of `n` values.
pub(crate) mod reference_sql {
    use super::placeholders as list;

    pub fn participants_by_name(n: usize) -> String {
        format!("SELECT participant_id, name, is_active FROM participant WHERE name IN ({})", list(n))
    }

    pub fn accounts_of_participants(n: usize) -> String {
        format!(
            "SELECT account_id, participant_id, currency, ledger_account_type, is_active \
             FROM participant_currency WHERE participant_id IN ({}) ORDER BY account_id",
            list(n)
        )
    }

    pub fn endpoints_by_name(n: usize) -> String {
        format!(
            "SELECT p.name, e.endpoint_type, e.value FROM participant p \
             JOIN participant_endpoint e ON e.participant_id = p.participant_id AND e.is_active = 1 \
             WHERE p.name IN ({}) ORDER BY p.name, e.endpoint_type",
            list(n)
        )
    }

    /// By transfer id alone, the key's prefix (a plain `IN` range on every server); a transfer
    /// has a few deliveries.
    pub fn deliveries_of_transfers(n: usize) -> String {
        format!("SELECT transfer_id, event_id, recipient FROM notification_delivery WHERE transfer_id IN ({})", list(n))
    }
}

/// Chunks of an `IN (…)` list, each padded to a shape by repeating its last id: a repeated id
/// matches no row the list did not already match, so the query's answer is unchanged.
pub(crate) fn in_list_chunks<T: Clone>(ids: &[T]) -> Vec<std::borrow::Cow<'_, [T]>> {
    statement_chunks(ids)
        .map(|chunk| {
            let shape = shape_for(chunk.len());
            match (shape == chunk.len(), chunk.last()) {
                (false, Some(last)) => {
                    let mut padded = chunk.to_vec();
                    padded.resize(shape, last.clone());
                    std::borrow::Cow::Owned(padded)
                }
                _ => std::borrow::Cow::Borrowed(chunk),
            }
        })
        .collect()
}

/// Runs of rows for multi-row INSERTs, each exactly a shape long, largest first and in order
/// (rows cannot be padded: a repeat would be inserted too).
pub(crate) fn insert_runs<T>(rows: &[T]) -> Vec<&[T]> {
    let mut runs = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let fits = STATEMENT_SHAPES.iter().rev().copied().find(|shape| *shape <= rest.len()).unwrap_or(1);
        let (run, after) = rest.split_at(fits);
        runs.push(run);
        rest = after;
    }
    runs
}

/// Sorted, de-duplicated ids: the canonical lock order.
pub(crate) fn lock_order(accounts: &[AccountId]) -> Vec<AccountId> {
    let mut ids = accounts.to_vec();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod statement_shape_tests {
    use super::*;

    #[test]
    fn every_row_count_gets_the_smallest_shape_that_holds_it() {
        assert_eq!(shape_for(1), 1);
        assert_eq!(shape_for(3), 4);
        assert_eq!(shape_for(64), 64);
        assert_eq!(shape_for(257), STATEMENT_ROWS_MAX);
        assert_eq!(shape_for(STATEMENT_ROWS_MAX), STATEMENT_ROWS_MAX);
    }

    #[test]
    fn in_lists_are_padded_with_their_last_id_and_keep_every_id() {
        for n in [1, 2, 3, 5, 100, 499, 500, 501, 1234] {
            let ids: Vec<usize> = (0..n).collect();
            let chunks = in_list_chunks(&ids);
            let mut seen = Vec::new();
            for chunk in &chunks {
                assert!(STATEMENT_SHAPES.contains(&chunk.len()), "{n} ids: a chunk of {}", chunk.len());
                let distinct: Vec<usize> = chunk.iter().copied().fold(Vec::new(), |mut acc, id| {
                    if acc.last() != Some(&id) {
                        acc.push(id);
                    }
                    acc
                });
                let padding = chunk.len() - distinct.len();
                assert!(chunk[chunk.len() - 1 - padding..].iter().all(|it| *it == distinct[distinct.len() - 1]), "only the last id repeats");
                seen.extend(distinct);
            }
            assert_eq!(seen, ids, "{n} ids: every id once, in order");
        }
        assert!(in_list_chunks::<u8>(&[]).is_empty());
    }

    #[test]
    fn insert_runs_are_shapes_that_cover_the_rows_in_order() {
        for n in 0..1100 {
            let rows: Vec<usize> = (0..n).collect();
            let runs = insert_runs(&rows);
            assert!(runs.iter().all(|run| STATEMENT_SHAPES.contains(&run.len())), "{n} rows");
            assert_eq!(runs.concat(), rows, "{n} rows: each once, in order");
            assert!(runs.len() <= n / STATEMENT_ROWS_MAX + STATEMENT_SHAPES.len(), "{n} rows in {} runs", runs.len());
        }
        assert_eq!(insert_runs(&[0; 37]).iter().map(|it| it.len()).collect::<Vec<_>>(), vec![32, 4, 1]);
    }
}
