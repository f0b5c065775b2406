-- Identity and KYC billing (issue 11).

-- 1. An identity verified by account number (products/kyc/nuban-verify) is found again by it
--    (identity/getByNuban, refresh): the blind index of (bank, NUBAN), as accounts keep it.
ALTER TABLE identities ADD COLUMN nuban_idx TEXT;
CREATE INDEX identities_nuban ON identities (owner_id, env, nuban_idx, created_at DESC, id DESC);

-- 2. The newest identity of a BVN is one index search: the BVN index carries the whole order
--    (without `id`, a planner without statistics preferred scanning the tenant's identities in
--    order to sorting the BVN's few).
DROP INDEX identities_bvn;
CREATE INDEX identities_bvn ON identities (owner_id, env, bvn_idx, created_at DESC, id DESC);

-- 3. Plans that hold whatever the statistics say (as 0009/0010 did for accounts and records):
--    a customer's identities are found by customer id alone (ids are unique across tenants; the
--    tenant is checked on the row), and an account by its NUBAN index first. An index that led
--    with (owner_id, env) competed with every other such index when the statistics did not know
--    the tenant, and lost to ones that walk the whole tenant.
DROP INDEX identities_customer;
CREATE INDEX identities_customer ON identities (customer_id, created_at, id, owner_id, env);
DROP INDEX accounts_nuban;
CREATE UNIQUE INDEX accounts_nuban ON accounts (nuban_idx, owner_id, env);

-- 4. Identities are counted like customers, accounts and records (totalDocs of the identity
--    lists never counts rows). Databases that already hold identities start with their counts.
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'identities', '', COUNT(*) FROM identities GROUP BY owner_id, env;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'identities', customer_id, COUNT(*) FROM identities GROUP BY owner_id, env, customer_id;
INSERT INTO daily_row_counts (owner_id, env, collection, day, n)
SELECT owner_id, env, 'identities', created_at / 86400000, COUNT(*) FROM identities
GROUP BY owner_id, env, created_at / 86400000;

-- 5. Idempotency keys of paid calls. The first schema kept the response in plain text; a verify's
--    response is an identity, so it is sealed. Nothing wrote this table yet. `id` lets data-key
--    rotation walk it like every table with a sealed column.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL,
    env             TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,          -- keyed hash (HMAC) of the operation and its JSON body
    claim           TEXT NOT NULL,          -- the running call's token: only it completes or releases
    status          TEXT NOT NULL,          -- 'running' | 'done'
    response_status BIGINT,
    response_enc    BYTEA,                  -- the response body, sealed
    created_at      BIGINT NOT NULL,          -- when the key was claimed (a running claim older than
                                            -- the lease is taken over: its process died)
    expires_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_key ON idempotency_keys (owner_id, env, key);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

-- 6. Receipts are listed per tenant (wallet/receipts) and found by record.
CREATE INDEX receipts_record ON receipts (owner_id, env, record_id);
