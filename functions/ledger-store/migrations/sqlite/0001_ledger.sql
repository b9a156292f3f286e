-- The central-ledger tables for the embedded store. Amounts are INTEGER units of 10^-4
-- (SQLite has no exact decimal type); times are Unix milliseconds, UTC.

CREATE TABLE participant (
    participant_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    is_active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE participant_currency (
    account_id INTEGER PRIMARY KEY AUTOINCREMENT,
    participant_id INTEGER NOT NULL REFERENCES participant (participant_id),
    currency TEXT NOT NULL,
    ledger_account_type INTEGER NOT NULL,
    is_active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (participant_id, currency, ledger_account_type)
);

CREATE TABLE participant_position (
    account_id INTEGER PRIMARY KEY REFERENCES participant_currency (account_id),
    value INTEGER NOT NULL,
    reserved_value INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL
);

CREATE TABLE participant_position_change (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    transfer_seq INTEGER,
    seq INTEGER,
    change_amount INTEGER NOT NULL,
    value INTEGER NOT NULL,
    reserved_value INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX participant_position_change_account ON participant_position_change (account_id, id);
CREATE INDEX participant_position_change_transfer ON participant_position_change (transfer_seq);

CREATE TABLE participant_limit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES participant_currency (account_id),
    limit_type INTEGER NOT NULL,
    value INTEGER NOT NULL,
    is_active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX participant_limit_account ON participant_limit (account_id, is_active);

-- Transfers get a sequential `transfer_seq` and every child row hangs off it. Transfer ids are
-- mostly random UUIDs: keyed by them, each child table would dirty a random page per insert,
-- and SQLite's WAL writes whole pages at every commit. Keyed by `transfer_seq`, children of
-- new transfers append at the end of their trees; only the `transfer_id` index takes random
-- inserts.
CREATE TABLE transfer (
    transfer_seq INTEGER PRIMARY KEY,
    transfer_id TEXT NOT NULL UNIQUE,
    payer_fsp TEXT NOT NULL,
    payee_fsp TEXT NOT NULL,
    payer_account_id INTEGER,
    payee_account_id INTEGER,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    ilp_condition TEXT,
    expiration_ms INTEGER NOT NULL,
    ilp_packet TEXT NOT NULL,
    prepare_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE transfer_state_change (
    transfer_seq INTEGER NOT NULL REFERENCES transfer (transfer_seq),
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (transfer_seq, seq)
) WITHOUT ROWID;

CREATE TABLE transfer_extension (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer_seq INTEGER NOT NULL REFERENCES transfer (transfer_seq),
    ext_key TEXT NOT NULL,
    ext_value TEXT NOT NULL
);
CREATE INDEX transfer_extension_transfer ON transfer_extension (transfer_seq);

CREATE TABLE transfer_fulfilment_duplicate_check (
    transfer_seq INTEGER PRIMARY KEY REFERENCES transfer (transfer_seq),
    hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE transfer_error_duplicate_check (
    transfer_seq INTEGER PRIMARY KEY REFERENCES transfer (transfer_seq),
    hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE transfer_fulfilment (
    transfer_seq INTEGER PRIMARY KEY REFERENCES transfer (transfer_seq),
    ilp_fulfilment TEXT,
    completed_ms INTEGER NOT NULL,
    settlement_window_id INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX transfer_fulfilment_window ON transfer_fulfilment (settlement_window_id);

CREATE TABLE transfer_error (
    transfer_seq INTEGER PRIMARY KEY REFERENCES transfer (transfer_seq),
    seq INTEGER NOT NULL,
    error_code INTEGER NOT NULL,
    error_description TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Keyed by expiration first: inserts land near the end of the tree and the scan reads in
-- key order.
CREATE TABLE transfer_timeout (
    expiration_ms INTEGER NOT NULL,
    transfer_seq INTEGER NOT NULL REFERENCES transfer (transfer_seq),
    PRIMARY KEY (expiration_ms, transfer_seq)
) WITHOUT ROWID;

CREATE TABLE settlement_window (
    settlement_window_id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    -- 1 while OPEN, NULL otherwise: the unique index allows exactly one OPEN window.
    open_marker INTEGER UNIQUE,
    reason TEXT,
    created_ms INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL
);

CREATE TABLE settlement_window_state_change (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_window_id INTEGER NOT NULL REFERENCES settlement_window (settlement_window_id),
    state TEXT NOT NULL,
    reason TEXT,
    created_ms INTEGER NOT NULL
);

INSERT INTO participant (participant_id, name, is_active, created_ms) VALUES (1, 'Hub', 1, 0);
INSERT INTO settlement_window (settlement_window_id, state, open_marker, reason, created_ms, changed_ms)
    VALUES (1, 'OPEN', 1, 'Initial window', 0, 0);
INSERT INTO settlement_window_state_change (settlement_window_id, state, reason, created_ms)
    VALUES (1, 'OPEN', 'Initial window', 0);
