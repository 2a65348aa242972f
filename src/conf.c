/*
 * Environment → struct conf. Every variable, its default and its bounds
 * are in one table.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "email.h"
#include "fmt.h"
#include "mem.h"

enum kind {
	K_LONG,
	K_BOOL,
	K_SIZE
};

struct num_var {
	const char	*name;
	enum kind	 kind;
	const char	*def;
	long		 min, max;
	size_t		 off;
};

#define OFF(f)	offsetof(struct conf, f)

static const struct num_var num_vars[] = {
	{ "QUIRE_COOKIE_SECURE", K_BOOL, "1", 0, 1, OFF(cookie_secure) },
	{ "QUIRE_SESSION_TTL", K_LONG, "604800", 60, 31536000, OFF(session_ttl) },
	{ "QUIRE_SESSION_CACHE_MS", K_LONG, "1000", 0, 10000, OFF(session_cache_ms) },
	{ "QUIRE_MAX_BODY", K_SIZE, "1048576", 1024, 64L * 1024 * 1024, OFF(max_body) },
	{ "QUIRE_MAX_PAGE_BYTES", K_SIZE, "4194304", 16384, 64L * 1024 * 1024, OFF(max_page_bytes) },
	{ "QUIRE_AUTH_RATE_LIMIT", K_LONG, "10", 0, 1000000, OFF(auth_rate_limit) },
	{ "QUIRE_MAX_REPLICA_LAG", K_LONG, "30", 0, 86400, OFF(max_replica_lag) },
	{ "QUIRE_DB_CONNECT_TIMEOUT", K_LONG, "2", 1, 60, OFF(db_connect_timeout) },
	{ "QUIRE_STATEMENT_TIMEOUT_MS", K_LONG, "5000", 0, 600000, OFF(statement_timeout_ms) },
	{ "QUIRE_SLOW_QUERY_MS", K_LONG, "200", 0, 600000, OFF(slow_query_ms) },
	{ "QUIRE_WORKERS", K_LONG, "1", 1, 256, OFF(workers) },
	{ "QUIRE_REQUEST_TIMEOUT", K_LONG, "10", 1, 600, OFF(request_timeout) },
	{ "QUIRE_REQUIRE_VERIFIED", K_BOOL, "0", 0, 1, OFF(require_verified) },
	/* Seconds; 1 is allowed for tests of the limit itself. */
	{ "QUIRE_SESSION_MAX_AGE", K_LONG, CONF_SESSION_MAX_AGE_DEF, 1, CONF_SESSION_MAX_AGE_MAX, OFF(session_max_age) },
	/* Used by `quirectl prune`; refused here too, so a typo shows at start. */
	{ "QUIRE_AUDIT_RETENTION_DAYS", K_LONG, CONF_AUDIT_RETENTION_DEF, 1, CONF_AUDIT_RETENTION_MAX, OFF(audit_retention_days) },
};

static const char *const level_names[LVL__MAX] = {
	"debug", "info", "warn", "error"
};

enum qerr
conf_parse_long(const char *s, long min, long max, long *out)
{
	unsigned long long	 v;

	if (s == NULL || max < 0 ||
	    fmt_parse_u(s, strlen(s), (unsigned long long)max, &v) == -1 ||
	    (long)v < min)
		return QERR_INVAL;
	*out = (long)v;
	return QERR_OK;
}

static int
starts_conninfo(const char *s)
{
	size_t	 n;

	n = strlen(s);
	fmt_trim(&s, &n);
	if (strncmp(s, "postgres://", 11) == 0 ||
	    strncmp(s, "postgresql://", 13) == 0)
		return 1;
	for (n = 0; s[n] != '\0' && (islower((unsigned char)s[n]) || s[n] == '_'); n++)
		continue;
	while (s[n] == ' ')
		n++;
	return n > 0 && s[n] == '=';
}

int
conf_split_urls(char *s, char **out, size_t max)
{
	char	*start, *p;
	size_t	 n;

	n = 0;
	start = s;
	for (p = s; ; p++) {
		if (*p != '\0' && !(*p == ',' && starts_conninfo(p + 1)))
			continue;
		{
			const char	*t = start;
			size_t		 len = (size_t)(p - start);
			int		 end = (*p == '\0');

			fmt_trim(&t, &len);
			start[(t - start) + (ptrdiff_t)len] = '\0';
			if (len > 0) {
				if (n == max)
					return -1;
				out[n++] = start + (t - start);
			}
			if (end)
				break;
			start = p + 1;
		}
	}
	return (int)n;
}

