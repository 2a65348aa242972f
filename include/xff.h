/*
 * The client's address: REMOTE_ADDR, or, behind proxies we trust, the
 * nearest address in X-Forwarded-For that is not one of them. Every
 * address is parsed (inet_pton) and written back in one canonical text
 * form, so a rate-limit key or a stored address is never a second
 * spelling of the same host, nor bytes PostgreSQL refuses as text.
 */
#ifndef QUIRE_XFF_H
#define QUIRE_XFF_H

#include <stddef.h>

/* Room for any result: an IPv6 text form, or a cleaned REMOTE_ADDR. */
#define XFF_ADDR_MAX	64

/*
 * Writes the client's address into out (XFF_ADDR_MAX bytes) and returns
 * out. remote is REMOTE_ADDR (may be NULL); xff the X-Forwarded-For value
 * (may be NULL); proxies[0..n) the trusted proxies' addresses.
 *
 * X-Forwarded-For counts only when remote is a trusted proxy. Its entries
 * are walked from the right, past trusted proxies, to the first address
 * that is not one: that is the client. An entry that is not an address
 * (garbage, cut, a name) ends the walk at the last trusted hop, the proxy
 * that wrote it: what lies left of it was written by the client and
 * could name anyone. Entries may be bracketed IPv6 ("[::1]"); an IPv4
 * address mapped into IPv6 is written as IPv4. A remote that is not an
 * address (a web server on a unix socket may send anything) is kept as
 * text, cut to fit on a character boundary with invalid UTF-8 replaced.
 */
const char	*xff_client(const char *remote, const char *xff,
		    char *const *proxies, size_t n, char *out);

/*
 * Parses one address s[0..n) and writes its canonical text into out
 * (XFF_ADDR_MAX). Returns 0, or -1 when s is not an address.
 */
int		 xff_canon(const char *s, size_t n, char *out);

#endif
