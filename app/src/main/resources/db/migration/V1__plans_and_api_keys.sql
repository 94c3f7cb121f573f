-- Plans, API keys and overrides (issue 5). Durable business data: PostgreSQL; Redis holds the fast
-- path (rate and quota counters). Times are timestamptz; limits are whole units.

CREATE TABLE plans (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    rate_limit      bigint NOT NULL CHECK (rate_limit > 0),
    rate_period_ms  bigint NOT NULL CHECK (rate_period_ms > 0),
    rate_burst      bigint NOT NULL CHECK (rate_burst > 0),
    daily_quota     bigint CHECK (daily_quota > 0),
    monthly_quota   bigint CHECK (monthly_quota > 0),
    tier            text NOT NULL DEFAULT 'standard',
    quota_zone      text NOT NULL DEFAULT 'UTC',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The secret of a key is never stored: only SHA-256 of it (the secret is 256 random bits, so a
-- fast hash is enough). A rotated key stays valid until expires_at (the overlap), then the one
-- that replaced it alone.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    plan         text NOT NULL REFERENCES plans (name),
    secret_hash  bytea NOT NULL CHECK (length(secret_hash) = 32),
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    expires_at   timestamptz,
    replaced_by  text REFERENCES api_keys (id)
);
CREATE INDEX api_keys_plan ON api_keys (plan);

-- A temporary change of one key's limits, or a block, until a time.
CREATE TABLE overrides (
    id             bigserial PRIMARY KEY,
    key_id         text NOT NULL REFERENCES api_keys (id),
    rate_limit     bigint CHECK (rate_limit > 0),
    rate_burst     bigint CHECK (rate_burst > 0),
    daily_quota    bigint CHECK (daily_quota > 0),
    monthly_quota  bigint CHECK (monthly_quota > 0),
    blocked        boolean NOT NULL DEFAULT false,
    until          timestamptz NOT NULL,
    reason         text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX overrides_key_until ON overrides (key_id, until);
