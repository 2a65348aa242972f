/*
 * The canonical email: one folding, done here and nowhere else.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <unicase.h>
#include <uninorm.h>

#include "email.h"
#include "fmt.h"
#include "unicode.h"

/*
 * Why EMAIL_INPUT_MAX may be refused outright: NFKC shrinks text at most
 * 4 times (U+107A5, 4 bytes, becomes 'q'; three 3-byte Hangul jamo
 * compose to one syllable) and lower-casing an NFKC string at most 1.5
 * times (U+1E9E, 3 bytes, becomes U+00DF, 2 bytes), both measured over
 * every code point. So whatever canonicalises to 254 bytes was at most
 * 1524 bytes long. The cap bounds the work one request can ask for.
 */
enum qerr
email_canon(const char *s, size_t n, char *out, size_t *outlen,
    const char **why)
{
	char		 nbuf[1024], *nf;
	uint8_t		*low;
	size_t		 nlen, llen;
	enum qerr	 e;

	static const char too_long[] = "must be at most 254 bytes";

	*why = NULL;
	fmt_trim(&s, &n);
	if (n > EMAIL_INPUT_MAX) {
		*why = too_long;
		return QERR_INVAL;
	}
	if ((nf = uni_nfkc(s, n, nbuf, sizeof(nbuf), &nlen)) == NULL) {
		if (errno != EILSEQ)
			return QERR_NOMEM;
		*why = "must be valid UTF-8";
		return QERR_INVAL;
	}
	/*
	 * No language: the same address must fold the same way for every
	 * client. NFC afterwards recomposes what lower-casing split or left
	 * composable (J + U+030C becomes U+01F0 once it is a 'j').
	 */
	llen = EMAIL_MAX;
	low = u8_tolower((const uint8_t *)nf, nlen, NULL, UNINORM_NFC,
	    (uint8_t *)out, &llen);
	if (low == NULL)
		e = QERR_NOMEM;
	else if (low != (uint8_t *)out) {
		/* It did not fit in EMAIL_MAX bytes. */
		free(low);
		*why = too_long;
		e = QERR_INVAL;
	} else {
		out[llen] = '\0';
		*outlen = llen;
		e = (*why = email_shape(out, llen)) == NULL ? QERR_OK :
		    QERR_INVAL;
	}
	if (nf != nbuf)
		free(nf);
	return e;
}

const char *
email_shape(const char *s, size_t n)
{
	const char	*at, *dom, *label;
	size_t		 i, local, dn, dots;

	static const char bad[] = "must be a valid email address";

	if (n == 0 || n > 254)
		return n > 254 ? "must be at most 254 bytes" : bad;
	at = NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f)
			return bad;
		if (c == '@') {
			if (at != NULL)
				return bad;
			at = s + i;
		}
	}
	if (at == NULL)
		return bad;
	/* Beyond ASCII: U+0085, U+2028, U+1680 and the like. */
	if (uni_has_space_or_control(s, n))
		return bad;
	local = (size_t)(at - s);
	if (local == 0 || local > 64)
		return bad;
	dom = at + 1;
	dn = n - local - 1;
	/* Every dot-separated label non-empty, and at least one dot. */
	dots = 0;
	label = dom;
	for (i = 0; i <= dn; i++) {
		if (i == dn || dom[i] == '.') {
			if (dom + i == label)
				return bad;
			if (i < dn)
				dots++;
			label = dom + i + 1;
		}
	}
	return dots == 0 ? bad : NULL;
}
