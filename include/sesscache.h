/*
 * A worker's short-lived cache of verified sessions, so that a signed-in
 * request need not look its session up in the database every time.
 *
 * Staleness is bounded two ways. On this host (every process sharing the
 * shared segment) any write that ends or changes a session or a user
 * bumps a generation counter before its answer is sent, and an entry
 * fetched under an older generation is never used: a logout, password or
 * role change or deletion takes effect at once on every worker. Changes
 * made through another host reach this host's entries within the
 * entry's lifetime, QUIRE_SESSION_CACHE_MS (0 turns the cache off).
 */
#ifndef QUIRE_SESSCACHE_H
#define QUIRE_SESSCACHE_H

#include <stdint.h>

#include "arena.h"
#include "auth.h"
#include "quire.h"

#define SESSCACHE_SLOTS	64	/* per worker; direct-mapped by token hash */

/*
 * Carves the generation out of the shared segment (start-up, after
 * shm_init(), in the same order in every process). Returns QERR_OK, or
 * QERR_IO with the reason in shm_error(). Without it the generation
 * never moves: keep the cache off (sesscache_init(0)).
 */
enum qerr	 sesscache_shm_init(void) QUIRE_WUR;

/* Entries live ttl_ms at most; 0 disables the cache. Per worker. */
void		 sesscache_init(long ttl_ms);
void		 sesscache_free(void);

/* The generation to pass to sesscache_put: read it before the lookup. */
uint64_t	 sesscache_gen(void);

/* Every entry on this host is out of date (a session or user changed). */
void		 sesscache_invalidate(void);

/*
 * The cached session for a token hash, copied into the arena; NULL on a
 * miss (or when the copy cannot be made).
 */
struct session	*sesscache_get(const char *hash, struct arena *);

/*
 * Keeps a session just verified in the database, read under generation
 * gen. A session close to its expiry is not kept.
 */
void		 sesscache_put(const char *hash, const struct session *, uint64_t gen);

#endif
