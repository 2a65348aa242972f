/*
 * quire: the FastCGI responder's processes. The listening socket is fd
 * 0, as spawn-fcgi and lighttpd's bin-path hand it over. With --workers
 * N a small supervising parent forks N workers and replaces any that
 * dies. Each worker waits for work (waiter.c), reads the request and
 * sends the answer through the FastCGI transport (fcgi.c), and hands the
 * request to the app (app.c) in between.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <jansson.h>
#include <sodium.h>

#include "app.h"
#include "arena.h"
#include "batch.h"
#include "bounds.h"
#include "conf.h"
#include "db.h"
#include "fcgi.h"
#include "h_ops.h"
#include "log.h"
#include "metrics.h"
#include "mem.h"
#include "notify.h"
#include "peer.h"
#include "pos.h"
#include "req.h"
#include "resp.h"
#include "revoke.h"
#include "route.h"
#include "ryw.h"
#include "sesscache.h"
#include "shm.h"
#include "totp.h"
#include "waiter.h"

#define OUT_KEEP	(64 * 1024)
/*
 * An unread body is read and dropped up to what the shipped web servers
 * pass on: QUIRE_MAX_BODY + 64 KiB (fcgi_end).
 */
#define DRAIN_SLACK	(64 * 1024)

static volatile sig_atomic_t	 stopping;
static volatile sig_atomic_t	 reloading;	/* SIGHUP to the supervisor */

/* What a reload executes again: this program, by path, with its arguments. */
static char			 self_path[4096];
static char			**self_argv;

/* FCGI_WEB_SERVER_ADDRS, read once in main() before any fork. */
static struct peer_list		 peers;

/* A single process's own revocation listener (notify.h); 0 otherwise. */
static pid_t			 own_listener;

/*
 * SIGTERM, SIGINT: stop after the request in hand. A worker blocks them
 * while it serves and lets them through only while it waits (waiter.c),
 * so nothing it does is interrupted by them.
 */
static void
on_stop(int sig)
{

	(void)sig;
	stopping = 1;
}

/* SIGHUP to the supervisor: reload (reload()). */
static void
on_reload(int sig)
{

	(void)sig;
	reloading = 1;
}

/*
 * Installs the signal handlers. The supervisor needs its wait()
 * interrupted (restart 0); a worker wants every system call of a request
 * in flight to carry on (restart 1). SIGHUP gets hup: the supervisor's
 * reload, or SIG_IGN (a worker, a single process). Setting it here, in
 * one go, matters after a reload: a SIGHUP that came while the new
 * process started is pending (blocked across the exec), and would be
 * dropped were SIGHUP ignored even for a moment.
 */
static void
signals(void (*handler)(int), int restart, void (*hup)(int))
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Never restarted: a deadline must end the read it interrupts. */
	sa.sa_handler = fcgi_alarm;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	/* Not restarted either: the supervisor's wait() must see it. */
	sa.sa_handler = hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* A client gone mid-answer must not kill the worker. */
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * A single process (no supervisor): its listener is replaced when it
 * died, noticed after a request.
 */
static void
listener_check(const struct conf *conf)
{

	if (waitpid(own_listener, NULL, WNOHANG) != own_listener)
		return;
	log_msg(LVL_ERROR, NULL, "revocation listener %ld died; replacing it",
	    (long)own_listener);
	own_listener = notify_spawn(conf);
}

/* Batch mode (batch.h): up to this many requests at once; 1 is off. */
static long			 batch_n = 1;

/* One request in hand: its transport, its state, its memory. */
struct slot {
	struct fcgi	 fc;
	struct req	 r;
	struct arena	*arena;
	int		 fd;
	int		 handle;	/* begun well: the app answers it */
};

/* Takes the request on fd into s. -1 when there is none to answer. */
static int
slot_begin(struct slot *s, struct waiter *w, int fd)
{
	char	**envp;

	if ((envp = fcgi_begin(&s->fc, fd)) == NULL) {
		waiter_forget(w, fd);
		return -1;
	}
	s->fd = fd;
	s->handle = req_begin(&s->r, envp, fcgi_read, &s->fc) == QERR_OK;
	if (!s->handle)
		resp_qerr(&s->r, QERR_NOMEM);
	return 0;
}

