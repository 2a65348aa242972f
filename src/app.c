/*
 * The checks every route needs, in one place, in the contract's order.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "app.h"
#include "arena.h"
#include "auth.h"
#include "bounds.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "resp.h"
#include "route.h"
#include "ryw.h"
#include "sesscache.h"
#include "shm.h"
#include "valid.h"

static void
json_release(void *p)
{

	json_decref(p);
}

/* Returns 0 when the request may proceed, else the answer's status. */
static int
check_auth(struct req *r)
{
	enum qerr	 e;

	if ((e = auth_resolve(r)) != QERR_OK)
		return resp_qerr(r, e);
	if (r->sess == NULL) {
		if (r->route->auth == ROUTE_OPTIONAL)
			return 0;
		return resp_error(r, ERR_UNAUTHORIZED, NULL);
	}
	if (auth_origin_ok(r) == -1)
		return resp_error(r, ERR_FORBIDDEN, "Origin not allowed");
	if (r->route->auth == ROUTE_ADMIN &&
	    strcmp(r->sess->user.role, "admin") != 0)
		return resp_error(r, ERR_FORBIDDEN, "Admin role required");
	return 0;
}

/*
 * 1 when the JSON text nests deeper than BOUND_JSON_DEPTH. A plain scan,
 * strings skipped, before the parser sees the text.
 */
static int
too_deep(const char *p, size_t n)
{
	size_t	 i;
	int	 depth, in_str;

	depth = in_str = 0;
	for (i = 0; i < n; i++) {
		if (in_str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_str = 0;
			continue;
		}
		switch (p[i]) {
		case '"':
			in_str = 1;
			break;
		case '[':
		case '{':
			if (++depth > BOUND_JSON_DEPTH)
				return 1;
			break;
		case ']':
		case '}':
			depth--;
			break;
		}
	}
	return 0;
}

/* 413, 415, INVALID_JSON, VALIDATION_ERROR, in that order. */
static int
check_body(struct req *r)
{
	json_error_t	 jerr;
	json_t		*j;
	enum qerr	 e;
	unsigned long	 failed;

	switch ((e = req_read_body(r))) {
	case QERR_OK:
		break;
	case QERR_TOOBIG:
		return resp_error(r, ERR_PAYLOAD_TOO_LARGE, NULL);
	case QERR_INVAL:
		return resp_error(r, ERR_INVALID_JSON, "Malformed Content-Length");
	default:
		return resp_qerr(r, e);
	}
	if (!req_is_json(req_param(r, "CONTENT_TYPE")))
		return resp_error(r, ERR_UNSUPPORTED_MEDIA_TYPE, NULL);
	if (too_deep(r->in.body, r->in.body_len))
		return resp_error(r, ERR_INVALID_JSON, "JSON nested too deeply");
	failed = mem_failures();
	j = json_loadb(r->in.body, r->in.body_len, JSON_REJECT_DUPLICATES, &jerr);
	/* The body may hold a password: keep no copy past parsing. */
	sodium_memzero(r->in.body, r->in.body_len);
	if (j == NULL)
		/* Running out of memory is ours to answer for, not the body's. */
		return mem_failures() != failed ? resp_qerr(r, QERR_NOMEM) :
		    resp_error(r, ERR_INVALID_JSON, NULL);
	if (arena_defer(r->arena, json_release, j) != QERR_OK)
		return resp_qerr(r, QERR_NOMEM);
	if (!json_is_object(j))
		return resp_error(r, ERR_INVALID_JSON, NULL);
	if (json_object_size(j) > BOUND_JSON_KEYS) {
		resp_detail(r, "(body)", "has too many fields");
		return resp_error(r, ERR_VALIDATION, NULL);
	}
	r->in.json = j;
	switch ((e = valid_body(r, r->route->body, j))) {
	case QERR_OK:
		return 0;
	case QERR_INVAL:
		return resp_error(r, ERR_VALIDATION, NULL);
	default:
		return resp_qerr(r, e);
	}
}

void
app_handle(struct req *r)
{
	const struct route	*rt;
	const char		*id;
	size_t			 idlen;
	char			 allow[64];

	/* TEST ONLY: off unless QUIRE_TEST_HOOKS=1 at start-up (shm.h). */
	if (shm_test_hooks())
		shm_test_hook(req_param(r, "HTTP_X_QUIRE_TEST"));
	switch (route_match(routes, nroutes, r->in.method, r->in.path, &rt, &id,
	    &idlen, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		resp_error(r, ERR_NOT_FOUND, "No such route");
		return;
	case ROUTE_BAD_METHOD:
		resp_header(r, "Allow", allow);
		resp_error(r, ERR_METHOD_NOT_ALLOWED, NULL);
		return;
	case ROUTE_FOUND:
		break;
	}
	r->route = rt;
	if (id != NULL && (r->id = arena_strndup(r->arena, id, idlen)) == NULL) {
		resp_qerr(r, QERR_NOMEM);
		return;
	}
	if (rt->auth != ROUTE_NONE && check_auth(r) != 0)
		return;
	if (rt->body != NULL && check_body(r) != 0)
		return;
	(void)rt->handler(r);
	/*
	 * Before the answer goes out: no worker may vouch for the old state.
	 * The floor first, then the generation: a worker that reads the new
	 * generation before its lookup then also reads the new floor, so it
	 * cannot fill its cache from a replica that has not replayed the
	 * change (with the generation first, a lookup in between did, and
	 * its entry was trusted for QUIRE_SESSION_CACHE_MS).
	 */
	ryw_note_writes(r);
	if (r->ryw.wrote && r->ryw.revoked)
		sesscache_invalidate();
}
