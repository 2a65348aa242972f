/*
 * The list envelope shared by every list route.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "fmt.h"
#include "page.h"
#include "resp.h"

/* Room left in a page for the envelope around the items and meta. */
#define PAGE_ENVELOPE	512

int
page_answer(struct req *r, const PGresult *res, const struct qval *limit,
    const struct qval *offset, const struct qval *cursor, int ts_col,
    page_item item)
{
	struct jw	 w;
	const char	*next;
	size_t		 before, max;
	int		 i, n, shown;

	n = PQntuples(res);
	shown = n > limit->n ? (int)limit->n : n;
	max = r->conf->max_page_bytes > PAGE_ENVELOPE ?
	    r->conf->max_page_bytes - PAGE_ENVELOPE : 0;
	resp_ok(r, 200, &w);
	jw_arr(&w);
	for (i = 0; i < shown; i++) {
		before = r->out.data.len;
		if (item(r, &w, res, i) == -1)
			return resp_error(r, ERR_INTERNAL, NULL);
		/*
		 * Past the page's size the item is taken back and the page
		 * ends: one account's huge posts must not make every reader's
		 * page (and a worker's memory) huge. One item always goes out.
		 */
		if (i > 0 && r->out.data.len > max) {
			buf_truncate(&r->out.data, before);
			shown = i;
			break;
		}
	}
	jw_arr_end(&w);
	next = NULL;
	if (n > shown && shown > 0) {
		next = query_cursor_encode_tag(r->arena, cursor->tag,
		    PQgetvalue(res, shown - 1, ts_col),
		    PQgetvalue(res, shown - 1, 0));
		if (next == NULL)
			return resp_qerr(r, QERR_NOMEM);
	}
	resp_list_meta(r, limit->n, cursor->present ? 0 : offset->n, next);
	return r->out.status;
}

int
page_query(struct req *r, const struct query_spec *spec, struct qval *q)
{
	enum qerr	 e;

	if ((e = query_parse(r, spec, q)) == QERR_OK)
		return 0;
	if (e == QERR_INVAL)
		return resp_error(r, ERR_VALIDATION, "Invalid query parameters");
	return resp_qerr(r, e);
}

int
page_run(struct req *r, const struct qval *q, enum stmt offset,
    enum stmt after, const char **params, int nfilter, int ts_col,
    page_item item)
{
	PGresult	*res;
	char		*lim, *off;
	enum qerr	 e;
	int		 n;

	n = nfilter;
	/* One row more than shown: it says whether a next page exists. */
	lim = arena_printf(r->arena, "%ld", q[PAGE_LIMIT].n + 1);
	off = arena_printf(r->arena, "%ld", q[PAGE_OFFSET].n);
	if (lim == NULL || off == NULL)
		return resp_qerr(r, QERR_NOMEM);
	if (q[PAGE_CURSOR].present) {
		params[n++] = q[PAGE_CURSOR].s;
		params[n++] = q[PAGE_CURSOR].id;
		params[n++] = lim;
	} else {
		params[n++] = lim;
		params[n++] = off;
	}
	if ((e = db_exec(r, DB_READ, q[PAGE_CURSOR].present ? after : offset,
	    params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	return page_answer(r, res, &q[PAGE_LIMIT], &q[PAGE_OFFSET],
	    &q[PAGE_CURSOR], ts_col, item);
}

int
page_one(struct req *r, enum stmt s, int fresh, const char *what,
    PGresult **res)
{
	const char	*params[1];
	char		 msg[64];
	enum qerr	 e;

	if (r->id != NULL && fmt_is_uuid(r->id, strlen(r->id))) {
		params[0] = r->id;
		if ((e = db_exec(r, fresh ? DB_PRIMARY : DB_READ, s, params,
		    res)) != QERR_OK)
			return resp_qerr(r, e);
		if (PQntuples(*res) == 1)
			return 0;
	}
	/* Formatted only when needed: found is the common case. */
	snprintf(msg, sizeof(msg), "%s not found", what);
	return resp_error(r, ERR_NOT_FOUND, msg);
}
