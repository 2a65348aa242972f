/*
 * Query-string tables and the cursor format.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "arena.h"
#include "bounds.h"
#include "fmt.h"
#include "query.h"
#include "resp.h"
#include "utf8.h"
#include "valid.h"

#define PAGE_PARAMS \
	{ "limit", QP_INT, 1, 100, 20 }, \
	{ "offset", QP_INT, 0, 10000, 0 }, \
	{ "cursor", QP_CURSOR, 0, 0, 0 }

static const struct qparam page_params[PAGE__MAX] = { PAGE_PARAMS };
const struct query_spec query_page = { page_params, PAGE__MAX, NULL };

static const struct qparam posts_params[POSTQ__MAX] = {
	PAGE_PARAMS,
	{ "authorId", QP_UUID, 0, 0, 0 },
	{ "q", QP_TEXT, 0, 200, 0 },
};
const struct query_spec query_posts = { posts_params, POSTQ__MAX, NULL };

/* action: the handler checks the name against the contract's (audit.h). */
static const struct qparam audit_params[AUDITQ__MAX] = {
	PAGE_PARAMS,
	{ "userId", QP_UUID, 0, 0, 0 },
	{ "action", QP_TEXT, 0, 64, 0 },
};
const struct query_spec query_audit = { audit_params, AUDITQ__MAX, "audit" };

static int
hexval(char c)
{

	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
query_decode(char *dst, const char *s, size_t n)
{
	size_t	 i, o;
	int	 hi, lo;

	for (i = o = 0; i < n; i++) {
		if (s[i] == '+')
			dst[o++] = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -1;
			dst[o] = (char)(hi << 4 | lo);
			if (dst[o] == '\0')
				return -1;
			o++;
			i += 2;
		} else
			dst[o++] = s[i];
	}
	dst[o] = '\0';
	return (long)o;
}

char *
query_cursor_encode(struct arena *a, const char *ts, const char *id)
{

	return query_cursor_encode_tag(a, NULL, ts, id);
}

