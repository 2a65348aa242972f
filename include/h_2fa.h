/*
 * Two-factor authentication (API.md "Two-factor authentication"): TOTP
 * set up, enabled and disabled by the user, the second step of a login,
 * and the admin's way out for a user who lost their device.
 */
#ifndef QUIRE_H_2FA_H
#define QUIRE_H_2FA_H

#include "req.h"
#include "user.h"

int	h_2fa_setup(struct req *);	/* POST /auth/2fa/setup */
int	h_2fa_enable(struct req *);	/* POST /auth/2fa/enable */
int	h_2fa_disable(struct req *);	/* POST /auth/2fa/disable */
int	h_2fa_verify(struct req *);	/* POST /auth/2fa/verify */
int	h_2fa_admin_disable(struct req *);	/* DELETE /users/:id/2fa */

/*
 * The answer of a login whose password was right for user u, who has 2FA
 * on: a fresh challenge (5 minutes, 5 codes), no session and no cookie.
 * Returns the status.
 */
int	h_2fa_challenge(struct req *, const struct user *u);

#endif
