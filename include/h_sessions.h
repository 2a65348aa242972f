/*
 * Session management (API.md "Sessions"): a user's own sessions, and an
 * admin's view and revocation of another user's.
 */
#ifndef QUIRE_H_SESSIONS_H
#define QUIRE_H_SESSIONS_H

#include "req.h"

int	h_sessions_list(struct req *);		/* GET /auth/sessions */
int	h_sessions_delete(struct req *);	/* DELETE /auth/sessions/:id */
int	h_sessions_revoke_others(struct req *);	/* POST /auth/sessions/revoke-others */
int	h_sessions_user_list(struct req *);	/* GET /users/:id/sessions (admin) */
int	h_sessions_user_revoke(struct req *);	/* DELETE /users/:id/sessions (admin) */

#endif
