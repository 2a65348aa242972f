/*
 * quire: the FastCGI responder. The listening socket is fd 0, as
 * spawn-fcgi and lighttpd's bin-path hand it over. With --workers N a
 * small supervising parent forks N workers and replaces any that dies.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>
#include <jansson.h>
#include <sodium.h>

#include "app.h"
#include "arena.h"
#include "bounds.h"
#include "conf.h"
#include "db.h"
#include "h_ops.h"
#include "log.h"
#include "metrics.h"
#include "mem.h"
#include "peer.h"
#include "req.h"
#include "resp.h"
#include "route.h"
#include "sesscache.h"
#include "shm.h"

#define OUT_KEEP	(64 * 1024)

static volatile sig_atomic_t	 stopping;
static volatile sig_atomic_t	 accepting;
static sigjmp_buf		 accept_env;

/* FCGI_WEB_SERVER_ADDRS, read once in main() before any fork. */
static struct peer_list		 peers;

/*
 * The request deadline, QUIRE_REQUEST_TIMEOUT: a peer gets that long in
 * all to send a request, from accept (on a kept connection, from the
 * moment it turns readable) through the empty record that ends its
 * STDIN. libfcgi does the reads (FCGX_Accept_r; FCGX_GetStr for the
 * body in fcgx_read and in drain), each call a plain read() or several,
 * so a timeout on each read bounded nothing: a peer sending a byte every
 * few seconds held a worker for as long as it liked.
 *
 * Usually the web server has written the whole request before we look:
 * one peek (dl_begin) finds it all queued, no read of it can block, and
 * nothing is timed. Otherwise the request is "timed": ITIMER_REAL runs
 * while, and only while, libfcgi reads for us (dl_arm ... dl_disarm),
 * the time left carried from one read to the next. So our own work in
 * between (the session is looked up before the body is read) does not
 * count against the peer, and the timer's signal never lands in libpq.
 * When it fires, on_alarm puts a dead socket (reads see end of file) in
 * the connection's place: the read in progress fails with EINTR (no
 * SA_RESTART), any later one sees the end, and the kernel closes the
 * connection. The request is dropped unanswered and counted.
 */
static volatile sig_atomic_t	 dl_fd = -1;	/* guarded while the timer runs */
static volatile sig_atomic_t	 dl_hit;	/* this request ran out of time */
static int			 dl_dead = -1;	/* reads see end of file */
static int			 dl_timed;	/* not all queued: time its reads */
static struct timeval		 dl_left;	/* its time left */

static void
on_stop(int sig)
{

	(void)sig;
	stopping = 1;
	/*
	 * Between unblocking signals and entering accept() a stop would be
	 * missed until the next connection: jump out instead.
	 */
	if (accepting) {
		accepting = 0;
		siglongjmp(accept_env, 1);
	}
}

/*
 * SIGALRM: the brief accept's timer (accept_one), which only has to
 * interrupt accept(), or a request's deadline (dl_arm).
 */
static void
on_alarm(int sig)
{
	int	 saved;

	(void)sig;
	if (dl_fd < 0)
		return;
	saved = errno;
	dl_hit = 1;
	/*
	 * Unless libfcgi closed it already (a dropped connection): nothing
	 * has opened a descriptor since, so the number is still free.
	 */
	if (fcntl(dl_fd, F_GETFD) != -1)
		(void)dup2(dl_dead, dl_fd);
	errno = saved;
}

/*
 * Installs the stop handler. The supervisor needs its wait() interrupted
 * (restart 0); a worker wants every system call of a request in flight
 * to carry on (restart 1) and leaves accept() through on_stop's jump.
 */
static void
signals(void (*handler)(int), int restart)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* A client gone mid-answer must not kill the worker. */
	sigaction(SIGPIPE, &sa, NULL);
	/* A closed terminal or a stray reload must not stop the service. */
	sigaction(SIGHUP, &sa, NULL);
}

