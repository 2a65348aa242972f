/*
 * quirectl: the admin command. migrate applies pending schema migrations;
 * create-admin creates (or promotes) an admin user, reading the password
 * from stdin.
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
#include "stmts.h"
#include "valid.h"

#ifndef QUIRE_SCHEMA_DIR
#define QUIRE_SCHEMA_DIR "schema"
#endif

#define MAX_MIGRATIONS	512
#define MAX_SQL_FILE	(4 * 1024 * 1024)

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
	if (!simple(c, "SET client_min_messages = warning", "settings")) {
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

/*
 * Applies every migration of dir not yet in schema_migrations, each in
 * its own transaction under an advisory lock, in name order.
 */
static int
migrate(const char *url, const char *dir)
{
	PGconn		*c;
	PGresult	*res;
	DIR		*d;
	struct dirent	*de;
	char		*names[MAX_MIGRATIONS], path[4096], version[256], *sql;
	const char	*params[1];
	size_t		 n, i;
	int		 rc, applied, done;

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
	if ((c = connect_primary(url)) == NULL)
		return 1;
	rc = 0;
	applied = 0;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(version, sizeof(version), "%.*s",
		    (int)(strlen(names[i]) - 4), names[i]);
		params[0] = version;
		if (!simple(c, "BEGIN", "begin")) {
			rc = 1;
			break;
		}
		res = run(c, STMT_MIG_LOCK, NULL);
		done = ok(res, "lock");
		PQclear(res);
		if (done) {
			res = run(c, STMT_MIG_TABLE, NULL);
			done = ok(res, "schema_migrations");
			PQclear(res);
		}
		if (!done) {
			rc = 1;
			break;
		}
		res = run(c, STMT_MIG_APPLIED, params);
		if (!ok(res, "schema_migrations")) {
			PQclear(res);
			rc = 1;
			break;
		}
		done = PQntuples(res) > 0;
		PQclear(res);
		if (done) {
			(void)simple(c, "ROLLBACK", "rollback");
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((sql = slurp(path)) == NULL) {
			fprintf(stderr, "quirectl: cannot read %s\n", path);
			rc = 1;
			break;
		}
		if (!simple(c, sql, names[i])) {
			free(sql);
			(void)simple(c, "ROLLBACK", "rollback");
			rc = 1;
			break;
		}
		free(sql);
		res = run(c, STMT_MIG_RECORD, params);
		done = ok(res, "record");
		PQclear(res);
		if (!done || !simple(c, "COMMIT", "commit")) {
			rc = 1;
			break;
		}
		printf("applied %s\n", version);
		applied++;
	}
	if (rc == 0 && applied == 0)
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
	const char	*params[2], *e, *ep, *np;
	char		 pw[256], hash[crypto_pwhash_STRBYTES], em[300];
	size_t		 n, en, nn, i;
	int		 rc;

	if (email == NULL || name == NULL) {
		fprintf(stderr, "quirectl: create-admin needs --email and --name\n");
		return 2;
	}
	ep = email;
	en = strlen(email);
	valid_trim(&ep, &en);
	if ((e = valid_email(ep, en)) != NULL) {
		fprintf(stderr, "quirectl: email %s\n", e);
		return 2;
	}
	snprintf(em, sizeof(em), "%.*s", (int)en, ep);
	for (i = 0; em[i] != '\0'; i++)
		if (em[i] >= 'A' && em[i] <= 'Z')
			em[i] = (char)(em[i] - 'A' + 'a');
	np = name;
	nn = strlen(name);
	valid_trim(&np, &nn);
	if (valid_utf8_len(np, nn) < 1 || valid_utf8_len(np, nn) > 100) {
		fprintf(stderr, "quirectl: name must be 1 to 100 characters\n");
		return 2;
	}
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "quirectl: give the password on stdin\n");
		return 2;
	}
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
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
		if (!simple(c, "BEGIN", "begin"))
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
		if (!simple(c, "COMMIT", "commit"))
			goto out;
		printf("%s\n", nm);
		rc = 0;
	}
out:
	sodium_memzero(hash, sizeof(hash));
	PQfinish(c);
	return rc;
}

static void
usage(FILE *f)
{

	fprintf(f,
	    "usage: quirectl [--url URL] migrate [--schema-dir DIR]\n"
	    "       quirectl [--url URL] create-admin --email E --name N < password\n"
	    "The database is QUIRE_PRIMARY_URL unless --url is given.\n");
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
		{ NULL, 0, NULL, 0 }
	};
	const char	*url, *dir, *email, *name, *cmd;
	int		 ch;

	url = email = name = NULL;
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
	usage(stderr);
	return 2;
}
