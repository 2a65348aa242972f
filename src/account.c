/*
 * The user + credential account pair.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "account.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "resp.h"
#include "revoke.h"

enum qerr
account_create(struct req *r, const char *name, const char *email,
    const char *role, const char *hash, struct user *u)
{
	PGresult	*res;
	const char	*params[3];
	enum qerr	 e;

	params[0] = name;
	params[1] = email;
	params[2] = role;
	if ((e = db_exec(r, DB_PRIMARY, STMT_USER_INSERT, params, &res)) != QERR_OK)
		return e;
	if (PQntuples(res) != 1 || user_from_row(u, res, 0, 0) == -1)
		return QERR_DB;
	params[0] = u->id;
	params[1] = hash;
	return db_exec(r, DB_PRIMARY, STMT_ACCOUNT_INSERT, params, &res);
}

int
account_abort(struct req *r, enum qerr e, char *hash, size_t hashsz)
{

	db_rollback(r);
	sodium_memzero(hash, hashsz);
	if (e == QERR_CONFLICT)
		return resp_error(r, ERR_CONFLICT, "Email already registered");
	return resp_qerr(r, e);
}

int
account_reauth(struct req *r, const char *user_id, const char *pw, size_t n)
{
	PGresult	*res;
	const char	*params[1], *hash;
	enum qerr	 e;

	params[0] = user_id;
	if ((e = db_exec(r, DB_PRIMARY, STMT_ACCOUNT_HASH, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	hash = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
	    PQgetvalue(res, 0, 0) : NULL;
	if (auth_password_verify(hash, pw, n) == AUTH_PW_NO)
		return resp_error(r, ERR_FORBIDDEN, "Current password is wrong");
	return 0;
}

void
account_sessions_ended(struct req *r, const char *user_id)
{

	revoke_user(r, user_id);
}

enum qerr
account_session_end(struct req *r, const char *session_id, int *live)
{
	PGresult	*res;
	const char	*params[3 + AUDIT_NPARAMS];
	char		 max_age[24];
	enum qerr	 e;
	int		 yes;

	snprintf(max_age, sizeof(max_age), "%ld", r->conf->session_max_age);
	params[0] = session_id;
	params[1] = r->sess->user.id;
	params[2] = max_age;
	audit_params(r, strcmp(session_id, r->sess->id) == 0 ? AUDIT_LOGOUT :
	    AUDIT_SESSION_REVOKED, &params[3]);
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSION_DELETE, params, &res)) != QERR_OK)
		return e;
	yes = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	if (live != NULL)
		*live = yes;
	/* Even with no row: a cache elsewhere on the host may hold it. */
	account_sessions_ended(r, r->sess->user.id);
	return QERR_OK;
}
