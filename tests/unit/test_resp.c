/*
 * Unit tests of the response builder (src/resp.c): the CGI answer that
 * resp_render() writes for every kind of outcome, read back header by
 * header and with jansson for the body.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "conf.h"
#include "http.h"
#include "resp.h"
#include "tap.h"
#include "table.h"

#define REQID	"test-id-1"

/* A rendered answer split into its parts. */
struct answer {
	char		 status[64];	/* "200 OK" */
	char		 hdrs[4096];	/* header block, CRLF lines */
	const char	*body;
	size_t		 body_len;
	int		 well_formed;
};

static void
split(const char *out, size_t len, struct answer *an)
{
	const char	*end, *eol;
	size_t		 n;

	memset(an, 0, sizeof(*an));
	an->body = "";
	if (out == NULL || (end = strstr(out, "\r\n\r\n")) == NULL)
		return;
	if (strncmp(out, "Status: ", 8) != 0 ||
	    (eol = strstr(out, "\r\n")) == NULL)
		return;
	n = (size_t)(eol - out - 8);
	if (n >= sizeof(an->status))
		return;
	memcpy(an->status, out + 8, n);
	an->status[n] = '\0';
	n = (size_t)(end - out) + 2;
	if (n >= sizeof(an->hdrs))
		return;
	memcpy(an->hdrs, out, n);
	an->hdrs[n] = '\0';
	an->body = end + 4;
	an->body_len = len - (size_t)(an->body - out);
	an->well_formed = 1;
}

/* The value of header name (exact case), copied into v; NULL if absent. */
static const char *
header(const struct answer *an, const char *name, char *v, size_t vsz)
{
	const char	*p, *eol;
	size_t		 n, k;

	n = strlen(name);
	for (p = an->hdrs; *p != '\0'; p = eol + 2) {
		if ((eol = strstr(p, "\r\n")) == NULL)
			return NULL;
		if (strncmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			k = (size_t)(eol - p) - n - 2;
			if (k >= vsz)
				k = vsz - 1;
			memcpy(v, p + n + 2, k);
			v[k] = '\0';
			return v;
		}
	}
	return NULL;
}

static int
count_header(const struct answer *an, const char *name)
{
	const char	*p;
	size_t		 n;
	int		 c;

	n = strlen(name);
	c = 0;
	for (p = an->hdrs; p != NULL && *p != '\0'; ) {
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			c++;
		if ((p = strstr(p, "\r\n")) != NULL)
			p += 2;
	}
	return c;
}

/* Scenarios: what a handler did before resp_render. */
static void
f_ok_obj(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, "ok");
	jw_obj_end(&w);
}

static void
f_created_cookie(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 201, &w);
	jw_obj(&w);
	jw_key(&w, "token");
	jw_str(&w, "tok");
	jw_obj_end(&w);
	resp_header(r, "Set-Cookie", "quire_session=tok; Path=/");
}

static void
f_ok_empty(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
}

static void
f_list(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_arr(&w);
	jw_int(&w, 1);
	jw_int(&w, 2);
	jw_arr_end(&w);
	buf_puts(&r->out.meta, "{\"limit\":20,\"offset\":0,\"nextCursor\":null}");
}

static void
f_unauth(struct req *r)
{

	resp_error(r, ERR_UNAUTHORIZED, NULL);
}

static void
f_validation(struct req *r)
{

	resp_detail(r, "email", "must be a valid email address");
	resp_detail(r, "name", "is required");
	resp_error(r, ERR_VALIDATION, NULL);
}

static void
f_validation_none(struct req *r)
{

	resp_error(r, ERR_VALIDATION, "Bad query");
}

static void
f_details_then_forbidden(struct req *r)
{

	resp_detail(r, "email", "x");
	resp_error(r, ERR_FORBIDDEN, "Origin not allowed");
}

static void
f_notfound(struct req *r)
{

	resp_error(r, ERR_NOT_FOUND, NULL);
}

static void
f_405(struct req *r)
{

	resp_header(r, "Allow", "GET, HEAD");
	resp_error(r, ERR_METHOD_NOT_ALLOWED, NULL);
}

static void
f_429(struct req *r)
{

	resp_header(r, "Retry-After", "42");
	resp_error(r, ERR_RATE_LIMITED, NULL);
}

static void
f_msg_escaped(struct req *r)
{

	resp_error(r, ERR_CONFLICT, "say \"no\"\n\\ caf\xc3\xa9");
}

