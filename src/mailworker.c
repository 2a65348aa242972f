/*
 * quirectl mail-worker: the loop that empties mail_outbox.
 */
#include "config.h"

#include <sys/select.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "mailer.h"
#include "mailmsg.h"
#include "mailworker.h"
#include "mem.h"
#include "stmts.h"

#define MSG_MAX		(8 * 1024 * 1024)	/* a rendered message */
#define MSG_KEEP	(64 * 1024)	/* kept between batches */
#define DB_RETRY_MIN	0.1		/* seconds, as the app's pools */
#define DB_RETRY_MAX	2.0
#define LOCKED_REPOLL	1.0		/* due rows another worker holds */

struct settings {
	char		*db_url;
	char		*mail_url;
	char		*mail_from;
	char		*ca_file;
	char		*log_level;
};

struct worker {
	struct settings	 set;
	PGconn		*db;
	struct mailer	*mailer;
	char		 from_addr[MAILMSG_ADDR_MAX + 1];
	char		 from_name[MAILMSG_NAME_MAX + 1];
	double		 poll;		/* seconds */
	double		 bmin, bmax;	/* retry delays, seconds */
	int		 drain;
	double		 hold_until;	/* monotonic s: the transport failed */
	unsigned	 transport_fails;	/* in a row */
	unsigned long	 left;		/* --drain: due messages put off */
	struct buf	 msg;
	unsigned long	 sent, retried, failed;
};

static volatile sig_atomic_t	 stop;
static int			 wake[2] = { -1, -1 };

/* SIGTERM, SIGINT: stop after the message in flight; wake the wait. */
static void
on_signal(int sig)
{
	int	 e = errno;
	ssize_t	 n;

	(void)sig;
	stop = 1;
	if (wake[1] != -1)
		n = write(wake[1], "", 1);
	(void)n;
	errno = e;
}

static double
mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The delay before attempt n + 1 (n from 0): bmin doubled n times, at
 * most bmax, of which a random half is taken off ("equal jitter"), so
 * messages and workers that failed together do not retry together.
 */
static double
backoff(const struct worker *w, unsigned long n)
{
	double		 d;
	unsigned long	 i;

	d = w->bmin;
	for (i = 0; i < n && d < w->bmax; i++)
		d *= 2;
	if (d > w->bmax)
		d = w->bmax;
	return d / 2 + d / 2 * (double)randombytes_uniform(1000001) / 1e6;
}

/* The first line of a libpq message, in a static buffer. */
static const char *
first_line(const char *s)
{
	static char	 line[256];
	size_t		 n;

	n = strcspn(s != NULL ? s : "", "\r\n");
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, s != NULL ? s : "", n);
	line[n] = '\0';
	return line;
}

/*
 * Runs statement s with params. Returns 0, with the result in *out when
 * out is not NULL (the caller clears it), or -1 after logging why (the
 * statement's name and the SQLSTATE, never a value).
 */
static int
exec(struct worker *w, enum stmt s, const char *const *params,
    PGresult **out)
{
	const struct stmt_def	*d = &stmt_defs[s];
	PGresult		*res;
	ExecStatusType		 st;
	const char		*state;

	if (d->flags & STMT_PLAIN)
		res = PQexec(w->db, d->sql);
	else
		res = PQexecParams(w->db, d->sql, d->nparams, NULL, params,
		    NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out != NULL)
			*out = res;
		else
			PQclear(res);
		return 0;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (PQstatus(w->db) == CONNECTION_BAD || state == NULL)
		log_msg(LVL_WARN, NULL, "%s on primary failed: connection lost",
		    d->name);
	else
		log_msg(LVL_ERROR, NULL, "%s on primary failed: %s %s", d->name,
		    state, first_line(PQresultErrorField(res,
		    PG_DIAG_MESSAGE_PRIMARY)));
	PQclear(res);
	return -1;
}

/*
 * libpq's notice receiver: a server notice becomes one log line (libpq
 * would write the raw text to stderr), with the primary message only,
 * cut short, as the app logs them (db.c). A WARNING, or the FATAL a
 * server sends before it ends the session (a restart), is a warning.
 */
static void
notice(void *arg, const PGresult *res)
{
	const char	*sev, *state, *text;
	enum log_level	 l;

	(void)arg;
	if ((sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED)) ==
	    NULL)
		sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	l = sev != NULL && (strcmp(sev, "WARNING") == 0 ||
	    strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0) ?
	    LVL_WARN : LVL_DEBUG;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	text = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	log_msg(l, NULL, "%s from primary: %s %.*s", sev != NULL ? sev :
	    "NOTICE", state != NULL ? state : "-", 256, text != NULL ? text : "");
}

