/*
 * Path routing: the CGI path rules and the route table.
 */
#include "config.h"

#include <stdint.h>

#include "fuzz_common.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct route	*rt;
	const char		*path, *id;
	char			*s, *uri, allow[64];
	size_t			 idlen, half;
	int			 m;

	fz_setup();
	s = fz_str(data, size);
	half = size / 2;
	uri = s + half;
	/* First half is SCRIPT_NAME, second REQUEST_URI (and PATH_INFO). */
	{
		char	 save = s[half];

		s[half] = '\0';
		path = req_route_path(fz_arena, NULL, save == '\0' ? "" : uri,
		    s);
		s[half] = save;
	}
	if (path == NULL || path[0] != '/')
		abort();
	for (m = 0; m < METHOD__MAX; m++)
		if (route_match(routes, nroutes, (enum http_method)m, path, &rt,
		    &id, &idlen, allow, sizeof(allow)) == ROUTE_FOUND &&
		    id != NULL && (idlen == 0 || memchr(id, '/', idlen) != NULL))
			abort();
	path = req_route_path(fz_arena, uri, NULL, NULL);
	if (path == NULL)
		abort();
	arena_reset(fz_arena);
	free(s);
	return 0;
}
