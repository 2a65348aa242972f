/*
 * A tiny TAP producer for the unit tests. Each check prints one "ok" or
 * "not ok" line naming the source line, so a failing table row is found
 * at once.
 */
#ifndef QUIRE_TAP_H
#define QUIRE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int	tap_count;
static int	tap_failed;

__attribute__((format(printf, 3, 4)))
static int
tap_ok(int cond, int line, const char *fmt, ...)
{
	va_list	 ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - line %d: ", cond ? "" : "not ", tap_count, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return cond;
}

#define ok(cond, ...)		tap_ok(!!(cond), __LINE__, __VA_ARGS__)
#define is_str(got, want, name)	tap_ok((got) != NULL && strcmp((got), (want)) == 0, \
				    __LINE__, "%s: got \"%s\" want \"%s\"", (name), \
				    (got) != NULL ? (got) : "(null)", (want))
#define is_int(got, want, name)	tap_ok((long long)(got) == (long long)(want), __LINE__, \
				    "%s: got %lld want %lld", (name), \
				    (long long)(got), (long long)(want))

static int
tap_done(void)
{

	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}

#endif
