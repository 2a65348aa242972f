/*
 * Unit tests of the compiled-in OpenAPI document (openapi_doc.c, made
 * from openapi.yaml) against the route table and the body tables: it is
 * valid JSON; its operations are exactly the routes (plus a HEAD beside
 * every GET), both ways; each operation's security says what the route's
 * auth level does; every operation lists the 405 of its path; and each
 * request body schema has the fields, bounds and flags of the table that
 * validates it.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <jansson.h>

#include "openapi.h"
#include "route.h"
#include "tap.h"
#include "valid.h"

static int	 oas_path(const char *, char *, size_t);
static void	 oas_method(enum http_method, char *, size_t);
static int	 is_operation(const char *);
static const struct route *find_route(const char *, const char *);
static json_t	*deref(json_t *, json_t *);
static json_t	*operation(json_t *, const char *, const char *);

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

/*
 * The routes[] entry that answers this OpenAPI path and method, or NULL.
 * "head" is answered by the GET route (route_match does so), so it finds
 * that one. The result is borrowed from routes[].
 */
static const struct route *
find_route(const char *path, const char *method)
{
	char	 p[256], m[16];
	size_t	 i;

	if (strcmp(method, "head") == 0)
		method = "get";
	for (i = 0; i < nroutes; i++) {
		if (!oas_path(routes[i].path, p, sizeof(p)))
			continue;
		oas_method(routes[i].method, m, sizeof(m));
		if (strcmp(p, path) == 0 && strcmp(m, method) == 0)
			return &routes[i];
	}
	return NULL;
}

/*
 * Follows local "$ref"s ("#/components/schemas/Name") from node until it
 * reaches an object without one. Returns that object (borrowed from doc),
 * or NULL when a reference does not resolve or the chain is too long.
 */
static json_t *
deref(json_t *doc, json_t *node)
{
	const char	*ref, *p, *slash;
	char		 key[128];
	size_t		 len;
	int		 hops;

	for (hops = 0; hops < 8; hops++) {
		if (!json_is_object(node))
			return NULL;
		ref = json_string_value(json_object_get(node, "$ref"));
		if (ref == NULL)
			return node;
		if (strncmp(ref, "#/", 2) != 0)
			return NULL;
		node = doc;
		for (p = ref + 2; *p != '\0'; p = *slash == '/' ? slash + 1 : slash) {
			slash = strchr(p, '/');
			if (slash == NULL)
				slash = p + strlen(p);
			len = (size_t)(slash - p);
			if (len >= sizeof(key))
				return NULL;
			memcpy(key, p, len);
			key[len] = '\0';
			if ((node = json_object_get(node, key)) == NULL)
				return NULL;
		}
	}
	return NULL;
}

/* paths[path][method], borrowed; NULL when the document has no such one. */
static json_t *
operation(json_t *doc, const char *path, const char *method)
{

	return json_object_get(json_object_get(json_object_get(doc, "paths"),
	    path), method);
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
	ok(find_route("/posts/{id}", "head") != NULL &&
	    find_route("/posts/{id}", "head")->method == METHOD_GET,
	    "head finds the GET route");
	ok(find_route("/auth/logout", "head") == NULL,
	    "no head where there is no GET");
}

static void
test_deref(void)
{
	json_error_t	 err;
	json_t		*doc, *n;

	doc = json_loads("{\"a\":{\"b\":{\"$ref\":\"#/c\"}},\"c\":{\"x\":1},"
	    "\"loop\":{\"$ref\":\"#/loop\"},\"bad\":{\"$ref\":\"#/nope\"}}",
	    0, &err);
	if (!ok(doc != NULL, "deref fixture parses"))
		return;
	n = deref(doc, json_object_get(json_object_get(doc, "a"), "b"));
	ok(json_integer_value(json_object_get(n, "x")) == 1, "deref follows");
	ok(deref(doc, json_object_get(doc, "loop")) == NULL, "deref stops a loop");
	ok(deref(doc, json_object_get(doc, "bad")) == NULL,
	    "deref of a missing target is NULL");
	json_decref(doc);
}

static json_t *
test_document(void)
{
	json_error_t	 err;
	json_t		*doc, *v;
	const char	*s;
	size_t		 i;

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

	/*
	 * Relative server URLs resolve against where the document was
	 * fetched, so they follow the mount point; "/" would not.
	 */
	v = json_object_get(doc, "servers");
	ok(json_array_size(v) == 2, "two servers: %zu", json_array_size(v));
	for (i = 0; i < json_array_size(v); i++) {
		s = json_string_value(json_object_get(json_array_get(v, i),
		    "url"));
		ok(s != NULL && (strcmp(s, ".") == 0 ||
		    strncmp(s, "./", 2) == 0), "servers[%zu] is relative: %s",
		    i, s != NULL ? s : "(none)");
	}
	return doc;
}

