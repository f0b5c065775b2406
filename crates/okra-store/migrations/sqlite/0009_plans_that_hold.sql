-- Indexes whose plans do not depend on statistics (docs/decisions.md, "Plans that hold"). Without
-- statistics (a bulk load on a server without autovacuum, SQLite before its first ANALYZE) the
-- planners guess that `owner_id = ? AND env = ?` matches a handful of rows, so every index that
-- starts with (owner_id, env) looks as good as any other for a tenant-scoped query, and the one
-- chosen may then sort or filter the whole tenant.
--
-- * customers_nin holds only customers with a NIN: lookups by NIN imply `nin_idx IS NOT NULL`,
--   and the customer page can no longer pick it over customers_page and sort the tenant.
-- * The records and accounts of a customer are found by the customer id alone (a globally unique
--   ObjectId of one tenant; the rows' tenant is checked on the rows read), so no tenant-wide index
--   can serve that query: the plan is one index search per customer id, with any statistics.
DROP INDEX customers_nin;
CREATE INDEX customers_nin ON customers (owner_id, env, nin_idx) WHERE nin_idx IS NOT NULL;
DROP INDEX records_customer;
CREATE INDEX records_customer ON records (customer_id, created_at, id);
DROP INDEX accounts_customer;
CREATE INDEX accounts_customer ON accounts (customer_id, created_at, id);
