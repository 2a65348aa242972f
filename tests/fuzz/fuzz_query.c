/*
 * Query strings through both query tables, and the cursor decoder.
 */
#include "config.h"

#include <stdint.h>

#include "fmt.h"
#include "fuzz_common.h"
#include "query.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qval	 q[POSTQ__MAX];
	char		*s, ts[QUERY_CURSOR_TS_MAX + 1], id[37];
	char *const	 envp[] = { NULL };

	fz_setup();
	s = fz_str(data, size);
	if (query_cursor_decode(s, size, ts, id) == 0 && !fmt_is_uuid(id, strlen(id)))
		abort();
	if (req_begin(&fz_req, (char **)(uintptr_t)envp, NULL, NULL) != QERR_OK)
		abort();
	fz_req.in.query = s;
	if (query_parse(&fz_req, &query_posts, q) == QERR_OK &&
	    (q[POSTQ_LIMIT].n < 1 || q[POSTQ_LIMIT].n > 100 ||
	    q[POSTQ_OFFSET].n < 0 || q[POSTQ_OFFSET].n > 10000))
		abort();
	(void)query_parse(&fz_req, &query_page, q);
	req_end(&fz_req);
	free(s);
	return 0;
}
