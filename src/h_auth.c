/*
 * POST /auth/signup, POST /auth/login, POST /auth/logout, GET /auth/me.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "account.h"
#include "arena.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "h_2fa.h"
#include "h_auth.h"
#include "limit.h"
#include "outbox.h"
#include "log.h"
#include "resp.h"
#include "revoke.h"
#include "signin.h"
#include "ryw.h"
#include "utf8.h"
#include "valid.h"

/*
 * A refused login while hashes imported from Better-Auth remain: scrypt
 * costs several times an Argon2id check, so the refusal pays for both
 * (auth_password_pad), whatever the account had, and an unknown email
 * takes as long as a wrong password. Without imported hashes (the
 * partial index is empty) this is one indexed query.
 */
static void
login_pad(struct req *r, const char *hash, const char *pw, size_t n)
{
	PGresult	*res;

	if (db_exec(r, DB_PRIMARY, STMT_IMPORT_PENDING, NULL, &res) == QERR_OK &&
	    PQntuples(res) == 0)
		return;
	auth_password_pad(hash, pw, n);
}

/*
 * The first login with a password imported from Better-Auth (scrypt):
 * the Argon2id hash replaces it in the transaction that creates the
 * session, so the login succeeds with both or neither. account_id is
 * the credential account's id. Returns the status.
 */
static int
login_imported(struct req *r, const struct user *u, const char *account_id)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	const char		*params[2];
	char			 hash[crypto_pwhash_STRBYTES];
	char			 token[AUTH_TOKEN_LEN + 1];
	char			 expires[FMT_TS_LEN + 1];
	enum qerr		 e;

	/* Hash before the transaction: never hold locks across 30 ms of CPU. */
	if (auth_password_hash(hash, f[LOGIN_PASSWORD].s,
	    f[LOGIN_PASSWORD].len) == -1)
		return resp_qerr(r, QERR_NOMEM);
	params[0] = account_id;
	params[1] = hash;
	if ((e = db_begin(r)) != QERR_OK ||
	    (e = db_exec(r, DB_PRIMARY, STMT_ACCOUNT_REHASH, params,
	    &res)) != QERR_OK ||
	    (e = signin_session_create(r, u->id, AUDIT_LOGIN, token, expires)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK) {
		db_rollback(r);
		sodium_memzero(hash, sizeof(hash));
		return resp_qerr(r, e);
	}
	sodium_memzero(hash, sizeof(hash));
	return signin_answer(r, 200, u, token, expires);
}

int
h_auth_signup(struct req *r)
{
	const struct fieldval	*f = r->fields;
	struct user		 u;
	char			 hash[crypto_pwhash_STRBYTES];
	char			 token[AUTH_TOKEN_LEN + 1];
	char			 expires[FMT_TS_LEN + 1];
	enum qerr		 e;
	int			 st;

	if ((st = limit_auth(r, f[SIGNUP_EMAIL].s)) != 0)
		return st;
	/* Hash before the transaction: never hold locks across 30 ms of CPU. */
	if (auth_password_hash(hash, f[SIGNUP_PASSWORD].s,
	    f[SIGNUP_PASSWORD].len) == -1)
		return resp_qerr(r, QERR_NOMEM);
	if ((e = db_begin(r)) != QERR_OK ||
	    (e = account_create(r, f[SIGNUP_NAME].s, f[SIGNUP_EMAIL].s, "user",
	    hash, &u)) != QERR_OK ||
	    (e = signin_session_create(r, u.id, AUDIT_SIGNUP, token, expires)) != QERR_OK ||
	    (r->conf->verify_on_signup &&
	    (e = outbox_link_by_id(r, OUTBOX_VERIFY, u.id, 0)) != QERR_OK) ||
	    (e = db_commit(r)) != QERR_OK)
		return account_abort(r, e, hash, sizeof(hash));
	sodium_memzero(hash, sizeof(hash));
	return signin_answer(r, 201, &u, token, expires);
}

/*
 * The audit row of a refused login (user_id NULL for an unknown email),
 * the user signing in as actor. It records no change, so it is its own
 * transaction; the refusal stands when it cannot be written.
 */
static void
login_failed(struct req *r, const char *user_id)
{

	if (audit_write(r, AUDIT_LOGIN_FAILED, user_id, user_id) != QERR_OK)
		log_msg(LVL_WARN, r->in.reqid, "login_failed not audited");
}

