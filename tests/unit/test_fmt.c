/*
 * Unit tests of the formatting helpers (src/fmt.c): PostgreSQL
 * timestamps to RFC 3339, and the canonical UUID check.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "fmt.h"
#include "tap.h"

static void
test_ts(void)
{
	static const struct {
		int		 line;
		const char	*in;
		const char	*want;		/* NULL: rejected */
	} rows[] = {
		{ __LINE__, "2026-11-24 10:00:00.123456+00",
		    "2026-11-24T10:00:00.123Z" },
		{ __LINE__, "2026-11-24 10:00:00+00", "2026-11-24T10:00:00.000Z" },
		{ __LINE__, "2026-11-24 10:00:00.1+00", "2026-11-24T10:00:00.100Z" },
		{ __LINE__, "2026-11-24 10:00:00.12+00", "2026-11-24T10:00:00.120Z" },
		{ __LINE__, "2026-11-24 10:00:00.999999+00",
		    "2026-11-24T10:00:00.999Z" },	/* truncated, not rounded */
		{ __LINE__, "2026-11-24 10:00:00.000001+00",
		    "2026-11-24T10:00:00.000Z" },
		{ __LINE__, "1999-01-02 03:04:05.6+00", "1999-01-02T03:04:05.600Z" },
		{ __LINE__, "2026-11-24T10:00:00.5+00", "2026-11-24T10:00:00.500Z" },
		{ __LINE__, "2026-11-24 23:59:59.123456+00",
		    "2026-11-24T23:59:59.123Z" },
		{ __LINE__, "", NULL },
		{ __LINE__, "garbage", NULL },
		{ __LINE__, "infinity", NULL },
		{ __LINE__, "-infinity", NULL },
		{ __LINE__, "2026-11-24", NULL },
		{ __LINE__, "2026-11-24 10:00", NULL },
		{ __LINE__, "2026-11-24 10:00:0", NULL },
		{ __LINE__, "2026/11/24 10:00:00+00", NULL },
		{ __LINE__, "2026-11-24_10:00:00+00", NULL },
		{ __LINE__, "2026-11-24 10-00-00+00", NULL },
		{ __LINE__, "26-11-24 10:00:00+00", NULL },
		{ __LINE__, "2026-1-24 10:00:00+00", NULL },
		{ __LINE__, "2026-11-2a 10:00:00+00", NULL },
		{ __LINE__, "2026-11-24 1a:00:00+00", NULL },
		{ __LINE__, "2026-11-24 10:00:0x+00", NULL },
		{ __LINE__, "Tue Nov 24 10:00:00 2026", NULL },
		/*
		 * The header promises -1 unless src is UTC text in that
		 * form: an offset other than +00, or trailing junk, must
		 * not be turned into a "Z" time.
		 */
		{ __LINE__, "2026-11-24 10:00:00.123456+05", NULL },
		{ __LINE__, "2026-11-24 10:00:00-08", NULL },
		{ __LINE__, "2026-11-24 10:00:00+00 BC", NULL },
		{ __LINE__, "2026-11-24 10:00:00xyz", NULL },
		{ __LINE__, "2026-11-24 10:00:00.+00", NULL },
		{ __LINE__, "2026-11-24 10:00:00.123+0", NULL },
		{ __LINE__, "2026-11-24 10:00:00.123+00x", NULL },
		{ __LINE__, "2026-11-24 10:00:00.123456+00:00",
		    "2026-11-24T10:00:00.123Z" },
		{ __LINE__, "2026-11-24T10:00:00.123Z",
		    "2026-11-24T10:00:00.123Z" },
	};
	char	 dst[FMT_TS_LEN + 1 + 8];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(dst, '#', sizeof(dst));
		rc = fmt_ts(dst, rows[i].in);
		if (rows[i].want == NULL) {
			tap_ok(rc == -1, rows[i].line, "fmt_ts(\"%s\") rejected "
			    "(rc %d)", rows[i].in, rc);
			continue;
		}
		tap_ok(rc == 0, rows[i].line, "fmt_ts(\"%s\") accepted",
		    rows[i].in);
		tap_ok(rc == 0 && strcmp(dst, rows[i].want) == 0, rows[i].line,
		    "fmt_ts(\"%s\"): got \"%.*s\" want \"%s\"", rows[i].in,
		    FMT_TS_LEN, dst, rows[i].want);
		tap_ok(strlen(rows[i].want) == FMT_TS_LEN &&
		    dst[FMT_TS_LEN + 1] == '#', rows[i].line,
		    "writes FMT_TS_LEN + 1 bytes only");
	}
}

