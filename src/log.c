/*
 * logfmt lines on stderr.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "utf8.h"

static enum log_level	 min_level = LVL_INFO;
static const char	*prog = "quire";
static long		 pid;		/* getpid() costs a system call per line */

static const char *const names[LVL__MAX] = {
	"debug", "info", "warn", "error"
};

void
log_init(enum log_level min, const char *program)
{

	min_level = min;
	prog = program;
	pid = (long)getpid();
}

void
log_forked(void)
{

	pid = (long)getpid();
}

int
log_enabled(enum log_level l)
{

	return l >= min_level;
}

/* Three digits, zero-padded: milliseconds and fractions of them. */
static void
put_frac3(struct buf *b, long v)
{
	char	 d[3];

	d[0] = (char)('0' + v / 100 % 10);
	d[1] = (char)('0' + v / 10 % 10);
	d[2] = (char)('0' + v % 10);
	buf_append(b, d, 3);
}

static void
put_time(struct buf *b)
{
	/* Formatted once a second: a busy worker logs thousands a second. */
	static time_t	 sec = (time_t)-1;
	static char	 t[32];
	struct timespec	 ts;
	struct tm	 tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
		sec = ts.tv_sec;
	}
	buf_puts(b, "time=");
	buf_puts(b, t);
	buf_putc(b, '.');
	put_frac3(b, ts.tv_nsec / 1000000);
	buf_putc(b, 'Z');
}

/* What every line starts with: time, level, program and pid. */
static void
put_head(struct buf *b, enum log_level l)
{

	put_time(b);
	buf_puts(b, " level=");
	buf_puts(b, names[l]);
	buf_puts(b, " app=");
	buf_puts(b, prog);
	buf_puts(b, " pid=");
	buf_putu(b, (unsigned long)pid);
}

void
log_value(struct buf *b, const char *v)
{
	const unsigned char *p;
	size_t		 n, k;
	int		 quote;

	n = strlen(v);
	/* Bytes that are not UTF-8 (a hostile path) are escaped too. */
	quote = n == 0 || !utf8_valid(v, n);
	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    *p == 0x7f)
			quote = 1;
	if (!quote) {
		buf_append(b, v, n);
		return;
	}
	buf_putc(b, '"');
	for (p = (const unsigned char *)v; *p != '\0'; p += k) {
		k = 1;
		if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else if (*p < ' ' || *p == 0x7f)
			buf_printf(b, "\\x%02x", *p);
		else if (*p < 0x80)
			buf_putc(b, (char)*p);
		else if ((k = utf8_seq((const char *)p,
		    n - (size_t)(p - (const unsigned char *)v))) > 0)
			buf_append(b, p, k);
		else {
			buf_printf(b, "\\x%02x", *p);
			k = 1;
		}
	}
	buf_putc(b, '"');
}

/*
 * Request lines wait here until the worker writes them (log_flush: when
 * it is idle and the oldest has waited a moment) or the buffer is full.
 * One write of at most PIPE_BUF bytes stays whole when several workers
 * share the log (a pipe, or a file opened to append).
 */
static char	 pending[4096];
static size_t	 npending;
static double	 pending_since;	/* monotonic seconds of the oldest line */

static void
write_all(const char *p, size_t len)
{
	ssize_t	 n;
	size_t	 off;

	for (off = 0; off < len; off += (size_t)n)
		if ((n = write(STDERR_FILENO, p + off, len - off)) <= 0)
			break;
}

double
log_pending_since(void)
{

	return npending > 0 ? pending_since : 0.0;
}

void
log_flush(void)
{

	if (npending > 0) {
		write_all(pending, npending);
		npending = 0;
	}
}

static void
flush(struct buf *b)
{

	buf_putc(b, '\n');
	if (buf_err(b) != QERR_OK)
		return;
	/* Keep lines in order: what waits goes first. */
	log_flush();
	write_all(b->p, b->len);
}

void
log_msg_(enum log_level l, const char *reqid, const char *func,
    const char *fmt, ...)
{
	struct buf	 b;
	char		 msg[1024];
	va_list		 ap;

	if (l < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_init(&b, 4096);
	put_head(&b, l);
	if (reqid != NULL) {
		buf_puts(&b, " reqid=");
		log_value(&b, reqid);
	}
	buf_printf(&b, " func=%s msg=", func);
	log_value(&b, msg);
	flush(&b);
	buf_free(&b);
}

void
log_request(const char *method, const char *route, const char *path,
    int status, double dur_ms, const char *reqid, const char *pool)
{
	static struct buf b;
	char		 cut[257];
	size_t		 n;
	long		 us;

	if (LVL_INFO < min_level)
		return;
	if (b.max == 0)
		buf_init(&b, 8192);
	buf_reset(&b);
	put_head(&b, LVL_INFO);
	buf_puts(&b, " reqid=");
	log_value(&b, reqid);
	buf_puts(&b, " method=");
	log_value(&b, method);
	buf_puts(&b, " route=");
	log_value(&b, route != NULL ? route : "-");
	buf_puts(&b, " path=");
	n = strnlen(path, sizeof(cut) - 1);
	memcpy(cut, path, n);
	cut[n] = '\0';
	log_value(&b, cut);
	buf_puts(&b, " status=");
	buf_putu(&b, (unsigned)status);
	/* Milliseconds to the microsecond; a duration is never negative. */
	us = dur_ms > 0.0 ? (long)(dur_ms * 1000.0 + 0.5) : 0;
	buf_puts(&b, " duration_ms=");
	buf_putu(&b, (unsigned long)(us / 1000));
	buf_putc(&b, '.');
	put_frac3(&b, us % 1000);
	buf_puts(&b, " pool=");
	buf_puts(&b, pool != NULL ? pool : "-");
	buf_putc(&b, '\n');
	if (buf_err(&b) != QERR_OK)
		return;
	if (npending + b.len > sizeof(pending))
		log_flush();
	if (b.len > sizeof(pending)) {
		write_all(b.p, b.len);
		return;
	}
	if (npending == 0) {
		struct timespec	 ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		pending_since = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	memcpy(pending + npending, b.p, b.len);
	npending += b.len;
}

void
log_kv_(enum log_level l, const char *func, const char *msg,
    const char *const *kv)
{
	struct buf	 b;
	size_t		 i;

	if (l < min_level)
		return;
	buf_init(&b, 4096);
	put_head(&b, l);
	buf_printf(&b, " func=%s msg=", func);
	log_value(&b, msg);
	for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
		buf_putc(&b, ' ');
		buf_puts(&b, kv[i]);
		buf_putc(&b, '=');
		log_value(&b, kv[i + 1]);
	}
	flush(&b);
	buf_free(&b);
}
