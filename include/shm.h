/*
 * State shared by every worker of one service on one host, in one
 * memory segment: the WAL position of each session's last write (for
 * read-your-writes) and what is known of each replica (replay position,
 * lag). The supervisor maps it before forking; workers started by
 * someone else (spawn-fcgi -F, lighttpd bin-path) share it through the
 * file named by QUIRE_SHM_PATH, or else each keeps its own.
 */
#ifndef QUIRE_SHM_H
#define QUIRE_SHM_H

#include <stdint.h>

#include "quire.h"

#define SHM_REPLICAS	8

/*
 * Maps the segment: anonymous when path is NULL or "" (shared with
 * children forked later), else the file at path, created (mode 0600) if
 * needed and initialised by the first process that maps it. The file is
 * refused when it is a symbolic link or not a regular file, not owned
 * by the effective user, writable by group or others, or another
 * version's segment. Returns QERR_OK, or QERR_IO with the reason in
 * shm_error(). Also reads QUIRE_TEST_HOOKS, once (shm_test_hook()).
 */
enum qerr	 shm_init(const char *path) QUIRE_WUR;

/* Why the last shm_init() failed: a static string, for the log. */
const char	*shm_error(void);

/*
 * TEST ONLY. With QUIRE_TEST_HOOKS=1 in the environment at start-up
 * (never in production), shm_test_hooks() is 1 and shm_test_hook() on
 * the value "hold-shm-lock" (request header X-Quire-Test) takes the
 * segment's lock and sleeps holding it, for a test to SIGKILL the
 * worker. Otherwise shm_test_hook() does nothing.
 */
int		 shm_test_hooks(void);
void		 shm_test_hook(const char *what);

/* A session's key in the table: a hash of its id. */
uint64_t	 shm_key(const char *session_id);

/* Records that session key wrote at WAL position lsn. */
void		 shm_note_write(uint64_t key, uint64_t lsn);

/*
 * The WAL position a replica must have replayed before it may serve
 * this session's reads: its last write's, or 0 when it wrote nothing
 * recently. Never too small: when a session's entry was pushed out of
 * the table, the largest pushed-out position is returned instead.
 */
uint64_t	 shm_required_lsn(uint64_t key);

/*
 * Raises the position every session's reads need: used when a write
 * ends or changes sessions (logout, password change, user deleted), so
 * no replica that has not replayed it can still vouch for them.
 */
void		 shm_raise_floor(uint64_t lsn);

/* The floor alone: what every session check needs (revocations). */
uint64_t	 shm_floor(void);

/* The session cache's generation on this host (sesscache.h). */
uint64_t	 shm_auth_gen(void);
void		 shm_auth_bump(void);

/*
 * The last known replay position and lag of replica i, and when they
 * were read. Setting them returns the lag kept: the one given, bounded
 * by the time since the replica was last seen with nothing to replay.
 */
void		 shm_replica_get(int i, uint64_t *lsn, double *lag, double *at);
double		 shm_replica_set(int i, uint64_t lsn, double lag, double at);

/*
 * Server up-signals: server -1 is the primary, 0.. the replicas. A
 * worker that connects records the time; others in backoff then try at
 * once instead of waiting out their own backoff.
 */
void		 shm_server_up(int server, double at);
double		 shm_server_up_at(int server);

/* "X/Y" (pg_lsn text) to a number; 0 on garbage. */
uint64_t	 shm_parse_lsn(const char *);

#endif
