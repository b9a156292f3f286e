-- Deliveries keyed by transfer first: keyed by event id (a hash), every row went to a page of
-- its own, and a commit of a batch's deliveries wrote over a hundred pages. One statement, so
-- running it again (after a crash before it was recorded) leaves the same key. InnoDB rebuilds
-- the table in place and lets writes continue meanwhile.
ALTER TABLE notification_delivery DROP PRIMARY KEY, ADD PRIMARY KEY (transfer_id, event_id, recipient)
;
