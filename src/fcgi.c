/*
 * The FastCGI transport over libfcgi (checked against libfcgi 2.4.2, as
 * Debian 12 ships it). We accept connections ourselves (waiter.c) and
 * hand libfcgi a connected descriptor; its own accept is pointed at a
 * socket that never listens, so that when it drops a malformed
 * connection and tries to accept another, it fails back to us instead
 * of blocking. Answers bypass its 8 KiB stream buffer (fcgi_send), and
 * this file is the only one that reaches into FCGX_Request/FCGX_Stream.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "conf.h"
#include "fcgi.h"
#include "log.h"
#include "metrics.h"
#include "peer.h"
#include "req.h"

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
 * When it fires, fcgi_alarm puts a dead socket (reads see end of file) in
 * the connection's place: the read in progress fails with EINTR (no
 * SA_RESTART), any later one sees the end, and the kernel closes the
 * connection. The request is dropped unanswered and counted.
 */
static volatile sig_atomic_t	 dl_fd = -1;	/* guarded while the timer runs */
static struct fcgi *volatile	 dl_cur;	/* whose clock runs (dl_fd's) */
static int			 dl_dead = -1;	/* reads see end of file */

/*
 * SIGALRM: the brief accept's timer (waiter.c), which only has to
 * interrupt accept(), or a request's deadline (dl_arm).
 */
void
fcgi_alarm(int sig)
{
	int	 saved;

	(void)sig;
	if (dl_fd < 0)
		return;
	saved = errno;
	dl_cur->hit = 1;
	/*
	 * Unless libfcgi closed it already (a dropped connection): nothing
	 * has opened a descriptor since, so the number is still free.
	 */
	if (fcntl(dl_fd, F_GETFD) != -1)
		(void)dup2(dl_dead, dl_fd);
	errno = saved;
}

/* The time left: s seconds, at least a microsecond while any is. */
static void
dl_set_left(struct fcgi *fc, double s)
{

	timerclear(&fc->left);
	if (s <= 0.0)
		return;
	fc->left.tv_sec = (time_t)s;
	fc->left.tv_usec = (suseconds_t)((s - (double)fc->left.tv_sec) * 1e6);
	if (!timerisset(&fc->left))
		fc->left.tv_usec = 1;
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
dl_begin(struct fcgi *fc, int fd, long seconds)
{
	unsigned char	 buf[PEEK_MAX];
	struct pollfd	 pfd;
	ssize_t		 n;
	double		 t0;
	int		 rc;

	fc->hit = 0;
	fc->timed = 1;
	dl_set_left(fc, (double)seconds);
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		t0 = req_now();
		if ((rc = poll(&pfd, 1, (int)(seconds * 1000))) == 0) {
			fc->hit = 1;
			return -1;
		}
		/* Interrupted (a stop): the timer takes over. */
		dl_set_left(fc, (double)seconds - (req_now() - t0));
		if (rc > 0)
			n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	}
	if (n == 0 || (n > 0 && peer_request_whole(buf, (size_t)n)))
		fc->timed = 0;
	return 0;
}

/*
 * Lets the clock of a timed request run while libfcgi reads fd. Time
 * already used up kills the connection at once (the handler, raised).
 */
