/*
 * Names of the internal error codes, for logs.
 */
#include "config.h"

#include "quire.h"

const char *
qerr_str(enum qerr e)
{
	static const char *const names[QERR__MAX] = {
		"ok", "out of memory", "database unavailable",
		"database error", "conflict", "not found", "too big",
		"i/o error", "invalid input"
	};

	return e < QERR__MAX ? names[e] : "unknown";
}
