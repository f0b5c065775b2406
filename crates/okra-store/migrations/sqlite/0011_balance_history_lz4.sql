-- PostgreSQL compresses balances.periodic with lz4 from here on (see its migration 0011). SQLite
-- stores the value as written: nothing to change.
SELECT 1;
