/*
 * Request set-up from the CGI parameters, and the body reader.
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "arena.h"
#include "bounds.h"
#include "fmt.h"
#include "req.h"

#define BUF_KEEP	(64 * 1024)	/* buffers above this are freed after a request */

static const char *const method_names[METHOD__MAX] = {
	"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "OTHER"
};

double
req_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum http_method
req_method(const char *m)
{
	int	 i;

	if (m == NULL)
		return METHOD_OTHER;
	for (i = 0; i < METHOD_OTHER; i++)
		if (strcmp(m, method_names[i]) == 0)
			return (enum http_method)i;
	return METHOD_OTHER;
}

const char *
req_method_name(enum http_method m)
{

	return method_names[m < METHOD__MAX ? m : METHOD_OTHER];
}

int
req_id_sane(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= REQID_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return i > 0;
}

enum qerr
req_setup(struct req *r, const struct conf *c, struct db *db, struct arena *a)
{

	memset(r, 0, sizeof(*r));
	r->conf = c;
	r->db = db;
	r->arena = a;
	buf_init(&r->out.data, BOUND_RESPONSE / 2);
	buf_init(&r->out.meta, 4096);
	buf_init(&r->out.details, 65536);
	buf_init(&r->out.hdrs, 16384);
	buf_init(&r->out.json_out, BOUND_RESPONSE / 2);
	return QERR_OK;
}

void
req_teardown(struct req *r)
{

	buf_free(&r->out.data);
	buf_free(&r->out.meta);
	buf_free(&r->out.details);
	buf_free(&r->out.hdrs);
	buf_free(&r->out.json_out);
}

