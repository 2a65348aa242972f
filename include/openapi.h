/*
 * The OpenAPI document of the API, compiled in at build time from
 * openapi.yaml by scripts/openapi-to-c (the generated openapi_doc.c).
 */
#ifndef QUIRE_OPENAPI_H
#define QUIRE_OPENAPI_H

#include <stddef.h>

/* Compact JSON, UTF-8, NUL-terminated; served as is by GET /openapi.json. */
extern const char	openapi_json[];
/* Its length in bytes, without the NUL. */
extern const size_t	openapi_json_len;

#endif
