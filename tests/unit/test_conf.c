/*
 * Unit tests of the configuration parser (src/conf.c), fed from tables
 * instead of the environment.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "tap.h"
#include "table.h"

#define PRIMARY	"postgresql://quire@db1/quire"

static void
test_defaults(void)
{
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", PRIMARY },
		{ NULL, NULL }
	};
	struct conf	 c;
	char		 err[256];

	err[0] = '\0';
	ok(conf_parse(&c, table_get, env, err, sizeof(err)) == QERR_OK,
	    "only QUIRE_PRIMARY_URL set: %s", err);
	is_str(c.primary_url, PRIMARY, "primary_url");
	is_int(c.max_body, 1048576, "max_body default");
	is_int(c.session_ttl, 604800, "session_ttl default");
	is_int(c.auth_rate_limit, 10, "auth_rate_limit default");
	is_int(c.cookie_secure, 1, "cookie_secure default");
	is_int(c.max_replica_lag, 30, "max_replica_lag default");
	is_int(c.log_level, LVL_INFO, "log_level default");
	is_int(c.nreplicas, 0, "no replicas");
	is_int(c.norigins, 0, "no origins");
	is_int(c.nproxies, 0, "no proxies");
	is_int(c.workers, 1, "workers default");
	is_int(c.request_timeout, 10, "request_timeout default");
	ok(!conf_origin_allowed(&c, "https://example.com"),
	    "no origin allowed by default");
	ok(!conf_origin_allowed(&c, ""), "not even the empty one");
	conf_free(&c);
	ok(c.storage == NULL, "conf_free clears storage");
	conf_free(&c);
	ok(1, "conf_free twice is harmless");
}

static void
test_required(void)
{
	static const struct {
		int		 line;
		const char	*primary;	/* NULL: unset */
	} rows[] = {
		{ __LINE__, NULL },
		{ __LINE__, "" },
	};
	struct kv	 env[3];
	struct conf	 c;
	char		 err[256];
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		env[0].name = "QUIRE_REPLICA_URL";
		env[0].value = "postgresql://r/db";
		env[1].name = rows[i].primary != NULL ?
		    "QUIRE_PRIMARY_URL" : "QUIRE_UNRELATED";
		env[1].value = rows[i].primary;
		env[2].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		tap_ok(e == QERR_INVAL, rows[i].line,
		    "missing primary: got %d", (int)e);
		tap_ok(strstr(err, "QUIRE_PRIMARY_URL") != NULL, rows[i].line,
		    "err names the variable: \"%s\"", err);
		conf_free(&c);
	}
}