char *
query_cursor_encode_tag(struct arena *a, const char *tag, const char *ts,
    const char *id)
{
	char	 raw[QUERY_CURSOR_TAG_MAX + QUERY_CURSOR_TS_MAX + 40];
	char	*out;
	size_t	 n, olen;
	int	 w;

	w = snprintf(raw, sizeof(raw), "%s%s%s|%s", tag != NULL ? tag : "",
	    tag != NULL ? "|" : "", ts, id);
	if (w < 0 || (size_t)w >= sizeof(raw))
		return NULL;
	n = (size_t)w;
	olen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if ((out = arena_alloc(a, olen)) == NULL)
		return NULL;
	sodium_bin2base64(out, olen, (const unsigned char *)raw, n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* The digits s[0..n), checked already by fmt_ts. */
static int
num(const char *s, size_t n)
{
	unsigned long long	 v;

	return fmt_parse_u(s, n, 9999, &v) == 0 ? (int)v : -1;
}

/*
 * 1 when the calendar date and clock time of "YYYY-MM-DD HH:MM:SS" exist
 * (no 30 February, month 13, hour 99) with a year from 1 to 9999:
 * timegm() normalises what does not exist, so a round trip through it
 * must give back the same fields. PostgreSQL would refuse the rest with
 * an error, which is no answer for a client's bad cursor.
 */
static int
date_exists(const char *t)
{
	struct tm	 tm, back;
	time_t		 when;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = num(t, 4) - 1900;
	tm.tm_mon = num(t + 5, 2) - 1;
	tm.tm_mday = num(t + 8, 2);
	tm.tm_hour = num(t + 11, 2);
	tm.tm_min = num(t + 14, 2);
	tm.tm_sec = num(t + 17, 2);
	if (tm.tm_year + 1900 < 1 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 59)
		return 0;
	/* timegm() normalises its argument too: compare with a copy. */
	back = tm;
	when = timegm(&back);
	if (gmtime_r(&when, &back) == NULL)
		return 0;
	return back.tm_year == tm.tm_year && back.tm_mon == tm.tm_mon &&
	    back.tm_mday == tm.tm_mday && back.tm_hour == tm.tm_hour &&
	    back.tm_min == tm.tm_min && back.tm_sec == tm.tm_sec;
}

/* PostgreSQL's ISO text of a UTC timestamp: "YYYY-MM-DD HH:MM:SS[.ffffff]+00". */
static int
ts_ok(const char *t, size_t n)
{
	char	 tmp[FMT_TS_LEN + 1], z[QUERY_CURSOR_TS_MAX + 1];
	size_t	 i;

	if (n < 22 || n > QUERY_CURSOR_TS_MAX || t[10] != ' ')
		return 0;
	memcpy(z, t, n);
	z[n] = '\0';
	if (fmt_ts(tmp, z) == -1 || !date_exists(z))
		return 0;
	i = 19;
	if (t[i] == '.') {
		for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			continue;
		if (i == 20 || i > 26)
			return 0;
	}
	return n - i == 3 && memcmp(t + i, "+00", 3) == 0;
}

int
query_cursor_decode(const char *s, size_t n, char *ts, char *id)
{

	return query_cursor_decode_tag(s, n, NULL, ts, id);
}

int
query_cursor_decode_tag(const char *s, size_t n, const char *tag, char *ts,
    char *id)
{
	unsigned char	 buf[QUERY_CURSOR_TAG_MAX + QUERY_CURSOR_TS_MAX + 40];
	const char	*raw, *bar;
	size_t		 len, tl, tagl;

	if (n == 0 || n > 128 ||
	    sodium_base642bin(buf, sizeof(buf) - 1, s, n, NULL, &len, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	buf[len] = '\0';
	raw = (const char *)buf;
	/* "tag|": a tagged cursor without it is another route's. */
	if (tag != NULL) {
		tagl = strlen(tag);
		if (len <= tagl || memcmp(raw, tag, tagl) != 0 || raw[tagl] != '|')
			return -1;
		raw += tagl + 1;
		len -= tagl + 1;
	}
	if ((bar = memchr(raw, '|', len)) == NULL)
		return -1;
	tl = (size_t)(bar - raw);
	if (!ts_ok(raw, tl) || !fmt_is_uuid(bar + 1, len - tl - 1))
		return -1;
	memcpy(ts, raw, tl);
	ts[tl] = '\0';
	memcpy(id, bar + 1, 36);
	id[36] = '\0';
	return 0;
}

/* Checks one decoded value; returns NULL or the detail message. */
static const char *
check(struct req *r, const struct qparam *p, char *v, size_t n, struct qval *q,
    char *msg, size_t msgsz)
{
	unsigned long long	 u;
	long			 x;

	switch (p->type) {
	case QP_INT:
		if (fmt_parse_u(v, n, (unsigned long long)p->max, &u) == -1 ||
		    (long)u < p->min) {
			snprintf(msg, msgsz, "must be a whole number from %ld "
			    "to %ld", p->min, p->max);
			return msg;
		}
		q->n = (long)u;
		return NULL;
	case QP_UUID:
		if (!fmt_is_uuid(v, n))
			return "must be a UUID";
		break;
	case QP_TEXT:
		x = (long)valid_utf8_len(v, n);
		if (x < p->min || x > p->max) {
			snprintf(msg, msgsz, "must be at most %ld characters", p->max);
			return msg;
		}
		break;
	case QP_CURSOR: {
		char	*ts, *id;

		if ((ts = arena_alloc(r->arena, QUERY_CURSOR_TS_MAX + 1)) == NULL ||
		    (id = arena_alloc(r->arena, 37)) == NULL)
			return NULL;
		if (query_cursor_decode_tag(v, n, q->tag, ts, id) == -1)
			return "is not a valid cursor";
		q->s = ts;
		q->len = strlen(ts);
		q->id = id;
		return NULL;
	}
	}
	q->s = v;
	q->len = n;
	return NULL;
}

enum qerr
query_parse(struct req *r, const struct query_spec *spec, struct qval *out)
{
	const char	*p, *amp, *eq;
	char		*name, *val, msg[80];
	const char	*m;
	size_t		 i, klen;
	long		 nlen, vlen;
	int		 bad, seen;

	memset(out, 0, sizeof(*out) * spec->nparams);
	for (i = 0; i < spec->nparams; i++) {
		out[i].n = spec->params[i].def;
		if (spec->params[i].type == QP_CURSOR)
			out[i].tag = spec->cursor_tag;
	}
	bad = 0;
	seen = 0;
	for (p = r->in.query; *p != '\0'; p = *amp ? amp + 1 : amp) {
		amp = p + strcspn(p, "&");
		if (amp == p)
			continue;
		/* Past the bound the rest is ignored, as unknown parameters are. */
		if (++seen > BOUND_QUERY_PARAMS)
			break;
		eq = memchr(p, '=', (size_t)(amp - p));
		klen = (size_t)((eq != NULL ? eq : amp) - p);
		if ((name = arena_alloc(r->arena, klen + 1)) == NULL)
			return QERR_NOMEM;
		if ((nlen = query_decode(name, p, klen)) < 0)
			continue;	/* an undecodable name is no parameter of ours */
		for (i = 0; i < spec->nparams; i++)
			if (strcmp(name, spec->params[i].name) == 0)
				break;
		if (i == spec->nparams)
			continue;
		if (out[i].present) {
			resp_detail(r, spec->params[i].name, "must not be repeated");
			bad = 1;
			continue;
		}
		out[i].present = 1;
		vlen = 0;
		if (eq != NULL) {
			if ((val = arena_alloc(r->arena, (size_t)(amp - eq))) == NULL)
				return QERR_NOMEM;
			vlen = query_decode(val, eq + 1, (size_t)(amp - eq - 1));
		} else if ((val = arena_strdup(r->arena, "")) == NULL)
			return QERR_NOMEM;
		if (vlen < 0) {
			resp_detail(r, spec->params[i].name, "is not valid percent-encoding");
			bad = 1;
			continue;
		}
		/* Checked here, before SQL, which would refuse it with an error. */
		if (!utf8_valid(val, (size_t)vlen)) {
			resp_detail(r, spec->params[i].name, "must be valid UTF-8");
			bad = 1;
			continue;
		}
		m = check(r, &spec->params[i], val, (size_t)vlen, &out[i], msg, sizeof(msg));
		if (m == NULL && spec->params[i].type == QP_CURSOR && out[i].s == NULL)
			return QERR_NOMEM;
		if (m != NULL) {
			resp_detail(r, spec->params[i].name, m);
			bad = 1;
		}
	}
	/* The cursor carries the position; an offset on top is ambiguous. */
	for (i = 0; i < spec->nparams; i++)
		if (spec->params[i].type == QP_CURSOR && out[i].present &&
		    i > 0 && out[PAGE_OFFSET].present) {
			resp_detail(r, "cursor", "cannot be combined with offset");
			resp_detail(r, "offset", "cannot be combined with cursor");
			bad = 1;
		}
	return bad ? QERR_INVAL : QERR_OK;
}
