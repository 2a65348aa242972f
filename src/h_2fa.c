/*
 * POST /auth/2fa/setup, /auth/2fa/enable, /auth/2fa/disable,
 * /auth/2fa/verify, DELETE /users/:id/2fa, and the challenge a login
 * answers for a user with 2FA on (h_2fa.h).
 *
 * Every code is checked inside a transaction that holds the user's row
 * (STMT_TFA_LOCK), against the last accepted step read there, and the
 * step it matched is written in that transaction: two requests racing
 * with one code cannot both pass.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "account.h"
#include "arena.h"
#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "fmt.h"
#include "h_2fa.h"
#include "limit.h"
#include "log.h"
#include "resp.h"
#include "revoke.h"
#include "signin.h"
#include "totp.h"
#include "valid.h"

/* API.md: a challenge lives 5 minutes and allows 5 codes. */
#define CHALLENGE_TTL_S		"300"
#define CHALLENGE_ATTEMPTS	"5"
#define SEALED_HEX_LEN		(2 * TOTP_SEALED_BYTES)

/* STMT_TFA_LOCK's columns. */
enum { LOCK_ENABLED, LOCK_SECRET, LOCK_STEP };

/* What STMT_TFA_LOCK read; the strings are borrowed from its result. */
struct tfa_state {
	int		 enabled;
	const char	*sealed_hex;	/* NULL: never set up */
	int64_t		 last_step;	/* INT64_MIN: none accepted yet */
};

/* The answer without QUIRE_SECRET_KEY (API.md: 503, the rest works). */
static int
no_key(struct req *r)
{

	return resp_error(r, ERR_SERVICE_UNAVAILABLE, "Two-factor "
	    "authentication is not available: the server has no "
	    "QUIRE_SECRET_KEY");
}

/* Rolls back and answers e. Returns the status. */
static int
abort_with(struct req *r, enum qerr e)
{

	db_rollback(r);
	return resp_qerr(r, e);
}

/* Rolls back and answers the contract error err with msg. */
static int
abort_error(struct req *r, enum resp_err err, const char *msg)
{

	db_rollback(r);
	return resp_error(r, err, msg);
}

/*
 * Inside a transaction: locks user_id's row and reads its 2FA state into
 * st. Returns QERR_OK, QERR_NOTFOUND for no such user, or the error.
 */
static enum qerr
state_lock(struct req *r, const char *user_id, struct tfa_state *st)
{
	PGresult		*res;
	const char		*params[1], *v;
	unsigned long long	 n;
	enum qerr		 e;

	params[0] = user_id;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_LOCK, params, &res)) != QERR_OK)
		return e;
	if (PQntuples(res) != 1)
		return QERR_NOTFOUND;
	st->enabled = PQgetvalue(res, 0, LOCK_ENABLED)[0] == 't';
	st->sealed_hex = PQgetisnull(res, 0, LOCK_SECRET) ? NULL :
	    PQgetvalue(res, 0, LOCK_SECRET);
	st->last_step = INT64_MIN;
	if (!PQgetisnull(res, 0, LOCK_STEP)) {
		v = PQgetvalue(res, 0, LOCK_STEP);
		if (fmt_parse_u(v, strlen(v), INT64_MAX, &n) == -1)
			return QERR_DB;
		st->last_step = (int64_t)n;
	}
	return QERR_OK;
}

/*
 * Opens the sealed secret of st into secret with the configured key.
 * Returns 0, or -1 (logged: the key is not the one that sealed it).
 */
static int
secret_open(struct req *r, const struct tfa_state *st,
    unsigned char secret[TOTP_SECRET_BYTES])
{
	unsigned char	 sealed[TOTP_SEALED_BYTES];
	size_t		 n;

	if (st->sealed_hex == NULL ||
	    sodium_hex2bin(sealed, sizeof(sealed), st->sealed_hex,
	    strlen(st->sealed_hex), NULL, &n, NULL) != 0 ||
	    totp_open(secret, sealed, n, r->conf->secret_key) == -1) {
		log_msg(LVL_ERROR, r->in.reqid, "a TOTP secret does not open "
		    "under QUIRE_SECRET_KEY (changed without quirectl "
		    "rotate-secret-key?)");
		return -1;
	}
	return 0;
}

