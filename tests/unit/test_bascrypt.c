/*
 * Unit tests of src/bascrypt.c and the scrypt case of auth.c: scrypt
 * itself against RFC 7914's test vectors, Better-Auth's hashes (made by
 * the peer's real Better-Auth, tests/fixtures/better-auth-drizzle.sql,
 * and by python3's hashlib.scrypt, never by quire's code), NFKC, and
 * which formats the import takes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "bascrypt.h"
#include "tap.h"

/* RFC 7914 section 12; the 1 GiB fourth vector is left out. */
static void
test_rfc7914(void)
{
	static const struct {
		int		 line;
		const char	*pw, *salt;
		uint64_t	 n;
		uint32_t	 r, p;
		const char	*hex;
	} rows[] = {
		{ __LINE__, "", "", 16, 1, 1,
		    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede214"
		    "42fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906" },
		{ __LINE__, "password", "NaCl", 1024, 8, 16,
		    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
		    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
		{ __LINE__, "pleaseletmein", "SodiumChloride", 16384, 8, 1,
		    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
		    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887" },
	};
	uint8_t	 out[64];
	char	 hex[129];
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(out, 0, sizeof(out));
		tap_ok(bascrypt_raw(out, sizeof(out), rows[i].pw,
		    strlen(rows[i].pw), (const uint8_t *)rows[i].salt,
		    strlen(rows[i].salt), rows[i].n, rows[i].r, rows[i].p) == 0,
		    rows[i].line, "scrypt runs");
		sodium_bin2hex(hex, sizeof(hex), out, sizeof(out));
		tap_ok(strcmp(hex, rows[i].hex) == 0, rows[i].line,
		    "RFC 7914 vector: %s", hex);
	}
}

/* Grace's hash in the Drizzle fixture: "\ufb01nancial-2024" signed up. */
#define GRACE	"b198f25effadb4982f013b314584d379:e3faf97d1c087f184533900868a5c43f" \
		"9ded887c822b135c6b89b2cb9489a461aa468d2c9e34b97be1a9462827e728cc" \
		"0512e85a5c4df781c15ba14db0f3b177"
/* Yamada's: full-width "password123" signed up. */
#define YAMADA	"83f1a525d9df533c8ff1f46c3f6591c7:0b8c76c0adfefb918fdd0ca3ba2898b8" \
		"ca25a744585ca54b837325f5d782ad5b31902f230cc3eb392b2beafb3dd4e720" \
		"87c7b9c3f4834407bd19d6fd7f0f97bf"
/* hashlib.scrypt(NFKC(pw).encode(), salt=salt.encode(), n=16384, r=16, p=1, dklen=64) */
#define HORSE	"0123456789abcdef0123456789abcdef:e1034727d858e2fca8a705fe56178110" \
		"0520e78064f8d2bfa492937c58df02eb15d40233f809f179c7fb9863b8eb9dc5" \
		"a8d2dc196c0b9733c05fa426f224856e"
#define ANGSTROM "fedcba9876543210fedcba9876543210:d6e13155c5942523ef25004ecec84d9d" \
		"6556ddbc4dacfcffd1e279e13307622d3873156dc7304272607bc45ce60b468d" \
		"6d40b0d593bc2d3b9984120131738939"
/* Argon User's in the Drizzle fixture (Bun.password), "argon-password-1". */
#define BUN_ARGON "$argon2id$v=19$m=65536,t=2,p=1$7/Zjl9mrvde1XgnkerUVEWCbi0UcJ" \
		"hWwKE55U+2RkfM$/sDGPuuDP5hmju3ARhc+CAga4VsBG+SJHZaNj2iTCY8"

static void
test_verify(void)
{
	static const struct {
		int		 line;
		const char	*hash, *pw;
		int		 want;	/* auth_password_verify */
	} rows[] = {
		/* The ligature as signed up, and its NFKC form. */
		{ __LINE__, GRACE, "\xef\xac\x81nancial-2024", AUTH_PW_SCRYPT },
		{ __LINE__, GRACE, "financial-2024", AUTH_PW_SCRYPT },
		{ __LINE__, GRACE, "financial-2025", AUTH_PW_NO },
		{ __LINE__, GRACE, "Financial-2024", AUTH_PW_NO },
		/* Full-width digits and letters are their ASCII forms. */
		{ __LINE__, YAMADA, "password123", AUTH_PW_SCRYPT },
		{ __LINE__, YAMADA, "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93"
		    "\xef\xbd\x97\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84\xef\xbc\x91"
		    "\xef\xbc\x92\xef\xbc\x93", AUTH_PW_SCRYPT },
		{ __LINE__, HORSE, "correct horse battery staple", AUTH_PW_SCRYPT },
		{ __LINE__, HORSE, "correct horse battery staple ", AUTH_PW_NO },
		/* Composed and decomposed: one NFKC form. */
		{ __LINE__, ANGSTROM, "\xc3\x85ngstr\xc3\xb6m-123", AUTH_PW_SCRYPT },
		{ __LINE__, ANGSTROM, "A\xcc\x8angstro\xcc\x88m-123", AUTH_PW_SCRYPT },
		/* Not UTF-8: no password anyone signed up with. */
		{ __LINE__, HORSE, "correct horse \xff", AUTH_PW_NO },
		/* Bun's Argon2id (64 MiB) is libsodium's to check. */
		{ __LINE__, BUN_ARGON, "argon-password-1", AUTH_PW_OK },
		{ __LINE__, BUN_ARGON, "argon-password-2", AUTH_PW_NO },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(auth_password_verify(rows[i].hash, rows[i].pw,
		    strlen(rows[i].pw)) == rows[i].want, rows[i].line,
		    "auth_password_verify");
	ok(bascrypt_verify(HORSE, "correct horse battery staple", 28) == 1,
	    "bascrypt_verify: match");
	ok(bascrypt_verify(HORSE, "correct horse battery stapl", 27) == 0,
	    "bascrypt_verify: no match");
	ok(bascrypt_verify(BUN_ARGON, "argon-password-1", 16) == -1,
	    "bascrypt_verify: not its format");
	/* The key's hex in upper case is the same key. */
	{
		char	 up[BASCRYPT_LEN + 1];
		size_t	 k;

		memcpy(up, HORSE, sizeof(up));
		for (k = BASCRYPT_SALT_HEX + 1; k < BASCRYPT_LEN; k++)
			if (up[k] >= 'a' && up[k] <= 'f')
				up[k] = (char)(up[k] - 'a' + 'A');
		ok(bascrypt_verify(up, "correct horse battery staple", 28) == 1,
		    "upper-case key hex");
		/* The salt is its text: upper case is another salt. */
		memcpy(up, HORSE, sizeof(up));
		up[10] = 'A';
		ok(bascrypt_verify(up, "correct horse battery staple", 28) == 0,
		    "the salt's text is the salt");
	}
	/* The scrypt needs_rehash always: it is not Argon2id. */
	ok(auth_password_needs_rehash(HORSE) == 1, "scrypt needs a rehash");
	ok(auth_password_needs_rehash(BUN_ARGON) == 1,
	    "64 MiB Argon2id needs a rehash at quire's cost");
}

static void
test_format(void)
{
	static const struct {
		int			 line;
		const char		*hash;
		enum bascrypt_fmt	 want;
	} rows[] = {
		{ __LINE__, HORSE, BASCRYPT_FMT_SCRYPT },
		{ __LINE__, GRACE, BASCRYPT_FMT_SCRYPT },
		{ __LINE__, "0123456789ABCDEF0123456789abcdef:e1034727d858e2fca8a705fe56178110"
		    "0520e78064f8d2bfa492937c58df02eb15d40233f809f179c7fb9863b8eb9dc5"
		    "a8d2dc196c0b9733c05fa426f224856E", BASCRYPT_FMT_SCRYPT },
		/* A salt of 30 hex digits, of 34, a short key, a long one. */
		{ __LINE__, HORSE + 2, BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "ab" HORSE, BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "0123456789abcdef0123456789abcdef:e1034727d858e2fca8a705fe56178110"
		    "0520e78064f8d2bfa492937c58df02eb15d40233f809f179c7fb9863b8eb9dc5"
		    "a8d2dc196c0b9733c05fa426f22485", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, HORSE "0", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, HORSE "\n", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "0123456789abcdef0123456789abcdef;e1034727d858e2fca8a705fe56178110"
		    "0520e78064f8d2bfa492937c58df02eb15d40233f809f179c7fb9863b8eb9dc5"
		    "a8d2dc196c0b9733c05fa426f224856e", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "0123456789abcdef0123456789abcdeg:e1034727d858e2fca8a705fe56178110"
		    "0520e78064f8d2bfa492937c58df02eb15d40233f809f179c7fb9863b8eb9dc5"
		    "a8d2dc196c0b9733c05fa426f224856e", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "scrypt:" HORSE, BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, BUN_ARGON, BASCRYPT_FMT_ARGON2ID },
		{ __LINE__, auth_dummy_hash, BASCRYPT_FMT_ARGON2ID },
		{ __LINE__, "$argon2id$v=19$m=65536,t=2,p=1$garbage", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		    BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		    BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, "", BASCRYPT_FMT_UNKNOWN },
		{ __LINE__, ":", BASCRYPT_FMT_UNKNOWN },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(bascrypt_format(rows[i].hash) == rows[i].want,
		    rows[i].line, "format of \"%.20s...\"", rows[i].hash);
}

/* The pad spends without answering, whichever the hash. */
static void
test_pad(void)
{

	auth_password_pad(NULL, "anything at all", 15);
	auth_password_pad(HORSE, "anything at all", 15);
	auth_password_pad(auth_dummy_hash, "anything \xff", 10);
	ok(1, "auth_password_pad returns for NULL, scrypt and Argon2id");
}

int
main(void)
{

	if (sodium_init() < 0) {
		ok(0, "sodium_init");
		return tap_done();
	}
	test_rfc7914();
	test_format();
	test_verify();
	test_pad();
	return tap_done();
}
