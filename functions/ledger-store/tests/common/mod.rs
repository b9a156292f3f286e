//! Shared test and benchmark support: fresh stores on both backends, a provisioned scheme, and
//! the load → decide → write steps of the prepare and position handlers, built from the core
//! and the store exactly as the handlers compose them.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ledger_core::account::{Account, LedgerAccountType, NetDebitCap};
use ledger_core::amount::Amount;
use ledger_core::condition::IlpFulfilment;
use ledger_core::currency::Currency;
use ledger_core::ids::{AccountId, FspId, TransferId};
use ledger_core::position::{
    decide_batch, PositionAction, PositionDecision, PositionMessage, PositionOutcome, PositionSnapshot,
};
use ledger_core::prepare::{classify_duplicate, Duplicate, RequestHash};
use ledger_core::state::TransferState;
use ledger_core::time::Timestamp;
use ledger_store::{
    LedgerStore, MysqlStore, MysqlStoreConfig, NewPositionChange, NewStateChange, NewTransfer, NewTransferError,
    SqliteStore, StoreError,
};

/// Where the MySQL-compatible test server is; each test creates its own database there.
pub const MYSQL_URL_VARIABLE: &str = "LEDGER_TEST_MYSQL_URL";
pub const MYSQL_URL_DEFAULT: &str = "mysql://root@127.0.0.1:3306";
/// Prefix of every database the tests create, so a cleanup can find leftovers.
pub const TEST_DATABASE_PREFIX: &str = "ledger_t_";

pub const NOW: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
pub const EXPIRATION: Timestamp = Timestamp::from_unix_ms(1_790_000_060_000);

/// A store that deletes its database when the test ends.
pub struct TestStore {
    pub store: Arc<dyn LedgerStore>,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Database(Arc<MysqlStore>),
}

impl TestStore {
    pub async fn finish(self) {
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database(store) => store.drop_database().await.expect("drop the test database"),
        }
    }
}

pub async fn sqlite_store() -> TestStore {
    let path = std::env::temp_dir().join(format!("{TEST_DATABASE_PREFIX}{}.db", uuid::Uuid::new_v4().simple()));
    let store = SqliteStore::open(&path).await.expect("open SQLite");
    TestStore { store: Arc::new(store), cleanup: Cleanup::File(path) }
}

/// A fresh MySQL database. There is no skip: without a server the MySQL half fails.
pub async fn mysql_store() -> TestStore {
    let store = Arc::new(open_mysql(&format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple())).await);
    TestStore { store: store.clone(), cleanup: Cleanup::Database(store) }
}

pub async fn open_mysql(database: &str) -> MysqlStore {
    let server = std::env::var(MYSQL_URL_VARIABLE).unwrap_or_else(|_| MYSQL_URL_DEFAULT.to_string());
    let config = MysqlStoreConfig {
        url: format!("{}/{database}", server.trim_end_matches('/')),
        ca_certificate: None,
        pool_connections_max: 8,
    };
    MysqlStore::open(config).await.unwrap_or_else(|err| panic!("MySQL at {server} must be reachable: {err} (the test command `bash tests/run.sh` starts a MariaDB when none is running; LEDGER_TEST_MYSQL_URL names another server)"))
}

/// A DFSP with a funded SETTLEMENT account and a capped POSITION account.
#[derive(Debug, Clone)]
pub struct Dfsp {
    pub name: FspId,
    pub position: Account,
    pub settlement: Account,
}

pub fn usd() -> Currency {
    Currency::parse("USD").expect("USD")
}

pub fn fsp(name: &str) -> FspId {
    FspId::parse(name).expect("an fsp name")
}

/// Any amount the store holds, as decimal text.
pub fn amount(text: &str) -> Amount {
    Amount::parse_stored(text).expect("an amount")
}

pub fn new_transfer_id() -> TransferId {
    TransferId::parse(&uuid::Uuid::new_v4().to_string()).expect("a v4 uuid")
}

pub fn fulfilment() -> IlpFulfilment {
    IlpFulfilment::from_bytes([42; 32])
}

