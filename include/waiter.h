/*
 * How a worker waits for work: a new connection on the shared listening
 * socket (its peer checked against FCGI_WEB_SERVER_ADDRS), or input on
 * a connection the web server keeps open between requests. Buffered
 * request lines are written while the worker is idle.
 */
#ifndef QUIRE_WAITER_H
#define QUIRE_WAITER_H

#include <signal.h>

#include "peer.h"

#define WAITER_KEEP_MAX	64

struct waiter {
	int			 ep;		/* epoll instance */
	int			 lfd;		/* the listening socket */
	int			 kept[WAITER_KEEP_MAX];	/* registered in ep */
	int			 nkept;
	int			 ready[WAITER_KEEP_MAX];	/* kept ones with input */
	int			 nready;
	int			 listen_ready;
	const struct peer_list	*peers;		/* FCGI_WEB_SERVER_ADDRS */
	volatile sig_atomic_t	*stop;		/* set by the stop signal */
	const sigset_t		*waitmask;	/* the signal mask while waiting */
	double			 stop_seen;	/* when *stop was first seen */
};

/*
 * Sets w up on the listening socket lfd. The stop signals must be
 * blocked while the worker serves a request; waitmask, the mask in
 * force while it waits, lets them through, and *stop is what their
 * handler sets. Returns 0, or -1 with errno set.
 */
int	waiter_init(struct waiter *, int lfd, const struct peer_list *,
	    volatile sig_atomic_t *stop, const sigset_t *waitmask);
void	waiter_free(struct waiter *);

/*
 * Waits for the next request: a kept connection with input, or a new
 * connection from an allowed peer (with its write timeout set). Returns
 * its descriptor. Once *stop is set (a stop signal ends any wait at
 * once; one that arrives while a request is served is seen at the next
 * wait) it returns only what is already here: requests waiting on kept
 * connections and connections in the listen queue, for a second at
 * most; then -1.
 */
int	waiter_next(struct waiter *);
/* Batch mode: another connection with a request ready now, or -1; never waits. */
int	waiter_more(struct waiter *);

/* Watches fd, kept open after its request: 0, or -1 when it cannot. */
int	waiter_keep(struct waiter *, int fd);
/* Forgets fd, which was closed (closing took it out of the epoll set). */
void	waiter_forget(struct waiter *, int fd);

#endif
