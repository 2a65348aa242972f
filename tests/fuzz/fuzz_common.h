/*
 * Shared set-up for the libFuzzer targets: a configuration whose
 * database is unreachable at once (a unix socket path that does not
 * exist), so handlers that reach the database answer 503 quickly and
 * everything before them is fuzzed for real.
 */
#ifndef QUIRE_FUZZ_COMMON_H
#define QUIRE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "arena.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "req.h"

static struct conf	 fz_conf;
static struct db	 fz_db;
static struct arena	*fz_arena;
static struct req	 fz_req;

static inline const char *
fz_get(const char *name, void *arg)
{

	(void)arg;
	if (strcmp(name, "QUIRE_PRIMARY_URL") == 0)
		return "host=/nonexistent/quire-fuzz port=1 dbname=x connect_timeout=1";
	if (strcmp(name, "QUIRE_ALLOWED_ORIGINS") == 0)
		return "https://app.example.com";
	if (strcmp(name, "QUIRE_TRUSTED_PROXIES") == 0)
		return "127.0.0.1";
	if (strcmp(name, "QUIRE_MAX_BODY") == 0)
		return "65536";
	return NULL;
}

/* Once per process: conf, arena, request buffers. Aborts on failure. */
static inline void
fz_setup(void)
{
	char	 err[256];

	if (fz_arena != NULL)
		return;
	if (sodium_init() < 0 ||
	    conf_parse(&fz_conf, fz_get, NULL, err, sizeof(err)) != QERR_OK ||
	    (fz_arena = arena_new(16 * 1024, 4 * 1024 * 1024)) == NULL)
		abort();
	log_init(LVL_ERROR, "fuzz");
	json_set_alloc_funcs(mem_malloc, mem_free);
	db_init(&fz_db, &fz_conf);
	if (req_setup(&fz_req, &fz_conf, &fz_db, fz_arena) != QERR_OK)
		abort();
}

/* A copy of data as a NUL-terminated string (caller frees). */
static inline char *
fz_str(const unsigned char *data, size_t n)
{
	char	*s;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

#endif
