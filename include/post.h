/*
 * The post resource: a row of the catalogue's POST_COLS, and its JSON.
 */
#ifndef QUIRE_POST_H
#define QUIRE_POST_H

#include <libpq-fe.h>

#include "fmt.h"
#include "jw.h"

#define POST_NCOLS	8
#define POST_COL_CREATED 6	/* raw created_at, for cursors */

struct post {
	const char	*id;		/* borrowed from the PGresult */
	const char	*title;
	size_t		 title_len;
	const char	*content;
	size_t		 content_len;
	int		 published;
	const char	*author_id;
	const char	*author_name;
	char		 created_at[FMT_TS_LEN + 1];
	char		 updated_at[FMT_TS_LEN + 1];
};

/* Reads POST_NCOLS columns of row. Returns 0, or -1 on a malformed row. */
int	post_from_row(struct post *, const PGresult *, int row);
void	post_json(struct jw *, const struct post *);

#endif
