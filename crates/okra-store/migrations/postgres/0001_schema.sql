-- okra-server schema, PostgreSQL flavour. The SQLite file beside this one is the same schema with
-- SQLite's type names; a unit test checks that both define the same tables, columns and indexes.
--
-- Conventions (why):
-- * Ids are 24-hex ObjectIds in TEXT: Okra's id format, sortable by creation time.
-- * Timestamps are BIGINT milliseconds since the epoch (UTC): one portable type for both backends,
--   cheap range scans for getByDate.
-- * Money is BIGINT minor units (kobo, or hundredths of a credit): no floating point in storage.
-- * Booleans are BIGINT 0/1: identical on both backends through sqlx's Any driver.
-- * Every tenant row carries owner_id and env and every lookup index starts with them, so a query
--   without tenant scope has no index to use and stands out in review.
-- * Personal data lives only in *_enc columns (AES-256-GCM, key id inside the ciphertext);
--   lookups use *_idx blind indexes (keyed HMAC-SHA256 of the normalised value).

CREATE TABLE owners (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    webhook_url         TEXT,
    webhook_token_enc   BYTEA,
    webhook_secret_enc  BYTEA NOT NULL,
    created_at          BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES owners(id),
    env         TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- 'secret' | 'publishable'
    key_hash    TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the whole key; the key itself is never stored
    hint        TEXT NOT NULL,            -- prefix and last characters, for `keys list`
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_owner ON api_keys (owner_id, env);

CREATE TABLE banks (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    sortcode    TEXT NOT NULL,
    nip_code    TEXT NOT NULL,
    type        TEXT NOT NULL,
    colors      TEXT NOT NULL,            -- JSON {primary, accent, bg, button, icon}
    products    TEXT NOT NULL,            -- JSON array
    individual  BIGINT NOT NULL,
    corporate   BIGINT NOT NULL,
    status      TEXT NOT NULL,
    position    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX banks_position ON banks (position, id);

CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES owners(id),
    env           TEXT NOT NULL,
    name          TEXT NOT NULL,
    bvn_idx       TEXT,
    bvn_enc       BYTEA,
    nin_idx       TEXT,
    pii_enc       BYTEA,                  -- JSON {nin, phone[], email[]}
    sandbox_enc   BYTEA,                  -- JSON {bank, username, password, spec} for sandbox customers
    sandbox_login_idx TEXT,               -- blind index of a sandbox customer's login username
    sandbox_person BIGINT,                 -- the simulated network's index of a sandbox customer
    created_at    BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);
CREATE INDEX customers_page ON customers (owner_id, env, created_at DESC, id DESC);
CREATE UNIQUE INDEX customers_bvn ON customers (owner_id, env, bvn_idx) WHERE bvn_idx IS NOT NULL;
CREATE INDEX customers_nin ON customers (owner_id, env, nin_idx);
CREATE UNIQUE INDEX customers_sandbox_login ON customers (owner_id, env, sandbox_login_idx) WHERE sandbox_login_idx IS NOT NULL;
CREATE UNIQUE INDEX customers_sandbox_person ON customers (sandbox_person) WHERE sandbox_person IS NOT NULL;

CREATE TABLE link_sessions (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES owners(id),
    env         TEXT NOT NULL,
    options     TEXT NOT NULL,            -- JSON buildWithOptions options, functions stripped
    status      TEXT NOT NULL,            -- 'open' | 'completed' | 'expired'
    record_id   TEXT,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX link_sessions_page ON link_sessions (owner_id, env, created_at DESC, id DESC);

CREATE TABLE records (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES owners(id),
    env             TEXT NOT NULL,
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    bank_id         TEXT NOT NULL REFERENCES banks(id),
    link_id         TEXT,
    products        TEXT NOT NULL,        -- JSON array of requested products
    options         TEXT NOT NULL,        -- JSON object (custom ids)
    meta            TEXT NOT NULL,        -- JSON object
    running         BIGINT NOT NULL,
    completed       BIGINT NOT NULL,
    product_status  TEXT NOT NULL,        -- JSON {product: {status, last_success_at, last_fail_at}}
    callback_url    TEXT,
    created_at      BIGINT NOT NULL,
    last_updated    BIGINT NOT NULL
);
CREATE INDEX records_page ON records (owner_id, env, created_at DESC, id DESC);
CREATE INDEX records_customer ON records (owner_id, env, customer_id, created_at DESC, id DESC);

-- One row per (record, option key): getByOptions joins these, every pair must match.
CREATE TABLE record_options (
    record_id  TEXT NOT NULL REFERENCES records(id),
    owner_id   TEXT NOT NULL,
    env        TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,            -- the JSON encoding of the value
    PRIMARY KEY (record_id, key)
);
CREATE INDEX record_options_lookup ON record_options (owner_id, env, key, value, record_id);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES owners(id),
    env           TEXT NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    bank_id       TEXT NOT NULL REFERENCES banks(id),
    record_id     TEXT NOT NULL REFERENCES records(id),
    name          TEXT NOT NULL,
    nuban_enc     BYTEA NOT NULL,
    nuban_idx     TEXT NOT NULL,          -- blind index of (bank id, NUBAN)
    type          TEXT NOT NULL,
    currency      TEXT NOT NULL,
    connected     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);
CREATE INDEX accounts_customer ON accounts (owner_id, env, customer_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX accounts_nuban ON accounts (owner_id, env, nuban_idx);
CREATE INDEX accounts_record ON accounts (owner_id, env, record_id);

CREATE TABLE identities (
    id                    TEXT PRIMARY KEY,
    owner_id              TEXT NOT NULL REFERENCES owners(id),
    env                   TEXT NOT NULL,
    customer_id           TEXT NOT NULL REFERENCES customers(id),
    record_id             TEXT,
    bvn_idx               TEXT,
    nin_idx               TEXT,
    firstname             TEXT,
    middlename            TEXT,
    lastname              TEXT,
    fullname              TEXT,
    gender                TEXT,
    nationality           TEXT,
    lga_of_origin         TEXT,
    lga_of_residence      TEXT,
    state_of_origin       TEXT,
    state_of_residence    TEXT,
    marital_status        TEXT,
    verification_country  TEXT NOT NULL,
    score                 BIGINT,
    watch_listed          BIGINT,
    dti                   DOUBLE PRECISION,
    rc_number             TEXT,
    enrollment_bank       TEXT,
    enrollment_branch     TEXT,
    enrollment_date       TEXT,
    pii_enc               BYTEA NOT NULL,  -- JSON {bvn, nin, dob, phone[], email[], address[], aliases[], next_of_kins[], mothers_maiden, photo_id[]}
    created_at            BIGINT NOT NULL,
    last_updated          BIGINT NOT NULL
);
CREATE INDEX identities_page ON identities (owner_id, env, created_at DESC, id DESC);
CREATE INDEX identities_customer ON identities (owner_id, env, customer_id, created_at DESC, id DESC);
CREATE INDEX identities_bvn ON identities (owner_id, env, bvn_idx, created_at DESC);
CREATE INDEX identities_nin ON identities (owner_id, env, nin_idx);
CREATE INDEX identities_record ON identities (owner_id, env, record_id);

CREATE TABLE balances (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES owners(id),
    env             TEXT NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    record_id       TEXT NOT NULL REFERENCES records(id),
    available_minor BIGINT,
    ledger_minor    BIGINT,
    currency        TEXT NOT NULL,
    periodic        TEXT NOT NULL,        -- JSON {available_balance: [{_id, amount, date}], ledger_balance: [...]}: daily history, read with the balance in one row
    created_at      BIGINT NOT NULL,
    last_updated    BIGINT NOT NULL
);
CREATE INDEX balances_page ON balances (owner_id, env, created_at DESC, id DESC);
CREATE INDEX balances_account ON balances (owner_id, env, account_id, created_at DESC, id DESC);
CREATE INDEX balances_customer ON balances (owner_id, env, customer_id, created_at DESC, id DESC);
CREATE INDEX balances_available ON balances (owner_id, env, available_minor);
CREATE INDEX balances_ledger ON balances (owner_id, env, ledger_minor);

CREATE TABLE wallets (
    owner_id       TEXT NOT NULL REFERENCES owners(id),
    env            TEXT NOT NULL,
    balance_minor  BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (owner_id, env)
);

CREATE TABLE receipts (
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES owners(id),
    env              TEXT NOT NULL,
    record_id        TEXT,
    customer_id      TEXT,
    type             TEXT NOT NULL,
    billable_service TEXT NOT NULL,
    charge_minor     BIGINT NOT NULL,
    wallet_balance_minor BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    body             TEXT NOT NULL,       -- the receipt JSON as returned
    created_at       BIGINT NOT NULL
);
CREATE INDEX receipts_page ON receipts (owner_id, env, created_at DESC, id DESC);

CREATE TABLE idempotency_keys (
    owner_id      TEXT NOT NULL,
    env           TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        TEXT NOT NULL,          -- 'running' | 'done'
    response_status BIGINT,
    response_body TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (owner_id, env, key)
);
CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at);

-- Shared short-lived facts that must hold across processes: the 15-minute invalid-identity
-- negative cache, refresh debounce, rate-limit windows.
CREATE TABLE ephemeral (
    owner_id    TEXT NOT NULL,
    env         TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    counter     BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (owner_id, env, key)
);
CREATE INDEX ephemeral_expiry ON ephemeral (expires_at);

-- The background job queue (see okra-store/src/jobs.rs).
CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    owner_id      TEXT,
    env           TEXT,
    status        TEXT NOT NULL,          -- 'queued' | 'running' | 'done' | 'failed'
    run_at        BIGINT NOT NULL,
    attempts      BIGINT NOT NULL,
    max_attempts  BIGINT NOT NULL,
    lease_until   BIGINT,
    lease_token   TEXT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_lease ON jobs (status, lease_until);

-- Webhook outbox: one message per event, one attempt row per delivery try.
CREATE TABLE webhook_messages (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES owners(id),
    env         TEXT NOT NULL,
    record_id   TEXT,
    event_code  TEXT NOT NULL,
    url         TEXT NOT NULL,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL,            -- 'pending' | 'delivered' | 'failed'
    created_at  BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX webhook_messages_page ON webhook_messages (owner_id, env, created_at DESC, id DESC);
CREATE INDEX webhook_messages_record ON webhook_messages (owner_id, env, record_id);

CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES webhook_messages(id),
    owner_id     TEXT NOT NULL,
    env          TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (owner_id, env, message_id, attempt);

-- Faults an owner scripted for its sandbox (fault injection); read before each data-source call.
CREATE TABLE sandbox_faults (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES owners(id),
    env           TEXT NOT NULL,
    kind          TEXT NOT NULL,          -- bank_down | timeout | slow | otp_required | locked | invalid_credentials | invalid_identity | watch_listed | no_bvn
    bank_id       TEXT,                   -- only this bank; NULL: every bank
    target_idx    TEXT,                   -- blind index of the BVN or (bank, NUBAN) it is limited to; NULL: any
    target_masked TEXT,                   -- the masked target, for listing
    delay_ms      BIGINT NOT NULL,
    remaining     BIGINT,                  -- applications left; NULL: until deleted or expired
    expires_at    BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX sandbox_faults_owner ON sandbox_faults (owner_id, env, created_at);
