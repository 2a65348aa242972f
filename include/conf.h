/*
 * Configuration: the QUIRE_* environment turned into one struct conf,
 * read once at start-up.
 */
#ifndef QUIRE_CONF_H
#define QUIRE_CONF_H

#include <stddef.h>

#include "quire.h"

#define CONF_MAX_ORIGINS	32
#define CONF_MAX_PROXIES	32
#define CONF_MAX_REPLICAS	8
#define CONF_KEY_BYTES		32	/* QUIRE_POSITION_KEY, QUIRE_SECRET_KEY, decoded */
#define CONF_ISSUER_MAX		64	/* QUIRE_TOTP_ISSUER, bytes */

enum log_level {
	LVL_DEBUG,
	LVL_INFO,
	LVL_WARN,
	LVL_ERROR,
	LVL__MAX
};

struct conf {
	char		*primary_url;		/* required */
	char		*replica_urls[CONF_MAX_REPLICAS];
	size_t		 nreplicas;
	char		*origins[CONF_MAX_ORIGINS];
	size_t		 norigins;
	char		*proxies[CONF_MAX_PROXIES];
	size_t		 nproxies;
	int		 cookie_secure;
	long		 session_ttl;		/* seconds */
	long		 session_cache_ms;	/* sesscache.h; 0: off */
	size_t		 max_body;		/* bytes */
	size_t		 max_page_bytes;	/* a list page's JSON, bytes */
	long		 auth_rate_limit;	/* per minute; 0 disables */
	long		 max_replica_lag;	/* seconds */
	enum log_level	 log_level;
	long		 db_connect_timeout;	/* seconds */
	long		 statement_timeout_ms;
	long		 slow_query_ms;
	long		 request_timeout;	/* seconds to read a request */
	long		 workers;		/* 1: serve in this process */
	char		*shm_path;		/* QUIRE_SHM_PATH, "" when unset */
	char		*web_server_addrs;	/* FCGI_WEB_SERVER_ADDRS, "" when unset */
	char		*position_key;		/* QUIRE_POSITION_KEY, "" when unset */
	char		*storage;		/* owns the strings above */
	/*
	 * Mail (API.md "Mail"): configured when QUIRE_MAIL_URL is set, and
	 * then QUIRE_APP_URL and QUIRE_MAIL_FROM are required. The app
	 * only queues; `quirectl mail-worker` reads the URL and sends.
	 */
	int		 mail_on;
	char		*app_url;		/* no trailing slash; "" when unset */
	char		*mail_from;		/* as given: "addr" or "Name <addr>" */
	char		*mail_domain;		/* of mail_from's address: Message-IDs */
	int		 verify_on_signup;
	int		 require_verified;
	char		*mail_storage;		/* owns the mail strings */
	long		 session_max_age;	/* seconds from creation, however extended */
	long		 audit_retention_days;	/* quirectl prune */
	/*
	 * Two-factor authentication (totp.h): QUIRE_SECRET_KEY seals the
	 * TOTP secrets at rest; without it the 2FA routes answer 503.
	 */
	int		 has_secret_key;
	unsigned char	 secret_key[CONF_KEY_BYTES];
	char		*totp_issuer;		/* QUIRE_TOTP_ISSUER, in storage */
};

/* Defaults and bounds that `quirectl prune` applies as the app does. */
#define CONF_SESSION_MAX_AGE_DEF	"2592000"	/* 30 days */
#define CONF_SESSION_MAX_AGE_MAX	315360000L	/* 10 years */
#define CONF_AUDIT_RETENTION_DEF	"365"
#define CONF_AUDIT_RETENTION_MAX	36500L		/* 100 years */

/*
 * Looks a variable up; returns NULL when it is unset. conf_parse takes
 * this so tests can feed it a table instead of the environment.
 */
typedef const char *(*conf_getter)(const char *name, void *arg);

/*
 * Fills c from get(). On a bad value returns QERR_INVAL and writes a
 * message naming the variable into err. The caller frees with conf_free.
 */
enum qerr	 conf_parse(struct conf *c, conf_getter get, void *arg,
		    char *err, size_t errsz) QUIRE_WUR;
/*
 * conf_parse over the process environment, and over the file named by
 * QUIRE_ENV_FILE when it is set: the file's values win.
 */
enum qerr	 conf_from_env(struct conf *c, char *err, size_t errsz) QUIRE_WUR;
void		 conf_free(struct conf *);

/*
 * Calls fn(get, garg, arg) where get(name, garg) looks a variable up as
 * conf_from_env does (QUIRE_ENV_FILE's values over the environment), for
 * programs that read settings struct conf does not hold (quirectl
 * mail-worker). The strings get returns live only during fn. Returns
 * fn's result, or QERR_INVAL/QERR_NOMEM with err when the file cannot be
 * read.
 */
typedef enum qerr (*conf_env_fn)(conf_getter get, void *garg, void *arg);
enum qerr	 conf_env_with(conf_env_fn fn, void *arg, char *err,
		    size_t errsz) QUIRE_WUR;

/*
 * Decodes s, base64 (standard alphabet, padded or not), into key
 * (CONF_KEY_BYTES). Returns 0, or -1 when s is not base64 or does not
 * hold exactly CONF_KEY_BYTES bytes; *got (may be NULL) is then the
 * number of bytes it decodes to, or 0 when it is not base64.
 */
int		 conf_key_decode(const char *s, unsigned char *key, size_t *got);

/* 1 when origin is exactly one of the allowed origins. */
int		 conf_origin_allowed(const struct conf *, const char *origin);

/*
 * Splits a QUIRE_REPLICA_URL value into connection strings. A comma
 * starts a new entry only when what follows starts a new conninfo (a
 * postgres:// URI or a keyword=value pair), so a multi-host URI such as
 * postgresql://h1:5432,h2:5433/db stays whole. Modifies s in place;
 * returns the number of entries, or -1 when more than max.
 */
int		 conf_split_urls(char *s, char **out, size_t max);

/* Bounded decimal parse: QERR_INVAL unless s is digits within [min,max]. */
enum qerr	 conf_parse_long(const char *s, long min, long max, long *out) QUIRE_WUR;

#endif
