/*
 * quirectl prune (ctl_prune.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "conf.h"
#include "ctl_prune.h"
#include "stmts.h"

/*
 * A number from the environment as the app reads it (conf.c): empty or
 * unset is the default. Returns 0, or -1 after saying what is wrong.
 */
static int
env_long(const char *name, const char *def, long min, long max, long *out)
{
	const char	*v;

	if ((v = getenv(name)) == NULL || *v == '\0')
		v = def;
	if (conf_parse_long(v, min, max, out) != QERR_OK) {
		fprintf(stderr, "quirectl: %s must be a whole number from %ld "
		    "to %ld\n", name, min, max);
		return -1;
	}
	return 0;
}

/*
 * Runs statement s (its batch size last among params, when it has one)
 * until a batch deletes fewer rows than a batch holds. Adds the rows
 * deleted to *total. Returns 0, or -1 after printing the error.
 */
static int
batches(PGconn *c, enum stmt s, const char *const *params, long *total)
{
	const struct stmt_def	*d = &stmt_defs[s];
	PGresult		*res;
	long			 n;

	*total = 0;
	do {
		res = PQexecParams(c, d->sql, d->nparams, NULL, params, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "quirectl: prune: %s: %s", d->name,
			    PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		n = strtol(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		*total += n;
	} while (n >= CTL_PRUNE_BATCH);
	return 0;
}

int
ctl_prune(PGconn *c)
{
	const char	*params[2];
	char		 age[24], days[24], batch[24];
	long		 max_age, retention, ns, nt, na, nr, nc;

	if (env_long("QUIRE_SESSION_MAX_AGE", CONF_SESSION_MAX_AGE_DEF, 1,
	    CONF_SESSION_MAX_AGE_MAX, &max_age) == -1 ||
	    env_long("QUIRE_AUDIT_RETENTION_DAYS", CONF_AUDIT_RETENTION_DEF, 1,
	    CONF_AUDIT_RETENTION_MAX, &retention) == -1)
		return 1;
	snprintf(age, sizeof(age), "%ld", max_age);
	snprintf(days, sizeof(days), "%ld", retention);
	snprintf(batch, sizeof(batch), "%d", CTL_PRUNE_BATCH);
	ns = nt = na = nr = nc = 0;
	params[0] = age;
	params[1] = batch;
	if (batches(c, STMT_PRUNE_SESSIONS, params, &ns) == -1)
		goto fail;
	params[0] = batch;
	if (batches(c, STMT_PRUNE_TOKENS, params, &nt) == -1)
		goto fail;
	params[0] = days;
	params[1] = batch;
	if (batches(c, STMT_PRUNE_AUDIT, params, &na) == -1)
		goto fail;
	params[0] = batch;
	if (batches(c, STMT_PRUNE_CHALLENGES, params, &nc) == -1)
		goto fail;
	/* One statement: the table holds a row per address and email a minute. */
	if (batches(c, STMT_RATE_PURGE, NULL, &nr) == -1)
		goto fail;
	printf("pruned: %ld sessions, %ld one-time tokens, %ld audit rows "
	    "older than %ld days, %ld rate-limit windows, %ld 2FA challenges\n",
	    ns, nt, na, retention, nr, nc);
	return 0;
fail:
	printf("pruned before the error: %ld sessions, %ld one-time tokens, "
	    "%ld audit rows, %ld rate-limit windows, %ld 2FA challenges\n",
	    ns, nt, na, nr, nc);
	return 1;
}
