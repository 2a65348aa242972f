/*
 * Growable byte buffer with a hard cap and sticky errors.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

void
buf_init(struct buf *b, size_t max)
{

	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
buf_free(struct buf *b)
{

	mem_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = QERR_OK;
}

void
buf_reset(struct buf *b)
{

	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
	b->err = QERR_OK;
}

void
buf_truncate(struct buf *b, size_t len)
{

	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

void
buf_trim(struct buf *b, size_t keep)
{

	if (b->cap > keep)
		buf_free(b);
	else
		buf_reset(b);
}

static int
reserve(struct buf *b, size_t more)
{
	size_t	 want, ncap;
	char	*np;

	if (b->err != QERR_OK)
		return -1;
	if (more > b->max || b->len > b->max - more) {
		b->err = QERR_TOOBIG;
		return -1;
	}
	want = b->len + more + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	if ((np = mem_realloc(b->p, ncap)) == NULL) {
		b->err = QERR_NOMEM;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{

	if (reserve(b, n) == -1)
		return;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{

	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{

	buf_append(b, &c, 1);
}

/*
 * Formats straight into the spare room first: the lines built per request
 * fit, and then one vsnprintf does instead of a measuring one and a real
 * one.
 */
void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	size_t	 room;
	int	 n;

	if (b->err != QERR_OK)
		return;
	room = b->p != NULL ? b->cap - b->len : 0;
	va_copy(ap2, ap);
	n = vsnprintf(room > 0 ? b->p + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = QERR_INVAL;
		if (b->p != NULL)
			b->p[b->len] = '\0';
		return;
	}
	if ((size_t)n < room && (size_t)n <= b->max - b->len) {
		b->len += (size_t)n;
		return;
	}
	/* Too long for the room (or the cap): undo the partial write. */
	if (b->p != NULL)
		b->p[b->len] = '\0';
	if (reserve(b, (size_t)n) == -1)
		return;
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_putu(struct buf *b, unsigned long long v)
{
	char	 d[24];
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	buf_append(b, d + i, sizeof(d) - i);
}

enum qerr
buf_err(const struct buf *b)
{

	return b->err;
}
