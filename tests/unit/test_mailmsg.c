/*
 * Unit tests of the message renderer (src/mailmsg.c): addresses, the
 * From setting, the date, quoted-printable bodies decoded back, encoded
 * words decoded back, folding, and rows whose names, subjects or
 * addresses try to inject a header, each rendered and parsed back.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mailmsg.h"
#include "tap.h"

#define E_ACUTE		"\xc3\xa9"		/* U+00E9 */
#define NEL		"\xc2\x85"		/* U+0085, a C1 control */
#define LSEP		"\xe2\x80\xa8"		/* U+2028 LINE SEPARATOR */
#define SNOWMAN		"\xe2\x98\x83"		/* U+2603 */
#define GRIN		"\xf0\x9f\x98\x80"	/* U+1F600 */

static int
hexval(char c)
{

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes quoted-printable text (CRLF lines) into out as LF lines, and
 * checks the encoding's own rules on the way: lines of at most 76
 * columns, only printable ASCII, no line starting with '.', no blank at
 * a line's end, upper-case hex. Returns the decoded length, or -1.
 */
static long
qp_decode(const char *s, size_t n, char *out, size_t osz, const char **bad)
{
	size_t	 i, o, col, ls;
	int	 h1, h2;

	*bad = NULL;
	o = col = 0;
	ls = 0;
	for (i = 0; i < n; ) {
		if (s[i] == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n')
				return *bad = "bare CR", -1;
			if (i > ls && (s[i - 1] == ' ' || s[i - 1] == '\t'))
				return *bad = "blank at line end", -1;
			if (o >= osz)
				return *bad = "too long", -1;
			out[o++] = '\n';
			i += 2;
			ls = i;
			col = 0;
			continue;
		}
		if (s[i] == '\n')
			return *bad = "bare LF", -1;
		if ((unsigned char)s[i] > 126 || (s[i] < 32 && s[i] != '\t'))
			return *bad = "byte outside printable ASCII", -1;
		if (col == 0 && s[i] == '.')
			return *bad = "line starts with '.'", -1;
		if (s[i] == '=') {
			if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
				if (col + 1 > 76)
					return *bad = "line over 76", -1;
				i += 3;
				ls = i;
				col = 0;
				continue;
			}
			if (i + 2 >= n || (h1 = hexval(s[i + 1])) < 0 ||
			    (h2 = hexval(s[i + 2])) < 0)
				return *bad = "bad escape", -1;
			if (o >= osz)
				return *bad = "too long", -1;
			out[o++] = (char)(h1 * 16 + h2);
			i += 3;
			col += 3;
		} else {
			if (o >= osz)
				return *bad = "too long", -1;
			out[o++] = s[i++];
			col++;
		}
		if (col > 76)
			return *bad = "line over 76", -1;
	}
	return (long)o;
}

