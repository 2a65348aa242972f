/*
 * The envelope, the error table and the header writer.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "resp.h"
#include "route.h"

struct err_entry {
	int		 status;
	const char	*code;
	const char	*message;
};

static const struct err_entry errs[ERR__MAX] = {
	[ERR_INVALID_JSON] = { 400, "INVALID_JSON",
	    "Request body is not a valid JSON object" },
	[ERR_VALIDATION] = { 400, "VALIDATION_ERROR",
	    "Request validation failed" },
	[ERR_UNAUTHORIZED] = { 401, "UNAUTHORIZED",
	    "Authentication required" },
	[ERR_FORBIDDEN] = { 403, "FORBIDDEN", "Forbidden" },
	[ERR_NOT_FOUND] = { 404, "NOT_FOUND", "Not found" },
	[ERR_METHOD_NOT_ALLOWED] = { 405, "METHOD_NOT_ALLOWED",
	    "Method not allowed" },
	[ERR_CONFLICT] = { 409, "CONFLICT", "Conflict" },
	[ERR_PAYLOAD_TOO_LARGE] = { 413, "PAYLOAD_TOO_LARGE",
	    "Request body too large" },
	[ERR_UNSUPPORTED_MEDIA_TYPE] = { 415, "UNSUPPORTED_MEDIA_TYPE",
	    "Content-Type must be application/json" },
	[ERR_RATE_LIMITED] = { 429, "RATE_LIMITED",
	    "Too many attempts, try again later" },
	[ERR_INTERNAL] = { 500, "INTERNAL_ERROR", "Internal server error" },
	[ERR_SERVICE_UNAVAILABLE] = { 503, "SERVICE_UNAVAILABLE",
	    "Database unavailable" },
};

const char *
resp_code(enum resp_err e)
{

	return e > ERR_NONE && e < ERR__MAX ? errs[e].code : NULL;
}

int
resp_error(struct req *r, enum resp_err e, const char *msg)
{

	r->out.status = errs[e].status;
	r->out.err = e;
	buf_reset(&r->out.data);
	buf_reset(&r->out.meta);
	buf_puts(&r->out.data, msg != NULL ? msg : errs[e].message);
	if (e != ERR_VALIDATION)
		buf_reset(&r->out.details);
	return r->out.status;
}

int
resp_qerr(struct req *r, enum qerr e)
{

	switch (e) {
	case QERR_DB_DOWN:
		return resp_error(r, ERR_SERVICE_UNAVAILABLE, NULL);
	case QERR_CONFLICT:
		return resp_error(r, ERR_CONFLICT, NULL);
	case QERR_NOTFOUND:
		return resp_error(r, ERR_NOT_FOUND, NULL);
	case QERR_TOOBIG:
		return resp_error(r, ERR_PAYLOAD_TOO_LARGE, NULL);
	default:
		return resp_error(r, ERR_INTERNAL, NULL);
	}
}

void
resp_detail(struct req *r, const char *field, const char *msg)
{
	struct jw	 w;
	size_t		 n;

	/* A hostile body with thousands of bad keys gets a bounded answer. */
	if (r->out.details.len > BOUND_DETAILS)
		return;
	n = strlen(field);
	if (n > 128) {
		n = 128;
		while (n > 0 && ((unsigned char)field[n] & 0xc0) == 0x80)
			n--;
	}
	jw_init(&w, &r->out.details);
	/* Continue the array in place: a comma when it already has items. */
	if (r->out.details.len > 0)
		buf_putc(&r->out.details, ',');
	jw_obj(&w);
	jw_key(&w, "field");
	jw_strn(&w, field, n);
	jw_key(&w, "message");
	jw_str(&w, msg);
	jw_obj_end(&w);
}

void
resp_ok(struct req *r, int status, struct jw *w)
{

	r->out.status = status;
	r->out.err = ERR_NONE;
	buf_reset(&r->out.data);
	jw_init(w, &r->out.data);
}

void
resp_raw(struct req *r, const char *type)
{

	r->out.status = 200;
	r->out.err = ERR_NONE;
	r->out.raw_type = type;
	buf_reset(&r->out.data);
}

void
resp_list_meta(struct req *r, long limit, long offset, const char *cursor)
{
	struct jw	 w;

	buf_reset(&r->out.meta);
	jw_init(&w, &r->out.meta);
	jw_obj(&w);
	jw_key(&w, "limit");
	jw_int(&w, limit);
	jw_key(&w, "offset");
	jw_int(&w, offset);
	jw_key(&w, "nextCursor");
	jw_str(&w, cursor);
	jw_obj_end(&w);
}

