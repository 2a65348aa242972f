/*
 * quirectl prune: the housekeeping a cron job or a systemd timer runs
 * (docs/operations.md, "Housekeeping").
 */
#ifndef QUIRE_CTL_PRUNE_H
#define QUIRE_CTL_PRUNE_H

#include <libpq-fe.h>

/*
 * Deletes, in batches of CTL_PRUNE_BATCH rows (each batch its own
 * transaction, skipping rows a request holds, so it is safe to run while
 * serving): sessions that have ended (their expiry or
 * QUIRE_SESSION_MAX_AGE passed), used or expired one-time tokens, audit
 * rows older than QUIRE_AUDIT_RETENTION_DAYS, used or expired 2FA
 * challenges, and spent rate-limit windows. Prints what it deleted. Returns the exit status: 0, or 1
 * after an error (what was deleted before it stays deleted).
 */
#define CTL_PRUNE_BATCH	1000
int	ctl_prune(PGconn *);

#endif