/* One variable set to a value; the rest default. */
static void
test_numbers(void)
{
	static const struct {
		int		 line;
		const char	*name;
		const char	*value;
		long		 want;		/* -1: QERR_INVAL */
	} rows[] = {
		{ __LINE__, "QUIRE_MAX_BODY", "2048", 2048 },
		{ __LINE__, "QUIRE_MAX_BODY", "1024", 1024 },
		{ __LINE__, "QUIRE_MAX_BODY", "67108864", 67108864 },
		{ __LINE__, "QUIRE_MAX_BODY", "1023", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "67108865", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "-1", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "1e3", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "abc", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "0x1000", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "+2048", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", " 2048", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "2048 ", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "2048k", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "20.48", -1 },
		{ __LINE__, "QUIRE_MAX_BODY", "99999999999999999999999", -1 },
		/*
		 * Empty is unset: conf/quire.env.example promises "an empty
		 * or absent variable takes the default shown".
		 */
		{ __LINE__, "QUIRE_MAX_BODY", "", 1048576 },
		{ __LINE__, "QUIRE_SESSION_TTL", "", 604800 },
		{ __LINE__, "QUIRE_AUTH_RATE_LIMIT", "", 10 },
		{ __LINE__, "QUIRE_COOKIE_SECURE", "", 1 },
		{ __LINE__, "QUIRE_MAX_REPLICA_LAG", "", 30 },
		{ __LINE__, "QUIRE_SESSION_TTL", "3600", 3600 },
		{ __LINE__, "QUIRE_SESSION_TTL", "60", 60 },
		{ __LINE__, "QUIRE_SESSION_TTL", "59", -1 },
		{ __LINE__, "QUIRE_SESSION_TTL", "31536001", -1 },
		{ __LINE__, "QUIRE_SESSION_TTL", "-604800", -1 },
		{ __LINE__, "QUIRE_SESSION_TTL", "1e6", -1 },
		{ __LINE__, "QUIRE_AUTH_RATE_LIMIT", "0", 0 },
		{ __LINE__, "QUIRE_AUTH_RATE_LIMIT", "1000000", 1000000 },
		{ __LINE__, "QUIRE_AUTH_RATE_LIMIT", "1000001", -1 },
		{ __LINE__, "QUIRE_AUTH_RATE_LIMIT", "-1", -1 },
		{ __LINE__, "QUIRE_AUTH_RATE_LIMIT", "ten", -1 },
		{ __LINE__, "QUIRE_COOKIE_SECURE", "0", 0 },
		{ __LINE__, "QUIRE_COOKIE_SECURE", "1", 1 },
		{ __LINE__, "QUIRE_COOKIE_SECURE", "2", -1 },
		{ __LINE__, "QUIRE_COOKIE_SECURE", "true", -1 },
		{ __LINE__, "QUIRE_COOKIE_SECURE", "-1", -1 },
		{ __LINE__, "QUIRE_MAX_REPLICA_LAG", "0", 0 },
		{ __LINE__, "QUIRE_MAX_REPLICA_LAG", "86400", 86400 },
		{ __LINE__, "QUIRE_MAX_REPLICA_LAG", "86401", -1 },
		{ __LINE__, "QUIRE_MAX_REPLICA_LAG", "1e3", -1 },
		{ __LINE__, "QUIRE_WORKERS", "0", -1 },
		{ __LINE__, "QUIRE_WORKERS", "4", 4 },
		{ __LINE__, "QUIRE_DB_CONNECT_TIMEOUT", "0", -1 },
		{ __LINE__, "QUIRE_STATEMENT_TIMEOUT_MS", "600001", -1 },
		{ __LINE__, "QUIRE_MAX_PAGE_BYTES", "", 4194304 },
		{ __LINE__, "QUIRE_MAX_PAGE_BYTES", "16384", 16384 },
		{ __LINE__, "QUIRE_MAX_PAGE_BYTES", "16383", -1 },
		{ __LINE__, "QUIRE_MAX_PAGE_BYTES", "67108865", -1 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "", 10 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "1", 1 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "3", 3 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "600", 600 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "0", -1 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "601", -1 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "-1", -1 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "2.5", -1 },
		{ __LINE__, "QUIRE_REQUEST_TIMEOUT", "10s", -1 },
		{ __LINE__, "QUIRE_SESSION_MAX_AGE", "", 2592000 },
		{ __LINE__, "QUIRE_SESSION_MAX_AGE", "1", 1 },
		{ __LINE__, "QUIRE_SESSION_MAX_AGE", "315360000", 315360000 },
		{ __LINE__, "QUIRE_SESSION_MAX_AGE", "0", -1 },
		{ __LINE__, "QUIRE_SESSION_MAX_AGE", "315360001", -1 },
		{ __LINE__, "QUIRE_SESSION_MAX_AGE", "30d", -1 },
		{ __LINE__, "QUIRE_AUDIT_RETENTION_DAYS", "", 365 },
		{ __LINE__, "QUIRE_AUDIT_RETENTION_DAYS", "1", 1 },
		{ __LINE__, "QUIRE_AUDIT_RETENTION_DAYS", "36500", 36500 },
		{ __LINE__, "QUIRE_AUDIT_RETENTION_DAYS", "0", -1 },
		{ __LINE__, "QUIRE_AUDIT_RETENTION_DAYS", "36501", -1 },
		{ __LINE__, "QUIRE_AUDIT_RETENTION_DAYS", "-1", -1 },
	};
	struct kv	 env[3];
	struct conf	 c;
	char		 err[256];
	size_t		 i;
	enum qerr	 e;
	long		 got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		env[0].name = "QUIRE_PRIMARY_URL";
		env[0].value = PRIMARY;
		env[1].name = rows[i].name;
		env[1].value = rows[i].value;
		env[2].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		if (rows[i].want == -1) {
			tap_ok(e == QERR_INVAL, rows[i].line,
			    "%s=\"%s\" refused (got %d)", rows[i].name,
			    rows[i].value, (int)e);
			tap_ok(strstr(err, rows[i].name) != NULL, rows[i].line,
			    "err names %s: \"%s\"", rows[i].name, err);
			conf_free(&c);
			continue;
		}
		tap_ok(e == QERR_OK, rows[i].line, "%s=\"%s\" accepted: %s",
		    rows[i].name, rows[i].value, err);
		if (strcmp(rows[i].name, "QUIRE_MAX_BODY") == 0)
			got = (long)c.max_body;
		else if (strcmp(rows[i].name, "QUIRE_MAX_PAGE_BYTES") == 0)
			got = (long)c.max_page_bytes;
		else if (strcmp(rows[i].name, "QUIRE_SESSION_TTL") == 0)
			got = c.session_ttl;
		else if (strcmp(rows[i].name, "QUIRE_AUTH_RATE_LIMIT") == 0)
			got = c.auth_rate_limit;
		else if (strcmp(rows[i].name, "QUIRE_COOKIE_SECURE") == 0)
			got = c.cookie_secure;
		else if (strcmp(rows[i].name, "QUIRE_MAX_REPLICA_LAG") == 0)
			got = c.max_replica_lag;
		else if (strcmp(rows[i].name, "QUIRE_WORKERS") == 0)
			got = c.workers;
		else if (strcmp(rows[i].name, "QUIRE_REQUEST_TIMEOUT") == 0)
			got = c.request_timeout;
		else if (strcmp(rows[i].name, "QUIRE_SESSION_MAX_AGE") == 0)
			got = c.session_max_age;
		else if (strcmp(rows[i].name, "QUIRE_AUDIT_RETENTION_DAYS") == 0)
			got = c.audit_retention_days;
		else
			got = -2;
		tap_ok(got == rows[i].want, rows[i].line, "%s: got %ld want %ld",
		    rows[i].name, got, rows[i].want);
		conf_free(&c);
	}
}

