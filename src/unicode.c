/*
 * NFKC and character classes, over libunistring.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "unicode.h"
#include "utf8.h"

char *
uni_nfkc(const char *s, size_t n, char *buf, size_t bufsz, size_t *outlen)
{
	uint8_t	*p;

	/* u8_normalize takes invalid input as U+FFFD: refuse it first. */
	if (!utf8_valid(s, n)) {
		errno = EILSEQ;
		return NULL;
	}
	*outlen = bufsz;
	p = u8_normalize(UNINORM_NFKC, (const uint8_t *)s, n, (uint8_t *)buf,
	    outlen);
	return (char *)p;
}

int
uni_has_space_or_control(const char *s, size_t n)
{
	const uint8_t	*p = (const uint8_t *)s, *end = p + n;
	ucs4_t		 uc;
	int		 k;

	while (p < end) {
		if ((k = u8_mbtouc(&uc, p, (size_t)(end - p))) < 1)
			return 1;
		if (uc_is_property_white_space(uc) ||
		    uc_is_general_category(uc, UC_CATEGORY_Cc))
			return 1;
		p += k;
	}
	return 0;
}
