/*
 * GET/POST /users, GET/PATCH/DELETE /users/:id.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "account.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "h_users.h"
#include "limit.h"
#include "outbox.h"
#include "page.h"
#include "resp.h"
#include "revoke.h"
#include "valid.h"

#define USER_COL_CREATED	6

static int
user_item(struct req *r, struct jw *w, const PGresult *res, int row)
{
	struct user	 u;

	if (user_from_row(&u, res, row, 0) == -1)
		return -1;
	user_json(w, &u, auth_user_view(r, u.id));
	return 0;
}

int
h_users_list(struct req *r)
{
	struct qval	 q[PAGE__MAX];
	const char	*params[3];
	int		 st;

	if ((st = page_query(r, &query_page, q)) != 0)
		return st;
	return page_run(r, q, STMT_USERS_OFFSET, STMT_USERS_AFTER, params, 0,
	    USER_COL_CREATED, user_item);
}

/*
 * Loads the user of the path's id into u, from the primary when
 * fresh is set. Returns 0, or the answer's status (404, 503).
 */
static int
load(struct req *r, struct user *u, int fresh)
{
	PGresult	*res;
	int		 st;

	if ((st = page_one(r, STMT_USER_GET, fresh, "User", &res)) != 0)
		return st;
	if (user_from_row(u, res, 0, 0) == -1)
		return resp_qerr(r, QERR_DB);
	return 0;
}

static int
user_answer(struct req *r, int status, const struct user *u)
{
	struct jw	 w;

	resp_ok(r, status, &w);
	user_json(&w, u, auth_user_view(r, u->id));
	return r->out.status;
}

int
h_users_get(struct req *r)
{
	struct user	 u;
	int		 st;

	if ((st = load(r, &u, 0)) != 0)
		return st;
	return user_answer(r, 200, &u);
}

