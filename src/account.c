/*
 * The user + credential account pair.
 */
#include "config.h"

#include <sodium.h>

#include "account.h"
#include "db.h"
#include "resp.h"

enum qerr
account_create(struct req *r, const char *name, const char *email,
    const char *role, const char *hash, struct user *u)
{
	PGresult	*res;
	const char	*params[3];
	enum qerr	 e;

	params[0] = name;
	params[1] = email;
	params[2] = role;
	if ((e = db_exec(r, DB_PRIMARY, STMT_USER_INSERT, params, &res)) != QERR_OK)
		return e;
	if (PQntuples(res) != 1 || user_from_row(u, res, 0, 0) == -1)
		return QERR_DB;
	params[0] = u->id;
	params[1] = hash;
	return db_exec(r, DB_PRIMARY, STMT_ACCOUNT_INSERT, params, &res);
}

int
account_abort(struct req *r, enum qerr e, char *hash, size_t hashsz)
{

	db_rollback(r);
	sodium_memzero(hash, hashsz);
	if (e == QERR_CONFLICT)
		return resp_error(r, ERR_CONFLICT, "Email already registered");
	return resp_qerr(r, e);
}
