-- quire: two-factor authentication, TOTP (API.md "Two-factor
-- authentication").

-- two_factor_enabled is what the user views show and what login checks.
-- totp_secret is the TOTP secret sealed with crypto_secretbox under
-- QUIRE_SECRET_KEY: the 24-byte nonce, then the box (MAC and the 20-byte
-- secret); never the secret itself. It is set at setup and only counts
-- once enable has proved an app holds it. totp_last_step is the last
-- 30-second step whose code was accepted: a code of that step or an
-- earlier one is refused, so no code works twice.
ALTER TABLE users ADD COLUMN two_factor_enabled boolean NOT NULL DEFAULT false,
	ADD COLUMN totp_secret bytea CHECK (octet_length(totp_secret) = 60),
	ADD COLUMN totp_last_step bigint;

-- Backup codes: only their SHA-256 (they are random, 50 bits each, so a
-- slow hash buys nothing). used_at is set by the one login a code allows.
CREATE TABLE two_factor_backup_codes (
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash	text NOT NULL,
	used_at		timestamptz,
	PRIMARY KEY (user_id, code_hash)
);

-- The second step of a login: the password was right, a code is owed.
-- Only the hash of the challenge token is kept. It lives 5 minutes and
-- allows 5 codes (attempts counts them); used_at ends it.
CREATE TABLE two_factor_challenges (
	token_hash	text PRIMARY KEY,
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at	timestamptz NOT NULL,
	attempts	integer NOT NULL DEFAULT 0,
	used_at		timestamptz,
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
-- Ending a user's challenges (disable); `quirectl prune` by expiry.
CREATE INDEX two_factor_challenges_user_idx ON two_factor_challenges (user_id);
CREATE INDEX two_factor_challenges_expires_idx ON two_factor_challenges (expires_at);