const char *
req_param(const struct req *r, const char *name)
{
	const char	*v;
	char		**e;
	size_t		  n;

	if (r->in.envp == NULL)
		return NULL;
	n = strlen(name);
	/*
	 * The last of several wins: nginx passes one param per header line,
	 * and a proxy in front (HAProxy's option forwardfor) adds its own
	 * X-Forwarded-For line after whatever the client sent.
	 */
	v = NULL;
	for (e = r->in.envp; *e != NULL; e++)
		if (**e == *name && strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			v = *e + n + 1;
	return v;
}

const char *
req_route_path(struct arena *a, const char *path_info, const char *uri,
    const char *script)
{
	const char	*p;
	size_t		 n, sl;

	if (path_info != NULL && *path_info != '\0') {
		p = path_info;
		n = strlen(p);
	} else if (uri != NULL) {
		p = uri;
		n = strcspn(p, "?#");
		sl = script != NULL ? strlen(script) : 0;
		/* The mount point is a whole path prefix: /api, not /apix. */
		if (sl > 0 && sl <= n && strncmp(p, script, sl) == 0 &&
		    (sl == n || p[sl] == '/')) {
			p += sl;
			n -= sl;
		}
	} else {
		p = "";
		n = 0;
	}
	/* The /v1 alias: "/v1" alone or "/v1/..." but not "/v10". */
	if (n >= 3 && strncmp(p, "/v1", 3) == 0 && (n == 3 || p[3] == '/')) {
		p += 3;
		n -= 3;
	}
	if (n > 1 && p[n - 1] == '/')
		n--;
	if (n == 0)
		return arena_strdup(a, "/");
	return arena_strndup(a, p, n);
}

/*
 * A request id: 32 hex digits, unique rather than secret. A random
 * prefix drawn once per process, then a counter, so that no request pays
 * for a getrandom() call.
 */
static void
new_reqid(char *dst)
{
	static const char	 hex[] = "0123456789abcdef";
	static unsigned char	 raw[16];
	static int		 drawn;
	uint64_t		 n;
	size_t			 i;

	/* Workers are forked before their first request: each draws its own. */
	if (!drawn) {
		randombytes_buf(raw, sizeof(raw));
		drawn = 1;
	}
	n = 0;
	for (i = 8; i < 16; i++)
		n = n << 8 | raw[i];
	n++;
	for (i = 16; i-- > 8; n >>= 8)
		raw[i] = (unsigned char)(n & 0xff);
	for (i = 0; i < sizeof(raw); i++) {
		dst[2 * i] = hex[raw[i] >> 4];
		dst[2 * i + 1] = hex[raw[i] & 0xf];
	}
	dst[2 * sizeof(raw)] = '\0';
}

enum qerr
req_begin(struct req *r, char **envp, req_reader rd, void *ctx)
{
	const char	*id, *q;

	r->in.t_start = req_now();
	r->in.envp = envp;
	r->in.read = rd;
	r->in.read_ctx = ctx;
	r->out.status = 0;
	r->out.err = ERR_NONE;
	r->route = NULL;
	r->id = NULL;
	r->in.body = NULL;
	r->in.body_len = 0;
	q = req_param(r, "CONTENT_LENGTH");
	r->in.input_done = q == NULL || q[0] == '\0' || strcmp(q, "0") == 0;
	r->in.json = NULL;
	r->fields = NULL;
	r->sess = NULL;
	r->ryw.min_lsn = 0;
	r->ryw.wrote = 0;
	r->ryw.revoked = 0;
	r->in.client_addr = NULL;
	r->ryw.key = NULL;
	r->ryw.lsn_after = 0;
	r->ryw.client_lsn = 0;
	r->ryw.served_lsn = 0;
	r->ryw.nusers = 0;
	r->ryw.every_user = 0;
	r->out.pool = NULL;
	r->out.sqlstate[0] = '\0';
	r->out.raw_type = NULL;
	buf_reset(&r->out.data);
	buf_reset(&r->out.meta);
	buf_reset(&r->out.details);
	buf_reset(&r->out.hdrs);

	id = req_param(r, "HTTP_X_REQUEST_ID");
	if (id != NULL && req_id_sane(id))
		memcpy(r->in.reqid, id, strlen(id) + 1);
	else
		new_reqid(r->in.reqid);

	r->in.method_name = req_param(r, "REQUEST_METHOD");
	if (r->in.method_name == NULL)
		r->in.method_name = "GET";
	r->in.method = req_method(r->in.method_name);
	q = req_param(r, "QUERY_STRING");
	r->in.query = q != NULL ? q : "";
	r->in.path = req_route_path(r->arena, req_param(r, "PATH_INFO"),
	    req_param(r, "REQUEST_URI"), req_param(r, "SCRIPT_NAME"));
	if (r->in.path == NULL) {
		r->in.path = "/";
		return QERR_NOMEM;
	}
	return QERR_OK;
}

void
req_end(struct req *r)
{

	/* The arena frees the body and runs json_decref for us. */
	arena_reset(r->arena);
	r->in.envp = NULL;
	r->in.json = NULL;
	r->sess = NULL;
	buf_trim(&r->out.data, BUF_KEEP);
	buf_trim(&r->out.meta, BUF_KEEP);
	buf_trim(&r->out.details, BUF_KEEP);
	buf_trim(&r->out.hdrs, BUF_KEEP);
	buf_trim(&r->out.json_out, BUF_KEEP);
}

int
req_is_json(const char *ct)
{
	size_t	 n;

	if (ct == NULL)
		return 0;
	/* application/json, then nothing but blanks or parameters. */
	n = strlen(ct);
	fmt_trim(&ct, &n);
	if (n < 16 || strncasecmp(ct, "application/json", 16) != 0)
		return 0;
	ct += 16;
	n -= 16;
	fmt_trim(&ct, &n);
	return n == 0 || *ct == ';';
}

enum qerr
req_read_body(struct req *r)
{
	const char	*cl;
	long		 n;
	size_t		 len, got;
	unsigned long long v;

	cl = req_param(r, "CONTENT_LENGTH");
	len = 0;
	if (cl != NULL && *cl != '\0') {
		if (fmt_parse_u(cl, strlen(cl), ULLONG_MAX, &v) == -1)
			return QERR_INVAL;
		if (v > r->conf->max_body)
			return QERR_TOOBIG;
		len = (size_t)v;
	}
	if ((r->in.body = arena_alloc(r->arena, len + 1)) == NULL)
		return QERR_NOMEM;
	for (got = 0; got < len; got += (size_t)n) {
		n = r->in.read(r->in.read_ctx, r->in.body + got, len - got);
		if (n <= 0)
			return QERR_IO;
	}
	r->in.body[len] = '\0';
	r->in.body_len = len;
	r->in.input_done = 1;
	return QERR_OK;
}
