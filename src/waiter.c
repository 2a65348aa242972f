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
 *
 * The stop signals are blocked while a request is served and let through
 * only while waiting: atomically in epoll_pwait, and around accept(),
 * which a signal interrupts (EINTR, the socket has a receive timeout);
 * one that lands just before accept() starts is seen within LOG_HOLD_S,
 * when the timeout returns.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "req.h"
#include "waiter.h"

#define EVENTS_MAX	(WAITER_KEEP_MAX + 1)
/*
 * How long a stopping worker goes on taking what is queued: under load
 * the queue never empties, and what was queued before the stop comes
 * first (it is a FIFO). On a reload the new workers take the rest.
 */
#define DRAIN_S		1.0
/* Request lines wait for an idle moment at most this long (log_flush). */
#define LOG_HOLD_S	0.1

int
waiter_init(struct waiter *w, int lfd, const struct peer_list *peers,
    volatile sig_atomic_t *stop, const sigset_t *waitmask)
{
	struct timeval		 hold = { 0, (suseconds_t)(LOG_HOLD_S * 1e6) };
	struct epoll_event	 ev;
	int			 fl;

	memset(w, 0, sizeof(*w));
	w->lfd = lfd;
	w->peers = peers;
	w->stop = stop;
	w->waitmask = waitmask;
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

void
waiter_free(struct waiter *w)
{

	while (w->nkept > 0)
		close(w->kept[--w->nkept]);
	if (w->ep >= 0)
		close(w->ep);
	w->ep = -1;
}

int
waiter_keep(struct waiter *w, int fd)
{
	struct epoll_event	 ev;
	int			 i;

	for (i = 0; i < w->nkept; i++)
		if (w->kept[i] == fd)
			return 0;
	if (w->nkept >= WAITER_KEEP_MAX)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = fd;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	w->kept[w->nkept++] = fd;
	return 0;
}

void
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
	log_msg(LVL_WARN, NULL, "FastCGI peer not in FCGI_WEB_SERVER_ADDRS, "
	    "connection closed unread: peer=%s refused=%lu (since the last "
	    "such line)", addr, n);
	last = now;
	n = 0;
}

/*
 * A new connection from the listening socket with its write timeout, or
 * -1 with *err set: 0 when it came from a peer FCGI_WEB_SERVER_ADDRS does
 * not list, closed already. (Reading a request is bounded by its
 * deadline instead: see fcgi.c.) `brief' bounds the wait to
 * ACCEPT_BRIEF_US: a worker holding kept connections must not sit in
 * accept() when another worker took the connection it saw. A timer
 * signal ends the wait: accept() on a socket with a receive timeout
 * fails with EINTR then, SA_RESTART or not.
 */
#define ACCEPT_BRIEF_US	2000

static int
accept_one(struct waiter *w, int *err, int brief)
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
	fd = accept4(w->lfd, (struct sockaddr *)&ss, &slen, SOCK_CLOEXEC);
	*err = errno;
	if (brief)
		(void)setitimer(ITIMER_REAL, &off, NULL);
	if (fd < 0)
		return -1;
	/* libfcgi checks this in its own accept, which we do not use. */
	if (!peer_allowed(w->peers, (struct sockaddr *)&ss, slen)) {
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

/* Sorts ready events: the listening socket, kept connections with input. */
static void
take_events(struct waiter *w, const struct epoll_event *ev, int n)
{
	int	 i;
	char	 c;

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
	int			 n, timeout;

	if ((n = epoll_wait(w->ep, ev, EVENTS_MAX, 0)) == 0) {
		timeout = -1;
		if ((since = log_pending_since()) > 0.0) {
			left = since + LOG_HOLD_S - req_now();
			if (left <= 0.0)
				log_flush();
			else
				timeout = (int)(left * 1000.0) + 1;
		}
		/* The stop signals get through while, and only while, we wait. */
		n = epoll_pwait(w->ep, ev, EVENTS_MAX, timeout, w->waitmask);
		if (n == -1)
			return;		/* a signal: the caller looks at *stop */
		if (n == 0)
			log_flush();
	}
	if (n > 0)
		take_events(w, ev, n);
}

/* A kept connection with a request ready now, or -1; never waits. */
static int
kept_ready(struct waiter *w)
{
	struct epoll_event	 ev[EVENTS_MAX];
	int			 n;

	if (w->nready == 0 && w->nkept > 0 &&
	    (n = epoll_wait(w->ep, ev, EVENTS_MAX, 0)) > 0)
		take_events(w, ev, n);
	return w->nready > 0 ? w->ready[--w->nready] : -1;
}

/*
 * Stopping: the work already here, so that nothing that reached us
 * before the stop is reset. Kept connections with a request waiting,
 * then the connections in the listen queue, each taken with a brief
 * accept (other workers drain the same queue). -1 once there is none,
 * or DRAIN_S after the stop.
 */
static int
drain_next(struct waiter *w)
{
	int			 fd, err;

	if (w->stop_seen == 0.0)
		w->stop_seen = req_now();
	else if (req_now() - w->stop_seen > DRAIN_S)
		return -1;
	if ((fd = kept_ready(w)) >= 0)
		return fd;
	for (;;) {
		if ((fd = accept_one(w, &err, 1)) >= 0)
			return fd;
		if (err != 0)		/* 0: a refused peer; look again */
			return -1;
	}
}

int
waiter_next(struct waiter *w)
{
	struct timespec	 nap = { 0, 10 * 1000 * 1000 };
	sigset_t	 serving;
	double		 since;
	int		 fd, err;

	/* A busy worker writes its lines at least every LOG_HOLD_S. */
	if ((since = log_pending_since()) > 0.0 && req_now() - since >= LOG_HOLD_S)
		log_flush();
	for (;;) {
		if (*w->stop)
			return drain_next(w);
		if (w->nready > 0)
			return w->ready[--w->nready];
		if (w->nkept > 0) {
			wait_work(w);
			if (!w->listen_ready)
				continue;
			w->listen_ready = 0;
			fd = accept_one(w, &err, 1);
		} else {
			/* A stop pending or arriving now is handled here. */
			sigprocmask(SIG_SETMASK, w->waitmask, &serving);
			fd = *w->stop ? -1 : accept_one(w, &err, 0);
			sigprocmask(SIG_SETMASK, &serving, NULL);
			/* A stop: what is queued is still served (drain_next). */
			if (fd < 0 && *w->stop)
				continue;
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
			log_msg(LVL_WARN, NULL, "accept: %s", strerror(err));
			nanosleep(&nap, NULL);
			continue;
		default:
			log_msg(LVL_ERROR, NULL, "accept: %s", strerror(err));
			return -1;
		}
	}
}

int
waiter_more(struct waiter *w)
{
	struct pollfd		 pfd;
	int			 fd, err;

	if (*w->stop)
		return -1;
	if ((fd = kept_ready(w)) >= 0)
		return fd;
	if (w->nkept > 0) {
		if (!w->listen_ready)
			return -1;
		w->listen_ready = 0;
	} else {
		pfd.fd = w->lfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 1)
			return -1;
	}
	/* Another worker may take it first: a brief accept. */
	return accept_one(w, &err, 1);
}