static void
f_data_then_error(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "secret");
	jw_str(&w, "leak");
	jw_obj_end(&w);
	buf_puts(&r->out.meta, "{\"limit\":1}");
	resp_error(r, ERR_CONFLICT, NULL);
}

static void
f_health_down(struct req *r)
{

	resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
	buf_puts(&r->out.meta, "{\"status\":\"down\"}");
}

static void
f_nothing(struct req *r)
{

	(void)r;
}

static void
f_data_nomem(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "half");
	r->out.data.err = QERR_NOMEM;
	resp_header(r, "X-Dropped", "yes");
}

static void
f_hdrs_nomem(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_obj_end(&w);
	resp_header(r, "X-Dropped", "yes");
	r->out.hdrs.err = QERR_NOMEM;
}

static void
f_details_nomem(struct req *r)
{

	resp_detail(r, "name", "is required");
	r->out.details.err = QERR_TOOBIG;
	resp_error(r, ERR_VALIDATION, NULL);
}

static void
f_json_out_small(struct req *r)
{

	resp_error(r, ERR_CONFLICT, "this will not fit into sixteen bytes");
	r->out.json_out.max = 16;
}

static void
test_render(struct req *r)
{
	static const struct {
		int		 line;
		const char	*method;
		const char	*path;
		void		(*fill)(struct req *);
		const char	*status;
		const char	*error;		/* NULL: success */
		const char	*message;	/* NULL: don't check */
		int		 ndetails;	/* -1: no details key */
		const char	*hdr;		/* extra header line expected */
		const char	*nohdr;		/* header that must be absent */
	} rows[] = {
		{ __LINE__, "GET", "/health", f_ok_obj, "200 OK", NULL, NULL,
		    -1, NULL, NULL },
		{ __LINE__, "HEAD", "/health", f_ok_obj, "200 OK", NULL, NULL,
		    -1, NULL, NULL },
		{ __LINE__, "POST", "/auth/signup", f_created_cookie,
		    "201 Created", NULL, NULL, -1,
		    "Set-Cookie: quire_session=tok; Path=/", NULL },
		{ __LINE__, "GET", "/posts", f_ok_empty, "200 OK", NULL, NULL,
		    -1, NULL, NULL },
		/* no-store is for /auth/ only */
		{ __LINE__, "GET", "/authors", f_ok_empty, "200 OK", NULL, NULL,
		    -1, NULL, NULL },
		{ __LINE__, "GET", "/auth", f_notfound, "404 Not Found",
		    "NOT_FOUND", NULL, -1, NULL, NULL },
		{ __LINE__, "GET", "/posts/auth/x", f_ok_empty, "200 OK", NULL,
		    NULL, -1, NULL, NULL },
		{ __LINE__, "GET", "/posts", f_list, "200 OK", NULL, NULL, -1,
		    NULL, NULL },
		{ __LINE__, "GET", "/auth/me", f_unauth, "401 Unauthorized",
		    "UNAUTHORIZED", "Authentication required", -1, NULL, NULL },
		{ __LINE__, "POST", "/auth/signup", f_validation,
		    "400 Bad Request", "VALIDATION_ERROR",
		    "Request validation failed", 2, NULL, NULL },
		{ __LINE__, "GET", "/users", f_validation_none,
		    "400 Bad Request", "VALIDATION_ERROR", "Bad query", 0,
		    NULL, NULL },
		{ __LINE__, "POST", "/posts", f_details_then_forbidden,
		    "403 Forbidden", "FORBIDDEN", "Origin not allowed", -1,
		    NULL, NULL },
		{ __LINE__, "GET", "/nope", f_notfound, "404 Not Found",
		    "NOT_FOUND", "Not found", -1, NULL, NULL },
		{ __LINE__, "PUT", "/health", f_405, "405 Method Not Allowed",
		    "METHOD_NOT_ALLOWED", NULL, -1, "Allow: GET, HEAD", NULL },
		{ __LINE__, "POST", "/auth/login", f_429,
		    "429 Too Many Requests", "RATE_LIMITED", NULL, -1,
		    "Retry-After: 42", NULL },
		{ __LINE__, "POST", "/users", f_msg_escaped, "409 Conflict",
		    "CONFLICT", "say \"no\"\n\\ caf\xc3\xa9", -1, NULL, NULL },
		{ __LINE__, "GET", "/posts", f_data_then_error, "409 Conflict",
		    "CONFLICT", "Conflict", -1, NULL, NULL },
		{ __LINE__, "GET", "/health/db", f_health_down,
		    "503 Service Unavailable", "SERVICE_UNAVAILABLE", NULL, -1,
		    NULL, NULL },
		{ __LINE__, "GET", "/health", f_nothing,
		    "500 Internal Server Error", "INTERNAL_ERROR",
		    "Internal server error", -1, NULL, NULL },
		{ __LINE__, "GET", "/health", f_data_nomem,
		    "500 Internal Server Error", "INTERNAL_ERROR",
		    "Internal server error", -1, NULL, "X-Dropped" },
		{ __LINE__, "GET", "/auth/me", f_hdrs_nomem,
		    "500 Internal Server Error", "INTERNAL_ERROR",
		    "Internal server error", -1, NULL, "X-Dropped" },
		{ __LINE__, "POST", "/auth/signup", f_details_nomem,
		    "500 Internal Server Error", "INTERNAL_ERROR",
		    "Internal server error", -1, NULL, NULL },
		{ __LINE__, "GET", "/health", f_json_out_small,
		    "500 Internal Server Error", "INTERNAL_ERROR",
		    "Internal server error", -1, NULL, NULL },
	};
	struct buf	 out;
	struct answer	 an;
	char		 v[256], want_len[32], *envp[5], pi[128], rm[64];
	json_t		*j, *d, *m;
	json_error_t	 jerr;
	size_t		 i, k, jmax, clen;
	int		 is_auth, head;

	buf_init(&out, 1 << 20);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(rm, sizeof(rm), "REQUEST_METHOD=%s", rows[i].method);
		snprintf(pi, sizeof(pi), "PATH_INFO=%s", rows[i].path);
		envp[0] = rm;
		envp[1] = pi;
		envp[2] = (char *)(uintptr_t)"HTTP_X_REQUEST_ID=" REQID;
		envp[3] = NULL;
		if (req_begin(r, envp, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		jmax = r->out.json_out.max;
		rows[i].fill(r);
		clen = resp_render(r, &out);
		r->out.json_out.max = jmax;
		tap_ok(buf_err(&out) == QERR_OK, rows[i].line, "rendered");
		split(out.p, out.len, &an);
		tap_ok(an.well_formed, rows[i].line, "Status line, headers, "
		    "blank line");
		if (!an.well_formed) {
			req_end(r);
			continue;
		}
		tap_ok(strcmp(an.status, rows[i].status) == 0, rows[i].line,
		    "Status: %s want %s", an.status, rows[i].status);
		tap_ok(header(&an, "Content-Type", v, sizeof(v)) != NULL &&
		    strcmp(v, "application/json; charset=utf-8") == 0,
		    rows[i].line, "Content-Type");
		tap_ok(header(&an, "X-Request-Id", v, sizeof(v)) != NULL &&
		    strcmp(v, REQID) == 0, rows[i].line, "X-Request-Id");
		is_auth = strncmp(rows[i].path, "/auth/", 6) == 0;
		tap_ok((header(&an, "Cache-Control", v, sizeof(v)) != NULL &&
		    strcmp(v, "no-store") == 0) == is_auth, rows[i].line,
		    "Cache-Control: no-store %s",
		    is_auth ? "present" : "absent");
		tap_ok(count_header(&an, "Content-Length") == 1 &&
		    count_header(&an, "Status") == 1 &&
		    count_header(&an, "Content-Type") == 1, rows[i].line,
		    "no header twice");
		if (rows[i].hdr != NULL)
			tap_ok(strstr(an.hdrs, rows[i].hdr) != NULL,
			    rows[i].line, "header \"%s\"", rows[i].hdr);
		if (rows[i].nohdr != NULL)
			tap_ok(header(&an, rows[i].nohdr, v, sizeof(v)) == NULL,
			    rows[i].line, "no %s header", rows[i].nohdr);

		/* HEAD: no body, but the length a GET would have. */
		head = strcmp(rows[i].method, "HEAD") == 0;
		snprintf(want_len, sizeof(want_len), "%zu",
		    head ? clen : an.body_len);
		tap_ok(header(&an, "Content-Length", v, sizeof(v)) != NULL &&
		    strcmp(v, want_len) == 0, rows[i].line,
		    "Content-Length %s want %s", v, want_len);
		if (head) {
			tap_ok(an.body_len == 0 && clen > 0,
			    rows[i].line, "HEAD has no body");
			req_end(r);
			continue;
		}

		j = json_loadb(an.body, an.body_len, 0, &jerr);
		tap_ok(json_is_object(j), rows[i].line, "body is an object: %s",
		    j != NULL ? "yes" : jerr.text);
		if (rows[i].error == NULL) {
			tap_ok(json_is_true(json_object_get(j, "success")),
			    rows[i].line, "success: true");
			d = json_object_get(j, "data");
			tap_ok(json_is_object(d) || json_is_array(d),
			    rows[i].line, "data present");
			tap_ok(json_object_get(j, "error") == NULL &&
			    json_object_get(j, "message") == NULL &&
			    json_object_get(j, "details") == NULL,
			    rows[i].line, "no error keys");
		} else {
			tap_ok(json_is_false(json_object_get(j, "success")),
			    rows[i].line, "success: false");
			m = json_object_get(j, "error");
			tap_ok(json_is_string(m) && strcmp(json_string_value(m),
			    rows[i].error) == 0, rows[i].line, "error \"%s\"",
			    json_is_string(m) ? json_string_value(m) : "?");
			m = json_object_get(j, "message");
			tap_ok(json_is_string(m) && json_string_length(m) > 0,
			    rows[i].line, "a message");
			if (rows[i].message != NULL)
				tap_ok(json_is_string(m) &&
				    strcmp(json_string_value(m),
				    rows[i].message) == 0, rows[i].line,
				    "message text");
			d = json_object_get(j, "details");
			if (rows[i].ndetails == -1)
				tap_ok(d == NULL, rows[i].line,
				    "no details key");
			else
				tap_ok(json_is_array(d) &&
				    json_array_size(d) ==
				    (size_t)rows[i].ndetails, rows[i].line,
				    "%d details", rows[i].ndetails);
		}
		/* Per-row specifics. */
		if (rows[i].fill == f_ok_obj)
			tap_ok(json_is_string(json_object_get(json_object_get(
			    j, "data"), "status")), rows[i].line, "data.status");
		if (rows[i].fill == f_ok_empty)
			tap_ok(json_is_object(json_object_get(j, "data")) &&
			    json_object_size(json_object_get(j, "data")) == 0,
			    rows[i].line, "empty data is {}");
		if (rows[i].fill == f_list) {
			d = json_object_get(j, "data");
			m = json_object_get(j, "meta");
			tap_ok(json_is_array(d) && json_array_size(d) == 2,
			    rows[i].line, "data is the list");
			tap_ok(json_is_integer(json_object_get(m, "limit")) &&
			    json_is_null(json_object_get(m, "nextCursor")),
			    rows[i].line, "meta");
		}
		if (rows[i].fill == f_validation) {
			static const char *const want[2][2] = {
				{ "email", "must be a valid email address" },
				{ "name", "is required" },
			};

			d = json_object_get(j, "details");
			for (k = 0; k < 2; k++) {
				m = json_array_get(d, k);
				tap_ok(json_is_string(json_object_get(m,
				    "field")) && strcmp(json_string_value(
				    json_object_get(m, "field")), want[k][0]) ==
				    0 && json_is_string(json_object_get(m,
				    "message")) && strcmp(json_string_value(
				    json_object_get(m, "message")),
				    want[k][1]) == 0 && json_object_size(m) == 2,
				    rows[i].line, "details[%zu]", k);
			}
		}
		if (rows[i].fill == f_data_then_error)
			tap_ok(json_object_get(j, "data") == NULL &&
			    json_object_get(j, "meta") == NULL &&
			    strstr(an.body, "leak") == NULL, rows[i].line,
			    "earlier data dropped");
		if (rows[i].fill == f_health_down)
			tap_ok(json_is_object(json_object_get(j, "data")),
			    rows[i].line, "error carries data");
		json_decref(j);
		req_end(r);
	}
	buf_free(&out);
}

/* The output buffer itself too small: still a valid 500. */
static void
test_out_small(struct req *r)
{
	struct buf	 out;
	struct answer	 an;
	struct jw	 w;
	json_t		*j;
	char		*envp[] = {
		(char *)(uintptr_t)"PATH_INFO=/posts",
		(char *)(uintptr_t)"HTTP_X_REQUEST_ID=" REQID,
		NULL
	};
	char		 big[3000];

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(req_begin(r, envp, NULL, NULL) == QERR_OK, "req_begin");
	resp_ok(r, 200, &w);
	jw_str(&w, big);
	buf_init(&out, 1000);
	resp_render(r, &out);
	split(out.p, out.len, &an);
	ok(buf_err(&out) == QERR_OK && an.well_formed,
	    "fallback rendered in a 1000-byte buffer");
	is_str(an.status, "500 Internal Server Error", "fallback status");
	j = json_loadb(an.body, an.body_len, 0, NULL);
	ok(json_is_false(json_object_get(j, "success")) &&
	    json_is_string(json_object_get(j, "error")) &&
	    strcmp(json_string_value(json_object_get(j, "error")),
	    "INTERNAL_ERROR") == 0, "fallback body is the 500 envelope");
	json_decref(j);
	buf_free(&out);
	req_end(r);
}

static void
test_qerr(struct req *r)
{
	static const struct {
		int		 line;
		enum qerr	 e;
		int		 status;
		const char	*code;
	} rows[] = {
		{ __LINE__, QERR_DB_DOWN, 503, "SERVICE_UNAVAILABLE" },
		{ __LINE__, QERR_CONFLICT, 409, "CONFLICT" },
		{ __LINE__, QERR_NOTFOUND, 404, "NOT_FOUND" },
		{ __LINE__, QERR_TOOBIG, 413, "PAYLOAD_TOO_LARGE" },
		{ __LINE__, QERR_NOMEM, 500, "INTERNAL_ERROR" },
		{ __LINE__, QERR_DB, 500, "INTERNAL_ERROR" },
		{ __LINE__, QERR_IO, 500, "INTERNAL_ERROR" },
	};
	size_t	 i;
	int	 st;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK)
			continue;
		st = resp_qerr(r, rows[i].e);
		tap_ok(st == rows[i].status && r->out.status == rows[i].status,
		    rows[i].line, "resp_qerr(%s) = %d want %d",
		    qerr_str(rows[i].e), st, rows[i].status);
		tap_ok(resp_code(r->out.err) != NULL && strcmp(resp_code(r->out.err),
		    rows[i].code) == 0, rows[i].line, "code %s",
		    resp_code(r->out.err) != NULL ? resp_code(r->out.err) : "(null)");
		req_end(r);
	}
}

