/*
 * UTF-8 checking and repair.
 */
#include "config.h"

#include <string.h>

#include "utf8.h"

/*
 * The length of the well-formed sequence at s[0..n), or 0 when the
 * bytes there do not start one. The ranges are RFC 3629's table: they
 * leave out overlong forms, surrogates and code points past U+10FFFF.
 */
static size_t
seq_len(const unsigned char *s, size_t n)
{
	unsigned char	 c = s[0], lo, hi;
	size_t		 len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		lo = 0x80, hi = 0xbf;
	} else if (c == 0xe0) {
		len = 3;
		lo = 0xa0, hi = 0xbf;
	} else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
		len = 3;
		lo = 0x80, hi = 0xbf;
	} else if (c == 0xed) {
		/* U+D800-U+DFFF would follow: surrogates are not characters. */
		len = 3;
		lo = 0x80, hi = 0x9f;
	} else if (c == 0xf0) {
		len = 4;
		lo = 0x90, hi = 0xbf;
	} else if (c >= 0xf1 && c <= 0xf3) {
		len = 4;
		lo = 0x80, hi = 0xbf;
	} else if (c == 0xf4) {
		len = 4;
		lo = 0x80, hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t
utf8_seq(const char *s, size_t n)
{

	return n > 0 ? seq_len((const unsigned char *)s, n) : 0;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, k;

	for (i = 0; i < n; i += k) {
		/* ASCII runs are the common case. */
		if (p[i] < 0x80) {
			k = 1;
			continue;
		}
		if ((k = seq_len(p + i, n - i)) == 0)
			return 0;
	}
	return 1;
}

size_t
utf8_clean(char *dst, size_t cap, const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*src;
	size_t			 i, o, k, w;

	o = 0;
	for (i = 0; i < n; i += k) {
		if (p[i] != 0 && (k = seq_len(p + i, n - i)) > 0) {
			src = s + i;
			w = k;
		} else {
			/* One replacement per invalid byte: simple, and bounded. */
			k = 1;
			src = UTF8_REPLACEMENT;
			w = sizeof(UTF8_REPLACEMENT) - 1;
		}
		if (o + w > cap - 1)
			break;
		memcpy(dst + o, src, w);
		o += w;
	}
	dst[o] = '\0';
	return o;
}
