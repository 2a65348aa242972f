/*
 * The database layer: persistent per-worker connections to the primary
 * and the replicas, the catalogue prepared once per connection, routing
 * of reads and writes (a replica's lag, and the caller's own writes:
 * r->ryw.min_lsn), reconnection with backoff. What is known of each server
 * is shared by the host's workers, in the shared segment (shm.h).
 */
#ifndef QUIRE_DB_H
#define QUIRE_DB_H

#include <stdint.h>

#include <libpq-fe.h>

#include "conf.h"
#include "quire.h"
#include "stmts.h"

struct req;

enum db_target {
	DB_READ,	/* a healthy replica, else the primary */
	DB_PRIMARY	/* writes, transactions, reads that must be fresh */
};

struct dbconn {
	PGconn		*conn;
	const char	*url;
	const char	*name;		/* "primary" or "replica" */
	int		 is_replica;
	int		 server;	/* -1 primary, else the replica's index */
	double		 failed_at;	/* monotonic: the last failed connect */
	double		 retry_at;	/* monotonic: no connect attempt before */
	double		 backoff;	/* seconds, doubles up to a cap */
	unsigned long	 reconnects;
	unsigned long	 errors;
	const char	*reqid;		/* while db_exec runs: its notices' */
};

struct db {
	const struct conf	*conf;
	struct dbconn		 primary;
	struct dbconn		 replicas[CONF_MAX_REPLICAS];
	size_t			 nreplicas;
	size_t			 next_replica;
	int			 in_tx;
};

/*
 * Carves the servers' shared state out of the shared segment (start-up,
 * after shm_init(), in the same order in every process). Returns
 * QERR_OK, or QERR_IO with the reason in shm_error(). Without it
 * nothing is kept: every read asks its replica afresh.
 */
enum qerr	 db_shm_init(void) QUIRE_WUR;

void		 db_init(struct db *, const struct conf *);
void		 db_close(struct db *);

/*
 * Runs a catalogue statement with text parameters (NULL for SQL NULL).
 * Reads (DB_READ) go to a replica when one is healthy and are retried
 * once on a fresh connection; inside a transaction everything goes to
 * the primary. On QERR_OK *res is owned by r's arena. Records the pool
 * used in r->out.pool.
 */
enum qerr	 db_exec(struct req *r, enum db_target, enum stmt,
		    const char *const *params, PGresult **res) QUIRE_WUR;

/*
 * Batch mode (batch.h): while a batch runs, a read outside a transaction
 * is sent in the connection's pipeline and its caller suspended until
 * the batch's statements are read back (exec); anything else first
 * reads back what is outstanding on its connection (settle: 0, or -1
 * when the connection is out of step and must be dropped).
 */
struct db_batch {
	int		 (*active)(void);
	PGresult	*(*exec)(struct dbconn *, const struct stmt_def *,
			    const char *const *params);
	int		 (*settle)(struct dbconn *);
};
void		 db_set_batch(const struct db_batch *);

/* A transaction on the primary; db_rollback is safe to call when none is open. */
enum qerr	 db_begin(struct req *) QUIRE_WUR;
enum qerr	 db_commit(struct req *) QUIRE_WUR;
void		 db_rollback(struct req *);

/*
 * Checks one server: connects if needed, runs a ping (and the replica
 * status on a replica). Returns QERR_OK when up; fills latency in ms and,
 * for a replica, its lag in seconds.
 */
enum qerr	 db_check(struct db *, struct dbconn *, double *ms, double *lag);

/* Connects c now if it is not connected and its backoff allows. */
enum qerr	 db_connect(struct db *, struct dbconn *);

/*
 * The last known replay position and lag of replica i, and when they
 * were read (monotonic seconds; all 0 when never). Setting them returns
 * the lag kept: the one given, bounded by the time since the replica
 * was last seen with nothing to replay.
 */
void		 db_replica_get(int i, uint64_t *lsn, double *lag, double *at);
double		 db_replica_set(int i, uint64_t lsn, double lag, double at);

/* "X/Y" (pg_lsn text) to a number; 0 on garbage. */
uint64_t	 db_parse_lsn(const char *);

/*
 * The log level of a server notice (every connection logs them as one
 * line, see db.c): WARNING is warn, NOTICE, INFO, LOG and DEBUG are debug.
 * severity is PG_DIAG_SEVERITY_NONLOCALIZED; NULL is debug.
 */
enum log_level	 db_notice_level(const char *severity);

/* Maps a failed result's SQLSTATE to an internal error. */
enum qerr	 db_classify(const char *sqlstate);

#endif
