/*
 * Unit tests of the per-request arena (src/arena.c) and of the
 * allocation failure hook it is tested with (src/mem.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "mem.h"
#include "tap.h"

#define NLOG	16

static int	 deflog[NLOG];
static size_t	 ndeflog;
static int	 ncalls;

static void
logfn(void *p)
{

	if (ndeflog < NLOG)
		deflog[ndeflog++] = *(int *)p;
}

static void
countfn(void *p)
{

	(void)p;
	ncalls++;
}

static void
freefn(void *p)
{

	ncalls++;
	mem_free(p);
}

static int
aligned(const void *p)
{

	return ((uintptr_t)p % 16) == 0;
}

/* Allocation, alignment and the string helpers. */
static void
test_alloc(void)
{
	static const struct {
		int		 line;
		size_t		 n;
		size_t		 used;	/* arena_used() after this row */
	} rows[] = {
		{ __LINE__, 1, 16 },
		{ __LINE__, 15, 32 },
		{ __LINE__, 16, 48 },
		{ __LINE__, 17, 80 },
		{ __LINE__, 0, 96 },
		{ __LINE__, 100, 208 },
		{ __LINE__, 3, 224 },
		{ __LINE__, 1000, 1232 },	/* past the first block */
		{ __LINE__, 5, 1248 },
		{ __LINE__, 4096, 5344 },
	};
	struct arena	*a;
	unsigned char	*p[sizeof(rows) / sizeof(rows[0])];
	size_t		 i, j;
	int		 intact;
	char		*s;

	a = arena_new(256, 0);
	ok(a != NULL, "arena_new(256, 0)");
	if (a == NULL)
		return;
	is_int(arena_used(a), 0, "used of a new arena");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		p[i] = arena_alloc(a, rows[i].n);
		tap_ok(p[i] != NULL, rows[i].line, "alloc %zu", rows[i].n);
		if (p[i] == NULL)
			return;
		tap_ok(aligned(p[i]), rows[i].line, "alloc %zu is 16-aligned",
		    rows[i].n);
		tap_ok(arena_used(a) == rows[i].used, rows[i].line,
		    "used after alloc %zu: %zu want %zu", rows[i].n,
		    arena_used(a), rows[i].used);
		memset(p[i], (int)(i + 1), rows[i].n);
	}
	/* No two allocations overlap: every pattern survived. */
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		intact = 1;
		for (j = 0; j < rows[i].n; j++)
			if (p[i][j] != (unsigned char)(i + 1))
				intact = 0;
		tap_ok(intact, rows[i].line, "block of %zu intact", rows[i].n);
	}

	s = arena_strdup(a, "hello, arena");
	is_str(s, "hello, arena", "arena_strdup");
	ok(aligned(s), "strdup result aligned");
	s = arena_strdup(a, "");
	is_str(s, "", "arena_strdup of empty");
	s = arena_strndup(a, "abcdef", 3);
	is_str(s, "abc", "arena_strndup 3");
	s = arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.25);
	is_str(s, "x-42-003.2", "arena_printf");
	s = arena_printf(a, "%s", "");
	is_str(s, "", "arena_printf of empty");
	{
		char	 big[3000];

		memset(big, 'q', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		s = arena_printf(a, "<%s>", big);
		ok(s != NULL && strlen(s) == sizeof(big) + 1 && s[0] == '<' &&
		    s[1] == 'q' && s[sizeof(big)] == '>',
		    "arena_printf longer than a block");
	}
	{
		unsigned char	*z;
		int		 zero = 1;

		z = arena_calloc(a, 777);
		ok(z != NULL, "arena_calloc");
		for (j = 0; z != NULL && j < 777; j++)
			if (z[j] != 0)
				zero = 0;
		ok(z != NULL && zero, "arena_calloc zeroes");
	}
	ok(arena_alloc(a, SIZE_MAX) == NULL, "SIZE_MAX refused");
	ok(arena_alloc(a, SIZE_MAX / 2 + 1) == NULL, "SIZE_MAX/2+1 refused");

	arena_reset(a);
	is_int(arena_used(a), 0, "used after reset");
	p[0] = arena_alloc(a, 8);
	ok(p[0] != NULL && aligned(p[0]), "alloc after reset");
	arena_free(a);
	arena_free(NULL);
	ok(1, "arena_free(NULL) is harmless");
}

