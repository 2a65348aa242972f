/*
 * Connections to the primary and the replicas. Each worker keeps its own
 * connections for its whole life, prepares the catalogue once per
 * connection and reconnects with backoff when a server goes away.
 */
#include "config.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "req.h"
#include "shm.h"

/*
 * Reconnection: short and capped, so that writes come back within a
 * quarter of a second of a restarted or promoted primary accepting
 * connections. A refused connection costs microseconds; one that times
 * out costs QUIRE_DB_CONNECT_TIMEOUT, but only to requests that need
 * that server anyway.
 */
#define BACKOFF_FIRST	0.05	/* seconds */
#define BACKOFF_MAX	0.25
#define STATUS_TTL	1.0	/* seconds a replica's known lag stays trusted */
#define RYW_WAIT	1.0	/* seconds a read waits for a replica to catch up */
#define NOTICE_MAX	256	/* bytes of a server notice's message logged */

/*
 * What this host's workers know of each server, in the shared segment:
 * the last good connect (all servers) and, for a replica, its replay
 * position and lag and when they were read.
 */
struct server_state {
	_Atomic uint64_t	 up_us;		/* monotonic time of a good connect */
	_Atomic uint64_t	 lsn;
	_Atomic uint64_t	 lag_us;
	_Atomic uint64_t	 at_us;		/* monotonic */
	_Atomic uint64_t	 current_us;	/* last seen with nothing to replay */
};

struct servers {
	struct server_state	 primary;	/* only up_us is used */
	struct server_state	 replicas[CONF_MAX_REPLICAS];
};

static struct servers	*shared;
static void	 conn_drop(struct dbconn *);
static const struct db_batch	*batch;	/* batch mode's hooks, or NULL */

void
db_set_batch(const struct db_batch *b)
{

	batch = b;
}

/* Reads back what batch mode has outstanding on c before c is used otherwise. */
static void
settle(struct dbconn *c)
{

	if (batch != NULL && c->conn != NULL && batch->settle(c) == -1)
		conn_drop(c);
}

enum qerr
db_shm_init(void)
{

	shared = shm_alloc("db.1", sizeof(*shared), NULL);
	return shared != NULL ? QERR_OK : QERR_IO;
}

void
db_replica_get(int i, uint64_t *lsn, double *lag, double *at)
{
	struct server_state	*r;

	*lsn = 0;
	*lag = 0;
	*at = 0;
	if (shared == NULL || i < 0 || i >= CONF_MAX_REPLICAS)
		return;
	r = &shared->replicas[i];
	*lsn = atomic_load(&r->lsn);
	*lag = (double)atomic_load(&r->lag_us) / 1e6;
	*at = (double)atomic_load(&r->at_us) / 1e6;
}

/*
 * The replica's own figure (the age of the last replayed transaction
 * while WAL waits to be replayed) overstates the lag after a quiet
 * spell: the first record that is not a transaction (autovacuum, a
 * checkpoint) makes a replica that was current look as old as the last
 * commit, and would send every read to the primary. A replica seen with
 * nothing to replay at some moment is at most that far behind, so the
 * time since then bounds the lag.
 */
double
db_replica_set(int i, uint64_t lsn, double lag, double at)
{
	struct server_state	*r;
	uint64_t		 at_us, current;

	if (lag < 0)
		lag = 0;
	if (shared == NULL || i < 0 || i >= CONF_MAX_REPLICAS)
		return lag;
	r = &shared->replicas[i];
	at_us = (uint64_t)(at * 1e6);
	current = atomic_load(&r->current_us);
	if (lag == 0)
		atomic_store(&r->current_us, at_us);
	else if (current != 0 && at_us >= current &&
	    (double)(at_us - current) / 1e6 < lag)
		lag = (double)(at_us - current) / 1e6;
	atomic_store(&r->lsn, lsn);
	atomic_store(&r->lag_us, (uint64_t)(lag * 1e6));
	atomic_store(&r->at_us, at_us);
	metrics_replica_lag(i, lag, at);
	return lag;
}