void
resp_header(struct req *r, const char *name, const char *value)
{

	buf_puts(&r->out.hdrs, name);
	buf_append(&r->out.hdrs, ": ", 2);
	buf_puts(&r->out.hdrs, value);
	buf_append(&r->out.hdrs, "\r\n", 2);
}

void
resp_header_first(struct req *r, const char *name, const char *value)
{
	struct buf	 old;

	old = r->out.hdrs;
	buf_init(&r->out.hdrs, old.max);
	resp_header(r, name, value);
	if (old.len > 0)
		buf_append(&r->out.hdrs, old.p, old.len);
	buf_free(&old);
}

/* The JSON body for the current state of r. */
static void
render_body(struct req *r, struct buf *b)
{

	if (r->out.err == ERR_NONE) {
		buf_puts(b, "{\"success\":true,\"data\":");
		if (r->out.data.len > 0)
			buf_append(b, r->out.data.p, r->out.data.len);
		else
			buf_puts(b, "{}");
		if (r->out.meta.len > 0) {
			buf_puts(b, ",\"meta\":");
			buf_append(b, r->out.meta.p, r->out.meta.len);
		}
		buf_putc(b, '}');
		return;
	}
	buf_puts(b, "{\"success\":false,\"message\":");
	jw_escape(b, r->out.data.p != NULL ? r->out.data.p : "", r->out.data.len);
	buf_puts(b, ",\"error\":\"");
	buf_puts(b, errs[r->out.err].code);
	buf_putc(b, '"');
	if (r->out.err == ERR_VALIDATION) {
		buf_puts(b, ",\"details\":[");
		if (r->out.details.len > 0)
			buf_append(b, r->out.details.p, r->out.details.len);
		buf_putc(b, ']');
	}
	if (r->out.meta.len > 0) {
		/* Errors that carry data (/health/db down) put it here. */
		buf_puts(b, ",\"data\":");
		buf_append(b, r->out.meta.p, r->out.meta.len);
	}
	buf_putc(b, '}');
}

/* The CGI head: status, headers and the blank line, for a body of blen bytes. */
static void
render_head(struct req *r, struct buf *out, size_t blen)
{

	buf_puts(out, "Status: ");
	buf_putu(out, (unsigned)r->out.status);
	buf_putc(out, ' ');
	buf_puts(out, http_reason(r->out.status));
	buf_puts(out, "\r\nContent-Type: ");
	buf_puts(out, r->out.raw_type != NULL && r->out.err == ERR_NONE ?
	    r->out.raw_type : "application/json; charset=utf-8");
	buf_puts(out, "\r\nContent-Length: ");
	buf_putu(out, blen);
	buf_puts(out, "\r\n");
	buf_puts(out, "X-Request-Id: ");
	buf_puts(out, r->in.reqid);
	buf_puts(out, "\r\n");
	/* Auth answers, and anything shown to a signed-in caller, stay private. */
	if (strncmp(r->in.path != NULL ? r->in.path : "", "/auth/", 6) == 0 ||
	    r->sess != NULL)
		buf_puts(out, "Cache-Control: no-store\r\n");
	if (r->out.hdrs.len > 0)
		buf_append(out, r->out.hdrs.p, r->out.hdrs.len);
	buf_puts(out, "\r\n");
}

/*
 * Every 500 is a bug or a database failure nobody foresaw: it gets an
 * error line with what is known (the statement's SQLSTATE) and a count
 * for the alert, whatever path produced it.
 */
static void
report_internal(const struct req *r)
{

	metrics_internal_error();
	log_msg(LVL_ERROR, r->in.reqid, "internal error: %s %s sqlstate=%s",
	    r->in.method_name != NULL ? r->in.method_name : "-",
	    r->route != NULL ? r->route->path : "(unmatched)",
	    r->out.sqlstate[0] != '\0' ? r->out.sqlstate : "-");
}

static void
piece(struct resp_out *o, const void *p, size_t n)
{

	if (n == 0)
		return;
	o->iov[o->n].iov_base = (void *)(uintptr_t)p;
	o->iov[o->n].iov_len = n;
	o->n++;
}

