-- The ids of a customer's accounts and records (customers/getById, customers/list) are read with
-- the rows' tenant, which the lookup checks: with owner_id and env in the index the lookup reads
-- the index alone (SQLite: a COVERING INDEX search; PostgreSQL: an index-only scan where the
-- visibility map allows) instead of one table row per linked account or record. The leading
-- columns, and so every plan that used these indexes, are unchanged.
DROP INDEX records_customer;
CREATE INDEX records_customer ON records (customer_id, created_at, id, owner_id, env);
DROP INDEX accounts_customer;
CREATE INDEX accounts_customer ON accounts (customer_id, created_at, id, owner_id, env);
