/*
 * Batch mode (quire --batch N, off by default): a worker takes up to N
 * requests that are ready at once and runs their handlers side by side
 * as coroutines. A handler's plain read joins its connection's pipeline
 * and the handler waits; once every handler waits or is done, the
 * pipelines are sent in one round trip each and read back, and the
 * handlers go on. Writes and transactions run as they do one at a time,
 * after what is outstanding on their connection has been read back.
 *
 * The cost: a worker holds up to N requests, and a worker that dies
 * takes all of them with it.
 */
#ifndef QUIRE_BATCH_H
#define QUIRE_BATCH_H

#include "req.h"

#define BATCH_MAX	64

/* Sets up n coroutine stacks and the database hooks. Returns 0 or -1. */
int	batch_init(int n);
void	batch_free(void);

/* Runs app_handle() on each of the n requests, interleaved at their reads. */
void	batch_run(struct req **rs, int n);

#endif
