/*
 * bench/stmtsql.c - prints the SQL of one of quire's statements, by its
 * prepared-statement name, straight from the compiled src/stmts.c, so
 * that the pgbench limits run exactly what the app runs:
 *
 *   stmtsql post_get          ->  <nparams> TAB <sql>
 *
 * bench/bench.py compiles it against src/stmts.c on every run.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "stmts.h"

int
main(int argc, char **argv)
{
	int	 i;

	if (argc != 2) {
		fprintf(stderr, "usage: stmtsql NAME\n");
		return 2;
	}
	for (i = 0; i < STMT__MAX; i++) {
		if (stmt_defs[i].name != NULL &&
		    strcmp(stmt_defs[i].name, argv[1]) == 0) {
			printf("%d\t%s\n", stmt_defs[i].nparams, stmt_defs[i].sql);
			return 0;
		}
	}
	fprintf(stderr, "stmtsql: no statement named %s in src/stmts.c\n", argv[1]);
	return 1;
}
