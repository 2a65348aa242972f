/*
 * Unit tests of the compiled-in OpenAPI document (openapi_doc.c, made
 * from openapi.yaml): it is valid JSON, and its operations are exactly
 * the entries of the route table, both ways.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <jansson.h>

#include "openapi.h"
#include "route.h"
#include "tap.h"

/*
 * Operations the document may list before the route table has them: they
 * are reported as TAP diagnostics instead of failing.
 */
static const char *const pending[] = { "/metrics", "/openapi.json" };

/* The OpenAPI path of a route template: "/users/:id" -> "/users/{id}". */
static int
oas_path(const char *tpl, char *out, size_t outsz)
{
	size_t	 n;

	n = 0;
	while (*tpl != '\0') {
		if (tpl[0] == ':' && (n == 0 || out[n - 1] == '/')) {
			if (n + 1 >= outsz)
				return 0;
			out[n++] = '{';
			tpl++;
			while (*tpl != '\0' && *tpl != '/') {
				if (n + 1 >= outsz)
					return 0;
				out[n++] = *tpl++;
			}
			if (n + 1 >= outsz)
				return 0;
			out[n++] = '}';
			continue;
		}
		if (n + 1 >= outsz)
			return 0;
		out[n++] = *tpl++;
	}
	out[n] = '\0';
	return 1;
}

/* The lower-case OpenAPI name of a method: "GET" -> "get". */
static void
oas_method(enum http_method m, char *out, size_t outsz)
{
	const char	*s;
	size_t		 n;

	s = req_method_name(m);
	for (n = 0; s[n] != '\0' && n + 1 < outsz; n++)
		out[n] = (char)tolower((unsigned char)s[n]);
	out[n] = '\0';
}

static int
is_operation(const char *key)
{
	static const char *const ops[] = { "get", "put", "post", "delete",
	    "options", "head", "patch", "trace" };
	size_t	 i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(key, ops[i]) == 0)
			return 1;
	return 0;
}

static int
is_pending(const char *path)
{
	size_t	 i;

	for (i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		if (strcmp(path, pending[i]) == 0)
			return 1;
	return 0;
}

/* Returns 1 when some routes[] entry has this OpenAPI path and method. */
static int
has_route(const char *path, const char *method)
{
	char	 p[256], m[16];
	size_t	 i;

	for (i = 0; i < nroutes; i++) {
		if (!oas_path(routes[i].path, p, sizeof(p)))
			continue;
		oas_method(routes[i].method, m, sizeof(m));
		if (strcmp(p, path) == 0 && strcmp(m, method) == 0)
			return 1;
	}
	return 0;
}

static void
test_conversions(void)
{
	char	 buf[64];

	ok(oas_path("/users/:id", buf, sizeof(buf)), "convert /users/:id");
	is_str(buf, "/users/{id}", "oas_path");
	ok(oas_path("/health/db", buf, sizeof(buf)), "convert /health/db");
	is_str(buf, "/health/db", "oas_path");
	ok(oas_path("/a/:x/b/:y", buf, sizeof(buf)), "convert two params");
	is_str(buf, "/a/{x}/b/{y}", "oas_path");
	ok(!oas_path("/a/very/long/path", buf, 8), "too long is refused");
	oas_method(METHOD_DELETE, buf, sizeof(buf));
	is_str(buf, "delete", "oas_method");
	oas_method(METHOD_PATCH, buf, sizeof(buf));
	is_str(buf, "patch", "oas_method");
}

static json_t *
test_document(void)
{
	json_error_t	 err;
	json_t		*doc, *v;
	const char	*s;

	is_int(openapi_json_len, strlen(openapi_json), "openapi_json_len");
	doc = json_loadb(openapi_json, openapi_json_len,
	    JSON_REJECT_DUPLICATES, &err);
	if (!ok(doc != NULL && json_is_object(doc),
	    "openapi_json is a JSON object (%s at %d)",
	    doc == NULL ? err.text : "ok", doc == NULL ? err.position : 0)) {
		json_decref(doc);
		return NULL;
	}
	s = json_string_value(json_object_get(doc, "openapi"));
	ok(s != NULL && strncmp(s, "3.", 2) == 0, "openapi is 3.x: %s",
	    s != NULL ? s : "(none)");
	v = json_object_get(doc, "info");
	is_str(json_string_value(json_object_get(v, "version")),
	    PACKAGE_VERSION, "info.version is the package version");
	ok(json_is_object(json_object_get(doc, "paths")), "paths is an object");
	return doc;
}

/* Every route is an operation of the document. */
static void
test_routes_documented(json_t *paths)
{
	json_t	*item;
	char	 p[256], m[16];
	size_t	 i;

	for (i = 0; i < nroutes; i++) {
		if (!ok(oas_path(routes[i].path, p, sizeof(p)),
		    "routes[%zu] %s converts", i, routes[i].path))
			continue;
		oas_method(routes[i].method, m, sizeof(m));
		item = json_object_get(paths, p);
		ok(json_is_object(json_object_get(item, m)),
		    "route %s %s is documented as paths[\"%s\"].%s",
		    req_method_name(routes[i].method), routes[i].path, p, m);
	}
}

/* Every operation of the document is a route. */
static void
test_operations_routed(json_t *paths)
{
	const char	*path, *key;
	json_t		*item, *op;
	int		 nops;

	nops = 0;
	json_object_foreach(paths, path, item) {
		ok(json_is_object(item), "paths[\"%s\"] is an object", path);
		json_object_foreach(item, key, op) {
			if (!is_operation(key))
				continue;
			nops++;
			if (has_route(path, key))
				ok(1, "operation %s %s has a route", key, path);
			else if (is_pending(path))
				printf("# operation %s %s has no route yet\n",
				    key, path);
			else
				ok(0, "operation %s %s has a route", key, path);
		}
	}
	ok(nops > 0, "the document has operations: %d", nops);
}

int
main(void)
{
	json_t	*doc, *paths;

	test_conversions();
	doc = test_document();
	paths = json_object_get(doc, "paths");
	if (json_is_object(paths)) {
		test_routes_documented(paths);
		test_operations_routed(paths);
	}
	json_decref(doc);
	return tap_done();
}
