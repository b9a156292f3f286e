-- The timeout work-list holds one entry per transfer that is not final. `expiration_ms` is when
-- the entry is next due: the transfer's expiration, later a recheck time the timeout function
-- sets. The primary key (due time first) serves the timeout function's scan; this index serves
-- the transaction that makes a transfer final and removes its entry by transfer, whenever due.
CREATE INDEX IF NOT EXISTS transfer_timeout_transfer ON transfer_timeout (transfer_seq);
