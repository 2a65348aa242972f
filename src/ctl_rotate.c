/*
 * quirectl rotate-secret-key (ctl_rotate.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "conf.h"
#include "ctl_rotate.h"
#include "stmts.h"
#include "totp.h"

#define SEALED_HEX_LEN	(2 * TOTP_SEALED_BYTES)

/* Runs statement s; returns its result, or NULL after printing the error. */
static PGresult *
run(PGconn *c, enum stmt s, const char *const *params)
{
	const struct stmt_def	*d = &stmt_defs[s];
	PGresult		*res;
	ExecStatusType		 st;

	res = PQexecParams(c, d->sql, d->nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return res;
	fprintf(stderr, "quirectl: rotate-secret-key: %s: %s", d->name,
	    PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

/* Decodes a key argument; says what is wrong with it. Returns 0 or -1. */
static int
key_arg(const char *opt, const char *b64, unsigned char key[TOTP_KEY_BYTES])
{
	size_t	 got;

	if (b64 == NULL || *b64 == '\0') {
		fprintf(stderr, "quirectl: rotate-secret-key needs %s KEY "
		    "(32 bytes, base64)\n", opt);
		return -1;
	}
	if (conf_key_decode(b64, key, &got) == -1) {
		fprintf(stderr, "quirectl: rotate-secret-key: %s must be 32 "
		    "bytes in base64; it %s\n", opt, got == 0 ?
		    "is not base64" : "has another length");
		return -1;
	}
	return 0;
}

int
ctl_rotate(PGconn *c, const char *old_b64, const char *new_b64)
{
	unsigned char	 oldk[TOTP_KEY_BYTES], newk[TOTP_KEY_BYTES];
	unsigned char	 sealed[TOTP_SEALED_BYTES], secret[TOTP_SECRET_BYTES];
	PGresult	*res, *up;
	const char	*params[2], *hex;
	char		 out[SEALED_HEX_LEN + 1];
	size_t		 n;
	long		 done, already;
	int		 i, rc;

	_Static_assert(TOTP_KEY_BYTES == CONF_KEY_BYTES, "one key size");
	if (key_arg("--old", old_b64, oldk) == -1 ||
	    key_arg("--new", new_b64, newk) == -1) {
		sodium_memzero(oldk, sizeof(oldk));
		return 2;
	}
	rc = 1;
	res = NULL;
	done = already = 0;
	if ((res = run(c, STMT_BEGIN, NULL)) == NULL)
		goto out;
	PQclear(res);
	if ((res = run(c, STMT_ROTATE_SECRETS, NULL)) == NULL)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		hex = PQgetvalue(res, i, 1);
		if (sodium_hex2bin(sealed, sizeof(sealed), hex, strlen(hex),
		    NULL, &n, NULL) != 0 || n != TOTP_SEALED_BYTES) {
			fprintf(stderr, "quirectl: rotate-secret-key: user %s: "
			    "the stored secret is malformed; nothing changed\n",
			    PQgetvalue(res, i, 0));
			goto out;
		}
		if (totp_open(secret, sealed, n, oldk) == -1) {
			if (totp_open(secret, sealed, n, newk) == 0) {
				already++;
				continue;
			}
			fprintf(stderr, "quirectl: rotate-secret-key: user %s: "
			    "the secret opens with neither --old nor --new; "
			    "nothing changed\n", PQgetvalue(res, i, 0));
			goto out;
		}
		totp_seal(sealed, secret, newk);
		sodium_bin2hex(out, sizeof(out), sealed, sizeof(sealed));
		params[0] = PQgetvalue(res, i, 0);
		params[1] = out;
		if ((up = run(c, STMT_ROTATE_SET, params)) == NULL)
			goto out;
		PQclear(up);
		done++;
	}
	PQclear(res);
	if ((res = run(c, STMT_COMMIT, NULL)) == NULL)
		goto out;
	printf("re-encrypted %ld TOTP secrets under the new key (%ld were "
	    "already under it)\n", done, already);
	rc = 0;
out:
	if (res != NULL)
		PQclear(res);
	if (rc != 0 && PQtransactionStatus(c) != PQTRANS_IDLE) {
		if ((res = run(c, STMT_ROLLBACK, NULL)) != NULL)
			PQclear(res);
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(oldk, sizeof(oldk));
	sodium_memzero(newk, sizeof(newk));
	return rc;
}
