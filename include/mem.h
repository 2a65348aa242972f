/*
 * Allocation wrappers. Everything quire allocates itself goes through
 * these, so a test can make the N-th allocation fail (mem_fail_at) and
 * walk every failure path.
 */
#ifndef QUIRE_MEM_H
#define QUIRE_MEM_H

#include <stddef.h>

void	*mem_malloc(size_t);
void	*mem_calloc(size_t, size_t);
void	*mem_realloc(void *, size_t);
void	 mem_free(void *);
char	*mem_strdup(const char *);

/*
 * Test hook: make allocation number n (1-based, counted from this call)
 * fail, and every later one too when sticky is set. n == 0 disables it.
 */
void	 mem_fail_at(unsigned long n, int sticky);
unsigned long mem_count(void);

/*
 * Allocations that have failed so far (injected or real). A library
 * that reports out-of-memory like any other error (jansson's parser)
 * can be told apart by comparing this before and after the call.
 */
unsigned long mem_failures(void);

#endif
