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
#include "unicode.h"
#include "valid.h"

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
	valid_trim(&s, &n);
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
		e = (*why = valid_email(out, llen)) == NULL ? QERR_OK :
		    QERR_INVAL;
	}
	if (nf != nbuf)
		free(nf);
	return e;
}
