/*
 * Better-Auth's password hashes: format detection and its scrypt.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "bascrypt.h"

static int
is_hex(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

enum bascrypt_fmt
bascrypt_format(const char *hash)
{
	size_t	 n;

	n = strlen(hash);
	if (n == BASCRYPT_LEN && hash[BASCRYPT_SALT_HEX] == ':' &&
	    is_hex(hash, BASCRYPT_SALT_HEX) &&
	    is_hex(hash + BASCRYPT_SALT_HEX + 1, 2 * BASCRYPT_KEY_BYTES))
		return BASCRYPT_FMT_SCRYPT;
	/*
	 * needs_rehash parses the whole string (-1: it cannot); libsodium
	 * reads at most crypto_pwhash_STRBYTES of it. Its argon2i strings
	 * parse too, hence the prefix test.
	 */
	if (n < crypto_pwhash_STRBYTES &&
	    strncmp(hash, "$argon2id$", 10) == 0 &&
	    crypto_pwhash_str_needs_rehash(hash, AUTH_PWHASH_OPSLIMIT,
	    AUTH_PWHASH_MEMLIMIT) != -1)
		return BASCRYPT_FMT_ARGON2ID;
	return BASCRYPT_FMT_UNKNOWN;
}

int
bascrypt_raw(uint8_t *out, size_t outlen, const char *pw, size_t n,
    const uint8_t *salt, size_t saltlen, uint64_t cost_n, uint32_t r,
    uint32_t p)
{
	static const uint8_t	 empty[1];

	/* libsodium wants pointers even for empty input. */
	if (crypto_pwhash_scryptsalsa208sha256_ll(
	    n > 0 ? (const uint8_t *)pw : empty, n,
	    saltlen > 0 ? salt : empty, saltlen, cost_n, r, p, out, outlen) != 0)
		return -1;
	return 0;
}

int
bascrypt_verify(const char *hash, const char *pw, size_t n)
{
	uint8_t	 want[BASCRYPT_KEY_BYTES], got[BASCRYPT_KEY_BYTES];
	size_t	 len;
	int	 rc;

	if (bascrypt_format(hash) != BASCRYPT_FMT_SCRYPT ||
	    sodium_hex2bin(want, sizeof(want), hash + BASCRYPT_SALT_HEX + 1,
	    2 * BASCRYPT_KEY_BYTES, NULL, &len, NULL) != 0 ||
	    len != sizeof(want))
		return -1;
	rc = -1;
	if (bascrypt_raw(got, sizeof(got), pw, n, (const uint8_t *)hash,
	    BASCRYPT_SALT_HEX, BASCRYPT_N, BASCRYPT_R, BASCRYPT_P) == 0)
		rc = sodium_memcmp(got, want, sizeof(got)) == 0;
	sodium_memzero(got, sizeof(got));
	sodium_memzero(want, sizeof(want));
	return rc;
}

void
bascrypt_spend(const char *pw, size_t n)
{
	static const char	 salt[BASCRYPT_SALT_HEX + 1] =
	    "00000000000000000000000000000000";
	uint8_t			 got[BASCRYPT_KEY_BYTES];

	(void)bascrypt_raw(got, sizeof(got), pw, n, (const uint8_t *)salt,
	    BASCRYPT_SALT_HEX, BASCRYPT_N, BASCRYPT_R, BASCRYPT_P);
	sodium_memzero(got, sizeof(got));
}
