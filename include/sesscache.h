/*
 * A worker's short-lived cache of verified sessions, so that a signed-in
 * request need not look its session up in the database every time.
 *
 * Staleness is bounded three ways. Any request that ends or changes a
 * user's sessions or the user (revoke.h) records it in the shared
 * segment before its answer is sent, on this host at once and on every
 * other host when the NOTIFY arrives, and an entry of that user fetched
 * before is never used again. An entry is as new as the position its
 * lookup was made at, and a request that brings a newer read position
 * (pos.h) does not use it. Anything else (SQL run by hand) reaches the
 * entries within their lifetime, QUIRE_SESSION_CACHE_MS (0 turns the
 * cache off).
 */
#ifndef QUIRE_SESSCACHE_H
#define QUIRE_SESSCACHE_H

#include <stdint.h>

#include "arena.h"
#include "auth.h"
#include "quire.h"

#define SESSCACHE_SLOTS	64	/* per worker; direct-mapped by token hash */

/* Entries live ttl_ms at most; 0 disables the cache. Per worker. */
void		 sesscache_init(long ttl_ms);
void		 sesscache_free(void);

/* Every entry on this host is out of date (revoke_all()). */
void		 sesscache_invalidate(void);

/*
 * The cached session for a token hash, copied into the arena; NULL on a
 * miss, when its user changed since it was fetched (revoke_fresh()),
 * when it is older than position min_lsn, or when the copy cannot be
 * made.
 */
struct session	*sesscache_get(const char *hash, struct arena *, uint64_t min_lsn);

/*
 * Keeps a session just verified in the database: seq is revoke_seq()
 * read before the lookup, lsn a position the answer was at least as
 * new as. A session close to its expiry is not kept.
 */
void		 sesscache_put(const char *hash, const struct session *,
		    uint64_t seq, uint64_t lsn);

#endif
