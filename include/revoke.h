/*
 * Revocation (docs/consistency.md, "Revocation"): when a request ends or
 * changes a user's sessions (logout, password change or reset, session
 * revoke, ban, role or profile change, deletion), every host must stop
 * vouching for that user's old sessions at once.
 *
 * This host records it in a table in the shared segment before the
 * answer goes out, keyed by user: a sequence number, which makes every
 * worker's cached sessions of that user (sesscache.h) stale, and the
 * WAL position of the change, below which no replica may serve that
 * user's session lookups. The other hosts learn it from a NOTIFY on the
 * primary (channel quire_revoke, payload "<user id> <position>", or "*"
 * for every user), which one process per host LISTENs for (notify.h)
 * and records the same way.
 */
#ifndef QUIRE_REVOKE_H
#define QUIRE_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "quire.h"
#include "req.h"

/* The payload's user for "every user". */
#define REVOKE_ALL_USERS	"*"
/* Bytes of a notification's payload we accept: a user id and a position. */
#define REVOKE_PAYLOAD_MAX	128

/*
 * Carves the table out of the shared segment (start-up, after
 * shm_init(), in the same order in every process). Returns QERR_OK, or
 * QERR_IO with the reason in shm_error(). Without it nothing is
 * recorded: keep the session cache off then.
 */
enum qerr	 revoke_shm_init(void) QUIRE_WUR;

/*
 * THE call for handlers: this request ends or changes the sessions of
 * user user_id (copied). Call it once the change is made (in or out of
 * a transaction) and before the handler returns; it does nothing else
 * until the request's writes have committed. Then app_handle
 * (revoke_commit, then ryw_note_writes) records it on this host and
 * notifies every other host, before the answer goes out. Never fails:
 * with no memory left, or past a few users in one request, every user
 * of the host is treated as changed.
 */
void		 revoke_user(struct req *r, const char *user_id);

/*
 * After the handler, when the request committed a write and called
 * revoke_user (or set r->ryw.revoked, which means every user): sends
 * the NOTIFY on the primary and records each user here. Returns the
 * primary's WAL position after the change (the largest the NOTIFYs
 * read), or 0 when it could not be read.
 */
uint64_t	 revoke_commit(struct req *r);

/*
 * The current sequence number: read it before a session lookup and keep
 * it with what the lookup found (sesscache_put).
 */
uint64_t	 revoke_seq(void);

/*
 * 1 when nothing about user_id changed since sequence number seq (what
 * was read then is still good), 0 otherwise.
 */
int		 revoke_fresh(const char *user_id, uint64_t seq);

/*
 * The WAL position a server must have replayed before its answer to a
 * session lookup of user_id may be believed: that of the user's last
 * recorded change, or of the oldest change the table had to forget.
 */
uint64_t	 revoke_required_lsn(const char *user_id);

/* Records a change of user_id at WAL position lsn (0: unknown). */
void		 revoke_note(const char *user_id, uint64_t lsn);

/*
 * Every user changed at position lsn: what a host that may have missed
 * notifications (its listener reconnected) must assume.
 */
void		 revoke_all(uint64_t lsn);

/*
 * Parses a notification's payload, "<user id> <position>" or
 * "* <position>": the user into user (REVOKE_PAYLOAD_MAX bytes), the
 * position into *lsn. Returns 0, or -1 when the payload is not one.
 */
int		 revoke_parse(const char *payload, char *user, uint64_t *lsn);

#endif
