/*
 * The FastCGI peer: which addresses may talk to us at all
 * (FCGI_WEB_SERVER_ADDRS), and whether what a peer has sent already
 * holds a whole request. Pure functions; main.c does the socket work.
 */
#ifndef QUIRE_PEER_H
#define QUIRE_PEER_H

#include <sys/socket.h>

#include <stddef.h>

#include "quire.h"

/* Entries of FCGI_WEB_SERVER_ADDRS; more is a start-up error. */
#define PEER_MAX	64
/* Room for any address peer_format writes, with its NUL. */
#define PEER_ADDRSTRLEN	64

/* One allowed address: IPv4 in a[0..3], IPv6 in a[0..15]. */
struct peer_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 a[16];
};

struct peer_list {
	int		 on;		/* 0: the variable was unset or empty */
	size_t		 n;
	struct peer_addr addr[PEER_MAX];
};

/*
 * Parses one address s[0..len) in inet_pton's notation, IPv4 or IPv6, an
 * IPv4-mapped IPv6 address as its IPv4 one. Returns 0, or -1 when s is
 * not an address.
 */
int		 peer_addr_parse(const char *s, size_t len, struct peer_addr *);
/* 1 when x and y are the same address. */
int		 peer_addr_equal(const struct peer_addr *x, const struct peer_addr *y);

/*
 * Parses FCGI_WEB_SERVER_ADDRS: addresses separated by commas, blanks
 * around each ignored, each an IPv4 or IPv6 address in inet_pton's
 * notation. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is stored as
 * its IPv4 address. NULL or "" turns the check off, as libfcgi does.
 * Returns QERR_INVAL, with a message naming the variable in err, for an
 * entry that is not an address, a value that lists none, or more than
 * PEER_MAX entries.
 */
enum qerr	 peer_parse(struct peer_list *, const char *s, char *err,
		    size_t errsz) QUIRE_WUR;

/*
 * 1 when a connection from sa may be served: the check is off, the peer
 * is not an IP one (a unix socket is guarded by its file mode), or its
 * address is listed. An IPv4-mapped IPv6 peer matches its IPv4 entry.
 */
int		 peer_allowed(const struct peer_list *, const struct sockaddr *,
		    socklen_t);

/* Writes sa's address as text into dst ("unix" for a unix socket). */
void		 peer_format(const struct sockaddr *, socklen_t, char *dst,
		    size_t dstsz);

/*
 * 1 when p[0..n) starts with one whole FastCGI request: BEGIN_REQUEST,
 * its PARAMS records through the empty one, then its STDIN records
 * through the empty one, all well framed and for one request id.
 * Anything else, including a request cut short, is 0: a caller may
 * rely on 1 (every read of that request is then served from what is
 * already there) and must treat 0 as "not known".
 */
int		 peer_request_whole(const unsigned char *p, size_t n);

#endif