/*
 * Inside the transaction of state_lock: checks the second factor, a
 * TOTP code or a backup code (exactly one is set), for user_id and
 * spends it (the code's step becomes the last accepted one; the backup
 * code is used). Returns 1 when it passed, 0 when refused, -1 with *e.
 */
static int
second_factor(struct req *r, const char *user_id, const struct tfa_state *st,
    const struct fieldval *code, const struct fieldval *backup, enum qerr *e)
{
	PGresult	*res;
	unsigned char	 secret[TOTP_SECRET_BYTES];
	const char	*params[2];
	char		 hash[65], step_s[24];
	int64_t		 step;
	int		 ok;

	if (code->present) {
		if (secret_open(r, st, secret) == -1) {
			*e = QERR_INVAL;
			return -1;
		}
		ok = totp_check(secret, time(NULL), st->last_step, code->s, &step);
		sodium_memzero(secret, sizeof(secret));
		if (!ok)
			return 0;
		snprintf(step_s, sizeof(step_s), "%lld", (long long)step);
		params[0] = user_id;
		params[1] = step_s;
		if ((*e = db_exec(r, DB_PRIMARY, STMT_TFA_STEP, params, &res)) != QERR_OK)
			return -1;
		return PQntuples(res) == 1;
	}
	/* Cut at a NUL (valid.h): no code has one, so it matches none. */
	if (strlen(backup->s) != backup->len)
		return 0;
	totp_backup_hash(backup->s, backup->len, hash);
	params[0] = user_id;
	params[1] = hash;
	if ((*e = db_exec(r, DB_PRIMARY, STMT_TFA_BACKUP_USE, params, &res)) != QERR_OK)
		return -1;
	return PQntuples(res) == 1;
}

/* Answers a failed second_factor: 401 when refused, else by e. */
static int
second_factor_refused(struct req *r, int rc, enum qerr e)
{

	if (rc == 0)
		return abort_error(r, ERR_UNAUTHORIZED, "Invalid code");
	/* A secret that does not open is the server's fault, not the input's. */
	return abort_with(r, e == QERR_INVAL ? QERR_DB : e);
}

/*
 * Appends s[0..n) to b percent-encoded: everything but RFC 3986's
 * unreserved characters, as authenticator apps decode the label.
 */
static void
pct(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			 esc[3];

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_putc(b, *s);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		buf_append(b, esc, 3);
	}
}

/*
 * The otpauth URI of Google Authenticator's Key Uri Format, which every
 * authenticator app reads. Returns it (arena), or NULL.
 */
static char *
otpauth_uri(struct req *r, const char *email, const char *b32)
{
	struct buf	 b;
	char		*out;
	const char	*iss = r->conf->totp_issuer;

	buf_init(&b, 1024);
	buf_puts(&b, "otpauth://totp/");
	pct(&b, iss);
	buf_puts(&b, ":");
	pct(&b, email);
	buf_puts(&b, "?secret=");
	buf_puts(&b, b32);
	buf_puts(&b, "&issuer=");
	pct(&b, iss);
	buf_puts(&b, "&algorithm=SHA1&digits=6&period=30");
	out = buf_err(&b) != QERR_OK || b.p == NULL ? NULL :
	    arena_strndup(r->arena, b.p, b.len);
	if (b.p != NULL)
		sodium_memzero(b.p, b.len);
	buf_free(&b);
	return out;
}

