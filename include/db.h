/*
 * The database layer: persistent per-worker connections to the primary
 * and the replicas, the catalogue prepared once per connection, routing
 * of reads and writes, reconnection with backoff.
 */
#ifndef QUIRE_DB_H
#define QUIRE_DB_H

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
};

struct db {
	const struct conf	*conf;
	struct dbconn		 primary;
	struct dbconn		 replicas[CONF_MAX_REPLICAS];
	size_t			 nreplicas;
	size_t			 next_replica;
	int			 in_tx;
};

void		 db_init(struct db *, const struct conf *);
void		 db_close(struct db *);

/*
 * Runs a catalogue statement with text parameters (NULL for SQL NULL).
 * Reads (DB_READ) go to a replica when one is healthy and are retried
 * once on a fresh connection; inside a transaction everything goes to
 * the primary. On QERR_OK *res is owned by r's arena. Records the pool
 * used in r->pool.
 */
enum qerr	 db_exec(struct req *r, enum db_target, enum stmt,
		    const char *const *params, PGresult **res) QUIRE_WUR;

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
 * After the handler: when the request committed a write, records the
 * primary's WAL position for the caller's session so that its next
 * reads go to a replica only once it has replayed that far.
 */
void		 db_note_writes(struct req *);

/* Maps a failed result's SQLSTATE to an internal error. */
enum qerr	 db_classify(const char *sqlstate);

#endif