/* The mail rows: what goes together, what is refused, what is derived. */
static void
test_mail(void)
{
	static const struct {
		int		 line;
		const char	*mail, *app, *from, *vos, *rv;
		int		 want_ok;
		const char	*domain, *app_out;	/* when ok */
		int		 on, vos_out;
	} rows[] = {
		{ __LINE__, NULL, NULL, NULL, NULL, NULL, 1, "", "", 0, 0 },
		{ __LINE__, "file:/tmp/m", "https://app.example.com/", "no-reply@example.com",
		    NULL, NULL, 1, "example.com", "https://app.example.com", 1, 1 },
		{ __LINE__, "smtp://m:25", "http://a.b", "Quire Mail <q@mail.example.org>",
		    "0", "1", 1, "mail.example.org", "http://a.b", 1, 0 },
		/* An app URL and a From without mail: fine, nothing is sent. */
		{ __LINE__, NULL, "https://x.io", "a@x.io", NULL, NULL, 1, "x.io", "https://x.io", 0, 0 },
		{ __LINE__, "smtp://m:25", NULL, "a@x.io", NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "https://x.io", NULL, NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "ftp://x.io", "a@x.io", NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "https://x.io/a b", "a@x.io", NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "https://x.io", "not an address", NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "https://x.io", "Name <a@x.io", NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "https://x.io", "a@x.io\r\nBcc: b@y.io", NULL, NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, "smtp://m:25", "https://x.io", "a@x.io", "2", NULL, 0, NULL, NULL, 0, 0 },
		/* Verification without mail could never be done. */
		{ __LINE__, NULL, NULL, NULL, "1", NULL, 0, NULL, NULL, 0, 0 },
		{ __LINE__, NULL, NULL, NULL, NULL, "1", 0, NULL, NULL, 0, 0 },
	};
	struct kv	 env[7];
	struct conf	 c;
	char		 err[256];
	size_t		 i, n;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = 0;
		env[n].name = "QUIRE_PRIMARY_URL";
		env[n++].value = PRIMARY;
#define SET(var, v) if ((v) != NULL) { env[n].name = (var); env[n++].value = (v); }
		SET("QUIRE_MAIL_URL", rows[i].mail);
		SET("QUIRE_APP_URL", rows[i].app);
		SET("QUIRE_MAIL_FROM", rows[i].from);
		SET("QUIRE_VERIFY_ON_SIGNUP", rows[i].vos);
		SET("QUIRE_REQUIRE_VERIFIED", rows[i].rv);
#undef SET
		env[n].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		if (!rows[i].want_ok) {
			tap_ok(e == QERR_INVAL && strstr(err, "QUIRE_") != NULL,
			    rows[i].line, "refused, naming the variable: \"%s\"", err);
			continue;
		}
		if (!tap_ok(e == QERR_OK, rows[i].line, "accepted: %s", err))
			continue;
		tap_ok(strcmp(c.mail_domain, rows[i].domain) == 0, rows[i].line,
		    "domain \"%s\"", c.mail_domain);
		tap_ok(strcmp(c.app_url, rows[i].app_out) == 0, rows[i].line,
		    "app url \"%s\"", c.app_url);
		tap_ok(c.mail_on == rows[i].on, rows[i].line, "mail_on %d", c.mail_on);
		tap_ok(c.verify_on_signup == rows[i].vos_out, rows[i].line,
		    "verify_on_signup %d", c.verify_on_signup);
		conf_free(&c);
	}
}

