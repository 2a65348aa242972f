/*
 * quirectl: the admin command. migrate applies pending schema migrations
 * (with the steps some need done in C first); create-admin creates (or
 * promotes) an admin user, reading the password from stdin; mail-worker
 * delivers the mail outbox (mailworker.c); import-better-auth copies a
 * Better-Auth database in (ctl_import.c); prune deletes what has expired
 * (ctl_prune.h); rotate-secret-key re-encrypts the TOTP secrets under a
 * new QUIRE_SECRET_KEY (ctl_rotate.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "auth.h"
#include "ctl_import.h"
#include "ctl_prune.h"
#include "ctl_rotate.h"
#include "email.h"
#include "fmt.h"
#include "mailworker.h"
#include "stmts.h"
#include "unicode.h"
#include "utf8.h"
#include "valid.h"

#ifndef QUIRE_SCHEMA_DIR
#define QUIRE_SCHEMA_DIR "schema"
#endif

#define MAX_MIGRATIONS	512
#define MAX_SQL_FILE	(4 * 1024 * 1024)
#define MAX_NAMED	10	/* unknown versions named in the warning */

static PGresult *
run(PGconn *c, enum stmt s, const char *const *params)
{
	const struct stmt_def	*d = &stmt_defs[s];

	return PQexecParams(c, d->sql, d->nparams, NULL, params, NULL, NULL, 0);
}

static int
ok(PGresult *res, const char *what)
{
	ExecStatusType	 st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 1;
	fprintf(stderr, "quirectl: %s: %s", what, PQresultErrorMessage(res));
	return 0;
}

static int
simple(PGconn *c, const char *sql, const char *what)
{
	PGresult	*res;
	int		 r;

	res = PQexec(c, sql);
	r = ok(res, what);
	PQclear(res);
	return r;
}