/// Creates a DFSP with its accounts active, `funding` of liquidity and a cap of `cap`.
pub async fn provision_dfsp(store: &dyn LedgerStore, name: &str, funding: &str, cap: &str) -> Dfsp {
    let participant = store.create_participant(&fsp(name), NOW).await.expect("create participant");
    let position = store
        .create_account(participant.id, usd(), LedgerAccountType::Position, true, NOW)
        .await
        .expect("position account");
    let settlement = store
        .create_account(participant.id, usd(), LedgerAccountType::Settlement, true, NOW)
        .await
        .expect("settlement account");
    store.set_net_debit_cap(position.id, NetDebitCap::new(amount(cap)).expect("a cap"), NOW).await.expect("set cap");
    let mut tx = store.begin().await.expect("begin");
    tx.lock_balances(&[settlement.id]).await.expect("lock");
    tx.update_positions(&[(settlement.id, -amount(funding))], NOW).await.expect("fund");
    tx.commit().await.expect("commit");
    Dfsp { name: participant.name, position, settlement }
}

pub fn new_transfer(payer: &Dfsp, payee: &Dfsp, value: &str) -> NewTransfer {
    new_transfer_with_id(new_transfer_id(), payer, payee, value)
}

/// A time-ordered id (UUID v7, allowed from FSPIOP v2.0), as many DFSPs generate them.
pub fn new_time_ordered_transfer_id() -> TransferId {
    TransferId::parse(&uuid::Uuid::now_v7().to_string()).expect("a v7 uuid")
}

pub fn new_transfer_with_id(id: TransferId, payer: &Dfsp, payee: &Dfsp, value: &str) -> NewTransfer {
    NewTransfer {
        hash: RequestHash::new(format!("hash-{id}")),
        transfer_id: id,
        payer: payer.name.clone(),
        payee: payee.name.clone(),
        payer_account: Some(payer.position.id),
        payee_account: Some(payee.position.id),
        amount: amount(value),
        currency: usd(),
        condition: Some(fulfilment().condition()),
        expiration: EXPIRATION,
        ilp_packet: "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4wCk5vbmNlOiB1SXlweUYzY3pYSXBFdzVVc05TYWh3CkVuY3J5cHRpb246IG5vbmUKUGF5bWVudC1JZDogMTMyMzZhM2ItOGZhOC00MTYzLTg0NDctNGMzZWQzZGE5OGE3CgpDb250ZW50LUxlbmd0aDogMTM1CkNvbnRlbnQtVHlwZTogYXBwbGljYXRpb24vanNvbgpTZW5kZXItSWRlbnRpZmllcjogOTI4MDYzOTEKCiJ7XCJmZWVcIjowLFwidHJhbnNmZXJDb2RlXCI6XCJpbnZvaWNlXCIsXCJkZWJpdE5hbWVcIjpcImFsaWNlIGNvb3BlclwiLFwiY3JlZGl0TmFtZVwiOlwibWVyIGNoYW50XCIsXCJkZWJpdElkZW50aWZpZXJcIjpcIjkyODA2MzkxXCJ9IgA".to_string(),
        state: TransferState::ReceivedPrepare,
        reason: None,
        created: NOW,
        extensions: Vec::new(),
    }
}

/// What the prepare step did with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Inserted,
    Duplicate(Duplicate),
}