static void
test_reasons(void)
{
	static const struct {
		int		 line;
		int		 status;
		const char	*reason;
	} rows[] = {
		{ __LINE__, 200, "OK" },
		{ __LINE__, 201, "Created" },
		{ __LINE__, 400, "Bad Request" },
		{ __LINE__, 401, "Unauthorized" },
		{ __LINE__, 403, "Forbidden" },
		{ __LINE__, 404, "Not Found" },
		{ __LINE__, 405, "Method Not Allowed" },
		{ __LINE__, 409, "Conflict" },
		{ __LINE__, 413, "Payload Too Large" },
		{ __LINE__, 415, "Unsupported Media Type" },
		{ __LINE__, 429, "Too Many Requests" },
		{ __LINE__, 500, "Internal Server Error" },
		{ __LINE__, 503, "Service Unavailable" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(strcmp(http_reason(rows[i].status), rows[i].reason) ==
		    0, rows[i].line, "reason of %d", rows[i].status);
}

/* Every error of the table renders with its status and code. */
static void
test_error_table(struct req *r)
{
	static const struct {
		int		 line;
		enum resp_err	 e;
		int		 status;
		const char	*code;
	} rows[] = {
		{ __LINE__, ERR_INVALID_JSON, 400, "INVALID_JSON" },
		{ __LINE__, ERR_VALIDATION, 400, "VALIDATION_ERROR" },
		{ __LINE__, ERR_UNAUTHORIZED, 401, "UNAUTHORIZED" },
		{ __LINE__, ERR_FORBIDDEN, 403, "FORBIDDEN" },
		{ __LINE__, ERR_NOT_FOUND, 404, "NOT_FOUND" },
		{ __LINE__, ERR_METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED" },
		{ __LINE__, ERR_CONFLICT, 409, "CONFLICT" },
		{ __LINE__, ERR_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE" },
		{ __LINE__, ERR_UNSUPPORTED_MEDIA_TYPE, 415,
		    "UNSUPPORTED_MEDIA_TYPE" },
		{ __LINE__, ERR_RATE_LIMITED, 429, "RATE_LIMITED" },
		{ __LINE__, ERR_INTERNAL, 500, "INTERNAL_ERROR" },
		{ __LINE__, ERR_SERVICE_UNAVAILABLE, 503,
		    "SERVICE_UNAVAILABLE" },
	};
	struct buf	 out;
	struct answer	 an;
	json_t		*j;
	char		 want[64];
	size_t		 i;
	int		 st;

	buf_init(&out, 1 << 16);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK)
			continue;
		st = resp_error(r, rows[i].e, NULL);
		tap_ok(st == rows[i].status, rows[i].line, "status %d", st);
		resp_render(r, &out);
		split(out.p, out.len, &an);
		snprintf(want, sizeof(want), "%d %s", rows[i].status,
		    http_reason(rows[i].status));
		tap_ok(strcmp(an.status, want) == 0, rows[i].line,
		    "Status: %s", an.status);
		j = json_loadb(an.body, an.body_len, 0, NULL);
		tap_ok(json_is_string(json_object_get(j, "error")) &&
		    strcmp(json_string_value(json_object_get(j, "error")),
		    rows[i].code) == 0 && json_is_string(json_object_get(j,
		    "message")) && (json_object_get(j, "details") != NULL) ==
		    (rows[i].e == ERR_VALIDATION), rows[i].line,
		    "envelope of %s", rows[i].code);
		json_decref(j);
		req_end(r);
	}
	buf_free(&out);
}

/* resp_detail: long names are cut on a UTF-8 boundary; the list is bounded. */
static void
test_details(struct req *r)
{
	struct buf	 out;
	struct answer	 an;
	json_t		*j, *d, *f;
	char		 field[256];
	size_t		 i, n;
	int		 prefix;

	ok(req_begin(r, NULL, NULL, NULL) == QERR_OK, "req_begin");
	field[0] = 'a';
	for (i = 1; i + 2 < sizeof(field); i += 2) {
		field[i] = '\xc3';
		field[i + 1] = '\xa9';
	}
	field[i] = '\0';
	resp_detail(r, field, "is not a known field");
	resp_error(r, ERR_VALIDATION, NULL);
	buf_init(&out, 1 << 16);
	resp_render(r, &out);
	split(out.p, out.len, &an);
	j = json_loadb(an.body, an.body_len, 0, NULL);
	d = json_object_get(j, "details");
	f = json_object_get(json_array_get(d, 0), "field");
	ok(json_is_string(f), "long field name still valid UTF-8 JSON");
	n = json_is_string(f) ? json_string_length(f) : 0;
	prefix = n > 0 && memcmp(json_string_value(f), field, n) == 0;
	ok(n > 0 && n <= 128 && prefix, "field cut to %zu bytes, a prefix", n);
	json_decref(j);
	req_end(r);

	ok(req_begin(r, NULL, NULL, NULL) == QERR_OK, "req_begin");
	for (i = 0; i < 5000; i++) {
		snprintf(field, sizeof(field), "field%zu", i);
		resp_detail(r, field, "is not a known field");
	}
	resp_error(r, ERR_VALIDATION, NULL);
	resp_render(r, &out);
	split(out.p, out.len, &an);
	j = json_loadb(an.body, an.body_len, 0, NULL);
	d = json_object_get(j, "details");
	ok(json_is_array(d) && json_array_size(d) > 10 &&
	    json_array_size(d) < 5000, "details bounded: %zu",
	    json_array_size(d));
	ok(an.body_len < 20000, "body %zu bytes", an.body_len);
	json_decref(j);
	req_end(r);
	buf_free(&out);
}

int
main(void)
{
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", "postgresql://db/quire" },
		{ NULL, NULL }
	};
	struct conf	 c;
	struct arena	*a;
	struct req	 r;
	char		 err[256];

	err[0] = '\0';
	if (conf_parse(&c, table_get, env, err, sizeof(err)) != QERR_OK) {
		ok(0, "conf_parse: %s", err);
		return tap_done();
	}
	if ((a = arena_new(4096, 1 << 20)) == NULL) {
		ok(0, "arena_new");
		conf_free(&c);
		return tap_done();
	}
	ok(req_setup(&r, &c, NULL, a) == QERR_OK, "req_setup");
	test_render(&r);
	test_out_small(&r);
	test_qerr(&r);
	test_reasons();
	test_error_table(&r);
	test_details(&r);
	req_teardown(&r);
	arena_free(a);
	conf_free(&c);
	return tap_done();
}