int
h_2fa_setup(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	unsigned char		 secret[TOTP_SECRET_BYTES];
	unsigned char		 sealed[TOTP_SEALED_BYTES];
	const char		*params[2];
	char			 sealed_hex[SEALED_HEX_LEN + 1];
	char			 b32[TOTP_SECRET_B32_LEN + 1], *uri;
	struct jw		 w;
	enum qerr		 e;
	int			 st;

	if (!r->conf->has_secret_key)
		return no_key(r);
	/* Every request carrying a credential counts, whatever its answer. */
	if ((st = limit_auth(r, r->sess->user.email)) != 0)
		return st;
	if ((st = account_reauth(r, r->sess->user.id, f[TFA_SETUP_PASSWORD].s,
	    f[TFA_SETUP_PASSWORD].len)) != 0)
		return st;
	totp_secret_new(secret);
	totp_seal(sealed, secret, r->conf->secret_key);
	sodium_bin2hex(sealed_hex, sizeof(sealed_hex), sealed, sizeof(sealed));
	uri = NULL;
	if (totp_secret_base32(secret, b32) == 0)
		uri = otpauth_uri(r, r->sess->user.email, b32);
	sodium_memzero(secret, sizeof(secret));
	if (uri == NULL) {
		sodium_memzero(b32, sizeof(b32));
		return resp_qerr(r, QERR_NOMEM);
	}
	params[0] = r->sess->user.id;
	params[1] = sealed_hex;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_SETUP, params, &res)) != QERR_OK) {
		sodium_memzero(b32, sizeof(b32));
		return resp_qerr(r, e);
	}
	if (PQntuples(res) != 1) {
		sodium_memzero(b32, sizeof(b32));
		return resp_error(r, ERR_CONFLICT,
		    "Two-factor authentication is already enabled");
	}
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "secret");
	jw_str(&w, b32);
	jw_key(&w, "otpauthUri");
	jw_str(&w, uri);
	jw_obj_end(&w);
	sodium_memzero(b32, sizeof(b32));
	return r->out.status;
}

int
h_2fa_enable(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	struct tfa_state	 s;
	unsigned char		 secret[TOTP_SECRET_BYTES];
	const char		*params[3], *uid = r->sess->user.id;
	char			 codes[TOTP_BACKUP_CODES][TOTP_BACKUP_LEN + 1];
	char			 hashes[TOTP_BACKUP_CODES * 66 + 3], *p;
	char			 step_s[24];
	int64_t			 step;
	struct jw		 w;
	enum qerr		 e;
	int			 st, ok, i;

	if (!r->conf->has_secret_key)
		return no_key(r);
	if ((st = limit_auth(r, r->sess->user.email)) != 0)
		return st;
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((e = state_lock(r, uid, &s)) != QERR_OK)
		return abort_with(r, e);
	if (s.enabled)
		return abort_error(r, ERR_CONFLICT,
		    "Two-factor authentication is already enabled");
	if (s.sealed_hex == NULL)
		return abort_error(r, ERR_CONFLICT, "Two-factor authentication "
		    "is not set up: POST /auth/2fa/setup first");
	if (secret_open(r, &s, secret) == -1)
		return abort_with(r, QERR_DB);
	ok = totp_check(secret, time(NULL), s.last_step, f[TFA_ENABLE_CODE].s, &step);
	sodium_memzero(secret, sizeof(secret));
	if (!ok)
		return abort_error(r, ERR_UNAUTHORIZED, "Invalid code");
	snprintf(step_s, sizeof(step_s), "%lld", (long long)step);
	params[0] = uid;
	params[1] = s.sealed_hex;
	params[2] = step_s;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_ENABLE, params, &res)) != QERR_OK)
		return abort_with(r, e);
	if (PQntuples(res) != 1)
		return abort_error(r, ERR_CONFLICT,
		    "Two-factor authentication changed meanwhile; try again");
	/* The codes are shown once; only their hashes are kept. */
	p = hashes;
	*p++ = '{';
	for (i = 0; i < TOTP_BACKUP_CODES; i++) {
		totp_backup_new(codes[i]);
		if (i > 0)
			*p++ = ',';
		totp_backup_hash(codes[i], TOTP_BACKUP_LEN, p);
		p += 64;
	}
	*p++ = '}';
	*p = '\0';
	params[1] = hashes;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_BACKUP_CLEAR, params, &res)) != QERR_OK ||
	    (e = db_exec(r, DB_PRIMARY, STMT_TFA_BACKUP_INSERT, params, &res)) != QERR_OK)
		goto fail;
	/* Whoever else held a session got it with the password alone. */
	params[1] = r->sess->id;
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSIONS_END_OTHERS, params, &res)) != QERR_OK ||
	    (e = audit_write(r, AUDIT_TWO_FACTOR_ENABLED, uid, uid)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK)
		goto fail;
	account_sessions_ended(r, uid);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "backupCodes");
	jw_arr(&w);
	for (i = 0; i < TOTP_BACKUP_CODES; i++)
		jw_str(&w, codes[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	sodium_memzero(codes, sizeof(codes));
	return r->out.status;
fail:
	sodium_memzero(codes, sizeof(codes));
	return abort_with(r, e);
}

int
h_2fa_disable(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	struct tfa_state	 s;
	const char		*params[1], *uid = r->sess->user.id;
	struct jw		 w;
	enum qerr		 e;
	int			 st, rc;

	if (!r->conf->has_secret_key)
		return no_key(r);
	if ((st = limit_auth(r, r->sess->user.email)) != 0)
		return st;
	if ((st = account_reauth(r, uid, f[TFA_DISABLE_PASSWORD].s,
	    f[TFA_DISABLE_PASSWORD].len)) != 0)
		return st;
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((e = state_lock(r, uid, &s)) != QERR_OK)
		return abort_with(r, e);
	if (!s.enabled)
		return abort_error(r, ERR_CONFLICT,
		    "Two-factor authentication is not enabled");
	e = QERR_OK;
	if ((rc = second_factor(r, uid, &s, &f[TFA_DISABLE_CODE],
	    &f[TFA_DISABLE_BACKUP], &e)) != 1)
		return second_factor_refused(r, rc, e);
	params[0] = uid;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_DISABLE, params, &res)) != QERR_OK ||
	    (e = audit_write(r, AUDIT_TWO_FACTOR_DISABLED, uid, uid)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK)
		return abort_with(r, e);
	/* The user's views (twoFactorEnabled) changed on every worker. */
	revoke_user(r, uid);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_obj_end(&w);
	return r->out.status;
}