static PGconn *
connect_primary(const char *url)
{
	PGconn	*c;

	if (url == NULL)
		url = getenv("QUIRE_PRIMARY_URL");
	if (url == NULL || *url == '\0') {
		fprintf(stderr, "quirectl: set QUIRE_PRIMARY_URL or pass --url\n");
		return NULL;
	}
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "quirectl: cannot connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	/* "already exists, skipping" notices are expected on every run. */
	if (!simple(c, stmt_defs[STMT_ADMIN_QUIET].sql, "settings")) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int
migration_name(const char *n)
{
	size_t	 len = strlen(n);
	size_t	 i;

	if (len < 9 || strcmp(n + len - 4, ".sql") != 0)
		return 0;
	for (i = 0; i < 3; i++)
		if (n[i] < '0' || n[i] > '9')
			return 0;
	return n[3] == '-';
}

static int
cmp(const void *a, const void *b)
{

	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*p;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if ((p = malloc(MAX_SQL_FILE + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(p, 1, MAX_SQL_FILE, f);
	if (ferror(f) || !feof(f)) {
		fclose(f);
		free(p);
		return NULL;
	}
	fclose(f);
	p[n] = '\0';
	return p;
}

/* Prints s double-quoted, with control bytes, '"' and '\' escaped. */
static void
put_quoted(FILE *f, const char *s)
{
	const unsigned char	*p;
	int			 utf8;

	/* Stored by hand, an email may be anything: keep the terminal sane. */
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

/* A user row in canon_emails. */
struct urow {
	const char	*id;		/* borrowed from the PGresult */
	const char	*email;		/* borrowed, as stored */
	char		*canon;		/* malloc'd canonical form */
};

/* Canonical form, then the order rows were read in (the array's). */
static int
cmp_canon(const void *a, const void *b)
{
	const struct urow	*x = *(const struct urow *const *)a;
	const struct urow	*y = *(const struct urow *const *)b;
	int			 d;

	if ((d = strcmp(x->canon, y->canon)) != 0)
		return d;
	return x < y ? -1 : x > y;
}

/*
 * Migration 002-canonical-email, before its SQL: rewrites every stored
 * email to its canonical form, computed here in C as the app does, so
 * that the byte-wise unique index can replace the one on lower(). Rows
 * that would share a canonical form, or whose form is not a valid email,
 * are printed to stderr and nothing is changed: an operator resolves
 * them first (docs/operations.md). Returns 0 to go on, -1 to roll back.
 */
static int
canon_emails(PGconn *c)
{
	PGresult	*res, *ures;
	struct urow	*rows, **by;
	const char	*params[2], *why;
	char		 canon[EMAIL_MAX + 1];
	size_t		 n, nby, i, first, len, bad, changed;
	int		 rc, good;

	rows = NULL;
	by = NULL;
	n = 0;
	rc = -1;
	ures = run(c, STMT_ADMIN_USERS_LOCK, NULL);
	res = ok(ures, "lock users") ? run(c, STMT_ADMIN_USER_EMAILS, NULL) : NULL;
	PQclear(ures);
	if (res == NULL || !ok(res, "users"))
		goto out;
	n = (size_t)PQntuples(res);
	if ((rows = calloc(n + 1, sizeof(*rows))) == NULL ||
	    (by = calloc(n + 1, sizeof(*by))) == NULL)
		goto nomem;
	bad = nby = 0;
	for (i = 0; i < n; i++) {
		rows[i].id = PQgetvalue(res, (int)i, 0);
		rows[i].email = PQgetvalue(res, (int)i, 1);
		switch (email_canon(rows[i].email,
		    (size_t)PQgetlength(res, (int)i, 1), canon, &len, &why)) {
		case QERR_OK:
			if ((rows[i].canon = strdup(canon)) == NULL)
				goto nomem;
			by[nby++] = &rows[i];
			break;
		case QERR_INVAL:
			fprintf(stderr, "quirectl: user %s: email ", rows[i].id);
			put_quoted(stderr, rows[i].email);
			fprintf(stderr, ": canonical form %s\n", why);
			bad++;
			break;
		default:
			goto nomem;
		}
	}
	qsort(by, nby, sizeof(*by), cmp_canon);
	for (i = first = 0; i < nby; i++) {
		if (i == 0 || strcmp(by[i]->canon, by[first]->canon) != 0) {
			first = i;
			continue;
		}
		fprintf(stderr, "quirectl: users %s (", by[first]->id);
		put_quoted(stderr, by[first]->email);
		fprintf(stderr, ") and %s (", by[i]->id);
		put_quoted(stderr, by[i]->email);
		fprintf(stderr, ") have one canonical email, ");
		put_quoted(stderr, by[i]->canon);
		fputc('\n', stderr);
		bad++;
	}
	if (bad > 0) {
		fprintf(stderr, "quirectl: %zu email(s) to resolve by hand first: "
		    "see \"Migration 002-canonical-email\" in docs/operations.md\n",
		    bad);
		goto out;
	}
	ures = run(c, STMT_ADMIN_EMAIL_LOWER_DROP, NULL);
	good = ok(ures, "drop users_email_lower_key");
	PQclear(ures);
	if (!good)
		goto out;
	changed = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].canon, rows[i].email) == 0)
			continue;
		params[0] = rows[i].id;
		params[1] = rows[i].canon;
		ures = run(c, STMT_ADMIN_USER_SET_EMAIL, params);
		if (!ok(ures, "rewrite email")) {
			PQclear(ures);
			goto out;
		}
		PQclear(ures);
		changed++;
	}
	printf("canonical emails: %zu of %zu rewritten\n", changed, n);
	rc = 0;
	goto out;
nomem:
	fprintf(stderr, "quirectl: out of memory\n");
out:
	for (i = 0; rows != NULL && i < n; i++)
		free(rows[i].canon);
	free(rows);
	free(by);
	PQclear(res);
	return rc;
}

/*
 * Steps a migration needs done in C, inside its transaction, before its
 * SQL runs. fn returns 0 to go on, -1 to roll the migration back.
 */
static const struct pre_hook {
	const char	*version;
	int		(*fn)(PGconn *);
} pre_hooks[] = {
	{ "002-canonical-email", canon_emails },
};

/*
 * Applies the migration file name of dir in one transaction under the
 * advisory lock, unless schema_migrations has it: its pre-hook, its SQL,
 * its record. Returns 1 when applied, 0 when it already was, -1 on an
 * error (rolled back; the reason is on stderr).
 */
static int
apply(PGconn *c, const char *dir, const char *name)
{
	PGresult	*res;
	const char	*params[1];
	char		 path[4096], version[256], *sql;
	size_t		 i;
	int		 rc, good;

	snprintf(version, sizeof(version), "%.*s", (int)(strlen(name) - 4),
	    name);
	params[0] = version;
	sql = NULL;
	if (!simple(c, stmt_defs[STMT_BEGIN].sql, "begin"))
		return -1;
	rc = -1;
	res = run(c, STMT_MIG_LOCK, NULL);
	good = ok(res, "lock");
	PQclear(res);
	if (!good)
		goto out;
	res = run(c, STMT_MIG_TABLE, NULL);
	good = ok(res, "schema_migrations");
	PQclear(res);
	if (!good)
		goto out;
	res = run(c, STMT_MIG_APPLIED, params);
	good = ok(res, "schema_migrations");
	if (good && PQntuples(res) > 0)
		rc = 0;
	PQclear(res);
	if (!good || rc == 0)
		goto out;
	for (i = 0; i < sizeof(pre_hooks) / sizeof(pre_hooks[0]); i++)
		if (strcmp(pre_hooks[i].version, version) == 0 &&
		    pre_hooks[i].fn(c) == -1) {
			fprintf(stderr, "quirectl: %s not applied; nothing "
			    "changed\n", version);
			goto out;
		}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sql = slurp(path)) == NULL) {
		fprintf(stderr, "quirectl: cannot read %s\n", path);
		goto out;
	}
	if (!simple(c, sql, name))
		goto out;
	res = run(c, STMT_MIG_RECORD, params);
	good = ok(res, "record");
	PQclear(res);
	if (!good)
		goto out;
	/* A failed COMMIT has ended the transaction: nothing to roll back. */
	return simple(c, stmt_defs[STMT_COMMIT].sql, "commit") ? 1 : -1;
