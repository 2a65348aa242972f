/*
 * quirectl import-better-auth: a Better-Auth database copied into quire
 * (API.md, "Moving from Better-Auth"; docs/operations.md, section 8).
 */
#ifndef QUIRE_CTL_IMPORT_H
#define QUIRE_CTL_IMPORT_H

#include <libpq-fe.h>

#define CTL_IMPORT_DRY_RUN	0x01	/* everything but the COMMIT */
#define CTL_IMPORT_STRICT	0x02	/* any refusal: roll everything back */

/* Rows fetched from the source's posts at a time (stmts.c says it too). */
#define CTL_IMPORT_BATCH	5000

/*
 * Reads the Better-Auth database at the libpq conninfo from (read-only:
 * default_transaction_read_only=on, one REPEATABLE READ snapshot) and
 * writes its users, credential accounts and posts into quire through
 * the open connection quire (the caller's, left open) in one
 * transaction. Rows imported before (import_source_ids) are skipped;
 * rows quire's rules refuse are reported on stdout, one line each, with
 * a summary line per table. Returns the exit status: 0 when every row
 * was imported or already there, 3 when some were refused (nothing
 * written with CTL_IMPORT_STRICT), 1 on an error (nothing written; the
 * reason is on stderr).
 */
int	ctl_import(PGconn *quire, const char *from, unsigned int flags);

#endif