/* Answers s, logs it, and keeps or closes its connection. */
static void
slot_finish(struct slot *s, struct waiter *w, struct buf *out,
    const struct conf *conf)
{
	struct resp_out	 ro;
	double		 ms;
	int		 keep;

	db_rollback(&s->r);
	if (!fcgi_timed_out(&s->fc)) {
		resp_render_iov(&s->r, out, &ro);
		if (buf_err(out) == QERR_OK)
			fcgi_send(&s->fc, &ro);
		ms = (req_now() - s->r.in.t_start) * 1000.0;
		metrics_request(&s->r, ms / 1000.0);
		log_request(s->r.in.method_name, s->r.route != NULL ?
		    s->r.route->path : NULL, s->r.in.path, s->r.out.status, ms,
		    s->r.in.reqid, s->r.out.pool);
	}
	keep = fcgi_end(&s->fc, s->r.in.input_done, s->r.in.reqid);
	req_end(&s->r);
	if (own_listener > 0)
		listener_check(conf);
	buf_trim(out, OUT_KEEP);
	if (keep < 0)
		waiter_forget(w, s->fd);
	else if (waiter_keep(w, keep) == -1) {
		/* No room to watch it: the web server will open another. */
		waiter_forget(w, s->fd);
		close(keep);
	}
}

/*
 * Serves requests until told to stop. Returns the exit status.
 */
static int
serve(const struct conf *conf)
{
	static struct slot slots[BATCH_MAX];
	struct slot	*s;
	struct req	*rs[BATCH_MAX];
	struct waiter	 w;
	struct db	 db;
	struct buf	 out;
	sigset_t	 stops, waitmask;
	int		 fd, rc, i, n, nslots;

	nslots = (int)batch_n;
	memset(slots, 0, sizeof(slots));
	for (i = 0; i < nslots; i++) {
		s = &slots[i];
		if ((rc = i == 0 ? fcgi_init(&s->fc, conf->request_timeout,
		    conf->max_body + DRAIN_SLACK) :
		    fcgi_init_slot(&s->fc, &slots[0].fc)) != 0)
			return rc;
		if ((s->arena = arena_new(BOUND_ARENA_KEEP,
		    BOUND_REQUEST_MEMORY)) == NULL) {
			log_msg(LVL_ERROR, NULL, "out of memory at start-up");
			return 1;
		}
	}
	db_init(&db, conf);
	sesscache_init(conf->session_cache_ms);
	for (i = 0; i < nslots; i++)
		if (req_setup(&slots[i].r, conf, &db, slots[i].arena) != QERR_OK) {
			log_msg(LVL_ERROR, NULL, "out of memory at start-up");
			return 1;
		}
	if (nslots > 1 && batch_init(nslots) == -1) {
		log_msg(LVL_ERROR, NULL, "batch mode: no memory for its stacks");
		return 1;
	}
	buf_init(&out, BOUND_RESPONSE);
	/* A closed terminal or a stray SIGHUP must not stop a worker. */
	signals(on_stop, 1, SIG_IGN);
	/* The stop signals wait while a request is served (see on_stop). */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	if (waiter_init(&w, FCGI_LISTENSOCK_FILENO, &peers, &stopping,
	    &waitmask) == -1) {
		log_msg(LVL_ERROR, NULL, "listening socket: %s", strerror(errno));
		return 1;
	}
	log_msg(LVL_DEBUG, NULL, "worker ready");

	/* Until stopped, and then until the work already here is done. */
	for (;;) {
		if ((fd = waiter_next(&w)) == -1)
			break;
		n = slot_begin(&slots[0], &w, fd) == 0;
		/* Batch mode: what else is ready now joins it. */
		while (n > 0 && n < nslots && (fd = waiter_more(&w)) != -1)
			if (slot_begin(&slots[n], &w, fd) == 0)
				n++;
		if (n == 1 && slots[0].handle)
			app_handle(&slots[0].r);
		else if (n > 1) {
			for (i = rc = 0; i < n; i++)
				if (slots[i].handle)
					rs[rc++] = &slots[i].r;
			batch_run(rs, rc);
		}
		for (i = 0; i < n; i++)
			slot_finish(&slots[i], &w, &out, conf);
	}
	if (nslots > 1)
		batch_free();
	waiter_free(&w);
	db_close(&db);
	sesscache_free();
	for (i = 0; i < nslots; i++) {
		req_teardown(&slots[i].r);
		arena_free(slots[i].arena);
		if (i == 0)
			fcgi_free(&slots[i].fc);
		else
			fcgi_free_slot(&slots[i].fc);
	}
	buf_free(&out);
	log_flush();
	log_msg(LVL_DEBUG, NULL, "worker stopped");
	return 0;
}

