/*
 * The auth rate limit (API.md, Authentication and Account lifecycle):
 * one counter per client address and one per canonical email, shared by
 * every route that takes a credential or sends mail.
 */
#ifndef QUIRE_LIMIT_H
#define QUIRE_LIMIT_H

#include "req.h"

/*
 * Counts this attempt against the client address and, when email is not
 * NULL, against that canonical email. Returns 0 when under the limit,
 * else the answer's status (429 with Retry-After, or 503) with the
 * answer written.
 */
int		 limit_auth(struct req *, const char *email);

#endif
