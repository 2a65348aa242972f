/*
 * Every resource bound of quire in one place. The configurable ones
 * (body size, timeouts towards the database) live in struct conf with
 * their defaults in src/conf.c; these are the fixed ones. The web
 * servers' own limits (header sizes, their body limit set above ours)
 * are in conf/lighttpd.conf and conf/nginx.conf. docs/security.md lists
 * them all.
 */
#ifndef QUIRE_BOUNDS_H
#define QUIRE_BOUNDS_H

/* Memory one request may take from its arena: past it, 500. */
#define BOUND_REQUEST_MEMORY	(64 * 1024 * 1024)
/* The arena block kept between requests. */
#define BOUND_ARENA_KEEP	(16 * 1024)
/* One answer, headers and body (a page of 100 posts of 100,000 characters fits). */
#define BOUND_RESPONSE		(128 * 1024 * 1024)
/*
 * Seconds a FastCGI peer gets for each write of an answer (SO_SNDTIMEO).
 * Reading a request has one deadline for all of it instead,
 * QUIRE_REQUEST_TIMEOUT (main.c, dl_begin).
 */
#define BOUND_IO_TIMEOUT_S	10
/* Nesting of a JSON body, checked before parsing; ours are flat. */
#define BOUND_JSON_DEPTH	32
/* Members of a JSON body object; ours have at most 5. */
#define BOUND_JSON_KEYS		64
/* Query-string parameters looked at; the rest are ignored. */
#define BOUND_QUERY_PARAMS	64
/* Bytes of validation details in one error answer. */
#define BOUND_DETAILS		8192

#endif