void
resp_render_iov(struct req *r, struct buf *out, struct resp_out *o)
{
	static const char fallback[] = "{\"success\":false,\"message\":"
	    "\"Internal server error\",\"error\":\"INTERNAL_ERROR\"}";
	static const char ok_start[] = "{\"success\":true,\"data\":";
	static const char meta_start[] = ",\"meta\":";
	const char	*mid;
	size_t		 midlen, headlen, taillen;
	int		 body;

	memset(o, 0, sizeof(*o));
	body = r->in.method != METHOD_HEAD;
	if (r->out.status == 0)
		resp_error(r, ERR_INTERNAL, NULL);
	if (buf_err(&r->out.data) != QERR_OK || buf_err(&r->out.meta) != QERR_OK ||
	    buf_err(&r->out.details) != QERR_OK || buf_err(&r->out.hdrs) != QERR_OK) {
		buf_reset(&r->out.hdrs);
		resp_error(r, ERR_INTERNAL, NULL);
	}
	buf_reset(out);
	if (r->out.err == ERR_NONE && r->out.raw_type != NULL) {
		/* /metrics, /openapi.json: the document as it is. */
		mid = r->out.data.p != NULL ? r->out.data.p : "";
		midlen = r->out.data.len;
		render_head(r, out, midlen);
		headlen = out->len;
		taillen = 0;
	} else if (r->out.err == ERR_NONE) {
		/*
		 * The envelope around r->out.data, which goes out where it is: a
		 * list page may be megabytes, and one copy of it is enough.
		 */
		mid = r->out.data.len > 0 ? r->out.data.p : "{}";
		midlen = r->out.data.len > 0 ? r->out.data.len : 2;
		taillen = r->out.meta.len > 0 ? sizeof(meta_start) - 1 +
		    r->out.meta.len + 1 : 1;
		render_head(r, out, sizeof(ok_start) - 1 + midlen + taillen);
		if (body)
			buf_append(out, ok_start, sizeof(ok_start) - 1);
		headlen = out->len;
		if (r->out.meta.len > 0) {
			buf_append(out, meta_start, sizeof(meta_start) - 1);
			buf_append(out, r->out.meta.p, r->out.meta.len);
		}
		buf_putc(out, '}');
	} else {
		/* Errors are small: built whole, then sent after the head. */
		buf_reset(&r->out.json_out);
		render_body(r, &r->out.json_out);
		mid = r->out.json_out.p;
		midlen = r->out.json_out.len;
		if (buf_err(&r->out.json_out) == QERR_OK)
			render_head(r, out, midlen);
		headlen = out->len;
		taillen = 0;
	}
	if (buf_err(out) == QERR_OK && (r->out.err == ERR_NONE ||
	    buf_err(&r->out.json_out) == QERR_OK)) {
		o->body_len = out->len - headlen + midlen +
		    (r->out.err == ERR_NONE && r->out.raw_type == NULL ?
		    sizeof(ok_start) - 1 : 0);
		piece(o, out->p, headlen);
		if (body) {
			piece(o, mid, midlen);
			piece(o, out->p + headlen, taillen);
		}
	} else {
		/* Last resort: a fixed answer that needs little memory to be right. */
		buf_trim(out, 0);
		r->out.status = 500;
		r->out.err = ERR_INTERNAL;
		buf_reset(&r->out.hdrs);
		render_head(r, out, sizeof(fallback) - 1);
		o->body_len = sizeof(fallback) - 1;
		piece(o, out->p, out->len);
		if (body)
			piece(o, fallback, sizeof(fallback) - 1);
	}
	if (r->out.status == 500)
		report_internal(r);
}

size_t
resp_render(struct req *r, struct buf *out)
{
	struct resp_out	 o;
	struct buf	 tmp;
	int		 i;

	buf_init(&tmp, out->max);
	resp_render_iov(r, &tmp, &o);
	buf_reset(out);
	for (i = 0; i < o.n; i++)
		buf_append(out, o.iov[i].iov_base, o.iov[i].iov_len);
	if (buf_err(out) != QERR_OK && r->out.status != 500) {
		/* Too big for out: what a response buffer that ran out answers. */
		r->out.data.err = QERR_TOOBIG;
		resp_render_iov(r, &tmp, &o);
		buf_reset(out);
		for (i = 0; i < o.n; i++)
			buf_append(out, o.iov[i].iov_base, o.iov[i].iov_len);
	}
	buf_free(&tmp);
	return o.body_len;
}
