/*
 * Unit tests of request set-up (src/req.c): the routed path, the method,
 * the request id, the media type check and the body reader, driven by a
 * fake CGI environment and a fake reader.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "conf.h"
#include "req.h"
#include "tap.h"
#include "table.h"

/* The fake body: hands out at most chunk bytes a call, then 0 or -1. */
struct fake {
	const char	*data;
	size_t		 len;
	size_t		 pos;
	size_t		 chunk;
	int		 fail;		/* -1 once the data is used up */
	int		 calls;
	int		 runaway;	/* called again and again after the end */
};

#define FAKE_MAXCALLS	10000

static long
fake_read(void *ctx, char *dst, size_t n)
{
	struct fake	*f = ctx;
	size_t		 k;

	if (++f->calls > FAKE_MAXCALLS) {
		/* A caller that loops on 0 would never stop: stop it. */
		f->runaway = 1;
		return -1;
	}
	if (f->pos == f->len)
		return f->fail ? -1 : 0;
	k = f->len - f->pos;
	if (k > n)
		k = n;
	if (f->chunk != 0 && k > f->chunk)
		k = f->chunk;
	memcpy(dst, f->data + f->pos, k);
	f->pos += k;
	return (long)k;
}

static void
test_route_path(void)
{
	static const struct {
		int		 line;
		const char	*path_info;
		const char	*uri;
		const char	*script;
		const char	*want;
	} rows[] = {
		{ __LINE__, "/posts", NULL, NULL, "/posts" },
		{ __LINE__, "/posts", "/api/other?x=1", "/api", "/posts" },
		{ __LINE__, "/posts/abc", "/posts/abc", "", "/posts/abc" },
		{ __LINE__, NULL, "/api/posts?x=1", "/api", "/posts" },
		{ __LINE__, "", "/api/posts?x=1", "/api", "/posts" },
		{ __LINE__, NULL, "/posts?limit=2&offset=4", NULL, "/posts" },
		{ __LINE__, NULL, "/posts?", "", "/posts" },
		{ __LINE__, NULL, "/posts#frag", "", "/posts" },
		{ __LINE__, NULL, "/api", "/api", "/" },
		{ __LINE__, NULL, "/api/", "/api", "/" },
		{ __LINE__, NULL, "/api?x", "/api", "/" },
		{ __LINE__, NULL, "/api/v1/posts/?q=a", "/api", "/posts" },
		{ __LINE__, NULL, "/api/v1", "/api", "/" },
		{ __LINE__, NULL, "/other/posts", "/api", "/other/posts" },
		{ __LINE__, "/v1/posts", NULL, NULL, "/posts" },
		{ __LINE__, "/v1/posts/abc", NULL, NULL, "/posts/abc" },
		{ __LINE__, "/v1", NULL, NULL, "/" },
		{ __LINE__, "/v1/", NULL, NULL, "/" },
		{ __LINE__, "/v10/posts", NULL, NULL, "/v10/posts" },
		{ __LINE__, "/v1posts", NULL, NULL, "/v1posts" },
		{ __LINE__, "/v2/posts", NULL, NULL, "/v2/posts" },
		{ __LINE__, "/V1/posts", NULL, NULL, "/V1/posts" },
		{ __LINE__, "/posts/v1", NULL, NULL, "/posts/v1" },
		{ __LINE__, "/v1/v1/posts", NULL, NULL, "/v1/posts" },
		{ __LINE__, "/posts/", NULL, NULL, "/posts" },
		{ __LINE__, "/posts/abc/", NULL, NULL, "/posts/abc" },
		{ __LINE__, "/", NULL, NULL, "/" },
		{ __LINE__, NULL, "/", "", "/" },
		{ __LINE__, NULL, NULL, NULL, "/" },
		{ __LINE__, NULL, "", "", "/" },
		{ __LINE__, "/health/db", NULL, NULL, "/health/db" },
	};
	struct arena	*a;
	const char	*got;
	size_t		 i;

	a = arena_new(4096, 0);
	ok(a != NULL, "arena_new");
	if (a == NULL)
		return;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		got = req_route_path(a, rows[i].path_info, rows[i].uri,
		    rows[i].script);
		tap_ok(got != NULL && strcmp(got, rows[i].want) == 0,
		    rows[i].line, "req_route_path(%s, %s, %s): got \"%s\" "
		    "want \"%s\"",
		    rows[i].path_info != NULL ? rows[i].path_info : "NULL",
		    rows[i].uri != NULL ? rows[i].uri : "NULL",
		    rows[i].script != NULL ? rows[i].script : "NULL",
		    got != NULL ? got : "(null)", rows[i].want);
	}
	arena_free(a);

	/* NOMEM is reported as NULL. */
	a = arena_new(64, 16);
	ok(a != NULL && arena_alloc(a, 16) != NULL, "fill a tiny arena");
	ok(a != NULL && req_route_path(a, "/posts", NULL, NULL) == NULL,
	    "req_route_path on a full arena is NULL");
	arena_free(a);
}

