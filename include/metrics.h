/*
 * Prometheus metrics, counted in the shared segment so that /metrics
 * gives totals across every worker process.
 */
#ifndef QUIRE_METRICS_H
#define QUIRE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "req.h"

#define METRICS_ROUTES	48	/* route table entries + "unmatched" */
#define METRICS_BUCKETS	14

enum metrics_status {
	MS_200, MS_201, MS_400, MS_401, MS_403, MS_404, MS_405, MS_409,
	MS_413, MS_415, MS_429, MS_500, MS_503, MS_OTHER, MS__MAX
};

enum metrics_pool {
	MP_PRIMARY,
	MP_REPLICA,
	MP__MAX
};

struct metrics {
	_Atomic uint64_t	requests[METRICS_ROUTES][METHOD__MAX][MS__MAX];
	_Atomic uint64_t	buckets[METRICS_ROUTES][METRICS_BUCKETS + 1];
	_Atomic uint64_t	dur_us[METRICS_ROUTES];
	_Atomic uint64_t	count[METRICS_ROUTES];
	_Atomic uint64_t	statements[MP__MAX][2];	/* [pool][0 read, 1 write] */
	_Atomic uint64_t	db_errors[MP__MAX];
	_Atomic uint64_t	reconnects[MP__MAX];
	_Atomic uint64_t	worker_restarts;
	_Atomic uint64_t	internal_errors;
	_Atomic uint64_t	fcgi_refused;	/* peers not in FCGI_WEB_SERVER_ADDRS */
	_Atomic uint64_t	fcgi_deadline;	/* requests not read in time */
};

/* Points the counters at the shared segment (shm_init first). */
void	metrics_init(struct metrics *);

/* Counts a finished request: route, method, status and duration. */
void	metrics_request(const struct req *, double seconds);
void	metrics_statement(int replica, int write);
void	metrics_db_error(int replica);
void	metrics_reconnect(int replica);
void	metrics_worker_restart(void);
void	metrics_internal_error(void);
/* A FastCGI connection closed unread: its peer is not allowed. */
void	metrics_fcgi_refused(void);
/* A FastCGI connection closed: its request was not read in time. */
void	metrics_fcgi_deadline(void);

/* Writes the Prometheus text exposition into b. */
void	metrics_render(struct buf *);

#endif
