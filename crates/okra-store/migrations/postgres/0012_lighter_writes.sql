-- Lighter writes (a bulk load of a million people spent most of its time writing index pages).
--
-- 1. No query reads the NIN blind indexes: no operation looks a customer or an identity up by NIN.
--    Their values are random, so at scale each insert cost a page of its own in every commit. An
--    operation that needs them will bring its index (and its plan test) with it.
DROP INDEX customers_nin;
DROP INDEX identities_nin;

-- 2. (SQLite only: its counter tables become WITHOUT ROWID. A PostgreSQL table is a heap with
--    its primary-key index either way.)
SELECT 1;

-- 3. PostgreSQL only: tenant data no longer references owners and banks by foreign key. Neither
--    is ever deleted (no operation or command deletes an owner; banks are reference data), and
--    each check took a FOR KEY SHARE lock on the parent row for every row inserted: every write of
--    a tenant locked its one owner row, which concurrent writers turn into MultiXacts. A bulk load
--    of 300 k people took 81 s with them and 70 s without. The links among a tenant's own rows
--    (customer, record, account, balance) keep their foreign keys. SQLite takes no row locks and
--    keeps all of them (its bulk loader does not check them; its writes through the pool do).
ALTER TABLE customers DROP CONSTRAINT customers_owner_id_fkey;   -- postgres only
ALTER TABLE records DROP CONSTRAINT records_owner_id_fkey;       -- postgres only
ALTER TABLE records DROP CONSTRAINT records_bank_id_fkey;        -- postgres only
ALTER TABLE accounts DROP CONSTRAINT accounts_owner_id_fkey;     -- postgres only
ALTER TABLE accounts DROP CONSTRAINT accounts_bank_id_fkey;      -- postgres only
ALTER TABLE identities DROP CONSTRAINT identities_owner_id_fkey; -- postgres only
ALTER TABLE balances DROP CONSTRAINT balances_owner_id_fkey;     -- postgres only