/* Server i's shared state: -1 is the primary, 0.. the replicas. */
static struct server_state *
server(int i)
{

	if (shared == NULL || i < -1 || i >= CONF_MAX_REPLICAS)
		return NULL;
	return i == -1 ? &shared->primary : &shared->replicas[i];
}

/*
 * Up-signals: a worker that connects records the time; others in
 * backoff then try at once instead of waiting out their own backoff.
 */
static void
server_up(int i, double at)
{
	struct server_state	*r;

	if ((r = server(i)) != NULL)
		atomic_store(&r->up_us, (uint64_t)(at * 1e6));
}

static double
server_up_at(int i)
{
	struct server_state	*r;

	if ((r = server(i)) == NULL)
		return 0;
	return (double)atomic_load(&r->up_us) / 1e6;
}

uint64_t
db_parse_lsn(const char *s)
{
	char		*end;
	unsigned long	 hi, lo;

	hi = strtoul(s, &end, 16);
	if (end == s || *end != '/')
		return 0;
	s = end + 1;
	lo = strtoul(s, &end, 16);
	if (end == s || *end != '\0')
		return 0;
	return ((uint64_t)hi << 32) | (uint64_t)(lo & 0xffffffffUL);
}

static void
conn_init(struct dbconn *c, const char *url, const char *name, int server)
{

	memset(c, 0, sizeof(*c));
	c->url = url;
	c->name = name;
	c->server = server;
	c->is_replica = server >= 0;
}

void
db_init(struct db *db, const struct conf *conf)
{
	size_t	 i;

	memset(db, 0, sizeof(*db));
	db->conf = conf;
	conn_init(&db->primary, conf->primary_url, "primary", -1);
	for (i = 0; i < conf->nreplicas; i++)
		conn_init(&db->replicas[i], conf->replica_urls[i], "replica", (int)i);
	db->nreplicas = conf->nreplicas;
}

static void
conn_drop(struct dbconn *c)
{

	if (c->conn != NULL) {
		PQfinish(c->conn);
		c->conn = NULL;
	}
}

void
db_close(struct db *db)
{
	size_t	 i;

	conn_drop(&db->primary);
	for (i = 0; i < db->nreplicas; i++)
		conn_drop(&db->replicas[i]);
	db->in_tx = 0;
}

enum qerr
db_classify(const char *st)
{

	if (st == NULL)
		return QERR_DB_DOWN;
	if (strcmp(st, "23505") == 0)
		return QERR_CONFLICT;
	if (strcmp(st, "23503") == 0)
		return QERR_NOTFOUND;
	/* Bad input that slipped past validation: the client's fault. */
	if (strncmp(st, "22", 2) == 0 || strcmp(st, "23514") == 0)
		return QERR_INVAL;
	/*
	 * Connection class, shutdown, "cannot connect now", a read-only
	 * server where the primary should be (failover), a cancelled or
	 * timed-out statement, a prepared statement lost by a pooler or
	 * outdated by a schema change: the connection is reset (and the
	 * catalogue prepared afresh).
	 */
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57", 2) == 0 ||
	    strcmp(st, "25006") == 0 || strcmp(st, "26000") == 0 ||
	    /* "cached plan must not change result type": re-prepare. */
	    strcmp(st, "0A000") == 0 ||
	    strcmp(st, "55P03") == 0 || strcmp(st, "40001") == 0 ||
	    strcmp(st, "40P01") == 0)
		return QERR_DB_DOWN;
	return QERR_DB;
}