/* The time left: s seconds, at least a microsecond while any is. */
static void
dl_set_left(double s)
{

	timerclear(&dl_left);
	if (s <= 0.0)
		return;
	dl_left.tv_sec = (time_t)s;
	dl_left.tv_usec = (suseconds_t)((s - (double)dl_left.tv_sec) * 1e6);
	if (!timerisset(&dl_left))
		dl_left.tv_usec = 1;
}

/*
 * Starts the deadline of the request on fd, `seconds' from now, and
 * decides whether its reads need timing: not when one peek finds the
 * whole request queued (or the peer gone: reads end at once). A new
 * connection often has nothing queued yet, the web server writing just
 * after connecting: that first wait is a poll on the time left, then
 * one more peek. Returns -1 when the peer sent nothing in all that time.
 */
#define PEEK_MAX	8192

static int
dl_begin(int fd, long seconds)
{
	unsigned char	 buf[PEEK_MAX];
	struct pollfd	 pfd;
	ssize_t		 n;
	double		 t0;
	int		 rc;

	dl_hit = 0;
	dl_timed = 1;
	dl_set_left((double)seconds);
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		t0 = req_now();
		if ((rc = poll(&pfd, 1, (int)(seconds * 1000))) == 0) {
			dl_hit = 1;
			return -1;
		}
		/* Interrupted (a stop): the timer takes over. */
		dl_set_left((double)seconds - (req_now() - t0));
		if (rc > 0)
			n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	}
	if (n == 0 || (n > 0 && peer_request_whole(buf, (size_t)n)))
		dl_timed = 0;
	return 0;
}

/*
 * Lets the clock of a timed request run while libfcgi reads fd. Time
 * already used up kills the connection at once (the handler, raised).
 */
static void
dl_arm(int fd)
{
	struct itimerval	 it;

	if (!dl_timed || dl_hit || fd < 0)
		return;
	memset(&it, 0, sizeof(it));
	it.it_value = dl_left;
	dl_fd = fd;
	if (!timerisset(&it.it_value) ||
	    setitimer(ITIMER_REAL, &it, NULL) == -1)
		raise(SIGALRM);
}

/*
 * Stops the clock and keeps the time left for the next read. A signal
 * due by now has been handled when setitimer returns.
 */
static void
dl_disarm(void)
{
	struct itimerval	 off, old;

	if (dl_fd < 0)
		return;
	memset(&off, 0, sizeof(off));
	if (setitimer(ITIMER_REAL, &off, &old) == 0)
		dl_left = old.it_value;
	dl_fd = -1;
}

/* Logs and counts a request dropped at its deadline. */
static void
dl_report(const char *reqid, long seconds)
{

	metrics_fcgi_deadline();
	log_msg(LOG_WARN, reqid, "FastCGI request not read within "
	    "QUIRE_REQUEST_TIMEOUT (%ld s): connection closed", seconds);
}

/* Reads the body for req_read_body; ctx is the FCGX_Request. */
static long
fcgx_read(void *ctx, char *dst, size_t n)
{
	FCGX_Request	*fr = ctx;
	int		 want, got;

	want = n > 65536 ? 65536 : (int)n;
	dl_arm(fr->ipcFd);
	got = FCGX_GetStr(dst, want, fr->in);
	dl_disarm();
	return dl_hit ? -1 : got;
}

/*
 * Closes a connection from a peer FCGI_WEB_SERVER_ADDRS does not list,
 * before reading a byte of it. Counted in /metrics; logged at most once
 * a second (per worker), with how many were refused since the last line.
 */
