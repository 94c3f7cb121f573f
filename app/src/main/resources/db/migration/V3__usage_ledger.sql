-- The durable record of admitted usage by API key (issue 5), written behind the checks in batches.
-- A batch is identified by the node that wrote it and its sequence number: retrying a batch after
-- a failure inserts nothing twice (ON CONFLICT DO NOTHING), so writes are idempotent.
-- period: 'd:<yyyy-mm-dd>' or 'm:<yyyy-mm>' in the plan's quota time zone.
CREATE TABLE usage_ledger (
    node        text NOT NULL,
    seq         bigint NOT NULL,
    account     text NOT NULL,
    period      text NOT NULL,
    units       bigint NOT NULL CHECK (units > 0),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, seq, account, period)
);
CREATE INDEX usage_ledger_account_period ON usage_ledger (account, period);
