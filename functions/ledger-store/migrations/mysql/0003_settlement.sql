-- Operator data: limit alarms, settlement models, window contents with their aggregation, and
-- settlements with their accounts. DECIMAL(18,4) amounts; times Unix ms, UTC. Every state is
-- an insert-only journal row; the current state is the row with the highest id. Statements
-- are idempotent (see 0001).

CREATE TABLE IF NOT EXISTS participant_limit_alarm (
    account_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    alarm_percentage DECIMAL(18,4) NOT NULL,
    changed_ms BIGINT NOT NULL,
    FOREIGN KEY (account_id) REFERENCES participant_currency (account_id)
) ENGINE = InnoDB
;
-- A NULL currency is the default model; UNIQUE treats NULLs as distinct.
CREATE TABLE IF NOT EXISTS settlement_model (
    settlement_model_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL UNIQUE,
    is_active TINYINT NOT NULL,
    granularity TINYINT UNSIGNED NOT NULL,
    interchange TINYINT UNSIGNED NOT NULL,
    delay TINYINT UNSIGNED NOT NULL,
    currency CHAR(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    require_liquidity_check TINYINT NOT NULL,
    ledger_account_type TINYINT UNSIGNED NOT NULL,
    settlement_account_type TINYINT UNSIGNED NOT NULL,
    auto_position_reset TINYINT NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE KEY settlement_model_currency_type (currency, ledger_account_type)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_window_content (
    content_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    settlement_window_id BIGINT UNSIGNED NOT NULL,
    ledger_account_type TINYINT UNSIGNED NOT NULL,
    currency CHAR(3) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    settlement_model_id BIGINT UNSIGNED NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE KEY settlement_window_content_key (settlement_window_id, ledger_account_type, currency),
    FOREIGN KEY (settlement_window_id) REFERENCES settlement_window (settlement_window_id),
    FOREIGN KEY (settlement_model_id) REFERENCES settlement_model (settlement_model_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_window_content_state_change (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    content_id BIGINT UNSIGNED NOT NULL,
    state VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    settlement_id BIGINT UNSIGNED NULL,
    reason VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    created_ms BIGINT NOT NULL,
    KEY settlement_window_content_state_change_content (content_id, id),
    FOREIGN KEY (content_id) REFERENCES settlement_window_content (content_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_content_aggregation (
    content_id BIGINT UNSIGNED NOT NULL,
    account_id BIGINT UNSIGNED NOT NULL,
    participant_role TINYINT UNSIGNED NOT NULL,
    amount DECIMAL(18,4) NOT NULL,
    PRIMARY KEY (content_id, account_id, participant_role),
    FOREIGN KEY (content_id) REFERENCES settlement_window_content (content_id),
    FOREIGN KEY (account_id) REFERENCES participant_currency (account_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement (
    settlement_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    settlement_model_id BIGINT UNSIGNED NOT NULL,
    reason VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_ms BIGINT NOT NULL,
    FOREIGN KEY (settlement_model_id) REFERENCES settlement_model (settlement_model_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_settlement_window (
    settlement_id BIGINT UNSIGNED NOT NULL,
    settlement_window_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (settlement_id, settlement_window_id),
    FOREIGN KEY (settlement_id) REFERENCES settlement (settlement_id),
    FOREIGN KEY (settlement_window_id) REFERENCES settlement_window (settlement_window_id)
) ENGINE = InnoDB
;
CREATE TABLE IF NOT EXISTS settlement_participant_currency (
    settlement_id BIGINT UNSIGNED NOT NULL,
    account_id BIGINT UNSIGNED NOT NULL,
    net_amount DECIMAL(18,4) NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (settlement_id, account_id),
    FOREIGN KEY (settlement_id) REFERENCES settlement (settlement_id),
    FOREIGN KEY (account_id) REFERENCES participant_currency (account_id)
) ENGINE = InnoDB
;
-- account_id NULL: the settlement's own state; otherwise the state of that account in it.
CREATE TABLE IF NOT EXISTS settlement_state_change (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    settlement_id BIGINT UNSIGNED NOT NULL,
    account_id BIGINT UNSIGNED NULL,
    state VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    reason VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    external_reference VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    created_ms BIGINT NOT NULL,
    KEY settlement_state_change_settlement (settlement_id, id),
    FOREIGN KEY (settlement_id) REFERENCES settlement (settlement_id)
) ENGINE = InnoDB
;
