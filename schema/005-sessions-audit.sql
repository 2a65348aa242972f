-- quire: session management, bans and the audit log (API.md "Sessions",
-- "Bans and the audit log").

-- When a session was last used, written at most once a minute per session
-- (auth_resolve), never on every request. Existing sessions start from
-- their last extension, the nearest thing they have.
ALTER TABLE sessions ADD COLUMN last_used_at timestamptz;
UPDATE sessions SET last_used_at = updated_at;
ALTER TABLE sessions ALTER COLUMN last_used_at SET DEFAULT date_trunc('milliseconds', now()),
	ALTER COLUMN last_used_at SET NOT NULL;
-- GET /auth/sessions: one user's sessions, newest first. It serves every
-- lookup by user_id too (ending a user's sessions), so the plain index goes.
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS sessions_user_id_idx;

-- Bans, named as Better-Auth's admin plugin names them. A ban whose
-- ban_expires_at has passed is no ban: every reader checks the time, so
-- it lifts itself with no job to run.
ALTER TABLE users ADD COLUMN banned boolean NOT NULL DEFAULT false,
	ADD COLUMN ban_reason text CHECK (char_length(ban_reason) BETWEEN 1 AND 500),
	ADD COLUMN ban_expires_at timestamptz;

-- The audit log: one row per security event, written in the transaction
-- of the change it records (a rolled-back change leaves no row). No
-- foreign keys: the record outlives the users it names. It holds no
-- email, password, token or request body; request_id joins a row to the
-- request's log line. `quirectl prune` deletes rows older than
-- QUIRE_AUDIT_RETENTION_DAYS.
CREATE TABLE audit_log (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	at		timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	action		text NOT NULL CHECK (action IN ('signup', 'login',
			    'login_failed', 'logout', 'password_changed',
			    'password_reset_requested', 'password_reset',
			    'email_changed', 'email_verified', 'session_revoked',
			    'user_banned', 'user_unbanned', 'role_changed',
			    'user_deleted', 'two_factor_enabled',
			    'two_factor_disabled')),
	-- The signed-in user who made the request (for signup, login and
	-- login_failed the user signing in); null when nobody was.
	actor_id	uuid,
	-- The user the action concerns; null for a failed login of an
	-- unknown email.
	user_id		uuid,
	ip_address	text,
	request_id	text
);
-- GET /audit, newest first with the id as tie-break (the keyset of every
-- list), unfiltered, by user, by action; the same index serves prune.
-- Both filters together use the user's index and filter on the action: a
-- user's rows are few next to the whole log.
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_user_at_idx ON audit_log (user_id, at DESC, id DESC);
CREATE INDEX audit_log_action_at_idx ON audit_log (action, at DESC, id DESC);
