/*
 * The list envelope shared by every list route.
 */
#include "config.h"

#include "arena.h"
#include "page.h"
#include "resp.h"

int
page_answer(struct req *r, const PGresult *res, const struct qval *limit,
    const struct qval *offset, const struct qval *cursor, int ts_col,
    page_item item)
{
	struct jw	 w;
	const char	*next;
	int		 i, n, shown;

	n = PQntuples(res);
	shown = n > limit->n ? (int)limit->n : n;
	resp_ok(r, 200, &w);
	jw_arr(&w);
	for (i = 0; i < shown; i++)
		if (item(r, &w, res, i) == -1)
			return resp_error(r, ERR_INTERNAL, NULL);
	jw_arr_end(&w);
	next = NULL;
	if (n > shown && shown > 0) {
		next = query_cursor_encode(r->arena,
		    PQgetvalue(res, shown - 1, ts_col),
		    PQgetvalue(res, shown - 1, 0));
		if (next == NULL)
			return resp_qerr(r, QERR_NOMEM);
	}
	resp_list_meta(r, limit->n, cursor->present ? 0 : offset->n, next);
	return r->status;
}
