-- Operator data: limit alarms, settlement models, window contents with their aggregation, and
-- settlements with their accounts. Amounts are INTEGER units of 10^-4; times Unix ms, UTC.
-- Every state is an insert-only journal row; the current state is the row with the highest id.

CREATE TABLE participant_limit_alarm (
    account_id INTEGER PRIMARY KEY REFERENCES participant_currency (account_id),
    alarm_percentage INTEGER NOT NULL,
    changed_ms INTEGER NOT NULL
);

-- A NULL currency is the default model. UNIQUE treats NULLs as distinct, as MySQL does.
CREATE TABLE settlement_model (
    settlement_model_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    is_active INTEGER NOT NULL,
    granularity INTEGER NOT NULL,
    interchange INTEGER NOT NULL,
    delay INTEGER NOT NULL,
    currency TEXT,
    require_liquidity_check INTEGER NOT NULL,
    ledger_account_type INTEGER NOT NULL,
    settlement_account_type INTEGER NOT NULL,
    auto_position_reset INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (currency, ledger_account_type)
);

-- One per window, account type and currency: a second close aggregation of the same window
-- collides here instead of doubling the content.
CREATE TABLE settlement_window_content (
    content_id INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_window_id INTEGER NOT NULL REFERENCES settlement_window (settlement_window_id),
    ledger_account_type INTEGER NOT NULL,
    currency TEXT NOT NULL,
    settlement_model_id INTEGER NOT NULL REFERENCES settlement_model (settlement_model_id),
    created_ms INTEGER NOT NULL,
    UNIQUE (settlement_window_id, ledger_account_type, currency)
);

CREATE TABLE settlement_window_content_state_change (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_id INTEGER NOT NULL REFERENCES settlement_window_content (content_id),
    state TEXT NOT NULL,
    settlement_id INTEGER,
    reason TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX settlement_window_content_state_change_content ON settlement_window_content_state_change (content_id, id);

CREATE TABLE settlement_content_aggregation (
    content_id INTEGER NOT NULL REFERENCES settlement_window_content (content_id),
    account_id INTEGER NOT NULL REFERENCES participant_currency (account_id),
    participant_role INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (content_id, account_id, participant_role)
) WITHOUT ROWID;

CREATE TABLE settlement (
    settlement_id INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_model_id INTEGER NOT NULL REFERENCES settlement_model (settlement_model_id),
    reason TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE settlement_settlement_window (
    settlement_id INTEGER NOT NULL REFERENCES settlement (settlement_id),
    settlement_window_id INTEGER NOT NULL REFERENCES settlement_window (settlement_window_id),
    PRIMARY KEY (settlement_id, settlement_window_id)
) WITHOUT ROWID;

CREATE TABLE settlement_participant_currency (
    settlement_id INTEGER NOT NULL REFERENCES settlement (settlement_id),
    account_id INTEGER NOT NULL REFERENCES participant_currency (account_id),
    net_amount INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (settlement_id, account_id)
) WITHOUT ROWID;

-- account_id NULL: the settlement's own state; otherwise the state of that account in it.
CREATE TABLE settlement_state_change (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_id INTEGER NOT NULL REFERENCES settlement (settlement_id),
    account_id INTEGER,
    state TEXT NOT NULL,
    reason TEXT,
    external_reference TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX settlement_state_change_settlement ON settlement_state_change (settlement_id, id);