/* The audit row of a refused second step, as login_failed in h_auth.c. */
static void
verify_failed(struct req *r, const char *user_id)
{

	if (audit_write(r, AUDIT_LOGIN_FAILED, user_id, user_id) != QERR_OK)
		log_msg(LVL_WARN, r->in.reqid, "login_failed not audited");
}

int
h_2fa_verify(struct req *r)
{
	const struct fieldval	*f = r->fields;
	const struct fieldval	*ch = &f[TFA_VERIFY_CHALLENGE];
	PGresult		*res;
	struct user		 u;
	struct tfa_state	 s;
	const char		*params[2], *email;
	char			 hash[AUTH_HASH_LEN + 1];
	char			 token[AUTH_TOKEN_LEN + 1];
	char			 expires[FMT_TS_LEN + 1];
	enum qerr		 e;
	int			 st, sane, rc;

	if (!r->conf->has_secret_key)
		return no_key(r);
	/* Any string is a challenge to look up; a malformed one finds none. */
	sane = strlen(ch->s) == ch->len && auth_token_sane(ch->s, ch->len);
	email = NULL;
	if (sane) {
		auth_token_hash(ch->s, hash);
		params[0] = hash;
		if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_CHALLENGE_PEEK, params,
		    &res)) != QERR_OK)
			return resp_qerr(r, e);
		if (PQntuples(res) == 1)
			email = PQgetvalue(res, 0, 0);
	}
	/* Counted per address, and per email for the challenge's user. */
	if ((st = limit_auth(r, email)) != 0)
		return st;
	if (email == NULL)
		return resp_error(r, ERR_UNAUTHORIZED, "Invalid or expired challenge");
	params[1] = CHALLENGE_ATTEMPTS;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_CHALLENGE_TRY, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	if (PQntuples(res) != 1)
		return resp_error(r, ERR_UNAUTHORIZED, "Invalid or expired challenge");
	if (user_from_row(&u, res, 0, 0) == -1)
		return resp_qerr(r, QERR_DB);
	if (u.banned) {
		verify_failed(r, u.id);
		return resp_error(r, ERR_FORBIDDEN, "Account is banned");
	}
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((e = state_lock(r, u.id, &s)) != QERR_OK)
		return abort_with(r, e);
	/* Turned off since the password (an admin's DELETE): start again. */
	if (!s.enabled)
		return abort_error(r, ERR_UNAUTHORIZED, "Invalid or expired challenge");
	e = QERR_OK;
	if ((rc = second_factor(r, u.id, &s, &f[TFA_VERIFY_CODE],
	    &f[TFA_VERIFY_BACKUP], &e)) != 1) {
		st = second_factor_refused(r, rc, e);
		if (rc == 0)
			verify_failed(r, u.id);
		return st;
	}
	params[0] = hash;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_CHALLENGE_USE, params, &res)) != QERR_OK)
		return abort_with(r, e);
	/* Another request won the challenge meanwhile: single use. */
	if (PQntuples(res) != 1)
		return abort_error(r, ERR_UNAUTHORIZED, "Invalid or expired challenge");
	params[0] = u.id;
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSIONS_PURGE_USER, params, &res)) != QERR_OK ||
	    (e = signin_session_create(r, u.id, AUDIT_LOGIN, token, expires)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK)
		return abort_with(r, e);
	return signin_answer(r, 200, &u, token, expires);
}

