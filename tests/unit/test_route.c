/*
 * Unit tests of the route matcher (src/route.c), on the real routes[]
 * table and on a small local one with ":id" templates.
 */
#include "config.h"

#include <string.h>

#include "route.h"
#include "tap.h"
#include "valid.h"

static int
h_dummy(struct req *r)
{

	(void)r;
	return 0;
}

static const struct route local[] = {
	{ METHOD_GET,	 "/posts",	   ROUTE_OPTIONAL, NULL, h_dummy },
	{ METHOD_POST,	 "/posts",	   ROUTE_SESSION,  NULL, h_dummy },
	{ METHOD_GET,	 "/posts/:id",	   ROUTE_OPTIONAL, NULL, h_dummy },
	{ METHOD_PATCH,	 "/posts/:id",	   ROUTE_SESSION,  NULL, h_dummy },
	{ METHOD_DELETE, "/posts/:id",	   ROUTE_SESSION,  NULL, h_dummy },
	{ METHOD_GET,	 "/users/:id/posts", ROUTE_SESSION, NULL, h_dummy },
	{ METHOD_POST,	 "/login",	   ROUTE_NONE,	  NULL, h_dummy },
	{ METHOD_GET,	 "/",		   ROUTE_NONE,	  NULL, h_dummy },
};
static const size_t nlocal = sizeof(local) / sizeof(local[0]);

static void
test_local(void)
{
	static const struct {
		int		 line;
		enum http_method m;
		const char	*path;
		enum route_match want;
		int		 idx;		/* local[] index when found */
		const char	*id;		/* NULL: no id */
		const char	*allow;		/* on ROUTE_BAD_METHOD */
	} rows[] = {
		{ __LINE__, METHOD_GET, "/posts", ROUTE_FOUND, 0, NULL, NULL },
		{ __LINE__, METHOD_HEAD, "/posts", ROUTE_FOUND, 0, NULL, NULL },
		{ __LINE__, METHOD_POST, "/posts", ROUTE_FOUND, 1, NULL, NULL },
		{ __LINE__, METHOD_PUT, "/posts", ROUTE_BAD_METHOD, 0, NULL,
		    "GET, HEAD, POST" },
		{ __LINE__, METHOD_DELETE, "/posts", ROUTE_BAD_METHOD, 0, NULL,
		    "GET, HEAD, POST" },
		{ __LINE__, METHOD_OTHER, "/posts", ROUTE_BAD_METHOD, 0, NULL,
		    "GET, HEAD, POST" },
		{ __LINE__, METHOD_GET, "/posts/abc", ROUTE_FOUND, 2, "abc",
		    NULL },
		{ __LINE__, METHOD_HEAD, "/posts/abc", ROUTE_FOUND, 2, "abc",
		    NULL },
		{ __LINE__, METHOD_PATCH, "/posts/123e4567-e89b-12d3-a456-"
		    "426614174000", ROUTE_FOUND, 3,
		    "123e4567-e89b-12d3-a456-426614174000", NULL },
		{ __LINE__, METHOD_DELETE, "/posts/x", ROUTE_FOUND, 4, "x",
		    NULL },
		{ __LINE__, METHOD_POST, "/posts/abc", ROUTE_BAD_METHOD, 0,
		    NULL, "GET, HEAD, PATCH, DELETE" },
		{ __LINE__, METHOD_OPTIONS, "/posts/abc", ROUTE_BAD_METHOD, 0,
		    NULL, "GET, HEAD, PATCH, DELETE" },
		{ __LINE__, METHOD_GET, "/login", ROUTE_BAD_METHOD, 0, NULL,
		    "POST" },
		{ __LINE__, METHOD_HEAD, "/login", ROUTE_BAD_METHOD, 0, NULL,
		    "POST" },
		{ __LINE__, METHOD_GET, "/users/u1/posts", ROUTE_FOUND, 5,
		    "u1", NULL },
		{ __LINE__, METHOD_POST, "/users/u1/posts", ROUTE_BAD_METHOD,
		    0, NULL, "GET, HEAD" },
		{ __LINE__, METHOD_GET, "/", ROUTE_FOUND, 7, NULL, NULL },
		{ __LINE__, METHOD_GET, "/posts/a/b", ROUTE_NOT_FOUND, 0,
		    NULL, NULL },
		{ __LINE__, METHOD_PATCH, "/posts/a/b", ROUTE_NOT_FOUND, 0,
		    NULL, NULL },
		{ __LINE__, METHOD_GET, "/posts/", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "/posts//", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "/posts//x", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "/users//posts", ROUTE_NOT_FOUND, 0,
		    NULL, NULL },
		{ __LINE__, METHOD_GET, "/users/u1", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "/users/u1/posts/x", ROUTE_NOT_FOUND,
		    0, NULL, NULL },
		{ __LINE__, METHOD_GET, "/users/u1/postsx", ROUTE_NOT_FOUND,
		    0, NULL, NULL },
		{ __LINE__, METHOD_GET, "/postsx", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "/post", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "/Posts", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "posts", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
		{ __LINE__, METHOD_GET, "", ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ __LINE__, METHOD_GET, "//", ROUTE_NOT_FOUND, 0, NULL, NULL },
		{ __LINE__, METHOD_GET, "/:id", ROUTE_NOT_FOUND, 0, NULL,
		    NULL },
	};
	const struct route	*rt;
	const char		*id;
	size_t			 i, idlen;
	char			 allow[64];
	enum route_match	 got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rt = NULL;
		id = NULL;
		idlen = 99;
		memset(allow, '#', sizeof(allow));
		allow[sizeof(allow) - 1] = '\0';
		got = route_match(local, nlocal, rows[i].m, rows[i].path, &rt,
		    &id, &idlen, allow, sizeof(allow));
		tap_ok(got == rows[i].want, rows[i].line,
		    "%s %s: match %d want %d", req_method_name(rows[i].m),
		    rows[i].path, (int)got, (int)rows[i].want);
		if (got != rows[i].want)
			continue;
		switch (got) {
		case ROUTE_FOUND:
			tap_ok(rt == &local[rows[i].idx], rows[i].line,
			    "route index %d", (int)(rt != NULL ? rt - local :
			    -1));
			if (rows[i].id == NULL) {
				tap_ok(id == NULL, rows[i].line, "no id");
				break;
			}
			tap_ok(id != NULL && idlen == strlen(rows[i].id) &&
			    memcmp(id, rows[i].id, idlen) == 0, rows[i].line,
			    "id \"%.*s\" want \"%s\"", id != NULL ? (int)idlen :
			    6, id != NULL ? id : "(null)", rows[i].id);
			/* The id points into the path itself. */
			tap_ok(id >= rows[i].path && id + idlen <=
			    rows[i].path + strlen(rows[i].path), rows[i].line,
			    "id points into path");
			break;
		case ROUTE_BAD_METHOD:
			tap_ok(strcmp(allow, rows[i].allow) == 0, rows[i].line,
			    "Allow \"%s\" want \"%s\"", allow, rows[i].allow);
			break;
		case ROUTE_NOT_FOUND:
			tap_ok(rt == NULL, rows[i].line, "no route");
			break;
		}
	}

	/* An Allow buffer exactly big enough. */
	{
		char	 small[sizeof("GET, HEAD, POST")];

		got = route_match(local, nlocal, METHOD_PUT, "/posts", &rt, &id,
		    &idlen, small, sizeof(small));
		ok(got == ROUTE_BAD_METHOD && strcmp(small,
		    "GET, HEAD, POST") == 0, "Allow in an exact buffer: \"%s\"",
		    small);
	}
}

