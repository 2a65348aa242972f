/*
 * Unit tests of the request line (src/log.c): its fields and their
 * order, the time stamp, the duration as %.3f would print it, quoting.
 * The lines go to stderr, which the test points at a file.
 */
#include "config.h"

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tap.h"
#include "utf8.h"

static char	 path[] = "/tmp/quire-test-log.XXXXXX";
static int	 fd;

/* Everything written since the last call. */
static char *
lines(void)
{
	static char	 got[1 << 20];
	static off_t	 done;
	ssize_t		 n;

	log_flush();
	n = pread(fd, got, sizeof(got) - 1, done);
	if (n < 0)
		n = 0;
	got[n] = '\0';
	done += n;
	return got;
}

int
main(void)
{
	regex_t		 re;
	char		 want[512], *got;
	double		 d;
	int		 i, bad, saved;

	if ((fd = mkstemp(path)) == -1 || (saved = dup(2)) == -1 ||
	    dup2(fd, 2) == -1) {
		printf("Bail out! cannot capture stderr\n");
		return 1;
	}
	unlink(path);
	log_init(LVL_INFO, "quire");

	log_request("GET", "/posts/:id", "/posts/abc", 200, 1.25, "r-1", "replica");
	got = lines();
	regcomp(&re, "^time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
	    "level=info app=quire pid=[1-9][0-9]* reqid=r-1 method=GET route=/posts/:id "
	    "path=/posts/abc status=200 duration_ms=1\\.250 pool=replica\n$", REG_EXTENDED);
	if (!ok(regexec(&re, got, 0, NULL, 0) == 0, "the request line"))
		printf("# %s", got);
	regfree(&re);
	snprintf(want, sizeof(want), " pid=%ld ", (long)getpid());
	ok(strstr(got, want) != NULL, "our pid");

	/* No route, no pool, a path that needs quoting and is cut at 256. */
	log_request("GET", NULL, "/a b\"c", 404, 0.0, "r-2", NULL);
	got = lines();
	if (!ok(strstr(got, " route=- path=\"/a b\\\"c\" status=404 duration_ms=0.000 pool=-\n") != NULL,
	    "quoted path, dashes for no route and no pool"))
		printf("# %s", got);
	memset(want, 'p', 400);
	want[0] = '/';
	want[400] = '\0';
	log_request("GET", NULL, want, 404, 0.0, "r-3", NULL);
	got = lines();
	want[256] = '\0';
	ok(strstr(got, want) != NULL && strstr(got, "pppp status=404") != NULL &&
	    strstr(got, " path=") != NULL &&
	    (size_t)(strstr(got, " status=") - strstr(got, " path=")) == 6 + 256,
	    "path cut at 256 bytes");

	/*
	 * A path that is not UTF-8 (a hostile request) is quoted with its
	 * bad bytes escaped, so the log stays valid UTF-8 logfmt; good
	 * characters stay as they are.
	 */
	log_request("GET", NULL, "/posts/\xc3(\xff\xed\xa0\x80" "caf\xc3\xa9", 404, 0.0, "r-4", NULL);
	got = lines();
	if (!ok(strstr(got, " path=\"/posts/\\xc3(\\xff\\xed\\xa0\\x80caf" "\xc3\xa9\" status=404") != NULL,
	    "invalid UTF-8 escaped, valid kept"))
		printf("# %s", got);
	ok(utf8_valid(got, strlen(got)), "the line is valid UTF-8");

	/* The duration: milliseconds to the nearest microsecond, three decimals. */
	srand(7);
	for (bad = 0, i = 0; i < 20000; i++) {
		const char	*v;
		char		*end;
		double		 shown;

		d = i < 2000 ? i / 2000.0 : (double)rand() / RAND_MAX * (i % 2 ? 50.0 : 100000.0);
		log_request("GET", NULL, "/x", 200, d, "r", NULL);
		got = lines();
		v = strstr(got, " duration_ms=");
		shown = v != NULL ? strtod(v + 13, &end) : -1.0;
		if ((v == NULL || shown < d - 0.0005 - 1e-9 || shown > d + 0.0005 + 1e-9 ||
		    end - strchr(v + 13, '.') != 4 || strcmp(end, " pool=-\n") != 0) && bad++ < 5)
			ok(0, "duration %.17g in # %s", d, strtok(got, "\n"));
	}
	ok(bad == 0, "20000 durations to the microsecond (%d wrong)", bad);
	log_request("GET", NULL, "/x", 200, 1234.5678, "r", NULL);
	ok(strstr(lines(), " duration_ms=1234.568 ") != NULL, "1234.5678 ms");
	log_request("GET", NULL, "/x", 200, 0.0004, "r", NULL);
	ok(strstr(lines(), " duration_ms=0.000 ") != NULL, "under half a microsecond");

	/*
	 * log_kv: the mail worker's lines. Values from the database are
	 * quoted and escaped like any other, so a CR/LF in one cannot start
	 * a line of its own.
	 */
	{
		const char *kv[] = { "kind", "reset", "message_id",
		    "<a@b>", "error", "x=\"y\"\r\nlevel=error", "odd", NULL };

		log_kv(LVL_WARN, "not sent; will retry", kv);
		got = lines();
		regcomp(&re, "^time=[^ ]+ level=warn app=quire pid=[1-9][0-9]* "
		    "func=main msg=\"not sent; will retry\" kind=reset "
		    "message_id=<a@b> error=\"x=\\\\\"y\\\\\"\\\\x0d\\\\x0alevel=error\"\n$",
		    REG_EXTENDED);
		if (!ok(regexec(&re, got, 0, NULL, 0) == 0,
		    "log_kv: fields after msg, escaped, a name without a value dropped"))
			printf("# %s", got);
		regfree(&re);
		log_kv(LVL_DEBUG, "hidden", kv);
		ok(*lines() == '\0', "log_kv below the level writes nothing");
	}

	dup2(saved, 2);
	return tap_done();
}
