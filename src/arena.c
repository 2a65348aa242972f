/*
 * Per-request arena: a chain of blocks, the first one kept between
 * requests so a typical request allocates nothing from the heap.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "mem.h"

#define ARENA_ALIGN	16

struct block {
	struct block	*next;
	size_t		 size;
	size_t		 used;
	/* data follows, aligned */
};

struct defer {
	struct defer	*next;
	void		(*fn)(void *);
	void		*p;
};

struct arena {
	struct block	*first;
	struct block	*cur;
	struct defer	*defers;
	size_t		 used;		/* bytes handed out since reset */
	size_t		 limit;
};

#define BLOCK_HDR	((sizeof(struct block) + ARENA_ALIGN - 1) & \
			    ~(size_t)(ARENA_ALIGN - 1))

static struct block *
block_new(size_t size)
{
	struct block	*b;

	if (size > SIZE_MAX - BLOCK_HDR)
		return NULL;
	if ((b = mem_malloc(BLOCK_HDR + size)) == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *
arena_new(size_t first_block, size_t limit)
{
	struct arena	*a;

	if ((a = mem_calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if ((a->first = block_new(first_block)) == NULL) {
		mem_free(a);
		return NULL;
	}
	a->cur = a->first;
	a->limit = limit;
	return a;
}

void
arena_reset(struct arena *a)
{
	struct block	*b, *next;
	struct defer	*d;

	/* Defers live in the blocks themselves, so run them before freeing. */
	for (d = a->defers; d != NULL; d = d->next)
		d->fn(d->p);
	a->defers = NULL;
	for (b = a->first->next; b != NULL; b = next) {
		next = b->next;
		mem_free(b);
	}
	a->first->next = NULL;
	a->first->used = 0;
	a->cur = a->first;
	a->used = 0;
}

void
arena_free(struct arena *a)
{

	if (a == NULL)
		return;
	arena_reset(a);
	mem_free(a->first);
	mem_free(a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct block	*b;
	size_t		 need, size;
	void		*p;

	if (n > SIZE_MAX / 2)
		return NULL;
	need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	if (a->limit != 0 && (need > a->limit || a->used > a->limit - need))
		return NULL;
	b = a->cur;
	if (b->size - b->used < need) {
		/* Grow geometrically so large requests take few blocks. */
		size = a->cur->size * 2;
		if (size < need)
			size = need;
		if ((b = block_new(size)) == NULL)
			return NULL;
		a->cur->next = b;
		a->cur = b;
	}
	p = (char *)b + BLOCK_HDR + b->used;
	b->used += need;
	a->used += need;
	return p;
}

void *
arena_calloc(struct arena *a, size_t n)
{
	void	*p;

	if ((p = arena_alloc(a, n)) != NULL)
		memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char	*p;

	if ((p = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{

	return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

enum qerr
arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct defer	*d;

	if ((d = arena_alloc(a, sizeof(*d))) == NULL) {
		fn(p);
		return QERR_NOMEM;
	}
	d->fn = fn;
	d->p = p;
	d->next = a->defers;
	a->defers = d;
	return QERR_OK;
}

size_t
arena_used(const struct arena *a)
{

	return a->used;
}