static void
test_parse_long(void)
{
	static const struct {
		int		 line;
		const char	*s;
		long		 min, max;
		enum qerr	 want;
		long		 val;
	} rows[] = {
		{ __LINE__, "0", 0, 10, QERR_OK, 0 },
		{ __LINE__, "10", 0, 10, QERR_OK, 10 },
		{ __LINE__, "007", 0, 10, QERR_OK, 7 },
		{ __LINE__, "11", 0, 10, QERR_INVAL, 0 },
		{ __LINE__, "4", 5, 10, QERR_INVAL, 0 },
		{ __LINE__, "", 0, 10, QERR_INVAL, 0 },
		{ __LINE__, NULL, 0, 10, QERR_INVAL, 0 },
		{ __LINE__, "-1", -5, 10, QERR_INVAL, 0 },
		{ __LINE__, "1e3", 0, 100000, QERR_INVAL, 0 },
		{ __LINE__, "abc", 0, 10, QERR_INVAL, 0 },
		{ __LINE__, " 1", 0, 10, QERR_INVAL, 0 },
		{ __LINE__, "1 ", 0, 10, QERR_INVAL, 0 },
		{ __LINE__, "999999999999999999", 0, 999999999999999999L,
		    QERR_OK, 999999999999999999L },
		{ __LINE__, "9999999999999999999", 0, 999999999999999999L,
		    QERR_INVAL, 0 },
		{ __LINE__, "99999999999999999999999999", 0, 10, QERR_INVAL, 0 },
	};
	size_t		 i;
	long		 v;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		v = -12345;
		e = conf_parse_long(rows[i].s, rows[i].min, rows[i].max, &v);
		tap_ok(e == rows[i].want, rows[i].line,
		    "conf_parse_long(\"%s\", %ld, %ld) = %d want %d",
		    rows[i].s != NULL ? rows[i].s : "(null)", rows[i].min,
		    rows[i].max, (int)e, (int)rows[i].want);
		tap_ok(v == (e == QERR_OK ? rows[i].val : -12345), rows[i].line,
		    "value %ld", v);
	}
}