/* 1 when s holds a control character or a space: nothing to put in a header or a link. */
static int
has_ctl_or_space(const char *s)
{

	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/*
 * The mail rows. QUIRE_MAIL_FROM is "addr" or "Name <addr>"; its
 * address must pass the contract's email shape (a From that mail
 * servers refuse would fail every message, found only by the worker).
 */
static enum qerr
conf_mail(struct conf *c, conf_getter get, void *arg, char *err, size_t errsz)
{
	const char	*mail, *app, *from, *vos, *addr, *lt, *at;
	size_t		 alen, applen, n;
	char		*p;

	if ((mail = get("QUIRE_MAIL_URL", arg)) == NULL)
		mail = "";
	if ((app = get("QUIRE_APP_URL", arg)) == NULL)
		app = "";
	if ((from = get("QUIRE_MAIL_FROM", arg)) == NULL)
		from = "";
	c->mail_on = *mail != '\0';
	if (c->mail_on && (*app == '\0' || *from == '\0')) {
		snprintf(err, errsz, "QUIRE_MAIL_URL is set: QUIRE_APP_URL and "
		    "QUIRE_MAIL_FROM are required too");
		return QERR_INVAL;
	}
	applen = strlen(app);
	while (applen > 0 && app[applen - 1] == '/')
		applen--;
	if (*app != '\0' && ((strncmp(app, "https://", 8) != 0 &&
	    strncmp(app, "http://", 7) != 0) || has_ctl_or_space(app))) {
		snprintf(err, errsz, "QUIRE_APP_URL must be an http:// or "
		    "https:// URL without spaces");
		return QERR_INVAL;
	}
	addr = from;
	alen = strlen(from);
	if ((lt = strrchr(from, '<')) != NULL) {
		addr = lt + 1;
		alen = strlen(addr);
		if (alen == 0 || addr[alen - 1] != '>') {
			snprintf(err, errsz, "QUIRE_MAIL_FROM must be "
			    "\"addr@example.com\" or \"Name <addr@example.com>\"");
			return QERR_INVAL;
		}
		alen--;
	}
	for (n = 0; from[n] != '\0'; n++)
		if ((unsigned char)from[n] < 0x20 || from[n] == 0x7f) {
			snprintf(err, errsz, "QUIRE_MAIL_FROM holds a control character");
			return QERR_INVAL;
		}
	if (*from != '\0' && email_shape(addr, alen) != NULL) {
		snprintf(err, errsz, "QUIRE_MAIL_FROM: \"%.*s\" is not a valid "
		    "email address", (int)(alen > 254 ? 254 : alen), addr);
		return QERR_INVAL;
	}
	at = memchr(addr, '@', alen);
	if ((c->mail_storage = mem_malloc(applen + strlen(from) + alen + 3)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return QERR_NOMEM;
	}
	p = c->mail_storage;
	c->app_url = p;
	memcpy(p, app, applen);
	p[applen] = '\0';
	p += applen + 1;
	c->mail_from = p;
	strcpy(p, from);
	p += strlen(from) + 1;
	c->mail_domain = p;
	n = at != NULL ? alen - (size_t)(at + 1 - addr) : 0;
	memcpy(p, at != NULL ? at + 1 : "", n);
	p[n] = '\0';

	/* Default: on when mail is configured (API.md, Configuration). */
	c->verify_on_signup = c->mail_on;
	if ((vos = get("QUIRE_VERIFY_ON_SIGNUP", arg)) != NULL && *vos != '\0') {
		long	 l;

		if (conf_parse_long(vos, 0, 1, &l) != QERR_OK) {
			snprintf(err, errsz, "QUIRE_VERIFY_ON_SIGNUP must be 0 or 1");
			return QERR_INVAL;
		}
		c->verify_on_signup = (int)l;
	}
	if ((c->verify_on_signup || c->require_verified) && !c->mail_on) {
		snprintf(err, errsz, "%s needs mail: set QUIRE_MAIL_URL, "
		    "QUIRE_APP_URL and QUIRE_MAIL_FROM",
		    c->require_verified ? "QUIRE_REQUIRE_VERIFIED=1" :
		    "QUIRE_VERIFY_ON_SIGNUP=1");
		return QERR_INVAL;
	}
	return QERR_OK;
}

int
conf_key_decode(const char *s, unsigned char *key, size_t *got)
{
	/* Room for more than a key, to say how long a wrong one is. */
	unsigned char	 bin[3 * CONF_KEY_BYTES];
	size_t		 n, len;
	int		 ok;

	len = strlen(s);
	n = 0;
	ok = sodium_base642bin(bin, sizeof(bin), s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 ||
	    sodium_base642bin(bin, sizeof(bin), s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == 0;
	if (got != NULL)
		*got = ok ? n : 0;
	ok = ok && n == CONF_KEY_BYTES;
	if (ok && key != NULL)
		memcpy(key, bin, CONF_KEY_BYTES);
	sodium_memzero(bin, sizeof(bin));
	return ok ? 0 : -1;
}

/* 1 when s is base64 (standard, padded or not) of exactly 32 bytes. */
static int
key_ok(const char *s)
{

	return conf_key_decode(s, NULL, NULL) == 0;
}

/*
 * QUIRE_SECRET_KEY and QUIRE_TOTP_ISSUER (API.md "Two-factor
 * authentication"). A key that is set but wrong refuses the start: a
 * typo must not silently turn 2FA off. Returns the issuer to keep, or
 * NULL with err.
 */
static const char *
conf_two_factor(struct conf *c, conf_getter get, void *arg, char *err,
    size_t errsz)
{
	const char	*key, *iss;
	size_t		 got, i;

	if ((key = get("QUIRE_SECRET_KEY", arg)) != NULL && *key != '\0') {
		if (conf_key_decode(key, c->secret_key, &got) == -1) {
			if (got == 0)
				snprintf(err, errsz, "QUIRE_SECRET_KEY must be "
				    "32 bytes in base64 (openssl rand -base64 "
				    "32); it is not base64");
			else
				snprintf(err, errsz, "QUIRE_SECRET_KEY must be "
				    "32 bytes in base64 (openssl rand -base64 "
				    "32); it decodes to %zu bytes", got);
			return NULL;
		}
		c->has_secret_key = 1;
	}
	if ((iss = get("QUIRE_TOTP_ISSUER", arg)) == NULL || *iss == '\0')
		iss = "quire";
	/* The app shows "issuer:email"; a colon there would split it wrong. */
	for (i = 0; iss[i] != '\0'; i++)
		if ((unsigned char)iss[i] < 0x20 || iss[i] == 0x7f || iss[i] == ':')
			break;
	if (iss[i] != '\0' || i > CONF_ISSUER_MAX) {
		snprintf(err, errsz, "QUIRE_TOTP_ISSUER must be at most %d bytes, "
		    "without colons or control characters", CONF_ISSUER_MAX);
		return NULL;
	}
	return iss;
}

/* Splits a comma list in place into out[], trimming blanks. */
static int
split_list(char *s, char **out, size_t max)
{
	const char	*t;
	char		*tok;
	size_t		 n, len;

	n = 0;
	while (s != NULL && *s != '\0') {
		tok = s;
		if ((s = strchr(s, ',')) != NULL)
			*s++ = '\0';
		t = tok;
		len = strlen(tok);
		fmt_trim(&t, &len);
		tok += t - tok;
		tok[len] = '\0';
		if (len == 0)
			continue;
		if (n == max)
			return -1;
		out[n++] = tok;
	}
	return (int)n;
}

enum qerr
conf_parse(struct conf *c, conf_getter get, void *arg, char *err, size_t errsz)
{
	const char	*v, *prim, *repl, *orig, *prox, *shmp, *wsa, *pkey, *iss;
	size_t		 i, total, o;
	long		 l;
	int		 n;
	char		*p;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(num_vars) / sizeof(num_vars[0]); i++) {
		const struct num_var *nv = &num_vars[i];

		v = get(nv->name, arg);
		if (v == NULL || *v == '\0')
			v = nv->def;
		if (conf_parse_long(v, nv->min, nv->max, &l) != QERR_OK) {
			snprintf(err, errsz, "%s must be a whole number "
			    "from %ld to %ld", nv->name, nv->min, nv->max);
			return QERR_INVAL;
		}
		switch (nv->kind) {
		case K_BOOL:
			*(int *)(void *)((char *)c + nv->off) = (int)l;
			break;
		case K_SIZE:
			*(size_t *)(void *)((char *)c + nv->off) = (size_t)l;
			break;
		case K_LONG:
			*(long *)(void *)((char *)c + nv->off) = l;
			break;
		}
	}

	c->log_level = LVL_INFO;
	if ((v = get("QUIRE_LOG_LEVEL", arg)) != NULL && *v != '\0') {
		for (i = 0; i < LVL__MAX; i++)
			if (strcmp(v, level_names[i]) == 0)
				break;
		if (i == LVL__MAX) {
			snprintf(err, errsz, "QUIRE_LOG_LEVEL must be one of "
			    "debug, info, warn, error");
			return QERR_INVAL;
		}
		c->log_level = (enum log_level)i;
	}

	prim = get("QUIRE_PRIMARY_URL", arg);
	if (prim == NULL || *prim == '\0') {
		snprintf(err, errsz, "QUIRE_PRIMARY_URL is required "
		    "(a libpq connection string or URI)");
		return QERR_INVAL;
	}
	if ((repl = get("QUIRE_REPLICA_URL", arg)) == NULL)
		repl = "";
	if ((orig = get("QUIRE_ALLOWED_ORIGINS", arg)) == NULL)
		orig = "";
	if ((prox = get("QUIRE_TRUSTED_PROXIES", arg)) == NULL)
		prox = "";
	if ((shmp = get("QUIRE_SHM_PATH", arg)) == NULL)
		shmp = "";
	/* libfcgi's variable, read with ours: an env file may set it too. */
	if ((wsa = get("FCGI_WEB_SERVER_ADDRS", arg)) == NULL)
		wsa = "";
	/* Every host of a service shares it (pos.h): 32 bytes, base64. */
	if ((pkey = get("QUIRE_POSITION_KEY", arg)) == NULL)
		pkey = "";
	if (*pkey != '\0' && !key_ok(pkey)) {
		snprintf(err, errsz, "QUIRE_POSITION_KEY must be 32 bytes in "
		    "base64 (openssl rand -base64 32)");
		return QERR_INVAL;
	}

	if ((iss = conf_two_factor(c, get, arg, err, errsz)) == NULL) {
		sodium_memzero(c->secret_key, sizeof(c->secret_key));
		return QERR_INVAL;
	}

	/* One allocation holds every string; conf_free frees it. */
	total = strlen(prim) + strlen(repl) + strlen(orig) + strlen(prox) +
	    strlen(shmp) + strlen(wsa) + strlen(pkey) + strlen(iss) + 8;
	if ((c->storage = mem_malloc(total)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return QERR_NOMEM;
	}
	p = c->storage;
	o = 0;
#define COPY(dst, src) do {						\
		size_t len_ = strlen(src) + 1;				\
		memcpy(p + o, (src), len_);				\
		(dst) = p + o;						\
		o += len_;						\
	} while (0)
	COPY(c->primary_url, prim);
	COPY(c->shm_path, shmp);
	COPY(c->web_server_addrs, wsa);
	COPY(c->position_key, pkey);
	COPY(c->totp_issuer, iss);
	{
		char	*r, *o2, *x;

		COPY(r, repl);
		COPY(o2, orig);
		COPY(x, prox);
		if ((n = conf_split_urls(r, c->replica_urls,
		    CONF_MAX_REPLICAS)) < 0) {
			snprintf(err, errsz, "QUIRE_REPLICA_URL names more "
			    "than %d servers", CONF_MAX_REPLICAS);
			conf_free(c);
			return QERR_INVAL;
		}
		c->nreplicas = (size_t)n;
		if ((n = split_list(o2, c->origins, CONF_MAX_ORIGINS)) < 0) {
			snprintf(err, errsz, "QUIRE_ALLOWED_ORIGINS lists "
			    "more than %d origins", CONF_MAX_ORIGINS);
			conf_free(c);
			return QERR_INVAL;
		}
		c->norigins = (size_t)n;
		if ((n = split_list(x, c->proxies, CONF_MAX_PROXIES)) < 0) {
			snprintf(err, errsz, "QUIRE_TRUSTED_PROXIES lists "
			    "more than %d addresses", CONF_MAX_PROXIES);
			conf_free(c);
			return QERR_INVAL;
		}
		c->nproxies = (size_t)n;
	}
#undef COPY
	if (conf_mail(c, get, arg, err, errsz) != QERR_OK) {
		conf_free(c);
		return QERR_INVAL;
	}
	return QERR_OK;
}

/*
 * QUIRE_ENV_FILE: KEY=value lines, as systemd's EnvironmentFile reads
 * them (blank lines and lines starting with # or ; ignored; a value may
 * be in double or single quotes). Its values win over the environment.
 */
#define ENVFILE_MAX	(64 * 1024)
#define ENVFILE_VARS	128

struct envfile {
	char		 text[ENVFILE_MAX + 1];
	const char	*name[ENVFILE_VARS];
	const char	*value[ENVFILE_VARS];
	size_t		 n;
};

static const char *
env_get(const char *name, void *arg)
{
	const struct envfile	*ef = arg;
	size_t			 i;

	for (i = ef != NULL ? ef->n : 0; i > 0; i--)
		if (strcmp(ef->name[i - 1], name) == 0)
			return ef->value[i - 1];
	return getenv(name);
}

/* Reads and parses path into ef. Returns QERR_OK, or QERR_INVAL with err. */
static enum qerr
envfile_read(struct envfile *ef, const char *path, char *err, size_t errsz)
{
	FILE	*f;
	char	*line, *next, *eq, *v, *e;
	size_t	 n, lineno;

	ef->n = 0;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "QUIRE_ENV_FILE %s: %s", path,
		    strerror(errno));
		return QERR_INVAL;
	}
	n = fread(ef->text, 1, ENVFILE_MAX + 1, f);
	fclose(f);
	if (n > ENVFILE_MAX) {
		snprintf(err, errsz, "QUIRE_ENV_FILE %s: larger than %d bytes",
		    path, ENVFILE_MAX);
		return QERR_INVAL;
	}
	ef->text[n] = '\0';
	for (line = ef->text, lineno = 1; line != NULL; line = next, lineno++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if ((eq = strchr(line, '=')) == NULL || eq == line ||
		    ef->n == ENVFILE_VARS) {
			snprintf(err, errsz, "QUIRE_ENV_FILE %s line %zu: %s",
			    path, lineno, eq == NULL || eq == line ?
			    "not KEY=value" : "too many variables");
			return QERR_INVAL;
		}
		*eq = '\0';
		v = eq + 1;
		/* A quoted value keeps its blanks; the quotes go. */
		if ((*v == '"' || *v == '\'') && e - v >= 2 && e[-1] == *v) {
			e[-1] = '\0';
			v++;
		}
		ef->name[ef->n] = line;
		ef->value[ef->n++] = v;
	}
	return QERR_OK;
}

enum qerr
conf_from_env(struct conf *c, char *err, size_t errsz)
{
	struct envfile	*ef;
	const char	*path;
	enum qerr	 e;

	memset(c, 0, sizeof(*c));
	if ((path = getenv("QUIRE_ENV_FILE")) == NULL || *path == '\0')
		return conf_parse(c, env_get, NULL, err, errsz);
	if ((ef = mem_calloc(1, sizeof(*ef))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return QERR_NOMEM;
	}
	if ((e = envfile_read(ef, path, err, errsz)) == QERR_OK)
		e = conf_parse(c, env_get, ef, err, errsz);
	mem_free(ef);
	return e;
}

void
conf_free(struct conf *c)
{

	mem_free(c->storage);
	c->storage = NULL;
	sodium_memzero(c->secret_key, sizeof(c->secret_key));
	c->has_secret_key = 0;
	mem_free(c->mail_storage);
	c->mail_storage = NULL;
}

int
conf_origin_allowed(const struct conf *c, const char *origin)
{
	size_t	 i;

	for (i = 0; i < c->norigins; i++)
		if (strcmp(c->origins[i], origin) == 0)
			return 1;
	return 0;
}

enum qerr
conf_env_with(conf_env_fn fn, void *arg, char *err, size_t errsz)
{
	struct envfile	*ef;
	const char	*path;
	enum qerr	 e;

	if ((path = getenv("QUIRE_ENV_FILE")) == NULL || *path == '\0')
		return fn(env_get, NULL, arg);
	if ((ef = mem_calloc(1, sizeof(*ef))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return QERR_NOMEM;
	}
	if ((e = envfile_read(ef, path, err, errsz)) == QERR_OK)
		e = fn(env_get, ef, arg);
	mem_free(ef);
	return e;
}
