-- Running totals of the usage ledger per (account, period), kept in the same transaction as each
-- ledger batch (only the rows a batch really inserted are added, so a retried batch adds nothing).
-- Nodes re-read the totals of the periods in use every second: a primary-key lookup, instead of
-- summing a ledger that grows by a row per account, period and node every second.
CREATE TABLE usage_totals (
    account text NOT NULL,
    period  text NOT NULL,
    units   bigint NOT NULL,
    PRIMARY KEY (account, period)
);
INSERT INTO usage_totals (account, period, units)
    SELECT account, period, sum(units) FROM usage_ledger GROUP BY account, period;