static void
test_log_level(void)
{
	static const struct {
		int		 line;
		const char	*value;		/* NULL: unset */
		int		 want;		/* -1: QERR_INVAL */
	} rows[] = {
		{ __LINE__, NULL, LVL_INFO },
		{ __LINE__, "", LVL_INFO },
		{ __LINE__, "debug", LVL_DEBUG },
		{ __LINE__, "info", LVL_INFO },
		{ __LINE__, "warn", LVL_WARN },
		{ __LINE__, "error", LVL_ERROR },
		{ __LINE__, "warning", -1 },
		{ __LINE__, "verbose", -1 },
		{ __LINE__, "debugx", -1 },
		{ __LINE__, "deb", -1 },
		{ __LINE__, "0", -1 },
	};
	struct kv	 env[3];
	struct conf	 c;
	char		 err[256];
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		env[0].name = "QUIRE_PRIMARY_URL";
		env[0].value = PRIMARY;
		env[1].name = rows[i].value != NULL ?
		    "QUIRE_LOG_LEVEL" : "QUIRE_UNRELATED";
		env[1].value = rows[i].value;
		env[2].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		if (rows[i].want == -1) {
			tap_ok(e == QERR_INVAL && strstr(err,
			    "QUIRE_LOG_LEVEL") != NULL, rows[i].line,
			    "QUIRE_LOG_LEVEL=%s refused: \"%s\"",
			    rows[i].value, err);
		} else {
			tap_ok(e == QERR_OK && (int)c.log_level == rows[i].want,
			    rows[i].line, "QUIRE_LOG_LEVEL=%s: level %d want %d",
			    rows[i].value != NULL ? rows[i].value : "(unset)",
			    (int)c.log_level, rows[i].want);
		}
		conf_free(&c);
	}
}

#define MAXL	4

static void
test_lists(void)
{
	static const struct {
		int		 line;
		const char	*origins;
		const char	*proxies;
		int		 norigins;	/* -1: QERR_INVAL */
		const char	*want_origins[MAXL];
		int		 nproxies;
		const char	*want_proxies[MAXL];
	} rows[] = {
		{ __LINE__, "https://a.example", "10.0.0.1",
		    1, { "https://a.example" }, 1, { "10.0.0.1" } },
		{ __LINE__, " https://a.example , https://b.example,,  ",
		    "10.0.0.1,\t10.0.0.2 ,::1",
		    2, { "https://a.example", "https://b.example" },
		    3, { "10.0.0.1", "10.0.0.2", "::1" } },
		{ __LINE__, "", "", 0, { NULL }, 0, { NULL } },
		{ __LINE__, " , ,", ",", 0, { NULL }, 0, { NULL } },
		{ __LINE__, "http://localhost:5173,https://app.example.com",
		    NULL, 2,
		    { "http://localhost:5173", "https://app.example.com" },
		    0, { NULL } },
		/* 33 origins: one too many. */
		{ __LINE__, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,"
		    "y,z,A,B,C,D,E,F,G", NULL, -1, { NULL }, 0, { NULL } },
		/* 32 are fine. */
		{ __LINE__, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,"
		    "y,z,A,B,C,D,E,F", NULL, 32, { "a", "b", "c", "d" },
		    0, { NULL } },
	};
	struct kv	 env[4];
	struct conf	 c;
	char		 err[256];
	size_t		 i, k;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		env[0].name = "QUIRE_PRIMARY_URL";
		env[0].value = PRIMARY;
		env[1].name = "QUIRE_ALLOWED_ORIGINS";
		env[1].value = rows[i].origins;
		env[2].name = rows[i].proxies != NULL ?
		    "QUIRE_TRUSTED_PROXIES" : "QUIRE_UNRELATED";
		env[2].value = rows[i].proxies;
		env[3].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		if (rows[i].norigins == -1) {
			tap_ok(e == QERR_INVAL && strstr(err,
			    "QUIRE_ALLOWED_ORIGINS") != NULL, rows[i].line,
			    "too many origins refused: \"%s\"", err);
			conf_free(&c);
			continue;
		}
		tap_ok(e == QERR_OK, rows[i].line, "parsed: %s", err);
		tap_ok(c.norigins == (size_t)rows[i].norigins, rows[i].line,
		    "norigins %zu want %d", c.norigins, rows[i].norigins);
		for (k = 0; k < MAXL && rows[i].want_origins[k] != NULL; k++)
			tap_ok(k < c.norigins && strcmp(c.origins[k],
			    rows[i].want_origins[k]) == 0, rows[i].line,
			    "origin %zu: \"%s\" want \"%s\"", k,
			    k < c.norigins ? c.origins[k] : "(none)",
			    rows[i].want_origins[k]);
		tap_ok(c.nproxies == (size_t)rows[i].nproxies, rows[i].line,
		    "nproxies %zu want %d", c.nproxies, rows[i].nproxies);
		for (k = 0; k < MAXL && rows[i].want_proxies[k] != NULL; k++)
			tap_ok(k < c.nproxies && strcmp(c.proxies[k],
			    rows[i].want_proxies[k]) == 0, rows[i].line,
			    "proxy %zu: \"%s\" want \"%s\"", k,
			    k < c.nproxies ? c.proxies[k] : "(none)",
			    rows[i].want_proxies[k]);
		conf_free(&c);
	}
}

