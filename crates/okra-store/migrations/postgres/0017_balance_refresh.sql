-- balance/getByType (issue 12): a tenant's balances whose available or ledger amount is at least a
-- value, largest first. Each index leads with the tenant and the amount's name as one expression
-- (`owner:env:available`), so that
-- * a page of a tenant's balances alone (products/balances: `owner_id = … AND env = …`) can never
--   take it for a walk of the tenant (0016 dropped amount indexes that led with owner_id, env for
--   that reason), nor a search of one amount the other amount's index (each its own expression);
-- * a tenant's search never walks another tenant's balances.
CREATE INDEX balances_available ON balances ((owner_id || ':' || env || ':available'), available_minor, id);
CREATE INDEX balances_ledger ON balances ((owner_id || ':' || env || ':ledger'), ledger_minor, id);

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
