/*
 * The route table: every route of the API in one array, and the matcher
 * that turns method + path into a route, a 404 or a 405 with Allow.
 */
#ifndef QUIRE_ROUTE_H
#define QUIRE_ROUTE_H

#include <stddef.h>

#include "req.h"

/* Who may call a route (not auth.h's: ROUTE_ keeps them apart). */
enum route_auth {
	ROUTE_NONE,		/* no session looked up */
	ROUTE_OPTIONAL,		/* session used when present and valid */
	ROUTE_SESSION,		/* 401 without a valid session */
	ROUTE_ADMIN,		/* 401 without a session, 403 unless admin */
	ROUTE_AUTH__MAX
};

struct body_spec;

struct route {
	enum http_method	 method;
	const char		*path;		/* "/posts/:id" */
	enum route_auth		 auth;
	const struct body_spec	*body;		/* NULL: the route takes no body */
	int			(*handler)(struct req *);
};

enum route_match {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_BAD_METHOD
};

extern const struct route	routes[];
extern const size_t		nroutes;
/* Room for routes in fixed tables (metrics); route.c asserts it holds. */
#define ROUTE_MAX	47

/*
 * Matches method + path against table. On ROUTE_FOUND sets *rt and *id
 * (the ":id" segment, pointing into path, length in *idlen; NULL when
 * the route has none). On ROUTE_BAD_METHOD writes the Allow value
 * ("GET, POST") into allow. HEAD is answered like GET.
 */
enum route_match route_match(const struct route *table, size_t n,
		    enum http_method, const char *path,
		    const struct route **rt, const char **id, size_t *idlen,
		    char *allow, size_t allowsz);

#endif
