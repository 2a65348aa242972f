/*
 * Small formatting helpers shared by handlers.
 */
#ifndef QUIRE_FMT_H
#define QUIRE_FMT_H

#include <stddef.h>

#define FMT_TS_LEN	24	/* 2026-11-24T10:00:00.000Z */

/*
 * Turns PostgreSQL's ISO text in UTC ("2026-11-24 10:00:00.123456+00")
 * into RFC 3339 with milliseconds. dst holds FMT_TS_LEN + 1 bytes.
 * Returns 0, or -1 when src is not in that form.
 */
int	fmt_ts(char *dst, const char *src);

/* 1 when s is a canonical lower-case UUID (36 chars, 8-4-4-4-12). */
int	fmt_is_uuid(const char *s, size_t n);

/* Removes surrounding ASCII white space: adjusts *s and *n. */
void	fmt_trim(const char **s, size_t *n);

/*
 * Parses s[0..n) as plain decimal digits (no sign, space or exponent,
 * at most 19) into *out. Returns 0, or -1 when s is not that or its
 * value is past max.
 */
int	fmt_parse_u(const char *s, size_t n, unsigned long long max,
	    unsigned long long *out);

#endif
