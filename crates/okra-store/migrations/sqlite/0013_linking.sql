-- Linking (issue 10): connections store each account's data-source reference, webhook settings per
-- owner and environment, and the webhook outbox with sealed bodies.

-- 1. The reference the data source gave an account (`account_ref`), passed back to it for balance
--    refreshes; sealed, since sources often build it from the NUBAN (`gtb:0123456789`). NULL for
--    accounts written before a connection recorded one (the simulated network then takes the
--    NUBAN itself).
ALTER TABLE accounts ADD COLUMN account_ref_enc BLOB;

-- 2. The ids of the accounts a connection brought, as a JSON array (an account found again by a
--    later connection points at that one, so `accounts.record_id` cannot tell an older record's).
ALTER TABLE records ADD COLUMN accounts TEXT;

-- 3. The default webhook URL and bearer token of an owner in one environment (`okra-server
--    webhooks url|token`); a link's callback_url/webhook_url option wins over the URL.
CREATE TABLE webhook_settings (
    id          TEXT PRIMARY KEY,         -- '<owner_id>:<env>' (data-key rotation walks tables by id)
    owner_id    TEXT NOT NULL REFERENCES owners(id),
    env         TEXT NOT NULL,
    url         TEXT,
    token_enc   BLOB,                     -- the bearer token, sealed
    updated_at  INTEGER NOT NULL
);

-- 4. The outbox. The first schema kept bodies in plain text; webhook bodies carry names, BVNs and
--    balances, so they are sealed like every other personal datum. Nothing wrote these tables yet.
DROP TABLE webhook_attempts;
DROP TABLE webhook_messages;

-- One message per event. Its id is the `webhook-id` header, the same on every attempt.
CREATE TABLE webhook_messages (
    id               TEXT PRIMARY KEY,
    owner_id         TEXT NOT NULL REFERENCES owners(id),
    env              TEXT NOT NULL,
    record_id        TEXT,
    event_code       TEXT NOT NULL,       -- AUTH_SUCCESS, IDENTITY_IS_READY, BALANCE_FAILED, ...
    url              TEXT NOT NULL,
    body_enc         BLOB NOT NULL,       -- the JSON body, sealed
    status           TEXT NOT NULL,       -- 'pending' | 'delivered' | 'failed' | 'disabled'
    attempts         INTEGER NOT NULL,
    last_status_code INTEGER,
    next_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL,
    last_updated     INTEGER NOT NULL
);
CREATE INDEX webhook_messages_page ON webhook_messages (owner_id, env, created_at DESC, id DESC);
CREATE INDEX webhook_messages_record ON webhook_messages (owner_id, env, record_id, created_at);
-- The pending messages to one URL (a 410 Gone stops them all).
CREATE INDEX webhook_messages_pending ON webhook_messages (owner_id, env, url) WHERE status = 'pending';

-- One row per delivery attempt (`webhooks/deliveries` lists them, newest first).
CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES webhook_messages(id),
    owner_id     TEXT NOT NULL,
    env          TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    url          TEXT NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_page ON webhook_attempts (owner_id, env, created_at DESC, id DESC);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, attempt);

-- 5. The job queue's ready index carries the claim's tie-breaker, so the first due job is the
--    first entry of an index search (no sort of every due job at each claim).
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (status, run_at, id);

-- 6. Link sessions keep their buildWithOptions options sealed: they may carry a customer's BVN
--    (`customer.bvn`) and okra-js' `token`. Nothing wrote the first schema's table.
DROP TABLE link_sessions;
CREATE TABLE link_sessions (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES owners(id),
    env         TEXT NOT NULL,
    options_enc BLOB NOT NULL,         -- JSON buildWithOptions options, sealed
    status      TEXT NOT NULL,            -- 'open' | 'completed'
    record_id   TEXT,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX link_sessions_page ON link_sessions (owner_id, env, created_at DESC, id DESC);