static void
test_method(void)
{
	static const struct {
		int		 line;
		const char	*in;
		enum http_method want;
	} rows[] = {
		{ __LINE__, "GET", METHOD_GET },
		{ __LINE__, "HEAD", METHOD_HEAD },
		{ __LINE__, "POST", METHOD_POST },
		{ __LINE__, "PATCH", METHOD_PATCH },
		{ __LINE__, "DELETE", METHOD_DELETE },
		{ __LINE__, "PUT", METHOD_PUT },
		{ __LINE__, "OPTIONS", METHOD_OPTIONS },
		{ __LINE__, "get", METHOD_OTHER },
		{ __LINE__, "Post", METHOD_OTHER },
		{ __LINE__, "GETX", METHOD_OTHER },
		{ __LINE__, "GE", METHOD_OTHER },
		{ __LINE__, "TRACE", METHOD_OTHER },
		{ __LINE__, "OTHER", METHOD_OTHER },
		{ __LINE__, " GET", METHOD_OTHER },
		{ __LINE__, "", METHOD_OTHER },
		{ __LINE__, NULL, METHOD_OTHER },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		tap_ok(req_method(rows[i].in) == rows[i].want, rows[i].line,
		    "req_method(%s) == %d",
		    rows[i].in != NULL ? rows[i].in : "NULL", (int)rows[i].want);
		if (rows[i].want != METHOD_OTHER)
			tap_ok(strcmp(req_method_name(rows[i].want),
			    rows[i].in) == 0, rows[i].line,
			    "req_method_name round-trips %s", rows[i].in);
	}
	is_str(req_method_name(METHOD_OTHER), "OTHER", "name of OTHER");
	is_str(req_method_name(METHOD__MAX), "OTHER", "name out of range");
}

static void
test_id_sane(void)
{
	static const struct {
		int		 line;
		char		 c;		/* repeated n times when n > 0 */
		size_t		 n;
		const char	*s;
		int		 want;
	} rows[] = {
		{ __LINE__, 'a', 128, NULL, 1 },
		{ __LINE__, 'a', 129, NULL, 0 },
		{ __LINE__, 'Z', 1, NULL, 1 },
		{ __LINE__, '-', 127, NULL, 1 },
		{ __LINE__, 'a', 500, NULL, 0 },
		{ __LINE__, 0, 0, "", 0 },
		{ __LINE__, 0, 0, "abc-DEF_123.xyz", 1 },
		{ __LINE__, 0, 0, "0f8fad5b-d9cb-469f-a165-70867728950e", 1 },
		{ __LINE__, 0, 0, "a b", 0 },
		{ __LINE__, 0, 0, "a/b", 0 },
		{ __LINE__, 0, 0, "a:b", 0 },
		{ __LINE__, 0, 0, "a;b", 0 },
		{ __LINE__, 0, 0, "a\"b", 0 },
		{ __LINE__, 0, 0, "a\r\nX-Evil: 1", 0 },
		{ __LINE__, 0, 0, "a\nb", 0 },
		{ __LINE__, 0, 0, "caf\xc3\xa9", 0 },
		{ __LINE__, 0, 0, "<script>", 0 },
		{ __LINE__, 0, 0, "a+b", 0 },
		{ __LINE__, 0, 0, "abc ", 0 },
	};
	char	 s[600], shown[24];
	size_t	 i, k;
	int	 got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].n > 0) {
			memset(s, rows[i].c, rows[i].n);
			s[rows[i].n] = '\0';
		} else
			snprintf(s, sizeof(s), "%s", rows[i].s);
		got = req_id_sane(s);
		/* Keep the TAP line one line. */
		snprintf(shown, sizeof(shown), "%.20s", s);
		for (k = 0; shown[k] != '\0'; k++)
			if ((unsigned char)shown[k] < 0x20)
				shown[k] = '?';
		tap_ok(got == rows[i].want, rows[i].line,
		    "req_id_sane(%s%s, len %zu) = %d want %d", shown,
		    strlen(s) > 20 ? "..." : "", strlen(s), got, rows[i].want);
	}
}

