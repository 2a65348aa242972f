/*
 * Unit tests of query strings (src/query.c): cursors that do not decode
 * to a real position, and values that are not UTF-8, are refused before
 * any SQL sees them.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "arena.h"
#include "conf.h"
#include "query.h"
#include "fixture.h"
#include "tap.h"
#include "table.h"

#define UUID	"0b7e4c1e-6d0a-4f5e-9a1b-2c3d4e5f6a7b"

/* base64url of raw, unpadded, as a cursor is written. */
static void
b64(char *out, size_t outsz, const char *raw)
{

	sodium_bin2base64(out, outsz, (const unsigned char *)raw, strlen(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
test_cursor(struct arena *a)
{
	static const struct {
		int		 line;
		const char	*raw;
		int		 want;		/* 0 decodes, -1 refused */
	} rows[] = {
		{ __LINE__, "2026-11-24 10:00:00.123+00|" UUID, 0 },
		{ __LINE__, "2026-11-24 10:00:00+00|" UUID, 0 },
		{ __LINE__, "2024-02-29 23:59:59.999999+00|" UUID, 0 },
		{ __LINE__, "0001-01-01 00:00:00+00|" UUID, 0 },
		{ __LINE__, "9999-12-31 23:59:59+00|" UUID, 0 },
		{ __LINE__, "2026-13-01 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-00-01 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-02-30 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2025-02-29 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-04-31 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-00 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-32 00:00:00+00|" UUID, -1 },
		{ __LINE__, "0000-01-01 00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 99:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 24:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 23:60:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 23:59:60+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 00:00:00.+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 00:00:00.1234567+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 00:00:00+01|" UUID, -1 },
		{ __LINE__, "2026-01-01T00:00:00+00|" UUID, -1 },
		{ __LINE__, "2026-01-01 00:00:00+00|" "0B7E4C1E-6D0A-4F5E-9A1B-2C3D4E5F6A7B", -1 },
		{ __LINE__, "2026-01-01 00:00:00+00|not-a-uuid", -1 },
		{ __LINE__, "2026-01-01 00:00:00+00" UUID, -1 },
		{ __LINE__, "\xff\xfe|" UUID, -1 },
	};
	char	 cur[256], ts[QUERY_CURSOR_TS_MAX + 1], id[37], *enc;
	size_t	 i;
	int	 got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		b64(cur, sizeof(cur), rows[i].raw);
		got = query_cursor_decode(cur, strlen(cur), ts, id);
		tap_ok(got == rows[i].want, rows[i].line, "decode \"%s\": %d",
		    cur, got);
		if (got == 0)
			tap_ok(strncmp(rows[i].raw, ts, strlen(ts)) == 0 &&
			    strcmp(id, UUID) == 0, rows[i].line,
			    "position %s %s", ts, id);
	}
	/* Not base64url, too long, empty. */
	ok(query_cursor_decode("!!!!", 4, ts, id) == -1, "not base64url");
	ok(query_cursor_decode("", 0, ts, id) == -1, "empty");
	memset(cur, 'A', 200);
	ok(query_cursor_decode(cur, 200, ts, id) == -1, "too long");
	/* What we write we read back. */
	enc = query_cursor_encode(a, "2026-11-24 10:00:00.123+00", UUID);
	ok(enc != NULL && query_cursor_decode(enc, strlen(enc), ts, id) == 0 &&
	    strcmp(ts, "2026-11-24 10:00:00.123+00") == 0, "round trip");
	/* A tagged cursor (GET /audit's) decodes with its tag only, and back. */
	ok(enc != NULL && query_cursor_decode_tag(enc, strlen(enc), "audit",
	    ts, id) == -1, "an untagged cursor is not an audit cursor");
	enc = query_cursor_encode_tag(a, "audit", "2026-11-24 10:00:00.123+00", UUID);
	ok(enc != NULL && query_cursor_decode(enc, strlen(enc), ts, id) == -1,
	    "an audit cursor is no other route's");
	ok(enc != NULL && query_cursor_decode_tag(enc, strlen(enc), "posts",
	    ts, id) == -1, "nor one of another tag");
	ok(enc != NULL && query_cursor_decode_tag(enc, strlen(enc), "audit",
	    ts, id) == 0 && strcmp(ts, "2026-11-24 10:00:00.123+00") == 0 &&
	    strcmp(id, UUID) == 0, "tagged round trip");
	b64(cur, sizeof(cur), "audit|");
	ok(query_cursor_decode_tag(cur, strlen(cur), "audit", ts, id) == -1,
	    "a tag alone");
	b64(cur, sizeof(cur), "audit");
	ok(query_cursor_decode_tag(cur, strlen(cur), "audit", ts, id) == -1,
	    "a tag without its bar");
	b64(cur, sizeof(cur), "auditx|2026-11-24 10:00:00+00|" UUID);
	ok(query_cursor_decode_tag(cur, strlen(cur), "audit", ts, id) == -1,
	    "a longer tag");
}

static void
test_utf8_values(struct req *r)
{
	static const struct {
		int		 line;
		const char	*query;
		const char	*field;		/* NULL: valid */
		const char	*message;
	} rows[] = {
		{ __LINE__, "q=caf%C3%A9", NULL, NULL },
		{ __LINE__, "q=%c3", "q", "must be valid UTF-8" },
		{ __LINE__, "q=%ed%a0%80", "q", "must be valid UTF-8" },
		{ __LINE__, "q=%c0%af", "q", "must be valid UTF-8" },
		{ __LINE__, "q=%ff", "q", "must be valid UTF-8" },
		{ __LINE__, "q=%00", "q", "is not valid percent-encoding" },
		{ __LINE__, "limit=1%ff", "limit", "must be valid UTF-8" },
		{ __LINE__, "authorId=%ff", "authorId", "must be valid UTF-8" },
		{ __LINE__, "cursor=%c3", "cursor", "must be valid UTF-8" },
		/* Parameters the route does not read are ignored. */
		{ __LINE__, "other=%ff", NULL, NULL },
	};
	char	 needle[160];
	size_t	 i;
	struct qval q[POSTQ__MAX];
	enum qerr e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		r->in.query = rows[i].query;
		e = query_parse(r, &query_posts, q);
		if (rows[i].field == NULL) {
			tap_ok(e == QERR_OK, rows[i].line, "%s accepted",
			    rows[i].query);
		} else {
			snprintf(needle, sizeof(needle),
			    "{\"field\":\"%s\",\"message\":\"%s\"}",
			    rows[i].field, rows[i].message);
			tap_ok(e == QERR_INVAL && r->out.details.p != NULL &&
			    strstr(r->out.details.p, needle) != NULL, rows[i].line,
			    "%s refused: %s", rows[i].query,
			    r->out.details.p != NULL ? r->out.details.p : "");
		}
		req_end(r);
	}
}

int
main(void)
{
	struct fixture	 f;

	if (sodium_init() < 0 || fixture_init(&f) == -1) {
		ok(0, "set-up");
		return tap_done();
	}
	test_cursor(f.a);
	test_utf8_values(&f.r);
	fixture_free(&f);
	return tap_done();
}
