/*
 * Growable byte buffer with a hard cap. Errors are sticky: after the
 * first failed append every later append is a no-op and buf_err() says
 * why, so builders check once at the end.
 */
#ifndef QUIRE_BUF_H
#define QUIRE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "quire.h"

struct buf {
	char		*p;	/* NUL-terminated when not NULL */
	size_t		 len;
	size_t		 cap;
	size_t		 max;	/* hard cap on len */
	enum qerr	 err;
};

void		 buf_init(struct buf *, size_t max);
void		 buf_free(struct buf *);
/* Empties the buffer, keeping its memory for the next use. */
void		 buf_reset(struct buf *);
/* Drops everything past len bytes (an error stays). */
void		 buf_truncate(struct buf *, size_t len);
/* Frees the memory too when it grew past keep bytes. */
void		 buf_trim(struct buf *, size_t keep);
void		 buf_append(struct buf *, const void *, size_t);
void		 buf_puts(struct buf *, const char *);
void		 buf_putc(struct buf *, char);
/* v in decimal: the hot path's numbers without printf's machinery. */
void		 buf_putu(struct buf *, unsigned long long v);
void		 buf_printf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 buf_vprintf(struct buf *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));
enum qerr	 buf_err(const struct buf *);

#endif
