/*
 * Unit tests of src/totp.c: RFC 6238 Appendix B's SHA-1 test vectors
 * (through liboath), the window and the replay rule of totp_check, the
 * seal of a secret at rest, base32, and backup codes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "tap.h"
#include "totp.h"

/* RFC 6238 Appendix B: the SHA-1 rows, 8 digits, T0 = 0, X = 30. */
static void
test_rfc6238(void)
{
	static const unsigned char seed[] = "12345678901234567890";
	static const struct {
		int		 line;
		long long	 t;
		const char	*totp;
	} rows[] = {
		{ __LINE__, 59LL, "94287082" },
		{ __LINE__, 1111111109LL, "07081804" },
		{ __LINE__, 1111111111LL, "14050471" },
		{ __LINE__, 1234567890LL, "89005924" },
		{ __LINE__, 2000000000LL, "69279037" },
		{ __LINE__, 20000000000LL, "65353130" },
	};
	char	 got[9], six[7];
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(got, 0, sizeof(got));
		tap_ok(totp_code(seed, 20, totp_step((time_t)rows[i].t), 8,
		    got) == 0 && strcmp(got, rows[i].totp) == 0, rows[i].line,
		    "RFC 6238 T=%lld: %s (want %s)", rows[i].t, got,
		    rows[i].totp);
		/* Six digits are the same number modulo 10^6. */
		memset(six, 0, sizeof(six));
		tap_ok(totp_code(seed, 20, totp_step((time_t)rows[i].t), 6,
		    six) == 0 && strcmp(six, rows[i].totp + 2) == 0,
		    rows[i].line, "6 digits at T=%lld: %s", rows[i].t, six);
	}
	ok(totp_code(seed, 20, 1, 5, got) == -1, "5 digits refused");
	ok(totp_code(seed, 20, -1, 6, got) == -1, "a negative step refused");
	is_int(totp_step(59), 1, "59 s is step 1");
	is_int(totp_step(60), 2, "60 s is step 2");
	is_int(totp_step(0), 0, "the epoch is step 0");
}

/* The window is the step of now and one either side, after the last accepted step. */
static void
test_check(void)
{
	unsigned char	 secret[TOTP_SECRET_BYTES];
	char		 code[7];
	time_t		 now = 1700000015;	/* inside its step */
	int64_t		 base, step;
	int		 d;

	memcpy(secret, "12345678901234567890", TOTP_SECRET_BYTES);
	base = totp_step(now);
	for (d = -3; d <= 3; d++) {
		if (totp_code(secret, TOTP_SECRET_BYTES, base + d, 6, code) == -1) {
			ok(0, "code of step %+d", d);
			continue;
		}
		step = -1;
		if (d >= -1 && d <= 1)
			ok(totp_check(secret, now, INT64_MIN, code, &step) == 1 &&
			    step == base + d, "step %+d accepted as step %lld",
			    d, (long long)step);
		else
			ok(totp_check(secret, now, INT64_MIN, code, &step) == 0,
			    "step %+d refused", d);
	}
	totp_code(secret, TOTP_SECRET_BYTES, base, 6, code);
	ok(totp_check(secret, now, base, code, &step) == 0,
	    "a code of the last accepted step is refused (replay)");
	ok(totp_check(secret, now, base + 1, code, &step) == 0,
	    "a code older than the last accepted step is refused");
	ok(totp_check(secret, now, base - 1, code, &step) == 1 && step == base,
	    "a code later than the last accepted step passes");
	ok(totp_check(secret, now, INT64_MIN, "12345", &step) == 0,
	    "5 digits never match");
	ok(totp_check(secret, now, INT64_MIN, "1234567", &step) == 0,
	    "7 digits never match");
	code[5] = code[5] == '9' ? '0' : (char)(code[5] + 1);
	ok(totp_check(secret, now, INT64_MIN, code, &step) == 0 ||
	    step != base, "a changed digit does not pass as this step");
}

static void
test_seal(void)
{
	unsigned char	 key[TOTP_KEY_BYTES], other[TOTP_KEY_BYTES];
	unsigned char	 secret[TOTP_SECRET_BYTES], back[TOTP_SECRET_BYTES];
	unsigned char	 sealed[TOTP_SEALED_BYTES], again[TOTP_SEALED_BYTES];

	randombytes_buf(key, sizeof(key));
	randombytes_buf(other, sizeof(other));
	totp_secret_new(secret);
	totp_seal(sealed, secret, key);
	ok(memmem(sealed, sizeof(sealed), secret, sizeof(secret)) == NULL,
	    "the sealed form does not hold the secret");
	ok(totp_open(back, sealed, sizeof(sealed), key) == 0 &&
	    memcmp(back, secret, sizeof(secret)) == 0, "opens with its key");
	ok(totp_open(back, sealed, sizeof(sealed), other) == -1,
	    "another key does not open it");
	ok(totp_open(back, sealed, sizeof(sealed) - 1, key) == -1,
	    "a short one does not open");
	totp_seal(again, secret, key);
	ok(memcmp(again, sealed, sizeof(sealed)) != 0,
	    "a fresh nonce every time");
	sealed[TOTP_SEALED_BYTES - 1] ^= 1;
	ok(totp_open(back, sealed, sizeof(sealed), key) == -1,
	    "a changed byte does not open");
}

static void
test_base32(void)
{
	static const unsigned char seed[] = "12345678901234567890";
	char	 b32[TOTP_SECRET_B32_LEN + 1];

	ok(totp_secret_base32(seed, b32) == 0, "base32");
	/* RFC 6238's seed as authenticator apps take it. */
	is_str(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "base32 of the RFC seed");
}

static void
test_backup(void)
{
	char	 c1[TOTP_BACKUP_LEN + 1], c2[TOTP_BACKUP_LEN + 1];
	char	 h1[65], h2[65], typed[32];
	size_t	 i;

	totp_backup_new(c1);
	totp_backup_new(c2);
	is_int(strlen(c1), TOTP_BACKUP_LEN, "a backup code's length");
	ok(c1[5] == '-', "XXXXX-XXXXX");
	for (i = 0; i < TOTP_BACKUP_LEN; i++)
		if (i != 5 && strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", c1[i]) == NULL)
			break;
	ok(i == TOTP_BACKUP_LEN, "Crockford base32: %s", c1);
	ok(strcmp(c1, c2) != 0, "two codes differ");
	totp_backup_hash(c1, strlen(c1), h1);
	is_int(strlen(h1), 64, "hex SHA-256");
	/* As a user might type it: lower case, no dash, spaces. */
	for (i = 0; c1[i] != '\0'; i++)
		typed[i] = c1[i] == '-' ? ' ' : (char)(c1[i] >= 'A' &&
		    c1[i] <= 'Z' ? c1[i] - 'A' + 'a' : c1[i]);
	typed[i] = '\0';
	totp_backup_hash(typed, strlen(typed), h2);
	is_str(h2, h1, "case, spaces and dashes do not matter");
	totp_backup_hash("O0IL1-ABCDE", 11, h1);
	totp_backup_hash("00111ABCDE", 10, h2);
	is_str(h1, h2, "O, I and L read as 0 and 1");
	totp_backup_hash(c2, strlen(c2), h2);
	totp_backup_hash(c1, strlen(c1), h1);
	ok(strcmp(h1, h2) != 0, "two codes, two hashes");
}

int
main(void)
{

	if (sodium_init() < 0 || totp_init() == -1) {
		printf("Bail out! set-up failed\n");
		return 1;
	}
	test_rfc6238();
	test_check();
	test_seal();
	test_base32();
	test_backup();
	return tap_done();
}