static void
refuse(int fd, const struct sockaddr *sa, socklen_t len)
{
	static double		 last;
	static unsigned long	 n;
	char			 addr[PEER_ADDRSTRLEN];
	double			 now;

	metrics_fcgi_refused();
	close(fd);
	n++;
	if ((now = req_now()) - last < 1.0)
		return;
	peer_format(sa, len, addr, sizeof(addr));
	log_msg(LOG_WARN, NULL, "FastCGI peer not in FCGI_WEB_SERVER_ADDRS, "
	    "connection closed unread: peer=%s refused=%lu (since the last "
	    "such line)", addr, n);
	last = now;
	n = 0;
}

/*
 * How a worker waits for work.
 *
 * Without kept connections (lighttpd opens one connection per request) it
 * blocks in accept() on the shared listening socket: the kernel hands each
 * connection to exactly one waiting worker. (Waiting in poll() or epoll
 * instead wakes several idle workers per connection, and all but one find
 * nothing: on the bench machine that was two futile wake-ups and accepts
 * per request.) The socket's receive timeout, LOG_HOLD_S, makes accept()
 * return now and then, to write the buffered request lines.
 *
 * With connections the web server keeps open between requests
 * (FCGI_KEEP_CONN: nginx's fastcgi_keep_conn), it waits on its own epoll
 * set of those connections and the listening socket, so an idle kept
 * connection never holds back a request on another one or in the
 * listening socket's queue. Should another worker take the connection
 * first, its accept() gives up at once (ACCEPT_BRIEF_US).
 */
#define KEEP_MAX	64
#define EVENTS_MAX	(KEEP_MAX + 1)
/* Request lines wait for an idle moment at most this long (log_flush). */
#define LOG_HOLD_S	0.1

struct waiter {
	int		 ep;			/* epoll instance */
	int		 lfd;			/* the listening socket */
	int		 kept[KEEP_MAX];	/* registered in ep */
	int		 nkept;
	int		 ready[KEEP_MAX];	/* kept ones with input */
	int		 nready;
	int		 listen_ready;
};

static int
waiter_init(struct waiter *w, int lfd)
{
	struct timeval		 hold = { 0, (suseconds_t)(LOG_HOLD_S * 1e6) };
	struct epoll_event	 ev;
	int			 fl;

	memset(w, 0, sizeof(*w));
	w->lfd = lfd;
	/*
	 * Blocking, with a timeout (see above). The socket is shared by
	 * every worker, and so are these settings: all set the same.
	 */
	if ((fl = fcntl(lfd, F_GETFL)) == -1 ||
	    fcntl(lfd, F_SETFL, fl & ~O_NONBLOCK) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &hold, sizeof(hold)) == -1)
		return -1;
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = lfd;
	return epoll_ctl(w->ep, EPOLL_CTL_ADD, lfd, &ev);
}

static void
waiter_free(struct waiter *w)
{

	while (w->nkept > 0)
		close(w->kept[--w->nkept]);
	if (w->ep >= 0)
		close(w->ep);
	w->ep = -1;
}

/* Watches fd, kept open after its request; 0, or -1 when it cannot be. */
static int
waiter_keep(struct waiter *w, int fd)
{
	struct epoll_event	 ev;
	int			 i;

	for (i = 0; i < w->nkept; i++)
		if (w->kept[i] == fd)
			return 0;
	if (w->nkept >= KEEP_MAX)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = fd;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	w->kept[w->nkept++] = fd;
	return 0;
}

/* Forgets fd (closed: closing also took it out of the epoll set). */
static void
waiter_forget(struct waiter *w, int fd)
{
	int	 i;

	for (i = 0; i < w->nkept; i++)
		if (w->kept[i] == fd) {
			w->kept[i] = w->kept[--w->nkept];
			return;
		}
}

/*
 * A new connection from the listening socket with its write timeout, or
 * -1 with *err set: 0 when it came from a peer FCGI_WEB_SERVER_ADDRS does
 * not list, closed already. (Reading a request is bounded by its
 * deadline instead: see dl_begin.) `brief' bounds the wait to
 * ACCEPT_BRIEF_US: a worker holding kept connections must not sit in
 * accept() when another worker took the connection it saw. A timer
 * signal ends the wait: accept() on a socket with a receive timeout
 * fails with EINTR then, SA_RESTART or not.
 */
