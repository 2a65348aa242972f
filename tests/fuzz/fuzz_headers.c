/*
 * The Cookie and Authorization parsers, the request-id and media-type
 * checks.
 */
#include "config.h"

#include <stdint.h>

#include "auth.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, tok[AUTH_TOKEN_LEN + 1];
	const char	*t;

	s = fz_str(data, size);
	if ((t = auth_cookie_token(s, tok)) != NULL &&
	    !auth_token_sane(t, strlen(t)))
		abort();
	if ((t = auth_bearer_token(s, tok)) != NULL &&
	    !auth_token_sane(t, strlen(t)))
		abort();
	(void)req_id_sane(s);
	(void)req_is_json(s);
	free(s);
	return 0;
}
