-- The central-ledger tables for MySQL 8 (Azure) and MariaDB 10.11. Amounts are
-- DECIMAL(18,4) as in central-ledger; times are Unix milliseconds, UTC, so no server time
-- zone can shift them. Every text column is utf8mb4 (the connection character set, so the
-- server converts nothing on insert: converting to ascii cost a third of its CPU) and ids,
-- hashes and states use the binary collation: exact comparison. The one exception is
-- `transfer.transfer_id` (see there).
-- Statements are separated by a line holding only ";". MySQL commits DDL implicitly, so
-- every statement is idempotent (IF NOT EXISTS, INSERT IGNORE) and a half-applied migration
-- can simply run again.

CREATE TABLE IF NOT EXISTS participant (
    participant_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL UNIQUE,
    is_active TINYINT NOT NULL,
    created_ms BIGINT NOT NULL
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS participant_currency (
    account_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    participant_id BIGINT UNSIGNED NOT NULL,
    currency CHAR(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ledger_account_type TINYINT UNSIGNED NOT NULL,
    is_active TINYINT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE KEY participant_currency_type (participant_id, currency, ledger_account_type),
    FOREIGN KEY (participant_id) REFERENCES participant (participant_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS participant_position (
    account_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    value DECIMAL(18,4) NOT NULL,
    reserved_value DECIMAL(18,4) NOT NULL,
    changed_ms BIGINT NOT NULL,
    FOREIGN KEY (account_id) REFERENCES participant_currency (account_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS participant_position_change (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT UNSIGNED NOT NULL,
    transfer_seq BIGINT UNSIGNED NULL,
    seq INT UNSIGNED NULL,
    change_amount DECIMAL(18,4) NOT NULL,
    value DECIMAL(18,4) NOT NULL,
    reserved_value DECIMAL(18,4) NOT NULL,
    created_ms BIGINT NOT NULL,
    KEY participant_position_change_account (account_id, id),
    KEY participant_position_change_transfer (transfer_seq)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS participant_limit (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT UNSIGNED NOT NULL,
    limit_type TINYINT UNSIGNED NOT NULL,
    value DECIMAL(18,4) NOT NULL,
    is_active TINYINT NOT NULL,
    created_ms BIGINT NOT NULL,
    KEY participant_limit_account (account_id, is_active),
    FOREIGN KEY (account_id) REFERENCES participant_currency (account_id)
) ENGINE = InnoDB
;
-- Transfers get a sequential `transfer_seq` and every child row hangs off it. InnoDB clusters a
-- table on its primary key, and transfer ids are mostly random UUIDs (v4): keyed by them, every
-- insert of a ~1 KB transfer row and of each child row landed on a random page, splitting pages
-- and dirtying a new one per row (random ids prepared at about half the rate of time-ordered
-- ones). Keyed by `transfer_seq`, new transfers and their children append at the end of their
-- trees; only the narrow `transfer_id` unique index still takes random inserts.
-- The store maps ids to seqs itself, by reading `transfer` (no foreign keys: a child row is only
-- written with a seq read from there). It never derives seqs from LAST_INSERT_ID(): with
-- innodb_autoinc_lock_mode = 2 (MySQL 8's default) a multi-row insert's seqs need not be
-- consecutive.
-- `transfer_id` is VARBINARY: ids are ASCII (UUID or ULID), a byte comparison is what the binary
-- collation means anyway, and it is cheaper than utf8mb4_bin's character-wise one on each of
-- the several probes per transfer into this random index (a fifth off a 500-id lookup here).
CREATE TABLE IF NOT EXISTS transfer (
    transfer_seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    transfer_id VARBINARY(36) NOT NULL,
    payer_fsp VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    payee_fsp VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    payer_account_id BIGINT UNSIGNED NULL,
    payee_account_id BIGINT UNSIGNED NULL,
    amount DECIMAL(18,4) NOT NULL,
    currency CHAR(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ilp_condition VARCHAR(48) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    expiration_ms BIGINT NOT NULL,
    ilp_packet MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    prepare_hash VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE KEY transfer_id (transfer_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS transfer_state_change (
    transfer_seq BIGINT UNSIGNED NOT NULL,
    seq INT UNSIGNED NOT NULL,
    state VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    reason VARCHAR(512) CHARACTER SET utf8mb4 NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (transfer_seq, seq)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS transfer_extension (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    transfer_seq BIGINT UNSIGNED NOT NULL,
    ext_key VARCHAR(128) CHARACTER SET utf8mb4 NOT NULL,
    ext_value TEXT CHARACTER SET utf8mb4 NOT NULL,
    KEY transfer_extension_transfer (transfer_seq)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS transfer_fulfilment_duplicate_check (
    transfer_seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    hash VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_ms BIGINT NOT NULL
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS transfer_error_duplicate_check (
    transfer_seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    hash VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_ms BIGINT NOT NULL
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS transfer_fulfilment (
    transfer_seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    ilp_fulfilment VARCHAR(48) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    completed_ms BIGINT NOT NULL,
    settlement_window_id BIGINT UNSIGNED NOT NULL,
    created_ms BIGINT NOT NULL,
    KEY transfer_fulfilment_window (settlement_window_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS transfer_error (
    transfer_seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    seq INT UNSIGNED NOT NULL,
    error_code SMALLINT UNSIGNED NOT NULL,
    error_description VARCHAR(128) CHARACTER SET utf8mb4 NOT NULL,
    created_ms BIGINT NOT NULL
) ENGINE = InnoDB
;
-- Keyed by expiration first: inserts land near the end of the tree and the scan reads in key order.
CREATE TABLE IF NOT EXISTS transfer_timeout (
    expiration_ms BIGINT NOT NULL,
    transfer_seq BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (expiration_ms, transfer_seq)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_window (
    settlement_window_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    state VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    -- 1 while OPEN, NULL otherwise: the unique key allows exactly one OPEN window.
    open_marker TINYINT NULL UNIQUE,
    reason VARCHAR(512) CHARACTER SET utf8mb4 NULL,
    created_ms BIGINT NOT NULL,
    changed_ms BIGINT NOT NULL
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_window_state_change (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    settlement_window_id BIGINT UNSIGNED NOT NULL,
    state VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    reason VARCHAR(512) CHARACTER SET utf8mb4 NULL,
    created_ms BIGINT NOT NULL,
    FOREIGN KEY (settlement_window_id) REFERENCES settlement_window (settlement_window_id)
) ENGINE = InnoDB
;
INSERT IGNORE INTO participant (participant_id, name, is_active, created_ms) VALUES (1, 'Hub', 1, 0)
;
INSERT IGNORE INTO settlement_window (settlement_window_id, state, open_marker, reason, created_ms, changed_ms)
    VALUES (1, 'OPEN', 1, 'Initial window', 0, 0)
;
INSERT IGNORE INTO settlement_window_state_change (settlement_window_id, state, reason, created_ms)
    VALUES (1, 'OPEN', 'Initial window', 0)
