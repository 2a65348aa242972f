/*
 * Allocation wrappers with a failure-injection hook for tests.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

static unsigned long	 alloc_count;
static unsigned long	 failures;
static unsigned long	 fail_at;
static int		 fail_sticky;

static int
should_fail(void)
{

	alloc_count++;
	if (fail_at == 0)
		return 0;
	if (alloc_count == fail_at)
		return 1;
	return fail_sticky && alloc_count > fail_at;
}

void
mem_fail_at(unsigned long n, int sticky)
{

	alloc_count = 0;
	fail_at = n;
	fail_sticky = sticky;
}

unsigned long
mem_count(void)
{

	return alloc_count;
}

unsigned long
mem_failures(void)
{

	return failures;
}

static void *
counted(void *p)
{

	if (p == NULL)
		failures++;
	return p;
}

void *
mem_malloc(size_t n)
{

	if (should_fail())
		return counted(NULL);
	return counted(malloc(n == 0 ? 1 : n));
}

void *
mem_calloc(size_t n, size_t sz)
{

	if (should_fail())
		return counted(NULL);
	return counted(calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz));
}

void *
mem_realloc(void *p, size_t n)
{

	if (should_fail())
		return counted(NULL);
	return counted(realloc(p, n == 0 ? 1 : n));
}

void
mem_free(void *p)
{

	free(p);
}

char *
mem_strdup(const char *s)
{
	size_t	 n;
	char	*p;

	n = strlen(s) + 1;
	if ((p = mem_malloc(n)) == NULL)
		return NULL;
	memcpy(p, s, n);
	return p;
}
