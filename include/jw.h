/*
 * A small streaming JSON writer on top of struct buf. It only ever
 * produces valid JSON for valid call sequences: commas and quoting are
 * its business, never the caller's.
 */
#ifndef QUIRE_JW_H
#define QUIRE_JW_H

#include <stddef.h>

#include "buf.h"

#define JW_MAXDEPTH	16

struct jw {
	struct buf	*b;
	int		 depth;
	int		 after_key;
	unsigned char	 nonempty[JW_MAXDEPTH];
};

void	jw_init(struct jw *, struct buf *);
void	jw_obj(struct jw *);
void	jw_obj_end(struct jw *);
void	jw_arr(struct jw *);
void	jw_arr_end(struct jw *);
void	jw_key(struct jw *, const char *);
void	jw_str(struct jw *, const char *);
void	jw_strn(struct jw *, const char *, size_t);
void	jw_int(struct jw *, long long);
void	jw_double(struct jw *, double, int decimals);
void	jw_bool(struct jw *, int);
void	jw_null(struct jw *);
/* Writes already-valid JSON text as one value. */
void	jw_raw(struct jw *, const char *, size_t);

/* Appends s as a JSON string literal (with quotes) to b. */
void	jw_escape(struct buf *, const char *, size_t);

#endif
