-- Fingerprints of the keys this database's values are sealed and indexed under: an HMAC-SHA256 of a
-- fixed label under each key (never the key). A process whose local keys do not match refuses to
-- start, instead of sealing rows other processes cannot open.
CREATE TABLE key_fingerprints (
    kind        TEXT NOT NULL,          -- data | index
    key_id      INTEGER NOT NULL,        -- the data key's id; 0 for the index key
    fingerprint TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (kind, key_id)
);
