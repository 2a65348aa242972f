/*
 * Answers about stored resources: lists (the array of items, and meta
 * with limit, offset and the next page's cursor), and the one resource
 * named by the path's id.
 */
#ifndef QUIRE_PAGE_H
#define QUIRE_PAGE_H

#include <libpq-fe.h>

#include "jw.h"
#include "query.h"
#include "stmts.h"
#include "req.h"

/* Writes row of res as one item; returns 0, or -1 on a malformed row. */
typedef int (*page_item)(struct req *, struct jw *, const PGresult *, int row);

/*
 * Answers 200 with the first `limit` rows of res (which was asked for
 * limit + 1 rows) and meta, ending the page early (after one row at
 * least) where the next row would take its JSON past
 * QUIRE_MAX_PAGE_BYTES. The cursor points past the last row shown, from
 * its id (column 0) and raw created_at (column ts_col); it is null when
 * no further row exists. With a cursor, meta.offset is 0.
 */
int	page_answer(struct req *, const PGresult *, const struct qval *limit,
	    const struct qval *offset, const struct qval *cursor, int ts_col,
	    page_item);

/*
 * Parses the query string against spec (whose first entries are limit,
 * offset and cursor, in PAGE_* order) into q. Returns 0, or the answer's
 * status (400 VALIDATION_ERROR with details).
 */
int	page_query(struct req *, const struct query_spec *, struct qval *q);

/*
 * Runs a list statement and answers with page_answer(). With a cursor it
 * runs `after` with params[0..nfilter) then (ts, id, limit + 1); else
 * `offset` with params[0..nfilter) then (limit + 1, offset). params must
 * have room for nfilter + 3 entries.
 */
int	page_run(struct req *, const struct qval *q, enum stmt offset,
	    enum stmt after, const char **params, int nfilter, int ts_col,
	    page_item);

/*
 * Runs s (one parameter: the path's id) and leaves its single row in
 * *res. A missing or non-UUID id answers 404 "<what> not found"; reads
 * go to the primary when fresh is set. Returns 0, or the answer's status.
 */
int	page_one(struct req *, enum stmt s, int fresh, const char *what,
	    PGresult **res);

#endif
