-- Lighter writes (a bulk load of a million people spent most of its time writing index pages).
--
-- 1. No query reads the NIN blind indexes: no operation looks a customer or an identity up by NIN.
--    Their values are random, so at scale each insert cost a page of its own in every commit. An
--    operation that needs them will bring its index (and its plan test) with it.
DROP INDEX customers_nin;
DROP INDEX identities_nin;

-- 2. row_counts clustered on its key (WITHOUT ROWID, SQLite only): one B-tree per counter bump
--    instead of the table and its primary-key index; per-customer counters are two rows per
--    customer, written with every record and account.
CREATE TABLE row_counts_keyed (              -- sqlite only
    owner_id     TEXT NOT NULL,              -- sqlite only
    env          TEXT NOT NULL,              -- sqlite only
    collection   TEXT NOT NULL,              -- sqlite only
    customer_id  TEXT NOT NULL,              -- sqlite only
    n            INTEGER NOT NULL,           -- sqlite only
    PRIMARY KEY (owner_id, env, collection, customer_id) -- sqlite only
) WITHOUT ROWID;                             -- sqlite only
INSERT INTO row_counts_keyed SELECT owner_id, env, collection, customer_id, n FROM row_counts; -- sqlite only
DROP TABLE row_counts;                       -- sqlite only
ALTER TABLE row_counts_keyed RENAME TO row_counts; -- sqlite only
CREATE TABLE daily_row_counts_keyed (        -- sqlite only
    owner_id     TEXT NOT NULL,              -- sqlite only
    env          TEXT NOT NULL,              -- sqlite only
    collection   TEXT NOT NULL,              -- sqlite only
    day          INTEGER NOT NULL,           -- sqlite only
    n            INTEGER NOT NULL,           -- sqlite only
    PRIMARY KEY (owner_id, env, collection, day) -- sqlite only
) WITHOUT ROWID;                             -- sqlite only
INSERT INTO daily_row_counts_keyed SELECT owner_id, env, collection, day, n FROM daily_row_counts; -- sqlite only
DROP TABLE daily_row_counts;                 -- sqlite only
ALTER TABLE daily_row_counts_keyed RENAME TO daily_row_counts; -- sqlite only
