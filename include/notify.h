/*
 * The revocation listener (revoke.h, docs/consistency.md): one process
 * per host holds one connection to the primary, LISTENs on quire_revoke
 * and records every notification in the shared segment, where every
 * worker of the host sees it. The supervisor (quire --workers N) forks
 * it beside the workers and replaces it when it dies; a single process
 * (--workers 1) forks one of its own. When several processes share one
 * segment without a supervisor (spawn-fcgi -F N with QUIRE_SHM_PATH),
 * each forks one, and a lease in the segment lets one of them listen
 * while the others wait to take over.
 *
 * The connection follows the primary: it is checked every second (a
 * statement that must answer within a second and must find a primary,
 * not a standby), and made again at once when lost (a restart, a
 * failover), with a short capped backoff. Notifications sent while it
 * was away are lost, so on every connect it records "every user changed
 * at the primary's current position" (revoke_all): each host looks
 * every session up once more, from a server that has replayed that far.
 */
#ifndef QUIRE_NOTIFY_H
#define QUIRE_NOTIFY_H

#include <sys/types.h>

#include "conf.h"
#include "quire.h"

/* The listener's process name (comm), for ps and the stack scripts. */
#define NOTIFY_PROCESS_NAME	"quire-listen"

/*
 * Carves the lease out of the shared segment (start-up, after
 * shm_init(), in the same order in every process). Returns QERR_OK, or
 * QERR_IO with the reason in shm_error().
 */
enum qerr	 notify_shm_init(void) QUIRE_WUR;

/*
 * Forks the listener. The child closes the FastCGI socket, names itself
 * NOTIFY_PROCESS_NAME, dies with its parent and runs notify_run() until
 * SIGTERM or SIGINT. Returns the child's PID, or -1 (logged) when the
 * fork failed.
 */
pid_t		 notify_spawn(const struct conf *);

/* The listener's loop; returns the exit status. */
int		 notify_run(const struct conf *);

#endif