/* The body with CRLF as LF, as the decoder gives it back. */
static void
lf_only(const char *s, char *out)
{

	for (; *s != '\0'; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*out++ = *s;
	*out = '\0';
}

/* Encodes s, decodes it back and compares; names the row by line. */
static void
qp_roundtrip(int line, const char *s)
{
	struct buf	 b;
	char		 dec[8192], want[8192];
	const char	*bad;
	long		 n;
	size_t		 wl;

	buf_init(&b, 65536);
	mailmsg_qp(&b, s, strlen(s));
	n = qp_decode(b.p != NULL ? b.p : "", b.len, dec, sizeof(dec), &bad);
	lf_only(s, want);
	wl = strlen(want);
	/* A body without a final newline gets one. */
	if (wl > 0 && want[wl - 1] != '\n') {
		want[wl++] = '\n';
		want[wl] = '\0';
	}
	tap_ok(n >= 0, line, "qp valid: %s", bad != NULL ? bad : "ok");
	tap_ok(n >= 0 && (size_t)n == wl && memcmp(dec, want, wl) == 0, line,
	    "qp decodes back (%ld bytes, want %zu)", n, wl);
	buf_free(&b);
}

static void
qp_is(int line, const char *in, const char *want)
{
	struct buf	 b;

	buf_init(&b, 65536);
	mailmsg_qp(&b, in, strlen(in));
	tap_ok(strcmp(b.p != NULL ? b.p : "", want) == 0, line, "qp: got \"%s\"",
	    b.p != NULL ? b.p : "(null)");
	buf_free(&b);
}

static void
test_qp(void)
{
	char	 big[4096], link[256];
	size_t	 i;

	qp_is(__LINE__, "a=b\n", "a=3Db\r\n");
	qp_is(__LINE__, "abc \n", "abc=20\r\n");
	qp_is(__LINE__, "abc\t\n", "abc=09\r\n");
	qp_is(__LINE__, "trailing ", "trailing=20\r\n");
	qp_is(__LINE__, "a b\n", "a b\r\n");
	qp_is(__LINE__, "caf" E_ACUTE "\n", "caf=C3=A9\r\n");
	qp_is(__LINE__, ".\n", "=2E\r\n");
	qp_is(__LINE__, "one\n.\ntwo\n", "one\r\n=2E\r\ntwo\r\n");
	qp_is(__LINE__, "..dots\n", "=2E.dots\r\n");
	qp_is(__LINE__, "From here\n", "=46rom here\r\n");
	qp_is(__LINE__, "Fromage\n", "Fromage\r\n");
	qp_is(__LINE__, "crlf\r\nline\r\n", "crlf\r\nline\r\n");
	qp_is(__LINE__, "bare\rcr\n", "bare=0Dcr\r\n");
	qp_is(__LINE__, "\n\n", "\r\n\r\n");
	qp_is(__LINE__, "", "");
	qp_is(__LINE__, "nul\x01" "ctl\x7f\n", "nul=01ctl=7F\r\n");

	/* 76 columns fit; 77 take a soft break. */
	memset(big, 'x', 76);
	big[76] = '\0';
	{
		char want[128];

		snprintf(want, sizeof(want), "%.76s\r\n", big);
		qp_is(__LINE__, big, want);
		big[76] = 'y';
		big[77] = '\0';
		snprintf(want, sizeof(want), "%.75s=\r\nxy\r\n", big);
		qp_is(__LINE__, big, want);
	}

	qp_roundtrip(__LINE__, "plain text\nwith two lines\n");
	qp_roundtrip(__LINE__, "no final newline");
	qp_roundtrip(__LINE__, "= = = =\n==\n");
	qp_roundtrip(__LINE__, "tabs\tin\tthe\tmiddle\t\n  \n");
	qp_roundtrip(__LINE__, "Gr" E_ACUTE "ta " SNOWMAN " " GRIN "\n");
	qp_roundtrip(__LINE__, ".\n..\n.x\nFrom me\n");
	/* Long lines: of '=', of spaces, of UTF-8, of dots at a break. */
	for (i = 0; i < 1000; i++)
		big[i] = "=x .\xc3\xa9"[i % 6];
	big[1000] = '\n';
	big[1001] = '\0';
	qp_roundtrip(__LINE__, big);
	memset(big, ' ', 300);
	strcpy(big + 300, "\n");
	qp_roundtrip(__LINE__, big);
	memset(big, '.', 300);
	strcpy(big + 300, "\n");
	qp_roundtrip(__LINE__, big);
	memset(big, 'a', 75);
	strcpy(big + 75, ".....\n");
	qp_roundtrip(__LINE__, big);
	for (i = 0; i < 50; i++)
		memcpy(big + i * 2, E_ACUTE, 2);
	strcpy(big + 100, "\n");
	qp_roundtrip(__LINE__, big);
	/* The reset link: a long line with '=' and a 43-character token. */
	snprintf(link, sizeof(link), "Reset your password:\n\n"
	    "https://app.example.com/reset-password#token=%s\n\n"
	    "If you did not ask, ignore this mail.\n",
	    "Qm9iIGlzIHRoZSBiZXN0IHRva2VuIGV2ZXIgbWFkZQ");
	qp_roundtrip(__LINE__, link);
}

static void
test_addr(void)
{
	static const struct {
		int		 line;
		const char	*addr;
		int		 ok;
	} rows[] = {
		{ __LINE__, "ann@example.com", 1 },
		{ __LINE__, "a.b+tag@sub.example.co.uk", 1 },
		{ __LINE__, "x!#$%&'*+-/=?^_`{|}~@example.com", 1 },
		{ __LINE__, "ann@[127.0.0.1]", 1 },
		{ __LINE__, "ann@[IPv6:::1]", 1 },
		{ __LINE__, "ann@a-b.example", 1 },
		{ __LINE__, "ann@localhost", 0 },
		{ __LINE__, "ann@-a.example", 0 },
		{ __LINE__, "ann@a-.example", 0 },
		{ __LINE__, "ann@example..com", 0 },
		{ __LINE__, "ann@.example.com", 0 },
		{ __LINE__, "ann@example.com.", 0 },
		{ __LINE__, ".ann@example.com", 0 },
		{ __LINE__, "ann.@example.com", 0 },
		{ __LINE__, "a..nn@example.com", 0 },
		{ __LINE__, "ann", 0 },
		{ __LINE__, "@example.com", 0 },
		{ __LINE__, "ann@", 0 },
		{ __LINE__, "ann@b@example.com", 0 },
		{ __LINE__, "ann @example.com", 0 },
		{ __LINE__, "<ann@example.com>", 0 },
		{ __LINE__, "\"ann\"@example.com", 0 },
		{ __LINE__, "ann@example.com\r\nBcc: x@y.com", 0 },
		{ __LINE__, "ann@example.com\nBcc: x@y.com", 0 },
		{ __LINE__, "ann@example.com\r", 0 },
		{ __LINE__, "ann(c)@example.com", 0 },
		{ __LINE__, "ann,bob@example.com", 0 },
		{ __LINE__, "ann@exa_mple.com", 0 },
		{ __LINE__, "j" E_ACUTE "@example.com", 0 },
		{ __LINE__, "ann@ex" E_ACUTE ".com", 0 },
		{ __LINE__, "ann@[1.2.3]", 0 },
		{ __LINE__, "ann@[IPv6:zz]", 0 },
		{ __LINE__, "", 0 },
	};
	char	 longlocal[80], longaddr[300];
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(mailmsg_addr_ok(rows[i].addr) == rows[i].ok,
		    rows[i].line, "addr_ok(%s) == %d", rows[i].addr,
		    rows[i].ok);
	memset(longlocal, 'a', 65);
	strcpy(longlocal + 65, "@example.com");
	ok(!mailmsg_addr_ok(longlocal), "local part of 65 refused");
	longlocal[64] = '@';
	strcpy(longlocal + 64, "@example.com");
	ok(mailmsg_addr_ok(longlocal), "local part of 64 taken");
	memset(longaddr, 'a', sizeof(longaddr));
	longaddr[0] = 'b';
	longaddr[1] = '@';
	for (i = 2; i < 250; i += 50)
		longaddr[i + 49] = '.';
	longaddr[255] = '\0';
	ok(!mailmsg_addr_ok(longaddr), "address over 254 refused");
}

static void
test_from(void)
{
	static const struct {
		int		 line;
		const char	*from;
		enum qerr	 e;
		const char	*addr;
		const char	*name;
	} rows[] = {
		{ __LINE__, "quire <no-reply@quire.test>", QERR_OK,
		  "no-reply@quire.test", "quire" },
		{ __LINE__, "  no-reply@quire.test ", QERR_OK,
		  "no-reply@quire.test", "" },
		{ __LINE__, "<no-reply@quire.test>", QERR_OK,
		  "no-reply@quire.test", "" },
		{ __LINE__, "\"Quire, Inc. \\\"Mail\\\"\" <a@b.example>", QERR_OK,
		  "a@b.example", "Quire, Inc. \"Mail\"" },
		{ __LINE__, "Caf" E_ACUTE " <a@b.example>", QERR_OK,
		  "a@b.example", "Caf" E_ACUTE },
		{ __LINE__, "quire <no-reply>", QERR_INVAL, NULL, NULL },
		{ __LINE__, "quire no-reply@quire.test>", QERR_INVAL, NULL, NULL },
		{ __LINE__, "a@b.example\r\nBcc: x@y.example", QERR_INVAL, NULL,
		  NULL },
		{ __LINE__, "", QERR_INVAL, NULL, NULL },
	};
	char	 addr[MAILMSG_ADDR_MAX + 1], name[MAILMSG_NAME_MAX + 1];
	size_t	 i;
	enum qerr e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		e = mailmsg_from(rows[i].from, addr, sizeof(addr), name,
		    sizeof(name));
		tap_ok(e == rows[i].e, rows[i].line, "from(%s): %d", rows[i].from,
		    (int)e);
		if (e == QERR_OK && rows[i].e == QERR_OK) {
			tap_ok(strcmp(addr, rows[i].addr) == 0, rows[i].line,
			    "addr %s", addr);
			tap_ok(strcmp(name, rows[i].name) == 0, rows[i].line,
			    "name %s", name);
		}
	}
}