static void
test_origin_allowed(void)
{
	static const struct {
		int		 line;
		const char	*origin;
		int		 want;
	} rows[] = {
		{ __LINE__, "https://app.example.com", 1 },
		{ __LINE__, "http://localhost:5173", 1 },
		{ __LINE__, "https://app.example.com/", 0 },
		{ __LINE__, "https://APP.example.com", 0 },
		{ __LINE__, "http://app.example.com", 0 },
		{ __LINE__, "https://app.example.com:443", 0 },
		{ __LINE__, "https://app.example.co", 0 },
		{ __LINE__, "https://app.example.com.evil.test", 0 },
		{ __LINE__, "https://evil.test/https://app.example.com", 0 },
		{ __LINE__, " https://app.example.com", 0 },
		{ __LINE__, "http://localhost", 0 },
		{ __LINE__, "null", 0 },
		{ __LINE__, "", 0 },
	};
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", PRIMARY },
		{ "QUIRE_ALLOWED_ORIGINS",
		    "https://app.example.com, http://localhost:5173" },
		{ NULL, NULL }
	};
	struct conf	 c;
	char		 err[256];
	size_t		 i;

	err[0] = '\0';
	ok(conf_parse(&c, table_get, env, err, sizeof(err)) == QERR_OK,
	    "conf with two origins: %s", err);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(conf_origin_allowed(&c, rows[i].origin) == rows[i].want,
		    rows[i].line, "conf_origin_allowed(\"%s\") == %d",
		    rows[i].origin, rows[i].want);
	conf_free(&c);
}

#define MAXU	4