/* Small first block: many allocations chain blocks and stay distinct. */
static void
test_growth(void)
{
	struct arena	*a;
	unsigned char	*p[200];
	size_t		 i, j;
	int		 intact, allok;

	a = arena_new(64, 0);
	ok(a != NULL, "arena_new(64, 0)");
	if (a == NULL)
		return;
	allok = 1;
	for (i = 0; i < 200; i++) {
		if ((p[i] = arena_alloc(a, 48 + i)) == NULL || !aligned(p[i])) {
			allok = 0;
			break;
		}
		memset(p[i], (int)(i & 0xff), 48 + i);
	}
	ok(allok, "200 allocations through a 64-byte first block");
	intact = allok;
	for (i = 0; allok && i < 200; i++)
		for (j = 0; j < 48 + i; j++)
			if (p[i][j] != (unsigned char)(i & 0xff))
				intact = 0;
	ok(intact, "every allocation kept its bytes");
	/* One request far bigger than the block doubling. */
	p[0] = arena_alloc(a, 1 << 20);
	ok(p[0] != NULL, "1 MiB allocation");
	if (p[0] != NULL)
		memset(p[0], 1, 1 << 20);
	arena_free(a);
}

/* The limit counts every byte handed out since the last reset. */
static void
test_limit(void)
{
	static const struct {
		int		 line;
		size_t		 n;
		int		 want_ok;
	} rows[] = {
		{ __LINE__, 200, 1 },		/* 208 used */
		{ __LINE__, 64, 0 },		/* 272 > 256 */
		{ __LINE__, 48, 1 },		/* exactly 256 */
		{ __LINE__, 1, 0 },
		{ __LINE__, 0, 0 },
	};
	struct arena	*a;
	size_t		 i;
	int		 round;
	void		*p;

	a = arena_new(1024, 256);
	ok(a != NULL, "arena_new(1024, 256)");
	if (a == NULL)
		return;
	for (round = 0; round < 2; round++) {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			p = arena_alloc(a, rows[i].n);
			tap_ok((p != NULL) == rows[i].want_ok, rows[i].line,
			    "round %d: alloc %zu under limit 256 %s", round,
			    rows[i].n, rows[i].want_ok ? "works" : "refused");
		}
		ok(arena_used(a) == 256, "round %d: used %zu want 256",
		    round, arena_used(a));
		ok(arena_strdup(a, "x") == NULL, "round %d: strdup over limit",
		    round);
		/* The limit is per request: a reset gives it back. */
		arena_reset(a);
	}
	ok(arena_alloc(a, 257) == NULL, "single alloc over the limit");
	ok(arena_alloc(a, 256) != NULL, "single alloc of exactly the limit");
	arena_free(a);

	/* A limit above the first block still allows growth up to it. */
	a = arena_new(64, 4096);
	ok(a != NULL && arena_alloc(a, 4000) != NULL,
	    "limit 4096 allows 4000 past a 64-byte block");
	ok(a != NULL && arena_alloc(a, 100) == NULL,
	    "but not 100 more");
	arena_free(a);
}

/* Deferred calls run at reset, newest first, exactly once. */
static void
test_defer(void)
{
	static int	 vals[] = { 1, 2, 3, 4 };
	struct arena	*a;
	size_t		 i;
	int		 order;

	a = arena_new(128, 0);
	ok(a != NULL, "arena_new(128, 0)");
	if (a == NULL)
		return;
	ndeflog = 0;
	for (i = 0; i < 4; i++) {
		ok(arena_defer(a, logfn, &vals[i]) == QERR_OK, "defer %d",
		    vals[i]);
		/* Allocations in between must not disturb the list. */
		ok(arena_alloc(a, 100) != NULL, "alloc after defer %d",
		    vals[i]);
	}
	is_int(ndeflog, 0, "nothing ran before reset");
	arena_reset(a);
	is_int(ndeflog, 4, "all four ran at reset");
	order = ndeflog == 4 && deflog[0] == 4 && deflog[1] == 3 &&
	    deflog[2] == 2 && deflog[3] == 1;
	ok(order, "newest first: got %d %d %d %d", deflog[0], deflog[1],
	    deflog[2], deflog[3]);
	arena_reset(a);
	is_int(ndeflog, 4, "a second reset runs nothing again");

	/* arena_free runs pending defers too. */
	ncalls = 0;
	ok(arena_defer(a, freefn, mem_malloc(10)) == QERR_OK,
	    "defer a free");
	arena_free(a);
	is_int(ncalls, 1, "arena_free ran the pending defer");
}

/* Thousands of request cycles: no heap traffic for small requests. */
static void
test_cycles(void)
{
	struct arena	*a;
	int		 cycle, allok;
	unsigned long	 heap;
	char		*s;

	a = arena_new(4096, 65536);
	ok(a != NULL, "arena_new(4096, 65536)");
	if (a == NULL)
		return;
	ncalls = 0;
	allok = 1;
	mem_fail_at(0, 0);	/* resets the counter */
	for (cycle = 0; cycle < 2000; cycle++) {
		s = arena_printf(a, "cycle %d", cycle);
		if (s == NULL || arena_alloc(a, 500) == NULL ||
		    arena_defer(a, countfn, NULL) != QERR_OK)
			allok = 0;
		arena_reset(a);
		if (arena_used(a) != 0)
			allok = 0;
	}
	heap = mem_count();
	ok(allok, "2000 small cycles all worked");
	is_int(ncalls, 2000, "every cycle's defer ran once");
	is_int(heap, 0, "small cycles allocate nothing from the heap");

	/* Big cycles grow and give blocks back every time. */
	allok = 1;
	for (cycle = 0; cycle < 500; cycle++) {
		if (arena_alloc(a, 10000) == NULL ||
		    arena_alloc(a, 30000) == NULL ||
		    arena_defer(a, freefn, mem_malloc(32)) != QERR_OK)
			allok = 0;
		arena_reset(a);
	}
	ok(allok, "500 growing cycles all worked");
	s = arena_strdup(a, "still here");
	is_str(s, "still here", "arena usable after many cycles");
	arena_free(a);
}

