/*
 * What a successful sign-in writes and answers (signup, login, and
 * /auth/2fa/verify).
 */
#ifndef QUIRE_SIGNIN_H
#define QUIRE_SIGNIN_H

#include "audit.h"
#include "req.h"
#include "user.h"

/*
 * Creates a session for user_id and its audit row (action: signup or
 * login), in one statement; inside the caller's transaction when one is
 * open. Writes the token into token (AUTH_TOKEN_LEN + 1 bytes) and the
 * expiry into expires (FMT_TS_LEN + 1). Returns QERR_OK or the database
 * error.
 */
enum qerr	signin_session_create(struct req *, const char *user_id,
		    enum audit_action action, char *token, char *expires) QUIRE_WUR;

/*
 * The answer of signup, login and /auth/2fa/verify: {user, token,
 * expiresAt} and the cookie. Returns the status.
 */
int	signin_answer(struct req *, int status, const struct user *u,
	    const char *token, const char *expires);

#endif
