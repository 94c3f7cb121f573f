-- A key's account: the first key of its rotation chain. Rate state and quotas are counted per
-- account, so rotating a key does not hand out a fresh month.
ALTER TABLE api_keys ADD COLUMN account text;
UPDATE api_keys SET account = id;
ALTER TABLE api_keys ALTER COLUMN account SET NOT NULL;
CREATE INDEX api_keys_account ON api_keys (account);

-- One number that changes whenever plans, keys or overrides change (any write path: the triggers
-- bump it in the writing transaction). Every node polls it and reloads its in-memory directory of
-- keys and plans when it moved: the database is never on the request path.
CREATE TABLE admin_version (
    id       int PRIMARY KEY CHECK (id = 1),
    version  bigint NOT NULL
);
INSERT INTO admin_version VALUES (1, 0);

CREATE FUNCTION bump_admin_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE admin_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER plans_changed AFTER INSERT OR UPDATE OR DELETE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION bump_admin_version();
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION bump_admin_version();
CREATE TRIGGER overrides_changed AFTER INSERT OR UPDATE OR DELETE ON overrides
    FOR EACH STATEMENT EXECUTE FUNCTION bump_admin_version();
