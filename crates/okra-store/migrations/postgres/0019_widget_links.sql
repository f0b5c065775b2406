-- The hosted widget (issue 13). A link session is opened in a browser by a secret token (the
-- capability in its URL, 192 random bits; only its SHA-256 is kept, as for API keys), so that
-- link ids, which are ObjectIds and partly predictable, open nothing. A bank login made in the
-- widget is kept sealed on the session until the user picks accounts and agrees (login_enc: the
-- bank, the source's session, the hash of the page's one-time connect nonce, the time).
-- login_attempts counts logins that did not succeed (wrong credentials or code, a locked account,
-- a one-time password asked for); a link accepts no login after five. by_publishable is 1 when the
-- link was made with the publishable key (the integrator's page already holds its options, so the
-- widget may post the whole onSuccess payload back to it).
ALTER TABLE link_sessions ADD COLUMN token_hash TEXT;
ALTER TABLE link_sessions ADD COLUMN login_enc BYTEA;
ALTER TABLE link_sessions ADD COLUMN login_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE link_sessions ADD COLUMN by_publishable BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX link_sessions_token ON link_sessions (token_hash);
