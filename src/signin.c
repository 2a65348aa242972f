/*
 * What a successful sign-in writes and answers: the session with its
 * audit row, and {user, token, expiresAt} with the cookie. Shared by
 * signup and login (h_auth.c) and the second step of a 2FA login
 * (h_2fa.c), which sit beside each other, not above one another.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "fmt.h"
#include "jw.h"
#include "resp.h"
#include "ryw.h"
#include "signin.h"
#include "utf8.h"

/* Bytes of User-Agent kept with a session (GET /auth/sessions shows it). */
#define SESSION_UA_MAX	256

enum qerr
signin_session_create(struct req *r, const char *user_id,
    enum audit_action action, char *token, char *expires)
{
	PGresult	*res;
	const char	*params[6 + AUDIT_NPARAMS], *ap[AUDIT_NPARAMS];
	const char	*ua;
	char		 hash[AUTH_HASH_LEN + 1], ttl[24], max_age[24], *ua_short;
	enum qerr	 e;

	auth_token_new(token);
	auth_token_hash(token, hash);
	snprintf(ttl, sizeof(ttl), "%ld", r->conf->session_ttl);
	snprintf(max_age, sizeof(max_age), "%ld", r->conf->session_max_age);
	if ((ua = req_param(r, "HTTP_USER_AGENT")) == NULL)
		ua = "";
	/*
	 * Kept, never refused: cut on a character boundary, invalid bytes
	 * replaced, so no client is locked out by its own User-Agent.
	 */
	if ((ua_short = arena_alloc(r->arena, SESSION_UA_MAX + 1)) == NULL)
		return QERR_NOMEM;
	(void)utf8_clean(ua_short, SESSION_UA_MAX + 1, ua, strlen(ua));
	params[0] = user_id;
	params[1] = hash;
	params[2] = ttl;
	params[3] = auth_client_addr(r);
	params[4] = ua_short;
	params[5] = max_age;
	audit_params(r, action, ap);
	params[6] = ap[0];
	params[7] = ap[2];	/* the address is $4 already */
	if ((e = db_exec(r, DB_PRIMARY, STMT_SESSION_INSERT, params, &res)) != QERR_OK)
		return e;
	if (PQntuples(res) != 1 || fmt_ts(expires, PQgetvalue(res, 0, 1)) == -1)
		return QERR_DB;
	/* The new session's reads must see this request's writes. */
	return ryw_caller(r, hash);
}

int
signin_answer(struct req *r, int status, const struct user *u,
    const char *token, const char *expires)
{
	struct jw	 w;

	resp_ok(r, status, &w);
	jw_obj(&w);
	jw_key(&w, "user");
	user_json(&w, u, USER_VIEW_SELF);
	jw_key(&w, "token");
	jw_str(&w, token);
	jw_key(&w, "expiresAt");
	jw_str(&w, expires);
	jw_obj_end(&w);
	auth_set_cookie(r, token);
	return r->out.status;
}
