/*
 * The canonical email (API.md, "The canonical email"): the one string
 * that is stored, looked up, kept unique and rate-limited, computed in
 * C only. The database compares it byte for byte and never folds case.
 */
#ifndef QUIRE_EMAIL_H
#define QUIRE_EMAIL_H

#include <stddef.h>

#include "quire.h"

#define EMAIL_MAX	254	/* bytes of the canonical form */
/* Longer input cannot canonicalise to EMAIL_MAX bytes (see email.c). */
#define EMAIL_INPUT_MAX	4096

/*
 * The canonical form of s[0..n): surrounding ASCII white space trimmed,
 * NFKC, then full Unicode lower-casing with no language tailoring,
 * recomposed to NFC. The length and shape rules (email_shape) are then
 * applied to that form. On QERR_OK it is in out (caller's memory,
 * EMAIL_MAX + 1 bytes), NUL-terminated, *outlen bytes long. QERR_INVAL
 * sets *why to the message for details[] (not valid UTF-8, too long, not
 * an email address); QERR_NOMEM when libunistring's scratch memory could
 * not be had. The same input always gives the same output, and a
 * canonical form is its own canonical form.
 */
enum qerr	 email_canon(const char *s, size_t n, char *out, size_t *outlen,
		    const char **why) QUIRE_WUR;

/*
 * The contract's shape rules for an email s[0..n) already in canonical
 * form: at most 254 bytes, one @, a local part of 1-64 bytes, no white
 * space or control characters, a domain with a dot and no empty label.
 * Returns NULL when it passes, else the message for details[].
 */
const char	*email_shape(const char *, size_t);

#endif
