-- Callback endpoints and the notification function's records. Times are Unix milliseconds, UTC.

-- Per participant and type, one endpoint (a Mustache URL template, e.g.
-- FSPIOP_CALLBACK_URL_TRANSFER_PUT): setting it again replaces the value in place.
CREATE TABLE participant_endpoint (
    participant_id INTEGER NOT NULL REFERENCES participant (participant_id),
    endpoint_type TEXT NOT NULL,
    value TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (participant_id, endpoint_type)
) WITHOUT ROWID;

-- One row per notification sent: a re-emitted event (same id) is not sent to the same
-- recipient again.
CREATE TABLE notification_delivery (
    event_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    delivered_ms INTEGER NOT NULL,
    PRIMARY KEY (event_id, recipient)
) WITHOUT ROWID;

-- Events a function could not process and callbacks that gave up, for operators; newest is
-- the highest id.
CREATE TABLE dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    event_id TEXT,
    transfer_id TEXT,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