static void
test_date(void)
{
	char	 d[MAILMSG_DATE_LEN];

	mailmsg_date(d, 0);
	is_str(d, "Thu, 01 Jan 1970 00:00:00 +0000", "epoch");
	mailmsg_date(d, 1709632800LL);
	is_str(d, "Tue, 05 Mar 2024 10:00:00 +0000", "2024");
	mailmsg_date(d, 951868799LL);
	is_str(d, "Tue, 29 Feb 2000 23:59:59 +0000", "leap day");
}

/* ---- parsing a rendered message back ---------------------------------- */

#define MAX_HDRS	32

struct parsed {
	char	 name[MAX_HDRS][64];
	char	 value[MAX_HDRS][4096];	/* unfolded */
	size_t	 n;
	size_t	 longest;		/* the longest header line */
	const char *body;
	const char *bad;
};

/*
 * Splits a message into its headers (unfolded) and body, as a mail
 * reader would: a line starting with a blank continues the header
 * before it; any other line must be "Name: value". A bare CR or LF
 * anywhere is a failure, since readers differ on what it means.
 */
static int
parse_msg(const char *m, struct parsed *p)
{
	const char	*line, *eol, *colon;
	size_t		 len, nl, vl;

	memset(p, 0, sizeof(*p));
	for (line = m; *line != '\0'; line++)
		if ((line[0] == '\r' && line[1] != '\n') ||
		    (line[0] == '\n' && (line == m || line[-1] != '\r')))
			return p->bad = "bare CR or LF", -1;
	for (line = m; ; line = eol + 2) {
		if ((eol = strstr(line, "\r\n")) == NULL)
			return p->bad = "no end of headers", -1;
		len = (size_t)(eol - line);
		if (len == 0) {
			p->body = eol + 2;
			return 0;
		}
		if (len > p->longest)
			p->longest = len;
		if (line[0] == ' ' || line[0] == '\t') {
			if (p->n == 0)
				return p->bad = "continuation first", -1;
			vl = strlen(p->value[p->n - 1]);
			if (vl + len >= sizeof(p->value[0]))
				return p->bad = "value too long", -1;
			memcpy(p->value[p->n - 1] + vl, line, len);
			p->value[p->n - 1][vl + len] = '\0';
			continue;
		}
		colon = memchr(line, ':', len);
		if (colon == NULL || p->n == MAX_HDRS)
			return p->bad = "line without a colon", -1;
		nl = (size_t)(colon - line);
		if (nl == 0 || nl >= sizeof(p->name[0]) ||
		    len - nl - 1 >= sizeof(p->value[0]))
			return p->bad = "bad header", -1;
		memcpy(p->name[p->n], line, nl);
		p->name[p->n][nl] = '\0';
		memcpy(p->value[p->n], colon + 1, len - nl - 1);
		p->value[p->n][len - nl - 1] = '\0';
		p->n++;
	}
}

