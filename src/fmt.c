/*
 * Timestamp and id formats.
 */
#include "config.h"

#include <string.h>

#include "fmt.h"

static int
digits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
fmt_ts(char *dst, const char *src)
{
	size_t	 i, n;

	/* YYYY-MM-DD HH:MM:SS */
	if (strlen(src) < 19 || !digits(src, 4) || src[4] != '-' ||
	    !digits(src + 5, 2) || src[7] != '-' || !digits(src + 8, 2) ||
	    (src[10] != ' ' && src[10] != 'T') || !digits(src + 11, 2) ||
	    src[13] != ':' || !digits(src + 14, 2) || src[16] != ':' ||
	    !digits(src + 17, 2))
		return -1;
	memcpy(dst, src, 19);
	dst[10] = 'T';
	dst[19] = '.';
	n = 0;
	i = 19;
	if (src[19] == '.') {
		for (i = 20; src[i] >= '0' && src[i] <= '9'; i++)
			if (n < 3)
				dst[20 + n++] = src[i];
		if (i == 20)
			return -1;
	}
	/* Only UTC is ours: the session's TimeZone is UTC. */
	if (strcmp(src + i, "+00") != 0 && strcmp(src + i, "+00:00") != 0 &&
	    strcmp(src + i, "Z") != 0 && src[i] != '\0')
		return -1;
	for (i = n; i < 3; i++)
		dst[20 + i] = '0';
	dst[23] = 'Z';
	dst[24] = '\0';
	return 0;
}

int
fmt_is_uuid(const char *s, size_t n)
{
	size_t	 i;

	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static int
is_space(char c)
{

	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

void
fmt_trim(const char **s, size_t *n)
{

	while (*n > 0 && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*s)[*n - 1]))
		(*n)--;
}

int
fmt_parse_u(const char *s, size_t n, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long	 v;
	size_t			 i;

	/* 19 digits cannot overflow 64 bits; more is never a number of ours. */
	if (n == 0 || n > 19)
		return -1;
	for (i = 0, v = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}
