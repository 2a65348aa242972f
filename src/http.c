/*
 * The HTTP status table.
 */
#include "config.h"

#include "http.h"

static const struct {
	int		 status;
	const char	*reason;
} statuses[HTTP_STATUSES] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
	{ 0, "Unknown" },
};

size_t
http_status_index(int status)
{
	size_t	 i;

	for (i = 0; i < HTTP_STATUSES - 1; i++)
		if (statuses[i].status == status)
			return i;
	return HTTP_STATUSES - 1;
}

int
http_status_at(size_t i)
{

	return i < HTTP_STATUSES ? statuses[i].status : 0;
}

const char *
http_reason(int status)
{

	return statuses[http_status_index(status)].reason;
}
