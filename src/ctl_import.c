/*
 * quirectl import-better-auth: copies a Better-Auth database into quire.
 *
 * The source is read in one read-only REPEATABLE READ transaction; quire
 * is written in one transaction, so an import is all or nothing. Users
 * are read whole (their emails must be compared with each other), posts
 * in batches through a cursor. Checks against quire (emails, ids, what
 * an earlier import brought) are batched ANY($1) queries, and rows go in
 * with COPY: no round trip per row.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "bascrypt.h"
#include "buf.h"
#include "ctl_import.h"
#include "email.h"
#include "fmt.h"
#include "stmts.h"
#include "utf8.h"
#include "valid.h"

#define UUID_LEN	36
#define CHECK_BATCH	5000		/* values per ANY($1) check */
#define COPY_CHUNK	(256 * 1024)	/* bytes handed to libpq at a time */
#define BUF_MAX		((size_t)1 << 30)
#define PROGRESS_EVERY	10000
#define SQL_MAX		4096

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The source's tables, by what quire does with them. */
enum {
	T_USERS,
	T_ACCOUNTS,
	T_POSTS,
	T_SESSIONS,
	T_VERIFICATIONS,
	T__MAX
};

/* A logical column: its camelCase and snake_case spellings. */
struct scol {
	const char	*camel;
	const char	*snake;
	int		 optional;
};

struct stable {
	const char		*plural;	/* Drizzle's names (the seed) */
	const char		*singular;	/* Better-Auth's default */
	const struct scol	*cols;		/* NULL: only counted */
	size_t			 ncols;
};

#define MAX_COLS	8

/* The order of each list is that of the STMT_IMPORT_SRC_* results. */
static const struct scol user_cols[] = {
	{ "id", "id", 0 },
	{ "name", "name", 0 },
	{ "email", "email", 0 },
	{ "emailVerified", "email_verified", 0 },
	{ "image", "image", 0 },
	{ "role", "role", 1 },		/* the admin plugin's, or the seed's */
	{ "createdAt", "created_at", 0 },
	{ "updatedAt", "updated_at", 0 },
};
static const struct scol account_cols[] = {
	{ "userId", "user_id", 0 },
	{ "providerId", "provider_id", 0 },
	{ "password", "password", 0 },
	{ "createdAt", "created_at", 0 },
	{ "updatedAt", "updated_at", 0 },
};
static const struct scol post_cols[] = {
	{ "id", "id", 0 },
	{ "title", "title", 0 },
	{ "content", "content", 0 },
	{ "published", "published", 0 },
	{ "authorId", "author_id", 0 },
	{ "createdAt", "created_at", 0 },
	{ "updatedAt", "updated_at", 0 },
};

static const struct stable tables[T__MAX] = {
	[T_USERS] = { "users", "user", user_cols, NELEM(user_cols) },
	[T_ACCOUNTS] = { "accounts", "account", account_cols, NELEM(account_cols) },
	[T_POSTS] = { "posts", "post", post_cols, NELEM(post_cols) },
	[T_SESSIONS] = { "sessions", "session", NULL, 0 },
	[T_VERIFICATIONS] = { "verifications", "verification", NULL, 0 },
};

/* What the source has: one naming of tables, each column as spelt there. */
struct layout {
	int		 plural;
	int		 present[T__MAX];
	const char	*col[T__MAX][MAX_COLS];	/* borrowed; NULL: missing */
	size_t		 camel, snake;		/* columns found in each spelling */
};

enum ustate {
	U_NEW,
	U_KNOWN,	/* imported before */
	U_REFUSED
};

struct suser {
	const char	*sid;		/* the source's id; borrowed, as all */
	const char	*email;		/* as the source has it */
	const char	*name;		/* trimmed, namelen bytes */
	size_t		 namelen;
	const char	*verified;
	const char	*image;		/* NULL: none */
	const char	*role;
	const char	*created, *updated;
	const char	*hash;		/* the credential account's, or NULL */
	const char	*acreated, *aupdated;
	int		 ncred;		/* credential accounts */
	int		 nother;	/* accounts of other providers */
	enum bascrypt_fmt fmt;
	enum ustate	 state;
	int		 in_quire;	/* U_KNOWN: quire still has the user */
	char		*canon;		/* malloc'd canonical email */
	char		*reason;	/* malloc'd, U_REFUSED */
	char		 qid[UUID_LEN + 1];
};

/* Source id -> index, open addressing. Keys are borrowed. */
struct idmap {
	const char	**key;
	size_t		 *idx;
	size_t		  mask;
};

struct counts {
	size_t	 read, imported, known, refused;
};

struct imp {
	PGconn		*src, *dst;
	unsigned int	 flags;
	int		 progress;	/* stderr is a terminal */
	struct layout	 lay;
	PGresult	*cols, *ures, *ares;
	struct suser	*users;
	size_t		 nusers;
	struct idmap	 byid;
	struct buf	 arr, sql;
	struct counts	 cu, ca, cp;
	size_t		 n_scrypt, n_argon, n_badhash, n_nopw, n_other;
	size_t		 n_sessions, n_verifications;
	size_t		 refused;
};

static int	 fail(const char *, PGconn *, PGresult *);

/*
 * Prints s double-quoted with control bytes, '"', '\' and anything in
 * text that is not UTF-8 escaped: source data may hold anything.
 */
static void
put_quoted(FILE *f, const char *s)
{
	const unsigned char	*p;
	int			 utf8;

	utf8 = utf8_valid(s, strlen(s));
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' ||
		    (*p >= 0x80 && !utf8))
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	fputc('"', f);
}

/* A source id as printed: quoted unless it is plainly safe. */
static void
put_id(FILE *f, const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'))
			break;
	if (*p == '\0' && p != s)
		fputs(s, f);
	else
		put_quoted(f, s);
}

/* printf into malloc'd memory (the caller frees it), or NULL. */
__attribute__((format(printf, 1, 0)))
static char *
vformat(const char *fmt, va_list ap)
{
	va_list	 aq;
	char	*p;
	int	 n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL)
		return NULL;
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

