/*
 * Streaming JSON writer.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jw.h"

void
jw_init(struct jw *w, struct buf *b)
{

	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* Emits the separator a new value or key needs at this position. */
static void
sep(struct jw *w)
{

	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (w->nonempty[w->depth - 1])
			buf_putc(w->b, ',');
		w->nonempty[w->depth - 1] = 1;
	}
}

static void
nest(struct jw *w, char c)
{

	sep(w);
	buf_putc(w->b, c);
	if (w->depth >= JW_MAXDEPTH) {
		w->b->err = QERR_TOOBIG;
		return;
	}
	w->nonempty[w->depth++] = 0;
}

static void
unnest(struct jw *w, char c)
{

	if (w->depth > 0)
		w->depth--;
	buf_putc(w->b, c);
}

void
jw_obj(struct jw *w)
{

	nest(w, '{');
}

void
jw_obj_end(struct jw *w)
{

	unnest(w, '}');
}

void
jw_arr(struct jw *w)
{

	nest(w, '[');
}

void
jw_arr_end(struct jw *w)
{

	unnest(w, ']');
}

/*
 * 1 when none of the 8 bytes at p needs escaping: no control character,
 * no '"', no backslash (bytes of 0x80 and up are UTF-8, passed through).
 * The usual "has a zero byte" and "has a byte below n" word tricks.
 */
static int
plain8(const unsigned char *p)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	const uint64_t	 highs = 0x8080808080808080ULL;
	uint64_t	 v, q, bs, hit;

	memcpy(&v, p, 8);
	q = v ^ (ones * '"');
	bs = v ^ (ones * '\\');
	hit = ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
	return (hit & highs) == 0;
}

void
jw_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t	 i, run;
	char	 esc[6];

	buf_putc(b, '"');
	run = 0;
	for (i = 0; i < n; i++) {
		unsigned char c;

		/* Skip eight plain bytes at a time: most text needs no escape. */
		while (n - i >= 8 && plain8(p + i))
			i += 8;
		if (i >= n)
			break;
		c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			buf_append(b, "\\\"", 2);
			break;
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			buf_append(b, "\\r", 2);
			break;
		case '\t':
			buf_append(b, "\\t", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			buf_append(b, esc, 6);
			break;
		}
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
}

void
jw_key(struct jw *w, const char *k)
{

	sep(w);
	jw_escape(w->b, k, strlen(k));
	buf_putc(w->b, ':');
	w->after_key = 1;
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{

	sep(w);
	jw_escape(w->b, s, n);
}

void
jw_str(struct jw *w, const char *s)
{

	if (s == NULL) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void
jw_int(struct jw *w, long long v)
{

	sep(w);
	if (v < 0)
		buf_putc(w->b, '-');
	/* The magnitude in unsigned arithmetic: LLONG_MIN has no positive twin. */
	buf_putu(w->b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
}

void
jw_double(struct jw *w, double v, int decimals)
{

	sep(w);
	/* JSON has no NaN or infinity. */
	if (v != v || v > 1e300 || v < -1e300)
		buf_puts(w->b, "null");
	else
		buf_printf(w->b, "%.*f", decimals, v);
}

void
jw_bool(struct jw *w, int v)
{

	sep(w);
	buf_puts(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{

	sep(w);
	buf_puts(w->b, "null");
}

void
jw_raw(struct jw *w, const char *s, size_t n)
{

	sep(w);
	buf_append(w->b, s, n);
}
