/*
 * /health answers without touching a database; /health/db checks each
 * server and reports the replica's lag.
 */
#include "config.h"

#include "db.h"
#include "h_ops.h"
#include "metrics.h"
#include "openapi.h"
#include "resp.h"

double	h_ops_started;

int
h_ops_health(struct req *r)
{
	struct jw	 w;

	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, "ok");
	jw_key(&w, "version");
	jw_str(&w, PACKAGE_VERSION);
	jw_key(&w, "uptimeSeconds");
	jw_int(&w, (long long)(req_now() - h_ops_started));
	jw_obj_end(&w);
	return r->status;
}

/* One server as /health/db saw it. */
struct seen {
	struct dbconn	*c;		/* NULL: no replica configured */
	int		 up;
	double		 ms, lag;
};

static void
check(struct db *db, struct dbconn *c, struct seen *s)
{

	s->c = c;
	s->up = c == NULL || db_check(db, c, &s->ms, &s->lag) == QERR_OK;
}

static void
server(struct jw *w, const struct seen *s, const char *key)
{

	if (key != NULL)
		jw_key(w, key);
	jw_obj(w);
	jw_key(w, "status");
	jw_str(w, s->c == NULL ? "none" : s->up ? "up" : "down");
	jw_key(w, "latencyMs");
	if (s->c != NULL && s->up)
		jw_double(w, s->ms, 3);
	else
		jw_null(w);
	if (s->c == NULL || s->c->is_replica) {
		jw_key(w, "lagSeconds");
		if (s->c != NULL && s->up)
			jw_double(w, s->lag, 3);
		else
			jw_null(w);
	}
	jw_obj_end(w);
}

int
h_ops_health_db(struct req *r)
{
	struct seen	 prim, reps[CONF_MAX_REPLICAS];
	struct buf	 body;
	struct jw	 w;
	size_t		 i, n;
	int		 rup;

	check(r->db, &r->db->primary, &prim);
	n = r->db->nreplicas;
	rup = 1;
	for (i = 0; i < n; i++) {
		check(r->db, &r->db->replicas[i], &reps[i]);
		rup &= reps[i].up;
	}
	if (n == 0)
		check(r->db, NULL, &reps[0]);
	buf_init(&body, 4096);
	jw_init(&w, &body);
	jw_obj(&w);
	/* Status goes first but is known last: write the servers, then wrap. */
	server(&w, &prim, "primary");
	server(&w, &reps[0], "replica");
	/* With several replicas, "replica" is the first; all are listed too. */
	if (n > 1) {
		jw_key(&w, "replicas");
		jw_arr(&w);
		for (i = 0; i < n; i++)
			server(&w, &reps[i], NULL);
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	r->pool = NULL;
	if (buf_err(&body) != QERR_OK) {
		buf_free(&body);
		return resp_error(r, ERR_INTERNAL, NULL);
	}
	if (!prim.up) {
		resp_error(r, ERR_SERVICE_UNAVAILABLE, "Primary database unavailable");
		buf_puts(&r->meta, "{\"status\":\"down\",");
		buf_append(&r->meta, body.p + 1, body.len - 1);
	} else {
		resp_ok(r, 200, &w);
		buf_puts(&r->data, rup ? "{\"status\":\"ok\"," :
		    "{\"status\":\"degraded\",");
		buf_append(&r->data, body.p + 1, body.len - 1);
	}
	buf_free(&body);
	return r->status;
}

int
h_ops_metrics(struct req *r)
{

	resp_raw(r, "text/plain; version=0.0.4; charset=utf-8");
	metrics_render(&r->data);
	return r->status;
}

int
h_ops_openapi(struct req *r)
{

	resp_raw(r, "application/json; charset=utf-8");
	buf_append(&r->data, openapi_json, openapi_json_len);
	return r->status;
}
