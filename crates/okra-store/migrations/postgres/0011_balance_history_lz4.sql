-- A balance's daily history (`periodic`, a few kilobytes of JSON) is compressed by TOAST when the
-- row is written. PostgreSQL's default, pglz, cost ~32 µs per balance on this 2-core machine and
-- was most of the PostgreSQL CPU of a bulk load; lz4 costs ~10 µs for about the same size (108 vs
-- 96 MB per 100 k balances). Values already stored keep their compression until rewritten.
ALTER TABLE balances ALTER COLUMN periodic SET COMPRESSION lz4; -- postgres only
