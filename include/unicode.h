/*
 * Unicode through libunistring, in one place: NFKC and the white space
 * and control test (UTF-8 validity is utf8.h's). The canonical email
 * (email.c) and passwords (auth.c) both normalise with uni_nfkc, so they
 * cannot come to disagree about what NFKC is.
 */
#ifndef QUIRE_UNICODE_H
#define QUIRE_UNICODE_H

#include <stddef.h>

/*
 * The NFKC form of the UTF-8 string s[0..n), *outlen bytes long and not
 * NUL-terminated. It is written to buf (bufsz bytes) when it fits and
 * buf is returned; otherwise the result is malloc'd and the caller frees
 * it (wiping it first when it is a secret) whenever it is not buf. Even
 * then buf may hold part of the result: wipe it too. Returns NULL with
 * errno EILSEQ when s is not well-formed UTF-8, or ENOMEM.
 */
char	*uni_nfkc(const char *s, size_t n, char *buf, size_t bufsz,
	    size_t *outlen);

/*
 * 1 when the well-formed UTF-8 s[0..n) holds a white space (Unicode's
 * White_Space property) or control (general category Cc) character.
 */
int	 uni_has_space_or_control(const char *s, size_t n);

#endif