out:
	free(sql);
	(void)simple(c, stmt_defs[STMT_ROLLBACK].sql, "rollback");
	return rc;
}

/*
 * Versions in schema_migrations that are not files of dir (names, sorted,
 * n of them): a newer quire migrated this database. Warns on stderr, and
 * returns how many, or -1 when they cannot be read (the reason is on
 * stderr). No table yet is none.
 */
static long
unknown_versions(PGconn *c, const char *dir, char *const *names, size_t n)
{
	PGresult	*res;
	const char	*v, *st;
	size_t		 i, k, len;
	long		 unknown;
	int		 rows, r;

	res = run(c, STMT_MIG_VERSIONS, NULL);
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && st != NULL &&
	    strcmp(st, "42P01") == 0) {
		PQclear(res);
		return 0;
	}
	if (!ok(res, "schema_migrations")) {
		PQclear(res);
		return -1;
	}
	unknown = 0;
	rows = PQntuples(res);
	for (r = 0; r < rows; r++) {
		v = PQgetvalue(res, r, 0);
		len = strlen(v);
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == len + 4 &&
			    strncmp(names[i], v, len) == 0)
				break;
		if (i < n)
			continue;
		if (unknown == 0)
			fprintf(stderr, "quirectl: WARNING: the database has "
			    "migrations that %s does not have:", dir);
		if (unknown < MAX_NAMED) {
			fputc(' ', stderr);
			put_quoted(stderr, v);
		}
		unknown++;
	}
	PQclear(res);
	if (unknown == 0)
		return 0;
	k = unknown > MAX_NAMED ? (size_t)(unknown - MAX_NAMED) : 0;
	if (k > 0)
		fprintf(stderr, " and %zu more", k);
	fprintf(stderr, ".\nquirectl: a newer quire migrated it. Use that "
	    "version's quirectl and schema; run this version's app against "
	    "it only if those migrations keep it working (docs/operations.md, "
	    "\"Expand / contract\").\n");
	return unknown;
}

/*
 * Applies every migration of dir not yet in schema_migrations, each in
 * its own transaction, in name order, and warns about versions the
 * database has and dir does not. Returns the exit status: 0 with such a
 * warning too, as rolling the app back after a backward-compatible
 * migration is one way to get there.
 */