/* Marks u refused with the printf-style reason (printed later, in order). */
__attribute__((format(printf, 3, 4)))
static void
refuse_user(struct imp *im, struct suser *u, const char *fmt, ...)
{
	va_list	 ap;

	if (u->state == U_REFUSED)
		return;
	va_start(ap, fmt);
	u->reason = vformat(fmt, ap);
	va_end(ap);
	u->state = U_REFUSED;
	im->cu.refused++;
	im->refused++;
}

/* Prints the line of a refused post at once. */
__attribute__((format(printf, 4, 5)))
static void
refuse_post(struct imp *im, const char *sid, const char *author,
    const char *fmt, ...)
{
	va_list	 ap;

	printf("refused post ");
	put_id(stdout, sid);
	printf(" (author ");
	put_id(stdout, author);
	printf("): ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	im->cp.refused++;
	im->refused++;
}

/*
 * "\rwhat: n" on stderr when it is a terminal, every PROGRESS_EVERY rows
 * and at the last (which ends the line).
 */
static void
progress(struct imp *im, const char *what, size_t n, int last)
{

	if (!im->progress)
		return;
	if (last || n % PROGRESS_EVERY == 0)
		fprintf(stderr, "\r%s: %zu%s", what, n, last ? "\n" : "");
}

/* A random (version 4) UUID in canonical lower-case form. */
static void
uuid_new(char *out)
{
	unsigned char	 b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
	    b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
}

static uint64_t
fnv1a(const char *s)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Room for n keys at most half full. Returns 0, or -1 (no memory). */
static int
idmap_init(struct idmap *m, size_t n)
{
	size_t	 cap;

	for (cap = 16; cap < 2 * n + 1; cap *= 2)
		;
	m->key = calloc(cap, sizeof(*m->key));
	m->idx = calloc(cap, sizeof(*m->idx));
	m->mask = cap - 1;
	return m->key != NULL && m->idx != NULL ? 0 : -1;
}

static void
idmap_free(struct idmap *m)
{

	free(m->key);
	free(m->idx);
	m->key = NULL;
	m->idx = NULL;
}

/* Adds key -> i; a key already there keeps its first index. */
static void
idmap_put(struct idmap *m, const char *key, size_t i)
{
	size_t	 h;

	for (h = (size_t)fnv1a(key) & m->mask; m->key[h] != NULL;
	    h = (h + 1) & m->mask)
		if (strcmp(m->key[h], key) == 0)
			return;
	m->key[h] = key;
	m->idx[h] = i;
}

/* The index of key, or (size_t)-1. */
static size_t
idmap_get(const struct idmap *m, const char *key)
{
	size_t	 h;

	for (h = (size_t)fnv1a(key) & m->mask; m->key[h] != NULL;
	    h = (h + 1) & m->mask)
		if (strcmp(m->key[h], key) == 0)
			return m->idx[h];
	return (size_t)-1;
}

/* Text-format array literal: {"a","b"} with '"' and '\' escaped. */
static void
arr_add(struct buf *b, const char *s)
{

	buf_putc(b, b->len == 0 ? '{' : ',');
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* Closes the literal: it, in b's memory, or NULL when b overflowed. */
static const char *
arr_end(struct buf *b)
{

	if (b->len == 0)
		buf_putc(b, '{');
	buf_putc(b, '}');
	return buf_err(b) == QERR_OK ? b->p : NULL;
}

/*
 * Runs quire's statement s with one array parameter (the literal in
 * arr, or NULL when it did not fit: an error). Returns the result to
 * PQclear, or NULL after printing the error.
 */
static PGresult *
check_any(struct imp *im, enum stmt s, const char *what)
{
	PGresult	*res;
	const char	*param;

	if ((param = arr_end(&im->arr)) == NULL) {
		fprintf(stderr, "quirectl: %s: out of memory\n", what);
		return NULL;
	}
	res = PQexecParams(im->dst, stmt_defs[s].sql, 1, NULL, &param, NULL,
	    NULL, 0);
	buf_reset(&im->arr);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		(void)fail(what, im->dst, res);
		return NULL;
	}
	return res;
}

/* Prints "quirectl: what: <the server's message>" and frees res. */
static int
fail(const char *what, PGconn *c, PGresult *res)
{
	const char	*m;

	m = res != NULL ? PQresultErrorMessage(res) : "";
	if (*m == '\0')
		m = PQerrorMessage(c);
	fprintf(stderr, "quirectl: %s: %s", what, m);
	if (*m == '\0' || m[strlen(m) - 1] != '\n')
		fputc('\n', stderr);
	PQclear(res);
	return -1;
}

/* Runs a statement without parameters; -1 (printed) unless it succeeds. */
static int
exec_ok(PGconn *c, const char *sql, const char *what)
{
	PGresult	*res;
	ExecStatusType	 st;

	res = PQexec(c, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(what, c, res);
	PQclear(res);
	return 0;
}

/* COPY ... FROM STDIN in text format, fed COPY_CHUNK bytes at a time. */
struct copier {
	PGconn		*c;
	struct buf	 b;
	int		 bad;
};

/* Starts COPY statement s on c: 0, or -1 with the reason printed. */
static int
copy_begin(struct copier *cp, PGconn *c, enum stmt s)
{
	PGresult	*res;

	cp->c = c;
	cp->bad = 0;
	buf_init(&cp->b, BUF_MAX);
	res = PQexec(c, stmt_defs[s].sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return fail(stmt_defs[s].name, c, res);
	PQclear(res);
	return 0;
}

/* Hands what is buffered to libpq; a failure is kept for copy_end. */
static void
copy_flush(struct copier *cp)
{

	if (buf_err(&cp->b) != QERR_OK)
		cp->bad = 1;
	if (!cp->bad && cp->b.len > 0 &&
	    PQputCopyData(cp->c, cp->b.p, (int)cp->b.len) != 1)
		cp->bad = 1;
	buf_reset(&cp->b);
}

/* One field, escaped for COPY's text format; NULL is \N. */
static void
copy_field(struct copier *cp, const char *s, size_t n, int first)
{
	size_t	 i;

	if (!first)
		buf_putc(&cp->b, '\t');
	if (s == NULL) {
		buf_append(&cp->b, "\\N", 2);
		return;
	}
	for (i = 0; i < n; i++)
		switch (s[i]) {
		case '\\':
			buf_append(&cp->b, "\\\\", 2);
			break;
		case '\t':
			buf_append(&cp->b, "\\t", 2);
			break;
		case '\n':
			buf_append(&cp->b, "\\n", 2);
			break;
		case '\r':
			buf_append(&cp->b, "\\r", 2);
			break;
		default:
			buf_putc(&cp->b, s[i]);
		}
}

static void
copy_str(struct copier *cp, const char *s, int first)
{

	copy_field(cp, s, s != NULL ? strlen(s) : 0, first);
}

static void
copy_row_end(struct copier *cp)
{

	buf_putc(&cp->b, '\n');
	if (cp->b.len >= COPY_CHUNK)
		copy_flush(cp);
}

/* Ends the COPY: 0, or -1 with the reason printed. */
static int
copy_end(struct copier *cp, const char *what)
{
	PGresult	*res;
	int		 rc;

	copy_flush(cp);
	buf_free(&cp->b);
	rc = 0;
	if (PQputCopyEnd(cp->c, cp->bad ? "import: out of memory" : NULL) != 1)
		rc = -1;
	while ((res = PQgetResult(cp->c)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = fail(what, cp->c, res);
			continue;
		}
		PQclear(res);
	}
	if (rc == -1 && !cp->bad)
		fprintf(stderr, "quirectl: %s: %s", what, PQerrorMessage(cp->c));
	return rc;
}

/*
 * Opens the source read-only: the caller's conninfo with
 * default_transaction_read_only=on added to its options, and UTF-8 as
 * the client encoding, whatever the server's. Returns the connection,
 * or NULL with the reason printed.
 */
static PGconn *
connect_source(const char *from)
{
	PQconninfoOption	*opts, *o;
	PGconn			*c;
	PGresult		*res;
	const char		*kw[5], *val[5];
	char			*err, *merged;
	size_t			 len;
	int			 ro;

	err = NULL;
	merged = NULL;
	/* A bare database name, as psql -d takes it, has no options to keep. */
	if (strchr(from, '=') == NULL && strncmp(from, "postgres", 8) != 0)
		opts = NULL;
	else if ((opts = PQconninfoParse(from, &err)) == NULL) {
		fprintf(stderr, "quirectl: --from: %s", err != NULL ? err :
		    "out of memory\n");
		PQfreemem(err);
		return NULL;
	}
	for (o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "options") == 0 && o->val != NULL) {
			len = strlen(o->val) + 64;
			if ((merged = malloc(len)) == NULL) {
				PQconninfoFree(opts);
				fprintf(stderr, "quirectl: out of memory\n");
				return NULL;
			}
			snprintf(merged, len, "%s -c "
			    "default_transaction_read_only=on", o->val);
		}
	PQconninfoFree(opts);
	kw[0] = "dbname";
	val[0] = from;
	kw[1] = "options";
	val[1] = merged != NULL ? merged : "-c default_transaction_read_only=on";
	kw[2] = "client_encoding";
	val[2] = "UTF8";
	kw[3] = "fallback_application_name";
	val[3] = "quirectl import-better-auth";
	kw[4] = NULL;
	val[4] = NULL;
	c = PQconnectdbParams(kw, val, 1);
	free(merged);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "quirectl: cannot connect to the Better-Auth "
		    "database (--from): %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	/* Never write there: refuse to go on unless the server agrees. */
	res = PQexec(c, stmt_defs[STMT_IMPORT_SRC_READONLY].sql);
	ro = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    strcmp(PQgetvalue(res, 0, 0), "on") == 0;
	PQclear(res);
	if (!ro) {
		fprintf(stderr, "quirectl: the Better-Auth database did not "
		    "take default_transaction_read_only=on; not reading it\n");
		PQfinish(c);
		return NULL;
	}
	if (exec_ok(c, stmt_defs[STMT_IMPORT_SRC_BEGIN].sql, "source") == -1 ||
	    exec_ok(c, stmt_defs[STMT_IMPORT_SRC_SETUP].sql, "source") == -1) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* The column of table t called name in the source (its row in cols), or NULL. */
static const char *
find_col(const PGresult *cols, const char *table, const char *name)
{
	int	 i;

	for (i = 0; i < PQntuples(cols); i++)
		if (strcmp(PQgetvalue(cols, i, 0), table) == 0 &&
		    strcmp(PQgetvalue(cols, i, 1), name) == 0)
			return PQgetvalue(cols, i, 1);
	return NULL;
}

static int
has_table(const PGresult *cols, const char *table)
{
	int	 i;

	for (i = 0; i < PQntuples(cols); i++)
		if (strcmp(PQgetvalue(cols, i, 0), table) == 0)
			return 1;
	return 0;
}

static const char *
tname(const struct layout *l, int t)
{

	return l->plural ? tables[t].plural : tables[t].singular;
}

/*
 * Works out which layout the source has: Drizzle's plural tables (users,
 * accounts, posts, ...) or Better-Auth's default singular ones (user,
 * account, post, ...), each column spelt in camelCase or snake_case.
 * Users, accounts and posts must be there with every column quire reads.
 * Returns 0, or -1 with everything missing named on stderr.
 */
static int
detect(struct imp *im)
{
	struct layout	*l = &im->lay;
	const char	*p, *t, *c1, *c2;
	size_t		 i, k, missing;
	int		 tt, full[2], s;

	for (tt = 0; tt < T__MAX; tt++) {
		arr_add(&im->arr, tables[tt].plural);
		arr_add(&im->arr, tables[tt].singular);
	}
	p = arr_end(&im->arr);
	im->cols = PQexecParams(im->src, stmt_defs[STMT_IMPORT_SRC_COLUMNS].sql,
	    1, NULL, &p, NULL, NULL, 0);
	buf_reset(&im->arr);
	if (PQresultStatus(im->cols) != PGRES_TUPLES_OK) {
		(void)fail("source tables", im->src, im->cols);
		im->cols = NULL;
		return -1;
	}
	for (s = 0; s < 2; s++) {
		full[s] = 1;
		for (tt = T_USERS; tt <= T_POSTS; tt++)
			if (!has_table(im->cols, s ? tables[tt].plural :
			    tables[tt].singular))
				full[s] = 0;
	}
	if (full[0] && full[1]) {
		fprintf(stderr, "quirectl: the source has both Drizzle's "
		    "tables (users, accounts, posts) and Better-Auth's default "
		    "ones (user, account, post) in one schema; the import reads "
		    "one layout: put the other one out of the way, or the one "
		    "to import in a schema of its own and name it in --from "
		    "(options=-csearch_path=...)\n");
		return -1;
	}
	/* The complete one; else the one with a users table, to name what is missing. */
	l->plural = full[1] || (!full[0] && has_table(im->cols, "users"));
	if (!full[0] && !full[1] && !has_table(im->cols, "users") &&
	    !has_table(im->cols, "user")) {
		fprintf(stderr, "quirectl: not a Better-Auth database: no table "
		    "\"users\" (Drizzle's layout) or \"user\" (Better-Auth's "
		    "default) in its first schema on the search path\n");
		return -1;
	}
	missing = 0;
	for (tt = 0; tt < T__MAX; tt++) {
		t = tname(l, tt);
		l->present[tt] = has_table(im->cols, t);
		if (tables[tt].cols == NULL)
			continue;
		if (!l->present[tt]) {
			fprintf(stderr, "quirectl: the source has no table "
			    "\"%s\"\n", t);
			missing++;
			continue;
		}
		for (i = 0; i < tables[tt].ncols; i++) {
			const struct scol *c = &tables[tt].cols[i];

			/* The layout's own spelling first. */
			c1 = l->plural ? c->snake : c->camel;
			c2 = l->plural ? c->camel : c->snake;
			if ((p = find_col(im->cols, t, c1)) == NULL)
				p = find_col(im->cols, t, c2);
			l->col[tt][i] = p;
			if (p != NULL && strcmp(c->camel, c->snake) != 0) {
				if (strcmp(p, c->camel) == 0)
					l->camel++;
				else
					l->snake++;
			}
			if (p != NULL || c->optional)
				continue;
			k = strcmp(c->camel, c->snake) == 0;
			fprintf(stderr, "quirectl: table \"%s\" has no column "
			    "\"%s\"%s%s%s\n", t, c1, k ? "" : " (or \"",
			    k ? "" : c2, k ? "" : "\")");
			missing++;
		}
	}
	if (missing > 0) {
		fprintf(stderr, "quirectl: not a Better-Auth database quire "
		    "can import: %zu table(s) or column(s) missing\n", missing);
		return -1;
	}
	printf("source: %s tables (%s, %s, %s), %s columns\n",
	    l->plural ? "plural" : "singular", tname(l, T_USERS),
	    tname(l, T_ACCOUNTS), tname(l, T_POSTS),
	    l->snake > 0 && l->camel > 0 ? "mixed" :
	    l->camel > 0 ? "camelCase" : "snake_case");
	return 0;
}

/*
 * The SQL of template s for table t: {T} becomes the table, {name} the
 * quoted column found for that logical column, or NULL when an optional
 * one is missing. Returns the text in im->sql (valid until the next
 * call), or NULL with the reason printed.
 */
static const char *
expand(struct imp *im, enum stmt s, int t)
{
	const char	*p, *e, *id;
	char		*q;
	size_t		 i, n;

	buf_reset(&im->sql);
	for (p = stmt_defs[s].sql; *p != '\0'; p = e + 1) {
		if ((e = strchr(p, '{')) == NULL) {
			buf_puts(&im->sql, p);
			break;
		}
		buf_append(&im->sql, p, (size_t)(e - p));
		p = e + 1;
		if ((e = strchr(p, '}')) == NULL)
			goto bad;
		n = (size_t)(e - p);
		id = NULL;
		if (n == 1 && *p == 'T')
			id = tname(&im->lay, t);
		else {
			for (i = 0; i < tables[t].ncols; i++)
				if (strlen(tables[t].cols[i].camel) == n &&
				    strncmp(tables[t].cols[i].camel, p, n) == 0)
					break;
			if (i == tables[t].ncols)
				goto bad;
			if ((id = im->lay.col[t][i]) == NULL) {
				buf_puts(&im->sql, "NULL");
				continue;
			}
		}
		if ((q = PQescapeIdentifier(im->src, id, strlen(id))) == NULL) {
			fprintf(stderr, "quirectl: %s", PQerrorMessage(im->src));
			return NULL;
		}
		buf_puts(&im->sql, q);
		PQfreemem(q);
	}
	if (buf_err(&im->sql) != QERR_OK || im->sql.len > SQL_MAX) {
		fprintf(stderr, "quirectl: %s: out of memory\n",
		    stmt_defs[s].name);
		return NULL;
	}
	return im->sql.p;
bad:
	fprintf(stderr, "quirectl: %s: bad template\n", stmt_defs[s].name);
	return NULL;
}

/* Runs template s on the source for table t; the result or NULL (printed). */
static PGresult *
src_query(struct imp *im, enum stmt s, int t, ExecStatusType want)
{
	PGresult	*res;
	const char	*sql;

	if ((sql = expand(im, s, t)) == NULL)
		return NULL;
	res = PQexec(im->src, sql);
	if (PQresultStatus(res) != want) {
		(void)fail(tname(&im->lay, t), im->src, res);
		return NULL;
	}
	return res;
}

/* Reads the source's users and quire's record of earlier imports. */
static int
load_users(struct imp *im)
{
	PGresult	*res;
	struct suser	*u;
	size_t		 i, k;
	int		 r;

	if ((im->ures = src_query(im, STMT_IMPORT_SRC_USERS, T_USERS,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	im->nusers = (size_t)PQntuples(im->ures);
	im->cu.read = im->nusers;
	if ((im->users = calloc(im->nusers + 1, sizeof(*im->users))) == NULL ||
	    idmap_init(&im->byid, im->nusers) == -1) {
		fprintf(stderr, "quirectl: out of memory\n");
		return -1;
	}
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		r = (int)i;
		u->sid = PQgetvalue(im->ures, r, 0);
		u->name = PQgetvalue(im->ures, r, 1);
		u->namelen = (size_t)PQgetlength(im->ures, r, 1);
		u->email = PQgetvalue(im->ures, r, 2);
		u->verified = PQgetvalue(im->ures, r, 3);
		u->image = PQgetisnull(im->ures, r, 4) ? NULL :
		    PQgetvalue(im->ures, r, 4);
		u->role = PQgetisnull(im->ures, r, 5) ? NULL :
		    PQgetvalue(im->ures, r, 5);
		u->created = PQgetvalue(im->ures, r, 6);
		u->updated = PQgetvalue(im->ures, r, 7);
		idmap_put(&im->byid, u->sid, i);
	}
	res = PQexec(im->dst, stmt_defs[STMT_IMPORT_MAP_USERS].sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if (st != NULL && strcmp(st, "42P01") == 0) {
			PQclear(res);
			fprintf(stderr, "quirectl: quire's database has no "
			    "import_source_ids table: run quirectl migrate "
			    "first\n");
			return -1;
		}
		return fail("import_source_ids", im->dst, res);
	}
	for (r = 0; r < PQntuples(res); r++) {
		if ((k = idmap_get(&im->byid, PQgetvalue(res, r, 0))) ==
		    (size_t)-1)
			continue;
		u = &im->users[k];
		u->state = U_KNOWN;
		u->in_quire = PQgetvalue(res, r, 2)[0] == 't';
		snprintf(u->qid, sizeof(u->qid), "%s", PQgetvalue(res, r, 1));
		im->cu.known++;
	}
	PQclear(res);
	return 0;
}

/* Reads the accounts: each user's credential hash and how many others. */
static int
load_accounts(struct imp *im)
{
	struct suser	*u;
	size_t		 k, n;
	int		 r;

	if ((im->ares = src_query(im, STMT_IMPORT_SRC_ACCOUNTS, T_ACCOUNTS,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	n = (size_t)PQntuples(im->ares);
	im->ca.read = n;
	for (r = 0; r < (int)n; r++) {
		if ((k = idmap_get(&im->byid, PQgetvalue(im->ares, r, 0))) ==
		    (size_t)-1)
			continue;	/* no such user: nothing to attach it to */
		u = &im->users[k];
		if (strcmp(PQgetvalue(im->ares, r, 1), "credential") != 0) {
			u->nother++;
			continue;
		}
		if (u->ncred++ > 0)
			continue;
		u->hash = PQgetisnull(im->ares, r, 2) ? NULL :
		    PQgetvalue(im->ares, r, 2);
		u->acreated = PQgetvalue(im->ares, r, 3);
		u->aupdated = PQgetvalue(im->ares, r, 4);
	}
	return 0;
}

/* quire's field rules and the password's format, for one new user. */
static int
check_user(struct imp *im, struct suser *u)
{
	const char	*s, *why;
	char		 canon[EMAIL_MAX + 1], msg[96];
	size_t		 n;

	if (!utf8_valid(u->sid, strlen(u->sid))) {
		refuse_user(im, u, "id is not valid UTF-8");
		return 0;
	}
	s = u->name;
	n = u->namelen;
	fmt_trim(&s, &n);
	u->name = s;
	u->namelen = n;
	if (!utf8_valid(s, n)) {
		refuse_user(im, u, "name is not valid UTF-8");
		return 0;
	}
	if ((why = valid_text(s, n, 1, 100, 0, msg, sizeof(msg))) != NULL) {
		refuse_user(im, u, "name %s (it has %zu)", why,
		    valid_utf8_len(s, n));
		return 0;
	}
	switch (email_canon(u->email, strlen(u->email), canon, &n, &why)) {
	case QERR_OK:
		break;
	case QERR_INVAL:
		refuse_user(im, u, "email %s", why);
		return 0;
	default:
		fprintf(stderr, "quirectl: out of memory\n");
		return -1;
	}
	if ((u->canon = strdup(canon)) == NULL) {
		fprintf(stderr, "quirectl: out of memory\n");
		return -1;
	}
	if (u->image != NULL && (!utf8_valid(u->image, strlen(u->image)) ||
	    (why = valid_url(u->image, strlen(u->image), 2048, msg,
	    sizeof(msg))) != NULL)) {
		refuse_user(im, u, "image %s", why != NULL ? why :
		    "is not valid UTF-8");
		return 0;
	}
	if (u->role != NULL && strcmp(u->role, "user") != 0 &&
	    strcmp(u->role, "admin") != 0) {
		refuse_user(im, u, "role is neither \"user\" nor \"admin\"");
		return 0;
	}
	if (u->ncred > 1) {
		refuse_user(im, u, "%d credential accounts (one is kept)",
		    u->ncred);
		return 0;
	}
	if (u->hash != NULL &&
	    (u->fmt = bascrypt_format(u->hash)) == BASCRYPT_FMT_UNKNOWN) {
		im->n_badhash++;
		refuse_user(im, u, "password hash in an unknown format "
		    "(neither Better-Auth's scrypt \"<32 hex>:<128 hex>\" nor "
		    "Argon2id)");
		return 0;
	}
	return 0;
}

static int
cmp_canon(const void *a, const void *b)
{
	const struct suser	*x = *(const struct suser *const *)a;
	const struct suser	*y = *(const struct suser *const *)b;
	int			 d;

	if ((d = strcmp(x->canon, y->canon)) != 0)
		return d;
	return x < y ? -1 : x > y;
}


/*
 * Emails: new users that share one canonical form are all refused (which
 * of them owns the address is not for the import to guess), and so is a
 * new user whose form a quire user already has. Returns 0 or -1.
 */
static int
check_emails(struct imp *im)
{
	struct suser	**by;
	struct idmap	 bycanon;
	PGresult	*res;
	size_t		 i, j, n, first, k;
	int		 r, rc;

	memset(&bycanon, 0, sizeof(bycanon));
	if ((by = calloc(im->nusers + 1, sizeof(*by))) == NULL ||
	    idmap_init(&bycanon, im->nusers) == -1) {
		free(by);
		idmap_free(&bycanon);
		fprintf(stderr, "quirectl: out of memory\n");
		return -1;
	}
	for (i = n = 0; i < im->nusers; i++)
		if (im->users[i].state == U_NEW)
			by[n++] = &im->users[i];
	qsort(by, n, sizeof(*by), cmp_canon);
	for (i = first = 0; i <= n; i++) {
		if (i < n && strcmp(by[i]->canon, by[first]->canon) == 0)
			continue;
		for (j = first; i - first > 1 && j < i; j++) {
			k = j == first ? first + 1 : first;
			refuse_user(im, by[j], "same canonical email \"%s\" as "
			    "user %s", by[j]->canon, by[k]->sid);
		}
		first = i;
	}
	rc = 0;
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i; j < n && j - i < CHECK_BATCH; j++)
			if (by[j]->state == U_NEW) {
				idmap_put(&bycanon, by[j]->canon,
				    (size_t)(by[j] - im->users));
				arr_add(&im->arr, by[j]->canon);
			}
		if ((res = check_any(im, STMT_IMPORT_EMAILS_TAKEN, "users")) ==
		    NULL) {
			rc = -1;
			break;
		}
		for (r = 0; r < PQntuples(res); r++)
			if ((k = idmap_get(&bycanon, PQgetvalue(res, r, 0))) !=
			    (size_t)-1)
				refuse_user(im, &im->users[k], "canonical email "
				    "\"%s\" already belongs to quire user %s",
				    im->users[k].canon, PQgetvalue(res, r, 1));
		PQclear(res);
	}
	idmap_free(&bycanon);
	free(by);
	return rc;
}

/*
 * quire's ids for the new users: the source's when it is a UUID quire
 * does not have yet, else a new one. Returns 0 or -1.
 */
static int
assign_user_ids(struct imp *im)
{
	PGresult	*res;
	struct suser	*u;
	unsigned char	*taken;
	size_t		 i, j, k, sent;
	int		 r;

	if ((taken = calloc(im->nusers + 1, 1)) == NULL) {
		fprintf(stderr, "quirectl: out of memory\n");
		return -1;
	}
	for (i = 0; i < im->nusers; i = j) {
		for (j = i, sent = 0; j < im->nusers && sent < CHECK_BATCH; j++) {
			u = &im->users[j];
			if (u->state == U_NEW && fmt_is_uuid(u->sid,
			    strlen(u->sid))) {
				arr_add(&im->arr, u->sid);
				sent++;
			}
		}
		if (sent == 0)
			continue;
		if ((res = check_any(im, STMT_IMPORT_USER_IDS_TAKEN,
		    "users")) == NULL) {
			free(taken);
			return -1;
		}
		for (r = 0; r < PQntuples(res); r++)
			if ((k = idmap_get(&im->byid, PQgetvalue(res, r, 0))) !=
			    (size_t)-1)
				taken[k] = 1;
		PQclear(res);
	}
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		if (u->state != U_NEW)
			continue;
		if (!taken[i] && fmt_is_uuid(u->sid, strlen(u->sid)))
			snprintf(u->qid, sizeof(u->qid), "%s", u->sid);
		else
			uuid_new(u->qid);
	}
	free(taken);
	return 0;
}

/* Writes the new users, their passwords and their source ids. */
static int
write_users(struct imp *im)
{
	struct copier	 cp;
	struct suser	*u;
	size_t		 i;

	if (copy_begin(&cp, im->dst, STMT_IMPORT_COPY_USERS) == -1)
		return -1;
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		if (u->state != U_NEW)
			continue;
		copy_str(&cp, u->qid, 1);
		copy_field(&cp, u->name, u->namelen, 0);
		copy_str(&cp, u->canon, 0);
		copy_str(&cp, u->verified, 0);
		copy_str(&cp, u->image, 0);
		copy_str(&cp, u->role != NULL ? u->role : "user", 0);
		copy_str(&cp, u->created, 0);
		copy_str(&cp, u->updated, 0);
		copy_row_end(&cp);
		im->cu.imported++;
	}
	if (copy_end(&cp, "users") == -1)
		return -1;
	if (copy_begin(&cp, im->dst, STMT_IMPORT_COPY_ACCOUNTS) == -1)
		return -1;
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		if (u->state != U_NEW || u->hash == NULL)
			continue;
		copy_str(&cp, u->qid, 1);
		copy_str(&cp, u->qid, 0);
		copy_str(&cp, "credential", 0);
		copy_str(&cp, u->hash, 0);
		copy_str(&cp, u->acreated, 0);
		copy_str(&cp, u->aupdated, 0);
		copy_row_end(&cp);
	}
	if (copy_end(&cp, "accounts") == -1)
		return -1;
	if (copy_begin(&cp, im->dst, STMT_IMPORT_COPY_MAP) == -1)
		return -1;
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		if (u->state != U_NEW)
			continue;
		copy_str(&cp, "user", 1);
		copy_str(&cp, u->sid, 0);
		copy_str(&cp, u->qid, 0);
		copy_row_end(&cp);
	}
	return copy_end(&cp, "import_source_ids");
}

/* The users: read, checked, refused lines printed in source order, written. */
static int
do_users(struct imp *im)
{
	struct suser	*u;
	size_t		 i;

	if (load_users(im) == -1 || load_accounts(im) == -1)
		return -1;
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		progress(im, "users checked", i + 1, i + 1 == im->nusers);
		if (u->state == U_NEW && check_user(im, u) == -1)
			return -1;
	}
	if (check_emails(im) == -1 || assign_user_ids(im) == -1)
		return -1;
	for (i = 0; i < im->nusers; i++) {
		u = &im->users[i];
		switch (u->state) {
		case U_REFUSED:
			printf("refused user ");
			put_id(stdout, u->sid);
			putchar(' ');
			put_quoted(stdout, u->email);
			printf(": %s\n", u->reason != NULL ? u->reason :
			    "(out of memory)");
			if (u->ncred > 0)
				im->ca.refused++;
			break;
		case U_KNOWN:
			im->ca.known += (size_t)u->ncred;
			break;
		case U_NEW:
			if (u->hash == NULL) {
				im->n_nopw++;
				break;
			}
			im->ca.imported++;
			if (u->fmt == BASCRYPT_FMT_SCRYPT)
				im->n_scrypt++;
			else
				im->n_argon++;
			break;
		}
		im->n_other += (size_t)u->nother;
	}
	return write_users(im);
}

struct spost {
	const char	*sid, *title, *content, *published, *author;
	const char	*created, *updated, *aqid;
	size_t		 titlelen, contentlen;
	int		 skip, taken;
	char		 qid[UUID_LEN + 1];
};

/* One post's author and quire's field rules: 0 to import it, else refused. */
static int
check_post(struct imp *im, struct spost *p)
{
	const struct suser	*u;
	const char		*why;
	char			 msg[96];
	size_t			 k;

	if ((k = idmap_get(&im->byid, p->author)) == (size_t)-1) {
		refuse_post(im, p->sid, p->author, "no such user in the source");
		return -1;
	}
	u = &im->users[k];
	if (u->state == U_REFUSED) {
		refuse_post(im, p->sid, p->author, "its author was refused");
		return -1;
	}
	if (u->state == U_KNOWN && !u->in_quire) {
		refuse_post(im, p->sid, p->author, "its author was imported "
		    "before and quire no longer has them");
		return -1;
	}
	p->aqid = u->qid;
	if (!utf8_valid(p->sid, strlen(p->sid)) ||
	    !utf8_valid(p->title, p->titlelen) ||
	    !utf8_valid(p->content, p->contentlen)) {
		refuse_post(im, p->sid, p->author, "not valid UTF-8");
		return -1;
	}
	fmt_trim(&p->title, &p->titlelen);
	if ((why = valid_text(p->title, p->titlelen, 1, 200, 0, msg,
	    sizeof(msg))) != NULL) {
		refuse_post(im, p->sid, p->author, "title %s (it has %zu)", why,
		    valid_utf8_len(p->title, p->titlelen));
		return -1;
	}
	if ((why = valid_text(p->content, p->contentlen, 1, 100000, 1, msg,
	    sizeof(msg))) != NULL) {
		refuse_post(im, p->sid, p->author, "content %s", why);
		return -1;
	}
	return 0;
}

/*
 * One batch of posts (res, from the source's cursor): what quire has
 * already, authors and rules, ids, then COPY. p and bm have room for
 * CTL_IMPORT_BATCH. Returns 0 or -1.
 */
static int
posts_batch(struct imp *im, PGresult *res, struct spost *p, struct idmap *bm)
{
	PGresult	*q;
	struct copier	 cp;
	size_t		 i, k, n, sent;
	int		 r;

	n = (size_t)PQntuples(res);
	memset(bm->key, 0, (bm->mask + 1) * sizeof(*bm->key));
	for (i = 0; i < n; i++) {
		r = (int)i;
		memset(&p[i], 0, sizeof(p[i]));
		p[i].sid = PQgetvalue(res, r, 0);
		p[i].title = PQgetvalue(res, r, 1);
		p[i].titlelen = (size_t)PQgetlength(res, r, 1);
		p[i].content = PQgetvalue(res, r, 2);
		p[i].contentlen = (size_t)PQgetlength(res, r, 2);
		p[i].published = PQgetvalue(res, r, 3);
		p[i].author = PQgetvalue(res, r, 4);
		p[i].created = PQgetvalue(res, r, 5);
		p[i].updated = PQgetvalue(res, r, 6);
		idmap_put(bm, p[i].sid, i);
		arr_add(&im->arr, p[i].sid);
	}
	if ((q = check_any(im, STMT_IMPORT_POSTS_KNOWN, "posts")) == NULL)
		return -1;
	for (r = 0; r < PQntuples(q); r++)
		if ((k = idmap_get(bm, PQgetvalue(q, r, 0))) != (size_t)-1 &&
		    !p[k].skip) {
			p[k].skip = 1;
			im->cp.known++;
		}
	PQclear(q);
	for (i = sent = 0; i < n; i++) {
		if (p[i].skip)
			continue;
		if (check_post(im, &p[i]) == -1) {
			p[i].skip = 1;
			continue;
		}
		if (fmt_is_uuid(p[i].sid, strlen(p[i].sid))) {
			arr_add(&im->arr, p[i].sid);
			sent++;
		}
	}
	if (sent > 0) {
		if ((q = check_any(im, STMT_IMPORT_POST_IDS_TAKEN, "posts")) ==
		    NULL)
			return -1;
		for (r = 0; r < PQntuples(q); r++)
			if ((k = idmap_get(bm, PQgetvalue(q, r, 0))) !=
			    (size_t)-1)
				p[k].taken = 1;
		PQclear(q);
	}
	if (copy_begin(&cp, im->dst, STMT_IMPORT_COPY_POSTS) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i].skip)
			continue;
		if (!p[i].taken && fmt_is_uuid(p[i].sid, strlen(p[i].sid)))
			snprintf(p[i].qid, sizeof(p[i].qid), "%s", p[i].sid);
		else
			uuid_new(p[i].qid);
		copy_str(&cp, p[i].qid, 1);
		copy_field(&cp, p[i].title, p[i].titlelen, 0);
		copy_field(&cp, p[i].content, p[i].contentlen, 0);
		copy_str(&cp, p[i].published, 0);
		copy_str(&cp, p[i].aqid, 0);
		copy_str(&cp, p[i].created, 0);
		copy_str(&cp, p[i].updated, 0);
		copy_row_end(&cp);
		im->cp.imported++;
	}
	if (copy_end(&cp, "posts") == -1 ||
	    copy_begin(&cp, im->dst, STMT_IMPORT_COPY_MAP) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i].skip)
			continue;
		copy_str(&cp, "post", 1);
		copy_str(&cp, p[i].sid, 0);
		copy_str(&cp, p[i].qid, 0);
		copy_row_end(&cp);
	}
	return copy_end(&cp, "import_source_ids");
}

