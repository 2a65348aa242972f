/*
 * A whole request through the front line and the response writer.
 * Input: CGI parameters as "NAME=value" lines, a blank line, the body.
 */
#include "config.h"

#include <stdint.h>

#include "app.h"
#include "fuzz_common.h"
#include "resp.h"

#define MAX_PARAMS	64

struct body {
	const char	*p;
	size_t		 left;
};

static long
body_read(void *ctx, char *dst, size_t n)
{
	struct body	*b = ctx;

	if (n > b->left)
		n = b->left;
	memcpy(dst, b->p, n);
	b->p += n;
	b->left -= n;
	return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, *line, *next, *envp[MAX_PARAMS + 1];
	struct body	 b;
	struct buf	 out;
	size_t		 n;

	fz_setup();
	s = fz_str(data, size);
	n = 0;
	b.p = "";
	b.left = 0;
	for (line = s; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '\0') {
			/* The rest, NULs and all, is the body. */
			if (next != NULL) {
				b.p = next;
				b.left = size - (size_t)(next - s);
			}
			break;
		}
		if (n < MAX_PARAMS && strchr(line, '=') != NULL)
			envp[n++] = line;
	}
	envp[n] = NULL;
	buf_init(&out, 8 * 1024 * 1024);
	if (req_begin(&fz_req, envp, body_read, &b) == QERR_OK)
		app_handle(&fz_req);
	else
		resp_qerr(&fz_req, QERR_NOMEM);
	db_rollback(&fz_req);
	resp_render(&fz_req, &out);
	/* Every answer is a CGI response with a status line. */
	if (out.len < 8 || memcmp(out.p, "Status: ", 8) != 0)
		abort();
	req_end(&fz_req);
	buf_free(&out);
	free(s);
	return 0;
}
