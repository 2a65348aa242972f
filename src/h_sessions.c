/*
 * GET /auth/sessions, DELETE /auth/sessions/:id,
 * POST /auth/sessions/revoke-others, and the admin's GET and DELETE
 * /users/:id/sessions. A session is shown by its id (a UUID), never by
 * its token or the token's hash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "fmt.h"
#include "h_sessions.h"
#include "resp.h"

/* The contract's cap on a list of sessions. */
#define SESSIONS_MAX	100

/* STMT_SESSIONS_LIST's columns. */
enum { COL_ID, COL_CREATED, COL_USED, COL_EXPIRES, COL_ADDR, COL_UA };

/* A timestamp column as RFC 3339 (or null when null); -1 when malformed. */
static int
ts_field(struct jw *w, const char *key, const PGresult *res, int row, int col)
{
	char	 ts[FMT_TS_LEN + 1];

	jw_key(w, key);
	if (PQgetisnull(res, row, col)) {
		jw_null(w);
		return 0;
	}
	if (fmt_ts(ts, PQgetvalue(res, row, col)) == -1)
		return -1;
	jw_str(w, ts);
	return 0;
}

static const char *
text_or_null(const PGresult *res, int row, int col)
{

	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/*
 * Answers the sessions of user_id, newest first; current marks the
 * caller's own (NULL: none is, as in an admin's list). Returns the
 * answer's status: 404 when there is no such user.
 */
static int
list(struct req *r, const char *user_id, const char *current)
{
	PGresult	*res;
	const char	*params[2];
	char		 max_age[24];
	struct jw	 w;
	enum qerr	 e;
	int		 i, n;

	snprintf(max_age, sizeof(max_age), "%ld", r->conf->session_max_age);
	params[0] = user_id;
	params[1] = max_age;
	if ((e = db_exec(r, DB_READ, STMT_SESSIONS_LIST, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	if ((n = PQntuples(res)) == 0)
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	resp_ok(r, 200, &w);
	jw_arr(&w);
	for (i = 0; i < n; i++) {
		/* The user's row alone: no session. */
		if (PQgetisnull(res, i, COL_ID))
			continue;
		jw_obj(&w);
		jw_key(&w, "id");
		jw_str(&w, PQgetvalue(res, i, COL_ID));
		if (ts_field(&w, "createdAt", res, i, COL_CREATED) == -1 ||
		    ts_field(&w, "lastUsedAt", res, i, COL_USED) == -1 ||
		    ts_field(&w, "expiresAt", res, i, COL_EXPIRES) == -1)
			return resp_error(r, ERR_INTERNAL, NULL);
		jw_key(&w, "ipAddress");
		jw_str(&w, text_or_null(res, i, COL_ADDR));
		jw_key(&w, "userAgent");
		jw_str(&w, text_or_null(res, i, COL_UA));
		jw_key(&w, "current");
		jw_bool(&w, current != NULL &&
		    strcmp(PQgetvalue(res, i, COL_ID), current) == 0);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	resp_list_meta(r, SESSIONS_MAX, 0, NULL);
	return r->out.status;
}

static int
count_answer(struct req *r, const char *count)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "count");
	jw_int(&w, strtoll(count, NULL, 10));
	jw_obj_end(&w);
	return r->out.status;
}

/* 1 when the path's id is a canonical UUID (anything else is 404). */
static int
id_ok(const struct req *r)
{

	return r->id != NULL && fmt_is_uuid(r->id, strlen(r->id));
}

int
h_sessions_list(struct req *r)
{

	return list(r, r->sess->user.id, r->sess->id);
}

int
h_sessions_delete(struct req *r)
{
	struct jw	 w;
	enum qerr	 e;
	int		 live, current;

	/* Another user's session, an ended one and a non-UUID look alike. */
	if (!id_ok(r))
		return resp_error(r, ERR_NOT_FOUND, "Session not found");
	current = strcmp(r->id, r->sess->id) == 0;
	if ((e = account_session_end(r, r->id, &live)) != QERR_OK)
		return resp_qerr(r, e);
	if (!live)
		return resp_error(r, ERR_NOT_FOUND, "Session not found");
	/* Ending the current session is a logout. */
	if (current)
		auth_set_cookie(r, NULL);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "id");
	jw_str(&w, r->id);
	jw_obj_end(&w);
	return r->out.status;
}

int
h_sessions_revoke_others(struct req *r)
{
	PGresult	*res;
	const char	*params[3 + AUDIT_NPARAMS];
	char		 max_age[24];
	enum qerr	 e;

	snprintf(max_age, sizeof(max_age), "%ld", r->conf->session_max_age);
	params[0] = r->sess->user.id;
	params[1] = r->sess->id;
	params[2] = max_age;
	audit_params(r, AUDIT_SESSION_REVOKED, &params[3]);
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSIONS_REVOKE_OTHERS, params,
	    &res)) != QERR_OK)
		return resp_qerr(r, e);
	if (PQntuples(res) != 1)
		return resp_qerr(r, QERR_DB);
	account_sessions_ended(r, r->sess->user.id);
	return count_answer(r, PQgetvalue(res, 0, 0));
}

int
h_sessions_user_list(struct req *r)
{

	if (!id_ok(r))
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	return list(r, r->id, NULL);
}

int
h_sessions_user_revoke(struct req *r)
{
	PGresult	*res;
	const char	*params[3 + AUDIT_NPARAMS];
	char		 max_age[24];
	enum qerr	 e;

	if (!id_ok(r))
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	snprintf(max_age, sizeof(max_age), "%ld", r->conf->session_max_age);
	params[0] = r->id;
	params[1] = r->sess->user.id;
	params[2] = max_age;
	audit_params(r, AUDIT_SESSION_REVOKED, &params[3]);
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSIONS_REVOKE_USER, params,
	    &res)) != QERR_OK)
		return resp_qerr(r, e);
	if (PQntuples(res) != 1)
		return resp_qerr(r, QERR_DB);
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	account_sessions_ended(r, r->id);
	/* An admin who ended their own sessions ended this one too. */
	if (auth_is_self(r, r->id))
		auth_set_cookie(r, NULL);
	return count_answer(r, PQgetvalue(res, 0, 1));
}
