-- Usage analytics and the violation log (issue 5), written behind the checks with the ledger's
-- batches (node, seq): admitted and denied checks per key and minute, and a sample of denials.

CREATE TABLE usage_minutes (
    node      text NOT NULL,
    seq       bigint NOT NULL,
    key_id    text NOT NULL,
    plan      text NOT NULL,
    minute    timestamptz NOT NULL,
    admitted  bigint NOT NULL,
    denied    bigint NOT NULL,
    PRIMARY KEY (node, seq, key_id, minute)
);
CREATE INDEX usage_minutes_key ON usage_minutes (key_id, minute);
CREATE INDEX usage_minutes_plan ON usage_minutes (plan, minute);

-- Every denial is counted in usage_minutes; at most a few per key and minute are kept here in
-- full (the rest only counted), so a flood cannot flood the log.
CREATE TABLE violations (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL,
    key_id          text NOT NULL,
    account         text NOT NULL,
    plan            text NOT NULL,
    policy          text NOT NULL,
    client_address  text,
    node            text NOT NULL,
    seq             bigint NOT NULL,
    n               int NOT NULL,
    UNIQUE (node, seq, n)
);
CREATE INDEX violations_key_at ON violations (key_id, at);
CREATE INDEX violations_at ON violations (at);
