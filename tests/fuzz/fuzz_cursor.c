/*
 * The cursor decoder on what a forged cursor carries: the input is the
 * decoded text ("<timestamp>|<uuid>"), base64url-encoded here so that
 * every run reaches the timestamp and id checks. What decodes must name
 * a real position: a date that exists, a canonical id, and encode back
 * to the same cursor.
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
	char	 enc[256], ts[QUERY_CURSOR_TS_MAX + 1], id[37], rfc[FMT_TS_LEN + 1];
	char	*again, *s;

	fz_setup();
	if (size > 150)
		return 0;
	sodium_bin2base64(enc, sizeof(enc), data, size,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (query_cursor_decode(enc, strlen(enc), ts, id) == 0) {
		if (!fmt_is_uuid(id, strlen(id)) || fmt_ts(rfc, ts) == -1)
			abort();
		/* Years 1-9999 only: PostgreSQL's text would differ past them. */
		if (ts[0] < '0' || ts[4] != '-' || memcmp(ts, "0000", 4) == 0)
			abort();
		again = query_cursor_encode(fz_arena, ts, id);
		if (again == NULL || strcmp(again, enc) != 0)
			abort();
		arena_reset(fz_arena);
	}
	/* A tagged cursor (GET /audit's) decodes only with its own tag. */
	if (query_cursor_decode_tag(enc, strlen(enc), "audit", ts, id) == 0) {
		if (!fmt_is_uuid(id, strlen(id)) || fmt_ts(rfc, ts) == -1 ||
		    query_cursor_decode(enc, strlen(enc), ts, id) == 0)
			abort();
		again = query_cursor_encode_tag(fz_arena, "audit", ts, id);
		if (again == NULL || strcmp(again, enc) != 0)
			abort();
		arena_reset(fz_arena);
	}
	/* And the input taken as a cursor string itself. */
	s = fz_str(data, size);
	(void)query_cursor_decode(s, size, ts, id);
	(void)query_cursor_decode_tag(s, size, "audit", ts, id);
	free(s);
	return 0;
}
