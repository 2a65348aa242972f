/*
 * Unit tests of UTF-8 checking and repair (src/utf8.c): what PostgreSQL
 * would refuse is refused here first, and what is kept is cut on a
 * character boundary with invalid bytes replaced.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "utf8.h"

#define FFFD	UTF8_REPLACEMENT

static void
test_valid(void)
{
	static const struct {
		int		 line;
		const char	*s;
		size_t		 n;		/* 0: strlen */
		int		 want;
	} rows[] = {
		{ __LINE__, "", 0, 1 },
		{ __LINE__, "plain ascii", 0, 1 },
		{ __LINE__, "caf\xc3\xa9", 0, 1 },
		{ __LINE__, "\xe2\x82\xac", 0, 1 },		/* U+20AC */
		{ __LINE__, "\xf0\x9f\x98\x80", 0, 1 },		/* U+1F600 */
		{ __LINE__, "\xf4\x8f\xbf\xbf", 0, 1 },		/* U+10FFFF */
		{ __LINE__, "\xef\xbf\xbd", 0, 1 },		/* U+FFFD */
		{ __LINE__, "\xed\x9f\xbf", 0, 1 },		/* U+D7FF */
		{ __LINE__, "\xee\x80\x80", 0, 1 },		/* U+E000 */
		{ __LINE__, "a\0b", 3, 1 },			/* NUL is UTF-8 */
		{ __LINE__, "\xc3", 0, 0 },			/* cut */
		{ __LINE__, "\xe2\x82", 0, 0 },			/* cut */
		{ __LINE__, "\xf0\x9f\x98", 0, 0 },		/* cut */
		{ __LINE__, "\x80", 0, 0 },			/* lone continuation */
		{ __LINE__, "\xbf", 0, 0 },
		{ __LINE__, "\xc0\x80", 0, 0 },			/* overlong NUL */
		{ __LINE__, "\xc1\xbf", 0, 0 },			/* overlong */
		{ __LINE__, "\xe0\x80\xaf", 0, 0 },		/* overlong '/' */
		{ __LINE__, "\xf0\x80\x80\xaf", 0, 0 },		/* overlong */
		{ __LINE__, "\xed\xa0\x80", 0, 0 },		/* U+D800 */
		{ __LINE__, "\xed\xbf\xbf", 0, 0 },		/* U+DFFF */
		{ __LINE__, "\xf4\x90\x80\x80", 0, 0 },		/* U+110000 */
		{ __LINE__, "\xf5\x80\x80\x80", 0, 0 },
		{ __LINE__, "\xff", 0, 0 },
		{ __LINE__, "\xfe\xff", 0, 0 },
		{ __LINE__, "ok\xc3\x28", 0, 0 },		/* bad continuation */
		{ __LINE__, "\xe2\x28\xa1", 0, 0 },
	};
	size_t	 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n != 0 ? rows[i].n : strlen(rows[i].s);
		tap_ok(utf8_valid(rows[i].s, n) == rows[i].want, rows[i].line,
		    "utf8_valid = %d", rows[i].want);
	}
}

static void
test_clean(void)
{
	static const struct {
		int		 line;
		const char	*s;
		size_t		 n;		/* 0: strlen */
		size_t		 cap;
		const char	*want;
	} rows[] = {
		{ __LINE__, "Mozilla/5.0", 0, 64, "Mozilla/5.0" },
		{ __LINE__, "", 0, 64, "" },
		{ __LINE__, "abc", 0, 4, "abc" },
		{ __LINE__, "abcd", 0, 4, "abc" },
		/* A character across the cut is left out whole. */
		{ __LINE__, "ab\xc3\xa9", 0, 4, "ab" },
		{ __LINE__, "ab\xc3\xa9", 0, 5, "ab\xc3\xa9" },
		{ __LINE__, "a\xf0\x9f\x98\x80", 0, 5, "a" },
		{ __LINE__, "a\xf0\x9f\x98\x80", 0, 6, "a\xf0\x9f\x98\x80" },
		/* Invalid bytes become U+FFFD, one each. */
		{ __LINE__, "a\xffz", 0, 64, "a" FFFD "z" },
		{ __LINE__, "\xc3", 0, 64, FFFD },
		{ __LINE__, "\xed\xa0\x80", 0, 64, FFFD FFFD FFFD },
		{ __LINE__, "\xc0\x80", 0, 64, FFFD FFFD },
		{ __LINE__, "a\0b", 3, 64, "a" FFFD "b" },
		/* A replacement that does not fit is left out. */
		{ __LINE__, "ab\xff", 0, 5, "ab" },
		{ __LINE__, "ab\xff", 0, 6, "ab" FFFD },
		{ __LINE__, "x", 0, 1, "" },
	};
	char	 out[128];
	size_t	 i, n, got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n != 0 ? rows[i].n : strlen(rows[i].s);
		memset(out, 'Z', sizeof(out));
		got = utf8_clean(out, rows[i].cap, rows[i].s, n);
		tap_ok(got == strlen(rows[i].want) &&
		    strcmp(out, rows[i].want) == 0 && got < rows[i].cap,
		    rows[i].line, "utf8_clean: %zu bytes", got);
		tap_ok(utf8_valid(out, got) && memchr(out, '\0', got) == NULL,
		    rows[i].line, "the result is valid UTF-8 without NUL");
	}
}

int
main(void)
{

	test_valid();
	test_clean();
	return tap_done();
}
