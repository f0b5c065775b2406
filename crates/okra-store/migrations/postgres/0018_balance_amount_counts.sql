-- getByType (issue 12) at a million balances: 0017's amount indexes end with owner_id and env, so
-- that a count over one reads the index alone (SQLite cannot tell otherwise that the tenant
-- expression needs no table row).
DROP INDEX balances_available;
DROP INDEX balances_ledger;
CREATE INDEX balances_available ON balances ((owner_id || ':' || env || ':available'), available_minor, id, owner_id, env);
CREATE INDEX balances_ledger ON balances ((owner_id || ':' || env || ':ledger'), ledger_minor, id, owner_id, env);

-- getByType's total is not a count of every match: balances are counted per tenant, amount kind
-- and amount bucket (counters::amount_bucket: the amount below 1,000 kobo, else its number of
-- digits × 1,000 + its first three digits, negated below zero), in the transaction that writes or
-- refreshes them. A total sums the buckets above the value's and counts the value's own bucket
-- in the index. Existing balances start counted (the least BIGINT, whose negation overflows, by
-- its bucket's value).
CREATE TABLE balance_amount_counts (
    owner_id TEXT NOT NULL,
    env      TEXT NOT NULL,
    kind     TEXT NOT NULL,
    bucket   BIGINT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (owner_id, env, kind, bucket)
);
INSERT INTO balance_amount_counts (owner_id, env, kind, bucket, n)
SELECT owner_id, env, 'available', b, COUNT(*) FROM
  (SELECT owner_id, env, CASE WHEN available_minor = -9223372036854775807 - 1 THEN -19922 WHEN available_minor < 0 THEN -(CASE WHEN -available_minor < 1000 THEN -available_minor ELSE length(CAST(-available_minor AS TEXT)) * 1000 + CAST(substr(CAST(-available_minor AS TEXT), 1, 3) AS BIGINT) END) ELSE (CASE WHEN available_minor < 1000 THEN available_minor ELSE length(CAST(available_minor AS TEXT)) * 1000 + CAST(substr(CAST(available_minor AS TEXT), 1, 3) AS BIGINT) END) END AS b FROM balances WHERE available_minor IS NOT NULL) t
GROUP BY owner_id, env, b;
INSERT INTO balance_amount_counts (owner_id, env, kind, bucket, n)
SELECT owner_id, env, 'ledger', b, COUNT(*) FROM
  (SELECT owner_id, env, CASE WHEN ledger_minor = -9223372036854775807 - 1 THEN -19922 WHEN ledger_minor < 0 THEN -(CASE WHEN -ledger_minor < 1000 THEN -ledger_minor ELSE length(CAST(-ledger_minor AS TEXT)) * 1000 + CAST(substr(CAST(-ledger_minor AS TEXT), 1, 3) AS BIGINT) END) ELSE (CASE WHEN ledger_minor < 1000 THEN ledger_minor ELSE length(CAST(ledger_minor AS TEXT)) * 1000 + CAST(substr(CAST(ledger_minor AS TEXT), 1, 3) AS BIGINT) END) END AS b FROM balances WHERE ledger_minor IS NOT NULL) t
GROUP BY owner_id, env, b;
