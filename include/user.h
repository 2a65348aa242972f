/*
 * The user resource: a row of the catalogue's USER_COLS, and its JSON.
 */
#ifndef QUIRE_USER_H
#define QUIRE_USER_H

#include <libpq-fe.h>

#include "fmt.h"
#include "jw.h"

#define USER_NCOLS	8

struct user {
	const char	*id;		/* borrowed from the PGresult */
	const char	*name;
	const char	*email;
	const char	*image;		/* NULL when null */
	const char	*role;
	int		 email_verified;
	char		 created_at[FMT_TS_LEN + 1];
	char		 updated_at[FMT_TS_LEN + 1];
};

/* Reads USER_NCOLS columns from col0 of row. Returns 0, or -1 on a malformed row. */
int	user_from_row(struct user *, const PGresult *, int row, int col0);

/* Writes the user object; email and emailVerified only when private_view. */
void	user_json(struct jw *, const struct user *, int private_view);

#endif