static pid_t
spawn(const struct conf *conf)
{
	sigset_t	 stops, old;
	pid_t		 pid;

	/*
	 * A stop sent to the new worker before it cleared `stopping' would
	 * be lost (a reload right after a start does that): held until the
	 * worker waits for work (serve() lets it through there).
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigprocmask(SIG_BLOCK, &stops, &old);
	if ((pid = fork()) == 0) {
		stopping = 0;
		log_forked();
		/* exit(), not _exit(): LeakSanitizer checks at exit in test builds. */
		exit(serve(conf));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1)
		log_msg(LVL_ERROR, NULL, "fork: %s", strerror(errno));
	return pid;
}

/*
 * Reload (SIGHUP): the supervisor executes itself again, by path, so a
 * new binary installed there takes over, with the configuration read
 * anew (QUIRE_ENV_FILE). The listening socket (fd 0) stays open
 * throughout, so nothing that reaches it is reset: the old workers are
 * told to stop (they finish their request and what is queued), and the
 * new supervisor's workers start accepting at once. The shared segment
 * is handed over too (SHM_FD_VAR), so counters, the read-your-writes
 * table and the session cache's generation carry on. A configuration
 * that does not parse is refused and the service keeps running as it
 * was; a failed exec leaves the old supervisor in charge, replacing the
 * workers it stopped.
 */
static void
reload(const pid_t *pids, long n, pid_t listener)
{
	struct conf	 next;
	struct peer_list pl;
	sigset_t	 hup;
	char		 err[256], fdv[16];
	long		 i;
	int		 fd;

	if (conf_from_env(&next, err, sizeof(err)) != QERR_OK) {
		log_msg(LVL_ERROR, NULL, "reload refused, still running as "
		    "before: %s", err);
		return;
	}
	if (peer_parse(&pl, next.web_server_addrs, err, sizeof(err)) != QERR_OK) {
		conf_free(&next);
		log_msg(LVL_ERROR, NULL, "reload refused, still running as "
		    "before: %s", err);
		return;
	}
	conf_free(&next);
	log_msg(LVL_INFO, NULL, "reloading: executing %s", self_path);
	/* Held until the new process has its handler (main). */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	/* The next supervisor forks its own (the lease waits for this one). */
	if (listener > 0)
		kill(listener, SIGTERM);
	if ((fd = shm_fd()) >= 0) {
		snprintf(fdv, sizeof(fdv), "%d", fd);
		(void)setenv(SHM_FD_VAR, fdv, 1);
	}
	execv(self_path, self_argv);
	log_msg(LVL_ERROR, NULL, "reload: cannot execute %s: %s; the workers "
	    "are replaced as they stop", self_path, strerror(errno));
	(void)unsetenv(SHM_FD_VAR);
	sigprocmask(SIG_UNBLOCK, &hup, NULL);
}

/*
 * Keeps n workers alive; on SIGTERM/SIGINT stops them and waits for each
 * to finish its request. Returns the exit status.
 */
