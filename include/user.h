/*
 * The user resource: a row of the catalogue's USER_COLS, and its JSON.
 */
#ifndef QUIRE_USER_H
#define QUIRE_USER_H

#include <libpq-fe.h>

#include "fmt.h"
#include "jw.h"

#define USER_NCOLS	12

struct user {
	const char	*id;		/* borrowed from the PGresult */
	const char	*name;
	const char	*email;
	const char	*image;		/* NULL when null */
	const char	*role;
	int		 email_verified;
	char		 created_at[FMT_TS_LEN + 1];
	char		 updated_at[FMT_TS_LEN + 1];
	int		 banned;	/* a ban in force (an expired one is none) */
	const char	*ban_reason;	/* NULL when none */
	char		 ban_expires_at[FMT_TS_LEN + 1];	/* "" when none */
	int		 two_factor_enabled;
};

/*
 * Who is looking (API.md "Resources", "Bans"): anyone else sees the
 * public view; the user themself adds email, emailVerified and
 * twoFactorEnabled; an admin adds the ban's fields as well.
 */
enum user_view {
	USER_VIEW_PUBLIC,
	USER_VIEW_SELF,
	USER_VIEW_ADMIN
};

/* Reads USER_NCOLS columns from col0 of row. Returns 0, or -1 on a malformed row. */
int	user_from_row(struct user *, const PGresult *, int row, int col0);

/* Writes the user object as view shows it. */
void	user_json(struct jw *, const struct user *, enum user_view);

#endif
