/*
 * bench/stmtsql.c - prints the SQL of one of quire's statements, by its
 * prepared-statement name, straight from the compiled src/stmts.c, so
 * that the pgbench limits run exactly what the app runs:
 *
 *   stmtsql post_get          ->  <nparams> TAB <sql>
 *   stmtsql --options         ->  the fixed session settings as PGOPTIONS
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
		fprintf(stderr, "usage: stmtsql NAME | --options\n");
		return 2;
	}
	if (strcmp(argv[1], "--options") == 0) {
		for (i = 0; stmt_settings[i].name != NULL; i++)
			printf("%s-c %s=%s", i > 0 ? " " : "",
			    stmt_settings[i].name, stmt_settings[i].value);
		printf("\n");
		return 0;
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