/* The posts, through a cursor on the source, a batch at a time. */
static int
do_posts(struct imp *im)
{
	PGresult	*res;
	struct spost	*p;
	struct idmap	 bm;
	size_t		 n, before;
	int		 rc;

	memset(&bm, 0, sizeof(bm));
	if ((p = calloc(CTL_IMPORT_BATCH, sizeof(*p))) == NULL ||
	    idmap_init(&bm, CTL_IMPORT_BATCH) == -1) {
		free(p);
		idmap_free(&bm);
		fprintf(stderr, "quirectl: out of memory\n");
		return -1;
	}
	rc = -1;
	if ((res = src_query(im, STMT_IMPORT_SRC_POSTS_OPEN, T_POSTS,
	    PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(res);
	for (;;) {
		res = PQexec(im->src, stmt_defs[STMT_IMPORT_SRC_POSTS_FETCH].sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			(void)fail(tname(&im->lay, T_POSTS), im->src, res);
			goto out;
		}
		if ((n = (size_t)PQntuples(res)) == 0) {
			PQclear(res);
			break;
		}
		before = im->cp.read;
		im->cp.read += n;
		if (posts_batch(im, res, p, &bm) == -1) {
			PQclear(res);
			goto out;
		}
		PQclear(res);
		if (im->cp.read / PROGRESS_EVERY != before / PROGRESS_EVERY)
			progress(im, "posts", im->cp.read -
			    im->cp.read % PROGRESS_EVERY, 0);
	}
	progress(im, "posts", im->cp.read, 1);
	rc = 0;
out:
	idmap_free(&bm);
	free(p);
	return rc;
}

/* Sessions and verifications: counted, for the summary, when there. */
static int
count_table(struct imp *im, int t, size_t *n)
{
	PGresult	*res;

	*n = 0;
	if (!im->lay.present[t])
		return 0;
	if ((res = src_query(im, STMT_IMPORT_SRC_COUNT, t,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	*n = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static void
summary(const struct imp *im)
{

	printf("users: read %zu, imported %zu, already there %zu, refused %zu\n",
	    im->cu.read, im->cu.imported, im->cu.known, im->cu.refused);
	printf("accounts: read %zu, imported %zu, already there %zu, refused "
	    "%zu, not imported %zu (providers other than \"credential\")\n",
	    im->ca.read, im->ca.imported, im->ca.known, im->ca.refused,
	    im->n_other);
	printf("passwords: %zu Better-Auth scrypt and %zu Argon2id kept, "
	    "%zu refused (unknown format); %zu new user(s) without a "
	    "password (password reset sets one)\n", im->n_scrypt, im->n_argon,
	    im->n_badhash, im->n_nopw);
	printf("posts: read %zu, imported %zu, already there %zu, refused %zu\n",
	    im->cp.read, im->cp.imported, im->cp.known, im->cp.refused);
	if (im->lay.present[T_SESSIONS])
		printf("sessions: read %zu, not imported (users log in "
		    "again)\n", im->n_sessions);
	if (im->lay.present[T_VERIFICATIONS])
		printf("verifications: read %zu, not imported\n",
		    im->n_verifications);
}

/* Ends quire's transaction as the flags and the refusals say; 0 or -1. */
static int
finish(struct imp *im)
{

	if (im->flags & CTL_IMPORT_DRY_RUN) {
		if (exec_ok(im->dst, stmt_defs[STMT_ROLLBACK].sql,
		    "rollback") == -1)
			return -1;
		printf("dry run: rolled back, nothing written\n");
		return 0;
	}
	if ((im->flags & CTL_IMPORT_STRICT) && im->refused > 0) {
		if (exec_ok(im->dst, stmt_defs[STMT_ROLLBACK].sql,
		    "rollback") == -1)
			return -1;
		printf("--strict: %zu row(s) refused, rolled back, nothing "
		    "written\n", im->refused);
		return 0;
	}
	/* A failed COMMIT has ended the transaction: nothing was written. */
	if (exec_ok(im->dst, stmt_defs[STMT_COMMIT].sql, "commit") == -1)
		return -1;
	printf("committed\n");
	return 0;
}

/* Takes quire's import lock (one import at a time) and the users lock. */
static int
lock_quire(struct imp *im)
{
	PGresult	*res;
	int		 got;

	res = PQexec(im->dst, stmt_defs[STMT_IMPORT_TRY_LOCK].sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return fail("lock", im->dst, res);
	got = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!got) {
		fprintf(stderr, "quirectl: another import-better-auth is "
		    "running against this database\n");
		return -1;
	}
	return exec_ok(im->dst, stmt_defs[STMT_IMPORT_USERS_LOCK].sql,
	    "lock users");
}

int
ctl_import(PGconn *quire, const char *from, unsigned int flags)
{
	struct imp	 im;
	size_t		 i;
	int		 rc, begun;

	memset(&im, 0, sizeof(im));
	im.dst = quire;
	im.flags = flags;
	im.progress = isatty(STDERR_FILENO);
	buf_init(&im.arr, BUF_MAX);
	buf_init(&im.sql, SQL_MAX * 2);
	rc = 1;
	begun = 0;
	if (sodium_init() < 0) {
		fprintf(stderr, "quirectl: libsodium failed to start\n");
		goto out;
	}
	if (PQsetClientEncoding(quire, "UTF8") != 0) {
		fprintf(stderr, "quirectl: %s", PQerrorMessage(quire));
		goto out;
	}
	if ((im.src = connect_source(from)) == NULL || detect(&im) == -1)
		goto out;
	if (exec_ok(quire, stmt_defs[STMT_BEGIN].sql, "begin") == -1)
		goto out;
	begun = 1;
	if (lock_quire(&im) == -1 || do_users(&im) == -1 ||
	    do_posts(&im) == -1 ||
	    count_table(&im, T_SESSIONS, &im.n_sessions) == -1 ||
	    count_table(&im, T_VERIFICATIONS, &im.n_verifications) == -1)
		goto out;
	summary(&im);
	begun = 0;
	if (finish(&im) == -1)
		goto out;
	rc = im.refused > 0 ? 3 : 0;
out:
	if (begun) {
		(void)exec_ok(quire, stmt_defs[STMT_ROLLBACK].sql, "rollback");
		fprintf(stderr, "quirectl: import-better-auth failed: rolled "
		    "back, nothing written\n");
	} else if (rc == 1 && im.src != NULL)
		fprintf(stderr, "quirectl: import-better-auth failed: nothing "
		    "written\n");
	fflush(stdout);
	for (i = 0; im.users != NULL && i < im.nusers; i++) {
		free(im.users[i].canon);
		free(im.users[i].reason);
	}
	free(im.users);
	idmap_free(&im.byid);
	PQclear(im.ures);
	PQclear(im.ares);
	PQclear(im.cols);
	buf_free(&im.arr);
	buf_free(&im.sql);
	if (im.src != NULL)
		PQfinish(im.src);
	return rc;
}