int
h_auth_login(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res, *ures;
	struct user		 u;
	const char		*params[2], *hash, *uid;
	char			 newhash[crypto_pwhash_STRBYTES];
	char			 token[AUTH_TOKEN_LEN + 1];
	char			 expires[FMT_TS_LEN + 1];
	enum qerr		 e;
	int			 st, ok;

	if ((st = limit_auth(r, f[LOGIN_EMAIL].s)) != 0)
		return st;
	params[0] = f[LOGIN_EMAIL].s;
	if ((e = db_exec(r, DB_PRIMARY, STMT_LOGIN_LOOKUP, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	hash = NULL;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, USER_NCOLS + 1))
		hash = PQgetvalue(res, 0, USER_NCOLS + 1);
	/* Unknown email and wrong password: same work, same answer. */
	ok = auth_password_verify(hash, f[LOGIN_PASSWORD].s, f[LOGIN_PASSWORD].len);
	if (!ok) {
		login_pad(r, hash, f[LOGIN_PASSWORD].s, f[LOGIN_PASSWORD].len);
		/* An unknown email: no user, and the email is not stored. */
		uid = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL;
		login_failed(r, uid);
		return resp_error(r, ERR_UNAUTHORIZED, "Invalid email or password");
	}
	if (user_from_row(&u, res, 0, 0) == -1)
		return resp_qerr(r, QERR_DB);
	/* Only the right password learns of the ban (API.md "Bans"). */
	if (u.banned) {
		login_failed(r, u.id);
		return resp_error(r, ERR_FORBIDDEN, "Account is banned");
	}
	/*
	 * Only the right password learns that the address is unverified.
	 * The fresh link is bounded by the login rate limit this attempt
	 * already counted against.
	 */
	if (r->conf->require_verified && !u.email_verified) {
		if (outbox_link_by_id(r, OUTBOX_VERIFY, u.id, 0) != QERR_OK)
			log_msg(LVL_WARN, r->in.reqid, "verification mail not queued");
		login_failed(r, u.id);
		return resp_error(r, ERR_FORBIDDEN, "Email not verified");
	}
	/* With 2FA the session waits for the code: the rehash goes alone. */
	if (ok == AUTH_PW_SCRYPT && !u.two_factor_enabled)
		return login_imported(r, &u, PQgetvalue(res, 0, USER_NCOLS));
	/*
	 * A cheaper cost than today's, a hash from before NFKC, or (2FA on)
	 * Better-Auth's scrypt, which never passes for Argon2id.
	 */
	if ((ok == AUTH_PW_LEGACY || auth_password_needs_rehash(hash)) &&
	    auth_password_hash(newhash, f[LOGIN_PASSWORD].s,
	    f[LOGIN_PASSWORD].len) == 0) {
		params[0] = PQgetvalue(res, 0, USER_NCOLS);
		params[1] = newhash;
		if (db_exec(r, DB_PRIMARY, STMT_ACCOUNT_REHASH, params, &ures) != QERR_OK)
			log_msg(LVL_WARN, r->in.reqid, "password rehash failed");
		sodium_memzero(newhash, sizeof(newhash));
	}
	/* The right password is half of it: a challenge, no session yet. */
	if (u.two_factor_enabled)
		return h_2fa_challenge(r, &u);
	params[0] = u.id;
	if (db_exec(r, DB_PRIMARY, STMT_SESSIONS_PURGE_USER, params, &ures) != QERR_OK)
		log_msg(LVL_WARN, r->in.reqid, "expired session sweep failed");
	if ((e = signin_session_create(r, u.id, AUDIT_LOGIN, token, expires)) != QERR_OK)
		return resp_qerr(r, e);
	return signin_answer(r, 200, &u, token, expires);
}

int
h_auth_logout(struct req *r)
{
	struct jw	 w;
	enum qerr	 e;

	if ((e = account_session_end(r, r->sess->id, NULL)) != QERR_OK)
		return resp_qerr(r, e);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_obj_end(&w);
	auth_set_cookie(r, NULL);
	return r->out.status;
}

int
h_auth_me(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "user");
	user_json(&w, &r->sess->user, auth_user_view(r, r->sess->user.id));
	jw_key(&w, "session");
	jw_obj(&w);
	jw_key(&w, "expiresAt");
	jw_str(&w, r->sess->expires_at);
	jw_key(&w, "createdAt");
	jw_str(&w, r->sess->created_at);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return r->out.status;
}