int
h_2fa_challenge(struct req *r, const struct user *u)
{
	PGresult	*res;
	const char	*params[3];
	char		 token[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_LEN + 1];
	char		 expires[FMT_TS_LEN + 1];
	struct jw	 w;
	enum qerr	 e;

	auth_token_new(token);
	auth_token_hash(token, hash);
	params[0] = hash;
	params[1] = u->id;
	params[2] = CHALLENGE_TTL_S;
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_CHALLENGE_INSERT, params,
	    &res)) != QERR_OK) {
		sodium_memzero(token, sizeof(token));
		return resp_qerr(r, e);
	}
	if (PQntuples(res) != 1 || fmt_ts(expires, PQgetvalue(res, 0, 0)) == -1) {
		sodium_memzero(token, sizeof(token));
		return resp_qerr(r, QERR_DB);
	}
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "twoFactorRequired");
	jw_bool(&w, 1);
	jw_key(&w, "challenge");
	jw_str(&w, token);
	jw_key(&w, "expiresAt");
	jw_str(&w, expires);
	jw_obj_end(&w);
	sodium_memzero(token, sizeof(token));
	return r->out.status;
}

int
h_2fa_admin_disable(struct req *r)
{
	PGresult	*res;
	struct user	 u;
	const char	*params[1];
	struct jw	 w;
	enum qerr	 e;

	if (r->id == NULL || !fmt_is_uuid(r->id, strlen(r->id)))
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	params[0] = r->id;
	/* No key needed: this only forgets the secret. */
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((e = db_exec(r, DB_PRIMARY, STMT_TFA_DISABLE, params, &res)) != QERR_OK)
		return abort_with(r, e);
	if (PQntuples(res) != 1)
		return abort_error(r, ERR_NOT_FOUND, "User not found");
	if (user_from_row(&u, res, 0, 0) == -1)
		return abort_with(r, QERR_DB);
	/* Only 2FA that was on is turned off: a second DELETE records nothing. */
	if (PQgetvalue(res, 0, USER_NCOLS)[0] == 't' &&
	    (e = audit_write(r, AUDIT_TWO_FACTOR_DISABLED, r->sess->user.id,
	    u.id)) != QERR_OK)
		return abort_with(r, e);
	if ((e = db_commit(r)) != QERR_OK)
		return abort_with(r, e);
	revoke_user(r, u.id);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "user");
	user_json(&w, &u, USER_VIEW_ADMIN);
	jw_obj_end(&w);
	return r->out.status;
}
