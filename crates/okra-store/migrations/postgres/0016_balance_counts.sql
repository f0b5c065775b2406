-- Balances are counted like customers, accounts, records and identities (issue 12 lists them by
-- tenant, customer and day: totalDocs never counts rows). Databases that already hold balances
-- start with their counts.
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'balances', '', COUNT(*) FROM balances GROUP BY owner_id, env;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'balances', customer_id, COUNT(*) FROM balances GROUP BY owner_id, env, customer_id;
INSERT INTO daily_row_counts (owner_id, env, collection, day, n)
SELECT owner_id, env, 'balances', created_at / 86400000, COUNT(*) FROM balances
GROUP BY owner_id, env, created_at / 86400000;

-- An account's and a customer's balances are found by account or customer id alone (ids are
-- unique across tenants; the tenant is checked on the row), so that no statistics can make a
-- planner prefer a tenant-wide index (as 0009/0010 for accounts and records, 0014 for identities);
-- the balances a record fetched are found by record (getByOptions), by an index that leads with the
-- record so that it never competes with balances_page for the tenant alone.
DROP INDEX balances_account;
CREATE INDEX balances_account ON balances (account_id, created_at, id, owner_id, env);
DROP INDEX balances_customer;
CREATE INDEX balances_customer ON balances (customer_id, created_at, id, owner_id, env);
CREATE INDEX balances_record ON balances (record_id, owner_id, env);

-- The amount indexes of the first schema served no statement, and as indexes that lead with the
-- tenant they competed with balances_page under statistics that did not know the tenant (a page of
-- a tenant's balances walked an amount index and sorted). getByType (issue 12) brings the amount
-- index its statement needs.
DROP INDEX balances_available;
DROP INDEX balances_ledger;
