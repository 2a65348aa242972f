/*
 * The auth rate limit: fixed one-minute windows in the primary's
 * auth_attempts table, so the limit holds across workers and hosts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "auth.h"
#include "db.h"
#include "limit.h"
#include "log.h"
#include "resp.h"

int
limit_auth(struct req *r, const char *email)
{
	PGresult	*res;
	const char	*params[2];
	char		*kaddr, *kemail;
	long		 worst, wait;
	int		 i;
	enum qerr	 e;

	if (r->conf->auth_rate_limit == 0)
		return 0;
	kaddr = arena_printf(r->arena, "addr:%s", auth_client_addr(r));
	kemail = email == NULL ? NULL : arena_printf(r->arena, "email:%s", email);
	if (kaddr == NULL || (email != NULL && kemail == NULL))
		return resp_qerr(r, QERR_NOMEM);
	params[0] = kaddr;
	params[1] = kemail;
	if ((e = db_exec(r, DB_PRIMARY, STMT_RATE_HIT, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	worst = wait = 0;
	for (i = 0; i < PQntuples(res); i++) {
		long c = strtol(PQgetvalue(res, i, 0), NULL, 10);
		long w = strtol(PQgetvalue(res, i, 1), NULL, 10);

		if (c > worst)
			worst = c;
		if (c > r->conf->auth_rate_limit && w > wait)
			wait = w;
	}
	if (worst <= r->conf->auth_rate_limit)
		return 0;
	{
		char	 v[24];

		snprintf(v, sizeof(v), "%ld", wait < 1 ? 1 : wait);
		resp_header(r, "Retry-After", v);
	}
	/* Old windows are dead weight; whoever is limited pays to sweep them. */
	if (db_exec(r, DB_PRIMARY, STMT_RATE_PURGE, NULL, &res) != QERR_OK)
		log_msg(LVL_WARN, r->in.reqid, "rate limit sweep failed");
	return resp_error(r, ERR_RATE_LIMITED, NULL);
}
