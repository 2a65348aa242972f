/*
 * The HTTP statuses quire answers with, in one table: their reason
 * phrases (the CGI Status line) and their places in the request counters
 * (metrics).
 */
#ifndef QUIRE_HTTP_H
#define QUIRE_HTTP_H

#include <stddef.h>

/* The table's size: the statuses, then one place for any other. */
#define HTTP_STATUSES	15

/* status's place in the table; HTTP_STATUSES - 1 for any status not in it. */
size_t		 http_status_index(int status);
/* The status at place i, or 0 at the last place ("other"). */
int		 http_status_at(size_t i);
/* The reason phrase of status ("Not Found"), or "Unknown". */
const char	*http_reason(int status);

#endif