static void
test_split_urls(void)
{
	static const struct {
		int		 line;
		const char	*in;
		size_t		 max;
		int		 want;
		const char	*urls[MAXU];
	} rows[] = {
		{ __LINE__, "postgresql://a:1,b:2/db", MAXU, 1,
		    { "postgresql://a:1,b:2/db" } },
		{ __LINE__, "host=a port=1,host=b port=2", MAXU, 2,
		    { "host=a port=1", "host=b port=2" } },
		{ __LINE__, "postgresql://a/db,postgresql://b/db", MAXU, 2,
		    { "postgresql://a/db", "postgresql://b/db" } },
		{ __LINE__, "", MAXU, 0, { NULL } },
		{ __LINE__, "   ", MAXU, 0, { NULL } },
		{ __LINE__, "postgres://a/db , host=b dbname=q", MAXU, 2,
		    { "postgres://a/db", "host=b dbname=q" } },
		{ __LINE__, "postgresql://a:1,b:2/db?target_session_attrs=any,"
		    "postgresql://c/db", MAXU, 2,
		    { "postgresql://a:1,b:2/db?target_session_attrs=any",
		    "postgresql://c/db" } },
		/* keyword=value with a libpq host list stays whole */
		{ __LINE__, "host=a,b port=1,2 dbname=x", MAXU, 1,
		    { "host=a,b port=1,2 dbname=x" } },
		{ __LINE__, "postgresql://u@h1,h2,h3/db", MAXU, 1,
		    { "postgresql://u@h1,h2,h3/db" } },
		{ __LINE__, " postgresql://a/db ", MAXU, 1,
		    { "postgresql://a/db" } },
		{ __LINE__, "postgresql://a/db,postgresql://b/db,"
		    "postgresql://c/db", 2, -1, { NULL } },
		{ __LINE__, "postgresql://a/db,postgresql://b/db", 2, 2,
		    { "postgresql://a/db", "postgresql://b/db" } },
	};
	char	 s[256];
	char	*out[MAXU];
	size_t	 i, k;
	int	 n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(s, sizeof(s), "%s", rows[i].in);
		memset(out, 0, sizeof(out));
		n = conf_split_urls(s, out, rows[i].max);
		tap_ok(n == rows[i].want, rows[i].line,
		    "conf_split_urls(\"%s\") = %d want %d", rows[i].in, n,
		    rows[i].want);
		for (k = 0; k < MAXU && rows[i].urls[k] != NULL; k++)
			tap_ok(n > (int)k && out[k] != NULL &&
			    strcmp(out[k], rows[i].urls[k]) == 0, rows[i].line,
			    "entry %zu: \"%s\" want \"%s\"", k,
			    n > (int)k && out[k] != NULL ? out[k] : "(none)",
			    rows[i].urls[k]);
	}
}

/* QUIRE_REPLICA_URL through conf_parse. */
static void
test_replicas(void)
{
	static const struct {
		int		 line;
		const char	*value;
		int		 want;		/* -1: QERR_INVAL */
		const char	*first;
	} rows[] = {
		{ __LINE__, "postgresql://a:1,b:2/db", 1,
		    "postgresql://a:1,b:2/db" },
		{ __LINE__, "host=r1,host=r2", 2, "host=r1" },
		{ __LINE__, "", 0, NULL },
		{ __LINE__, "host=1,host=2,host=3,host=4,host=5,host=6,"
		    "host=7,host=8", 8, "host=1" },
		{ __LINE__, "host=1,host=2,host=3,host=4,host=5,host=6,"
		    "host=7,host=8,host=9", -1, NULL },
	};
	struct kv	 env[3];
	struct conf	 c;
	char		 err[256];
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		env[0].name = "QUIRE_PRIMARY_URL";
		env[0].value = PRIMARY;
		env[1].name = "QUIRE_REPLICA_URL";
		env[1].value = rows[i].value;
		env[2].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		if (rows[i].want == -1) {
			tap_ok(e == QERR_INVAL && strstr(err,
			    "QUIRE_REPLICA_URL") != NULL, rows[i].line,
			    "too many replicas refused: \"%s\"", err);
			conf_free(&c);
			continue;
		}
		tap_ok(e == QERR_OK && c.nreplicas == (size_t)rows[i].want,
		    rows[i].line, "nreplicas %zu want %d (%s)", c.nreplicas,
		    rows[i].want, err);
		if (rows[i].first != NULL)
			tap_ok(c.nreplicas > 0 &&
			    strcmp(c.replica_urls[0], rows[i].first) == 0,
			    rows[i].line, "first replica \"%s\"",
			    c.nreplicas > 0 ? c.replica_urls[0] : "(none)");
		is_str(c.primary_url, PRIMARY, "primary_url kept");
		conf_free(&c);
	}
}

