/*
 * Credential accounts: the user row and the account row that holds its
 * password hash, written together; and the end of an account's sessions.
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

/*
 * Re-authentication (API.md): checks the password pw[0..n) against the
 * stored hash of user_id, on the primary. Returns 0 when it matches, or
 * the answer's status: 403 when it does not (no password at all, as for
 * an imported OAuth-only user, matches nothing), else the error's.
 */
int		 account_reauth(struct req *, const char *user_id, const char *pw,
		    size_t n);

/*
 * Every path that ends sessions of a user (logout, revoking one or the
 * others, an admin's revocation, a ban, a password change or reset, a
 * deletion) calls this once, after the statement or transaction that
 * ended them succeeded: before the answer goes out, no worker of the
 * host may vouch for them any more (app_handle bumps the session cache's
 * generation). The one place to tell other hosts too.
 */
void		 account_sessions_ended(struct req *, const char *user_id);

/*
 * Ends the caller's session with this id (a canonical UUID) and writes
 * its audit row in the same statement: logout when it is the current
 * session, session_revoked otherwise. Sets *live to 0 when there was no
 * such session of the caller's, or it had ended already (may be NULL).
 * Returns QERR_OK or the database error.
 */
enum qerr	 account_session_end(struct req *, const char *session_id,
		    int *live) QUIRE_WUR;

#endif
