/*
 * Unit tests of the FastCGI peer module (src/peer.c): parsing
 * FCGI_WEB_SERVER_ADDRS, matching peers against it (IPv4, IPv6, IPv4
 * mapped into IPv6, unix sockets), and telling a whole request from a
 * partial one.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <fastcgi.h>

#include "peer.h"
#include "tap.h"

static void
test_parse(void)
{
	static const struct {
		int		 line;
		const char	*value;		/* NULL: unset */
		int		 want;		/* entries; -1: QERR_INVAL */
		int		 on;
		const char	*errpart;	/* in the message when refused */
	} rows[] = {
		{ __LINE__, NULL, 0, 0, NULL },
		{ __LINE__, "", 0, 0, NULL },
		{ __LINE__, "127.0.0.1", 1, 1, NULL },
		{ __LINE__, "10.0.0.5,10.0.0.11", 2, 1, NULL },
		{ __LINE__, " 10.0.0.5 ,\t10.0.0.6,::1 ", 3, 1, NULL },
		{ __LINE__, "10.0.0.5,", 1, 1, NULL },
		{ __LINE__, ",,10.0.0.5,,", 1, 1, NULL },
		{ __LINE__, "::1", 1, 1, NULL },
		{ __LINE__, "2001:db8::7", 1, 1, NULL },
		{ __LINE__, "::ffff:10.0.0.5", 1, 1, NULL },
		{ __LINE__, "::", 1, 1, NULL },
		{ __LINE__, "0.0.0.0", 1, 1, NULL },
		{ __LINE__, ",", -1, 0, "lists no address" },
		{ __LINE__, " ", -1, 0, "lists no address" },
		{ __LINE__, " , \t,", -1, 0, "lists no address" },
		{ __LINE__, "10.0.0.256", -1, 0, "\"10.0.0.256\"" },
		/* inet_addr (libfcgi) takes these; inet_pton does not. */
		{ __LINE__, "10.1", -1, 0, "\"10.1\"" },
		{ __LINE__, "0x0a.0.0.5", -1, 0, "\"0x0a.0.0.5\"" },
		{ __LINE__, "010.0.0.5", -1, 0, "\"010.0.0.5\"" },
		{ __LINE__, "localhost", -1, 0, "\"localhost\"" },
		{ __LINE__, "10.0.0.5:9000", -1, 0, "\"10.0.0.5:9000\"" },
		{ __LINE__, "[::1]", -1, 0, "\"[::1]\"" },
		{ __LINE__, "10.0.0.0/24", -1, 0, "\"10.0.0.0/24\"" },
		{ __LINE__, "fe80::1%eth0", -1, 0, "\"fe80::1%eth0\"" },
		{ __LINE__, "10.0.0.5 10.0.0.6", -1, 0, "\"10.0.0.5 10.0.0.6\"" },
		{ __LINE__, "10.0.0.5;10.0.0.6", -1, 0, "\"10.0.0.5;10.0.0.6\"" },
		/* A bad entry after good ones is named, not skipped. */
		{ __LINE__, "10.0.0.5, nope, ::1", -1, 0, "\"nope\"" },
		{ __LINE__, "1111:2222:3333:4444:5555:6666:7777:8888:9999", -1,
		    0, "not an IPv4 or IPv6 address" },
		{ __LINE__, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    -1, 0, "not an IPv4 or IPv6 address" },
	};
	struct peer_list	 l;
	char			 err[256];
	size_t			 i;
	enum qerr		 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		e = peer_parse(&l, rows[i].value, err, sizeof(err));
		if (rows[i].want == -1) {
			tap_ok(e == QERR_INVAL, rows[i].line,
			    "\"%s\" refused (got %d)", rows[i].value, (int)e);
			tap_ok(strstr(err, "FCGI_WEB_SERVER_ADDRS") != NULL &&
			    strstr(err, rows[i].errpart) != NULL, rows[i].line,
			    "message names the variable and \"%s\": \"%s\"",
			    rows[i].errpart, err);
			continue;
		}
		tap_ok(e == QERR_OK, rows[i].line, "\"%s\" accepted: %s",
		    rows[i].value != NULL ? rows[i].value : "(unset)", err);
		tap_ok(l.on == rows[i].on && l.n == (size_t)rows[i].want,
		    rows[i].line, "on %d n %zu, want on %d n %d", l.on, l.n,
		    rows[i].on, rows[i].want);
	}
}