static const char *
hdr(const struct parsed *p, const char *name)
{
	size_t	 i;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->name[i], name) == 0)
			return p->value[i];
	return NULL;
}

/* The headers we write, each once, and nothing else. */
static int
headers_exact(const struct parsed *p)
{
	static const char *const want[] = {
		"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding", "Auto-Submitted"
	};
	size_t	 i, j, seen;

	if (p->n != sizeof(want) / sizeof(want[0]))
		return 0;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (j = seen = 0; j < p->n; j++)
			seen += strcmp(p->name[j], want[i]) == 0;
		if (seen != 1)
			return 0;
	}
	return 1;
}

static int
b64val(char c)
{
	const char	*a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*p = strchr(a, c);

	return c != '\0' && p != NULL ? (int)(p - a) : -1;
}

/*
 * Decodes an unfolded header value made of "=?UTF-8?B?...?=" words
 * (separated by blanks, which RFC 2047 drops between words) and of plain
 * text, into out. Returns 0, or -1 on a malformed word or a word over
 * 75 columns.
 */
static int
ew_decode(const char *v, char *out, size_t osz)
{
	const char	*end;
	size_t		 o, i, wl;
	unsigned long	 acc;
	int		 bits, k, prev_ew;

	o = 0;
	prev_ew = 0;
	while (*v != '\0') {
		if (strncmp(v, "=?UTF-8?B?", 10) != 0) {
			/* Blanks between two encoded words are dropped. */
			if (*v == ' ' && prev_ew) {
				for (end = v; *end == ' '; end++)
					continue;
				if (strncmp(end, "=?UTF-8?B?", 10) == 0) {
					v = end;
					continue;
				}
			}
			if (o + 1 >= osz)
				return -1;
			out[o++] = *v++;
			prev_ew = 0;
			continue;
		}
		if ((end = strstr(v + 10, "?=")) == NULL)
			return -1;
		wl = (size_t)(end + 2 - v);
		if (wl > 75)
			return -1;
		acc = 0;
		bits = 0;
		for (i = 10; v + i < end; i++) {
			if (v[i] == '=')
				break;
			if ((k = b64val(v[i])) < 0)
				return -1;
			acc = acc << 6 | (unsigned long)k;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (o + 1 >= osz)
					return -1;
				out[o++] = (char)(acc >> bits & 0xff);
			}
		}
		v = end + 2;
		prev_ew = 1;
	}
	out[o] = '\0';
	return 0;
}