/* mem_fail_at: every allocation failure path of the arena. */
static void
test_failures(void)
{
	static const struct {
		int		 line;
		unsigned long	 n;
		int		 sticky;
		int		 want_ok;
	} news[] = {
		{ __LINE__, 1, 0, 0 },		/* the arena struct */
		{ __LINE__, 2, 0, 0 },		/* its first block */
		{ __LINE__, 1, 1, 0 },
		{ __LINE__, 3, 0, 1 },		/* nothing left to fail */
		{ __LINE__, 0, 0, 1 },
	};
	struct arena	*a;
	size_t		 i;
	void		*p;

	for (i = 0; i < sizeof(news) / sizeof(news[0]); i++) {
		mem_fail_at(news[i].n, news[i].sticky);
		a = arena_new(256, 0);
		tap_ok((a != NULL) == news[i].want_ok, news[i].line,
		    "arena_new with allocation %lu failing: %s", news[i].n,
		    a != NULL ? "made" : "NULL");
		mem_fail_at(0, 0);
		arena_free(a);
	}

	mem_fail_at(0, 0);
	a = arena_new(64, 0);
	ok(a != NULL, "arena_new(64, 0)");
	if (a == NULL)
		return;
	mem_fail_at(1, 0);
	ok(arena_alloc(a, 1000) == NULL, "alloc needing a block fails");
	is_int(mem_count(), 1, "it tried the heap once");
	p = arena_alloc(a, 16);
	ok(p != NULL, "alloc fitting the first block still works");
	mem_fail_at(1, 1);
	ok(arena_strdup(a, "a string longer than what is left in the block"
	    " of sixty-four bytes") == NULL, "strdup needing a block fails");
	ok(arena_printf(a, "%0100d", 7) == NULL,
	    "printf needing a block fails");
	mem_fail_at(0, 0);
	p = arena_alloc(a, 1000);
	ok(p != NULL, "alloc works again once failures stop");

	/* A defer that cannot be recorded runs at once. */
	arena_reset(a);
	ok(arena_alloc(a, 64) != NULL, "fill the first block");
	ncalls = 0;
	mem_fail_at(1, 0);
	ok(arena_defer(a, countfn, NULL) == QERR_NOMEM,
	    "defer without memory returns QERR_NOMEM");
	is_int(ncalls, 1, "and ran fn at once");
	mem_fail_at(0, 0);
	arena_reset(a);
	is_int(ncalls, 1, "and does not run it again at reset");

	/* Same when it is the limit that refuses. */
	arena_free(a);
	a = arena_new(1024, 32);
	ok(a != NULL && arena_alloc(a, 32) != NULL, "fill to the limit");
	if (a == NULL)
		return;
	ncalls = 0;
	ok(arena_defer(a, freefn, mem_malloc(100)) == QERR_NOMEM,
	    "defer over the limit returns QERR_NOMEM");
	is_int(ncalls, 1, "and freed the object at once");
	arena_reset(a);
	is_int(ncalls, 1, "nothing more at reset");
	arena_free(a);

	/* mem_fail_at itself. */
	mem_fail_at(2, 0);
	p = mem_malloc(1);
	ok(p != NULL, "allocation 1 of fail_at(2) works");
	mem_free(p);
	ok(mem_malloc(1) == NULL, "allocation 2 fails");
	p = mem_malloc(1);
	ok(p != NULL, "allocation 3 works when not sticky");
	mem_free(p);
	mem_fail_at(2, 1);
	p = mem_calloc(1, 1);
	ok(p != NULL, "calloc 1 of sticky fail_at(2) works");
	mem_free(p);
	ok(mem_calloc(1, 1) == NULL, "calloc 2 fails");
	ok(mem_strdup("x") == NULL, "strdup 3 fails (sticky)");
	ok(mem_realloc(NULL, 8) == NULL, "realloc 4 fails (sticky)");
	mem_fail_at(0, 0);
	p = mem_strdup("back");
	is_str((const char *)p, "back", "mem_strdup once disabled");
	mem_free(p);
}

int
main(void)
{

	test_alloc();
	test_growth();
	test_limit();
	test_defer();
	test_cycles();
	test_failures();
	return tap_done();
}
