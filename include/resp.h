/*
 * Responses: the contract's envelope, its error table and headers.
 * Handlers fill r->data (the "data" value) or call resp_error(); only
 * resp_render() writes headers.
 */
#ifndef QUIRE_RESP_H
#define QUIRE_RESP_H

#include "jw.h"
#include "req.h"

enum resp_err {
	ERR_INVALID_JSON,
	ERR_VALIDATION,
	ERR_UNAUTHORIZED,
	ERR_FORBIDDEN,
	ERR_NOT_FOUND,
	ERR_METHOD_NOT_ALLOWED,
	ERR_CONFLICT,
	ERR_PAYLOAD_TOO_LARGE,
	ERR_UNSUPPORTED_MEDIA_TYPE,
	ERR_RATE_LIMITED,
	ERR_INTERNAL,
	ERR_SERVICE_UNAVAILABLE,
	ERR__MAX
};

/*
 * Makes the answer an error: status and code from the table, msg or the
 * table's default message when NULL. Drops any data written so far.
 * Returns the HTTP status.
 */
int	resp_error(struct req *, enum resp_err, const char *msg);

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
 * caller writes the whole body of the given media type into r->data.
 */
void	resp_raw(struct req *, const char *content_type);

/* Adds a header line; name and value must be free of CR/LF. */
void	resp_header(struct req *, const char *name, const char *value);

/*
 * Builds the complete CGI answer (Status line, headers, blank line,
 * body) into out. On a builder failure the answer becomes a bare 500
 * envelope, so something valid is always sent.
 */
void	resp_render(struct req *, struct buf *out);

const char *resp_reason(int status);

#endif
