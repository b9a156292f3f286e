//! The assertions a transaction runs where money is written, shared by both backends (each
//! [`crate::store::LedgerTx`] owns one [`TxChecks`] and feeds it what it locks, reads and writes).
//!
//! They check promises the callers keep, not data from outside: a failure is a bug in the
//! switch, and a bug near money must crash before anything commits (TigerBeetle's rule), not
//! become a wrong position. Each check runs after its write succeeded and before the commit (a
//! write that failed is an error the caller handles by dropping the transaction); the panic
//! drops the transaction, which rolls it back. Cheap checks
//! (a map lookup per account or row) are `assert!`s and run in every build; the per-transfer
//! ones keep a map of every transfer a batch touches, so they are `debug_assert!`s and that
//! map is only kept when debug assertions are on.

use std::collections::HashMap;
use std::hash::Hash;

use ledger_core::amount::Amount;
use ledger_core::ids::{AccountId, TransferId};

use crate::transfers::{CurrentState, NewPositionChange, NewStateChange, NewTransfer, TransferRecord};

/// What one transaction has locked, journaled and written so far.
#[derive(Debug, Default)]
pub(crate) struct TxChecks {
    /// Accounts locked in this transaction, with the value read when first locked: where this
    /// transaction's journal rows for the account start.
    locked: HashMap<AccountId, Amount>,
    /// The running value of the last journal row written for an account.
    journaled: HashMap<AccountId, Amount>,
    /// The position last written for an account.
    written: HashMap<AccountId, Amount>,
    /// The latest state `seq` of each transfer this transaction read or wrote (debug builds).
    seqs: HashMap<TransferId, u32>,
}

impl TxChecks {
    /// Records accounts locked with their values. A second lock of an account keeps the first
    /// value: the journal runs from where the transaction found it.
    pub(crate) fn locked(&mut self, accounts: impl IntoIterator<Item = (AccountId, Amount)>) {
        for (account, value) in accounts {
            self.locked.entry(account).or_insert(value);
        }
    }

    /// After position journal rows were written: each account is locked, and each row's value
    /// is the previous row's (or the locked value) plus its change.
    pub(crate) fn position_changes(&mut self, rows: &[NewPositionChange]) {
        for row in rows {
            let locked = self.locked.get(&row.account).copied();
            assert!(locked.is_some(), "journal row for account {} that this transaction has not locked", row.account);
            let previous = self.journaled.get(&row.account).copied().or(locked).unwrap_or(Amount::ZERO);
            let running = previous.units().checked_add(row.change.units());
            assert_eq!(
                running,
                Some(row.value.units()),
                "journal row of account {} for transfer {}: {} + {} is not its value {}",
                row.account,
                row.transfer_id,
                previous.to_decimal_string(),
                row.change.to_decimal_string(),
                row.value.to_decimal_string(),
            );
            self.journaled.insert(row.account, row.value);
        }
    }

    /// After positions were written: each account is locked, and one journaled in this
    /// transaction gets its last journal value.
    pub(crate) fn positions(&mut self, rows: &[(AccountId, Amount)]) {
        for (account, value) in rows {
            assert!(
                self.locked.contains_key(account),
                "position update of account {account} that this transaction has not locked"
            );
            if let Some(journaled) = self.journaled.get(account) {
                assert_eq!(journaled, value, "position of account {account} differs from its last journal value");
            }
            self.written.insert(*account, *value);
        }
    }

    /// Before the commit: every account journaled in this transaction had its position written,
    /// with the last journal value.
    pub(crate) fn commit(&self) {
        for (account, journaled) in &self.journaled {
            assert_eq!(
                self.written.get(account),
                Some(journaled),
                "account {account} was journaled to {} but its position was not written with it",
                journaled.to_decimal_string()
            );
        }
    }

    /// After transfers' states were read.
    pub(crate) fn states_read(&mut self, states: &HashMap<TransferId, CurrentState>) {
        if cfg!(debug_assertions) {
            for (id, state) in states {
                self.seen_seq(id, state.seq);
            }
        }
    }

    /// After full transfer records were read.
    pub(crate) fn transfers_read(&mut self, records: &HashMap<TransferId, TransferRecord>) {
        if cfg!(debug_assertions) {
            for (id, record) in records {
                self.seen_seq(id, record.current.seq);
            }
        }
    }

    /// After transfers were inserted, each with its first state (`seq` 1).
    pub(crate) fn transfers_inserted(&mut self, rows: &[NewTransfer]) {
        if cfg!(debug_assertions) {
            for row in rows {
                self.seen_seq(&row.transfer_id, 1);
            }
        }
    }

