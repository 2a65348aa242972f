/*
 * TOTP through liboath, secrets sealed with libsodium (totp.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <oath.h>
#include <sodium.h>

#include "totp.h"

_Static_assert(TOTP_NONCE_BYTES == crypto_secretbox_NONCEBYTES,
    "TOTP_NONCE_BYTES is crypto_secretbox_NONCEBYTES");
_Static_assert(TOTP_MAC_BYTES == crypto_secretbox_MACBYTES,
    "TOTP_MAC_BYTES is crypto_secretbox_MACBYTES");
_Static_assert(TOTP_KEY_BYTES == crypto_secretbox_KEYBYTES,
    "TOTP_KEY_BYTES is crypto_secretbox_KEYBYTES");

/* Crockford's base32: no I, L, O or U, so a code reads back unambiguously. */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int	 oath_ready;

int
totp_init(void)
{

	if (oath_ready)
		return 0;
	if (oath_init() != OATH_OK)
		return -1;
	oath_ready = 1;
	return 0;
}

void
totp_secret_new(unsigned char secret[TOTP_SECRET_BYTES])
{

	randombytes_buf(secret, TOTP_SECRET_BYTES);
}

int
totp_secret_base32(const unsigned char secret[TOTP_SECRET_BYTES],
    char out[TOTP_SECRET_B32_LEN + 1])
{
	char	*enc;
	size_t	 n;
	int	 rc;

	if (totp_init() == -1)
		return -1;
	enc = NULL;
	rc = -1;
	if (oath_base32_encode((const char *)secret, TOTP_SECRET_BYTES, &enc,
	    &n) != OATH_OK)
		goto out;
	/* 160 bits are 32 characters exactly: there is no padding to drop. */
	if (n != TOTP_SECRET_B32_LEN)
		goto out;
	memcpy(out, enc, n);
	out[n] = '\0';
	rc = 0;
out:
	if (enc != NULL) {
		sodium_memzero(enc, strlen(enc));
		free(enc);
	}
	return rc;
}

void
totp_seal(unsigned char sealed[TOTP_SEALED_BYTES],
    const unsigned char secret[TOTP_SECRET_BYTES],
    const unsigned char key[TOTP_KEY_BYTES])
{

	randombytes_buf(sealed, TOTP_NONCE_BYTES);
	(void)crypto_secretbox_easy(sealed + TOTP_NONCE_BYTES, secret,
	    TOTP_SECRET_BYTES, sealed, key);
}

int
totp_open(unsigned char secret[TOTP_SECRET_BYTES], const unsigned char *sealed,
    size_t n, const unsigned char key[TOTP_KEY_BYTES])
{

	if (n != TOTP_SEALED_BYTES)
		return -1;
	return crypto_secretbox_open_easy(secret, sealed + TOTP_NONCE_BYTES,
	    n - TOTP_NONCE_BYTES, sealed, key) == 0 ? 0 : -1;
}

int64_t
totp_step(time_t t)
{

	/* Floor division: a clock before 1970 is nobody's, but stay exact. */
	return t >= 0 ? (int64_t)t / TOTP_STEP_SECONDS :
	    -(((int64_t)-t + TOTP_STEP_SECONDS - 1) / TOTP_STEP_SECONDS);
}

int
totp_code(const unsigned char *secret, size_t n, int64_t step,
    unsigned digits, char *out)
{

	if (totp_init() == -1 || step < 0 || digits < 6 || digits > 8)
		return -1;
	/*
	 * oath_totp_generate takes a time; the start of the step is one
	 * that lies in it.
	 */
	return oath_totp_generate((const char *)secret, n,
	    (time_t)(step * TOTP_STEP_SECONDS), TOTP_STEP_SECONDS,
	    OATH_TOTP_DEFAULT_START_TIME, digits, out) == OATH_OK ? 0 : -1;
}

int
totp_check(const unsigned char secret[TOTP_SECRET_BYTES], time_t now,
    int64_t after, const char *code, int64_t *step)
{
	char	 want[TOTP_DIGITS + 1];
	int64_t	 s, base;
	int	 d, match, found;

	if (strlen(code) != TOTP_DIGITS)
		return 0;
	base = totp_step(now);
	found = 0;
	/*
	 * All three candidates, each compared in full: the work is the
	 * same whichever (if any) matches. The latest match wins, so two
	 * steps sharing a code (one chance in a million) never hold a
	 * later code back.
	 */
	for (d = -TOTP_WINDOW; d <= TOTP_WINDOW; d++) {
		s = base + d;
		if (totp_code(secret, TOTP_SECRET_BYTES, s, TOTP_DIGITS,
		    want) == -1) {
			sodium_memzero(want, sizeof(want));
			continue;
		}
		match = sodium_memcmp(want, code, TOTP_DIGITS) == 0;
		if (match && s > after) {
			*step = s;
			found = 1;
		}
	}
	sodium_memzero(want, sizeof(want));
	return found;
}

void
totp_backup_new(char out[TOTP_BACKUP_LEN + 1])
{
	size_t	 i;

	for (i = 0; i < TOTP_BACKUP_LEN; i++) {
		if (i == TOTP_BACKUP_LEN / 2) {
			out[i] = '-';
			continue;
		}
		out[i] = crockford[randombytes_uniform(32)];
	}
	out[TOTP_BACKUP_LEN] = '\0';
}

void
totp_backup_hash(const char *s, size_t n, char hex[65])
{
	crypto_hash_sha256_state	 st;
	unsigned char			 h[crypto_hash_sha256_BYTES];
	unsigned char			 c;
	size_t				 i;

	crypto_hash_sha256_init(&st);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '-' || c == ' ' || c == '\t')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		crypto_hash_sha256_update(&st, &c, 1);
	}
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}
