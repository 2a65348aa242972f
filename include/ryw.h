/*
 * Read-your-writes (docs/consistency.md): the WAL position of each
 * session's last write, kept in a table in the shared segment (shm.h)
 * that every worker of the host sees, and the floor that every session
 * inherits (entries pushed out of the table). A request with a session
 * reads from a replica only once it has replayed that far, and so does
 * any request that brings a read position from another host (pos.h):
 * r->ryw.min_lsn, which db.c honours.
 */
#ifndef QUIRE_RYW_H
#define QUIRE_RYW_H

#include <stdint.h>

#include "quire.h"
#include "req.h"

/*
 * Carves the table out of the shared segment (start-up, after
 * shm_init(), in the same order in every process). Returns QERR_OK, or
 * QERR_IO with the reason in shm_error(). Before it, or when it failed,
 * nothing is recorded and every read may use any replica.
 */
enum qerr	 ryw_shm_init(void) QUIRE_WUR;

/*
 * The request comes with a session token whose hash is hash: its
 * writes will be recorded under it (r->ryw.key, copied into the arena).
 * Returns QERR_OK or QERR_NOMEM.
 */
enum qerr	 ryw_caller(struct req *, const char *hash) QUIRE_WUR;

/*
 * Sets r->ryw.min_lsn for the session check: a replica that has replayed
 * what every session must see (the floor) and the position the client
 * brought (r->ryw.client_lsn, pos.h). The caller's own later writes
 * (posts, say) do not change its session row, so they do not hold it
 * back.
 */
void		 ryw_need_floor(struct req *);

/*
 * Sets r->ryw.min_lsn for the rest of the request: the caller's own
 * writes on this host, and the position the client brought.
 */
void		 ryw_need_own(struct req *);

/*
 * After the handler: when the request committed a write, records and
 * records the primary's WAL position under the caller's session
 * (r->ryw.key); at least revoked_lsn, the position revoke_commit read
 * after announcing this request's revocations (0: none), and hands the
 * position to the client (pos_emit: Quire-Read-After and the quire_pos
 * cookie), so that later reads, on any host, go to a replica only once
 * it has replayed that far. With no replica configured only the
 * revocations are done: every read is the primary's.
 */
void		 ryw_note_writes(struct req *, uint64_t revoked_lsn);

/* The largest position this host ever noted (0 without a table). */
uint64_t	 ryw_high(void);

/* A session's key in the table: a hash of its token hash. */
uint64_t	 ryw_key(const char *hash);

/* Records that session key wrote at WAL position lsn. */
void		 ryw_note_write(uint64_t key, uint64_t lsn);

/*
 * The WAL position a replica must have replayed before it may serve
 * this session's reads: its last write's, or 0 when it wrote nothing
 * recently. Never too small: when a session's entry was pushed out of
 * the table, the largest pushed-out position is returned instead.
 */
uint64_t	 ryw_required_lsn(uint64_t key);

/*
 * Raises the position every session's reads need (the floor). Kept for
 * what must hold for everyone; revocations are per user (revoke.h).
 */
void		 ryw_raise_floor(uint64_t lsn);

/* The floor alone: what every session check needs. */
uint64_t	 ryw_floor(void);

#endif