#define ACCEPT_BRIEF_US	2000

static int
accept_one(int lfd, int *err, int brief)
{
	/* A peer that does not take its answer is dropped, not waited for. */
	struct timeval		 tv = { BOUND_IO_TIMEOUT_S, 0 };
	struct timeval		 none = { 0, 0 };
	struct itimerval	 on = { { 0, 0 }, { 0, ACCEPT_BRIEF_US } };
	struct itimerval	 off = { { 0, 0 }, { 0, 0 } };
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	int			 fd, one;

	if (brief)
		(void)setitimer(ITIMER_REAL, &on, NULL);
	slen = sizeof(ss);
	fd = accept4(lfd, (struct sockaddr *)&ss, &slen, SOCK_CLOEXEC);
	*err = errno;
	if (brief)
		(void)setitimer(ITIMER_REAL, &off, NULL);
	if (fd < 0)
		return -1;
	/* libfcgi checks this in its own accept, which we do not use. */
	if (!peer_allowed(&peers, (struct sockaddr *)&ss, slen)) {
		refuse(fd, (struct sockaddr *)&ss, slen);
		*err = 0;
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		/*
		 * A TCP connection inherits the listening socket's receive
		 * timeout (LOG_HOLD_S, waiter_init), a unix one does not:
		 * its reads must wait, for as long as the deadline allows.
		 */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
		/* As libfcgi's accept did: answers go out without waiting for ACKs. */
		one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

/*
 * Waits for work. Buffered request lines are written once nothing is
 * ready and the oldest has waited LOG_HOLD_S: under load one write then
 * carries many lines instead of one each. Fills w->ready and
 * w->listen_ready.
 */
static void
wait_work(struct waiter *w)
{
	struct epoll_event	 ev[EVENTS_MAX];
	double			 since, left;
	int			 i, n, timeout;
	char			 c;

	if ((n = epoll_wait(w->ep, ev, EVENTS_MAX, 0)) == 0) {
		timeout = -1;
		if ((since = log_pending_since()) > 0.0) {
			left = since + LOG_HOLD_S - req_now();
			if (left <= 0.0)
				log_flush();
			else
				timeout = (int)(left * 1000.0) + 1;
		}
		/* A stop from here to the end of the wait jumps out (on_stop). */
		accepting = 1;
		n = stopping ? 0 : epoll_wait(w->ep, ev, EVENTS_MAX, timeout);
		accepting = 0;
		if (n == 0)
			log_flush();
	}
	for (i = 0; i < n; i++) {
		int	 fd = ev[i].data.fd;

		if (fd == w->lfd) {
			w->listen_ready = 1;
			continue;
		}
		/* The web server closing an idle connection is routine. */
		if ((ev[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) &&
		    recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) {
			waiter_forget(w, fd);
			close(fd);
			continue;
		}
		w->ready[w->nready++] = fd;
	}
}

/*
 * Waits for the next request: a kept connection with input, or a new
 * connection from an allowed peer. Returns its descriptor (new ones with
 * a write timeout set), or -1 when told to stop. A stop signal arriving while
 * we wait (or are about to) jumps back here; one arriving later just sets
 * `stopping', and the request then in hand is finished.
 */
static int
next_ready(struct waiter *w)
{
	struct timespec	 nap = { 0, 10 * 1000 * 1000 };
	double		 since;
	int		 fd, err;

	/* No mask saved: a jump only happens on the way out. */
	if (sigsetjmp(accept_env, 0) != 0)
		return -1;
	/* A busy worker writes its lines at least every LOG_HOLD_S. */
	if ((since = log_pending_since()) > 0.0 && req_now() - since >= LOG_HOLD_S)
		log_flush();
	for (;;) {
		if (stopping)
			return -1;
		if (w->nready > 0)
			return w->ready[--w->nready];
		if (w->nkept > 0) {
			wait_work(w);
			if (!w->listen_ready)
				continue;
			w->listen_ready = 0;
			fd = accept_one(w->lfd, &err, 1);
		} else {
			/* A stop from here to the end of the wait jumps out. */
			accepting = 1;
			fd = stopping ? -1 : accept_one(w->lfd, &err, 0);
			accepting = 0;
			if (stopping)
				return -1;
		}
		if (fd >= 0)
			return fd;
		switch (err) {
		case 0:
			/* A peer that is not allowed (accept_one). */
			continue;
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			/* LOG_HOLD_S without a connection: idle. */
			log_flush();
			continue;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Out of descriptors or memory: let some go, then retry. */
			log_msg(LOG_WARN, NULL, "accept: %s", strerror(err));
			nanosleep(&nap, NULL);
			continue;
		default:
			log_msg(LOG_ERROR, NULL, "accept: %s", strerror(err));
			return -1;
		}
	}
}

/*
 * Reads what is left of the request's input: normally just the empty
 * record that ends it, already buffered; or a body the route did not
 * need (a 401 or 413 answered before reading it), up to budget bytes.
 * Returns 1 when the input is at its end.
 */
static int
drain(FCGX_Request *fr, size_t budget)
{
	char	 tmp[4096];
	size_t	 got;
	int	 n;

	got = 0;
	while ((n = FCGX_GetStr(tmp, sizeof(tmp), fr->in)) > 0)
		if ((got += (size_t)n) > budget)
			return 0;
	return n == 0 && FCGX_GetError(fr->in) == 0;
}

/*
 * An unread body is read and dropped up to what the shipped web servers
 * pass on (QUIRE_MAX_BODY + 64 KiB), so that a connection nginx keeps
 * stays open: closing it after the answer races with nginx sending the
 * next request on it, which then fails (502) when it may not be retried.
 */
#define DRAIN_SLACK	(64 * 1024)

/* 1 when the rest of r's input is worth reading: it announced at most budget. */
static int
drainable(const struct req *r, size_t budget)
{
	const char	*cl;
	long		 v;

	if (r->input_done || (cl = req_param(r, "CONTENT_LENGTH")) == NULL ||
	    *cl == '\0')
		return 1;
	return conf_parse_long(cl, 0, (long)budget, &v) == QERR_OK;
}

/* Writes every iovec, resuming after short writes. Returns 0 or -1. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void
fcgi_header(unsigned char *h, int type, int id, size_t len)
{

	h[0] = FCGI_VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)((id >> 8) & 0xff);
	h[3] = (unsigned char)(id & 0xff);
	h[4] = (unsigned char)((len >> 8) & 0xff);
	h[5] = (unsigned char)(len & 0xff);
	h[6] = 0;	/* no padding: optional in the protocol */
	h[7] = 0;
}

/*
 * Sends the whole response and ends the request in as few writes as the
 * kernel allows: STDOUT records of up to 64 KiB straight from the
 * answer's pieces (resp.h), the empty record that closes the stream, and
 * END_REQUEST, by writev. libfcgi would copy through its 8 KiB buffer
 * and write each 8 KiB. A record never spans two pieces. Its stream is
 * then marked closed so FCGX_Finish_r writes nothing more.
 */
static void
send_response(FCGX_Request *fr, const struct resp_out *o)
{
	enum { CHUNK = 65535, BATCH = 64 };
	unsigned char	 hdr[BATCH][FCGI_HEADER_LEN];
	unsigned char	 tail[2 * FCGI_HEADER_LEN + sizeof(FCGI_EndRequestBody)];
	struct iovec	 iov[2 * BATCH + 1];
	const char	*p;
	size_t		 n, len;
	int		 k, last, piece;

	piece = 0;
	p = o->n > 0 ? o->iov[0].iov_base : NULL;
	len = o->n > 0 ? o->iov[0].iov_len : 0;
	do {
		for (k = 0; k < BATCH && (len > 0 || piece + 1 < o->n); ) {
			if (len == 0) {
				piece++;
				p = o->iov[piece].iov_base;
				len = o->iov[piece].iov_len;
				continue;
			}
			n = len < CHUNK ? len : CHUNK;
			fcgi_header(hdr[k], FCGI_STDOUT, fr->requestId, n);
			iov[2 * k].iov_base = hdr[k];
			iov[2 * k].iov_len = FCGI_HEADER_LEN;
			iov[2 * k + 1].iov_base = (void *)(uintptr_t)p;
			iov[2 * k + 1].iov_len = n;
			p += n;
			len -= n;
			k++;
		}
		last = len == 0 && piece + 1 >= o->n;
		if (last) {
			fcgi_header(tail, FCGI_STDOUT, fr->requestId, 0);
			fcgi_header(tail + FCGI_HEADER_LEN, FCGI_END_REQUEST,
			    fr->requestId, sizeof(FCGI_EndRequestBody));
			/* appStatus 0, FCGI_REQUEST_COMPLETE, reserved. */
			memset(tail + 2 * FCGI_HEADER_LEN, 0, sizeof(FCGI_EndRequestBody));
			iov[2 * k].iov_base = tail;
			iov[2 * k].iov_len = sizeof(tail);
			k = 2 * k + 1;
		} else
			k = 2 * k;
		if (writev_all(fr->ipcFd, iov, k) == -1) {
			fr->out->FCGI_errno = errno;
			break;
		}
	} while (!last);
	fr->out->wasFCloseCalled = 1;
	fr->out->isClosed = 1;
}

/*
 * Serves requests until told to stop. Returns the exit status.
 */
static int
serve(const struct conf *conf)
{
	FCGX_Request	 fr;
	struct waiter	 w;
	struct req	 r;
	struct db	 db;
	struct arena	*arena;
	struct buf	 out;
	struct resp_out	 ro;
	double		 ms;
	int		 nolisten, fd, rc, drained, sv[2];

	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, NULL, "FCGX_Init failed");
		return 1;
	}
	if (FCGX_IsCGI()) {
		log_msg(LOG_ERROR, NULL, "fd 0 is not a FastCGI listening "
		    "socket: start quire with spawn-fcgi or a web server's "
		    "bin-path");
		return 2;
	}
	/*
	 * We accept connections ourselves (next_ready) so each gets its
	 * write timeout, its peer checked against FCGI_WEB_SERVER_ADDRS
	 * (libfcgi's own check is in the accept we do not use) and its
	 * request a deadline, and hand them to libfcgi. Its own accept is
	 * pointed at a socket that never listens: when it drops a malformed
	 * connection and tries to accept another, it fails back to us
	 * instead of blocking.
	 */
	if ((nolisten = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    FCGX_InitRequest(&fr, nolisten, 0) != 0 ||
	    (arena = arena_new(BOUND_ARENA_KEEP, BOUND_REQUEST_MEMORY)) == NULL) {
		log_msg(LOG_ERROR, NULL, "out of memory at start-up");
		return 1;
	}
	db_init(&db, conf);
	sesscache_init(conf->session_cache_ms);
	if (req_setup(&r, conf, &db, arena) != QERR_OK) {
		log_msg(LOG_ERROR, NULL, "out of memory at start-up");
		return 1;
	}
	buf_init(&out, BOUND_RESPONSE);
	/* What a connection past its deadline becomes: a socket at its end. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_msg(LOG_ERROR, NULL, "socketpair: %s", strerror(errno));
		return 1;
	}
	close(sv[1]);
	dl_dead = sv[0];
	signals(on_stop, 1);
	if (waiter_init(&w, FCGI_LISTENSOCK_FILENO) == -1) {
		log_msg(LOG_ERROR, NULL, "listening socket: %s", strerror(errno));
		return 1;
	}
	log_msg(LOG_DEBUG, NULL, "worker ready");

	while (!stopping) {
		if ((fd = next_ready(&w)) == -1)
			break;
		if (dl_begin(fd, conf->request_timeout) == -1) {
			/* Not a byte in all that time. */
			dl_report(NULL, conf->request_timeout);
			waiter_forget(&w, fd);
			close(fd);
			continue;
		}
		fr.ipcFd = fd;
		/* Keeps FCGX_Accept_r's opening clean-up from closing it. */
		fr.keepConnection = 1;
		/*
		 * A connection libfcgi drops is closed at once, not with its
		 * lingering close, which reads as long as the peer sends.
		 */
		fr.detached = 1;
		dl_arm(fd);
		rc = FCGX_Accept_r(&fr);
		dl_disarm();
		/*
		 * A read that fails between two parameters ends libfcgi's
		 * parameters as if they were all there, and FCGX_Accept_r
		 * succeeds: such a request is not served either.
		 */
		if (rc >= 0 && (dl_hit || FCGX_GetError(fr.in) != 0)) {
			fr.out->wasFCloseCalled = 1;
			fr.out->isClosed = 1;
			fr.keepConnection = 0;
			FCGX_Finish_r(&fr);
			rc = -1;
		}
		if (rc < 0) {
			/* libfcgi dropped a malformed or stalled connection. */
			if (dl_hit)
				dl_report(NULL, conf->request_timeout);
			else
				log_msg(LOG_WARN, NULL, "dropped a malformed "
				    "FastCGI connection");
			waiter_forget(&w, fd);
			fr.ipcFd = -1;
			continue;
		}
		if (req_begin(&r, fr.envp, fcgx_read, &fr) != QERR_OK)
			resp_qerr(&r, QERR_NOMEM);
		else
			app_handle(&r);
		db_rollback(&r);
		if (!dl_hit) {
			resp_render_iov(&r, &out, &ro);
			if (buf_err(&out) == QERR_OK)
				send_response(&fr, &ro);
			ms = (req_now() - r.t_start) * 1000.0;
			metrics_request(&r, ms / 1000.0);
			log_request(r.method_name, r.route != NULL ?
			    r.route->path : NULL, r.path, r.status, ms, r.reqid,
			    r.pool);
		} else {
			/* Nobody to answer: write nothing (FCGX_Finish_r). */
			fr.out->wasFCloseCalled = 1;
			fr.out->isClosed = 1;
		}
		/*
		 * The rest of the input, within the deadline: drain() reads to
		 * the end of STDIN, a body the route did not read included (up
		 * to DRAIN_SLACK past the body limit). Then a plain close is
		 * safe and spares libfcgi's shutdown-and-wait for the web
		 * server to hang up, and libfcgi keeps the connection when the
		 * web server asked (no stray records are left for the next
		 * request). A body larger than that, or still on its way at
		 * the deadline, gets libfcgi's lingering close (shut our side,
		 * read until the web server hangs up, so that a reset does not
		 * destroy our answer), also within the deadline.
		 */
		drained = 0;
		if (!dl_hit && drainable(&r, conf->max_body + DRAIN_SLACK)) {
			dl_arm(fd);
			drained = drain(&fr, conf->max_body + DRAIN_SLACK);
			dl_disarm();
		}
		fr.detached = drained || dl_hit;
		if (!drained)
			fr.keepConnection = 0;
		req_end(&r);
		buf_trim(&out, OUT_KEEP);
		if (!fr.detached) {
			/* Timed even if all was queued: the peer may send more. */
			dl_timed = 1;
			dl_arm(fd);
		}
		FCGX_Finish_r(&fr);
		dl_disarm();
		if (dl_hit)
			dl_report(r.reqid, conf->request_timeout);
		if (fr.ipcFd < 0)
			waiter_forget(&w, fd);
		else if (waiter_keep(&w, fr.ipcFd) == -1) {
			/* No room to watch it: the web server will open another. */
			waiter_forget(&w, fd);
			close(fr.ipcFd);
		}
		fr.ipcFd = -1;
	}
	waiter_free(&w);
	db_close(&db);
	sesscache_free();
	req_teardown(&r);
	buf_free(&out);
	arena_free(arena);
	FCGX_Free(&fr, 1);
	close(nolisten);
	close(dl_dead);
	dl_dead = -1;
	log_flush();
	log_msg(LOG_DEBUG, NULL, "worker stopped");
	return 0;
}