/* Every route is an operation of the document; every GET has a HEAD. */
static void
test_routes_documented(json_t *doc)
{
	char	 p[256], m[16];
	size_t	 i;

	for (i = 0; i < nroutes; i++) {
		if (!ok(oas_path(routes[i].path, p, sizeof(p)),
		    "routes[%zu] %s converts", i, routes[i].path))
			continue;
		oas_method(routes[i].method, m, sizeof(m));
		ok(json_is_object(operation(doc, p, m)),
		    "route %s %s is documented as paths[\"%s\"].%s",
		    req_method_name(routes[i].method), routes[i].path, p, m);
		/* Allow lists HEAD beside GET: the document says so too. */
		if (routes[i].method == METHOD_GET)
			ok(json_is_object(operation(doc, p, "head")),
			    "HEAD %s is documented beside its GET", p);
	}
}

/*
 * Checks one operation's security against the auth level of the route
 * that answers it: public routes say `security: []`, optional ones list
 * `{}` and a scheme, the others only schemes. The operation's own list
 * wins over the document's.
 */
static void
check_security(json_t *doc, const char *path, const char *method,
    json_t *op, enum route_auth auth)
{
	json_t		*sec, *req;
	const char	*name;
	json_t		*scopes;
	size_t		 i;
	int		 anon, named, known;

	sec = json_object_get(op, "security");
	if (auth == ROUTE_NONE) {
		ok(json_is_array(sec) && json_array_size(sec) == 0,
		    "%s %s is public: its own security is []", method, path);
		return;
	}
	if (sec == NULL)
		sec = json_object_get(doc, "security");
	anon = named = 0;
	known = 1;
	json_array_foreach(sec, i, req) {
		if (json_object_size(req) == 0)
			anon = 1;
		json_object_foreach(req, name, scopes) {
			named = 1;
			if (json_object_get(json_object_get(json_object_get(
			    doc, "components"), "securitySchemes"), name) == NULL)
				known = 0;
		}
	}
	ok(known, "%s %s names only defined security schemes", method, path);
	if (auth == ROUTE_OPTIONAL)
		ok(anon && named, "%s %s takes an optional session: {} and a "
		    "scheme", method, path);
	else
		ok(!anon && named, "%s %s needs a session: schemes, no {}",
		    method, path);
}

/*
 * Every operation of the document is a route (HEAD: its path has a GET),
 * says the route's security, and lists 405: the answer of its path to
 * any other method, with Allow. A HEAD response never has a body.
 */
static void
test_operations(json_t *doc)
{
	const struct route	*rt;
	const char		*path, *key, *code;
	json_t			*item, *op, *resp, *r405;
	int			 nops;

	nops = 0;
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		ok(json_is_object(item), "paths[\"%s\"] is an object", path);
		json_object_foreach(item, key, op) {
			if (!is_operation(key))
				continue;
			nops++;
			rt = find_route(path, key);
			if (!ok(rt != NULL, "operation %s %s has a route",
			    key, path))
				continue;
			check_security(doc, path, key, op, rt->auth);
			r405 = deref(doc, json_object_get(json_object_get(op,
			    "responses"), "405"));
			ok(json_is_object(json_object_get(json_object_get(r405,
			    "headers"), "Allow")),
			    "%s %s lists 405 with an Allow header", key, path);
			if (strcmp(key, "head") != 0)
				continue;
			json_object_foreach(json_object_get(op, "responses"),
			    code, resp)
				ok(json_object_get(deref(doc, resp),
				    "content") == NULL,
				    "HEAD %s %s has no body", path, code);
		}
	}
	ok(nops > 0, "the document has operations: %d", nops);
}

/*
 * The request body schema of one route against its field table: the
 * same property names, required ones and nullable ones, the same length
 * bounds, a description that says "Trimmed first" exactly for the
 * trimmed fields, and no `default` (generated clients would make the
 * property required) and no `format` stricter than the rules.
 */