int
h_users_create(struct req *r)
{
	const struct fieldval	*f = r->fields;
	struct user		 u;
	char			 hash[crypto_pwhash_STRBYTES];
	enum qerr		 e;

	if (auth_password_hash(hash, f[USER_PASSWORD].s, f[USER_PASSWORD].len) == -1)
		return resp_qerr(r, QERR_NOMEM);
	if ((e = db_begin(r)) != QERR_OK ||
	    (e = account_create(r, f[USER_NAME].s, f[USER_EMAIL].s,
	    f[USER_ROLE].present ? f[USER_ROLE].s : "user", hash, &u)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK)
		return account_abort(r, e, hash, sizeof(hash));
	sodium_memzero(hash, sizeof(hash));
	return user_answer(r, 201, &u);
}

/*
 * Re-authentication (API.md): currentPassword against the user's stored
 * hash. Returns 0, or the answer's status (403 when it is wrong).
 */
static int
reauth(struct req *r, const char *user_id)
{
	const struct fieldval	*cp = &r->fields[USER_CURRENT_PASSWORD];

	return account_reauth(r, user_id, cp->s, cp->len);
}

int
h_users_patch(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	struct user		 u;
	const char		*params[6], *old_email, *old_role;
	char			 hash[crypto_pwhash_STRBYTES];
	enum qerr		 e;
	int			 st, any, self, email_changed, role_changed;

	if ((st = load(r, &u, 1)) != 0)
		return st;
	self = auth_is_self(r, u.id);
	if (!self && !auth_is_admin(r))
		return resp_error(r, ERR_FORBIDDEN, "Only the user or an admin may change a user");
	if (f[USER_ROLE].present && !auth_is_admin(r))
		return resp_error(r, ERR_FORBIDDEN, "Only an admin may set a role");
	/* The id as sent may differ in case from the canonical one. */
	if (self && (f[USER_PASSWORD].present || f[USER_EMAIL].present) &&
	    !f[USER_CURRENT_PASSWORD].present) {
		resp_detail(r, "currentPassword",
		    "is required to change your own password or email");
		return resp_error(r, ERR_VALIDATION, NULL);
	}
	/* Every request carrying a credential counts, whatever its answer. */
	if (f[USER_CURRENT_PASSWORD].present &&
	    (st = limit_auth(r, r->sess->user.email)) != 0)
		return st;
	if (self && (f[USER_PASSWORD].present || f[USER_EMAIL].present) &&
	    (st = reauth(r, u.id)) != 0)
		return st;
	any = 0;
	for (st = 0; st < USER__MAX; st++)
		if (st != USER_CURRENT_PASSWORD)
			any |= f[st].present;
	if (!any)
		return user_answer(r, 200, &u);
	old_email = u.email;
	old_role = u.role;
	email_changed = f[USER_EMAIL].present && strcmp(f[USER_EMAIL].s, u.email) != 0;
	if (f[USER_PASSWORD].present &&
	    auth_password_hash(hash, f[USER_PASSWORD].s, f[USER_PASSWORD].len) == -1)
		return resp_qerr(r, QERR_NOMEM);
	if ((e = db_begin(r)) != QERR_OK)
		goto fail;
	params[0] = u.id;
	params[1] = f[USER_NAME].present ? f[USER_NAME].s : NULL;
	params[2] = f[USER_EMAIL].present ? f[USER_EMAIL].s : NULL;
	params[3] = f[USER_IMAGE].present ? "true" : "false";
	params[4] = f[USER_IMAGE].present && !f[USER_IMAGE].is_null ?
	    f[USER_IMAGE].s : NULL;
	params[5] = f[USER_ROLE].present ? f[USER_ROLE].s : NULL;
	if ((e = db_exec(r, DB_PRIMARY, STMT_USER_UPDATE, params, &res)) != QERR_OK)
		goto fail;
	if (PQntuples(res) != 1) {
		/* Deleted since we looked. */
		db_rollback(r);
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	}
	if (user_from_row(&u, res, 0, 0) == -1) {
		e = QERR_DB;
		goto fail;
	}
	role_changed = strcmp(old_role, u.role) != 0;
	/* Each change its row, in this transaction; the caller is the actor. */
	if ((email_changed && (e = audit_write(r, AUDIT_EMAIL_CHANGED,
	    r->sess->user.id, u.id)) != QERR_OK) ||
	    (role_changed && (e = audit_write(r, AUDIT_ROLE_CHANGED,
	    r->sess->user.id, u.id)) != QERR_OK) ||
	    (f[USER_PASSWORD].present && (e = audit_write(r,
	    AUDIT_PASSWORD_CHANGED, r->sess->user.id, u.id)) != QERR_OK))
		goto fail;
	if (f[USER_PASSWORD].present) {
		params[1] = hash;
		if ((e = db_exec(r, DB_PRIMARY, STMT_ACCOUNT_SET_PASSWORD,
		    params, &res)) != QERR_OK)
			goto fail;
		/* One's own change keeps the current session; an admin's ends all. */
		params[1] = r->sess->id;
		e = db_exec(r, DB_PRIMARY, self ? STMT_SESSIONS_END_OTHERS :
		    STMT_SESSIONS_END_USER, params, &res);
		if (e != QERR_OK)
			goto fail;
	}
	/*
	 * The new address proves itself by its link; the old one hears of
	 * the change, with no link in it. Queued in this transaction.
	 */
	if (email_changed && r->conf->mail_on &&
	    ((e = outbox_link_by_id(r, OUTBOX_VERIFY, u.id, 0)) != QERR_OK ||
	    (e = outbox_notice(r, OUTBOX_EMAIL_CHANGED, old_email, u.name)) != QERR_OK))
		goto fail;
	if ((e = db_commit(r)) != QERR_OK)
		goto fail;
	/* Sessions carry the user's role and may have ended: no stale vouching. */
	revoke_user(r, u.id);
	sodium_memzero(hash, sizeof(hash));
	return user_answer(r, 200, &u);
fail:
	return account_abort(r, e, hash, sizeof(hash));
}

int
h_users_delete(struct req *r)
{
	PGresult	*res;
	struct user	 u;
	const char	*params[1];
	struct jw	 w;
	enum qerr	 e;
	int		 st;

	if ((st = load(r, &u, 1)) != 0)
		return st;
	if (!auth_is_self(r, u.id) && !auth_is_admin(r))
		return resp_error(r, ERR_FORBIDDEN, "Only the user or an admin may delete a user");
	params[0] = u.id;
	/* The audit row outlives the user (no foreign key), not the rollback. */
	if ((e = db_begin(r)) != QERR_OK ||
	    (e = db_exec(r, DB_PRIMARY, STMT_USER_DELETE, params, &res)) != QERR_OK) {
		db_rollback(r);
		return resp_qerr(r, e);
	}
	if (PQntuples(res) != 1) {
		db_rollback(r);
		return resp_error(r, ERR_NOT_FOUND, "User not found");
	}
	if ((e = audit_write(r, AUDIT_USER_DELETED, r->sess->user.id, u.id)) != QERR_OK ||
	    (e = db_commit(r)) != QERR_OK) {
		db_rollback(r);
		return resp_qerr(r, e);
	}
	account_sessions_ended(r, u.id);
	if (auth_is_self(r, u.id) && r->sess->via_cookie)
		auth_set_cookie(r, NULL);
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "id");
	jw_str(&w, PQgetvalue(res, 0, 0));
	jw_obj_end(&w);
	return r->out.status;
}
