/*
 * Counters in shared memory and their Prometheus text format.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "http.h"
#include "metrics.h"
#include "route.h"
#include "shm.h"

#define METRICS_ROUTES	(ROUTE_MAX + 1)	/* route table entries + "unmatched" */
#define METRICS_BUCKETS	14

enum metrics_pool {
	MP_PRIMARY,
	MP_REPLICA,
	MP__MAX
};

/* In the shared segment, so that every worker counts into the same. */
struct metrics {
	_Atomic uint64_t	requests[METRICS_ROUTES][METHOD__MAX][HTTP_STATUSES];
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
	_Atomic uint64_t	lag_us[CONF_MAX_REPLICAS];	/* last measured */
	_Atomic uint64_t	lag_at_us[CONF_MAX_REPLICAS];	/* monotonic; 0: never */
};

static struct metrics	*m;

/* Upper bounds of the duration buckets, in seconds. */
static const double bounds[METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10
};


static const char *const pools[MP__MAX] = { "primary", "replica" };

enum qerr
metrics_shm_init(void)
{

	m = shm_alloc("metrics.2", sizeof(*m), NULL);
	return m != NULL ? QERR_OK : QERR_IO;
}

/* Index of a route-table entry; the last slot holds unmatched paths. */
static size_t
route_index(const struct route *rt)
{

	if (rt == NULL || (size_t)(rt - routes) >= METRICS_ROUTES - 1)
		return METRICS_ROUTES - 1;
	return (size_t)(rt - routes);
}

void
metrics_request(const struct req *r, double seconds)
{
	size_t	 ri, si, b;

	if (m == NULL)
		return;
	ri = route_index(r->route);
	si = http_status_index(r->out.status);
	atomic_fetch_add_explicit(&m->requests[ri][r->in.method][si], 1,
	    memory_order_relaxed);
	for (b = 0; b < METRICS_BUCKETS && seconds > bounds[b]; b++)
		continue;
	atomic_fetch_add_explicit(&m->buckets[ri][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->dur_us[ri],
	    (uint64_t)(seconds * 1e6), memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count[ri], 1, memory_order_relaxed);
}

void
metrics_statement(int replica, int write)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->statements[replica != 0][write != 0],
		    1, memory_order_relaxed);
}

void
metrics_db_error(int replica)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->db_errors[replica != 0], 1,
		    memory_order_relaxed);
}

void
metrics_reconnect(int replica)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->reconnects[replica != 0], 1,
		    memory_order_relaxed);
}

void
metrics_internal_error(void)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->internal_errors, 1,
		    memory_order_relaxed);
}

void
metrics_worker_restart(void)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->worker_restarts, 1,
		    memory_order_relaxed);
}

void
metrics_fcgi_refused(void)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->fcgi_refused, 1,
		    memory_order_relaxed);
}

void
metrics_fcgi_deadline(void)
{

	if (m != NULL)
		atomic_fetch_add_explicit(&m->fcgi_deadline, 1,
		    memory_order_relaxed);
}

void
metrics_replica_lag(int replica, double lag, double at)
{

	if (m == NULL || replica < 0 || replica >= CONF_MAX_REPLICAS)
		return;
	atomic_store_explicit(&m->lag_us[replica], (uint64_t)(lag * 1e6),
	    memory_order_relaxed);
	atomic_store_explicit(&m->lag_at_us[replica], (uint64_t)(at * 1e6),
	    memory_order_relaxed);
}

static uint64_t
get(_Atomic uint64_t *p)
{

	return atomic_load_explicit(p, memory_order_relaxed);
}

static const char *
route_label(size_t ri)
{

	return ri < nroutes && ri < METRICS_ROUTES - 1 ? routes[ri].path :
	    "unmatched";
}

/* A route template with its method names one histogram. */
static const char *
route_method(size_t ri)
{

	return ri < nroutes && ri < METRICS_ROUTES - 1 ?
	    req_method_name(routes[ri].method) : "ANY";
}

