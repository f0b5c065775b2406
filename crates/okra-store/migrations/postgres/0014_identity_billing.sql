-- Identity and KYC billing (issue 11).

-- 1. An identity verified by account number (products/kyc/nuban-verify) is found again by it
--    (identity/getByNuban, refresh): the blind index of (bank, NUBAN), as accounts keep it.
ALTER TABLE identities ADD COLUMN nuban_idx TEXT;
CREATE INDEX identities_nuban ON identities (owner_id, env, nuban_idx, created_at DESC, id DESC);

-- 2. Identities are counted like customers, accounts and records (totalDocs of the identity
--    lists never counts rows). Databases that already hold identities start with their counts.
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'identities', '', COUNT(*) FROM identities GROUP BY owner_id, env;
INSERT INTO row_counts (owner_id, env, collection, customer_id, n)
SELECT owner_id, env, 'identities', customer_id, COUNT(*) FROM identities GROUP BY owner_id, env, customer_id;
INSERT INTO daily_row_counts (owner_id, env, collection, day, n)
SELECT owner_id, env, 'identities', created_at / 86400000, COUNT(*) FROM identities
GROUP BY owner_id, env, created_at / 86400000;

-- 3. Idempotency keys of paid calls. The first schema kept the response in plain text; a verify's
--    response is an identity, so it is sealed. Nothing wrote this table yet. `id` lets data-key
--    rotation walk it like every table with a sealed column.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL,
    env             TEXT NOT NULL,
    key             TEXT NOT NULL,
    request_hash    TEXT NOT NULL,          -- SHA-256 of the operation and its JSON body
    status          TEXT NOT NULL,          -- 'running' | 'done'
    response_status BIGINT,
    response_enc    BYTEA,                  -- the response body, sealed
    created_at      BIGINT NOT NULL,          -- when the key was claimed (a running claim older than
                                            -- the lease is taken over: its process died)
    expires_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_key ON idempotency_keys (owner_id, env, key);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

-- 4. Receipts are listed per tenant (wallet/receipts) and found by record.
CREATE INDEX receipts_record ON receipts (owner_id, env, record_id);
