/*
 * Shared types of quire: error codes used by every module.
 */
#ifndef QUIRE_H
#define QUIRE_H

#define QUIRE_WUR __attribute__((warn_unused_result))

/*
 * Internal result codes. Only db.c maps SQLSTATEs to these and only
 * resp.c maps them to HTTP.
 */
enum qerr {
	QERR_OK = 0,
	QERR_NOMEM,		/* allocation failed or per-request ceiling hit */
	QERR_DB_DOWN,		/* the needed server cannot be reached */
	QERR_DB,		/* the server answered with an unexpected error */
	QERR_CONFLICT,		/* unique constraint */
	QERR_NOTFOUND,		/* no such row */
	QERR_TOOBIG,		/* a bounded buffer or body overflowed */
	QERR_IO,		/* reading the request or writing the answer */
	QERR_INVAL,		/* malformed input */
	QERR__MAX
};

const char	*qerr_str(enum qerr);

/*
 * The contract's error answers (resp.c holds their statuses, codes and
 * messages). ERR_NONE: the answer is a success.
 */
enum resp_err {
	ERR_NONE = 0,
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

#endif
