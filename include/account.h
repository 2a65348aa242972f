/*
 * Credential accounts: the user row and the account row that holds its
 * password hash, written together.
 */
#ifndef QUIRE_ACCOUNT_H
#define QUIRE_ACCOUNT_H

#include <stddef.h>

#include "req.h"
#include "user.h"

/*
 * Inside an open transaction: inserts the user (email lower-cased by the
 * database) and its credential account with the given Argon2id hash.
 * Fills u (borrowing from arena-owned results). Returns QERR_CONFLICT
 * for a taken email.
 */
enum qerr	 account_create(struct req *, const char *name, const char *email,
		    const char *role, const char *hash, struct user *u) QUIRE_WUR;

/*
 * Ends a failed account write: rolls the transaction back, wipes the
 * hash buffer and answers (409 for a taken email, else by e). Returns
 * the status.
 */
int		 account_abort(struct req *, enum qerr e, char *hash, size_t hashsz);

#endif