/// The prepare handler's store step: classify duplicates, insert the new transfers, commit.
pub async fn prepare_batch(store: &dyn LedgerStore, rows: &[NewTransfer]) -> Result<Vec<Prepared>, StoreError> {
    let ids: Vec<TransferId> = rows.iter().map(|it| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await?;
    let hashes = tx.hashes(ledger_store::HashKind::Prepare, &ids).await?;
    let states = tx.current_states(&ids).await?;
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut fresh = Vec::new();
    // A repeat inside the batch is checked against the first occurrence, which is in flight.
    let mut seen: HashMap<TransferId, RequestHash> = HashMap::new();
    for row in rows {
        let state = states.get(&row.transfer_id).map(|it| it.state);
        let duplicate = match seen.get(&row.transfer_id) {
            None => classify_duplicate(hashes.get(&row.transfer_id), state, &row.hash),
            Some(first) => classify_duplicate(Some(first), None, &row.hash),
        };
        seen.entry(row.transfer_id.clone()).or_insert_with(|| row.hash.clone());
        match duplicate {
            Duplicate::New => {
                fresh.push(row.clone());
                outcomes.push(Prepared::Inserted);
            }
            other => outcomes.push(Prepared::Duplicate(other)),
        }
    }
    tx.insert_transfers(&fresh).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// The position handler's store step: lock, load states, decide, write, commit.
pub async fn position_batch(
    store: &dyn LedgerStore,
    messages: &[PositionMessage],
) -> Result<PositionDecision, StoreError> {
    let accounts: Vec<AccountId> = messages.iter().map(|it| it.account).collect();
    let ids: Vec<TransferId> = messages.iter().map(|it| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await?;
    let locked = tx.lock_positions(&accounts).await?;
    let current = tx.current_states(&ids).await?;
    let snapshot = PositionSnapshot {
        accounts: locked,
        transfer_states: current.iter().map(|(id, it)| (id.clone(), it.state)).collect(),
    };
    let decision = decide_batch(&snapshot, messages);
    let mut next_seq: HashMap<TransferId, u32> = current.iter().map(|(id, it)| (id.clone(), it.seq)).collect();
    let mut state_changes = Vec::new();
    let mut seq_of_message = vec![0_u32; messages.len()];
    let mut errors = Vec::new();
    for (idx, outcome) in decision.outcomes.iter().enumerate() {
        let (state, code) = match outcome {
            PositionOutcome::Applied { state, .. } => (*state, None),
            PositionOutcome::Rejected { rejection } => {
                (TransferState::AbortedRejected, Some(rejection_code(rejection)))
            }
            PositionOutcome::Stale { .. } | PositionOutcome::AccountMissing => continue,
        };
        let id = &messages[idx].transfer_id;
        let seq = next_seq.get(id).copied().unwrap_or(0) + 1;
        next_seq.insert(id.clone(), seq);
        seq_of_message[idx] = seq;
        state_changes.push(NewStateChange { transfer_id: id.clone(), seq, state, reason: None, created: NOW });
        if let Some(code) = code {
            errors.push(NewTransferError {
                transfer_id: id.clone(),
                seq,
                code,
                description: "rejected".into(),
                created: NOW,
            });
        }
    }
    let position_changes: Vec<NewPositionChange> = decision
        .changes
        .iter()
        .map(|it| NewPositionChange {
            account: it.account,
            transfer_id: it.transfer_id.clone(),
            seq: seq_of_message[it.message_idx],
            change: it.change,
            value: it.value,
            reserved: it.reserved,
            created: NOW,
        })
        .collect();
    let positions: Vec<(AccountId, Amount)> = decision.positions.iter().map(|(id, value)| (*id, *value)).collect();
    tx.insert_state_changes(&state_changes).await?;
    tx.insert_position_changes(&position_changes).await?;
    tx.update_positions(&positions, NOW).await?;
    tx.insert_errors(&errors).await?;
    tx.commit().await?;
    Ok(decision)
}

/// The codes a real handler takes from the wire crate's single mapping; tests only need two.
fn rejection_code(rejection: &ledger_core::rejection::Rejection) -> u16 {
    match rejection {
        ledger_core::rejection::Rejection::PayerInsufficientLiquidity => 4001,
        _ => 4200,
    }
}

/// Moves transfers to a payee-answered state (what the fulfil handler records), one state
/// change each, and returns the position messages it would send.
pub async fn record_payee_answer(
    store: &dyn LedgerStore,
    transfers: &[(NewTransfer, AccountId)],
    state: TransferState,
    action: PositionAction,
) -> Result<Vec<PositionMessage>, StoreError> {
    let ids: Vec<TransferId> = transfers.iter().map(|(it, _)| it.transfer_id.clone()).collect();
    let mut tx = store.begin().await?;
    let current = tx.current_states(&ids).await?;
    let rows: Vec<NewStateChange> = ids
        .iter()
        .map(|id| NewStateChange {
            transfer_id: id.clone(),
            seq: current[id].seq + 1,
            state,
            reason: None,
            created: NOW,
        })
        .collect();
    tx.insert_state_changes(&rows).await?;
    tx.commit().await?;
    Ok(transfers
        .iter()
        .map(|(it, account)| PositionMessage {
            account: *account,
            action,
            transfer_id: it.transfer_id.clone(),
            amount: it.amount,
        })
        .collect())
}

pub fn prepare_messages(rows: &[NewTransfer]) -> Vec<PositionMessage> {
    rows.iter()
        .map(|it| PositionMessage {
            account: it.payer_account.expect("a payer account"),
            action: PositionAction::Prepare,
            transfer_id: it.transfer_id.clone(),
            amount: it.amount,
        })
        .collect()
}
