-- balance/getByType (issue 12): balances whose available or ledger amount is at least a value,
-- largest first. Each index leads with its amount, so that a page of a tenant's balances alone
-- (products/balances) can never take it for a walk of the tenant (0016 dropped the amount indexes
-- that led with the tenant for that reason); the tenant follows, tested inside the index.
CREATE INDEX balances_available ON balances (available_minor, owner_id, env, id);
CREATE INDEX balances_ledger ON balances (ledger_minor, owner_id, env, id);

-- The 60-second debounce of balance/refresh and balance/check, kept in the database so that every
-- process agrees: one row per account and method names the record of the latest run. A refresh
-- reuses that record while it runs (finished_at NULL) and for 60 seconds after it succeeded; a
-- failed run sets finished_at to 0 so that the next refresh asks the bank again. Account ids are
-- unique across tenants; the tenant is kept to check it.
CREATE TABLE balance_refreshes (
    account_id  TEXT NOT NULL,
    method      TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    env         TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (account_id, method)
);
