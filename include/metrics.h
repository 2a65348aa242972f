/*
 * Prometheus metrics, counted in the shared segment so that /metrics
 * gives totals across every worker process.
 */
#ifndef QUIRE_METRICS_H
#define QUIRE_METRICS_H

#include "buf.h"
#include "quire.h"
#include "req.h"

/*
 * Carves the counters out of the shared segment (start-up, after
 * shm_init(), in the same order in every process). Returns QERR_OK, or
 * QERR_IO with the reason in shm_error(). Before it nothing is counted.
 */
enum qerr	metrics_shm_init(void) QUIRE_WUR;

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
/* Replica i's lag as last measured (db.c), at monotonic time at. */
void	metrics_replica_lag(int replica, double lag, double at);

/* Writes the Prometheus text exposition into b. */
void	metrics_render(struct buf *);

#endif
