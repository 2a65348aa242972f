/*
 * The FastCGI peer allow-list (FCGI_WEB_SERVER_ADDRS) and the check that
 * a peer's request has arrived whole.
 *
 * quire accepts its connections itself (main.c), so libfcgi's own check
 * of FCGI_WEB_SERVER_ADDRS, done only inside its accept, never runs; this
 * is its replacement. Unlike libfcgi's it also knows IPv6, and it refuses
 * to start on an entry it cannot read instead of ignoring it.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <fastcgi.h>

#include "fmt.h"
#include "peer.h"

#define VAR	"FCGI_WEB_SERVER_ADDRS"

/* ::ffff:a.b.c.d becomes a.b.c.d, so either spelling matches the other. */
static void
unmap(struct peer_addr *pa)
{
	static const unsigned char prefix[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (pa->family == AF_INET6 && memcmp(pa->a, prefix, 12) == 0) {
		memmove(pa->a, pa->a + 12, 4);
		memset(pa->a + 4, 0, 12);
		pa->family = AF_INET;
	}
}

/* Parses one trimmed entry; 0, or -1 when it is no address. */
int
peer_addr_parse(const char *s, size_t len, struct peer_addr *pa)
{
	char	 tmp[INET6_ADDRSTRLEN + 1];

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(pa, 0, sizeof(*pa));
	if (inet_pton(AF_INET, tmp, pa->a) == 1)
		pa->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, pa->a) == 1)
		pa->family = AF_INET6;
	else
		return -1;
	unmap(pa);
	return 0;
}

enum qerr
peer_parse(struct peer_list *l, const char *s, char *err, size_t errsz)
{
	const char	*p, *q, *end;
	size_t		 len;

	memset(l, 0, sizeof(*l));
	if (s == NULL || *s == '\0')
		return QERR_OK;
	for (p = s; ; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		q = p;
		len = (size_t)(end - p);
		fmt_trim(&q, &len);
		/* A stray comma lists nothing; it is not an address either. */
		if (len > 0) {
			if (l->n == PEER_MAX) {
				snprintf(err, errsz, "%s lists more than %d "
				    "addresses", VAR, PEER_MAX);
				return QERR_INVAL;
			}
			if (peer_addr_parse(q, len, &l->addr[l->n]) == -1) {
				snprintf(err, errsz, "%s: \"%.*s\" is not an "
				    "IPv4 or IPv6 address (list addresses, "
				    "comma-separated; no names, ports or "
				    "prefixes)", VAR, (int)(len > 64 ? 64 : len), q);
				return QERR_INVAL;
			}
			l->n++;
		}
		if (*end == '\0')
			break;
	}
	/*
	 * Set but listing nothing: libfcgi would refuse every peer without
	 * a word. Say so instead of serving nobody, or everybody.
	 */
	if (l->n == 0) {
		snprintf(err, errsz, "%s is set but lists no address (unset "
		    "it to accept any peer)", VAR);
		return QERR_INVAL;
	}
	l->on = 1;
	return QERR_OK;
}

/* The peer's address as a peer_addr; -1 when it is not an IP peer. */
static int
from_sockaddr(const struct sockaddr *sa, socklen_t len, struct peer_addr *pa)
{
	struct sockaddr_in	 in4;
	struct sockaddr_in6	 in6;

	memset(pa, 0, sizeof(*pa));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(in4)) {
		memcpy(&in4, sa, sizeof(in4));
		memcpy(pa->a, &in4.sin_addr, 4);
		pa->family = AF_INET;
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(in6)) {
		memcpy(&in6, sa, sizeof(in6));
		memcpy(pa->a, &in6.sin6_addr, 16);
		pa->family = AF_INET6;
		unmap(pa);
	} else
		return -1;
	return 0;
}

int
peer_addr_equal(const struct peer_addr *x, const struct peer_addr *y)
{

	return x->family == y->family &&
	    memcmp(x->a, y->a, x->family == AF_INET ? 4 : 16) == 0;
}

int
peer_allowed(const struct peer_list *l, const struct sockaddr *sa,
    socklen_t len)
{
	struct peer_addr	 pa;
	size_t			 i;

	if (!l->on)
		return 1;
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 1;
	/* An IP peer whose address we cannot read is not on the list. */
	if (from_sockaddr(sa, len, &pa) == -1)
		return 0;
	for (i = 0; i < l->n; i++)
		if (peer_addr_equal(&l->addr[i], &pa))
			return 1;
	return 0;
}

void
peer_format(const struct sockaddr *sa, socklen_t len, char *dst, size_t dstsz)
{
	struct peer_addr	 pa;

	if (dstsz == 0)
		return;
	if (sa->sa_family == AF_UNIX) {
		snprintf(dst, dstsz, "unix");
		return;
	}
	if (from_sockaddr(sa, len, &pa) == -1 ||
	    inet_ntop(pa.family, pa.a, dst, (socklen_t)dstsz) == NULL)
		snprintf(dst, dstsz, "unknown");
}

int
peer_request_whole(const unsigned char *p, size_t n)
{
	size_t	 off, clen, len;
	int	 id, type, rid, want;

	/* BEGIN_REQUEST: version 1, its 8-byte body. */
	if (n < FCGI_HEADER_LEN + 8 || p[0] != FCGI_VERSION_1 ||
	    p[1] != FCGI_BEGIN_REQUEST || p[4] != 0 || p[5] != 8)
		return 0;
	id = p[2] << 8 | p[3];
	if (id == FCGI_NULL_REQUEST_ID)
		return 0;
	off = FCGI_HEADER_LEN + 8 + p[6];
	want = FCGI_PARAMS;
	for (;;) {
		if (off > n || n - off < FCGI_HEADER_LEN)
			return 0;
		type = p[off + 1];
		rid = p[off + 2] << 8 | p[off + 3];
		clen = (size_t)(p[off + 4] << 8 | p[off + 5]);
		len = FCGI_HEADER_LEN + clen + p[off + 6];
		if (p[off] != FCGI_VERSION_1 || rid != id || type != want)
			return 0;
		if (n - off < len)
			return 0;
		off += len;
		if (clen == 0) {
			if (want == FCGI_STDIN)
				return 1;
			want = FCGI_STDIN;
		}
	}
}
