/*
 * The audit log (API.md "Bans and the audit log"): one row per security
 * event in the audit_log table, written in the transaction of the change
 * it records, so a rolled-back change leaves no row. Each row names the
 * action, the actor (the signed-in user who made the request; for
 * signup, login and login_failed the user signing in), the user the
 * action concerns, the client address and the request id, which joins it
 * to the request's log line. Never an email, a password or a token.
 */
#ifndef QUIRE_AUDIT_H
#define QUIRE_AUDIT_H

#include <stddef.h>

#include "quire.h"
#include "req.h"

/* The contract's actions; audit_name() gives the stored and shown name. */
enum audit_action {
	AUDIT_SIGNUP,
	AUDIT_LOGIN,
	AUDIT_LOGIN_FAILED,
	AUDIT_LOGOUT,
	AUDIT_PASSWORD_CHANGED,
	AUDIT_PASSWORD_RESET_REQUESTED,
	AUDIT_PASSWORD_RESET,
	AUDIT_EMAIL_CHANGED,
	AUDIT_EMAIL_VERIFIED,
	AUDIT_SESSION_REVOKED,
	AUDIT_USER_BANNED,
	AUDIT_USER_UNBANNED,
	AUDIT_ROLE_CHANGED,
	AUDIT_USER_DELETED,
	AUDIT_TWO_FACTOR_ENABLED,
	AUDIT_TWO_FACTOR_DISABLED,
	AUDIT__MAX
};

/* "signup", "login_failed", ...: a static string. */
const char	*audit_name(enum audit_action);

/* The action named s[0..n), or -1 when it is none of them. */
int		 audit_parse(const char *s, size_t n);

/*
 * Writes one audit row for the request: action, actor_id and user_id
 * (each NULL when there is none), the client address (auth_client_addr)
 * and the request id. Call it inside the transaction of the change it
 * records (db_begin ... db_commit); outside one it is a change of its own
 * (login_failed). Returns QERR_OK or the database error.
 */
enum qerr	 audit_write(struct req *, enum audit_action,
		    const char *actor_id, const char *user_id) QUIRE_WUR;

/*
 * For a statement that writes its audit row itself, in the same
 * statement as its change (stmts.c names them): fills p[0..AUDIT_NPARAMS)
 * with the action's name, the client address and the request id, in
 * that order. The strings are static or owned by r.
 */
#define AUDIT_NPARAMS	3
void		 audit_params(struct req *, enum audit_action, const char **p);

#endif