static int
supervise(const struct conf *conf, long n)
{
	pid_t		*pids;
	time_t		*born;
	time_t		 lborn;
	pid_t		 pid, listener;
	long		 i, alive;
	int		 st, forwarded;

	if ((pids = mem_calloc((size_t)n, sizeof(*pids))) == NULL ||
	    (born = mem_calloc((size_t)n, sizeof(*born))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		pids[i] = spawn(conf);
		born[i] = time(NULL);
	}
	/* Beside the workers, and replaced like them (notify.h). */
	listener = notify_spawn(conf);
	lborn = time(NULL);
	log_msg(LVL_INFO, NULL, "supervising %ld workers", n);
	forwarded = 0;
	for (;;) {
		if (reloading && !stopping) {
			reloading = 0;
			reload(pids, n, listener);
		}
		if (stopping && !forwarded) {
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			if (listener > 0)
				kill(listener, SIGTERM);
			/*
			 * The workers answer what is already queued, then
			 * close their copies: with ours closed too, the
			 * socket is gone and later connections are refused
			 * at once instead of queued and then reset.
			 */
			(void)close(FCGI_LISTENSOCK_FILENO);
			forwarded = 1;
		}
		for (alive = listener > 0, i = 0; i < n; i++)
			if (pids[i] > 0)
				alive++;
		if (alive == 0 && stopping)
			break;
		pid = wait(&st);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD && !stopping) {
				/* Every fork failed: try again shortly. */
				sleep(1);
				for (i = 0; i < n; i++)
					if (pids[i] <= 0)
						pids[i] = spawn(conf);
				if (listener <= 0)
					listener = notify_spawn(conf);
				continue;
			}
			break;
		}
		if (pid == listener) {
			listener = 0;
			if (stopping)
				continue;
			log_msg(LVL_ERROR, NULL, "revocation listener %ld "
			    "stopped; replacing it", (long)pid);
			if (time(NULL) - lborn < 1)
				sleep(1);
			if (stopping)
				continue;
			listener = notify_spawn(conf);
			lborn = time(NULL);
			continue;
		}
		for (i = 0; i < n; i++)
			if (pids[i] == pid)
				break;
		if (i == n)
			continue;
		pids[i] = 0;
		if (stopping)
			continue;
		if (WIFSIGNALED(st))
			log_msg(LVL_ERROR, NULL, "worker %ld died of signal %d; "
			    "replacing it", (long)pid, WTERMSIG(st));
		else
			log_msg(LVL_ERROR, NULL, "worker %ld exited with %d; "
			    "replacing it", (long)pid, WEXITSTATUS(st));
		/* A worker that dies at birth would otherwise spin the CPU. */
		if (time(NULL) - born[i] < 1)
			sleep(1);
		if (stopping)
			continue;
		metrics_worker_restart();
		pids[i] = spawn(conf);
		born[i] = time(NULL);
	}
	mem_free(pids);
	mem_free(born);
	log_msg(LVL_INFO, NULL, "stopped");
	return 0;
}

/*
 * Maps the shared segment and carves every tenant's region, always in
 * this order (shm.h). A segment handed over by a reload that the
 * tenants of this build do not fit is dropped for a fresh one.
 */
static enum qerr
shared_state(const char *path)
{
	int	 again;

	for (again = 0; again < 2; again++) {
		if (shm_init(path) == QERR_OK && ryw_shm_init() == QERR_OK &&
		    db_shm_init() == QERR_OK && revoke_shm_init() == QERR_OK &&
		    metrics_shm_init() == QERR_OK && pos_shm_init() == QERR_OK &&
		    notify_shm_init() == QERR_OK)
			return QERR_OK;
		if (!shm_inherited())
			break;
		log_msg(LVL_WARN, NULL, "the shared state handed over by the "
		    "reload does not fit this build (%s): starting afresh",
		    shm_error());
		shm_discard();
	}
	return QERR_IO;
}

