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

static int
server(struct jw *w, struct db *db, struct dbconn *c, const char *key)
{
	double		 ms, lag;
	enum qerr	 e;

	if (key != NULL)
		jw_key(w, key);
	jw_obj(w);
	jw_key(w, "status");
	if (c == NULL) {
		jw_str(w, "none");
		jw_key(w, "latencyMs");
		jw_null(w);
		jw_key(w, "lagSeconds");
		jw_null(w);
		jw_obj_end(w);
		return 1;
	}
	e = db_check(db, c, &ms, &lag);
	jw_str(w, e == QERR_OK ? "up" : "down");
	jw_key(w, "latencyMs");
	if (e == QERR_OK)
		jw_double(w, ms, 3);
	else
		jw_null(w);
	if (c->is_replica) {
		jw_key(w, "lagSeconds");
		if (e == QERR_OK)
			jw_double(w, lag, 3);
		else
			jw_null(w);
	}
	jw_obj_end(w);
	return e == QERR_OK;
}

int
h_ops_health_db(struct req *r)
{
	struct buf	 body;
	struct jw	 w;
	size_t		 i;
	int		 pup, rup;

	buf_init(&body, 4096);
	jw_init(&w, &body);
	jw_obj(&w);
	/* Status goes first but is known last: write the servers, then wrap. */
	pup = server(&w, r->db, &r->db->primary, "primary");
	rup = server(&w, r->db, r->db->nreplicas > 0 ? &r->db->replicas[0] :
	    NULL, "replica");
	/* With several replicas, "replica" is the first; all are listed too. */
	if (r->db->nreplicas > 1) {
		jw_key(&w, "replicas");
		jw_arr(&w);
		for (i = 0; i < r->db->nreplicas; i++)
			rup &= server(&w, r->db, &r->db->replicas[i], NULL);
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	r->pool = NULL;
	if (buf_err(&body) != QERR_OK) {
		buf_free(&body);
		return resp_error(r, ERR_INTERNAL, NULL);
	}
	if (!pup) {
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