static void
render(struct buf *b, struct mailmsg *m, const char *name,
    const char *subject, const char *body)
{

	memset(m, 0, sizeof(*m));
	m->message_id = "<3f2a1c9e-8d1b-4e5f-9a7c-2b6d8e0f1a3c@quire.test>";
	m->date = 1709632800LL;
	m->from_addr = "no-reply@quire.test";
	m->from_name = "quire";
	m->to = "ann@example.com";
	m->to_name = name;
	m->subject = subject;
	m->body = body;
	m->body_len = strlen(body);
	buf_init(b, 1 << 20);
}

/* Renders and parses; checks the invariants every message has. */
static int
render_parse(int line, const char *name, const char *subject,
    const char *body, struct parsed *p)
{
	struct buf	 b;
	struct mailmsg	 m;
	const char	*why;
	enum qerr	 e;
	int		 r;

	render(&b, &m, name, subject, body);
	e = mailmsg_render(&b, &m, &why);
	r = tap_ok(e == QERR_OK, line, "render: %d %s", (int)e,
	    why != NULL ? why : "");
	if (r) {
		r = parse_msg(b.p, p) == 0;
		r = tap_ok(r, line, "parses: %s", p->bad != NULL ? p->bad :
		    "ok");
		if (r) {
			tap_ok(headers_exact(p), line,
			    "exactly the expected headers (%zu)", p->n);
			tap_ok(p->longest <= MAILMSG_LINE, line,
			    "header lines <= 78 (%zu)", p->longest);
			/* Keep the body past buf_free for the caller. */
			p->body = strdup(p->body);
		}
	}
	buf_free(&b);
	return r;
}

