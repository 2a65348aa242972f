/*
 * Unit tests of the byte buffer (src/buf.c): printf into the spare room
 * or, when it does not fit, after growing; the hard cap; decimal output
 * without printf.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct buf	 b;
	char		 want[1024];
	unsigned long long vals[] = { 0, 7, 10, 99, 100, 4294967295ULL,
	    1234567890123ULL, ULLONG_MAX };
	size_t		 i;

	/* From nothing, then into room that is there, then past it. */
	buf_init(&b, 1 << 20);
	buf_printf(&b, "Status: %d %s", 200, "OK");
	is_str(b.p, "Status: 200 OK", "first printf allocates");
	ok(b.len == strlen(b.p), "len %zu", b.len);
	buf_printf(&b, "|%05.1f|", 3.14159);
	is_str(b.p, "Status: 200 OK|003.1|", "fits in the room");
	memset(want, 'x', 600);
	want[600] = '\0';
	buf_printf(&b, "%s", want);
	ok(b.len == 21 + 600 && b.p[b.len] == '\0' &&
	    memcmp(b.p, "Status: 200 OK|003.1|xxx", 24) == 0 &&
	    strspn(b.p + 21, "x") == 600, "longer than the room: grown, whole (len %zu)", b.len);
	/* Exactly filling the room leaves space for the NUL. */
	buf_reset(&b);
	buf_printf(&b, "%*s", (int)b.cap - 1, "");
	ok(b.len == b.cap - 1 && b.p[b.len] == '\0', "exact fit: len %zu cap %zu", b.len, b.cap);
	i = b.cap;
	buf_printf(&b, "%s", "y");
	ok(b.len == i && b.cap > i, "one more grows: len %zu cap %zu", b.len, b.cap);
	ok(b.p[b.len - 1] == 'y' && b.p[b.len] == '\0', "and is terminated");
	buf_free(&b);

	/* The cap: the write that would pass it fails, the text stays as it was. */
	buf_init(&b, 16);
	buf_printf(&b, "%s", "0123456789");
	buf_printf(&b, "%s", "abcdefghij");
	ok(buf_err(&b) == QERR_TOOBIG, "over the cap: TOOBIG");
	is_str(b.p, "0123456789", "nothing of the failed write stays");
	buf_printf(&b, "%s", "z");
	is_str(b.p, "0123456789", "errors are sticky");
	buf_free(&b);
	/* The room may exceed the cap (growth doubles): the cap still holds. */
	buf_init(&b, 300);
	buf_printf(&b, "%s", "a");
	buf_printf(&b, "%290s", "b");
	ok(buf_err(&b) == QERR_OK && b.len == 291, "within the cap (len %zu cap %zu)", b.len, b.cap);
	buf_printf(&b, "%20s", "c");
	ok(buf_err(&b) == QERR_TOOBIG && b.len == 291 && b.p[291] == '\0',
	    "room left but over the cap: TOOBIG (cap %zu)", b.cap);
	buf_free(&b);

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		buf_init(&b, 64);
		buf_puts(&b, "n=");
		buf_putu(&b, vals[i]);
		snprintf(want, sizeof(want), "n=%llu", vals[i]);
		is_str(b.p, want, "buf_putu");
		buf_free(&b);
	}
	buf_init(&b, 3);
	buf_putu(&b, 1234);
	ok(buf_err(&b) == QERR_TOOBIG, "buf_putu honours the cap");
	buf_free(&b);

	return tap_done();
}
