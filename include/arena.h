/*
 * Per-request arena. Everything a request allocates comes from here and
 * is released by one arena_reset() at the end of the request, on every
 * path. Foreign objects (PGresult, json_t) are handed over with
 * arena_defer() so the same reset releases them.
 */
#ifndef QUIRE_ARENA_H
#define QUIRE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "quire.h"

struct arena;

/*
 * Creates an arena whose first block (kept between requests) holds
 * first_block bytes, and which refuses to grow past limit bytes in all
 * (0: no limit). Returns NULL on allocation failure; the caller owns it.
 */
struct arena	*arena_new(size_t first_block, size_t limit);
void		 arena_free(struct arena *);

/* Releases every allocation and runs every deferred call, newest first. */
void		 arena_reset(struct arena *);

/* Memory owned by the arena; NULL on failure or over the limit. */
void		*arena_alloc(struct arena *, size_t) QUIRE_WUR;
void		*arena_calloc(struct arena *, size_t) QUIRE_WUR;
char		*arena_strdup(struct arena *, const char *) QUIRE_WUR;
char		*arena_strndup(struct arena *, const char *, size_t) QUIRE_WUR;
char		*arena_printf(struct arena *, const char *, ...)
		    __attribute__((format(printf, 2, 3))) QUIRE_WUR;

/*
 * Registers fn(p) to run at the next reset. When registration fails,
 * fn(p) runs at once and QERR_NOMEM is returned, so p never leaks.
 */
enum qerr	 arena_defer(struct arena *, void (*fn)(void *), void *p) QUIRE_WUR;

/* Bytes handed out since the last reset (for the memory ceiling and tests). */
size_t		 arena_used(const struct arena *);

#endif