static void
test_uuid(void)
{
	static const struct {
		int		 line;
		const char	*s;
		size_t		 n;		/* 0: strlen(s) */
		int		 want;
	} rows[] = {
		{ __LINE__, "123e4567-e89b-12d3-a456-426614174000", 0, 1 },
		{ __LINE__, "00000000-0000-0000-0000-000000000000", 0, 1 },
		{ __LINE__, "ffffffff-ffff-ffff-ffff-ffffffffffff", 0, 1 },
		{ __LINE__, "0190f1c2-7a3b-7cde-8f01-23456789abcd", 0, 1 },
		{ __LINE__, "123E4567-E89B-12D3-A456-426614174000", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a456-42661417400A", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a456-42661417400", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a456-4266141740000", 0, 0 },
		{ __LINE__, "123e4567e89b12d3a456426614174000", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a456_426614174000", 0, 0 },
		{ __LINE__, "123e4567-e89b12d3--a456-426614174000", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a4564-26614174000", 0, 0 },
		{ __LINE__, "{23e4567-e89b-12d3-a456-426614174000", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a456-42661417400g", 0, 0 },
		{ __LINE__, "123e4567-e89b-12d3-a456-42661417400 ", 0, 0 },
		{ __LINE__, " 23e4567-e89b-12d3-a456-426614174000", 0, 0 },
		{ __LINE__, "------------------------------------", 0, 0 },
		{ __LINE__, "not-a-uuid", 0, 0 },
		{ __LINE__, "", 0, 0 },
		/* n is what counts, not the NUL. */
		{ __LINE__, "123e4567-e89b-12d3-a456-426614174000/posts", 36, 1 },
		{ __LINE__, "123e4567-e89b-12d3-a456-426614174000", 35, 0 },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n != 0 ? rows[i].n : strlen(rows[i].s);
		tap_ok(fmt_is_uuid(rows[i].s, n) == rows[i].want, rows[i].line,
		    "fmt_is_uuid(\"%.*s\") == %d", (int)n, rows[i].s,
		    rows[i].want);
	}
}

static void
test_parse_u(void)
{
	static const struct {
		int			 line;
		const char		*s;
		unsigned long long	 max;
		int			 want;
		unsigned long long	 v;
	} rows[] = {
		{ __LINE__, "0", 10, 0, 0 },
		{ __LINE__, "10", 10, 0, 10 },
		{ __LINE__, "11", 10, -1, 0 },
		{ __LINE__, "007", 10, 0, 7 },
		{ __LINE__, "", 10, -1, 0 },
		{ __LINE__, "-1", 10, -1, 0 },
		{ __LINE__, "+1", 10, -1, 0 },
		{ __LINE__, " 1", 10, -1, 0 },
		{ __LINE__, "1 ", 10, -1, 0 },
		{ __LINE__, "1e3", 10000, -1, 0 },
		{ __LINE__, "0x10", 100, -1, 0 },
		{ __LINE__, "1.5", 10, -1, 0 },
		{ __LINE__, "9999999999999999999", ULLONG_MAX, 0, 9999999999999999999ULL },
		{ __LINE__, "18446744073709551615", ULLONG_MAX, -1, 0 },	/* 20 digits */
		{ __LINE__, "99999999999999999999999", ULLONG_MAX, -1, 0 },
	};
	unsigned long long	 v;
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		v = 12345;
		got = fmt_parse_u(rows[i].s, strlen(rows[i].s), rows[i].max, &v);
		tap_ok(got == rows[i].want && (got == -1 ? v == 12345 :
		    v == rows[i].v), rows[i].line, "fmt_parse_u(\"%s\") = %d, %llu",
		    rows[i].s, got, v);
	}
}

int
main(void)
{

	test_ts();
	test_uuid();
	test_parse_u();
	return tap_done();
}
