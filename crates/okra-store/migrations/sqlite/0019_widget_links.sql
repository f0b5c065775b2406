-- The hosted widget (issue 13). A link session is opened in a browser by a secret token (the
-- capability in its URL, 128 random bits; only its SHA-256 is kept, as for API keys), so that
-- link ids, which are ObjectIds and partly predictable, open nothing. A bank login made in the
-- widget is kept sealed on the session until the user picks accounts (login_enc: the bank and
-- the source's session). login_attempts counts failed logins in a row; a link stops accepting
-- logins after five, so a link cannot be used to guess a password.
ALTER TABLE link_sessions ADD COLUMN token_hash TEXT;
ALTER TABLE link_sessions ADD COLUMN login_enc BLOB;
ALTER TABLE link_sessions ADD COLUMN login_attempts INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX link_sessions_token ON link_sessions (token_hash);