static int
migrate(const char *url, const char *dir)
{
	PGconn		*c;
	DIR		*d;
	struct dirent	*de;
	char		*names[MAX_MIGRATIONS];
	size_t		 n, i;
	long		 unknown;
	int		 rc, applied, r;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "quirectl: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	n = 0;
	while ((de = readdir(d)) != NULL && n < MAX_MIGRATIONS)
		if (migration_name(de->d_name))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	if ((c = connect_primary(url)) == NULL) {
		for (i = 0; i < n; i++)
			free(names[i]);
		return 1;
	}
	rc = 0;
	applied = 0;
	if ((unknown = unknown_versions(c, dir, names, n)) == -1)
		rc = 1;
	for (i = 0; i < n && rc == 0; i++) {
		if ((r = apply(c, dir, names[i])) == -1)
			rc = 1;
		else if (r == 1) {
			printf("applied %.*s\n", (int)(strlen(names[i]) - 4),
			    names[i]);
			applied++;
		}
	}
	if (rc == 0 && applied == 0 && unknown > 0)
		printf("nothing to apply: the database has the %zu migrations "
		    "of %s and %ld more (see the warning)\n", n, dir, unknown);
	else if (rc == 0 && applied == 0)
		printf("schema is up to date (%zu migrations)\n", n);
	for (i = 0; i < n; i++)
		free(names[i]);
	PQfinish(c);
	return rc;
}

static int
create_admin(const char *url, const char *email, const char *name)
{
	PGconn		*c;
	PGresult	*res;
	const char	*params[2], *why, *np;
	char		 pw[1024], hash[crypto_pwhash_STRBYTES], em[EMAIL_MAX + 1];
	size_t		 n, en, nn;
	int		 rc;

	if (email == NULL || name == NULL) {
		fprintf(stderr, "quirectl: create-admin needs --email and --name\n");
		return 2;
	}
	/* The one canonical form the app looks up (email.h). */
	switch (email_canon(email, strlen(email), em, &en, &why)) {
	case QERR_OK:
		break;
	case QERR_INVAL:
		fprintf(stderr, "quirectl: email %s\n", why);
		return 2;
	default:
		fprintf(stderr, "quirectl: out of memory\n");
		return 1;
	}
	np = name;
	nn = strlen(name);
	fmt_trim(&np, &nn);
	if (!utf8_valid(np, nn) || valid_utf8_len(np, nn) < 1 ||
	    valid_utf8_len(np, nn) > 100 || valid_has_control(np, nn, 0)) {
		fprintf(stderr, "quirectl: name must be 1 to 100 characters "
		    "of UTF-8 without control characters\n");
		return 2;
	}
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "quirectl: give the password on stdin\n");
		return 2;
	}
	n = strcspn(pw, "\r\n");
	/* 128 code points take at most 512 bytes: a full buffer is too long. */
	if (n == sizeof(pw) - 1) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "quirectl: password must be 8 to 128 characters\n");
		return 2;
	}
	pw[n] = '\0';
	if (!utf8_valid(pw, n)) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "quirectl: the password must be UTF-8\n");
		return 2;
	}
	/* Counted as given; auth_password_hash hashes its NFKC form. */
	if (valid_utf8_len(pw, n) < 8 || valid_utf8_len(pw, n) > 128) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "quirectl: password must be 8 to 128 characters\n");
		return 2;
	}
	if (sodium_init() < 0 || auth_password_hash(hash, pw, n) == -1) {
		sodium_memzero(pw, sizeof(pw));
		fprintf(stderr, "quirectl: cannot hash the password\n");
		return 1;
	}
	sodium_memzero(pw, sizeof(pw));
	if ((c = connect_primary(url)) == NULL)
		return 1;
	rc = 1;
	{
		char nm[512];

		snprintf(nm, sizeof(nm), "%.*s", (int)nn, np);
		params[0] = nm;
		params[1] = em;
		if (!simple(c, stmt_defs[STMT_BEGIN].sql, "begin"))
			goto out;
		res = run(c, STMT_ADMIN_USER_INSERT, params);
		if (!ok(res, "user") || PQntuples(res) != 1) {
			PQclear(res);
			goto out;
		}
		snprintf(nm, sizeof(nm), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		params[0] = nm;
		params[1] = hash;
		res = run(c, STMT_ADMIN_ACCOUNT_UPSERT, params);
		if (!ok(res, "account")) {
			PQclear(res);
			goto out;
		}
		PQclear(res);
		if (!simple(c, stmt_defs[STMT_COMMIT].sql, "commit"))
			goto out;
		printf("%s\n", nm);
		rc = 0;
	}
out:
	sodium_memzero(hash, sizeof(hash));
	PQfinish(c);
	return rc;
}

/*
 * The command word: the first argument that is neither an option nor an
 * option's separate value (as longopts and the short letters, which
 * are the long names' first letters, say). NULL when there is none.
 */
