/*
 * POST and DELETE /users/:id/ban, GET /audit. Every route here is
 * ROUTE_ADMIN: a non-admin has had its 403 before the body was read.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "account.h"
#include "arena.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "fmt.h"
#include "h_admin.h"
#include "page.h"
#include "query.h"
#include "resp.h"
#include "valid.h"

/* The audit page statements' columns. */
enum { AUD_ID, AUD_AT, AUD_ACTION, AUD_ACTOR, AUD_USER, AUD_ADDR, AUD_REQID };

/* Where the first page starts: past every real position. */
#define KEYSET_TOP_TS	"infinity"
#define KEYSET_TOP_ID	"ffffffff-ffff-ffff-ffff-ffffffffffff"

static int
user_answer(struct req *r, const struct user *u)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "user");
	user_json(&w, u, USER_VIEW_ADMIN);
	jw_obj_end(&w);
	return r->out.status;
}

/* Rolls back and answers for a failed step of a ban or unban. */
static int
abort_with(struct req *r, enum qerr e)
{

	db_rollback(r);
	return resp_qerr(r, e);
}

int
h_admin_ban(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	struct user		 u;
	const char		*params[3];
	char			 secs[24];
	enum qerr		 e;

	if (r->id == NULL || !fmt_is_uuid(r->id, strlen(r->id)))
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	/* The caller exists: this is the 403 after the resource's 404. */
	if (auth_is_self(r, r->id))
		return resp_error(r, ERR_FORBIDDEN, "An admin cannot ban themself");
	params[0] = r->id;
	params[1] = f[BAN_REASON].present && !f[BAN_REASON].is_null ?
	    f[BAN_REASON].s : NULL;
	params[2] = NULL;
	if (f[BAN_EXPIRES_IN].present && !f[BAN_EXPIRES_IN].is_null) {
		snprintf(secs, sizeof(secs), "%lld", f[BAN_EXPIRES_IN].n);
		params[2] = secs;
	}
	/* The ban, the end of every session and the audit row: one transaction. */
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((e = db_exec(r, DB_PRIMARY, STMT_USER_BAN, params, &res)) != QERR_OK)
		return abort_with(r, e);
	if (PQntuples(res) != 1) {
		db_rollback(r);
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	}
	if (user_from_row(&u, res, 0, 0) == -1)
		return abort_with(r, QERR_DB);
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSIONS_END_USER, params,
	    &res)) != QERR_OK ||
	    (e = audit_write(r, AUDIT_USER_BANNED, r->sess->user.id, u.id)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK)
		return abort_with(r, e);
	account_sessions_ended(r, u.id);
	return user_answer(r, &u);
}

int
h_admin_unban(struct req *r)
{
	PGresult	*res;
	struct user	 u;
	const char	*params[1];
	enum qerr	 e;

	if (r->id == NULL || !fmt_is_uuid(r->id, strlen(r->id)))
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	params[0] = r->id;
	if ((e = db_begin(r)) != QERR_OK)
		return resp_qerr(r, e);
	if ((e = db_exec(r, DB_PRIMARY, STMT_USER_UNBAN, params, &res)) != QERR_OK)
		return abort_with(r, e);
	if (PQntuples(res) != 1) {
		db_rollback(r);
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	}
	if (user_from_row(&u, res, 0, 0) == -1)
		return abort_with(r, QERR_DB);
	/* Only a ban in force is lifted: an expired one had lifted itself. */
	if (PQgetvalue(res, 0, USER_NCOLS)[0] == 't' &&
	    (e = audit_write(r, AUDIT_USER_UNBANNED, r->sess->user.id, u.id)) != QERR_OK)
		return abort_with(r, e);
	if ((e = db_commit(r)) != QERR_OK)
		return abort_with(r, e);
	return user_answer(r, &u);
}

static int
audit_item(struct req *r, struct jw *w, const PGresult *res, int row)
{
	char	 at[FMT_TS_LEN + 1];
	int	 c;
	static const struct {
		const char	*key;
		int		 col;
	} cols[] = {
		{ "action", AUD_ACTION }, { "actorId", AUD_ACTOR },
		{ "userId", AUD_USER }, { "ipAddress", AUD_ADDR },
		{ "requestId", AUD_REQID },
	};

	(void)r;
	if (fmt_ts(at, PQgetvalue(res, row, AUD_AT)) == -1)
		return -1;
	jw_obj(w);
	jw_key(w, "id");
	jw_str(w, PQgetvalue(res, row, AUD_ID));
	jw_key(w, "at");
	jw_str(w, at);
	for (c = 0; c < (int)(sizeof(cols) / sizeof(cols[0])); c++) {
		jw_key(w, cols[c].key);
		jw_str(w, PQgetisnull(res, row, cols[c].col) ? NULL :
		    PQgetvalue(res, row, cols[c].col));
	}
	jw_obj_end(w);
	return 0;
}

int
h_admin_audit(struct req *r)
{
	struct qval	 q[AUDITQ__MAX];
	PGresult	*res;
	const char	*params[6];
	char		*lim, *off;
	enum stmt	 s;
	enum qerr	 e;
	int		 n, bad;

	if ((e = query_parse(r, &query_audit, q)) != QERR_OK && e != QERR_INVAL)
		return resp_qerr(r, e);
	bad = e == QERR_INVAL;
	/* Named with the other parameters' errors. */
	if (q[AUDITQ_ACTION].present && q[AUDITQ_ACTION].s != NULL &&
	    audit_parse(q[AUDITQ_ACTION].s, q[AUDITQ_ACTION].len) == -1) {
		resp_detail(r, "action", "is not an audit action");
		bad = 1;
	}
	if (bad)
		return resp_error(r, ERR_VALIDATION, "Invalid query parameters");
	n = 0;
	if (q[AUDITQ_USER].present)
		params[n++] = q[AUDITQ_USER].s;
	if (q[AUDITQ_ACTION].present)
		params[n++] = q[AUDITQ_ACTION].s;
	s = q[AUDITQ_USER].present ? (q[AUDITQ_ACTION].present ?
	    STMT_AUDIT_PAGE_BOTH : STMT_AUDIT_PAGE_USER) :
	    q[AUDITQ_ACTION].present ? STMT_AUDIT_PAGE_ACTION : STMT_AUDIT_PAGE;
	/* One row more than shown: it says whether a next page exists. */
	lim = arena_printf(r->arena, "%ld", q[AUDITQ_LIMIT].n + 1);
	off = arena_printf(r->arena, "%ld", q[AUDITQ_OFFSET].n);
	if (lim == NULL || off == NULL)
		return resp_qerr(r, QERR_NOMEM);
	params[n++] = q[AUDITQ_CURSOR].present ? q[AUDITQ_CURSOR].s : KEYSET_TOP_TS;
	params[n++] = q[AUDITQ_CURSOR].present ? q[AUDITQ_CURSOR].id : KEYSET_TOP_ID;
	params[n++] = lim;
	params[n++] = off;
	if ((e = db_exec(r, DB_READ, s, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	return page_answer(r, res, &q[AUDITQ_LIMIT], &q[AUDITQ_OFFSET],
	    &q[AUDITQ_CURSOR], AUD_AT, audit_item);
}
