/*
 * The audit log: the action names and the one place rows are written
 * from (folded statements take their values from audit_params).
 */
#include "config.h"

#include <string.h>

#include "audit.h"
#include "auth.h"
#include "db.h"

/* Also the CHECK of audit_log.action (schema/005-sessions-audit.sql). */
static const char *const names[AUDIT__MAX] = {
	[AUDIT_SIGNUP] = "signup",
	[AUDIT_LOGIN] = "login",
	[AUDIT_LOGIN_FAILED] = "login_failed",
	[AUDIT_LOGOUT] = "logout",
	[AUDIT_PASSWORD_CHANGED] = "password_changed",
	[AUDIT_PASSWORD_RESET_REQUESTED] = "password_reset_requested",
	[AUDIT_PASSWORD_RESET] = "password_reset",
	[AUDIT_EMAIL_CHANGED] = "email_changed",
	[AUDIT_EMAIL_VERIFIED] = "email_verified",
	[AUDIT_SESSION_REVOKED] = "session_revoked",
	[AUDIT_USER_BANNED] = "user_banned",
	[AUDIT_USER_UNBANNED] = "user_unbanned",
	[AUDIT_ROLE_CHANGED] = "role_changed",
	[AUDIT_USER_DELETED] = "user_deleted",
	[AUDIT_TWO_FACTOR_ENABLED] = "two_factor_enabled",
	[AUDIT_TWO_FACTOR_DISABLED] = "two_factor_disabled",
};

const char *
audit_name(enum audit_action a)
{

	return (unsigned int)a < AUDIT__MAX ? names[a] : "unknown";
}

int
audit_parse(const char *s, size_t n)
{
	int	 i;

	for (i = 0; i < AUDIT__MAX; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

void
audit_params(struct req *r, enum audit_action a, const char **p)
{

	p[0] = audit_name(a);
	p[1] = auth_client_addr(r);
	p[2] = r->in.reqid;
}

enum qerr
audit_write(struct req *r, enum audit_action a, const char *actor_id,
    const char *user_id)
{
	PGresult	*res;
	const char	*params[5];

	params[0] = audit_name(a);
	params[1] = actor_id;
	params[2] = user_id;
	params[3] = auth_client_addr(r);
	params[4] = r->in.reqid;
	return db_exec(r, DB_PRIMARY, STMT_AUDIT_INSERT, params, &res);
}
