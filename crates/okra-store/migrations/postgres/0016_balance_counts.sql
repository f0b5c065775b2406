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
