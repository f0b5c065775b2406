-- The accounts identities were verified by (issue 11, review): one row per account, naming the
-- identity its latest nuban-verify stored or refreshed. A column on the identity held one account
-- only, so verifying a person by a second account lost the first (identity/getByNuban answered
-- 400 for it, refresh:false asked the source again).
CREATE TABLE identity_accounts (
    owner_id     TEXT NOT NULL,
    env          TEXT NOT NULL,
    nuban_idx    TEXT NOT NULL,            -- blind index of (bank, NUBAN), as accounts keep it
    identity_id  TEXT NOT NULL,
    verified_at  INTEGER NOT NULL,
    PRIMARY KEY (owner_id, env, nuban_idx)
);

INSERT INTO identity_accounts (owner_id, env, nuban_idx, identity_id, verified_at)
SELECT owner_id, env, nuban_idx, MAX(id), MAX(last_updated) FROM identities
WHERE nuban_idx IS NOT NULL
GROUP BY owner_id, env, nuban_idx;

DROP INDEX identities_nuban;
ALTER TABLE identities DROP COLUMN nuban_idx;
