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
	return r->out.status;
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

/* The servers' part of the answer: primary, replica and, with several, replicas[]. */
static void
servers(struct jw *w, const struct seen *prim, const struct seen *reps,
    size_t n)
{
	size_t	 i;

	server(w, prim, "primary");
	server(w, &reps[0], "replica");
	/* With several replicas, "replica" is the first; all are listed too. */
	if (n > 1) {
		jw_key(w, "replicas");
		jw_arr(w);
		for (i = 0; i < n; i++)
			server(w, &reps[i], NULL);
		jw_arr_end(w);
	}
}

int
h_ops_health_db(struct req *r)
{
	struct seen	 prim, reps[CONF_MAX_REPLICAS];
	struct jw	 w;
	const char	*status;
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
	r->out.pool = NULL;
	status = !prim.up ? "down" : rup ? "ok" : "degraded";
	if (!prim.up) {
		/* The error envelope, with the same data beside it (resp.c). */
		resp_error(r, ERR_SERVICE_UNAVAILABLE, "Primary database unavailable");
		jw_init(&w, &r->out.meta);
	} else
		resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "status");
	jw_str(&w, status);
	servers(&w, &prim, reps, n);
	jw_obj_end(&w);
	return r->out.status;
}

int
h_ops_metrics(struct req *r)
{

	PGresult	*res;

	resp_raw(r, "text/plain; version=0.0.4; charset=utf-8");
	metrics_render(&r->out.data);
	/*
	 * The outbox is the database's, not a counter of this host: one
	 * indexed query per scrape. When no server answers, the series are
	 * left out (absent, not zero) and the rest of the page still goes.
	 */
	if (db_exec(r, DB_READ, STMT_MAIL_STATS, NULL, &res) == QERR_OK &&
	    PQntuples(res) == 1) {
		buf_printf(&r->out.data,
		    "# HELP quire_mail_outbox_messages Messages waiting in the mail outbox.\n"
		    "# TYPE quire_mail_outbox_messages gauge\n"
		    "quire_mail_outbox_messages %s\n"
		    "# HELP quire_mail_outbox_oldest_seconds Age of the oldest waiting message.\n"
		    "# TYPE quire_mail_outbox_oldest_seconds gauge\n"
		    "quire_mail_outbox_oldest_seconds %s\n"
		    "# HELP quire_mail_failed_messages Messages the mail server refused for good, kept for an operator.\n"
		    "# TYPE quire_mail_failed_messages gauge\n"
		    "quire_mail_failed_messages %s\n",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	}
	return r->out.status;
}

int
h_ops_openapi(struct req *r)
{

	resp_raw(r, "application/json; charset=utf-8");
	buf_append(&r->out.data, openapi_json, openapi_json_len);
	return r->out.status;
}