static void
test_render(void)
{
	struct parsed	 p;
	char		 dec[4096], body[4096], name[512], subj[2048];
	const char	*bad;
	long		 n;
	size_t		 i;

	if (render_parse(__LINE__, "Ann", "Reset your password",
	    "Hello Ann,\n\nhttps://app.example.com/reset-password#token="
	    "Qm9iIGlzIHRoZSBiZXN0IHRva2VuIGV2ZXIgbWFkZQ\n.\n", &p)) {
		is_str(hdr(&p, "Date"), " Tue, 05 Mar 2024 10:00:00 +0000", "Date");
		is_str(hdr(&p, "From"), " \"quire\" <no-reply@quire.test>", "From");
		is_str(hdr(&p, "To"), " \"Ann\" <ann@example.com>", "To");
		is_str(hdr(&p, "Subject"), " Reset your password", "Subject");
		is_str(hdr(&p, "Message-ID"),
		    " <3f2a1c9e-8d1b-4e5f-9a7c-2b6d8e0f1a3c@quire.test>", "Message-ID");
		is_str(hdr(&p, "MIME-Version"), " 1.0", "MIME-Version");
		is_str(hdr(&p, "Content-Type"), " text/plain; charset=utf-8",
		    "Content-Type");
		is_str(hdr(&p, "Content-Transfer-Encoding"), " quoted-printable",
		    "CTE");
		n = qp_decode(p.body, strlen(p.body), dec, sizeof(dec) - 1, &bad);
		ok(n > 0, "body is QP: %s", bad != NULL ? bad : "ok");
		if (n > 0) {
			dec[n] = '\0';
			is_str(dec, "Hello Ann,\n\nhttps://app.example.com/"
			    "reset-password#token=Qm9iIGlzIHRoZSBiZXN0IHRva2VuIGV2"
			    "ZXIgbWFkZQ\n.\n", "body decodes back");
		}
		free((void *)(uintptr_t)p.body);
	}

	/* No name: the bare address. */
	if (render_parse(__LINE__, "", "s", "b\n", &p)) {
		is_str(hdr(&p, "To"), " ann@example.com", "To without a name");
		free((void *)(uintptr_t)p.body);
	}
	/* Quotes and backslashes in an ASCII name are escaped. */
	if (render_parse(__LINE__, "A \"B\" \\C", "s", "b\n", &p)) {
		is_str(hdr(&p, "To"), " \"A \\\"B\\\" \\\\C\" <ann@example.com>",
		    "quoted name");
		free((void *)(uintptr_t)p.body);
	}

	/* RFC 2047: a name and a subject beyond ASCII. */
	if (render_parse(__LINE__, "Ren" E_ACUTE "e " SNOWMAN,
	    "Caf" E_ACUTE " " GRIN " time", "b\n", &p)) {
		ok(strstr(hdr(&p, "To"), "=?UTF-8?B?") != NULL, "To encoded: %s",
		    hdr(&p, "To"));
		ok(ew_decode(hdr(&p, "To"), dec, sizeof(dec)) == 0, "To decodes");
		is_str(dec, " Ren" E_ACUTE "e " SNOWMAN " <ann@example.com>",
		    "To decoded");
		ok(ew_decode(hdr(&p, "Subject"), dec, sizeof(dec)) == 0,
		    "Subject decodes");
		is_str(dec, " Caf" E_ACUTE " " GRIN " time", "Subject decoded");
		free((void *)(uintptr_t)p.body);
	}
	/* A long name beyond ASCII: many words, folded, split on characters. */
	name[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(name, i % 3 == 0 ? GRIN : i % 3 == 1 ? E_ACUTE : "x ");
	if (render_parse(__LINE__, name, "s", "b\n", &p)) {
		ok(ew_decode(hdr(&p, "To"), dec, sizeof(dec)) == 0,
		    "long To decodes");
		/* 40 pieces: the last is a GRIN, so nothing was trimmed. */
		snprintf(body, sizeof(body), " %s <ann@example.com>", name);
		is_str(dec, body, "long To decoded");
		free((void *)(uintptr_t)p.body);
	}
	/* A long ASCII subject folds at its blanks and unfolds exactly. */
	subj[0] = '\0';
	for (i = 0; i < 60; i++)
		strcat(subj, i % 7 == 0 ? "word  " : "word ");
	strcat(subj, "end");
	if (render_parse(__LINE__, "Ann", subj, "b\n", &p)) {
		snprintf(dec, sizeof(dec), " %s", subj);
		is_str(hdr(&p, "Subject"), dec, "long subject unfolds back");
		free((void *)(uintptr_t)p.body);
	}
	/* One word too long to fold is encoded instead. */
	memset(subj, 'z', 1500);
	subj[1500] = '\0';
	if (render_parse(__LINE__, "Ann", subj, "b\n", &p)) {
		ok(ew_decode(hdr(&p, "Subject"), dec, sizeof(dec)) == 0,
		    "long word decodes");
		snprintf(body, sizeof(body), " %s", subj);
		is_str(dec, body, "long word decoded");
		free((void *)(uintptr_t)p.body);
	}
	/* Text that reads like an encoded word is encoded itself. */
	if (render_parse(__LINE__, "Ann", "=?UTF-8?B?QmNjOg==?=", "b\n", &p)) {
		ok(ew_decode(hdr(&p, "Subject"), dec, sizeof(dec)) == 0,
		    "=? subject decodes");
		is_str(dec, " =?UTF-8?B?QmNjOg==?=", "=? subject kept as text");
		free((void *)(uintptr_t)p.body);
	}
}

/* Names and subjects that try to add a header: never a header line. */
static void
test_injection(void)
{
	static const struct {
		int		 line;
		const char	*text;
	} rows[] = {
		{ __LINE__, "Eve\r\nBcc: x@y.example" },
		{ __LINE__, "Eve\nBcc: x@y.example" },
		{ __LINE__, "Eve\rBcc: x@y.example" },
		{ __LINE__, "Eve\r\n\r\nbody injected" },
		{ __LINE__, "\r\nBcc: x@y.example" },
		{ __LINE__, "Eve\r\n Bcc: x@y.example" },
		{ __LINE__, "Eve\x0b\x0c\x1b[2J\x7f" },
		{ __LINE__, "Eve" NEL "Bcc: x@y.example" },
		{ __LINE__, "Eve" LSEP "Bcc: x@y.example" },
		{ __LINE__, "Ev" E_ACUTE "\r\nBcc: x@y.example" },
		{ __LINE__, "Eve\xff\xfe\r\nBcc: x@y.example" },
		{ __LINE__, "\"Eve\" <eve@evil.example>, x@y.example" },
	};
	struct parsed	 p;
	struct buf	 b;
	struct mailmsg	 m;
	const char	*why;
	char		 dec[4096];
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* In the name. */
		if (render_parse(rows[i].line, rows[i].text, "Subject", "b\n",
		    &p)) {
			tap_ok(hdr(&p, "Bcc") == NULL, rows[i].line, "no Bcc");
			tap_ok(ew_decode(hdr(&p, "To"), dec, sizeof(dec)) == 0 &&
			    strchr(dec, '\r') == NULL && strchr(dec, '\n') == NULL,
			    rows[i].line, "decoded To has no CR/LF");
			tap_ok(strstr(hdr(&p, "To"), "<ann@example.com>") != NULL,
			    rows[i].line, "To is still ann: %s", hdr(&p, "To"));
			free((void *)(uintptr_t)p.body);
		}
		/* In the subject. */
		if (render_parse(rows[i].line, "Ann", rows[i].text, "b\n",
		    &p)) {
			tap_ok(hdr(&p, "Bcc") == NULL, rows[i].line, "no Bcc");
			tap_ok(ew_decode(hdr(&p, "Subject"), dec,
			    sizeof(dec)) == 0 && strchr(dec, '\r') == NULL &&
			    strchr(dec, '\n') == NULL, rows[i].line,
			    "decoded Subject has no CR/LF");
			is_str(p.body, "b\r\n", "body untouched");
			free((void *)(uintptr_t)p.body);
		}
		/* As the recipient: refused outright. */
		render(&b, &m, "Ann", "s", "b\n");
		m.to = rows[i].text;
		e = mailmsg_render(&b, &m, &why);
		tap_ok(e == QERR_INVAL && why != NULL &&
		    strstr(why, "recipient") != NULL, rows[i].line,
		    "recipient refused: %s", why != NULL ? why : "(none)");
		buf_free(&b);
	}
	/* An address with a header after it. */
	render(&b, &m, "Ann", "s", "b\n");
	m.to = "ann@example.com\r\nBcc: x@y.example";
	e = mailmsg_render(&b, &m, &why);
	ok(e == QERR_INVAL && b.len == 0, "recipient with CRLF: nothing written");
	buf_free(&b);
	/* A Message-ID that is not <left@right>. */
	render(&b, &m, "Ann", "s", "b\n");
	m.message_id = "<a@b>\r\nBcc: x@y.example";
	e = mailmsg_render(&b, &m, &why);
	ok(e == QERR_INVAL && why != NULL && strstr(why, "message_id") != NULL,
	    "bad message_id refused");
	buf_free(&b);
	render(&b, &m, "Ann", "s", "b\n");
	m.message_id = "no-brackets@quire.test";
	ok(mailmsg_render(&b, &m, &why) == QERR_INVAL, "message_id needs <>");
	buf_free(&b);
	/* A From name with CR/LF (from the configuration) is cleaned too. */
	render(&b, &m, "Ann", "s", "b\n");
	m.from_name = "quire\r\nBcc: x@y.example";
	e = mailmsg_render(&b, &m, &why);
	ok(e == QERR_OK && parse_msg(b.p, &p) == 0 && hdr(&p, "Bcc") == NULL &&
	    headers_exact(&p), "From name cannot inject");
	buf_free(&b);
	/* A body line that is a lone '.' survives as =2E. */
	render(&b, &m, "Ann", "s", "one\n.\n.two\n");
	e = mailmsg_render(&b, &m, &why);
	ok(e == QERR_OK && strstr(b.p, "\r\n.") == NULL &&
	    strstr(b.p, "\r\n=2E\r\n=2Etwo\r\n") != NULL,
	    "no line of the message starts with '.'");
	buf_free(&b);
	/* Too big for the buffer: TOOBIG, not a cut message. */
	render(&b, &m, "Ann", "s", "b\n");
	buf_free(&b);
	buf_init(&b, 100);
	ok(mailmsg_render(&b, &m, &why) == QERR_TOOBIG, "buffer cap");
	buf_free(&b);
}

int
main(void)
{

	test_qp();
	test_addr();
	test_from();
	test_date();
	test_render();
	test_injection();
	return tap_done();
}