static void
test_is_json(void)
{
	static const struct {
		int		 line;
		const char	*ct;
		int		 want;
	} rows[] = {
		{ __LINE__, "application/json", 1 },
		{ __LINE__, "Application/JSON", 1 },
		{ __LINE__, "APPLICATION/JSON", 1 },
		{ __LINE__, "application/json; charset=utf-8", 1 },
		{ __LINE__, "application/json;charset=UTF-8", 1 },
		{ __LINE__, "application/json ; charset=utf-8", 1 },
		{ __LINE__, "application/json;", 1 },
		{ __LINE__, "application/jsonx", 0 },
		{ __LINE__, "application/json+x", 0 },
		{ __LINE__, "application/json-patch+json", 0 },
		{ __LINE__, "application/merge-patch+json", 0 },
		{ __LINE__, "application/vnd.api+json", 0 },
		{ __LINE__, "text/json", 0 },
		{ __LINE__, "text/plain", 0 },
		{ __LINE__, "application/x-www-form-urlencoded", 0 },
		{ __LINE__, "multipart/form-data; boundary=x", 0 },
		{ __LINE__, "application/", 0 },
		{ __LINE__, "application", 0 },
		{ __LINE__, "json", 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, NULL, 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(req_is_json(rows[i].ct) == rows[i].want, rows[i].line,
		    "req_is_json(%s) == %d",
		    rows[i].ct != NULL ? rows[i].ct : "NULL", rows[i].want);
}

/* A fixed environment plus the row's CONTENT_LENGTH. */
static void
test_body(struct req *r)
{
	static char	 big[2050];
	static const struct {
		int		 line;
		const char	*cl;		/* NULL: no CONTENT_LENGTH */
		const char	*data;		/* NULL: big[] */
		size_t		 avail;		/* bytes the reader has */
		size_t		 chunk;
		int		 fail;
		enum qerr	 want;
		size_t		 want_len;
		int		 reader_used;	/* -1: any */
	} rows[] = {
		{ __LINE__, "5", "hello", 5, 0, 0, QERR_OK, 5, 1 },
		{ __LINE__, "5", "hello", 5, 2, 0, QERR_OK, 5, 1 },
		{ __LINE__, "5", "hello", 5, 1, 0, QERR_OK, 5, 1 },
		{ __LINE__, "3", "hello", 5, 0, 0, QERR_OK, 3, 1 },
		{ __LINE__, "005", "hello", 5, 0, 0, QERR_OK, 5, 1 },
		{ __LINE__, "5", "hel", 3, 0, 0, QERR_IO, 0, 1 },
		{ __LINE__, "5", "", 0, 0, 0, QERR_IO, 0, 1 },
		{ __LINE__, "5", "hel", 3, 0, 1, QERR_IO, 0, 1 },
		{ __LINE__, "5", "", 0, 0, 1, QERR_IO, 0, 1 },
		{ __LINE__, "0", "", 0, 0, 0, QERR_OK, 0, 0 },
		{ __LINE__, "", "", 0, 0, 0, QERR_OK, 0, 0 },
		{ __LINE__, NULL, "ignored", 7, 0, 0, QERR_OK, 0, 0 },
		{ __LINE__, "2048", NULL, 2048, 0, 0, QERR_OK, 2048, 1 },
		{ __LINE__, "2048", NULL, 2048, 100, 0, QERR_OK, 2048, 1 },
		{ __LINE__, "2049", NULL, 2049, 0, 0, QERR_TOOBIG, 0, 0 },
		{ __LINE__, "1000000", NULL, 2049, 0, 0, QERR_TOOBIG, 0, 0 },
		{ __LINE__, "18446744073709551615", NULL, 2049, 0, 0,
		    QERR__MAX, 0, 0 },	/* TOOBIG or INVAL, never read */
		{ __LINE__, "abc", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, "-1", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, "+5", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, " 5", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, "5 ", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, "5.0", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, "0x5", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
		{ __LINE__, "5,5", "hello", 5, 0, 0, QERR_INVAL, 0, 0 },
	};
	char		 cl[64];
	char		*envp[6];
	struct fake	 f;
	size_t		 i;
	enum qerr	 e;

	memset(big, 'x', sizeof(big));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		envp[0] = (char *)(uintptr_t)"REQUEST_METHOD=POST";
		envp[1] = (char *)(uintptr_t)"PATH_INFO=/auth/signup";
		envp[2] = (char *)(uintptr_t)"CONTENT_TYPE=application/json";
		if (rows[i].cl != NULL) {
			snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", rows[i].cl);
			envp[3] = cl;
			envp[4] = NULL;
		} else
			envp[3] = NULL;
		memset(&f, 0, sizeof(f));
		f.data = rows[i].data != NULL ? rows[i].data : big;
		f.len = rows[i].avail;
		f.chunk = rows[i].chunk;
		f.fail = rows[i].fail;
		e = req_begin(r, envp, fake_read, &f);
		tap_ok(e == QERR_OK, rows[i].line, "req_begin");
		e = req_read_body(r);
		if (rows[i].want == QERR__MAX)
			tap_ok(e == QERR_TOOBIG || e == QERR_INVAL,
			    rows[i].line, "CONTENT_LENGTH=%s refused (%d)",
			    rows[i].cl, (int)e);
		else
			tap_ok(e == rows[i].want, rows[i].line,
			    "CONTENT_LENGTH=%s: qerr %d want %d",
			    rows[i].cl != NULL ? rows[i].cl : "(unset)",
			    (int)e, (int)rows[i].want);
		tap_ok(!f.runaway, rows[i].line, "reader not called after "
		    "it said end of body");
		if (rows[i].reader_used != -1)
			tap_ok((f.calls > 0) == rows[i].reader_used,
			    rows[i].line, "reader called %d times", f.calls);
		if (rows[i].want == QERR_OK && e == QERR_OK) {
			tap_ok(r->in.body != NULL &&
			    r->in.body_len == rows[i].want_len &&
			    memcmp(r->in.body, f.data, rows[i].want_len) == 0 &&
			    r->in.body[rows[i].want_len] == '\0', rows[i].line,
			    "body of %zu bytes, NUL-terminated", r->in.body_len);
			if (rows[i].chunk != 0 && rows[i].want_len > 0)
				tap_ok(f.calls >= (int)((rows[i].want_len +
				    rows[i].chunk - 1) / rows[i].chunk),
				    rows[i].line, "partial reads resumed");
		}
		req_end(r);
	}
}

/* What req_begin takes from the CGI parameters. */
static void
test_begin(struct req *r)
{
	static const struct {
		int		 line;
		const char	*env[8];
		const char	*method_name;
		enum http_method method;
		const char	*path;
		const char	*query;
		const char	*reqid;		/* NULL: generated */
	} rows[] = {
		{ __LINE__, { "REQUEST_METHOD=PATCH", "PATH_INFO=/v1/posts/x/",
		    "QUERY_STRING=a=1&b=2", "HTTP_X_REQUEST_ID=abc-123", NULL },
		    "PATCH", METHOD_PATCH, "/posts/x", "a=1&b=2", "abc-123" },
		{ __LINE__, { "PATH_INFO=/health", NULL },
		    "GET", METHOD_GET, "/health", "", NULL },
		{ __LINE__, { "REQUEST_METHOD=BREW", "REQUEST_URI=/api/health?x",
		    "SCRIPT_NAME=/api", "HTTP_X_REQUEST_ID=bad id", NULL },
		    "BREW", METHOD_OTHER, "/health", "", NULL },
		/* Prefixes of a name are not the name. */
		{ __LINE__, { "PATH_INFOX=/wrong", "PATH_INFO=/right",
		    "HTTP_X_REQUEST_IDX=nope", "REQUEST_METHODS=PUT",
		    "QUERY_STRINGX=zz", NULL },
		    "GET", METHOD_GET, "/right", "", NULL },
		{ __LINE__, { "REQUEST_METHOD=HEAD", "PATH_INFO=/",
		    "HTTP_X_REQUEST_ID=", NULL },
		    "HEAD", METHOD_HEAD, "/", "", NULL },
		{ __LINE__, { NULL }, "GET", METHOD_GET, "/", "", NULL },
	};
	char		*envp[8];
	char		 prev[REQID_MAX + 1];
	size_t		 i, k;
	int		 hex;
	enum qerr	 e;

	prev[0] = '\0';
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (k = 0; k < 8; k++)
			envp[k] = (char *)(uintptr_t)rows[i].env[k];
		e = req_begin(r, envp, NULL, NULL);
		tap_ok(e == QERR_OK, rows[i].line, "req_begin");
		tap_ok(r->in.method_name != NULL &&
		    strcmp(r->in.method_name, rows[i].method_name) == 0,
		    rows[i].line, "method_name \"%s\"",
		    r->in.method_name != NULL ? r->in.method_name : "(null)");
		tap_ok(r->in.method == rows[i].method, rows[i].line, "method %d",
		    (int)r->in.method);
		tap_ok(r->in.path != NULL && strcmp(r->in.path, rows[i].path) == 0,
		    rows[i].line, "path \"%s\" want \"%s\"",
		    r->in.path != NULL ? r->in.path : "(null)", rows[i].path);
		tap_ok(r->in.query != NULL && strcmp(r->in.query, rows[i].query) == 0,
		    rows[i].line, "query \"%s\"",
		    r->in.query != NULL ? r->in.query : "(null)");
		if (rows[i].reqid != NULL) {
			tap_ok(strcmp(r->in.reqid, rows[i].reqid) == 0,
			    rows[i].line, "request id echoed: \"%s\"",
			    r->in.reqid);
		} else {
			hex = strlen(r->in.reqid) == 32;
			for (k = 0; hex && k < 32; k++)
				if (strchr("0123456789abcdef", r->in.reqid[k]) ==
				    NULL)
					hex = 0;
			tap_ok(hex, rows[i].line, "generated id \"%s\" is 32 "
			    "hex", r->in.reqid);
			tap_ok(strcmp(prev, r->in.reqid) != 0, rows[i].line,
			    "differs from the previous one");
			snprintf(prev, sizeof(prev), "%s", r->in.reqid);
		}
		tap_ok(r->sess == NULL && r->route == NULL && r->id == NULL &&
		    r->in.body == NULL && r->out.status == 0 && r->out.err == ERR_NONE,
		    rows[i].line, "per-request state cleared");
		/* Dirty the state for the next row. */
		r->out.status = 500;
		r->out.err = ERR_CONFLICT;
		r->id = "x";
		buf_puts(&r->out.data, "stale");
		buf_puts(&r->out.details, "stale");
		req_end(r);
		tap_ok(r->out.data.len == 0, rows[i].line, "req_end empties data");
	}
	{
		char	*envp2[] = {
			(char *)(uintptr_t)"HTTP_X_REQUEST_ID=keep.me_1",
			(char *)(uintptr_t)"HTTP_COOKIE=a=b",
			NULL
		};

		ok(req_begin(r, envp2, NULL, NULL) == QERR_OK, "req_begin");
		is_str(req_param(r, "HTTP_COOKIE"), "a=b", "req_param");
		ok(req_param(r, "HTTP_COOKI") == NULL, "req_param prefix");
		ok(req_param(r, "COOKIE") == NULL, "req_param suffix");
		ok(req_param(r, "HTTP_X_REQUEST_ID") != NULL &&
		    strcmp(r->in.reqid, "keep.me_1") == 0, "id echoed");
		ok(r->out.data.len == 0 && r->out.details.len == 0,
		    "buffers empty at the start");
		req_end(r);
		ok(req_param(r, "HTTP_COOKIE") == NULL,
		    "no parameters after req_end");
	}
}

int
main(void)
{
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", "postgresql://db/quire" },
		{ "QUIRE_MAX_BODY", "2048" },
		{ NULL, NULL }
	};
	struct conf	 c;
	struct arena	*a;
	struct req	 r;
	char		 err[256];

	test_route_path();
	test_method();
	test_id_sane();
	test_is_json();

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
	test_body(&r);
	test_begin(&r);
	req_teardown(&r);
	arena_free(a);
	conf_free(&c);
	return tap_done();
}
