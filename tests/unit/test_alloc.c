/*
 * Allocation failure: for a request of each route kind, make the N-th
 * allocation fail, for every N the request makes. Every answer must be
 * the normal one or a 500/503 envelope, nothing may leak (the suite runs
 * under valgrind and ASan) and the next request must be served normally.
 * The database is unreachable (a socket path that does not exist), so
 * routes that need it answer 503 quickly.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "app.h"
#include "arena.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "req.h"
#include "resp.h"
#include "tap.h"

struct body {
	const char	*p;
	size_t		 left;
};

static long
body_read(void *ctx, char *dst, size_t n)
{
	struct body	*b = ctx;

	if (n > b->left)
		n = b->left;
	memcpy(dst, b->p, n);
	b->p += n;
	b->left -= n;
	return (long)n;
}

static const char *
get(const char *name, void *arg)
{

	(void)arg;
	if (strcmp(name, "QUIRE_PRIMARY_URL") == 0)
		return "host=/nonexistent/quire-test port=1 dbname=x";
	return NULL;
}

struct sample {
	int		 line;
	const char	*method;
	const char	*path;
	const char	*query;
	const char	*ctype;
	const char	*body;
	int		 status;	/* the answer without failures */
};

static const struct sample samples[] = {
	{ __LINE__, "GET", "/health", "", NULL, NULL, 200 },
	{ __LINE__, "GET", "/v1/nope", "", NULL, NULL, 404 },
	{ __LINE__, "PUT", "/posts", "", NULL, NULL, 405 },
	{ __LINE__, "GET", "/metrics", "", NULL, NULL, 200 },
	{ __LINE__, "GET", "/openapi.json", "", NULL, NULL, 200 },
	{ __LINE__, "POST", "/auth/login", "", "text/plain", "{}", 415 },
	{ __LINE__, "POST", "/auth/login", "", "application/json", "[1,2", 400 },
	{ __LINE__, "POST", "/auth/signup", "", "application/json",
	    "{\"name\":\"\",\"email\":\"a@b\",\"password\":\"x\",\"extra\":[1,{\"y\":2}]}", 400 },
	{ __LINE__, "POST", "/auth/signup", "", "application/json",
	    "{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"password\":\"password1\"}", 503 },
	{ __LINE__, "GET", "/posts", "limit=0&offset=x&cursor=zz", NULL, NULL, 400 },
	{ __LINE__, "GET", "/posts", "limit=5&q=hello", NULL, NULL, 503 },
	{ __LINE__, "GET", "/posts/0b6c2d0e-7a55-4f2b-8e55-3c2b1f0e9a11", "", NULL, NULL, 503 },
	{ __LINE__, "POST", "/posts", "", "application/json", "{\"title\":\"t\"}", 401 },
	{ __LINE__, "GET", "/health/db", "", NULL, NULL, 503 },
};

/*
 * Runs one sample with allocation failure armed at fail (0: none); then,
 * disarmed, checks the answer's shape. Returns the status; *nalloc is the
 * number of allocations the request made.
 */
static int
run(struct req *r, struct buf *out, const struct sample *s, unsigned long fail,
    unsigned long *nalloc, int *shape_ok)
{
	char		 cl[24], *env[12];
	char		 m[64], p[128], q[128], ct[64], len[48];
	struct body	 b;
	json_t		*j;
	const char	*body;
	size_t		 n, hdr;
	int		 st;

	n = 0;
	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", s->method);
	env[n++] = m;
	snprintf(p, sizeof(p), "PATH_INFO=%s", s->path);
	env[n++] = p;
	snprintf(q, sizeof(q), "QUERY_STRING=%s", s->query);
	env[n++] = q;
	if (s->ctype != NULL) {
		snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", s->ctype);
		env[n++] = ct;
	}
	b.p = s->body != NULL ? s->body : "";
	b.left = strlen(b.p);
	snprintf(cl, sizeof(cl), "%zu", b.left);
	snprintf(len, sizeof(len), "CONTENT_LENGTH=%s", cl);
	env[n++] = len;
	env[n] = NULL;
	mem_fail_at(fail, 0);
	if (req_begin(r, env, body_read, &b) == QERR_OK)
		app_handle(r);
	else
		resp_qerr(r, QERR_NOMEM);
	db_rollback(r);
	resp_render(r, out);
	*nalloc = mem_count();
	mem_fail_at(0, 0);
	st = r->out.status;
	*shape_ok = 0;
	if (buf_err(out) == QERR_OK && out->len > 8 &&
	    memcmp(out->p, "Status: ", 8) == 0 &&
	    (body = strstr(out->p, "\r\n\r\n")) != NULL) {
		hdr = (size_t)(body - out->p) + 4;
		if (strcmp(s->path, "/metrics") == 0 && st == 200)
			*shape_ok = 1;
		else if ((j = json_loadb(out->p + hdr, out->len - hdr, 0, NULL)) != NULL) {
			/* The raw OpenAPI document, or the envelope. */
			*shape_ok = json_is_object(j) &&
			    (json_is_boolean(json_object_get(j, "success")) ||
			    (st == 200 && json_is_string(json_object_get(j, "openapi"))));
			json_decref(j);
		}
	}
	req_end(r);
	buf_reset(out);
	return st;
}

int
main(void)
{
	struct conf	 c;
	struct db	 db;
	struct req	 r;
	struct arena	*a;
	struct buf	 out;
	char		 err[128];
	size_t		 i;
	unsigned long	 nalloc, n, k;
	int		 st, shape, bad;

	if (sodium_init() < 0 ||
	    conf_parse(&c, get, NULL, err, sizeof(err)) != QERR_OK ||
	    (a = arena_new(1024, 1 << 22)) == NULL) {
		ok(0, "set-up");
		return tap_done();
	}
	log_init(LVL__MAX, "test");	/* silence */
	json_set_alloc_funcs(mem_malloc, mem_free);
	db_init(&db, &c);
	if (req_setup(&r, &c, &db, a) != QERR_OK) {
		ok(0, "req_setup");
		return tap_done();
	}
	buf_init(&out, 1 << 24);
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];

		/* Unfailed run: the normal answer, and how many allocations it makes. */
		st = run(&r, &out, s, ULONG_MAX, &nalloc, &shape);
		tap_ok(st == s->status && shape, s->line, "%s %s: %d", s->method,
		    s->path, st);
		bad = 0;
		for (k = 1; k <= nalloc + 1; k++) {
			st = run(&r, &out, s, k, &n, &shape);
			if (!shape || (st != s->status && st != 500 && st != 503)) {
				tap_ok(0, s->line, "%s %s: allocation %lu failed: %d%s",
				    s->method, s->path, k, st, shape ? "" : " (bad shape)");
				bad = 1;
			}
		}
		tap_ok(!bad, s->line, "%s %s: each of %lu allocations failing "
		    "gives the answer, 500 or 503", s->method, s->path, nalloc);
		/* The worker is still serving. */
		st = run(&r, &out, s, 0, &n, &shape);
		tap_ok(st == s->status && shape, s->line, "%s %s: next request %d",
		    s->method, s->path, st);
	}
	buf_free(&out);
	db_close(&db);
	req_teardown(&r);
	arena_free(a);
	conf_free(&c);
	return tap_done();
}
