-- Amounts over the whole range of the ledger's Amount (i128 units of 10^-4): DECIMAL(39,4).
-- A transfer needs DECIMAL(22,4) (FSPIOP allows 18 integer digits and 4 decimals), but
-- positions, balances, limits and settlement sums are sums of such amounts; 39 digits hold
-- every i128, so no value the ledger can compute is refused by a column (ledger_core::amount
-- asserts this at compile time). The four decimals are unchanged, so every stored value
-- converts exactly.
-- Each statement widens one table's columns and is idempotent: run again, it changes nothing.
-- InnoDB copies the table to change a column's type, blocking writes to it meanwhile.

ALTER TABLE participant_position
    MODIFY value DECIMAL(39,4) NOT NULL,
    MODIFY reserved_value DECIMAL(39,4) NOT NULL
;
ALTER TABLE participant_position_change
    MODIFY change_amount DECIMAL(39,4) NOT NULL,
    MODIFY value DECIMAL(39,4) NOT NULL,
    MODIFY reserved_value DECIMAL(39,4) NOT NULL
;
ALTER TABLE participant_limit
    MODIFY value DECIMAL(39,4) NOT NULL
;
ALTER TABLE transfer
    MODIFY amount DECIMAL(39,4) NOT NULL
;
ALTER TABLE participant_limit_alarm
    MODIFY alarm_percentage DECIMAL(39,4) NOT NULL
;
ALTER TABLE settlement_content_aggregation
    MODIFY amount DECIMAL(39,4) NOT NULL
;
ALTER TABLE settlement_participant_currency
    MODIFY net_amount DECIMAL(39,4) NOT NULL
;