static pid_t
spawn(const struct conf *conf)
{
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		stopping = 0;
		log_forked();
		/* exit(), not _exit(): LeakSanitizer checks at exit in test builds. */
		exit(serve(conf));
	}
	if (pid == -1)
		log_msg(LOG_ERROR, NULL, "fork: %s", strerror(errno));
	return pid;
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
	pid_t		 pid;
	long		 i, alive;
	int		 st, forwarded;

	if ((pids = mem_calloc((size_t)n, sizeof(*pids))) == NULL ||
	    (born = mem_calloc((size_t)n, sizeof(*born))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		pids[i] = spawn(conf);
		born[i] = time(NULL);
	}
	log_msg(LOG_INFO, NULL, "supervising %ld workers", n);
	forwarded = 0;
	for (;;) {
		if (stopping && !forwarded) {
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGTERM);
			forwarded = 1;
		}
		for (alive = 0, i = 0; i < n; i++)
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
				continue;
			}
			break;
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
			log_msg(LOG_ERROR, NULL, "worker %ld died of signal %d; "
			    "replacing it", (long)pid, WTERMSIG(st));
		else
			log_msg(LOG_ERROR, NULL, "worker %ld exited with %d; "
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
	log_msg(LOG_INFO, NULL, "stopped");
	return 0;
}