/* The real table of the application: the contract's routes. */
static void
test_real(void)
{
	static const struct {
		int		 line;
		enum http_method m;
		const char	*path;
		enum route_match want;
		const char	*tpl;		/* the route's template */
		const char	*id;		/* NULL: none */
		const struct body_spec *body;
		enum route_auth	 auth;
		const char	*allow;		/* on ROUTE_BAD_METHOD */
	} rows[] = {
		{ __LINE__, METHOD_GET, "/health", ROUTE_FOUND, "/health", NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_HEAD, "/health", ROUTE_FOUND, "/health",
		    NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/health/db", ROUTE_FOUND, "/health/db",
		    NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/metrics", ROUTE_FOUND, "/metrics",
		    NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/openapi.json", ROUTE_FOUND,
		    "/openapi.json", NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_POST, "/auth/signup", ROUTE_FOUND,
		    "/auth/signup", NULL, &body_signup, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_POST, "/auth/login", ROUTE_FOUND,
		    "/auth/login", NULL, &body_login, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_POST, "/auth/logout", ROUTE_FOUND,
		    "/auth/logout", NULL, NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_GET, "/auth/me", ROUTE_FOUND, "/auth/me",
		    NULL, NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_HEAD, "/auth/me", ROUTE_FOUND, "/auth/me",
		    NULL, NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_GET, "/users", ROUTE_FOUND, "/users", NULL,
		    NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_POST, "/users", ROUTE_FOUND, "/users", NULL,
		    &body_user_create, ROUTE_ADMIN, NULL },
		{ __LINE__, METHOD_GET, "/users/u-1", ROUTE_FOUND, "/users/:id",
		    "u-1", NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_PATCH, "/users/u-1", ROUTE_FOUND,
		    "/users/:id", "u-1", &body_user_patch, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_DELETE, "/users/u-1", ROUTE_FOUND,
		    "/users/:id", "u-1", NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_GET, "/posts", ROUTE_FOUND, "/posts", NULL,
		    NULL, ROUTE_OPTIONAL, NULL },
		{ __LINE__, METHOD_POST, "/posts", ROUTE_FOUND, "/posts", NULL,
		    &body_post_create, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_GET, "/posts/not-a-uuid", ROUTE_FOUND,
		    "/posts/:id", "not-a-uuid", NULL, ROUTE_OPTIONAL, NULL },
		{ __LINE__, METHOD_HEAD, "/posts/p", ROUTE_FOUND, "/posts/:id",
		    "p", NULL, ROUTE_OPTIONAL, NULL },
		{ __LINE__, METHOD_PATCH, "/posts/p", ROUTE_FOUND, "/posts/:id",
		    "p", &body_post_patch, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_DELETE, "/posts/p", ROUTE_FOUND,
		    "/posts/:id", "p", NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_GET, "/auth/sessions", ROUTE_FOUND,
		    "/auth/sessions", NULL, NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_POST, "/auth/sessions/revoke-others",
		    ROUTE_FOUND, "/auth/sessions/revoke-others", NULL, NULL,
		    ROUTE_SESSION, NULL },
		/* Not a session id: the handler answers 404. */
		{ __LINE__, METHOD_DELETE, "/auth/sessions/revoke-others",
		    ROUTE_FOUND, "/auth/sessions/:id", "revoke-others", NULL,
		    ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_DELETE, "/auth/sessions/s-1", ROUTE_FOUND,
		    "/auth/sessions/:id", "s-1", NULL, ROUTE_SESSION, NULL },
		{ __LINE__, METHOD_GET, "/users/u-1/sessions", ROUTE_FOUND,
		    "/users/:id/sessions", "u-1", NULL, ROUTE_ADMIN, NULL },
		{ __LINE__, METHOD_DELETE, "/users/u-1/sessions", ROUTE_FOUND,
		    "/users/:id/sessions", "u-1", NULL, ROUTE_ADMIN, NULL },
		{ __LINE__, METHOD_POST, "/users/u-1/ban", ROUTE_FOUND,
		    "/users/:id/ban", "u-1", &body_ban, ROUTE_ADMIN, NULL },
		{ __LINE__, METHOD_DELETE, "/users/u-1/ban", ROUTE_FOUND,
		    "/users/:id/ban", "u-1", NULL, ROUTE_ADMIN, NULL },
		{ __LINE__, METHOD_GET, "/audit", ROUTE_FOUND, "/audit", NULL,
		    NULL, ROUTE_ADMIN, NULL },
		{ __LINE__, METHOD_GET, "/auth/sessions/s-1", ROUTE_BAD_METHOD,
		    NULL, NULL, NULL, ROUTE_NONE, "DELETE" },
		{ __LINE__, METHOD_GET, "/auth/sessions/revoke-others",
		    ROUTE_BAD_METHOD, NULL, NULL, NULL, ROUTE_NONE,
		    "POST, DELETE" },
		{ __LINE__, METHOD_POST, "/users/u-1/sessions", ROUTE_BAD_METHOD,
		    NULL, NULL, NULL, ROUTE_NONE, "GET, HEAD, DELETE" },
		{ __LINE__, METHOD_GET, "/users/u-1/ban", ROUTE_BAD_METHOD,
		    NULL, NULL, NULL, ROUTE_NONE, "POST, DELETE" },
		{ __LINE__, METHOD_POST, "/audit", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD" },
		{ __LINE__, METHOD_POST, "/health", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD" },
		{ __LINE__, METHOD_DELETE, "/health/db", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD" },
		{ __LINE__, METHOD_POST, "/metrics", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD" },
		{ __LINE__, METHOD_GET, "/auth/login", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "POST" },
		{ __LINE__, METHOD_HEAD, "/auth/signup", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "POST" },
		{ __LINE__, METHOD_GET, "/auth/logout", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "POST" },
		{ __LINE__, METHOD_POST, "/auth/me", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD" },
		{ __LINE__, METHOD_PUT, "/users", ROUTE_BAD_METHOD, NULL, NULL,
		    NULL, ROUTE_NONE, "GET, HEAD, POST" },
		{ __LINE__, METHOD_DELETE, "/posts", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD, POST" },
		{ __LINE__, METHOD_POST, "/users/u-1", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD, PATCH, DELETE" },
		{ __LINE__, METHOD_PUT, "/posts/p", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD, PATCH, DELETE" },
		{ __LINE__, METHOD_OTHER, "/posts/p", ROUTE_BAD_METHOD, NULL,
		    NULL, NULL, ROUTE_NONE, "GET, HEAD, PATCH, DELETE" },
		{ __LINE__, METHOD_GET, "/nope", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/healthz", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/health/", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/health/db/x", ROUTE_NOT_FOUND, NULL,
		    NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/HEALTH", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/auth", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_POST, "/auth/", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/posts/a/b", ROUTE_NOT_FOUND, NULL,
		    NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_DELETE, "/users/u-1/x", ROUTE_NOT_FOUND,
		    NULL, NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/posts/", ROUTE_NOT_FOUND, NULL, NULL,
		    NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/users//x", ROUTE_NOT_FOUND, NULL,
		    NULL, NULL, ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "/v1/health", ROUTE_NOT_FOUND, NULL,
		    NULL, NULL, ROUTE_NONE, NULL },	/* req_route_path strips /v1 */
		{ __LINE__, METHOD_GET, "/", ROUTE_NOT_FOUND, NULL, NULL, NULL,
		    ROUTE_NONE, NULL },
		{ __LINE__, METHOD_GET, "", ROUTE_NOT_FOUND, NULL, NULL, NULL,
		    ROUTE_NONE, NULL },
	};
	const struct route	*rt;
	const char		*id;
	size_t			 i, idlen;
	char			 allow[64];
	enum route_match	 got;

	ok(nroutes > 0, "routes[] is not empty");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rt = NULL;
		id = NULL;
		idlen = 0;
		allow[0] = '\0';
		got = route_match(routes, nroutes, rows[i].m, rows[i].path,
		    &rt, &id, &idlen, allow, sizeof(allow));
		tap_ok(got == rows[i].want, rows[i].line,
		    "%s %s: match %d want %d", req_method_name(rows[i].m),
		    rows[i].path, (int)got, (int)rows[i].want);
		if (got == ROUTE_FOUND && rows[i].want == ROUTE_FOUND) {
			tap_ok(rt != NULL && strcmp(rt->path, rows[i].tpl) == 0,
			    rows[i].line, "route \"%s\" want \"%s\"",
			    rt != NULL ? rt->path : "(null)", rows[i].tpl);
			tap_ok(rt != NULL && rt->method == (rows[i].m ==
			    METHOD_HEAD ? METHOD_GET : rows[i].m),
			    rows[i].line, "route method");
			tap_ok(rt != NULL && rt->body == rows[i].body,
			    rows[i].line, "body spec");
			tap_ok(rt != NULL && rt->auth == rows[i].auth,
			    rows[i].line, "auth %d want %d", rt != NULL ?
			    (int)rt->auth : -1, (int)rows[i].auth);
			tap_ok(rt != NULL && rt->handler != NULL, rows[i].line,
			    "has a handler");
			if (rows[i].id == NULL)
				tap_ok(id == NULL, rows[i].line, "no id");
			else
				tap_ok(id != NULL &&
				    idlen == strlen(rows[i].id) &&
				    memcmp(id, rows[i].id, idlen) == 0,
				    rows[i].line, "id \"%s\"", rows[i].id);
		}
		if (got == ROUTE_BAD_METHOD && rows[i].want == ROUTE_BAD_METHOD)
			tap_ok(strcmp(allow, rows[i].allow) == 0, rows[i].line,
			    "Allow \"%s\" want \"%s\"", allow, rows[i].allow);
	}

	/* Every entry is reachable: none is shadowed by an earlier one. */
	for (i = 0; i < nroutes; i++) {
		rt = NULL;
		got = route_match(routes, nroutes, routes[i].method,
		    routes[i].path, &rt, &id, &idlen, allow, sizeof(allow));
		ok(got == ROUTE_FOUND && rt == &routes[i],
		    "routes[%zu] %s %s reachable", i,
		    req_method_name(routes[i].method), routes[i].path);
		ok(routes[i].path[0] == '/' && (strlen(routes[i].path) == 1 ||
		    routes[i].path[strlen(routes[i].path) - 1] != '/'),
		    "routes[%zu] path is canonical", i);
	}
}

int
main(void)
{

	test_local();
	test_real();
	return tap_done();
}
