-- A reset of an account's quota (admin API, issue 5) is written to the ledger as a negative row
-- (node 'reset:<node>'), so that totals rebuilt from the ledger after a Redis flush honour it.
ALTER TABLE usage_ledger DROP CONSTRAINT usage_ledger_units_check;
ALTER TABLE usage_ledger ADD CONSTRAINT usage_ledger_units_check CHECK (units <> 0);
