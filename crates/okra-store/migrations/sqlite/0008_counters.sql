-- Row counts kept in the same transaction as the rows (see src/counters.rs), so that totalDocs
-- never counts rows: one row per (owner, env, collection, customer), customer_id '' for the
-- tenant's whole collection; bumped with INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n.
CREATE TABLE row_counts (
    owner_id     TEXT NOT NULL,
    env          TEXT NOT NULL,
    collection   TEXT NOT NULL,                 -- customers, accounts, records
    customer_id  TEXT NOT NULL,                 -- '' for the whole collection
    n            INTEGER NOT NULL,
    PRIMARY KEY (owner_id, env, collection, customer_id)
);

-- Rows created per whole UTC day (day = created_at / 86400000, days since 1970-01-01), summed
-- over a range of days for counts between two dates.
CREATE TABLE daily_row_counts (
    owner_id     TEXT NOT NULL,
    env          TEXT NOT NULL,
    collection   TEXT NOT NULL,
    day          INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (owner_id, env, collection, day)
);

-- Databases that already hold rows start with their counts (inside this migration's transaction).
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'customers', '', COUNT(*) FROM customers GROUP BY owner_id, env;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'accounts', '', COUNT(*) FROM accounts GROUP BY owner_id, env;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'records', '', COUNT(*) FROM records GROUP BY owner_id, env;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'accounts', customer_id, COUNT(*) FROM accounts GROUP BY owner_id, env, customer_id;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'records', customer_id, COUNT(*) FROM records GROUP BY owner_id, env, customer_id;
INSERT INTO daily_row_counts (owner_id, env, collection, day, n)
SELECT owner_id, env, 'customers', created_at / 86400000, COUNT(*) FROM customers
GROUP BY owner_id, env, created_at / 86400000;
INSERT INTO daily_row_counts (owner_id, env, collection, day, n)
SELECT owner_id, env, 'accounts', created_at / 86400000, COUNT(*) FROM accounts
GROUP BY owner_id, env, created_at / 86400000;
INSERT INTO daily_row_counts (owner_id, env, collection, day, n)
SELECT owner_id, env, 'records', created_at / 86400000, COUNT(*) FROM records
GROUP BY owner_id, env, created_at / 86400000;
