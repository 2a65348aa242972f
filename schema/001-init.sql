-- quire: users, credential accounts, sessions, verifications and posts.
-- Column names follow the seed (Better-Auth/Drizzle) in snake_case; the API
-- turns them into camelCase. Timestamps are kept to the millisecond the
-- API shows, so the (created_at, id) order of every list is the order a
-- client sees.

CREATE TABLE users (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
	email		text NOT NULL,
	email_verified	boolean NOT NULL DEFAULT false,
	image		text,
	role		text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	updated_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
-- Emails are stored lower-cased; the index on lower() also guards rows
-- written by hand.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
-- GET /users: newest first, keyset on (created_at, id).
CREATE INDEX users_created_id_idx ON users (created_at DESC, id DESC);

-- Credential accounts hold the password hash (provider_id 'credential',
-- account_id = the user's id), as Better-Auth does.
CREATE TABLE accounts (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	provider_id	text NOT NULL DEFAULT 'credential',
	account_id	text NOT NULL,
	password	text,
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	updated_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	UNIQUE (provider_id, account_id)
);
CREATE INDEX accounts_user_id_idx ON accounts (user_id);

-- Sessions keep only a hash of the token: a leaked table yields no
-- usable token.
CREATE TABLE sessions (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash	text NOT NULL UNIQUE,
	expires_at	timestamptz NOT NULL,
	ip_address	text,
	user_agent	text,
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	updated_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE verifications (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	identifier	text NOT NULL,
	value		text NOT NULL,
	expires_at	timestamptz NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	updated_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX verifications_identifier_idx ON verifications (identifier);

CREATE TABLE posts (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	title		text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
	content		text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 100000),
	published	boolean NOT NULL DEFAULT false,
	author_id	uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	updated_at	timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
	-- 'simple' keeps search language-neutral: no stemming, no stop words.
	search		tsvector GENERATED ALWAYS AS
			    (to_tsvector('simple'::regconfig, title || ' ' || content)) STORED
);
-- GET /posts: published posts newest first, keyset on (created_at, id).
CREATE INDEX posts_published_created_idx ON posts (created_at DESC, id DESC) WHERE published;
-- GET /posts?authorId=: an author's posts (drafts included) newest first.
CREATE INDEX posts_author_created_idx ON posts (author_id, created_at DESC, id DESC);
-- GET /posts?q=: full-text search.
CREATE INDEX posts_search_idx ON posts USING gin (search);

-- Signup/login attempts per client address and per email, shared by
-- every worker and host. Unlogged: losing it in a crash only resets the
-- counters.
CREATE UNLOGGED TABLE auth_attempts (
	key		text PRIMARY KEY,
	window_start	timestamptz NOT NULL,
	count		integer NOT NULL
);