/* PEER_MAX entries fit; one more is refused. */
static void
test_parse_many(void)
{
	struct peer_list	 l;
	char			 s[PEER_MAX * 16 + 32], err[256];
	size_t			 i, o;

	o = 0;
	for (i = 0; i < PEER_MAX; i++)
		o += (size_t)snprintf(s + o, sizeof(s) - o, "%s10.0.%zu.%zu",
		    i > 0 ? "," : "", i / 256, i % 256);
	err[0] = '\0';
	ok(peer_parse(&l, s, err, sizeof(err)) == QERR_OK && l.n == PEER_MAX,
	    "%d entries accepted: %s", PEER_MAX, err);
	snprintf(s + o, sizeof(s) - o, ",192.0.2.1");
	ok(peer_parse(&l, s, err, sizeof(err)) == QERR_INVAL &&
	    strstr(err, "more than") != NULL, "%d entries refused: %s",
	    PEER_MAX + 1, err);
}

/* A peer's address as accept() gives it. */
static socklen_t
make_peer(int family, const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*in4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)(void *)ss;
	struct sockaddr_un	*un = (struct sockaddr_un *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	switch (family) {
	case AF_INET:
		in4->sin_family = AF_INET;
		in4->sin_port = htons(40000);
		if (inet_pton(AF_INET, addr, &in4->sin_addr) != 1)
			return 0;
		return sizeof(*in4);
	case AF_INET6:
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(40000);
		if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
			return 0;
		return sizeof(*in6);
	default:
		un->sun_family = AF_UNIX;
		/* An unnamed client socket: just the family. */
		return sizeof(sa_family_t);
	}
}

static void
test_allowed(void)
{
	static const struct {
		int		 line;
		const char	*list;
		int		 family;
		const char	*addr;
		int		 want;
	} rows[] = {
#define L	"10.0.0.5, ::1, 2001:db8::7, ::ffff:192.0.2.9"
		{ __LINE__, L, AF_INET, "10.0.0.5", 1 },
		{ __LINE__, L, AF_INET, "10.0.0.6", 0 },
		{ __LINE__, L, AF_INET, "127.0.0.1", 0 },
		{ __LINE__, L, AF_INET, "5.0.0.10", 0 },
		{ __LINE__, L, AF_INET, "0.0.0.0", 0 },
		{ __LINE__, L, AF_INET6, "::1", 1 },
		{ __LINE__, L, AF_INET6, "::2", 0 },
		{ __LINE__, L, AF_INET6, "2001:db8::7", 1 },
		{ __LINE__, L, AF_INET6, "2001:db8::7:0", 0 },
		{ __LINE__, L, AF_INET6, "2001:0db8:0000::0007", 1 },
		/* An IPv4 peer on a dual-stack socket matches its IPv4 entry. */
		{ __LINE__, L, AF_INET6, "::ffff:10.0.0.5", 1 },
		{ __LINE__, L, AF_INET6, "::ffff:10.0.0.6", 0 },
		/* An entry written mapped matches either spelling. */
		{ __LINE__, L, AF_INET, "192.0.2.9", 1 },
		{ __LINE__, L, AF_INET6, "::ffff:192.0.2.9", 1 },
		/* Not mapped: IPv4-compatible and SIIT forms are other addresses. */
		{ __LINE__, L, AF_INET6, "::10.0.0.5", 0 },
		{ __LINE__, L, AF_INET6, "::ffff:0:10.0.0.5", 0 },
		{ __LINE__, L, AF_INET6, "64:ff9b::10.0.0.5", 0 },
		/* The IPv4 bytes of ::1 are not 0.0.0.1's. */
		{ __LINE__, L, AF_INET, "0.0.0.1", 0 },
		{ __LINE__, L, AF_UNIX, NULL, 1 },
#undef L
		{ __LINE__, "127.0.0.1", AF_INET6, "::1", 0 },
		{ __LINE__, "127.0.0.1", AF_INET6, "::ffff:127.0.0.1", 1 },
		{ __LINE__, "::1", AF_INET, "127.0.0.1", 0 },
		{ __LINE__, "127.0.0.2", AF_INET, "127.0.0.1", 0 },
		{ __LINE__, "127.0.0.2", AF_INET, "127.0.0.2", 1 },
		{ __LINE__, "127.0.0.2", AF_UNIX, NULL, 1 },
		{ __LINE__, "::", AF_INET6, "::", 1 },
		{ __LINE__, "::", AF_INET6, "::1", 0 },
		/* Off: everybody. */
		{ __LINE__, NULL, AF_INET, "203.0.113.1", 1 },
		{ __LINE__, "", AF_INET6, "2001:db8::1", 1 },
	};
	struct sockaddr_storage	 ss;
	struct peer_list	 l;
	socklen_t		 len;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		if (peer_parse(&l, rows[i].list, err, sizeof(err)) != QERR_OK) {
			tap_ok(0, rows[i].line, "list \"%s\": %s",
			    rows[i].list, err);
			continue;
		}
		len = make_peer(rows[i].family, rows[i].addr, &ss);
		tap_ok(len > 0 && peer_allowed(&l, (struct sockaddr *)&ss,
		    len) == rows[i].want, rows[i].line,
		    "list \"%s\", peer %s: want %d",
		    rows[i].list != NULL ? rows[i].list : "(unset)",
		    rows[i].addr != NULL ? rows[i].addr : "unix", rows[i].want);
	}

	/* An IP peer whose address is cut short is not on any list. */
	if (peer_parse(&l, "0.0.0.0", err, sizeof(err)) == QERR_OK) {
		len = make_peer(AF_INET, "0.0.0.0", &ss);
		ok(!peer_allowed(&l, (struct sockaddr *)&ss, len - 1),
		    "short IPv4 address refused");
		len = make_peer(AF_INET6, "::", &ss);
		ok(!peer_allowed(&l, (struct sockaddr *)&ss, 8),
		    "short IPv6 address refused");
	}
}

