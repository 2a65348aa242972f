-- quire: one-time tokens (password reset, email verification) and the mail
-- outbox (API.md "Account lifecycle", "Mail").
--
-- A token is kept only as its hash. One row per user and kind: asking
-- again overwrites the row, so the older token stops working and the table
-- holds at most two rows per user. A used token keeps its row (used_at set)
-- until the next one of its kind replaces it.
CREATE TABLE one_time_tokens (
	token_hash	text PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('reset', 'verify')),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- The address the token was issued for: a verification token for an
	-- address the user no longer has verifies nothing.
	email		text NOT NULL,
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	UNIQUE (user_id, kind)
);

-- Mail waiting for `quirectl mail-worker`. A request that must send mail
-- inserts here in the transaction of the change it announces; the worker
-- deletes the row once the mail server accepted the message (250), so
-- delivery is at least once. message_id and created_at (the Date header)
-- are fixed at insert, so a resend is the same message.
CREATE TABLE mail_outbox (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id	text NOT NULL UNIQUE,
	-- reset, verify, email_changed: what the logs name (never the body,
	-- which holds the token).
	kind		text NOT NULL,
	recipient	text NOT NULL,
	recipient_name	text NOT NULL DEFAULT '',
	subject		text NOT NULL,
	body		text NOT NULL,
	attempts	integer NOT NULL DEFAULT 0,
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	last_error	text,
	-- Set on a permanent refusal (5xx): kept, with last_error, for an
	-- operator; the worker does not try it again.
	failed_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);
-- The worker's claim: due messages, oldest due first.
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE failed_at IS NULL;
-- /metrics: queue length and the oldest waiting message.
CREATE INDEX mail_outbox_created_idx ON mail_outbox (created_at) WHERE failed_at IS NULL;
CREATE INDEX mail_outbox_failed_idx ON mail_outbox (failed_at) WHERE failed_at IS NOT NULL;