static void
usage(FILE *f)
{

	fprintf(f, "usage: quire [-w workers] [-V]\n"
	    "  FastCGI responder; the listening socket is fd 0 "
	    "(spawn-fcgi, lighttpd bin-path).\n"
	    "  Configuration comes from QUIRE_* environment variables.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf	 conf;
	char		 err[256];
	long		 workers;
	int		 ch, rc;

	workers = -1;
	while ((ch = getopt_long(argc, argv, "w:Vh", longopts, NULL)) != -1) {
		switch (ch) {
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
	if (peer_parse(&peers, getenv("FCGI_WEB_SERVER_ADDRS"), err,
	    sizeof(err)) != QERR_OK) {
		fprintf(stderr, "quire: %s\n", err);
		conf_free(&conf);
		return 2;
	}
	log_init(conf.log_level, "quire");
	if (peers.on)
		log_msg(LOG_INFO, NULL, "FCGI_WEB_SERVER_ADDRS lists %zu "
		    "address%s: other TCP peers are refused", peers.n,
		    peers.n == 1 ? "" : "es");
	if (sodium_init() < 0) {
		log_msg(LOG_ERROR, NULL, "libsodium failed to initialise");
		return 1;
	}
	json_set_alloc_funcs(mem_malloc, mem_free);
	h_ops_started = req_now();
	/*
	 * Workers forked by our supervisor share an anonymous segment;
	 * workers started by others share one only through QUIRE_SHM_PATH.
	 */
	if (shm_init(conf.shm_path) != QERR_OK) {
		log_msg(LOG_ERROR, NULL, "cannot map shared state: %s",
		    shm_error());
		return 1;
	}
	signals(on_stop, 0);
	if (conf.workers > 1)
		rc = supervise(&conf, conf.workers);
	else
		rc = serve(&conf);
	conf_free(&conf);
	return rc;
}