void
metrics_render(struct buf *b)
{
	size_t		 ri, mi, si, k;
	uint64_t	 v, cum;
	double		 at;

	if (m == NULL)
		return;
	buf_puts(b, "# HELP quire_http_requests_total HTTP requests answered, "
	    "by route template, method and status.\n"
	    "# TYPE quire_http_requests_total counter\n");
	for (ri = 0; ri < METRICS_ROUTES; ri++)
		for (mi = 0; mi < METHOD__MAX; mi++)
			for (si = 0; si < HTTP_STATUSES; si++) {
				if ((v = get(&m->requests[ri][mi][si])) == 0)
					continue;
				buf_printf(b, "quire_http_requests_total{route=\"%s\","
				    "method=\"%s\",status=\"", route_label(ri),
				    req_method_name((enum http_method)mi));
				if (http_status_at(si) != 0)
					buf_putu(b, (unsigned)http_status_at(si));
				else
					buf_puts(b, "other");
				buf_printf(b, "\"} %llu\n", (unsigned long long)v);
			}
	buf_puts(b, "# HELP quire_http_request_duration_seconds Time from "
	    "accepting a request to its answer, by route template.\n"
	    "# TYPE quire_http_request_duration_seconds histogram\n");
	for (ri = 0; ri < METRICS_ROUTES; ri++) {
		if (get(&m->count[ri]) == 0)
			continue;
		for (k = 0, cum = 0; k <= METRICS_BUCKETS; k++) {
			cum += get(&m->buckets[ri][k]);
			if (k < METRICS_BUCKETS)
				buf_printf(b, "quire_http_request_duration_seconds_bucket"
				    "{route=\"%s\",method=\"%s\",le=\"%g\"} %llu\n",
				    route_label(ri), route_method(ri), bounds[k],
				    (unsigned long long)cum);
			else
				buf_printf(b, "quire_http_request_duration_seconds_bucket"
				    "{route=\"%s\",method=\"%s\",le=\"+Inf\"} %llu\n",
				    route_label(ri), route_method(ri),
				    (unsigned long long)cum);
		}
		buf_printf(b, "quire_http_request_duration_seconds_sum{route=\"%s\","
		    "method=\"%s\"} %.6f\n", route_label(ri), route_method(ri),
		    (double)get(&m->dur_us[ri]) / 1e6);
		buf_printf(b, "quire_http_request_duration_seconds_count{route=\"%s\","
		    "method=\"%s\"} %llu\n", route_label(ri), route_method(ri),
		    (unsigned long long)cum);
	}
	buf_puts(b, "# HELP quire_db_statements_total Statements run, by the "
	    "pool that served them and their kind.\n"
	    "# TYPE quire_db_statements_total counter\n");
	for (k = 0; k < MP__MAX; k++) {
		buf_printf(b, "quire_db_statements_total{pool=\"%s\",kind=\"read\"} "
		    "%llu\n", pools[k], (unsigned long long)get(&m->statements[k][0]));
		buf_printf(b, "quire_db_statements_total{pool=\"%s\",kind=\"write\"} "
		    "%llu\n", pools[k], (unsigned long long)get(&m->statements[k][1]));
	}
	buf_puts(b, "# HELP quire_db_errors_total Failed statements and "
	    "connection attempts, by pool.\n# TYPE quire_db_errors_total counter\n");
	for (k = 0; k < MP__MAX; k++)
		buf_printf(b, "quire_db_errors_total{pool=\"%s\"} %llu\n", pools[k],
		    (unsigned long long)get(&m->db_errors[k]));
	buf_puts(b, "# HELP quire_db_connects_total Connections opened, by pool "
	    "(the first per worker, then every reconnect).\n"
	    "# TYPE quire_db_connects_total counter\n");
	for (k = 0; k < MP__MAX; k++)
		buf_printf(b, "quire_db_connects_total{pool=\"%s\"} %llu\n", pools[k],
		    (unsigned long long)get(&m->reconnects[k]));
	buf_puts(b, "# HELP quire_replica_lag_seconds Last measured lag of "
	    "each replica.\n# TYPE quire_replica_lag_seconds gauge\n");
	for (k = 0; k < CONF_MAX_REPLICAS; k++) {
		at = (double)get(&m->lag_at_us[k]) / 1e6;
		/* A replica nobody could ask lately has no lag to report. */
		if (at == 0 || req_now() - at > 10)
			continue;
		buf_printf(b, "quire_replica_lag_seconds{replica=\"%zu\"} %.3f\n",
		    k, (double)get(&m->lag_us[k]) / 1e6);
	}
	buf_puts(b, "# HELP quire_internal_errors_total Answers of 500 "
	    "INTERNAL_ERROR, each logged with its request id and SQLSTATE.\n"
	    "# TYPE quire_internal_errors_total counter\n");
	buf_printf(b, "quire_internal_errors_total %llu\n",
	    (unsigned long long)get(&m->internal_errors));
	buf_puts(b, "# HELP quire_worker_restarts_total Workers that died "
	    "and were replaced.\n# TYPE quire_worker_restarts_total counter\n");
	buf_printf(b, "quire_worker_restarts_total %llu\n",
	    (unsigned long long)get(&m->worker_restarts));
	buf_puts(b, "# HELP quire_fcgi_peers_refused_total FastCGI connections "
	    "closed unread because the peer's address is not in "
	    "FCGI_WEB_SERVER_ADDRS.\n"
	    "# TYPE quire_fcgi_peers_refused_total counter\n");
	buf_printf(b, "quire_fcgi_peers_refused_total %llu\n",
	    (unsigned long long)get(&m->fcgi_refused));
	buf_puts(b, "# HELP quire_fcgi_deadline_total FastCGI connections "
	    "closed because their request was not read within "
	    "QUIRE_REQUEST_TIMEOUT.\n"
	    "# TYPE quire_fcgi_deadline_total counter\n");
	buf_printf(b, "quire_fcgi_deadline_total %llu\n",
	    (unsigned long long)get(&m->fcgi_deadline));
}
