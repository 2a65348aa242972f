/*
 * The client address (xff.c) from REMOTE_ADDR, X-Forwarded-For and the
 * trusted proxies, each a NUL-separated part of the input. Whatever comes
 * in, the result is valid UTF-8 of bounded length; when REMOTE_ADDR is an
 * address, so is the result, in its one canonical spelling.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz_common.h"
#include "utf8.h"
#include "xff.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *remote, *xff, *list, *proxies[8], *p;
	char	 out[XFF_ADDR_MAX], canon[XFF_ADDR_MAX];
	const char *got;
	size_t	 n, len;

	s = fz_str(data, size);
	remote = s;
	xff = remote + strlen(remote) + 1 <= s + size ? remote + strlen(remote) + 1 : NULL;
	list = xff != NULL && xff + strlen(xff) + 1 <= s + size ? xff + strlen(xff) + 1 : NULL;
	n = 0;
	for (p = list; p != NULL && n < 8; ) {
		proxies[n++] = p;
		if ((p = strchr(p, ',')) != NULL)
			*p++ = '\0';
	}
	got = xff_client(remote, xff, proxies, n, out);
	len = strlen(got);
	if (got != out || len >= XFF_ADDR_MAX || !utf8_valid(got, len))
		abort();
	/* From an address, an address in its canonical spelling. */
	if (xff_canon(remote, strlen(remote), canon) == 0 &&
	    (xff_canon(got, len, canon) == -1 || strcmp(canon, got) != 0))
		abort();
	free(s);
	return 0;
}