static const char *
command_word(int argc, char *argv[], const struct option *longopts)
{
	const struct option	*o;
	const char		*a;
	int			 i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' || a[1] == '\0')
			return a;
		if (strchr(a, '=') != NULL || (a[1] != '-' && a[2] != '\0'))
			continue;
		for (o = longopts; o->name != NULL; o++)
			if (o->has_arg == required_argument &&
			    (a[1] == '-' ? strcmp(a + 2, o->name) == 0 :
			    a[1] == o->val))
				i++;
	}
	return NULL;
}

/* import-better-auth: quire's connection, then ctl_import. */
static int
import_better_auth(const char *url, const char *from, unsigned int flags)
{
	PGconn	*c;
	int	 rc;

	if (from == NULL) {
		fprintf(stderr, "quirectl: import-better-auth needs --from "
		    "CONNINFO (the Better-Auth database)\n");
		return 2;
	}
	if ((c = connect_primary(url)) == NULL)
		return 1;
	rc = ctl_import(c, from, flags);
	PQfinish(c);
	return rc;
}

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: quirectl [--url URL] migrate [--schema-dir DIR]\n"
	    "       quirectl [--url URL] create-admin --email E --name N < password\n"
	    "       quirectl [--url URL] mail-worker [--drain] [--poll S] "
	    "[--backoff-min S] [--backoff-max S]\n"
	    "       quirectl [--url URL] import-better-auth --from CONNINFO [--dry-run] [--strict]\n"
	    "       quirectl [--url URL] prune\n"
	    "       quirectl [--url URL] rotate-secret-key --old KEY --new KEY\n"
	    "The database is QUIRE_PRIMARY_URL unless --url is given.\n"
	    "import-better-auth copies users, passwords and posts from a Better-Auth\n"
	    "database (libpq CONNINFO, read-only) in one transaction; run again, it\n"
	    "imports only what is new. --dry-run: roll back at the end. --strict: any\n"
	    "refused row rolls everything back. Exit 0: all imported or already there;\n"
	    "3: some refused (with --strict: nothing written); 1: error, nothing written.\n"
	    "rotate-secret-key re-encrypts every TOTP secret from the old QUIRE_SECRET_KEY\n"
	    "to the new one (32 bytes, base64) in one transaction.\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "schema-dir", required_argument, NULL, 's' },
		{ "email", required_argument, NULL, 'e' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "from", required_argument, NULL, 'F' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "strict", no_argument, NULL, 'S' },
		{ "old", required_argument, NULL, 'O' },
		{ "new", required_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*url, *dir, *email, *name, *cmd, *from, *oldkey, *newkey;
	unsigned int	 iflags;
	int		 ch;

	/* mail-worker has options of its own. */
	if ((cmd = command_word(argc, argv, longopts)) != NULL &&
	    strcmp(cmd, "mail-worker") == 0)
		return mailworker_main(argc, argv);
	url = email = name = from = oldkey = newkey = NULL;
	iflags = 0;
	if ((dir = getenv("QUIRE_SCHEMA_DIR")) == NULL)
		dir = QUIRE_SCHEMA_DIR;
	/* Options may come before or after the command word. */
	while ((ch = getopt_long(argc, argv, "u:s:e:n:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 's': dir = optarg; break;
		case 'e': email = optarg; break;
		case 'n': name = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'F': from = optarg; break;
		case 'D': iflags |= CTL_IMPORT_DRY_RUN; break;
		case 'S': iflags |= CTL_IMPORT_STRICT; break;
		case 'O': oldkey = optarg; break;
		case 'W': newkey = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (strcmp(cmd, "migrate") == 0)
		return migrate(url, dir);
	if (strcmp(cmd, "create-admin") == 0)
		return create_admin(url, email, name);
	if (strcmp(cmd, "import-better-auth") == 0)
		return import_better_auth(url, from, iflags);
	if (strcmp(cmd, "prune") == 0) {
		PGconn	*c;
		int	 rc;

		if ((c = connect_primary(url)) == NULL)
			return 1;
		rc = ctl_prune(c);
		PQfinish(c);
		return rc;
	}
	if (strcmp(cmd, "rotate-secret-key") == 0) {
		PGconn	*c;
		int	 rc;

		if ((c = connect_primary(url)) == NULL)
			return 1;
		rc = ctl_rotate(c, oldkey, newkey);
		PQfinish(c);
		return rc;
	}
	usage(stderr);
	return 2;
}
