-- Deliveries keyed by transfer first: keyed by event id (a hash), every row went to a page of
-- its own, and a commit of a batch's deliveries wrote over a hundred pages to the log.
CREATE TABLE notification_delivery_by_transfer (
    transfer_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    delivered_ms INTEGER NOT NULL,
    PRIMARY KEY (transfer_id, event_id, recipient)
) WITHOUT ROWID;

INSERT INTO notification_delivery_by_transfer (transfer_id, event_id, recipient, delivered_ms)
    SELECT transfer_id, event_id, recipient, delivered_ms FROM notification_delivery;

DROP TABLE notification_delivery;

ALTER TABLE notification_delivery_by_transfer RENAME TO notification_delivery;
