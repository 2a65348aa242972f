/*
 * Responses: the contract's envelope, its error table and headers.
 * Handlers fill r->data (the "data" value) or call resp_error(); only
 * resp_render() writes headers.
 */
#ifndef QUIRE_RESP_H
#define QUIRE_RESP_H

#include <sys/uio.h>

#include "jw.h"
#include "req.h"

/*
 * Makes the answer an error: status and code from the table, msg or the
 * table's default message when NULL. Drops any data written so far.
 * Returns the HTTP status.
 */
int	resp_error(struct req *, enum resp_err, const char *msg);

/* The contract's code of e ("VALIDATION_ERROR"...), or NULL for ERR_NONE. */
const char *resp_code(enum resp_err);

/* Maps an internal error to the answer it deserves (503, 500, 409...). */
int	resp_qerr(struct req *, enum qerr);

/* Adds a validation detail; resp_error(r, ERR_VALIDATION) sends them. */
void	resp_detail(struct req *, const char *field, const char *msg);

/* Starts a success answer: sets status, returns a writer for "data". */
void	resp_ok(struct req *, int status, struct jw *);

/*
 * Sets the list meta: limit, offset and the next page's cursor (NULL on
 * the last page).
 */
void	resp_list_meta(struct req *, long limit, long offset, const char *cursor);

/*
 * Starts a success answer that is not wrapped in the envelope: the
 * caller writes the whole body of the given media type into r->out.data.
 */
void	resp_raw(struct req *, const char *content_type);

/* Adds a header line; name and value must be free of CR/LF. */
void	resp_header(struct req *, const char *name, const char *value);
/*
 * The same, placed before the headers already added. curl (7.88) keeps a
 * cookie cleared with Max-Age=0 when another Set-Cookie follows it in
 * the same answer, so a cookie added after the handler goes first.
 */
void	resp_header_first(struct req *, const char *name, const char *value);

/*
 * The answer's bytes, in order: the head (CGI status and headers, and
 * the envelope's start), the data itself, and the envelope's end. The
 * pieces point into the head buffer given to resp_render_iov and into
 * r (borrowed: valid until the next request). HEAD gets the head alone.
 */
struct resp_out {
	struct iovec	 iov[3];
	int		 n;
	size_t		 body_len;	/* Content-Length: what a GET's body holds */
};

/*
 * Renders r's complete CGI answer (Status line, headers, blank line,
 * body). A list page goes out from r->out.data where the handler wrote it,
 * never copied. On a builder failure the answer becomes a bare 500
 * envelope, so something valid is always sent.
 * Every 500 is counted and logged with the request id and SQLSTATE.
 */
void	resp_render_iov(struct req *, struct buf *head, struct resp_out *);
/* The same answer in one piece in out; returns the Content-Length. */
size_t	resp_render(struct req *, struct buf *out);


#endif
