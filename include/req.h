/*
 * One request: everything known about it, from the CGI parameters to the
 * answer being built. Nothing in it outlives the request; the arena and
 * the buffers are recycled for the next one.
 */
#ifndef QUIRE_REQ_H
#define QUIRE_REQ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "conf.h"
#include "quire.h"

#define REQID_MAX	128

enum http_method {
	METHOD_GET,
	METHOD_POST,
	METHOD_PATCH,
	METHOD_DELETE,
	METHOD_PUT,
	METHOD_HEAD,
	METHOD_OPTIONS,
	METHOD_OTHER,
	METHOD__MAX
};

struct arena;
struct db;
struct route;
struct session;
struct fieldval;

/* Reads up to n bytes of the body; returns bytes read, 0 at the end, -1 on error. */
typedef long (*req_reader)(void *ctx, char *dst, size_t n);

/* What the request brought: its CGI parameters, its path and its body. */
struct req_input {
	char			**envp;		/* CGI parameters, borrowed */
	req_reader		 read;
	void			*read_ctx;
	const char		*method_name;
	enum http_method	 method;
	const char		*path;		/* routed path (no /v1, no trailing /) */
	const char		*query;		/* raw QUERY_STRING, never NULL */
	char			 reqid[REQID_MAX + 1];
	double			 t_start;	/* monotonic seconds */
	char			*body;		/* arena, NUL-terminated */
	size_t			 body_len;
	int			 input_done;	/* no body, or all of it read */
	json_t			*json;		/* parsed body, freed by the arena */
	const char		*client_addr;	/* auth_client_addr(), once known */
};

/* Users one request may name to revoke_user (revoke.h); past it: everyone. */
#define REQ_REVOKE_MAX	4

/* Read-your-writes (ryw.h): what this request needs and what it wrote. */
struct req_ryw {
	uint64_t		 min_lsn;	/* replicas serving reads must have replayed this */
	int			 wrote;		/* a write committed during this request */
	int			 revoked;	/* the write ended or changed sessions */
	const char		*key;		/* the caller's token hash: its writes' key */
	uint64_t		 lsn_after;	/* WAL end after the last write, if read with it */
	uint64_t		 client_lsn;	/* the position the client brought (pos.h), or 0 */
	uint64_t		 served_lsn;	/* the last read's server had replayed this (UINT64_MAX: the primary) */
	const char		*users[REQ_REVOKE_MAX];	/* revoke_user()'s, arena */
	size_t			 nusers;
	int			 every_user;	/* revoke_user() ran out of room */
};

/* The answer being built (resp.h), and what it cost. */
struct req_output {
	int			 status;
	enum resp_err		 err;		/* ERR_NONE on success */
	struct buf		 data;		/* success: the data value; error: message */
	struct buf		 meta;		/* list meta object, empty if none */
	struct buf		 details;	/* validation details array body */
	struct buf		 hdrs;		/* extra header lines, CRLF-terminated */
	struct buf		 json_out;	/* an error's JSON body */
	const char		*raw_type;	/* success body is data as is, of this type */
	const char		*pool;		/* "primary"/"replica" or NULL */
	char			 sqlstate[6];	/* of the last failed statement, or "" */
};

struct req {
	struct arena		*arena;
	const struct conf	*conf;
	struct db		*db;

	struct req_input	 in;
	const struct route	*route;
	const char		*id;		/* the :id path segment, or NULL */
	struct fieldval		*fields;	/* validated body fields */
	struct session		*sess;		/* NULL when anonymous */
	struct req_ryw		 ryw;
	struct req_output	 out;
};

/* Sets up the recyclable parts once per worker. */
enum qerr	 req_setup(struct req *, const struct conf *, struct db *,
		    struct arena *) QUIRE_WUR;
void		 req_teardown(struct req *);

/*
 * Starts a request from CGI parameters: method, path, query, request id.
 * Returns QERR_NOMEM when the arena cannot hold them.
 */
enum qerr	 req_begin(struct req *, char **envp, req_reader, void *ctx) QUIRE_WUR;
/* Releases the request's memory and keeps the buffers' for the next one. */
void		 req_end(struct req *);

/* A CGI parameter (the last, when sent more than once), or NULL. Borrowed. */
const char	*req_param(const struct req *, const char *name);

/*
 * The path to route: PATH_INFO, or REQUEST_URI (without the query) minus
 * SCRIPT_NAME when the server sends no PATH_INFO, then without a /v1
 * prefix and one trailing slash. Returns arena memory, or NULL on NOMEM.
 */
const char	*req_route_path(struct arena *, const char *path_info,
		    const char *request_uri, const char *script_name);

enum http_method req_method(const char *);
const char	*req_method_name(enum http_method);

/* 1 when s is a request id we echo: 1..128 of [A-Za-z0-9._-]. */
int		 req_id_sane(const char *);

/*
 * Reads the body honouring CONTENT_LENGTH and conf->max_body.
 * Returns QERR_OK, QERR_TOOBIG (over the limit: nothing buffered),
 * QERR_INVAL (malformed CONTENT_LENGTH), QERR_IO or QERR_NOMEM.
 */
enum qerr	 req_read_body(struct req *) QUIRE_WUR;

/* 1 when the Content-Type is application/json (any case, parameters allowed). */
int		 req_is_json(const char *content_type);

/* Seconds on the monotonic clock. */
double		 req_now(void);

#endif
