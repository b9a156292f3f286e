//! Internal transfers between a DFSP's account and one of the Hub's, stepped inside the
//! caller's transaction: funds in and out (the admin function, `admin_transfer`) and the
//! settlement transfers that reset positions (`settlement_transfer`) are built by this one
//! stepper.
//!
//! A step takes a transfer from where it is (nowhere: it is created at its first state) through
//! the states the core decided, each the next row of its state journal (`crate::state_rows`),
//! and moves the two balances at the `seq` of the state the move belongs to, against running
//! balances loaded under lock. [`InternalTransfers::write`] writes it all: transfers (out of
//! the timeout work-list: their own steps check expiry), states, journal rows, balances.

use std::collections::{BTreeMap, BTreeSet};

use ledger_core::account::HUB_NAME;
use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, FspId, TransferId};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{LedgerTx, NewPositionChange, NewTransfer, StoreError};

use crate::state_rows::{StateRows, FIRST_STATE_SEQ};

/// The Hub's FSP id: one side of every internal transfer, and the participant whose accounts
/// they move.
pub fn hub_id() -> FspId {
    FspId::parse(HUB_NAME).expect("the Hub's name is an FSP id")
}

/// Where a transfer is before a step: its latest state and that state's `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    pub state: TransferState,
    pub seq: u32,
}

/// The rows one transaction's internal-transfer steps write, and the running balances of the
/// accounts it locked.
#[derive(Debug)]
pub struct InternalTransfers {
    balances: BTreeMap<AccountId, Amount>,
    moved: BTreeSet<AccountId>,
    transfers: Vec<NewTransfer>,
    rows: StateRows,
    journal: Vec<NewPositionChange>,
}

impl InternalTransfers {
    /// Starts from the balances `LedgerTx::lock_balances` returned: only these accounts move.
    pub fn new(locked: BTreeMap<AccountId, (Amount, Amount)>) -> InternalTransfers {
        InternalTransfers {
            balances: locked.into_iter().map(|(id, (value, _reserved))| (id, value)).collect(),
            moved: BTreeSet::new(),
            transfers: Vec::new(),
            rows: StateRows::default(),
            journal: Vec::new(),
        }
    }

    /// The running balance of a locked account.
    pub fn balance(&self, account: AccountId) -> Amount {
        *self.balances.get(&account).unwrap_or_else(|| panic!("account {account} is read without its lock"))
    }

    /// Steps transfer `id` through `states`. Without `current` the first state creates the
    /// transfer (`new_transfer` builds its row, at [`FIRST_STATE_SEQ`]). Returns where the
    /// transfer is now, and each state appended with its `seq`.
    pub fn step(
        &mut self,
        id: &TransferId,
        current: Option<Current>,
        states: &[TransferState],
        reason: &str,
        new_transfer: impl FnOnce(TransferState) -> NewTransfer,
        now: Timestamp,
    ) -> (Current, Vec<(TransferState, u32)>) {
        let mut states = states.iter().copied();
        let mut at = match current {
            Some(current) => current,
            None => {
                let first = states.next().expect("a new internal transfer starts with a state");
                let transfer = new_transfer(first);
                assert_eq!(transfer.transfer_id, *id, "the row built is the transfer stepped");
                assert_eq!(transfer.state, first, "a new transfer's row holds its first state");
                self.transfers.push(transfer);
                Current { state: first, seq: FIRST_STATE_SEQ }
            }
        };
        let mut appended = Vec::new();
        for state in states {
            let seq = self.rows.push(id, at.seq, state, Some(reason.to_string()), now);
            assert_eq!(seq, at.seq + 1, "transfer {id}: seq grows by one");
            at = Current { state, seq };
            appended.push((state, seq));
        }
        (at, appended)
    }

    /// Moves a locked account's balance by `change` to `value`, as part of the state `seq` of
    /// transfer `id`.
    pub fn move_balance(
        &mut self,
        account: AccountId,
        id: &TransferId,
        seq: u32,
        change: Amount,
        value: Amount,
        now: Timestamp,
    ) {
        let before = self.balance(account);
        assert_eq!(
            before + change,
            value,
            "account {account}: the running value is the balance before plus the change"
        );
        debug_assert!(
            self.rows.states().iter().any(|it| it.transfer_id == *id && it.seq == seq)
                || (seq == FIRST_STATE_SEQ && self.transfers.iter().any(|it| it.transfer_id == *id)),
            "transfer {id}: a balance move belongs to a state this batch wrote"
        );
        self.balances.insert(account, value);
        self.moved.insert(account);
        self.journal.push(NewPositionChange {
            account,
            transfer_id: id.clone(),
            seq,
            change,
            value,
            reserved: Amount::ZERO,
            created: now,
        });
    }

    /// Writes the batch's rows in `tx`; the caller commits.
    pub async fn write(self, tx: &mut dyn LedgerTx, now: Timestamp) -> Result<(), StoreError> {
        tx.insert_transfers(&self.transfers).await?;
        let entries: Vec<(TransferId, Timestamp)> =
            self.transfers.iter().map(|it| (it.transfer_id.clone(), it.expiration)).collect();
        tx.delete_timeouts(&entries).await?;
        tx.insert_state_changes(self.rows.states()).await?;
        tx.insert_position_changes(&self.journal).await?;
        let positions: Vec<(AccountId, Amount)> = self.moved.iter().map(|id| (*id, self.balances[id])).collect();
        tx.update_positions(&positions, now).await
    }
}