/*
 * Connects to the database (libpq picks the read-write server of a
 * multi-host URL with target_session_attrs=read-write), names the
 * session and LISTENs. Returns 0, or -1 after logging why.
 */
static int
db_connect(struct worker *w)
{
	/* connect_timeout first: the URL's own value, if any, wins. */
	const char *const	 keys[] = { "connect_timeout", "dbname", NULL };
	const char		*vals[] = { "10", w->set.db_url, NULL };

	w->db = PQconnectdbParams(keys, vals, 1);
	if (w->db == NULL || PQstatus(w->db) != CONNECTION_OK) {
		log_msg(LVL_WARN, NULL, "primary unreachable: %s",
		    first_line(w->db != NULL ? PQerrorMessage(w->db) :
		    "out of memory"));
		PQfinish(w->db);
		w->db = NULL;
		return -1;
	}
	(void)PQsetNoticeReceiver(w->db, notice, NULL);
	if (exec(w, STMT_MAIL_SESSION, NULL, NULL) == -1) {
		PQfinish(w->db);
		w->db = NULL;
		return -1;
	}
	return 0;
}

/* Drops a broken connection (the next turn reconnects); logs it. */
static void
db_drop(struct worker *w)
{

	log_msg(LVL_WARN, NULL, "primary connection lost; reconnecting");
	PQfinish(w->db);
	w->db = NULL;
}

/* Frees the notifications libpq has read; returns how many there were. */
static int
notifications(PGconn *db)
{
	PGnotify	*n;
	int		 k;

	for (k = 0; (n = PQnotifies(db)) != NULL; k++)
		PQfreemem(n);
	return k;
}

/*
 * Waits up to secs seconds, less when a notification or a stop signal
 * comes. Returns -1 when the database connection broke, else 0.
 */
static int
pause_for(struct worker *w, double secs)
{
	struct timeval	 tv;
	fd_set		 rd;
	char		 junk[64];
	int		 fd, maxfd;

	fd = -1;
	if (w->db != NULL) {
		if (!PQconsumeInput(w->db))
			return -1;
		if (notifications(w->db) > 0)
			return 0;
		fd = PQsocket(w->db);
	}
	if (stop)
		return 0;
	FD_ZERO(&rd);
	FD_SET(wake[0], &rd);
	maxfd = wake[0];
	if (fd >= 0) {
		FD_SET(fd, &rd);
		if (fd > maxfd)
			maxfd = fd;
	}
	if (secs < 0)
		secs = 0;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (select(maxfd + 1, &rd, NULL, NULL, &tv) <= 0)
		return 0;
	if (FD_ISSET(wake[0], &rd))
		while (read(wake[0], junk, sizeof(junk)) > 0)
			continue;
	if (fd >= 0 && FD_ISSET(fd, &rd)) {
		if (!PQconsumeInput(w->db))
			return -1;
		(void)notifications(w->db);
	}
	return 0;
}

