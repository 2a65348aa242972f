/*
 * POST /auth/password/forgot, /auth/password/reset,
 * /auth/verify-email/send and /auth/verify-email.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "account.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "h_account.h"
#include "limit.h"
#include "outbox.h"
#include "resp.h"
#include "revoke.h"
#include "valid.h"

#define TOKEN_REFUSED	"is invalid, used or expired: ask for a new link"
/* The longest an unknown email's answer is held back to match a known one. */
#define FORGOT_PAD_MAX	0.05

static double
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Holds an unknown email's answer to forgot back to the time a known
 * one takes. Queuing writes two rows and their indexes, about 1.7 ms
 * more on the test machine (test_32), and that difference, repeated,
 * tells which emails have accounts. Each worker keeps a moving average
 * of its own known-email writes; it learns from the first one.
 */
static void
forgot_pad(int queued, double took)
{
	static double	 known;	/* seconds, moving average */
	struct timespec	 ts;
	double		 wait;

	if (queued) {
		known = known == 0 ? took : known * 0.9 + took * 0.1;
		return;
	}
	wait = known - took;
	if (wait <= 0)
		return;
	if (wait > FORGOT_PAD_MAX)
		wait = FORGOT_PAD_MAX;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(wait * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

static int
empty_answer(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_obj_end(&w);
	return r->out.status;
}

static int
no_mail(struct req *r)
{

	return resp_error(r, ERR_SERVICE_UNAVAILABLE, "Mail is not configured "
	    "on this server (QUIRE_MAIL_URL)");
}

/*
 * Hashes the body's token into hash and counts the attempt against the
 * client address and the current email of the token's user (none for an
 * unknown token). Returns 0 when the token looks usable, else the
 * answer's status: nothing more (no password hashing) is spent on a bad
 * one. token_redeem still decides.
 */
static int
token_limit(struct req *r, const char *token, enum outbox_kind k, char *hash)
{
	PGresult	*res;
	const char	*params[2];
	enum qerr	 e;
	int		 known, st;

	auth_token_hash(token, hash);
	params[0] = hash;
	params[1] = outbox_token_kind(k);
	if ((e = db_exec(r, DB_PRIMARY, STMT_TOKEN_PEEK, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	known = PQntuples(res) == 1;
	if ((st = limit_auth(r, known ? PQgetvalue(res, 0, 0) : NULL)) != 0)
		return st;
	if (!known || strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
		resp_detail(r, "token", TOKEN_REFUSED);
		return resp_error(r, ERR_VALIDATION, NULL);
	}
	return 0;
}

/*
 * Uses the token (hash) of kind k once, inside the caller's transaction
 * when one is open, and fills u with its user, now verified. Returns 0,
 * or the answer's status (400 on token for a bad, used or expired one).
 */
static int
token_redeem(struct req *r, const char *hash, enum outbox_kind k, struct user *u)
{
	PGresult	*res;
	const char	*params[2];
	enum qerr	 e;

	params[0] = hash;
	params[1] = outbox_token_kind(k);
	if ((e = db_exec(r, DB_PRIMARY, STMT_TOKEN_REDEEM, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	if (PQntuples(res) != 1) {
		resp_detail(r, "token", TOKEN_REFUSED);
		return resp_error(r, ERR_VALIDATION, NULL);
	}
	if (user_from_row(u, res, 0, 0) == -1)
		return resp_qerr(r, QERR_DB);
	return 0;
}

int
h_account_forgot(struct req *r)
{
	const char	*email = r->fields[FORGOT_EMAIL].s;
	double		 t0;
	enum qerr	 e;
	int		 st, queued;

	if (!r->conf->mail_on)
		return no_mail(r);
	/*
	 * One transaction for the attempt's count and the link: a known
	 * email's commit flushes WAL, and so must an unknown one's, or the
	 * flush (a disk sync) would tell them apart. The count is a write
	 * for both, so both commit once. A refused attempt still counts.
	 */
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((st = limit_auth(r, email)) != 0) {
		if (st != 429 || db_commit(r) != QERR_OK)
			db_rollback(r);
		return st;
	}
	t0 = mono();
	queued = 0;
	if ((e = outbox_link_by_email(r, OUTBOX_RESET, email, &queued)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK) {
		db_rollback(r);
		return resp_qerr(r, e);
	}
	forgot_pad(queued, mono() - t0);
	return empty_answer(r);
}

int
h_account_reset(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	struct user		 u;
	const char		*params[2];
	char			 th[AUTH_HASH_LEN + 1];
	char			 hash[crypto_pwhash_STRBYTES];
	enum qerr		 e;
	int			 st;

	if ((st = token_limit(r, f[RESET_TOKEN].s, OUTBOX_RESET, th)) != 0)
		return st;
	/* Hash before the transaction: never hold locks across 30 ms of CPU. */
	if (auth_password_hash(hash, f[RESET_PASSWORD].s, f[RESET_PASSWORD].len) == -1)
		return resp_qerr(r, QERR_NOMEM);
	if ((e = db_begin(r)) != QERR_OK)
		return account_abort(r, e, hash, sizeof(hash));
	if ((st = token_redeem(r, th, OUTBOX_RESET, &u)) != 0) {
		db_rollback(r);
		sodium_memzero(hash, sizeof(hash));
		return st;
	}
	params[0] = u.id;
	params[1] = hash;
	/* Nobody is signed in: the token's holder has no actor id. */
	if ((e = db_exec(r, DB_PRIMARY, STMT_ACCOUNT_SET_PASSWORD, params, &res)) != QERR_OK ||
	    (e = db_exec(r, DB_PRIMARY, STMT_SESSIONS_END_USER, params, &res)) != QERR_OK ||
	    (e = audit_write(r, AUDIT_PASSWORD_RESET, NULL, u.id)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK)
		return account_abort(r, e, hash, sizeof(hash));
	sodium_memzero(hash, sizeof(hash));
	/* Every session of the user ended: no worker may still vouch for one. */
	account_sessions_ended(r, u.id);
	return empty_answer(r);
}

int
h_account_verify_send(struct req *r)
{
	const struct user	*u = &r->sess->user;
	enum qerr		 e;
	int			 st;

	if (!r->conf->mail_on)
		return no_mail(r);
	if ((st = limit_auth(r, u->email)) != 0)
		return st;
	if (!u->email_verified &&
	    (e = outbox_link_by_id(r, OUTBOX_VERIFY, u->id, 0)) != QERR_OK)
		return resp_qerr(r, e);
	return empty_answer(r);
}

int
h_account_verify(struct req *r)
{
	struct user	 u;
	struct jw	 w;
	char		 th[AUTH_HASH_LEN + 1];
	enum qerr	 e;
	int		 st;

	if ((st = token_limit(r, r->fields[VERIFY_TOKEN].s, OUTBOX_VERIFY, th)) != 0)
		return st;
	/* The token's use and its audit row (no actor: nobody signed in). */
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((st = token_redeem(r, th, OUTBOX_VERIFY, &u)) != 0) {
		db_rollback(r);
		return st;
	}
	if ((e = audit_write(r, AUDIT_EMAIL_VERIFIED, NULL, u.id)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK) {
		db_rollback(r);
		return resp_qerr(r, e);
	}
	/* Cached sessions hold the user row: let them see emailVerified. */
	revoke_user(r, u.id);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "user");
	user_json(&w, &u, USER_VIEW_SELF);
	jw_obj_end(&w);
	return r->out.status;
}
