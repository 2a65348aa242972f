/*
 * A request for the unit tests, set up against a minimal configuration
 * (a primary URL and nothing else) and its own arena.
 */
#ifndef QUIRE_TEST_FIXTURE_H
#define QUIRE_TEST_FIXTURE_H

#include "arena.h"
#include "conf.h"
#include "req.h"
#include "tap.h"
#include "table.h"

struct fixture {
	struct conf	 c;
	struct arena	*a;
	struct req	 r;
};

/* Sets f up; returns 0, or -1 after reporting a failed check. */
static inline int
fixture_init(struct fixture *f)
{
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", "postgresql://db/quire" },
		{ NULL, NULL }
	};
	char		 err[256];

	err[0] = '\0';
	if (conf_parse(&f->c, table_get, env, err, sizeof(err)) != QERR_OK) {
		ok(0, "conf_parse: %s", err);
		return -1;
	}
	if ((f->a = arena_new(4096, 1 << 20)) == NULL) {
		ok(0, "arena_new");
		conf_free(&f->c);
		return -1;
	}
	if (!ok(req_setup(&f->r, &f->c, NULL, f->a) == QERR_OK, "req_setup")) {
		arena_free(f->a);
		conf_free(&f->c);
		return -1;
	}
	return 0;
}

static inline void
fixture_free(struct fixture *f)
{

	req_teardown(&f->r);
	arena_free(f->a);
	conf_free(&f->c);
}

#endif
