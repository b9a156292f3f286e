-- The timeout work-list holds one entry per transfer that is not final. `expiration_ms` is when
-- the entry is next due: the transfer's expiration, later a recheck time the timeout function
-- sets. The primary key (due time first) serves the timeout function's scan; this index serves
-- the transaction that makes a transfer final and removes its entry by transfer, whenever due.
-- MySQL 8 has no CREATE INDEX IF NOT EXISTS, and a migration must be safe to run again (DDL
-- commits on its own), so the index is created only when information_schema lacks it.
SET @transfer_timeout_index = (
    SELECT IF(COUNT(*) = 0, 'CREATE INDEX transfer_timeout_transfer ON transfer_timeout (transfer_seq)', 'DO 0')
      FROM information_schema.statistics
     WHERE table_schema = DATABASE() AND table_name = 'transfer_timeout' AND index_name = 'transfer_timeout_transfer'
)
;
PREPARE transfer_timeout_index FROM @transfer_timeout_index
;
EXECUTE transfer_timeout_index
;
DEALLOCATE PREPARE transfer_timeout_index
;
