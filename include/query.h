/*
 * Query strings: one declarative table per route, one walker that
 * percent-decodes, applies bounds, refuses repeats and fills typed
 * values. Unknown parameters are ignored, as the contract says.
 */
#ifndef QUIRE_QUERY_H
#define QUIRE_QUERY_H

#include <stddef.h>

#include "req.h"

enum qptype {
	QP_INT,		/* plain decimal digits within [min, max] */
	QP_UUID,	/* canonical lower-case UUID */
	QP_TEXT,	/* UTF-8 text, [min, max] code points */
	QP_CURSOR	/* an opaque pagination cursor */
};

struct qparam {
	const char	*name;
	enum qptype	 type;
	long		 min, max;
	long		 def;		/* QP_INT default when absent */
};

struct query_spec {
	const struct qparam	*params;
	size_t			 nparams;
	/*
	 * NULL, or the name this route's cursors carry: a cursor made for
	 * another route is refused (400 on cursor), and this route's are
	 * refused by the others.
	 */
	const char		*cursor_tag;
};

/*
 * A parsed value. For QP_CURSOR, s is the position's timestamp and id the
 * row id; tag is the spec's cursor_tag (present or not), for the next one.
 */
struct qval {
	int		 present;
	long		 n;
	const char	*s;		/* arena, NUL-terminated */
	size_t		 len;
	const char	*id;
	const char	*tag;
};

enum { PAGE_LIMIT, PAGE_OFFSET, PAGE_CURSOR, PAGE__MAX };
enum { POSTQ_LIMIT, POSTQ_OFFSET, POSTQ_CURSOR, POSTQ_AUTHOR, POSTQ_Q, POSTQ__MAX };

enum { AUDITQ_LIMIT, AUDITQ_OFFSET, AUDITQ_CURSOR, AUDITQ_USER, AUDITQ_ACTION,
	AUDITQ__MAX };

extern const struct query_spec query_page;
extern const struct query_spec query_posts;
extern const struct query_spec query_audit;	/* GET /audit: cursors tagged "audit" */

#define QUERY_CURSOR_TS_MAX	40

/*
 * Parses r->in.query against spec into out (spec->nparams entries). Returns
 * QERR_OK, QERR_INVAL with details added to r (field = parameter name),
 * or QERR_NOMEM. "cursor" together with "offset" is refused.
 */
enum qerr	 query_parse(struct req *, const struct query_spec *,
		    struct qval *out) QUIRE_WUR;

/*
 * Percent-decodes s[0..n) ('+' is a space) into dst (n + 1 bytes).
 * Returns the decoded length, or -1 on a malformed escape or a NUL.
 */
long		 query_decode(char *dst, const char *s, size_t n);

/*
 * A cursor for the position (ts, id): ts is PostgreSQL's ISO text of the
 * row's created_at. Returns arena memory or NULL.
 */
char		*query_cursor_encode(struct arena *, const char *ts, const char *id);
/* Decodes a cursor into ts (QUERY_CURSOR_TS_MAX + 1) and id (37). Returns 0 or -1. */
int		 query_cursor_decode(const char *s, size_t n, char *ts, char *id);

#define QUERY_CURSOR_TAG_MAX	15

/*
 * The same with a tag (at most QUERY_CURSOR_TAG_MAX of [a-z_], or NULL
 * for none): a tagged cursor decodes only with its own tag, and an
 * untagged one only without.
 */
char		*query_cursor_encode_tag(struct arena *, const char *tag,
		    const char *ts, const char *id);
int		 query_cursor_decode_tag(const char *s, size_t n, const char *tag,
		    char *ts, char *id);

#endif
