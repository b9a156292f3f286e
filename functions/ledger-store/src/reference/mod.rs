//! Reference data: participants, their accounts (each with its position row), net debit caps
//! and callback endpoints ([`ReferenceStore`]), each call its own short transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use ledger_core::account::{Account, LedgerAccountType, NetDebitCap, Participant};
use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, ParticipantId};
use ledger_core::time::Timestamp;

use crate::error::StoreError;

pub(crate) mod mysql;
pub(crate) mod sqlite;

/// Longest endpoint type, in characters (`participant_endpoint.endpoint_type VARCHAR(64)`);
/// longer ones are [`StoreError::Invalid`] on both backends.
pub const ENDPOINT_TYPE_LENGTH_MAX: usize = 64;
/// Longest endpoint value (URL template), in characters (`participant_endpoint.value VARCHAR(512)`).
pub const ENDPOINT_VALUE_LENGTH_MAX: usize = 512;
/// `participant_limit.limit_type` of a NET_DEBIT_CAP (the only limit type the ledger keeps).
pub(crate) const NET_DEBIT_CAP_LIMIT_TYPE: u8 = 1;

/// Participants, accounts, limits and endpoints (see the module documentation).
#[async_trait]
pub trait ReferenceStore: Send + Sync {
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
    async fn participants_with_accounts(&self, names: &[FspId])
        -> Result<Vec<(Participant, Vec<Account>)>, StoreError>;

    async fn set_account_active(&self, id: AccountId, active: bool) -> Result<(), StoreError>;

    /// Replaces the account's active NET_DEBIT_CAP (the old row is deactivated, not changed).
    async fn set_net_debit_cap(
        &self,
        account: AccountId,
        cap: NetDebitCap,
        created: Timestamp,
    ) -> Result<(), StoreError>;

    async fn net_debit_cap(&self, account: AccountId) -> Result<Option<NetDebitCap>, StoreError>;

    /// Current value and reserved value of an account.
    async fn balance(&self, account: AccountId) -> Result<(Amount, Amount), StoreError>;

    /// Sets a participant's endpoint of a type (e.g. `FSPIOP_CALLBACK_URL_TRANSFER_PUT`, a
    /// Mustache template): inserts it, or replaces the value in place. Types are free text here.
    /// [`StoreError::NotFound`] for an unknown participant; [`StoreError::Invalid`] beyond
    /// [`ENDPOINT_TYPE_LENGTH_MAX`] / [`ENDPOINT_VALUE_LENGTH_MAX`].
    async fn set_endpoint(
        &self,
        participant: ParticipantId,
        endpoint_type: &str,
        value: &str,
        created: Timestamp,
    ) -> Result<(), StoreError>;

    /// A participant's active endpoints as `(type, value)`, ordered by type (bytewise); empty for
    /// an unknown participant.
    async fn endpoints(&self, participant: ParticipantId) -> Result<Vec<(String, String)>, StoreError>;

    /// The active endpoints of the named participants in one read, each list as
    /// [`LedgerStore::endpoints`] gives it; a name without a participant or an endpoint has no
    /// entry.
    async fn endpoints_by_name(&self, names: &[FspId]) -> Result<HashMap<FspId, Vec<(String, String)>>, StoreError>;
}

/// The batch reads' statements, the same text on both backends, for an `IN` list of `n` values.
pub(crate) mod sql {
    use crate::statements::placeholders as list;

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
}