/*
 * QUIRE_SECRET_KEY: 32 bytes in base64, padded or not; a wrong one
 * refuses the start with a message naming it; none leaves 2FA off.
 * QUIRE_TOTP_ISSUER: quire by default; no colon, no control character.
 */
static void
test_two_factor(void)
{
	/* 32 bytes 0x00..0x1f, padded and not. */
	static const char key32[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	static const struct {
		int		 line;
		const char	*key;		/* NULL: unset */
		const char	*issuer;	/* NULL: unset */
		int		 ok;
		const char	*err;		/* a part of the message */
		const char	*want_issuer;
	} rows[] = {
		{ __LINE__, NULL, NULL, 1, NULL, "quire" },
		{ __LINE__, "", "", 1, NULL, "quire" },
		{ __LINE__, key32, NULL, 1, NULL, "quire" },
		{ __LINE__, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "Acme Blog", 1, NULL, "Acme Blog" },
		/* 31 and 33 bytes */
		{ __LINE__, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", NULL, 0, "decodes to 31 bytes", NULL },
		{ __LINE__, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", NULL, 0, "decodes to 33 bytes", NULL },
		{ __LINE__, "not base64 at all!", NULL, 0, "not base64", NULL },
		/* 32 bytes of hex is 64 characters: not the format. */
		{ __LINE__, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", NULL, 0, "QUIRE_SECRET_KEY", NULL },
		{ __LINE__, NULL, "a:b", 0, "QUIRE_TOTP_ISSUER", NULL },
		{ __LINE__, NULL, "a\tb", 0, "QUIRE_TOTP_ISSUER", NULL },
		{ __LINE__, NULL, "12345678901234567890123456789012345678901234567890123456789012345", 0, "QUIRE_TOTP_ISSUER", NULL },
	};
	struct kv	 env[4];
	struct conf	 c;
	char		 err[256];
	size_t		 i, n;
	enum qerr	 e;
	unsigned char	 want[CONF_KEY_BYTES];

	for (i = 0; i < CONF_KEY_BYTES; i++)
		want[i] = (unsigned char)i;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = 0;
		env[n].name = "QUIRE_PRIMARY_URL";
		env[n++].value = PRIMARY;
		if (rows[i].key != NULL) {
			env[n].name = "QUIRE_SECRET_KEY";
			env[n++].value = rows[i].key;
		}
		if (rows[i].issuer != NULL) {
			env[n].name = "QUIRE_TOTP_ISSUER";
			env[n++].value = rows[i].issuer;
		}
		env[n].name = NULL;
		err[0] = '\0';
		e = conf_parse(&c, table_get, env, err, sizeof(err));
		if (rows[i].ok) {
			tap_ok(e == QERR_OK, rows[i].line, "accepted: %s", err);
			if (e == QERR_OK) {
				tap_ok(c.has_secret_key == (rows[i].key != NULL &&
				    *rows[i].key != '\0'), rows[i].line,
				    "has_secret_key %d", c.has_secret_key);
				tap_ok(!c.has_secret_key || memcmp(c.secret_key,
				    want, CONF_KEY_BYTES) == 0, rows[i].line,
				    "the key's bytes");
				tap_ok(strcmp(c.totp_issuer, rows[i].want_issuer) == 0,
				    rows[i].line, "issuer \"%s\"", c.totp_issuer);
			}
		} else {
			tap_ok(e == QERR_INVAL, rows[i].line, "refused: %d", (int)e);
			tap_ok(strstr(err, rows[i].err) != NULL, rows[i].line,
			    "message \"%s\" says \"%s\"", err, rows[i].err);
		}
		conf_free(&c);
		tap_ok(!c.has_secret_key, rows[i].line, "conf_free forgets the key");
	}
}

int
main(void)
{

	test_defaults();
	test_two_factor();
	test_required();
	test_numbers();
	test_mail();
	test_parse_long();
	test_log_level();
	test_lists();
	test_origin_allowed();
	test_split_urls();
	test_replicas();
	return tap_done();
}