static void
test_format(void)
{
	static const struct {
		int		 line;
		int		 family;
		const char	*addr;
		const char	*want;
	} rows[] = {
		{ __LINE__, AF_INET, "10.0.0.5", "10.0.0.5" },
		{ __LINE__, AF_INET6, "::1", "::1" },
		{ __LINE__, AF_INET6, "2001:0db8::0007", "2001:db8::7" },
		{ __LINE__, AF_INET6, "::ffff:10.0.0.5", "10.0.0.5" },
		{ __LINE__, AF_UNIX, NULL, "unix" },
	};
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 dst[PEER_ADDRSTRLEN];
	size_t			 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		len = make_peer(rows[i].family, rows[i].addr, &ss);
		peer_format((struct sockaddr *)&ss, len, dst, sizeof(dst));
		tap_ok(strcmp(dst, rows[i].want) == 0, rows[i].line,
		    "peer_format: \"%s\" want \"%s\"", dst, rows[i].want);
	}
	len = make_peer(AF_INET6,
	    "1111:2222:3333:4444:5555:6666:7777:8888", &ss);
	peer_format((struct sockaddr *)&ss, len, dst, 8);
	ok(strlen(dst) < 8, "a small buffer is not overrun: \"%s\"", dst);
}

#define NREC	8

struct rec {
	int	 type;		/* 0: end of the list */
	int	 id;
	int	 clen;
	int	 pad;
	int	 version;	/* 0: FCGI_VERSION_1 */
};

/* Writes the records into p; returns their length. */
static size_t
build(const struct rec *r, unsigned char *p)
{
	size_t	 o;
	int	 i;

	o = 0;
	for (i = 0; i < NREC && r[i].type != 0; i++) {
		p[o++] = (unsigned char)(r[i].version != 0 ? r[i].version :
		    FCGI_VERSION_1);
		p[o++] = (unsigned char)r[i].type;
		p[o++] = (unsigned char)(r[i].id >> 8);
		p[o++] = (unsigned char)(r[i].id & 0xff);
		p[o++] = (unsigned char)(r[i].clen >> 8);
		p[o++] = (unsigned char)(r[i].clen & 0xff);
		p[o++] = (unsigned char)r[i].pad;
		p[o++] = 0;
		memset(p + o, r[i].type == FCGI_BEGIN_REQUEST ? 0 : 'x',
		    (size_t)(r[i].clen + r[i].pad));
		o += (size_t)(r[i].clen + r[i].pad);
	}
	return o;
}

