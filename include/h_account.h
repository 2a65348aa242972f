/*
 * Account lifecycle (API.md "Account lifecycle"): password reset and
 * email verification by mailed one-time tokens.
 */
#ifndef QUIRE_H_ACCOUNT_H
#define QUIRE_H_ACCOUNT_H

#include "req.h"

int	h_account_forgot(struct req *);		/* POST /auth/password/forgot */
int	h_account_reset(struct req *);		/* POST /auth/password/reset */
int	h_account_verify_send(struct req *);	/* POST /auth/verify-email/send */
int	h_account_verify(struct req *);		/* POST /auth/verify-email */

#endif
