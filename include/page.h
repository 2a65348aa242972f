/*
 * List answers: the array of items, and meta with limit, offset and the
 * next page's cursor.
 */
#ifndef QUIRE_PAGE_H
#define QUIRE_PAGE_H

#include <libpq-fe.h>

#include "jw.h"
#include "query.h"
#include "req.h"

/* Writes row of res as one item; returns 0, or -1 on a malformed row. */
typedef int (*page_item)(struct req *, struct jw *, const PGresult *, int row);

/*
 * Answers 200 with the first `limit` rows of res (which was asked for
 * limit + 1 rows) and meta. The cursor points past the last row shown,
 * from its id (column 0) and raw created_at (column ts_col); it is null
 * when no further row exists. With a cursor, meta.offset is 0.
 */
int	page_answer(struct req *, const PGresult *, const struct qval *limit,
	    const struct qval *offset, const struct qval *cursor, int ts_col,
	    page_item);

#endif