static void
usage(FILE *f)
{

	fprintf(f, "usage: quire [-w|--workers N] [-b|--batch N] [-V|--version] "
	    "[-h|--help]\n"
	    "  FastCGI responder; the listening socket is fd 0 "
	    "(spawn-fcgi, lighttpd bin-path).\n"
	    "  Configuration comes from QUIRE_* environment variables, and from\n"
	    "  the file QUIRE_ENV_FILE names, read again on SIGHUP (a reload).\n"
	    "  SIGTERM: answer what is in flight and queued, then exit.\n"
	    "  --batch N (opt-in, off by default): a worker serves up to N ready\n"
	    "  requests at once, their reads pipelined; a worker that dies\n"
	    "  then takes all of them with it (docs/deploy.md §6).\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, 'b' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf	 conf;
	sigset_t	 hup;
	ssize_t		 len;
	char		 err[256];
	long		 workers;
	int		 ch, rc;

	workers = -1;
	while ((ch = getopt_long(argc, argv, "w:b:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (conf_parse_long(optarg, 1, BATCH_MAX, &batch_n) != QERR_OK) {
				fprintf(stderr, "quire: --batch must be 1 to %d\n",
				    BATCH_MAX);
				return 2;
			}
			break;
		case 'w':
			if (conf_parse_long(optarg, 1, 256, &workers) != QERR_OK) {
				fprintf(stderr, "quire: --workers must be 1 to 256\n");
				return 2;
			}
			break;
		case 'V':
			printf("quire %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (conf_from_env(&conf, err, sizeof(err)) != QERR_OK) {
		fprintf(stderr, "quire: %s\n", err);
		return 2;
	}
	if (workers > 0)
		conf.workers = workers;
	if (peer_parse(&peers, conf.web_server_addrs, err,
	    sizeof(err)) != QERR_OK) {
		fprintf(stderr, "quire: %s\n", err);
		conf_free(&conf);
		return 2;
	}
	log_init(conf.log_level, "quire");
	if (geteuid() == 0)
		log_msg(LVL_WARN, NULL, "running as root: a bug in a worker would "
		    "have the whole machine; run quire as an unprivileged user "
		    "(spawn-fcgi -u, the unit's User=)");
	if (peers.on)
		log_msg(LVL_INFO, NULL, "FCGI_WEB_SERVER_ADDRS lists %zu "
		    "address%s: other TCP peers are refused", peers.n,
		    peers.n == 1 ? "" : "es");
	if (sodium_init() < 0) {
		log_msg(LVL_ERROR, NULL, "libsodium failed to initialise");
		return 1;
	}
	json_set_alloc_funcs(mem_malloc, mem_free);
	h_ops_started = req_now();
	/*
	 * Workers forked by our supervisor share an anonymous segment;
	 * workers started by others share one only through QUIRE_SHM_PATH.
	 * Each tenant then carves its region: always in this order (shm.h).
	 */
	if (shared_state(conf.shm_path) != QERR_OK) {
		log_msg(LVL_ERROR, NULL, "cannot map shared state: %s",
		    shm_error());
		return 1;
	}
	if (pos_init(&conf) != QERR_OK) {
		log_msg(LVL_ERROR, NULL, "cannot set up the read position key");
		return 1;
	}
	/* Once, before the workers fork: each inherits liboath ready. */
	if (totp_init() == -1) {
		log_msg(LVL_ERROR, NULL, "liboath failed to initialise");
		return 1;
	}
	if (!conf.has_secret_key)
		log_msg(LVL_INFO, NULL, "QUIRE_SECRET_KEY is not set: "
		    "two-factor authentication answers 503");
	if (!pos_shared_key() && conf.nreplicas > 0)
		log_msg(LVL_INFO, NULL, "QUIRE_POSITION_KEY is not set: read "
		    "positions (Quire-Read-After) verify on this host only; "
		    "several app hosts need the same key (docs/deploy.md)");
	if (conf.workers > 1) {
		/* Reload by path: a binary replaced there is the one run. */
		len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
		if (len <= 0 || (size_t)len >= sizeof(self_path) - 1)
			len = 0;
		self_path[len] = '\0';
		self_argv = argv;
	}
	signals(on_stop, 0, conf.workers > 1 && self_path[0] != '\0' ?
	    on_reload : SIG_IGN);
	if (conf.workers > 1) {
		/* A reload held SIGHUP across its exec (reload()). */
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		sigprocmask(SIG_UNBLOCK, &hup, NULL);
	}
	if (conf.workers > 1)
		rc = supervise(&conf, conf.workers);
	else {
		own_listener = notify_spawn(&conf);
		rc = serve(&conf);
		if (own_listener > 0) {
			kill(own_listener, SIGTERM);
			(void)waitpid(own_listener, NULL, 0);
		}
	}
	conf_free(&conf);
	return rc;
}
