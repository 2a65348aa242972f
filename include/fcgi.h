/*
 * The FastCGI transport of one worker, over libfcgi: reading a request
 * (within its deadline, QUIRE_REQUEST_TIMEOUT), its body, and what is
 * left of its input, and writing the answer as records. The only module
 * that touches FCGX_Request and FCGX_Stream.
 */
#ifndef QUIRE_FCGI_H
#define QUIRE_FCGI_H

#include <sys/time.h>

#include <signal.h>
#include <stddef.h>

#include <fcgiapp.h>

#include "resp.h"

struct fcgi {
	FCGX_Request	 fr;
	int		 nolisten;	/* what libfcgi's own accept sees */
	long		 timeout;	/* QUIRE_REQUEST_TIMEOUT, seconds */
	size_t		 drain_max;	/* an unread body read and dropped up to this */
	int		 fd;		/* the connection in hand, or -1 */
	/* Its deadline (fcgi.c): each request in hand keeps its own. */
	volatile sig_atomic_t hit;	/* it ran out of time */
	int		 timed;		/* not all queued: time its reads */
	struct timeval	 left;		/* its time left */
};

/*
 * Sets up libfcgi and the deadline. Returns 0; 2 when fd 0 is not a
 * FastCGI listening socket (not started by spawn-fcgi or a web server);
 * 1 on any other failure (logged).
 */
int	fcgi_init(struct fcgi *, long timeout, size_t drain_max);
void	fcgi_free(struct fcgi *);
/* Another request in hand beside base (batch mode): its own libfcgi request. */
int	fcgi_init_slot(struct fcgi *, const struct fcgi *base);
void	fcgi_free_slot(struct fcgi *);

/* SIGALRM's handler: ends a request past its deadline (install it). */
void	fcgi_alarm(int sig);

/*
 * Reads the parameters of the next request on fd. Returns the request's
 * CGI environment (libfcgi's, valid until fcgi_end), or NULL when the
 * connection was dropped and closed: malformed, or past its deadline
 * (counted and logged).
 */
char	**fcgi_begin(struct fcgi *, int fd);

/* Reads up to n bytes of the body (a req_reader; ctx is the struct fcgi). */
long	 fcgi_read(void *ctx, char *dst, size_t n);

/* 1 when the request in hand ran out of time: nobody is left to answer. */
int	 fcgi_timed_out(const struct fcgi *);

/* Sends the whole answer (resp_render_iov's pieces) and ends the stream. */
void	 fcgi_send(struct fcgi *, const struct resp_out *);

/*
 * Ends the request in hand: reads what is left of its input (the body
 * when the route did not read it, body_read 0), within the deadline,
 * and lets libfcgi finish. Returns the descriptor to watch for the next
 * request when the web server keeps the connection, else -1 (closed).
 * reqid names the request in a deadline's log line.
 */
int	 fcgi_end(struct fcgi *, int body_read, const char *reqid);

#endif
