/*
 * A configuration table for the unit tests: conf_parse() reads the
 * environment through a getter, and this one looks names up in a
 * NULL-terminated array of name/value pairs instead.
 */
#ifndef QUIRE_TEST_TABLE_H
#define QUIRE_TEST_TABLE_H

#include <string.h>

struct kv {
	const char	*name;
	const char	*value;
};

static inline const char *
table_get(const char *name, void *arg)
{
	const struct kv	*kv = arg;

	for (; kv->name != NULL; kv++)
		if (strcmp(kv->name, name) == 0)
			return kv->value;
	return NULL;
}

#endif
