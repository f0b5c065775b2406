-- The hosted widget, after review (issue 13). 0019's comment says 128 bits: widget tokens carry
-- 192 random bits (32 base64url characters); login_attempts now counts every login of a link that
-- did not succeed (wrong credentials or code, a locked account, a one-time password asked for),
-- never reset. by_publishable is 1 when the link was made with the publishable key: the
-- integrator's page made it and holds its options, so the widget may post the whole onSuccess
-- payload back to it; a link the back end made with the secret key shows the page ids only.
ALTER TABLE link_sessions ADD COLUMN by_publishable BIGINT NOT NULL DEFAULT 0;
