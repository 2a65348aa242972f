/*
 * The memory shared by every worker of one service on one host: one
 * segment, carved at start-up into regions that each belong to one
 * module (read-your-writes, replica state, the session cache's
 * generation, the metrics), and one lock. This module knows none of its
 * tenants. The supervisor maps the segment before forking; workers
 * started by someone else (spawn-fcgi -F, lighttpd bin-path) share it
 * through the file named by QUIRE_SHM_PATH, or else each keeps its own.
 *
 * Start-up, before any fork: shm_init(), then each tenant's
 * *_shm_init(), which calls shm_alloc(), always in the same order, so
 * that every process finds each region at the same offset.
 */
#ifndef QUIRE_SHM_H
#define QUIRE_SHM_H

#include <stddef.h>

#include "quire.h"

/*
 * Maps the segment: anonymous when path is NULL or "" (shared with
 * children forked later), else the file at path, created (mode 0600) if
 * needed and initialised by the first process that maps it. The file is
 * refused when it is a symbolic link or not a regular file, not owned
 * by the effective user, writable by group or others, or another
 * version's segment. Returns QERR_OK, or QERR_IO with the reason in
 * shm_error(). Also reads QUIRE_TEST_HOOKS, once (shm_test_hook()).
 * Mapping again (tests) unmaps the segment mapped before: every tenant
 * must then carve its region again.
 */
enum qerr	 shm_init(const char *path) QUIRE_WUR;

/*
 * The next region of the segment: size bytes, 64-byte aligned, zeroed
 * when the segment is new (a region's all-zero state must be a valid
 * empty one: nobody initialises it). name says what the region holds
 * and in which layout ("ryw.1"): change it when the layout changes but
 * not the size. A segment file keeps each region's name and size, and a
 * process that carves something else where another carved that region
 * is refused (another version's segment). repair, when not NULL, is
 * called with the region, under the lock, by whoever takes the lock
 * after a holder died (shm_lock()). Returns the region, or NULL (past
 * the segment's capacity, another layout, no segment) with the reason
 * in shm_error(). The region lives as long as the mapping.
 */
void		*shm_alloc(const char *name, size_t size,
		    void (*repair)(void *region));

/*
 * Reloads: the anonymous segment is a memfd kept open across exec; the
 * supervisor puts its descriptor (shm_fd(), -1 for a QUIRE_SHM_PATH
 * file) in SHM_FD_VAR before it re-executes itself, and shm_init() of
 * the new process maps the same segment (shm_inherited()). When the new
 * build's tenants do not fit it, shm_discard() drops it and shm_init()
 * makes a fresh one.
 */
#define SHM_FD_VAR	"QUIRE_SHM_FD"
int		 shm_fd(void);
int		 shm_inherited(void);
void		 shm_discard(void);

/* Why the last shm_init() or shm_alloc() failed: a static string. */
const char	*shm_error(void);

/*
 * The segment's lock, process-shared and robust, for short critical
 * sections over a region. Returns 0 when held, -1 (logged; not
 * expected) when it cannot be had. A holder may die inside its critical
 * section (the OOM killer, SIGKILL): the next taker then runs every
 * region's repair before shm_lock() returns, so the caller always finds
 * consistent regions.
 */
int		 shm_lock(void) QUIRE_WUR;
void		 shm_unlock(void);

/*
 * TEST ONLY. With QUIRE_TEST_HOOKS=1 in the environment at start-up
 * (never in production), shm_test_hooks() is 1 and shm_test_hook() on
 * the value "hold-shm-lock" (request header X-Quire-Test) takes the
 * segment's lock and sleeps holding it, for a test to SIGKILL the
 * worker. Otherwise shm_test_hook() does nothing.
 */
int		 shm_test_hooks(void);
void		 shm_test_hook(const char *what);

#endif
