/*
 * The revocation listener (notify.h): one libpq connection to the
 * primary, driven without ever blocking for longer than a second, so a
 * primary that dies or is demoted is noticed within a second or two and
 * its successor found with the next connect (QUIRE_PRIMARY_URL may name
 * every node with target_session_attrs=read-write).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "log.h"
#include "notify.h"
#include "req.h"
#include "revoke.h"
#include "shm.h"
#include "stmts.h"

#define CHECK_EVERY	1.0	/* seconds between checks of the primary */
#define CHECK_WAIT	1.0	/* seconds a check may take */
#define BACKOFF_FIRST	0.05
#define BACKOFF_MAX	0.5
#define LEASE_STALE	5.0	/* seconds without a beat: the holder is gone */

struct lease {
	_Atomic int64_t		 pid;		/* the listening process, 0: none */
	_Atomic uint64_t	 beat_us;	/* monotonic; shared by the host */
};

static volatile sig_atomic_t	 stop;
static struct lease		*lease;

enum qerr
notify_shm_init(void)
{

	lease = shm_alloc("notify.1", sizeof(*lease), NULL);
	return lease != NULL ? QERR_OK : QERR_IO;
}

static void
on_stop(int sig)
{

	(void)sig;
	stop = 1;
}

static void
beat(void)
{

	if (lease != NULL)
		atomic_store(&lease->beat_us, (uint64_t)(req_now() * 1e6));
}

/*
 * 1 when this process holds the lease (taking it when nobody does, or
 * when its holder is dead or silent), 0 when another one listens.
 */
static int
lease_take(void)
{
	int64_t		 me, cur;
	double		 last;

	if (lease == NULL)
		return 1;
	me = (int64_t)getpid();
	cur = atomic_load(&lease->pid);
	if (cur == me)
		return 1;
	last = (double)atomic_load(&lease->beat_us) / 1e6;
	if (cur != 0 && (kill((pid_t)cur, 0) == 0 || errno == EPERM) &&
	    req_now() - last < LEASE_STALE)
		return 0;
	if (!atomic_compare_exchange_strong(&lease->pid, &cur, me))
		return 0;
	beat();
	return 1;
}

static void
lease_drop(void)
{
	int64_t	 me;

	if (lease == NULL)
		return;
	me = (int64_t)getpid();
	(void)atomic_compare_exchange_strong(&lease->pid, &me, 0);
}

/* Sleeps secs, or less when a stop signal comes. */
static void
nap(double secs)
{
	struct timespec	 ts;

	if (secs <= 0 || stop)
		return;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	(void)nanosleep(&ts, NULL);
}

/* Records every notification libpq has read. */
static void
drain(PGconn *c)
{
	PGnotify	*n;
	char		 user[REVOKE_PAYLOAD_MAX];
	uint64_t	 lsn;

	while ((n = PQnotifies(c)) != NULL) {
		if (revoke_parse(n->extra, user, &lsn) == 0)
			revoke_note(user, lsn);
		else
			/* Someone else's NOTIFY on our channel: every user, then. */
			revoke_all(0);
		PQfreemem(n);
	}
}

/*
 * Runs sql on c and waits up to wait seconds for the whole answer.
 * Returns the last result (the caller clears it), or NULL when the
 * connection failed, the time ran out or a stop signal came.
 */
static PGresult *
query(PGconn *c, const char *sql, double wait)
{
	struct pollfd	 pfd;
	PGresult	*last, *x;
	double		 until, left;

	if (PQsendQuery(c, sql) != 1)
		return NULL;
	until = req_now() + wait;
	last = NULL;
	for (;;) {
		while (!PQisBusy(c)) {
			if ((x = PQgetResult(c)) == NULL)
				return last;
			PQclear(last);
			last = x;
		}
		left = until - req_now();
		if (left <= 0 || stop)
			break;
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) == -1 && errno != EINTR)
			break;
		if (PQconsumeInput(c) != 1)
			break;
	}
	PQclear(last);
	return NULL;
}

/*
 * Checks that c is a primary's connection; returns the primary's WAL
 * position, or 0 (not a primary, no answer in time).
 */
static uint64_t
check(PGconn *c)
{
	PGresult	*res;
	uint64_t	 lsn;

	if ((res = query(c, stmt_defs[STMT_LISTENER_STATUS].sql, CHECK_WAIT)) == NULL)
		return 0;
	lsn = 0;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "f") == 0)
		lsn = db_parse_lsn(PQgetvalue(res, 0, 1));
	PQclear(res);
	return lsn;
}

