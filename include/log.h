/*
 * Logging to stderr in logfmt, one line per event. Never give it
 * passwords, tokens, cookies or SQL values.
 */
#ifndef QUIRE_LOG_H
#define QUIRE_LOG_H

#include "conf.h"

void	log_init(enum log_level min, const char *program);
int	log_enabled(enum log_level);
/* Call in a child after fork(): lines carry the child's pid. */
void	log_forked(void);

/*
 * Writes "time=… level=… pid=… reqid=… func=… msg=…" (reqid omitted when
 * NULL). The message is quoted and escaped so no input can forge a line.
 */
#define log_msg(lvl, reqid, ...) log_msg_(lvl, reqid, __func__, __VA_ARGS__)
void	log_msg_(enum log_level, const char *reqid, const char *func,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Writes one request line: method, route template ("-" when none
 * matched), path, status, duration, request id, pool used ("-" when
 * none). The path is cut at 256 bytes.
 */
void	log_request(const char *method, const char *route, const char *path,
	    int status, double dur_ms, const char *reqid, const char *pool);

/*
 * Request lines are buffered (up to 4 KiB) and written by log_flush: the
 * worker calls it when it has nothing else to do and the oldest line has
 * waited a moment (main.c), and at exit.
 */
void	log_flush(void);
/* When the oldest buffered request line was logged (monotonic s); 0: none. */
double	log_pending_since(void);

/*
 * Writes "time=… level=… app=… pid=… func=… msg=…" and then each pair of
 * kv ({ "name", "value", …, NULL }) as name=value, values quoted as
 * log_value does: for lines that carry fields of their own (the mail
 * worker's deliveries). Names must be plain words.
 */
#define log_kv(lvl, msg, kv) log_kv_(lvl, __func__, msg, kv)
void	log_kv_(enum log_level, const char *func, const char *msg,
	    const char *const *kv);

/* Appends v to b as a logfmt value, quoted when needed. */
struct buf;
void	log_value(struct buf *, const char *v);

#endif