    /// After state changes were written: a transfer whose latest state this transaction knew
    /// moved on by one `seq` per row, in the order of the rows. (A transfer it did not know is
    /// the database's to check: the `(transfer, seq)` key refuses a taken seq.)
    pub(crate) fn state_changes(&mut self, rows: &[NewStateChange]) {
        if cfg!(debug_assertions) {
            for row in rows {
                if let Some(seq) = self.seqs.get(&row.transfer_id) {
                    debug_assert_eq!(
                        row.seq,
                        seq + 1,
                        "state change of transfer {} does not follow seq {seq}",
                        row.transfer_id
                    );
                }
                self.seen_seq(&row.transfer_id, row.seq);
            }
        }
    }

    fn seen_seq(&mut self, id: &TransferId, seq: u32) {
        let latest = self.seqs.entry(id.clone()).or_insert(seq);
        *latest = (*latest).max(seq);
    }
}

/// Whether child rows keyed by `(transfer id, transfer_seq)` pairs land on their own transfers:
/// each id names one seq, and no two ids share one. Checked with `debug_assert!` where a batch's
/// child rows are keyed.
pub(crate) fn keyed_by_own_transfer<'a, K: Eq + Hash + 'a, S: Eq + Hash + Copy>(
    pairs: impl IntoIterator<Item = (&'a K, S)>,
) -> bool {
    let mut seq_of: HashMap<&K, S> = HashMap::new();
    let mut id_of: HashMap<S, &K> = HashMap::new();
    pairs.into_iter().all(|(id, seq)| *seq_of.entry(id).or_insert(seq) == seq && *id_of.entry(seq).or_insert(id) == id)
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use ledger_core::state::TransferState;
    use ledger_core::time::Timestamp;

    use super::*;

    const ACCOUNT: AccountId = AccountId(7);

    fn units(units: i128) -> Amount {
        Amount::from_units(units)
    }

    fn transfer(n: u8) -> TransferId {
        TransferId::parse(&format!("00000000-0000-4000-8000-0000000000{n:02}")).expect("a transfer id")
    }

    fn journal(change: i128, value: i128) -> NewPositionChange {
        NewPositionChange {
            account: ACCOUNT,
            transfer_id: transfer(1),
            seq: 2,
            change: units(change),
            value: units(value),
            reserved: Amount::ZERO,
            created: Timestamp::from_unix_ms(0),
        }
    }

    fn state(n: u8, seq: u32) -> NewStateChange {
        NewStateChange {
            transfer_id: transfer(n),
            seq,
            state: TransferState::Reserved,
            reason: None,
            created: Timestamp::from_unix_ms(0),
        }
    }

    fn fails(check: impl FnOnce()) -> bool {
        catch_unwind(AssertUnwindSafe(check)).is_err()
    }

    #[test]
    fn a_journal_runs_from_the_locked_value_to_the_position_written() {
        let mut checks = TxChecks::default();
        checks.locked([(ACCOUNT, units(100))]);
        checks.locked([(ACCOUNT, units(999))]);
        checks.position_changes(&[journal(5, 105), journal(-20, 85)]);
        checks.positions(&[(ACCOUNT, units(85))]);
        checks.commit();
    }

    #[test]
    fn money_written_against_the_callers_promises_crashes() {
        let locked = || {
            let mut checks = TxChecks::default();
            checks.locked([(ACCOUNT, units(100))]);
            checks
        };
        assert!(fails(|| TxChecks::default().positions(&[(ACCOUNT, units(1))])), "not locked");
        assert!(fails(|| TxChecks::default().position_changes(&[journal(1, 1)])), "journal not locked");
        assert!(fails(|| locked().position_changes(&[journal(5, 106)])), "value is not the running value");
        let mut journaled = locked();
        journaled.position_changes(&[journal(5, 105)]);
        assert!(fails(|| journaled.positions(&[(ACCOUNT, units(104))])), "position is not the journal's");
        assert!(fails(|| journaled.commit()), "journaled but not written");
        let mut unjournaled = locked();
        unjournaled.positions(&[(ACCOUNT, units(7))]);
        unjournaled.commit();
    }

    #[test]
    fn a_known_transfer_moves_on_one_seq_at_a_time() {
        let mut checks = TxChecks::default();
        checks.states_read(&HashMap::from([(
            transfer(1),
            CurrentState { state: TransferState::ReceivedPrepare, seq: 1, changed: Timestamp::from_unix_ms(0) },
        )]));
        checks.state_changes(&[state(1, 2), state(1, 3), state(2, 7)]);
        checks.state_changes(&[state(1, 4), state(2, 8)]);
        if cfg!(debug_assertions) {
            assert!(fails(|| checks.state_changes(&[state(1, 4)])), "a taken seq");
            assert!(fails(|| checks.state_changes(&[state(1, 5), state(1, 7)])), "a skipped seq");
        }
    }

    #[test]
    fn child_rows_are_keyed_by_their_own_transfer() {
        let (a, b) = (transfer(1), transfer(2));
        assert!(keyed_by_own_transfer([(&a, 1_u64), (&b, 2), (&a, 1)]));
        assert!(!keyed_by_own_transfer([(&a, 1_u64), (&a, 2)]));
        assert!(!keyed_by_own_transfer([(&a, 1_u64), (&b, 1)]));
    }
}
