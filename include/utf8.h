/*
 * UTF-8 as PostgreSQL accepts it: checked before any text reaches SQL,
 * and repaired where the contract says a value is kept, never refused
 * (User-Agent, the client address).
 */
#ifndef QUIRE_UTF8_H
#define QUIRE_UTF8_H

#include <stddef.h>

/* The replacement character U+FFFD, which stands in for invalid bytes. */
#define UTF8_REPLACEMENT	"\xef\xbf\xbd"

/*
 * 1 when s[0..n) is well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates (U+D800-U+DFFF), nothing past U+10FFFF. NUL counts as
 * valid here; callers that refuse it say so.
 */
int	utf8_valid(const char *s, size_t n);

/*
 * The length of the well-formed character that starts s[0..n) (1-4), or
 * 0 when the bytes there are not one.
 */
size_t	utf8_seq(const char *s, size_t n);

/*
 * Copies s[0..n) into dst (cap bytes, cap > 0) as well-formed UTF-8
 * without NUL: each invalid byte, and each NUL, becomes U+FFFD, and the
 * copy ends on a character boundary at cap - 1 bytes at most. dst is
 * NUL-terminated; returns its length.
 */
size_t	utf8_clean(char *dst, size_t cap, const char *s, size_t n);

#endif
