/*
 * Password hashes imported from Better-Auth (API.md, "Moving from
 * Better-Auth"): what format a stored hash is in, and Better-Auth's
 * default scrypt, "<salt>:<key>" in hex, which quire checks at login
 * until the first success replaces it with Argon2id (auth.c, h_auth.c).
 */
#ifndef QUIRE_BASCRYPT_H
#define QUIRE_BASCRYPT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Better-Auth's parameters (@better-auth/utils, password.node.ts): scrypt
 * N=16384, r=16, p=1 over the NFKC form of the password, with the salt's
 * 32 hex characters themselves (not the 16 bytes they spell) as the
 * salt, giving a 64-byte key stored in hex.
 */
#define BASCRYPT_N		16384ULL
#define BASCRYPT_R		16U
#define BASCRYPT_P		1U
#define BASCRYPT_SALT_HEX	32
#define BASCRYPT_KEY_BYTES	64
#define BASCRYPT_LEN		(BASCRYPT_SALT_HEX + 1 + 2 * BASCRYPT_KEY_BYTES)

enum bascrypt_fmt {
	BASCRYPT_FMT_UNKNOWN,	/* anything else: the import refuses it */
	BASCRYPT_FMT_SCRYPT,	/* Better-Auth's default */
	BASCRYPT_FMT_ARGON2ID	/* a libsodium-readable $argon2id$ string */
};

/*
 * The format of a stored hash (NUL-terminated): BASCRYPT_FMT_SCRYPT for
 * exactly 32 hex digits, ':', 128 hex digits; BASCRYPT_FMT_ARGON2ID for
 * a "$argon2id$" string libsodium can parse; else BASCRYPT_FMT_UNKNOWN
 * (bcrypt, argon2i, a short salt, garbage). Never guesses.
 */
enum bascrypt_fmt bascrypt_format(const char *hash);

/*
 * scrypt of pw[0..n) and salt[0..saltlen) with the given parameters into
 * out[0..outlen), through libsodium's crypto_pwhash_scryptsalsa208sha256_ll.
 * Returns 0, or -1 (parameters libsodium refuses, no memory).
 */
int	bascrypt_raw(uint8_t *out, size_t outlen, const char *pw, size_t n,
	    const uint8_t *salt, size_t saltlen, uint64_t cost_n, uint32_t r,
	    uint32_t p);

/*
 * Checks pw[0..n), already in NFKC form, against a Better-Auth scrypt
 * hash: 1 when it matches, 0 when not, -1 when hash is not in that
 * format or scrypt failed. The key is compared in constant time and the
 * derived copy wiped.
 */
int	bascrypt_verify(const char *hash, const char *pw, size_t n);

/*
 * What one bascrypt_verify costs, spent on nothing: a derivation with
 * Better-Auth's parameters and a fixed salt, its result wiped.
 */
void	bascrypt_spend(const char *pw, size_t n);

#endif
