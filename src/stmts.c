/*
 * All SQL of quire. Timestamps come back as text in the session's ISO
 * style in UTC (stmt_settings below), which the handlers reformat as
 * RFC 3339; doing it here in SQL would spend the database's CPU.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>

#include "stmts.h"

/*
 * A ban in force on the user row t: one whose end has passed is none
 * (it lifts itself, API.md "Bans"), so every reader checks the time.
 */
#define BAN_ACTIVE(t) "(" t ".banned AND (" t ".ban_expires_at IS NULL OR " \
	t ".ban_expires_at > now()))"
/* user.c reads them in this order; the ban's columns are null when none is in force. */
#define USER_COLS "u.id, u.name, u.email, u.email_verified, u.image, " \
	"u.role, u.created_at, u.updated_at, " BAN_ACTIVE("u") ", CASE WHEN " \
	BAN_ACTIVE("u") " THEN u.ban_reason END, CASE WHEN " BAN_ACTIVE("u") \
	" THEN u.ban_expires_at END, u.two_factor_enabled"
/*
 * A session of the row s that has not ended: neither its sliding expiry
 * nor its absolute age (param: QUIRE_SESSION_MAX_AGE in seconds) has
 * passed. The stored expiry is capped at the absolute age when written;
 * the second test holds a lowered QUIRE_SESSION_MAX_AGE at once.
 */
#define LIVE(s, max_age) "(" s ".expires_at > now() AND " s ".created_at > " \
	"now() - " max_age " * interval '1 second')"
/* The session's expiresAt: the earlier of the two limits. */
#define EXPIRES(s, max_age) "LEAST(" s ".expires_at, " s ".created_at + " \
	max_age " * interval '1 second')"
/* The audit row of a statement that records its own change (audit.h). */
#define AUDIT_INTO "INSERT INTO audit_log (action, actor_id, user_id, " \
	"ip_address, request_id) "
/* A post and its author's name; post.c reads them in this order. */
#define POST_COLS "p.id, p.title, p.content, p.published, p.author_id, " \
	"u.name, p.created_at, p.updated_at"
#define POST_FROM " FROM posts p JOIN users u ON u.id = p.author_id "
/* Newest first with the id as tie-break: the keyset of every list. */
#define NEWEST " ORDER BY p.created_at DESC, p.id DESC "
#define VISIBLE(author, drafts) " (p.published OR (" drafts " AND p.author_id = " author ")) "

/*
 * Generic plans always: with the default (auto), a statement whose LIMIT
 * is a parameter is planned afresh on every execution, because the
 * generic plan's cost assumes LIMIT is 10 % of the table and so always
 * looks worse than the custom one. Planning then costs more than running
 * the query: pgbench with GET /posts?limit=20's statement went from
 * ~6,600 to ~12,000 tx/s on the bench machine. The generic plans of the
 * catalogue were checked with EXPLAIN (bench/README.md): each uses the
 * index the custom plan would; search stays on its GIN index.
 */
const struct stmt_setting stmt_settings[] = {
	{ "TimeZone", "UTC" },
	{ "DateStyle", "ISO,YMD" },
	{ "plan_cache_mode", "force_generic_plan" },
	{ NULL, NULL },
};