static void
dl_arm(struct fcgi *fc, int fd)
{
	struct itimerval	 it;

	if (!fc->timed || fc->hit || fd < 0)
		return;
	memset(&it, 0, sizeof(it));
	it.it_value = fc->left;
	dl_cur = fc;
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
dl_disarm(struct fcgi *fc)
{
	struct itimerval	 off, old;

	if (dl_fd < 0)
		return;
	memset(&off, 0, sizeof(off));
	if (setitimer(ITIMER_REAL, &off, &old) == 0)
		fc->left = old.it_value;
	dl_fd = -1;
}

/* Logs and counts a request dropped at its deadline. */
static void
dl_report(const char *reqid, long seconds)
{

	metrics_fcgi_deadline();
	log_msg(LVL_WARN, reqid, "FastCGI request not read within "
	    "QUIRE_REQUEST_TIMEOUT (%ld s): connection closed", seconds);
}

long
fcgi_read(void *ctx, char *dst, size_t n)
{
	struct fcgi	*fc = ctx;
	int		 want, got;

	want = n > 65536 ? 65536 : (int)n;
	dl_arm(fc, fc->fr.ipcFd);
	got = FCGX_GetStr(dst, want, fc->fr.in);
	dl_disarm(fc);
	return fc->hit ? -1 : got;
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
 * 1 when the rest of the input is worth reading: all of the body was
 * read, or it announced at most budget bytes. An unread body is read and
 * dropped up to what the shipped web servers pass on (QUIRE_MAX_BODY +
 * 64 KiB), so that a connection nginx keeps stays open: closing it after
 * the answer races with nginx sending the next request on it, which then
 * fails (502) when it may not be retried.
 */
static int
drainable(FCGX_Request *fr, int body_read, size_t budget)
{
	const char	*cl;
	long		 v;

	if (body_read || (cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp)) == NULL ||
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
 * Sends the whole answer and ends the request in as few writes as the
 * kernel allows: STDOUT records of up to 64 KiB straight from the
 * answer's pieces (resp.h), the empty record that closes the stream, and
 * END_REQUEST, by writev. libfcgi would copy through its 8 KiB buffer
 * and write each 8 KiB. A record never spans two pieces. Its stream is
 * then marked closed so FCGX_Finish_r writes nothing more.
 */
void
fcgi_send(struct fcgi *fc, const struct resp_out *o)
{
	enum { CHUNK = 65535, BATCH = 64 };
	FCGX_Request	*fr = &fc->fr;
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

int
fcgi_init(struct fcgi *fc, long timeout, size_t drain_max)
{
	int	 sv[2];

	memset(fc, 0, sizeof(*fc));
	fc->fd = -1;
	fc->nolisten = -1;
	fc->timeout = timeout;
	fc->drain_max = drain_max;
	if (FCGX_Init() != 0) {
		log_msg(LVL_ERROR, NULL, "FCGX_Init failed");
		return 1;
	}
	if (FCGX_IsCGI()) {
		log_msg(LVL_ERROR, NULL, "fd 0 is not a FastCGI listening "
		    "socket: start quire with spawn-fcgi or a web server's "
		    "bin-path");
		return 2;
	}
	if ((fc->nolisten = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    FCGX_InitRequest(&fc->fr, fc->nolisten, 0) != 0) {
		log_msg(LVL_ERROR, NULL, "out of memory at start-up");
		return 1;
	}
	/* What a connection past its deadline becomes: a socket at its end. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_msg(LVL_ERROR, NULL, "socketpair: %s", strerror(errno));
		return 1;
	}
	close(sv[1]);
	dl_dead = sv[0];
	return 0;
}

int
fcgi_init_slot(struct fcgi *fc, const struct fcgi *base)
{

	memset(fc, 0, sizeof(*fc));
	fc->fd = -1;
	fc->timeout = base->timeout;
	fc->drain_max = base->drain_max;
	if ((fc->nolisten = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    FCGX_InitRequest(&fc->fr, fc->nolisten, 0) != 0) {
		log_msg(LVL_ERROR, NULL, "out of memory at start-up");
		return 1;
	}
	return 0;
}

void
fcgi_free_slot(struct fcgi *fc)
{

	FCGX_Free(&fc->fr, 1);
	if (fc->nolisten >= 0)
		close(fc->nolisten);
}

void
fcgi_free(struct fcgi *fc)
{

	FCGX_Free(&fc->fr, 1);
	if (fc->nolisten >= 0)
		close(fc->nolisten);
	if (dl_dead >= 0)
		close(dl_dead);
	dl_dead = -1;
}

char **
fcgi_begin(struct fcgi *fc, int fd)
{
	FCGX_Request	*fr = &fc->fr;
	int		 rc;

	fc->fd = -1;
	if (dl_begin(fc, fd, fc->timeout) == -1) {
		/* Not a byte in all that time. */
		dl_report(NULL, fc->timeout);
		close(fd);
		return NULL;
	}
	fr->ipcFd = fd;
	/* Keeps FCGX_Accept_r's opening clean-up from closing it. */
	fr->keepConnection = 1;
	/*
	 * A connection libfcgi drops is closed at once, not with its
	 * lingering close, which reads as long as the peer sends.
	 */
	fr->detached = 1;
	dl_arm(fc, fd);
	rc = FCGX_Accept_r(fr);
	dl_disarm(fc);
	/*
	 * A read that fails between two parameters ends libfcgi's
	 * parameters as if they were all there, and FCGX_Accept_r
	 * succeeds: such a request is not served either.
	 */
	if (rc >= 0 && (fc->hit || FCGX_GetError(fr->in) != 0)) {
		fr->out->wasFCloseCalled = 1;
		fr->out->isClosed = 1;
		fr->keepConnection = 0;
		FCGX_Finish_r(fr);
		rc = -1;
	}
	if (rc < 0) {
		/* libfcgi dropped (and closed) a malformed or stalled connection. */
		if (fc->hit)
			dl_report(NULL, fc->timeout);
		else
			log_msg(LVL_WARN, NULL, "dropped a malformed "
			    "FastCGI connection");
		fr->ipcFd = -1;
		return NULL;
	}
	fc->fd = fd;
	return fr->envp;
}

int
fcgi_timed_out(const struct fcgi *fc)
{

	(void)fc;
	return fc->hit != 0;
}

int
fcgi_end(struct fcgi *fc, int body_read, const char *reqid)
{
	FCGX_Request	*fr = &fc->fr;
	int		 drained, keep;

	if (fc->hit) {
		/* Nobody to answer: write nothing (FCGX_Finish_r). */
		fr->out->wasFCloseCalled = 1;
		fr->out->isClosed = 1;
	}
	/*
	 * The rest of the input, within the deadline: drain() reads to
	 * the end of STDIN, a body the route did not read included (up to
	 * drain_max). Then a plain close is safe and spares libfcgi's
	 * shutdown-and-wait for the web server to hang up, and libfcgi
	 * keeps the connection when the web server asked (no stray records
	 * are left for the next request). A larger body, or one still on
	 * its way at the deadline, gets libfcgi's lingering close (shut our
	 * side, read until the web server hangs up, so that a reset does
	 * not destroy our answer), also within the deadline.
	 */
	drained = 0;
	if (!fc->hit && drainable(fr, body_read, fc->drain_max)) {
		dl_arm(fc, fc->fd);
		drained = drain(fr, fc->drain_max);
		dl_disarm(fc);
	}
	fr->detached = drained || fc->hit;
	if (!drained)
		fr->keepConnection = 0;
	if (!fr->detached) {
		/* Timed even if all was queued: the peer may send more. */
		fc->timed = 1;
		dl_arm(fc, fc->fd);
	}
	FCGX_Finish_r(fr);
	dl_disarm(fc);
	if (fc->hit)
		dl_report(reqid, fc->timeout);
	keep = fr->ipcFd;
	fr->ipcFd = -1;
	fc->fd = -1;
	return keep;
}