/* The recipient's domain, for the log: the address itself never is. */
static const char *
domain_of(const char *to)
{
	const char	*at = strrchr(to, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "-";
}

/*
 * Sends the claimed row res (its transaction open) and records the
 * outcome in that transaction, then commits. Returns 0 to go on with
 * the batch, 1 when the transport failed (the batch stops and the worker
 * waits), -1 on a database error (the connection is dropped; a message
 * already sent is then sent again later).
 */
static int
deliver(struct worker *w, PGresult *res)
{
	struct mailmsg		 m;
	struct mailer_result	 mr;
	const char		*params[3], *why, *kind, *id;
	const char		*kv[20];
	char			 attempt[24], ms[32], delay_s[32], code[8];
	double			 t0, delay;
	unsigned long		 attempts;
	size_t			 k;
	enum qerr		 e;

	memset(&m, 0, sizeof(m));
	memset(&mr, 0, sizeof(mr));
	id = PQgetvalue(res, 0, 0);
	m.message_id = PQgetvalue(res, 0, 1);
	kind = PQgetvalue(res, 0, 2);
	m.to = PQgetvalue(res, 0, 3);
	m.to_name = PQgetvalue(res, 0, 4);
	m.subject = PQgetvalue(res, 0, 5);
	m.body = PQgetvalue(res, 0, 6);
	m.body_len = (size_t)PQgetlength(res, 0, 6);
	attempts = strtoul(PQgetvalue(res, 0, 7), NULL, 10);
	m.date = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
	m.from_addr = w->from_addr;
	m.from_name = w->from_name;

	t0 = mono();
	buf_reset(&w->msg);
	e = mailmsg_render(&w->msg, &m, &why);
	if (e == QERR_OK)
		mailer_send(w->mailer, w->from_addr, m.to, m.message_id,
		    w->msg.p, w->msg.len, &mr);
	else if (e == QERR_INVAL) {
		mr.status = MAILER_PERM;
		snprintf(mr.error, sizeof(mr.error), "not sent: %s", why);
	} else if (e == QERR_TOOBIG) {
		mr.status = MAILER_PERM;
		snprintf(mr.error, sizeof(mr.error), "not sent: the message "
		    "is larger than %d bytes", MSG_MAX);
	} else {
		mr.status = MAILER_TEMP;
		snprintf(mr.error, sizeof(mr.error), "out of memory");
	}
	snprintf(attempt, sizeof(attempt), "%lu", attempts + 1);
	snprintf(ms, sizeof(ms), "%.3f", (mono() - t0) * 1000.0);
	snprintf(code, sizeof(code), "%d", mr.code);
	k = 0;
	kv[k++] = "kind";
	kv[k++] = kind;
	kv[k++] = "message_id";
	kv[k++] = m.message_id;
	kv[k++] = "domain";
	kv[k++] = domain_of(m.to);
	kv[k++] = "attempt";
	kv[k++] = attempt;
	kv[k++] = "duration_ms";
	kv[k++] = ms;
	if (mr.code != 0) {
		kv[k++] = "smtp_code";
		kv[k++] = code;
	}
	params[0] = id;
	params[1] = mr.error;
	switch (mr.status) {
	case MAILER_SENT:
		if (exec(w, STMT_MAIL_SENT, params, NULL) == -1 ||
		    exec(w, STMT_COMMIT, NULL, NULL) == -1) {
			kv[k] = NULL;
			log_kv(LVL_WARN, "sent, but its row is still queued: "
			    "it will be sent again", kv);
			return -1;
		}
		kv[k] = NULL;
		log_kv(LVL_INFO, "sent", kv);
		w->sent++;
		w->transport_fails = 0;
		return 0;
	case MAILER_TEMP:
		delay = backoff(w, attempts);
		snprintf(delay_s, sizeof(delay_s), "%.3f", delay);
		params[2] = delay_s;
		if (exec(w, STMT_MAIL_RETRY, params, NULL) == -1 ||
		    exec(w, STMT_COMMIT, NULL, NULL) == -1)
			return -1;
		kv[k++] = "error";
		kv[k++] = mr.error;
		kv[k++] = "retry_in_s";
		kv[k++] = delay_s;
		kv[k] = NULL;
		log_kv(LVL_WARN, "not sent; will retry", kv);
		w->retried++;
		w->left++;
		if (!mr.transport)
			return 0;
		w->hold_until = mono() + backoff(w, w->transport_fails++);
		return 1;
	default:
		if (exec(w, STMT_MAIL_FAIL, params, NULL) == -1 ||
		    exec(w, STMT_COMMIT, NULL, NULL) == -1)
			return -1;
		kv[k++] = "error";
		kv[k++] = mr.error;
		kv[k] = NULL;
		log_kv(LVL_ERROR, "failed; kept in the outbox", kv);
		w->failed++;
		return 0;
	}
}

/*
 * One batch: claims and sends due rows, one transaction each, over one
 * SMTP connection, until none is due or a stop signal. Returns 0 then,
 * 1 when the transport failed, -1 on a database error.
 */
static int
batch(struct worker *w)
{
	PGresult	*res;
	int		 r;

	while (!stop) {
		if (exec(w, STMT_BEGIN, NULL, NULL) == -1 ||
		    exec(w, STMT_MAIL_CLAIM, NULL, &res) == -1)
			return -1;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return exec(w, STMT_COMMIT, NULL, NULL);
		}
		r = deliver(w, res);
		PQclear(res);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * Seconds until the next queued row is due: at most the poll interval,
 * and LOCKED_REPOLL when one is due now (another worker holds it, or it
 * came due since the claim). -1 on a database error.
 */
static double
next_wait(struct worker *w)
{
	PGresult	*res;
	double		 t;

	if (exec(w, STMT_MAIL_NEXT_DUE, NULL, &res) == -1)
		return -1;
	t = PQgetisnull(res, 0, 0) ? w->poll :
	    strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	if (t <= 0)
		t = LOCKED_REPOLL;
	return t < w->poll ? t : w->poll;
}

/* The worker's life: connect, send, wait; again until stopped. */
static int
run(struct worker *w)
{
	double		 t;
	unsigned	 dbfails;
	int		 r;

	dbfails = 0;
	while (!stop) {
		if (w->db == NULL) {
			if (db_connect(w) == -1) {
				if (w->drain)
					return 1;
				t = DB_RETRY_MIN * (double)(1u << (dbfails < 5 ?
				    dbfails : 5));
				dbfails++;
				(void)pause_for(w, t < DB_RETRY_MAX ? t :
				    DB_RETRY_MAX);
				continue;
			}
			if (dbfails > 0)
				log_msg(LVL_INFO, NULL, "primary reconnected");
			dbfails = 0;
		}
		if ((t = w->hold_until - mono()) > 0) {
			if (w->drain)
				return 1;
			if (pause_for(w, t < w->poll ? t : w->poll) == -1)
				db_drop(w);
			continue;
		}
		r = batch(w);
		/* One connection per batch: QUIT now, not at the server's timeout. */
		mailer_close(w->mailer);
		buf_trim(&w->msg, MSG_KEEP);
		if (r == -1)
			db_drop(w);
		if (w->drain)
			return r == 0 && w->left == 0 ? 0 : 1;
		if (r != 0)
			continue;
		if ((t = next_wait(w)) < 0 || pause_for(w, t) == -1)
			db_drop(w);
	}
	return 0;
}

static char *
setting(conf_getter get, void *garg, const char *name, enum qerr *e)
{
	const char	*v = get(name, garg);
	char		*s;

	if (v == NULL || *v == '\0')
		return NULL;
	if ((s = mem_strdup(v)) == NULL)
		*e = QERR_NOMEM;
	return s;
}

static enum qerr
collect(conf_getter get, void *garg, void *arg)
{
	struct settings	*s = arg;
	enum qerr	 e = QERR_OK;

	s->db_url = setting(get, garg, "QUIRE_PRIMARY_URL", &e);
	s->mail_url = setting(get, garg, "QUIRE_MAIL_URL", &e);
	s->mail_from = setting(get, garg, "QUIRE_MAIL_FROM", &e);
	s->ca_file = setting(get, garg, "QUIRE_MAIL_CA_FILE", &e);
	s->log_level = setting(get, garg, "QUIRE_LOG_LEVEL", &e);
	return e;
}

static void
settings_free(struct settings *s)
{

	mem_free(s->db_url);
	mem_free(s->mail_url);
	mem_free(s->mail_from);
	mem_free(s->ca_file);
	mem_free(s->log_level);
}

/* A number of seconds in [min, max]; decimals allowed. */
static int
parse_secs(const char *s, double min, double max, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{

	fprintf(f, "usage: quirectl [--url URL] mail-worker [--drain] "
	    "[--poll S] [--backoff-min S] [--backoff-max S]\n"
	    "Sends mail_outbox through QUIRE_MAIL_URL as QUIRE_MAIL_FROM "
	    "(docs/operations.md, \"Mail\").\n");
}

int
mailworker_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "drain", no_argument, NULL, 'd' },
		{ "poll", required_argument, NULL, 'p' },
		{ "backoff-min", required_argument, NULL, 'm' },
		{ "backoff-max", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const levels[LVL__MAX] = {
		"debug", "info", "warn", "error"
	};
	struct worker		 w;
	struct sigaction	 sa;
	enum log_level		 lvl;
	const char		*url, *kv[16];
	char			 err[512], poll_s[32], bmin_s[32], bmax_s[32];
	int			 ch, rc, i;

	memset(&w, 0, sizeof(w));
	w.poll = 5;
	w.bmin = 1;
	w.bmax = 900;
	url = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "u:dp:m:M:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'd':
			w.drain = 1;
			break;
		case 'p':
			if (parse_secs(optarg, 0.05, 3600, &w.poll) == -1) {
				fprintf(stderr, "quirectl: --poll must be 0.05 "
				    "to 3600 seconds\n");
				return 2;
			}
			break;
		case 'm':
			if (parse_secs(optarg, 0.01, 86400, &w.bmin) == -1) {
				fprintf(stderr, "quirectl: --backoff-min must be "
				    "0.01 to 86400 seconds\n");
				return 2;
			}
			break;
		case 'M':
			if (parse_secs(optarg, 0.01, 86400, &w.bmax) == -1) {
				fprintf(stderr, "quirectl: --backoff-max must be "
				    "0.01 to 86400 seconds\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || strcmp(argv[optind], "mail-worker") != 0) {
		usage(stderr);
		return 2;
	}
	if (w.bmax < w.bmin)
		w.bmax = w.bmin;
	if (conf_env_with(collect, &w.set, err, sizeof(err)) != QERR_OK) {
		fprintf(stderr, "quirectl: %s\n", err);
		rc = 2;
		goto out;
	}
	rc = 2;
	lvl = LVL_INFO;
	if (w.set.log_level != NULL) {
		for (i = 0; i < LVL__MAX; i++)
			if (strcmp(w.set.log_level, levels[i]) == 0)
				break;
		if (i == LVL__MAX) {
			fprintf(stderr, "quirectl: QUIRE_LOG_LEVEL must be "
			    "debug, info, warn or error\n");
			goto out;
		}
		lvl = (enum log_level)i;
	}
	if (url != NULL) {
		mem_free(w.set.db_url);
		if ((w.set.db_url = mem_strdup(url)) == NULL)
			goto out;
	}
	if (w.set.db_url == NULL) {
		fprintf(stderr, "quirectl: set QUIRE_PRIMARY_URL or pass --url\n");
		goto out;
	}
	if (w.set.mail_from == NULL || mailmsg_from(w.set.mail_from,
	    w.from_addr, sizeof(w.from_addr), w.from_name,
	    sizeof(w.from_name)) != QERR_OK) {
		fprintf(stderr, "quirectl: QUIRE_MAIL_FROM must be an address "
		    "or \"Name <address>\"\n");
		goto out;
	}
	if ((w.mailer = mailer_new(w.set.mail_url, w.set.ca_file, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "quirectl: %s\n", err);
		goto out;
	}
	log_init(lvl, "quire-mail-worker");
	if (sodium_init() < 0 || pipe(wake) == -1 ||
	    fcntl(wake[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(wake[1], F_SETFL, O_NONBLOCK) == -1) {
		fprintf(stderr, "quirectl: cannot set up: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal ends the wait at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	buf_init(&w.msg, MSG_MAX);
	if (mailer_auth_in_clear(w.mailer))
		log_msg(LVL_WARN, NULL, "QUIRE_MAIL_URL has a password but "
		    "not tls=required: it is sent in clear if the server "
		    "offers no STARTTLS");
	snprintf(poll_s, sizeof(poll_s), "%g", w.poll);
	snprintf(bmin_s, sizeof(bmin_s), "%g", w.bmin);
	snprintf(bmax_s, sizeof(bmax_s), "%g", w.bmax);
	kv[0] = "transport";
	kv[1] = mailer_describe(w.mailer);
	kv[2] = "from";
	kv[3] = w.from_addr;
	kv[4] = "poll_s";
	kv[5] = poll_s;
	kv[6] = "backoff_min_s";
	kv[7] = bmin_s;
	kv[8] = "backoff_max_s";
	kv[9] = bmax_s;
	kv[10] = "drain";
	kv[11] = w.drain ? "1" : "0";
	kv[12] = NULL;
	log_kv(LVL_INFO, "started", kv);
	rc = run(&w);
	snprintf(poll_s, sizeof(poll_s), "%lu", w.sent);
	snprintf(bmin_s, sizeof(bmin_s), "%lu", w.retried);
	snprintf(bmax_s, sizeof(bmax_s), "%lu", w.failed);
	kv[0] = "sent";
	kv[1] = poll_s;
	kv[2] = "retried";
	kv[3] = bmin_s;
	kv[4] = "failed";
	kv[5] = bmax_s;
	kv[6] = NULL;
	log_kv(LVL_INFO, "stopped", kv);
out:
	if (w.db != NULL)
		PQfinish(w.db);
	mailer_free(w.mailer);
	buf_free(&w.msg);
	settings_free(&w.set);
	if (wake[0] != -1) {
		close(wake[0]);
		close(wake[1]);
	}
	return rc;
}
