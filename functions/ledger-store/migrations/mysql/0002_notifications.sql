-- Callback endpoints and the notification function's records, for MySQL 8 (Azure) and
-- MariaDB 10.11. Same conventions as 0001: utf8mb4 text, binary collation for keys, Unix
-- milliseconds, statements separated by a line holding only ";" and each idempotent.

-- Per participant and type, one endpoint (a Mustache URL template, e.g.
-- FSPIOP_CALLBACK_URL_TRANSFER_PUT): setting it again replaces the value in place
-- (central-ledger's participantEndpoint, unique on participantId and endpointTypeId).
CREATE TABLE IF NOT EXISTS participant_endpoint (
    participant_id BIGINT UNSIGNED NOT NULL,
    endpoint_type VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    value VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    is_active TINYINT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (participant_id, endpoint_type),
    FOREIGN KEY (participant_id) REFERENCES participant (participant_id)
) ENGINE = InnoDB
;
-- One row per notification sent: a re-emitted event (same id) is not sent to the same
-- recipient again.
CREATE TABLE IF NOT EXISTS notification_delivery (
    event_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    recipient VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    transfer_id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    delivered_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, recipient)
) ENGINE = InnoDB
;
-- Events a function could not process and callbacks that gave up, for operators; newest is
-- the highest id.
CREATE TABLE IF NOT EXISTS dead_letter (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    source VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    event_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    transfer_id VARCHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    body MEDIUMTEXT CHARACTER SET utf8mb4 NOT NULL,
    reason TEXT CHARACTER SET utf8mb4 NOT NULL,
    created_ms BIGINT NOT NULL
) ENGINE = InnoDB