/*
 * A connection to the primary that LISTENs, or NULL. On success every
 * user is counted as changed at the primary's current position: what
 * was sent while nobody listened is lost.
 */
static PGconn *
open_conn(const struct conf *conf, int quiet)
{
	const char	*kw[8], *val[8];
	PGresult	*res;
	PGconn		*c;
	uint64_t	 lsn;
	char		 timeout[16];
	int		 ok;

	snprintf(timeout, sizeof(timeout), "%ld", conf->db_connect_timeout);
	kw[0] = "connect_timeout";	val[0] = timeout;
	kw[1] = "application_name";	val[1] = NOTIFY_PROCESS_NAME;
	kw[2] = "keepalives_idle";	val[2] = "10";
	kw[3] = "keepalives_interval";	val[3] = "3";
	kw[4] = "keepalives_count";	val[4] = "3";
	kw[5] = "gssencmode";		val[5] = "disable";
	kw[6] = "dbname";		val[6] = conf->primary_url;
	kw[7] = NULL;			val[7] = NULL;
	c = PQconnectdbParams(kw, val, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		if (!quiet && c != NULL)
			log_msg(LVL_WARN, NULL, "revocation listener: primary "
			    "unreachable: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	res = query(c, stmt_defs[STMT_LISTEN_REVOKE].sql, CHECK_WAIT);
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	/* After LISTEN: a change from now on is either notified or before lsn. */
	if (!ok || (lsn = check(c)) == 0) {
		if (!quiet)
			log_msg(LVL_WARN, NULL, "revocation listener: no "
			    "primary to listen on yet");
		PQfinish(c);
		return NULL;
	}
	revoke_all(lsn);
	drain(c);
	log_msg(LVL_INFO, NULL, "revocation listener: listening on the "
	    "primary (every cached session looked up again)");
	return c;
}

int
notify_run(const struct conf *conf)
{
	struct pollfd	 pfd;
	PGconn		*c;
	double		 backoff, retry_at, next_check, left;
	int		 failures;

	c = NULL;
	backoff = 0;
	retry_at = 0;
	next_check = 0;
	failures = 0;
	while (!stop) {
		if (!lease_take()) {
			nap(CHECK_EVERY);
			continue;
		}
		if (c == NULL) {
			nap(retry_at - req_now());
			if (stop)
				break;
			if ((c = open_conn(conf, failures > 0)) == NULL) {
				failures++;
				backoff = backoff == 0 ? BACKOFF_FIRST :
				    (backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
				    backoff * 2);
				retry_at = req_now() + backoff;
				beat();
				continue;
			}
			failures = 0;
			backoff = 0;
			next_check = req_now() + CHECK_EVERY;
		}
		left = next_check - req_now();
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (left > 0 && poll(&pfd, 1, (int)(left * 1000) + 1) == -1 &&
		    errno != EINTR)
			left = 0;
		if (stop)
			break;
		if ((pfd.revents != 0 && PQconsumeInput(c) != 1) ||
		    (req_now() >= next_check && check(c) == 0)) {
			if (!stop)
				log_msg(LVL_WARN, NULL, "revocation listener: "
				    "lost the primary; looking for it");
			PQfinish(c);
			c = NULL;
			continue;
		}
		drain(c);
		if (req_now() >= next_check) {
			next_check = req_now() + CHECK_EVERY;
			beat();
		}
	}
	PQfinish(c);
	lease_drop();
	log_flush();
	return 0;
}

pid_t
notify_spawn(const struct conf *conf)
{
	struct sigaction	 sa;
	sigset_t		 stops, old;
	pid_t			 pid, parent;
	int			 fd;

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &old);
	parent = getpid();
	if ((pid = fork()) == 0) {
		stop = 0;
		log_forked();
		/*
		 * It serves nobody: it must not keep the FastCGI socket, nor
		 * a connection a serving parent holds, open (their peers
		 * would never see them close). The shared segment stays
		 * mapped without its descriptor.
		 */
		(void)close_range(3, ~0U, 0);
		if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
			(void)dup2(fd, 0);
			(void)close(fd);
		}
		(void)prctl(PR_SET_NAME, NOTIFY_PROCESS_NAME, 0, 0, 0);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		/* Not restarted: a stop must end the poll it interrupts. */
		sa.sa_handler = on_stop;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGALRM, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigdelset(&old, SIGTERM);
		sigdelset(&old, SIGINT);
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* The parent died before the death signal was asked for. */
		if (getppid() != parent)
			_exit(0);
		exit(notify_run(conf));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1)
		log_msg(LVL_ERROR, NULL, "fork (revocation listener): %s",
		    strerror(errno));
	return pid;
}
