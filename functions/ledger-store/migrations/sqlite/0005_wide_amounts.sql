-- Amounts over the whole range of the ledger's Amount (i128 units of 10^-4): every FSPIOP amount
-- (18 integer digits, 4 decimals) and any position, balance or sum made of them.
--
-- An amount is kept as its units: an INTEGER while it fits 64 bits (the common range, as
-- compact and fast as before), otherwise the units as decimal TEXT. A column declared INTEGER
-- cannot hold the latter: its affinity turns integer text too large for 64 bits into a REAL,
-- which is not exact. So the amount columns are declared with no type (no affinity: SQLite
-- stores a value as it is given) and the store reads either form back (`sqlite_amounts.rs`).
--
-- SQLite cannot change a column's type, so each table with amounts is rebuilt as SQLite's
-- documentation describes (https://sqlite.org/lang_altertable.html#otheralter): create the new
-- table, copy the rows, drop the old one, rename, recreate the indexes. The store runs this with
-- foreign keys off and checks them before it commits. Keys are copied as they are
-- (`transfer_seq`, AUTOINCREMENT ids and their high-water marks), so child rows stay attached.

CREATE TABLE new_participant_position (
    account_id INTEGER PRIMARY KEY REFERENCES participant_currency (account_id),
    value NOT NULL,
    reserved_value NOT NULL,
    changed_ms INTEGER NOT NULL
);
INSERT INTO new_participant_position (account_id, value, reserved_value, changed_ms)
    SELECT account_id, value, reserved_value, changed_ms FROM participant_position;
DROP TABLE participant_position;
ALTER TABLE new_participant_position RENAME TO participant_position;

CREATE TABLE new_participant_position_change (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    transfer_seq INTEGER,
    seq INTEGER,
    change_amount NOT NULL,
    value NOT NULL,
    reserved_value NOT NULL,
    created_ms INTEGER NOT NULL
);
INSERT INTO new_participant_position_change (id, account_id, transfer_seq, seq, change_amount, value, reserved_value, created_ms)
    SELECT id, account_id, transfer_seq, seq, change_amount, value, reserved_value, created_ms FROM participant_position_change;
-- The copy's AUTOINCREMENT mark is the largest id present; the old table's may be higher.
DELETE FROM sqlite_sequence WHERE name = 'new_participant_position_change';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_participant_position_change', seq FROM sqlite_sequence WHERE name = 'participant_position_change';
DROP TABLE participant_position_change;
ALTER TABLE new_participant_position_change RENAME TO participant_position_change;
CREATE INDEX participant_position_change_account ON participant_position_change (account_id, id);
CREATE INDEX participant_position_change_transfer ON participant_position_change (transfer_seq);

CREATE TABLE new_participant_limit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES participant_currency (account_id),
    limit_type INTEGER NOT NULL,
    value NOT NULL,
    is_active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
INSERT INTO new_participant_limit (id, account_id, limit_type, value, is_active, created_ms)
    SELECT id, account_id, limit_type, value, is_active, created_ms FROM participant_limit;
DELETE FROM sqlite_sequence WHERE name = 'new_participant_limit';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'new_participant_limit', seq FROM sqlite_sequence WHERE name = 'participant_limit';
DROP TABLE participant_limit;
ALTER TABLE new_participant_limit RENAME TO participant_limit;
CREATE INDEX participant_limit_account ON participant_limit (account_id, is_active);

-- Transfers keep their `transfer_seq`, to which every child row is keyed.
CREATE TABLE new_transfer (
    transfer_seq INTEGER PRIMARY KEY,
    transfer_id TEXT NOT NULL UNIQUE,
    payer_fsp TEXT NOT NULL,
    payee_fsp TEXT NOT NULL,
    payer_account_id INTEGER,
    payee_account_id INTEGER,
    amount NOT NULL,
    currency TEXT NOT NULL,
    ilp_condition TEXT,
    expiration_ms INTEGER NOT NULL,
    ilp_packet TEXT NOT NULL,
    prepare_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
INSERT INTO new_transfer (transfer_seq, transfer_id, payer_fsp, payee_fsp, payer_account_id, payee_account_id, amount,
        currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms)
    SELECT transfer_seq, transfer_id, payer_fsp, payee_fsp, payer_account_id, payee_account_id, amount,
        currency, ilp_condition, expiration_ms, ilp_packet, prepare_hash, created_ms FROM transfer ORDER BY transfer_seq;
DROP TABLE transfer;
ALTER TABLE new_transfer RENAME TO transfer;

CREATE TABLE new_participant_limit_alarm (
    account_id INTEGER PRIMARY KEY REFERENCES participant_currency (account_id),
    alarm_percentage NOT NULL,
    changed_ms INTEGER NOT NULL
);
INSERT INTO new_participant_limit_alarm (account_id, alarm_percentage, changed_ms)
    SELECT account_id, alarm_percentage, changed_ms FROM participant_limit_alarm;
DROP TABLE participant_limit_alarm;
ALTER TABLE new_participant_limit_alarm RENAME TO participant_limit_alarm;

CREATE TABLE new_settlement_content_aggregation (
    content_id INTEGER NOT NULL REFERENCES settlement_window_content (content_id),
    account_id INTEGER NOT NULL REFERENCES participant_currency (account_id),
    participant_role INTEGER NOT NULL,
    amount NOT NULL,
    PRIMARY KEY (content_id, account_id, participant_role)
) WITHOUT ROWID;
INSERT INTO new_settlement_content_aggregation (content_id, account_id, participant_role, amount)
    SELECT content_id, account_id, participant_role, amount FROM settlement_content_aggregation;
DROP TABLE settlement_content_aggregation;
ALTER TABLE new_settlement_content_aggregation RENAME TO settlement_content_aggregation;

CREATE TABLE new_settlement_participant_currency (
    settlement_id INTEGER NOT NULL REFERENCES settlement (settlement_id),
    account_id INTEGER NOT NULL REFERENCES participant_currency (account_id),
    net_amount NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (settlement_id, account_id)
) WITHOUT ROWID;
INSERT INTO new_settlement_participant_currency (settlement_id, account_id, net_amount, created_ms)
    SELECT settlement_id, account_id, net_amount, created_ms FROM settlement_participant_currency;
DROP TABLE settlement_participant_currency;
ALTER TABLE new_settlement_participant_currency RENAME TO settlement_participant_currency;