static void
test_whole(void)
{
#define B(id)		{ FCGI_BEGIN_REQUEST, (id), 8, 0, 0 }
#define P(id, n)	{ FCGI_PARAMS, (id), (n), 0, 0 }
#define S(id, n)	{ FCGI_STDIN, (id), (n), 0, 0 }
	static const struct {
		int		 line;
		struct rec	 r[NREC];
		size_t		 cut;		/* bytes left off the end */
		int		 want;
	} rows[] = {
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 0, 1 },
		{ __LINE__, { B(1), P(1, 0), S(1, 0) }, 0, 1 },
		{ __LINE__, { B(1), P(1, 30), P(1, 40), P(1, 0), S(1, 5),
		    S(1, 7), S(1, 0) }, 0, 1 },
		{ __LINE__, { B(65535), P(65535, 10), P(65535, 0),
		    S(65535, 0) }, 0, 1 },
		{ __LINE__, { B(1), P(1, 65535), P(1, 0), S(1, 0) }, 0, 1 },
		/* Padding, on every kind of record. */
		{ __LINE__, { { FCGI_BEGIN_REQUEST, 1, 8, 3, 0 },
		    { FCGI_PARAMS, 1, 5, 3, 0 }, { FCGI_PARAMS, 1, 0, 8, 0 },
		    { FCGI_STDIN, 1, 2, 6, 0 }, { FCGI_STDIN, 1, 0, 255, 0 } },
		    0, 1 },
		/* What follows the end of STDIN is the next request's. */
		{ __LINE__, { B(1), P(1, 0), S(1, 0), B(2) }, 0, 1 },
		{ __LINE__, { B(1), P(1, 0), S(1, 0), P(9, 3) }, 4, 1 },
		/* Cut anywhere: not whole. */
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 1, 0 },
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 8, 0 },
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 9, 0 },
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 100, 0 },
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 320, 0 },
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 331, 0 },
		{ __LINE__, { B(1), P(1, 300), P(1, 0), S(1, 0) }, 340, 0 },
		{ __LINE__, { { FCGI_BEGIN_REQUEST, 1, 8, 3, 0 }, P(1, 0),
		    S(1, 0) }, 17, 0 },
		{ __LINE__, { B(1), P(1, 0), { FCGI_STDIN, 1, 0, 4, 0 } }, 1, 0 },
		{ __LINE__, { B(1), P(1, 0), S(1, 10) }, 0, 0 },
		{ __LINE__, { B(1), P(1, 10) }, 0, 0 },
		{ __LINE__, { B(1) }, 0, 0 },
		/* Not the expected sequence. */
		{ __LINE__, { B(1), P(1, 10), S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), P(1, 0), P(1, 0), S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), P(2, 0), S(2, 0) }, 0, 0 },
		{ __LINE__, { B(1), P(1, 0), S(2, 0) }, 0, 0 },
		{ __LINE__, { B(0), P(0, 0), S(0, 0) }, 0, 0 },
		{ __LINE__, { P(1, 0), S(1, 0) }, 0, 0 },
		{ __LINE__, { S(1, 0) }, 0, 0 },
		{ __LINE__, { { FCGI_BEGIN_REQUEST, 1, 7, 1, 0 }, P(1, 0),
		    S(1, 0) }, 0, 0 },
		{ __LINE__, { { FCGI_BEGIN_REQUEST, 1, 8, 0, 2 }, P(1, 0),
		    S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), { FCGI_PARAMS, 1, 0, 0, 9 }, S(1, 0) }, 0, 0 },
		/* A management record in between: left to libfcgi, timed. */
		{ __LINE__, { B(1), { FCGI_GET_VALUES, 0, 0, 0, 0 }, P(1, 0),
		    S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), P(1, 0), { FCGI_DATA, 1, 0, 0, 0 },
		    S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), P(1, 0), { FCGI_ABORT_REQUEST, 1, 0, 0, 0 },
		    S(1, 0) }, 0, 0 },
		{ __LINE__, { B(1), B(2), P(1, 0), S(1, 0) }, 0, 0 },
	};
#undef B
#undef P
#undef S
	static unsigned char	 buf[NREC * (8 + 65535 + 255)];
	size_t			 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = build(rows[i].r, buf);
		n = rows[i].cut < n ? n - rows[i].cut : 0;
		tap_ok(peer_request_whole(buf, n) == rows[i].want, rows[i].line,
		    "%zu bytes: whole %d", n, rows[i].want);
	}
	ok(!peer_request_whole(buf, 0), "nothing is not whole");
	memset(buf, 0xff, 64);
	ok(!peer_request_whole(buf, 64), "garbage is not whole");
}

int
main(void)
{

	test_parse();
	test_parse_many();
	test_allowed();
	test_format();
	test_whole();
	return tap_done();
}