static void
check_body(json_t *doc, const char *path, const char *method,
    const struct body_spec *spec)
{
	const struct field	*f;
	json_t			*op, *rb, *schema, *props, *req, *p, *v;
	const char		*name, *desc, *fmt;
	size_t			 i, j, nreq;
	int			 required;

	op = operation(doc, path, method);
	rb = deref(doc, json_object_get(op, "requestBody"));
	if (spec == NULL) {
		ok(rb == NULL, "%s %s documents no body", method, path);
		return;
	}
	ok(json_is_true(json_object_get(rb, "required")),
	    "%s %s: its body is required", method, path);
	schema = deref(doc, json_object_get(json_object_get(json_object_get(
	    rb, "content"), "application/json"), "schema"));
	if (!ok(schema != NULL, "%s %s: body schema resolves", method, path))
		return;
	ok(json_is_false(json_object_get(schema, "additionalProperties")),
	    "%s %s: unknown fields are refused", method, path);
	props = json_object_get(schema, "properties");
	req = json_object_get(schema, "required");
	is_int(json_object_size(props), spec->nfields, "number of fields");
	nreq = 0;
	for (i = 0; i < spec->nfields; i++) {
		f = &spec->fields[i];
		p = deref(doc, json_object_get(props, f->name));
		if (!ok(p != NULL, "%s %s: field %s is documented", method,
		    path, f->name))
			continue;
		required = 0;
		json_array_foreach(req, j, v)
			if (strcmp(json_string_value(v), f->name) == 0)
				required = 1;
		nreq += (size_t)required;
		ok(required == ((f->flags & F_REQUIRED) != 0),
		    "%s %s: %s is %srequired", method, path, f->name,
		    (f->flags & F_REQUIRED) ? "" : "not ");
		ok(json_is_true(json_object_get(p, "nullable")) ==
		    ((f->flags & F_NULLABLE) != 0),
		    "%s %s: %s is %snullable", method, path, f->name,
		    (f->flags & F_NULLABLE) ? "" : "not ");
		ok(json_object_get(p, "default") == NULL &&
		    json_object_get(json_object_get(props, f->name),
		    "default") == NULL, "%s %s: %s has no default", method,
		    path, f->name);
		fmt = json_string_value(json_object_get(p, "format"));
		ok(fmt == NULL || strcmp(fmt, "password") == 0,
		    "%s %s: %s has no format stricter than its rules: %s",
		    method, path, f->name, fmt != NULL ? fmt : "none");
		desc = json_string_value(json_object_get(p, "description"));
		ok((desc != NULL && strstr(desc, "Trimmed first") != NULL) ==
		    ((f->flags & F_TRIM) != 0),
		    "%s %s: %s is described as %strimmed first", method, path,
		    f->name, (f->flags & F_TRIM) ? "" : "not ");
		switch (f->type) {
		case FT_TEXT:
		case FT_PASSWORD:
			is_int(json_integer_value(json_object_get(p,
			    "minLength")), f->min, f->name);
			is_int(json_integer_value(json_object_get(p,
			    "maxLength")), f->max, f->name);
			break;
		case FT_EMAIL:
		case FT_URL:
			/* Bytes: maxLength (code points) bounds it from above. */
			is_int(json_integer_value(json_object_get(p,
			    "maxLength")), f->max, f->name);
			ok(json_string_value(json_object_get(p, "pattern")) !=
			    NULL, "%s has a pattern", f->name);
			break;
		case FT_TOKEN:
			is_int(json_integer_value(json_object_get(p,
			    "minLength")), 43, f->name);
			is_int(json_integer_value(json_object_get(p,
			    "maxLength")), 43, f->name);
			is_str(json_string_value(json_object_get(p, "pattern")),
			    "^[A-Za-z0-9_-]{43}$", f->name);
			break;
		case FT_ROLE:
			ok(json_array_size(json_object_get(p, "enum")) == 2,
			    "%s is an enum of two", f->name);
			break;
		case FT_BOOL:
			is_str(json_string_value(json_object_get(p, "type")),
			    "boolean", f->name);
			break;
		case FT_OTP:
			is_str(json_string_value(json_object_get(p, "pattern")),
			    "^[0-9]{6}$", f->name);
			is_int(json_integer_value(json_object_get(p,
			    "minLength")), 6, f->name);
			is_int(json_integer_value(json_object_get(p,
			    "maxLength")), 6, f->name);
			break;
		case FT_OPAQUE:
			/* Any string: the handler judges it (401, never 400). */
			is_str(json_string_value(json_object_get(p, "type")),
			    "string", f->name);
			ok(json_object_get(p, "pattern") == NULL &&
			    json_object_get(p, "maxLength") == NULL,
			    "%s is any string", f->name);
			break;
		case FT_INT:
			is_str(json_string_value(json_object_get(p, "type")),
			    "integer", f->name);
			is_int(json_integer_value(json_object_get(p,
			    "minimum")), f->min, f->name);
			is_int(json_integer_value(json_object_get(p,
			    "maximum")), f->max, f->name);
			break;
		}
	}
	is_int(json_array_size(req), nreq, "no other required field");
	json_object_foreach(props, name, v) {
		for (i = 0; i < spec->nfields; i++)
			if (strcmp(spec->fields[i].name, name) == 0)
				break;
		ok(i < spec->nfields, "%s %s: documented field %s is in the "
		    "table", method, path, name);
	}
}

static void
test_bodies(json_t *doc)
{
	char	 p[256], m[16];
	size_t	 i;

	for (i = 0; i < nroutes; i++) {
		if (!oas_path(routes[i].path, p, sizeof(p)))
			continue;
		oas_method(routes[i].method, m, sizeof(m));
		check_body(doc, p, m, routes[i].body);
	}
}

/*
 * `details` is always sent with VALIDATION_ERROR: generated clients must
 * not see it as optional.
 */
static void
test_validation_error(json_t *doc)
{
	json_t	*s, *v;
	size_t	 i;
	int	 has;

	s = json_object_get(json_object_get(json_object_get(doc,
	    "components"), "schemas"), "ValidationError");
	has = 0;
	json_array_foreach(json_object_get(s, "required"), i, v)
		if (strcmp(json_string_value(v), "details") == 0)
			has = 1;
	ok(has, "ValidationError requires details");
}

int
main(void)
{
	json_t	*doc;

	test_conversions();
	test_deref();
	doc = test_document();
	if (doc != NULL && json_is_object(json_object_get(doc, "paths"))) {
		test_routes_documented(doc);
		test_operations(doc);
		test_bodies(doc);
		test_validation_error(doc);
	}
	json_decref(doc);
	return tap_done();
}