/* Session settings every connection gets (stmt_session_sql), then the catalogue. */
static int
conn_setup(struct db *db, struct dbconn *c)
{
	char		 sql[512];
	PGresult	*res;
	size_t		 i;
	int		 ok;

	if (stmt_session_sql(sql, sizeof(sql),
	    db->conf->statement_timeout_ms) == -1)
		return -1;
	res = PQexec(c->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok)
		return -1;
	for (i = 0; i < STMT__MAX; i++) {
		const struct stmt_def *d = &stmt_defs[i];

		if (d->flags & (STMT_ADMIN | STMT_PLAIN))
			continue;
		if (c->is_replica && !(d->flags & STMT_READ))
			continue;
		res = PQprepare(c->conn, d->name, d->sql, d->nparams, NULL);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			log_msg(LVL_ERROR, NULL, "prepare %s on %s: %s", d->name,
			    c->name, PQresultErrorMessage(res));
		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

/*
 * 1 when an idle connection should not be trusted with a statement. An
 * idle connection has nothing to say; when it is readable the server
 * has closed it or sent a termination notice ahead of closing it (a
 * restart, failover, idle timeout). One poll() per statement saves a
 * failed write after a server restart.
 */
static int
conn_dead(struct dbconn *c)
{
	struct pollfd	 pfd;

	if (PQstatus(c->conn) != CONNECTION_OK)
		return 1;
	pfd.fd = PQsocket(c->conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1;
	return poll(&pfd, 1, 0) != 0;
}

enum log_level
db_notice_level(const char *severity)
{

	if (severity != NULL && strcmp(severity, "WARNING") == 0)
		return LVL_WARN;
	return LVL_DEBUG;
}

/*
 * libpq's notice receiver for every connection (db_connect): a NOTICE
 * or WARNING becomes one log line, where libpq's default would write
 * the raw text, several lines of it, to stderr, in the middle of the
 * logfmt lines. Any signed-in user can cause one (a post with a word
 * of more than 2047 characters: "word is too long to be indexed"), so
 * a NOTICE is debug, dropped at the default level, and only the
 * primary message is kept, cut short: DETAIL, HINT and CONTEXT may
 * quote values.
 */
static void
notice(void *arg, const PGresult *res)
{
	const struct dbconn	*c = arg;
	const char		*sev, *state, *text;
	enum log_level		 l;

	if ((sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED)) == NULL)
		sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	l = db_notice_level(sev);
	if (!log_enabled(l))
		return;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	text = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	log_msg(l, c->reqid, "%s from %s: %s %.*s", sev != NULL ? sev : "NOTICE",
	    c->name, state != NULL ? state : "-", NOTICE_MAX,
	    text != NULL ? text : "");
}

enum qerr
db_connect(struct db *db, struct dbconn *c)
{
	const char	*kw[9], *val[9];
	char		 timeout[16];
	double		 now;

	if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
		return QERR_OK;
	conn_drop(c);
	now = req_now();
	/* In backoff, unless another worker has connected since we failed. */
	if (now < c->retry_at && server_up_at(c->server) <= c->failed_at)
		return QERR_DB_DOWN;
	snprintf(timeout, sizeof(timeout), "%ld", db->conf->db_connect_timeout);
	/* Ours first: anything the operator's URL says wins. */
	kw[0] = "connect_timeout";	val[0] = timeout;
	kw[1] = "application_name";	val[1] = "quire";
	kw[2] = "keepalives_idle";	val[2] = "10";
	kw[3] = "keepalives_interval";	val[3] = "3";
	kw[4] = "keepalives_count";	val[4] = "3";
	/*
	 * GSSAPI encryption is rarely used and probing for it pulls
	 * Kerberos into every worker's memory; a URL can turn it back on.
	 */
	kw[5] = "gssencmode";		val[5] = "disable";
	kw[6] = "dbname";		val[6] = c->url;
	kw[7] = NULL;			val[7] = NULL;
	c->conn = PQconnectdbParams(kw, val, 1);
	/*
	 * Before the session's first statement. XXX A notice sent while
	 * the connection starts (none in the shipped set-up) still reaches
	 * libpq's default, stderr: catching it would mean driving the
	 * connection by hand (PQconnectStartParams) and its multi-host
	 * timeouts with it.
	 */
	if (c->conn != NULL)
		(void)PQsetNoticeReceiver(c->conn, notice, c);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK ||
	    conn_setup(db, c) == -1) {
		if (c->conn != NULL && log_enabled(LVL_WARN))
			log_msg(LVL_WARN, NULL, "%s unreachable: %s", c->name,
			    PQerrorMessage(c->conn));
		conn_drop(c);
		c->errors++;
		metrics_db_error(c->is_replica);
		c->backoff = c->backoff == 0 ? BACKOFF_FIRST :
		    (c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : c->backoff * 2);
		c->failed_at = req_now();
		c->retry_at = c->failed_at + c->backoff;
		return QERR_DB_DOWN;
	}
	server_up(c->server, req_now());
	if (c->backoff != 0)
		log_msg(LVL_INFO, NULL, "%s reconnected", c->name);
	c->backoff = 0;
	c->retry_at = 0;
	c->reconnects++;
	metrics_reconnect(c->is_replica);
	return QERR_OK;
}

/*
 * Asks replica i for its lag and replay position and shares the answer
 * with the other workers. Returns 0, or -1 when the replica is unusable.
 */
static int
replica_refresh(struct db *db, size_t i)
{
	struct dbconn	*c = &db->replicas[i];
	PGresult	*res;
	double		 lag;
	uint64_t	 lsn;
	int		 ok;

	res = PQexecPrepared(c->conn, stmt_defs[STMT_REPLICA_STATUS].name, 0,
	    NULL, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok) {
		lag = strtod(PQgetvalue(res, 0, 1), NULL);
		lsn = db_parse_lsn(PQgetvalue(res, 0, 2));
		(void)db_replica_set((int)i, lsn, lag, req_now());
	}
	PQclear(res);
	if (!ok) {
		c->errors++;
		conn_drop(c);
		return -1;
	}
	return 0;
}

/*
 * 1 when replica i may serve this request's reads: reachable, not
 * lagging past QUIRE_MAX_REPLICA_LAG, and (read-your-writes) caught up
 * with the caller's last write. What is known of the replica is shared
 * by all workers and refreshed at most every STATUS_TTL, or at once
 * when a writer needs a newer position than known.
 */
static int
replica_usable(struct db *db, size_t i, uint64_t min_lsn)
{
	uint64_t	 lsn;
	double		 lag, at;

	if (db_connect(db, &db->replicas[i]) != QERR_OK)
		return 0;
	db_replica_get((int)i, &lsn, &lag, &at);
	if (req_now() - at > STATUS_TTL || min_lsn > lsn) {
		if (replica_refresh(db, i) == -1)
			return 0;
		db_replica_get((int)i, &lsn, &lag, &at);
	}
	if (db->conf->max_replica_lag > 0 && lag > (double)db->conf->max_replica_lag)
		return 0;
	return lsn >= min_lsn;
}

/* 1 when replica i has replayed at least lsn, asking it first. */
static int
replica_has(struct db *db, size_t i, uint64_t lsn)
{
	uint64_t	 at_lsn;
	double		 lag, at;

	if (db_connect(db, &db->replicas[i]) != QERR_OK)
		return 0;
	if (lsn == 0)
		return 1;
	if (replica_refresh(db, i) == -1)
		return 0;
	db_replica_get((int)i, &at_lsn, &lag, &at);
	return at_lsn >= lsn;
}

/* The connection a statement should use, connected; NULL when none is up. */
static struct dbconn *
pick(struct req *r, enum db_target t, const struct stmt_def *d)
{
	struct db		*db = r->db;
	struct timespec		 nap = { 0, 20 * 1000 * 1000 };
	double			 until;
	size_t			 i, k;
	int			 read;

	read = t == DB_READ && !db->in_tx && (d->flags & STMT_READ);
	if (read) {
		for (i = 0; i < db->nreplicas; i++) {
			k = (db->next_replica + i) % db->nreplicas;
			if (replica_usable(db, k, r->ryw.min_lsn)) {
				/* Spread the next read over the others. */
				db->next_replica = (k + 1) % db->nreplicas;
				return &db->replicas[k];
			}
		}
	}
	if (db_connect(db, &db->primary) == QERR_OK)
		return &db->primary;
	if (!read || db->nreplicas == 0)
		return NULL;
	/*
	 * The primary is down. A lagging replica beats no answer, as long
	 * as it has this client's own writes: give it a moment to replay
	 * them.
	 */
	until = req_now() + (r->ryw.min_lsn > 0 ? RYW_WAIT : 0);
	for (;;) {
		for (i = 0; i < db->nreplicas; i++)
			if (replica_has(db, i, r->ryw.min_lsn))
				return &db->replicas[i];
		if (req_now() >= until)
			return NULL;
		nanosleep(&nap, NULL);
	}
}

/*
 * A position the server of connection c has replayed at least, as far
 * as this host knows: a replica's last known replay position (replay
 * only moves forward), everything for the primary.
 */
static uint64_t
served(const struct dbconn *c)
{
	uint64_t	 lsn;
	double		 lag, at;

	if (!c->is_replica)
		return UINT64_MAX;
	db_replica_get(c->server, &lsn, &lag, &at);
	return lsn;
}

static void
clear_result(void *p)
{

	PQclear(p);
}

/*
 * Runs a write and then reads where the primary's WAL ends, in one round
 * trip (pipeline mode). Each has its own Sync, so the write commits
 * first and the position read after it covers its commit record: in one
 * implicit transaction the position would be read before the commit.
 * Returns the write's result (NULL if the connection failed) and sets
 * *lsn, or leaves it 0 when the position could not be read.
 */
static PGresult *
exec_then_lsn(struct dbconn *c, const struct stmt_def *d,
    const char *const *params, uint64_t *lsn)
{
	const struct stmt_def	*l = &stmt_defs[STMT_WAL_LSN];
	PGresult		*pr = NULL, *x;
	ExecStatusType		 st;
	int			 syncs = 0, nulls = 0;

	*lsn = 0;
	if (PQenterPipelineMode(c->conn) != 1)
		return PQexecPrepared(c->conn, d->name, d->nparams, params,
		    NULL, NULL, 0);
	if (PQsendQueryPrepared(c->conn, d->name, d->nparams, params,
	    NULL, NULL, 0) != 1 || PQpipelineSync(c->conn) != 1 ||
	    PQsendQueryPrepared(c->conn, l->name, 0, NULL, NULL, NULL, 0) != 1 ||
	    PQpipelineSync(c->conn) != 1)
		syncs = 2;	/* nothing more will come: a broken connection */
	/* Query 1's result, NULL, SYNC; query 2's result, NULL, SYNC. */
	while (syncs < 2 && nulls < 2) {
		if ((x = PQgetResult(c->conn)) == NULL) {
			nulls++;
			continue;
		}
		nulls = 0;
		st = PQresultStatus(x);
		/* Results before the first Sync are the write's. */
		if (st == PGRES_PIPELINE_SYNC) {
			syncs++;
			PQclear(x);
		} else if (syncs == 0 && pr == NULL)
			pr = x;
		else {
			if (syncs == 1 && st == PGRES_TUPLES_OK &&
			    PQntuples(x) == 1)
				*lsn = db_parse_lsn(PQgetvalue(x, 0, 0));
			PQclear(x);
		}
	}
	if (syncs < 2 || PQexitPipelineMode(c->conn) != 1) {
		/* Out of step with the server: start afresh next time. */
		*lsn = 0;
		conn_drop(c);
		if (pr == NULL || PQresultStatus(pr) == PGRES_TUPLES_OK ||
		    PQresultStatus(pr) == PGRES_COMMAND_OK)
			return pr;
		PQclear(pr);
		return NULL;
	}
	return pr;
}

enum qerr
db_exec(struct req *r, enum db_target t, enum stmt s,
    const char *const *params, PGresult **res)
{
	struct db		*db = r->db;
	const struct stmt_def	*d = &stmt_defs[s];
	struct dbconn		*c;
	PGresult		*pr;
	ExecStatusType		 st;
	enum qerr		 e;
	const char		*state;
	double			 t0, ms;
	int			 attempt, retryable, with_lsn, piped;
	uint64_t		 lsn = 0, before;

	*res = NULL;
	/*
	 * Read-your-writes needs the WAL position after a lone write, the
	 * anonymous caller's too: its answer carries it (pos.h).
	 */
	with_lsn = (d->flags & STMT_WRITE) &&
	    !(d->flags & (STMT_PLAIN | STMT_QUIET)) &&
	    !db->in_tx && db->nreplicas > 0;
	/* Reads are idempotent, and so is a BEGIN: one retry on a fresh connection. */
	retryable = ((d->flags & STMT_READ) || s == STMT_BEGIN) && !db->in_tx;
	for (attempt = 0; ; attempt++) {
		if ((c = pick(r, t, d)) == NULL)
			return QERR_DB_DOWN;
		/* Batch mode: a first try of a plain read joins the pipeline. */
		piped = batch != NULL && attempt == 0 && batch->active() &&
		    (d->flags & STMT_READ) && !(d->flags & STMT_PLAIN) &&
		    !with_lsn && !db->in_tx;
		if (!piped)
			settle(c);
		/*
		 * A read on a dead connection is retried; anything else would
		 * fail for good, so look before leaping (one poll()).
		 */
		if (!retryable && !db->in_tx && conn_dead(c)) {
			conn_drop(c);
			if ((c = pick(r, t, d)) == NULL)
				return QERR_DB_DOWN;
			settle(c);
		}
		/*
		 * How far the server had replayed, read before the statement
		 * runs: another worker may record a newer position while it
		 * runs, which this answer need not include.
		 */
		before = served(c);
		t0 = req_now();
		c->reqid = r->in.reqid;		/* for its notices */
		if (piped)
			pr = batch->exec(c, d, params);
		else if (d->flags & STMT_PLAIN)
			pr = PQexec(c->conn, d->sql);
		else if (with_lsn)
			pr = exec_then_lsn(c, d, params, &lsn);
		else
			pr = PQexecPrepared(c->conn, d->name, d->nparams,
			    params, NULL, NULL, 0);
		c->reqid = NULL;
		ms = (req_now() - t0) * 1000.0;
		st = PQresultStatus(pr);
		if (pr != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
			if (db->conf->slow_query_ms > 0 &&
			    ms >= (double)db->conf->slow_query_ms)
				log_msg(LVL_WARN, r->in.reqid, "slow query %s on %s: "
				    "%.1f ms", d->name, c->name, ms);
			r->out.pool = c->name;
			r->ryw.served_lsn = before;
			metrics_statement(c->is_replica, (d->flags & STMT_WRITE) != 0);
			if ((d->flags & STMT_WRITE) &&
			    !(d->flags & STMT_QUIET) && !db->in_tx) {
				r->ryw.wrote = 1;
				r->ryw.lsn_after = lsn;
			}
			if (arena_defer(r->arena, clear_result, pr) != QERR_OK)
				return QERR_NOMEM;
			*res = pr;
			return QERR_OK;
		}
		state = pr != NULL ? PQresultErrorField(pr, PG_DIAG_SQLSTATE) : NULL;
		if (PQstatus(c->conn) != CONNECTION_OK)
			state = NULL;
		e = db_classify(state);
		c->errors++;
		/* For the log line of a 500 (resp_render); 08000: no answer. */
		memcpy(r->out.sqlstate, state != NULL && strlen(state) == 5 ?
		    state : "08000", sizeof(r->out.sqlstate));
		/*
		 * A conflict is the request's doing, not the database's. Input
		 * the database refused (class 22) should have been refused by
		 * validation first: it answers 500, so it is counted and logged.
		 */
		if (e != QERR_CONFLICT && e != QERR_NOTFOUND)
			metrics_db_error(c->is_replica);
		if (e != QERR_CONFLICT && e != QERR_NOTFOUND)
			log_msg(e == QERR_DB_DOWN ? LVL_WARN : LVL_ERROR, r->in.reqid,
			    "%s on %s failed: %s %s", d->name, c->name,
			    state != NULL ? state : "connection lost",
			    pr != NULL ? PQresultErrorField(pr,
			    PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(pr,
			    PG_DIAG_MESSAGE_PRIMARY) : "" : "");
		PQclear(pr);
		if (e == QERR_DB_DOWN) {
			/* A broken connection inside a transaction ends it. */
			if (!c->is_replica)
				db->in_tx = 0;
			conn_drop(c);
		}
		if (e != QERR_DB_DOWN || !retryable || attempt > 0)
			return e;
	}
}

enum qerr
db_begin(struct req *r)
{
	PGresult	*res;
	enum qerr	 e;

	if ((e = db_exec(r, DB_PRIMARY, STMT_BEGIN, NULL, &res)) != QERR_OK)
		return e;
	r->db->in_tx = 1;
	return QERR_OK;
}

enum qerr
db_commit(struct req *r)
{
	PGresult	*res;
	enum qerr	 e;

	e = db_exec(r, DB_PRIMARY, STMT_COMMIT, NULL, &res);
	r->db->in_tx = 0;
	if (e == QERR_OK) {
		r->ryw.wrote = 1;
		r->ryw.lsn_after = 0;
	}
	/* A COMMIT whose answer was lost may or may not have happened. */
	return e;
}

void
db_rollback(struct req *r)
{
	struct db	*db = r->db;
	PGresult	*res;

	if (!db->in_tx)
		return;
	db->in_tx = 0;
	if (db->primary.conn == NULL)
		return;
	settle(&db->primary);
	if (db->primary.conn == NULL)
		return;
	res = PQexec(db->primary.conn, stmt_defs[STMT_ROLLBACK].sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		conn_drop(&db->primary);
	PQclear(res);
}

enum qerr
db_check(struct db *db, struct dbconn *c, double *ms, double *lag)
{
	const struct stmt_def	*d;
	PGresult		*res;
	double			 t0;
	enum qerr		 e;
	int			 ok, reused;

	d = &stmt_defs[c->is_replica ? STMT_REPLICA_STATUS : STMT_PING];
	/*
	 * Like any read: a connection kept from before may have died with
	 * a restart of its server, so a failure on it earns one retry on a
	 * fresh connection before the server is called down.
	 */
	for (;;) {
		*ms = 0;
		*lag = 0;
		reused = c->conn != NULL;
		t0 = req_now();
		settle(c);
		if ((e = db_connect(db, c)) != QERR_OK)
			return e;
		res = PQexecPrepared(c->conn, d->name, 0, NULL, NULL, NULL, 0);
		*ms = (req_now() - t0) * 1000.0;
		ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
		if (ok && c->is_replica) {
			*lag = db_replica_set((int)(c - db->replicas),
			    db_parse_lsn(PQgetvalue(res, 0, 2)),
			    strtod(PQgetvalue(res, 0, 1), NULL), req_now());
		}
		PQclear(res);
		if (ok)
			return QERR_OK;
		c->errors++;
		conn_drop(c);
		if (!reused)
			return QERR_DB_DOWN;
	}
}