const struct stmt_def stmt_defs[STMT__MAX] = {
	[STMT_PING] = { "ping", "SELECT 1", 0, STMT_READ },
	/*
	 * Lag is 0 when the replica has replayed all it received (an idle
	 * primary sends nothing, which is not lag); otherwise the age of
	 * the last replayed transaction.
	 */
	[STMT_REPLICA_STATUS] = { "replica_status",
	    "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() "
	    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
	    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - "
	    "pg_last_xact_replay_timestamp()), 0) END::float8, "
	    "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
	    "ELSE pg_current_wal_lsn() END)::text",
	    0, STMT_READ },
	/*
	 * Where the primary's WAL ends, right after a commit: a replica that
	 * has replayed this far shows that commit (read-your-writes).
	 */
	[STMT_WAL_LSN] = { "wal_lsn", "SELECT pg_current_wal_lsn()::text", 0, 0 },
	[STMT_BEGIN] = { "begin", "BEGIN", 0, STMT_WRITE | STMT_PLAIN },
	[STMT_COMMIT] = { "commit", "COMMIT", 0, STMT_WRITE | STMT_PLAIN },
	[STMT_ROLLBACK] = { "rollback", "ROLLBACK", 0, STMT_WRITE | STMT_PLAIN },

	/*
	 * $1 name, $2 email, $3 role. Every email here is in canonical form
	 * (email.h) and compared byte for byte: a folding in SQL (lower())
	 * could disagree with the application's.
	 */
	[STMT_USER_INSERT] = { "user_insert",
	    "INSERT INTO users AS u (name, email, role) VALUES ($1, $2, $3) "
	    "RETURNING " USER_COLS, 3, STMT_WRITE },
	/* $1 user id, $2 password hash */
	[STMT_ACCOUNT_INSERT] = { "account_insert",
	    "INSERT INTO accounts (user_id, account_id, provider_id, password) "
	    "VALUES ($1::uuid, $1::uuid::text, 'credential', $2)", 2, STMT_WRITE },
	/* $1 canonical email */
	/*
	 * A read, run on the primary (DB_PRIMARY): a password changed a
	 * moment ago must not still let the old one in from a replica.
	 */
	[STMT_LOGIN_LOOKUP] = { "login_lookup",
	    "SELECT " USER_COLS ", a.id, a.password FROM users u "
	    "JOIN accounts a ON a.user_id = u.id AND a.provider_id = 'credential' "
	    "WHERE u.email = $1", 1, STMT_READ },
	/* $1 account id, $2 new hash */
	[STMT_ACCOUNT_REHASH] = { "account_rehash",
	    "UPDATE accounts SET password = $2, updated_at = date_trunc('milliseconds', now()) WHERE id = $1",
	    2, STMT_WRITE },
	/*
	 * $1 user id, $2 token hash, $3 ttl seconds, $4 address, $5 user
	 * agent, $6 absolute age in seconds, $7 audit action (signup, login),
	 * $8 request id. The audit row goes in with the session: the user
	 * signing in is actor and subject.
	 */
	[STMT_SESSION_INSERT] = { "session_insert",
	    "WITH s AS (INSERT INTO sessions (user_id, token_hash, expires_at, "
	    "ip_address, user_agent) VALUES ($1, $2, LEAST(now() + $3 * "
	    "interval '1 second', now() + $6 * interval '1 second'), $4, $5) "
	    "RETURNING id, expires_at, created_at, user_id), "
	    "a AS (" AUDIT_INTO "SELECT $7::text, s.user_id, s.user_id, $4::text, "
	    "$8::text FROM s) SELECT id, expires_at, created_at FROM s",
	    8, STMT_WRITE },
	/*
	 * $1 token hash, $2 absolute age in seconds. One indexed lookup
	 * returns the session and its user; "slide" says the expiry should
	 * move forward, "seen" that last_used_at is over a minute old. A
	 * banned user's session is refused too: a login racing the ban may
	 * have made one after the ban ended the others.
	 */
	[STMT_SESSION_LOOKUP] = { "session_lookup",
	    "SELECT s.id, " EXPIRES("s", "$2") ", s.created_at, "
	    "s.updated_at < now() - interval '1 day', "
	    "s.last_used_at < now() - interval '1 minute', " USER_COLS " "
	    "FROM sessions s JOIN users u ON u.id = s.user_id "
	    "WHERE s.token_hash = $1 AND " LIVE("s", "$2") " AND NOT "
	    BAN_ACTIVE("u"), 2, STMT_READ },
	/* $1 session id, $2 ttl seconds, $3 absolute age in seconds */
	[STMT_SESSION_TOUCH] = { "session_touch",
	    "UPDATE sessions SET expires_at = LEAST(now() + $2 * interval "
	    "'1 second', created_at + $3 * interval '1 second'), "
	    "updated_at = date_trunc('milliseconds', now()), "
	    "last_used_at = date_trunc('milliseconds', now()) WHERE id = $1 "
	    "RETURNING expires_at", 3, STMT_WRITE },
	/*
	 * $1 session id, $2 user id, $3 absolute age in seconds, $4 audit
	 * action (logout, session_revoked), $5 address, $6 request id. Ends
	 * one session of the user; "live" is false when it had ended already
	 * (the row goes anyway, and no audit row is written).
	 */
	[STMT_SESSION_DELETE] = { "session_delete",
	    "WITH d AS (DELETE FROM sessions s WHERE s.id = $1 AND s.user_id = $2 "
	    "RETURNING " LIVE("s", "$3") " AS live), "
	    "a AS (" AUDIT_INTO "SELECT $4::text, $2::uuid, $2::uuid, $5::text, "
	    "$6::text FROM d WHERE d.live) SELECT live FROM d", 6, STMT_WRITE },
	[STMT_SESSIONS_PURGE_USER] = { "sessions_purge_user",
	    "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= now()",
	    1, STMT_WRITE },
	[STMT_SESSIONS_PURGE] = { "sessions_purge",
	    "DELETE FROM sessions WHERE expires_at <= now()", 0, STMT_WRITE },
	/*
	 * $1 address key, $2 email key. One fixed one-minute window per
	 * key; returns the larger count and the seconds left in the window.
	 */
	[STMT_RATE_HIT] = { "rate_hit",
	    "INSERT INTO auth_attempts AS a (key, window_start, count) "
	    "SELECT k, date_trunc('minute', now()), 1 FROM unnest(ARRAY[$1, $2]::text[]) k "
	    "WHERE k IS NOT NULL "
	    "ON CONFLICT (key) DO UPDATE SET "
	    "count = CASE WHEN a.window_start = EXCLUDED.window_start "
	    "THEN a.count + 1 ELSE 1 END, window_start = EXCLUDED.window_start "
	    "RETURNING count, ceil(EXTRACT(EPOCH FROM window_start + "
	    "interval '1 minute' - now()))::int", 2, STMT_WRITE },
	[STMT_RATE_PURGE] = { "rate_purge",
	    "DELETE FROM auth_attempts WHERE window_start < now() - "
	    "interval '2 minutes'", 0, STMT_WRITE },

	/* Lists fetch limit + 1 rows: the extra row says a next page exists. */
	[STMT_USERS_OFFSET] = { "users_offset",
	    "SELECT " USER_COLS " FROM users u ORDER BY u.created_at DESC, "
	    "u.id DESC LIMIT $1 OFFSET $2", 2, STMT_READ },
	[STMT_USERS_AFTER] = { "users_after",
	    "SELECT " USER_COLS " FROM users u WHERE (u.created_at, u.id) < "
	    "($1::timestamptz, $2::uuid) ORDER BY u.created_at DESC, u.id DESC "
	    "LIMIT $3", 3, STMT_READ },
	[STMT_USER_GET] = { "user_get",
	    "SELECT " USER_COLS " FROM users u WHERE u.id = $1", 1, STMT_READ },
	/*
	 * $1 id, $2 name, $3 email, $4 image given, $5 image, $6 role:
	 * NULL leaves a column as it is; image may be set to NULL.
	 */
	[STMT_USER_UPDATE] = { "user_update",
	    "UPDATE users AS u SET name = COALESCE($2, u.name), "
	    "email = COALESCE($3, u.email), "
	    "email_verified = CASE WHEN $3 IS NOT NULL AND $3 <> u.email THEN "
	    "false ELSE u.email_verified END, "
	    "image = CASE WHEN $4::bool THEN $5 ELSE u.image END, "
	    "role = COALESCE($6, u.role), updated_at = date_trunc('milliseconds', now()) "
	    "WHERE u.id = $1 RETURNING " USER_COLS, 6, STMT_WRITE },
	[STMT_USER_DELETE] = { "user_delete",
	    "DELETE FROM users WHERE id = $1 RETURNING id", 1, STMT_WRITE },
	[STMT_ACCOUNT_SET_PASSWORD] = { "account_set_password",
	    "INSERT INTO accounts (user_id, account_id, provider_id, password) "
	    "VALUES ($1::uuid, $1::uuid::text, 'credential', $2) ON CONFLICT "
	    "(provider_id, account_id) DO UPDATE SET password = EXCLUDED.password, "
	    "updated_at = date_trunc('milliseconds', now())", 2, STMT_WRITE },
	[STMT_SESSIONS_END_USER] = { "sessions_end_user",
	    "DELETE FROM sessions WHERE user_id = $1", 1, STMT_WRITE },
	/* $1 user id, $2 the session to keep */
	[STMT_SESSIONS_END_OTHERS] = { "sessions_end_others",
	    "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", 2, STMT_WRITE },

	/*
	 * $1 title, $2 content, $3 published, $4 author id, $5 author name.
	 * The name comes from the caller's session (read in the same
	 * request), not from a join: a plain INSERT measured ~30 % more
	 * inserts per second in pgbench than one joined to users.
	 */
	[STMT_POST_INSERT] = { "post_insert",
	    "INSERT INTO posts (title, content, published, author_id) "
	    "VALUES ($1, $2, $3, $4) RETURNING id, title, content, published, "
	    "author_id, $5::text, created_at, updated_at", 5, STMT_WRITE },
	[STMT_POST_GET] = { "post_get",
	    "SELECT " POST_COLS POST_FROM "WHERE p.id = $1", 1, STMT_READ },
	/* $1 id, $2 title, $3 content, $4 published: NULL leaves it as it is */
	[STMT_POST_UPDATE] = { "post_update",
	    "WITH p AS (UPDATE posts SET title = COALESCE($2, title), "
	    "content = COALESCE($3, content), published = COALESCE($4, published), "
	    "updated_at = date_trunc('milliseconds', now()) WHERE id = $1 RETURNING *) SELECT " POST_COLS
	    " FROM p JOIN users u ON u.id = p.author_id", 4, STMT_WRITE },
	[STMT_POST_DELETE] = { "post_delete",
	    "DELETE FROM posts WHERE id = $1 RETURNING id", 1, STMT_WRITE },
	/* Published posts: $1 limit, $2 offset / $1 ts, $2 id, $3 limit */
	[STMT_POSTS_PUB_OFFSET] = { "posts_pub_offset",
	    "SELECT " POST_COLS POST_FROM "WHERE p.published" NEWEST
	    "LIMIT $1 OFFSET $2", 2, STMT_READ },
	[STMT_POSTS_PUB_AFTER] = { "posts_pub_after",
	    "SELECT " POST_COLS POST_FROM "WHERE p.published AND "
	    "(p.created_at, p.id) < ($1::timestamptz, $2::uuid)" NEWEST
	    "LIMIT $3", 3, STMT_READ },
	/* One author's posts; $2 includes drafts. */
	[STMT_POSTS_AUTHOR_OFFSET] = { "posts_author_offset",
	    "SELECT " POST_COLS POST_FROM "WHERE p.author_id = $1 AND "
	    "(p.published OR $2::bool)" NEWEST "LIMIT $3 OFFSET $4", 4, STMT_READ },
	[STMT_POSTS_AUTHOR_AFTER] = { "posts_author_after",
	    "SELECT " POST_COLS POST_FROM "WHERE p.author_id = $1 AND "
	    "(p.published OR $2::bool) AND (p.created_at, p.id) < "
	    "($3::timestamptz, $4::uuid)" NEWEST "LIMIT $5", 5, STMT_READ },
	/* Full-text search; $2 author or NULL, $3 includes that author's drafts. */
	[STMT_POSTS_SEARCH_OFFSET] = { "posts_search_offset",
	    "SELECT " POST_COLS POST_FROM "WHERE p.search @@ "
	    "websearch_to_tsquery('simple', $1) AND ($2::uuid IS NULL OR "
	    "p.author_id = $2) AND" VISIBLE("$2", "$3::bool") NEWEST
	    "LIMIT $4 OFFSET $5", 5, STMT_READ },
	[STMT_POSTS_SEARCH_AFTER] = { "posts_search_after",
	    "SELECT " POST_COLS POST_FROM "WHERE p.search @@ "
	    "websearch_to_tsquery('simple', $1) AND ($2::uuid IS NULL OR "
	    "p.author_id = $2) AND" VISIBLE("$2", "$3::bool") "AND "
	    "(p.created_at, p.id) < ($4::timestamptz, $5::uuid)" NEWEST
	    "LIMIT $6", 6, STMT_READ },

	/* $1 user id: the credential hash, for re-authentication. On the primary. */
	[STMT_ACCOUNT_HASH] = { "account_hash",
	    "SELECT a.password FROM accounts a WHERE a.user_id = $1 AND "
	    "a.provider_id = 'credential'", 1, STMT_READ },
	/*
	 * A one-time token and the mail that carries it, in one statement:
	 * $1 the user (id or canonical email), $2 kind, $3 token hash,
	 * $4 lifetime in seconds, $5 Message-ID domain, $6 subject, $7 body,
	 * $8 seconds a pending token of this kind holds off a new one (0:
	 * always issue). The token row is keyed on (user, kind), so a new
	 * token replaces the older one. An unknown user inserts nothing, in
	 * the same round trip: the answer and its time do not tell. The
	 * NOTIFY wakes `quirectl mail-worker` at commit, also when nothing
	 * was queued: the worker's look costs the same either way. $9 an
	 * audit action or NULL, $10 address, $11 request id: a token issued
	 * writes that row (no actor: for the reset request nobody is signed in).
	 */
#define MAIL_LINK(where)						\
	    "WITH u AS (SELECT id, name, email FROM users WHERE " where "), "	\
	    "t AS (INSERT INTO one_time_tokens AS o (token_hash, kind, user_id, " \
	    "email, expires_at) SELECT $3, $2, u.id, u.email, now() + $4 * "	\
	    "interval '1 second' FROM u ON CONFLICT (user_id, kind) DO UPDATE " \
	    "SET token_hash = EXCLUDED.token_hash, email = EXCLUDED.email, "	\
	    "expires_at = EXCLUDED.expires_at, used_at = NULL, "		\
	    "created_at = EXCLUDED.created_at WHERE o.used_at IS NOT NULL OR " \
	    "o.email <> EXCLUDED.email OR o.created_at <= now() - $8 * "	\
	    "interval '1 second' RETURNING user_id), "				\
	    "m AS (INSERT INTO mail_outbox (message_id, kind, recipient, "	\
	    "recipient_name, subject, body) SELECT '<' || gen_random_uuid() || " \
	    "'@' || $5 || '>', $2, u.email, u.name, $6, $7 FROM u JOIN t ON "	\
	    "t.user_id = u.id RETURNING 1), "					\
	    "a AS (" AUDIT_INTO "SELECT $9::text, NULL::uuid, t.user_id, "	\
	    "$10::text, $11::text FROM t WHERE $9::text IS NOT NULL) "		\
	    "SELECT pg_notify('quire_mail', ''), (SELECT count(*) FROM m)"
	[STMT_MAIL_LINK_BY_ID] = { "mail_link_by_id",
	    MAIL_LINK("id = $1::uuid"), 11, STMT_WRITE },
	[STMT_MAIL_LINK_BY_EMAIL] = { "mail_link_by_email",
	    MAIL_LINK("email = $1"), 11, STMT_WRITE },
#undef MAIL_LINK
	/* $1 kind, $2 recipient, $3 name, $4 Message-ID domain, $5 subject, $6 body */
	[STMT_MAIL_NOTICE] = { "mail_notice",
	    "WITH m AS (INSERT INTO mail_outbox (message_id, kind, recipient, "
	    "recipient_name, subject, body) VALUES ('<' || gen_random_uuid() || "
	    "'@' || $4 || '>', $1, $2, $3, $5, $6) RETURNING 1) "
	    "SELECT pg_notify('quire_mail', '') FROM m", 6, STMT_WRITE },
	/*
	 * $1 token hash, $2 kind: the current email of the token's user,
	 * whatever the token's state (the rate limit's key), and whether the
	 * token may still be used. On the primary.
	 */
	[STMT_TOKEN_PEEK] = { "token_peek",
	    "SELECT u.email, t.used_at IS NULL AND t.expires_at > now() AND "
	    "u.email = t.email FROM one_time_tokens t JOIN users u ON u.id = "
	    "t.user_id WHERE t.token_hash = $1 AND t.kind = $2", 2, STMT_READ },
	/*
	 * $1 token hash, $2 kind: uses the token once (a concurrent second
	 * use waits for the row and then finds used_at set) and marks the
	 * email verified: both reset and verification prove the mailbox. A
	 * token for an address the user no longer has matches nothing.
	 */
	[STMT_TOKEN_REDEEM] = { "token_redeem",
	    "WITH t AS (UPDATE one_time_tokens o SET used_at = now() FROM users x "
	    "WHERE o.token_hash = $1 AND o.kind = $2 AND o.used_at IS NULL AND "
	    "o.expires_at > now() AND x.id = o.user_id AND x.email = o.email "
	    "RETURNING o.user_id) UPDATE users AS u SET email_verified = true, "
	    "updated_at = date_trunc('milliseconds', now()) FROM t WHERE u.id = "
	    "t.user_id RETURNING " USER_COLS, 2, STMT_WRITE },
	/*
	 * /metrics: the outbox's waiting messages, the age of the oldest in
	 * seconds, and the failed ones; each on a partial index.
	 */
	[STMT_MAIL_STATS] = { "mail_stats",
	    "SELECT (SELECT count(*) FROM mail_outbox WHERE failed_at IS NULL), "
	    "COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM "
	    "mail_outbox WHERE failed_at IS NULL), 0)::float8, "
	    "(SELECT count(*) FROM mail_outbox WHERE failed_at IS NOT NULL)",
	    0, STMT_READ },
	/*
	 * $1 a user id, or "*" for every user (revoke.h). Sent after the
	 * change committed, so the position read here covers it, and the
	 * notification goes out when this statement's own transaction
	 * commits. Functions in FROM see the ones before them.
	 */
	[STMT_REVOKE_NOTIFY] = { "revoke_notify",
	    "SELECT l::text FROM pg_current_wal_lsn() AS l, "
	    "pg_notify('quire_revoke', $1::text || ' ' || l::text) AS n",
	    1, 0 },
	/* The listener's connection: one per host (notify.c). */
	[STMT_LISTEN_REVOKE] = { "listen_revoke", "LISTEN quire_revoke", 0,
	    STMT_ADMIN | STMT_PLAIN },
	/* Still the primary, and where its WAL ends (NULL on a standby). */
	[STMT_LISTENER_STATUS] = { "listener_status",
	    "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN "
	    "NULL ELSE pg_current_wal_lsn()::text END", 0, STMT_ADMIN | STMT_PLAIN },

	/* --- Sessions, bans and the audit log (issue #19) --- */
	/* $1 session id: last_used_at, at most once a minute (auth_resolve). */
	[STMT_SESSION_SEEN] = { "session_seen",
	    "UPDATE sessions SET last_used_at = date_trunc('milliseconds', now()) "
	    "WHERE id = $1 AND last_used_at < now() - interval '1 minute'",
	    1, STMT_WRITE | STMT_QUIET },
	/*
	 * $1 user id, $2 absolute age in seconds: the user's sessions that
	 * have not ended, newest first, at most 100. One row with a null id
	 * when the user has none, no row when there is no such user.
	 */
	[STMT_SESSIONS_LIST] = { "sessions_list",
	    "SELECT s.id, s.created_at, s.last_used_at, s.expires, s.ip_address, "
	    "s.user_agent FROM users u LEFT JOIN LATERAL (SELECT x.id, "
	    "x.created_at, x.last_used_at, " EXPIRES("x", "$2") " AS expires, "
	    "x.ip_address, x.user_agent FROM sessions x WHERE x.user_id = u.id "
	    "AND " LIVE("x", "$2") " ORDER BY x.created_at DESC, x.id DESC "
	    "LIMIT 100) s ON true WHERE u.id = $1 "
	    "ORDER BY s.created_at DESC, s.id DESC", 2, STMT_READ },
	/*
	 * $1 user id, $2 the session to keep, $3 absolute age in seconds,
	 * $4 audit action (session_revoked), $5 address, $6 request id: ends
	 * every other session of the user (ended ones are swept too) and
	 * counts those that had not ended. One audit row when any had not.
	 */
	[STMT_SESSIONS_REVOKE_OTHERS] = { "sessions_revoke_others",
	    "WITH d AS (DELETE FROM sessions s WHERE s.user_id = $1 AND s.id <> $2 "
	    "RETURNING " LIVE("s", "$3") " AS live), "
	    "a AS (" AUDIT_INTO "SELECT $4::text, $1::uuid, $1::uuid, $5::text, "
	    "$6::text WHERE EXISTS (SELECT 1 FROM d WHERE d.live)) "
	    "SELECT count(*) FILTER (WHERE live) FROM d", 6, STMT_WRITE },
	/*
	 * $1 user id, $2 actor id, $3 absolute age in seconds, $4 audit
	 * action (session_revoked), $5 address, $6 request id: an admin ends
	 * every session of the user. Returns whether the user exists and
	 * how many sessions that had not ended it ended.
	 */
	[STMT_SESSIONS_REVOKE_USER] = { "sessions_revoke_user",
	    "WITH u AS (SELECT id FROM users WHERE id = $1), "
	    "d AS (DELETE FROM sessions s USING u WHERE s.user_id = u.id "
	    "RETURNING " LIVE("s", "$3") " AS live), "
	    "a AS (" AUDIT_INTO "SELECT $4::text, $2::uuid, $1::uuid, $5::text, "
	    "$6::text WHERE EXISTS (SELECT 1 FROM d WHERE d.live)) "
	    "SELECT (SELECT count(*) FROM u), "
	    "(SELECT count(*) FILTER (WHERE live) FROM d)", 6, STMT_WRITE },
	/*
	 * $1 user id, $2 reason or NULL, $3 seconds or NULL (no end). A new
	 * ban replaces the one in force.
	 */
	[STMT_USER_BAN] = { "user_ban",
	    "UPDATE users AS u SET banned = true, ban_reason = $2, "
	    "ban_expires_at = date_trunc('milliseconds', now()) + $3::int * "
	    "interval '1 second', updated_at = date_trunc('milliseconds', now()) "
	    "WHERE u.id = $1 RETURNING " USER_COLS, 3, STMT_WRITE },
	/*
	 * $1 user id: lifts the ban, and says whether one was in force (an
	 * expired one is cleared too, but lifted nothing).
	 */
	[STMT_USER_UNBAN] = { "user_unban",
	    "WITH o AS (SELECT x.id, " BAN_ACTIVE("x") " AS was FROM users x "
	    "WHERE x.id = $1 FOR UPDATE) UPDATE users AS u SET banned = false, "
	    "ban_reason = NULL, ban_expires_at = NULL, updated_at = CASE WHEN "
	    "u.banned THEN date_trunc('milliseconds', now()) ELSE u.updated_at "
	    "END FROM o WHERE u.id = o.id RETURNING " USER_COLS ", o.was",
	    1, STMT_WRITE },
	/* $1 action, $2 actor id, $3 user id, $4 address, $5 request id (audit_write) */
	[STMT_AUDIT_INSERT] = { "audit_insert",
	    AUDIT_INTO "VALUES ($1, $2, $3, $4, $5)", 5, STMT_WRITE },
	/*
	 * GET /audit: newest first, keyset on (at, id), one statement per
	 * filter so each has its own index (schema/005-sessions-audit.sql).
	 * The first page starts from ('infinity', the largest UUID), so the
	 * keyset serves it too; offset is the contract's offset (0 with a
	 * cursor). The filters come first, then ts, id, limit, offset.
	 */
#define AUDIT_PAGE(where, ts, id, lim, off)				\
	    "SELECT a.id, a.at, a.action, a.actor_id, a.user_id, "		\
	    "a.ip_address, a.request_id FROM audit_log a WHERE " where	\
	    "(a.at, a.id) < (" ts "::timestamptz, " id "::uuid) "		\
	    "ORDER BY a.at DESC, a.id DESC LIMIT " lim " OFFSET " off
	[STMT_AUDIT_PAGE] = { "audit_page",
	    AUDIT_PAGE("", "$1", "$2", "$3", "$4"), 4, STMT_READ },
	[STMT_AUDIT_PAGE_USER] = { "audit_page_user",
	    AUDIT_PAGE("a.user_id = $1 AND ", "$2", "$3", "$4", "$5"), 5, STMT_READ },
	[STMT_AUDIT_PAGE_ACTION] = { "audit_page_action",
	    AUDIT_PAGE("a.action = $1 AND ", "$2", "$3", "$4", "$5"), 5, STMT_READ },
	[STMT_AUDIT_PAGE_BOTH] = { "audit_page_both",
	    AUDIT_PAGE("a.user_id = $1 AND a.action = $2 AND ", "$3", "$4", "$5",
	    "$6"), 6, STMT_READ },
#undef AUDIT_PAGE
	/*
	 * quirectl prune: each deletes one batch ($N rows at most) and is its
	 * own transaction; rows a request holds are skipped, not waited for.
	 * $1 absolute session age in seconds, $2 batch.
	 */
	[STMT_PRUNE_SESSIONS] = { "prune_sessions",
	    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions s WHERE "
	    "NOT " LIVE("s", "$1") " LIMIT $2 FOR UPDATE SKIP LOCKED)",
	    2, STMT_ADMIN },
	/* $1 batch: used or expired one-time tokens. */
	[STMT_PRUNE_TOKENS] = { "prune_tokens",
	    "DELETE FROM one_time_tokens WHERE token_hash IN (SELECT token_hash "
	    "FROM one_time_tokens WHERE used_at IS NOT NULL OR expires_at <= now() "
	    "LIMIT $1 FOR UPDATE SKIP LOCKED)", 1, STMT_ADMIN },
	/* $1 retention in days, $2 batch. */
	[STMT_PRUNE_AUDIT] = { "prune_audit",
	    "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE "
	    "at < now() - $1 * interval '1 day' LIMIT $2 FOR UPDATE SKIP LOCKED)",
	    2, STMT_ADMIN },
	/* --- end of issue #19's block --- */

	/*
	 * --- Two-factor authentication (issue #21) ---
	 * The sealed secret travels as hex (totp.h: nonce, then box). Every
	 * statement that reads it for a code check locks the user's row, so
	 * two requests cannot both accept codes against one last step.
	 */
	/* $1 user id: 2FA on, the sealed secret or NULL, the last accepted step or NULL. */
	[STMT_TFA_LOCK] = { "tfa_lock",
	    "SELECT two_factor_enabled, encode(totp_secret, 'hex'), totp_last_step "
	    "FROM users WHERE id = $1 FOR UPDATE", 1, STMT_WRITE },
	/*
	 * $1 user id, $2 sealed secret: a fresh secret that counts for
	 * nothing until enable; replaces a pending one. No row: 2FA is on.
	 */
	[STMT_TFA_SETUP] = { "tfa_setup",
	    "UPDATE users SET totp_secret = decode($2, 'hex'), totp_last_step = "
	    "NULL WHERE id = $1 AND NOT two_factor_enabled RETURNING 1",
	    2, STMT_WRITE },
	/*
	 * $1 user id, $2 the sealed secret the code was checked against (a
	 * setup since then replaced it: no row), $3 the code's step, which
	 * counts as accepted.
	 */
	[STMT_TFA_ENABLE] = { "tfa_enable",
	    "UPDATE users AS u SET two_factor_enabled = true, totp_last_step = $3, "
	    "updated_at = date_trunc('milliseconds', now()) WHERE u.id = $1 AND "
	    "NOT u.two_factor_enabled AND u.totp_secret = decode($2, 'hex') "
	    "RETURNING " USER_COLS, 3, STMT_WRITE },
	/* $1 user id, $2 step: a code accepted; no row when not later than the last. */
	[STMT_TFA_STEP] = { "tfa_step",
	    "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND "
	    "(totp_last_step IS NULL OR totp_last_step < $2) RETURNING 1",
	    2, STMT_WRITE },
	/*
	 * $1 user id: 2FA off, its secret, backup codes and challenges gone.
	 * Returns the user and whether 2FA was on; no row: no such user.
	 */
	[STMT_TFA_DISABLE] = { "tfa_disable",
	    "WITH o AS (SELECT x.id, x.two_factor_enabled AS was FROM users x "
	    "WHERE x.id = $1 FOR UPDATE), "
	    "c AS (DELETE FROM two_factor_challenges WHERE user_id IN (SELECT id FROM o)), "
	    "b AS (DELETE FROM two_factor_backup_codes WHERE user_id IN (SELECT id FROM o)) "
	    "UPDATE users AS u SET two_factor_enabled = false, totp_secret = NULL, "
	    "totp_last_step = NULL, updated_at = CASE WHEN u.two_factor_enabled "
	    "THEN date_trunc('milliseconds', now()) ELSE u.updated_at END "
	    "FROM o WHERE u.id = o.id RETURNING " USER_COLS ", o.was",
	    1, STMT_WRITE },
	[STMT_TFA_BACKUP_CLEAR] = { "tfa_backup_clear",
	    "DELETE FROM two_factor_backup_codes WHERE user_id = $1", 1, STMT_WRITE },
	/* $1 user id, $2 array of hex SHA-256 hashes */
	[STMT_TFA_BACKUP_INSERT] = { "tfa_backup_insert",
	    "INSERT INTO two_factor_backup_codes (user_id, code_hash) "
	    "SELECT $1::uuid, h FROM unnest($2::text[]) h", 2, STMT_WRITE },
	/* $1 user id, $2 hash: uses the code once; no row when used or unknown. */
	[STMT_TFA_BACKUP_USE] = { "tfa_backup_use",
	    "UPDATE two_factor_backup_codes SET used_at = now() WHERE user_id = $1 "
	    "AND code_hash = $2 AND used_at IS NULL RETURNING 1", 2, STMT_WRITE },
	/* $1 token hash, $2 user id, $3 lifetime in seconds */
	[STMT_TFA_CHALLENGE_INSERT] = { "tfa_challenge_insert",
	    "INSERT INTO two_factor_challenges (token_hash, user_id, expires_at) "
	    "VALUES ($1, $2, date_trunc('milliseconds', now()) + $3 * interval "
	    "'1 second') RETURNING expires_at", 3, STMT_WRITE },
	/*
	 * $1 token hash: the current email of the challenge's user, whatever
	 * the challenge's state (the rate limit's key). On the primary.
	 */
	[STMT_TFA_CHALLENGE_PEEK] = { "tfa_challenge_peek",
	    "SELECT u.email FROM two_factor_challenges c JOIN users u ON "
	    "u.id = c.user_id WHERE c.token_hash = $1", 1, STMT_READ },
	/*
	 * $1 token hash, $2 attempts allowed: spends one attempt of a live
	 * challenge, in a statement of its own so a wrong code still counts,
	 * and returns its user. No row: unknown, expired, used or used up.
	 */
	[STMT_TFA_CHALLENGE_TRY] = { "tfa_challenge_try",
	    "WITH c AS (UPDATE two_factor_challenges SET attempts = attempts + 1 "
	    "WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() AND "
	    "attempts < $2 RETURNING user_id) SELECT " USER_COLS " FROM users u "
	    "JOIN c ON c.user_id = u.id", 2, STMT_WRITE },
	/* $1 token hash: ends the challenge; no row when it died meanwhile. */
	[STMT_TFA_CHALLENGE_USE] = { "tfa_challenge_use",
	    "UPDATE two_factor_challenges SET used_at = now() WHERE token_hash = $1 "
	    "AND used_at IS NULL AND expires_at > now() RETURNING 1", 1, STMT_WRITE },
	/* quirectl prune. $1 batch: used or expired challenges. */
	[STMT_PRUNE_CHALLENGES] = { "prune_challenges",
	    "DELETE FROM two_factor_challenges WHERE token_hash IN (SELECT "
	    "token_hash FROM two_factor_challenges WHERE used_at IS NOT NULL OR "
	    "expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)", 1, STMT_ADMIN },
	/*
	 * quirectl rotate-secret-key: every sealed secret, locked until the
	 * transaction re-encrypting them commits.
	 */
	[STMT_ROTATE_SECRETS] = { "rotate_secrets",
	    "SELECT id, encode(totp_secret, 'hex') FROM users WHERE totp_secret "
	    "IS NOT NULL ORDER BY id FOR UPDATE", 0, STMT_ADMIN },
	/* $1 user id, $2 the secret sealed under the new key */
	[STMT_ROTATE_SET] = { "rotate_set",
	    "UPDATE users SET totp_secret = decode($2, 'hex') WHERE id = $1",
	    2, STMT_ADMIN },
	/* --- end of issue #21's block --- */

	[STMT_MIG_LOCK] = { "mig_lock",
	    "SELECT pg_advisory_xact_lock(7165188)", 0, STMT_ADMIN },
	[STMT_MIG_TABLE] = { "mig_table",
	    "CREATE TABLE IF NOT EXISTS schema_migrations (version text "
	    "PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
	    0, STMT_ADMIN },
	[STMT_MIG_APPLIED] = { "mig_applied",
	    "SELECT 1 FROM schema_migrations WHERE version = $1", 1, STMT_ADMIN },
	[STMT_MIG_RECORD] = { "mig_record",
	    "INSERT INTO schema_migrations (version) VALUES ($1)", 1, STMT_ADMIN },
	/* Every version applied, to find those the schema directory lacks. */
	[STMT_MIG_VERSIONS] = { "mig_versions",
	    "SELECT version FROM schema_migrations ORDER BY version", 0, STMT_ADMIN },
	/* $1 name, $2 canonical email: an existing user is promoted to admin. */
	[STMT_ADMIN_USER_INSERT] = { "admin_user_insert",
	    "INSERT INTO users AS u (name, email, role) VALUES ($1, $2, 'admin') "
	    "ON CONFLICT (email) DO UPDATE SET role = 'admin', "
	    "updated_at = date_trunc('milliseconds', now()) RETURNING u.id", 2, STMT_ADMIN },
	/* $1 user id, $2 hash */
	[STMT_ADMIN_ACCOUNT_UPSERT] = { "admin_account_upsert",
	    "INSERT INTO accounts (user_id, account_id, provider_id, password) "
	    "VALUES ($1::uuid, $1::uuid::text, 'credential', $2) ON CONFLICT "
	    "(provider_id, account_id) DO UPDATE SET password = EXCLUDED.password, "
	    "updated_at = date_trunc('milliseconds', now())", 2, STMT_ADMIN },
	/*
	 * Migration 002-canonical-email's pre-hook (quirectl): no user row
	 * may change while the emails are read, checked and rewritten.
	 */
	[STMT_ADMIN_USERS_LOCK] = { "admin_users_lock",
	    "LOCK TABLE users IN ACCESS EXCLUSIVE MODE", 0, STMT_ADMIN },
	[STMT_ADMIN_USER_EMAILS] = { "admin_user_emails",
	    "SELECT id, email FROM users ORDER BY created_at, id", 0, STMT_ADMIN },
	/*
	 * Dropped before any email is rewritten: one row's new form may
	 * equal lower() of another row's old form although their canonical
	 * forms differ, which the old index refuses and the new one allows.
	 */
	[STMT_ADMIN_EMAIL_LOWER_DROP] = { "admin_email_lower_drop",
	    "DROP INDEX IF EXISTS users_email_lower_key", 0, STMT_ADMIN },
	/* $1 user id, $2 canonical email */
	[STMT_ADMIN_USER_SET_EMAIL] = { "admin_user_set_email",
	    "UPDATE users SET email = $2, updated_at = date_trunc('milliseconds', "
	    "now()) WHERE id = $1", 2, STMT_ADMIN },
	/* "already exists, skipping" notices are expected on every migrate. */
	[STMT_ADMIN_QUIET] = { "admin_quiet",
	    "SET client_min_messages = warning", 0, STMT_ADMIN | STMT_PLAIN },
	/*
	 * quirectl mail-worker. Its session: a name for pg_stat_activity,
	 * and an idle-in-transaction timeout longer than one SMTP send
	 * (mailer.c's 60 s), since the claimed row stays locked in an open
	 * transaction while the message is sent; a role's shorter setting
	 * (docs/deploy.md §9) would end the session mid-send.
	 */
	[STMT_MAIL_SESSION] = { "mail_session",
	    "SET application_name = 'quire-mail-worker'; "
	    "SET statement_timeout = 30000; SET lock_timeout = 5000; "
	    "SET idle_in_transaction_session_timeout = 120000; "
	    "LISTEN quire_mail", 0, STMT_ADMIN | STMT_PLAIN },
	/*
	 * The oldest due message, locked until its transaction ends; another
	 * worker skips it rather than waits, so no message is sent twice at
	 * once. created_at is the Date header.
	 */
	[STMT_MAIL_CLAIM] = { "mail_claim",
	    "SELECT id, message_id, kind, recipient, recipient_name, subject, "
	    "body, attempts, EXTRACT(EPOCH FROM created_at)::bigint "
	    "FROM mail_outbox WHERE failed_at IS NULL AND next_attempt_at <= "
	    "now() ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED",
	    0, STMT_ADMIN },
	/* $1 id: the server answered 250. */
	[STMT_MAIL_SENT] = { "mail_sent",
	    "DELETE FROM mail_outbox WHERE id = $1", 1, STMT_ADMIN },
	/* $1 id, $2 error, $3 seconds until the next attempt */
	[STMT_MAIL_RETRY] = { "mail_retry",
	    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, "
	    "next_attempt_at = clock_timestamp() + $3::float8 * "
	    "interval '1 second' WHERE id = $1", 3, STMT_ADMIN },
	/* $1 id, $2 error: refused for good (5xx), kept for an operator */
	[STMT_MAIL_FAIL] = { "mail_fail",
	    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, "
	    "failed_at = clock_timestamp() WHERE id = $1", 2, STMT_ADMIN },
	/* Seconds until the next message is due (negative: due); NULL: none. */
	[STMT_MAIL_NEXT_DUE] = { "mail_next_due",
	    "SELECT EXTRACT(EPOCH FROM min(next_attempt_at) - "
	    "clock_timestamp())::float8 FROM mail_outbox WHERE failed_at IS NULL",
	    0, STMT_ADMIN },

	/*
	 * quirectl import-better-auth (ctl_import.c). The STMT_IMPORT_SRC_*
	 * run on the Better-Auth database, read-only. Their table and column
	 * names depend on its layout: {T} is the table and {name} the column
	 * found for a logical column (ctl_import.c's tables[]), each quoted
	 * as an identifier, or NULL for an optional one that is missing.
	 * Timestamps come out in UTC to the millisecond, as quire keeps them.
	 */
#define IMPORT_TS(c) "date_trunc('milliseconds', COALESCE({" c "}::timestamptz, now()))"
	/*
	 * A refused login pays for scrypt too while this finds a row
	 * (h_auth.c, login_pad). ORDER BY id LIMIT 1 makes 004-import.sql's
	 * partial index on (id) the plan whatever the statistics say: with
	 * EXISTS, stale ones (many imported hashes a moment ago) chose a
	 * sequential scan, which reads the whole table once none is left.
	 */
	[STMT_IMPORT_PENDING] = { "import_pending",
	    "SELECT id FROM accounts WHERE password NOT LIKE '$%' ORDER BY id "
	    "LIMIT 1", 0, 0 },
	[STMT_IMPORT_SRC_READONLY] = { "import_src_readonly",
	    "SHOW default_transaction_read_only", 0, STMT_ADMIN | STMT_PLAIN },
	/* One snapshot for every table: posts agree with their authors. */
	[STMT_IMPORT_SRC_BEGIN] = { "import_src_begin",
	    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0,
	    STMT_ADMIN | STMT_PLAIN },
	[STMT_IMPORT_SRC_SETUP] = { "import_src_setup",
	    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
	    "SET client_min_messages = warning", 0, STMT_ADMIN | STMT_PLAIN },
	/* $1 candidate table names: their columns in the search path's first schema. */
	[STMT_IMPORT_SRC_COLUMNS] = { "import_src_columns",
	    "SELECT table_name::text, column_name::text FROM "
	    "information_schema.columns WHERE table_schema = current_schema() "
	    "AND table_name = ANY($1::text[])", 1, STMT_ADMIN },
	[STMT_IMPORT_SRC_USERS] = { "import_src_users",
	    "SELECT {id}::text, {name}::text, {email}::text, "
	    "COALESCE({emailVerified}::boolean, false), {image}::text, "
	    "{role}::text, " IMPORT_TS("createdAt") ", " IMPORT_TS("updatedAt")
	    " FROM {T} ORDER BY {createdAt}, {id}", 0, STMT_ADMIN },
	[STMT_IMPORT_SRC_ACCOUNTS] = { "import_src_accounts",
	    "SELECT {userId}::text, {providerId}::text, {password}::text, "
	    IMPORT_TS("createdAt") ", " IMPORT_TS("updatedAt") " FROM {T} "
	    "ORDER BY {userId}, {createdAt}", 0, STMT_ADMIN },
	/* Posts are read in batches: a source may hold more than fits in memory. */
	[STMT_IMPORT_SRC_POSTS_OPEN] = { "import_src_posts_open",
	    "DECLARE import_posts NO SCROLL CURSOR FOR SELECT {id}::text, "
	    "{title}::text, {content}::text, COALESCE({published}::boolean, "
	    "false), {authorId}::text, " IMPORT_TS("createdAt") ", "
	    IMPORT_TS("updatedAt") " FROM {T} ORDER BY {createdAt}, {id}", 0,
	    STMT_ADMIN | STMT_PLAIN },
	[STMT_IMPORT_SRC_POSTS_FETCH] = { "import_src_posts_fetch",
	    "FETCH FORWARD 5000 FROM import_posts", 0, STMT_ADMIN | STMT_PLAIN },
	/* Sessions and verifications are counted, not imported. */
	[STMT_IMPORT_SRC_COUNT] = { "import_src_count",
	    "SELECT count(*) FROM {T}", 0, STMT_ADMIN },
#undef IMPORT_TS
	/* One import at a time; the second one is told, not queued. */
	[STMT_IMPORT_TRY_LOCK] = { "import_try_lock",
	    "SELECT pg_try_advisory_xact_lock(7165189)", 0, STMT_ADMIN },
	/*
	 * No user may be added, changed or removed between the checks of
	 * emails and ids and the insert: a signup waits for the import.
	 */
	[STMT_IMPORT_USERS_LOCK] = { "import_users_lock",
	    "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE", 0, STMT_ADMIN },
	/* Users imported before, and whether quire still has them. */
	[STMT_IMPORT_MAP_USERS] = { "import_map_users",
	    "SELECT m.source_id, m.id::text, u.id IS NOT NULL FROM "
	    "import_source_ids m LEFT JOIN users u ON u.id = m.id "
	    "WHERE m.kind = 'user'", 0, STMT_ADMIN },
	/* $1 canonical emails */
	[STMT_IMPORT_EMAILS_TAKEN] = { "import_emails_taken",
	    "SELECT email, id::text FROM users WHERE email = ANY($1::text[])",
	    1, STMT_ADMIN },
	/* $1 ids the source has and quire would keep */
	[STMT_IMPORT_USER_IDS_TAKEN] = { "import_user_ids_taken",
	    "SELECT id::text FROM users WHERE id = ANY($1::uuid[])", 1, STMT_ADMIN },
	[STMT_IMPORT_POST_IDS_TAKEN] = { "import_post_ids_taken",
	    "SELECT id::text FROM posts WHERE id = ANY($1::uuid[])", 1, STMT_ADMIN },
	/* $1 source ids of posts */
	[STMT_IMPORT_POSTS_KNOWN] = { "import_posts_known",
	    "SELECT source_id FROM import_source_ids WHERE kind = 'post' AND "
	    "source_id = ANY($1::text[])", 1, STMT_ADMIN },
	[STMT_IMPORT_COPY_USERS] = { "import_copy_users",
	    "COPY users (id, name, email, email_verified, image, role, "
	    "created_at, updated_at) FROM STDIN", 0, STMT_ADMIN | STMT_PLAIN },
	[STMT_IMPORT_COPY_ACCOUNTS] = { "import_copy_accounts",
	    "COPY accounts (user_id, account_id, provider_id, password, "
	    "created_at, updated_at) FROM STDIN", 0, STMT_ADMIN | STMT_PLAIN },
	[STMT_IMPORT_COPY_POSTS] = { "import_copy_posts",
	    "COPY posts (id, title, content, published, author_id, created_at, "
	    "updated_at) FROM STDIN", 0, STMT_ADMIN | STMT_PLAIN },
	[STMT_IMPORT_COPY_MAP] = { "import_copy_map",
	    "COPY import_source_ids (kind, source_id, id) FROM STDIN", 0,
	    STMT_ADMIN | STMT_PLAIN },
};

int
stmt_session_sql(char *buf, size_t sz, long timeout_ms)
{
	size_t	 i, len;
	int	 n;

	len = 0;
	for (i = 0; stmt_settings[i].name != NULL; i++) {
		n = snprintf(buf + len, sz - len, "SET %s = '%s'; ",
		    stmt_settings[i].name, stmt_settings[i].value);
		if (n < 0 || (size_t)n >= sz - len)
			return -1;
		len += (size_t)n;
	}
	n = snprintf(buf + len, sz - len,
	    "SET statement_timeout = %ld; SET lock_timeout = %ld; "
	    "SET idle_in_transaction_session_timeout = %ld",
	    timeout_ms, timeout_ms, timeout_ms * 2);
	return n < 0 || (size_t)n >= sz - len ? -1 : 0;
}
