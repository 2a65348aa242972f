/*
 * TOTP (RFC 6238 over HOTP, RFC 4226; SHA-1, 6 digits, 30-second steps)
 * through liboath, the secret's seal at rest (libsodium crypto_secretbox
 * under QUIRE_SECRET_KEY), and backup codes. No SQL here: h_2fa.c keeps
 * the rows, including the last accepted step (the replay rule).
 */
#ifndef QUIRE_TOTP_H
#define QUIRE_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TOTP_SECRET_BYTES	20	/* RFC 4226's recommended 160 bits */
#define TOTP_SECRET_B32_LEN	32	/* base32 of 20 bytes: no padding */
#define TOTP_KEY_BYTES		32	/* QUIRE_SECRET_KEY, decoded */
#define TOTP_NONCE_BYTES	24	/* crypto_secretbox_NONCEBYTES */
#define TOTP_MAC_BYTES		16	/* crypto_secretbox_MACBYTES */
/* What the users.totp_secret column holds: nonce, then the box. */
#define TOTP_SEALED_BYTES	(TOTP_NONCE_BYTES + TOTP_MAC_BYTES + TOTP_SECRET_BYTES)
#define TOTP_DIGITS		6
#define TOTP_STEP_SECONDS	30
#define TOTP_WINDOW		1	/* steps accepted either side of now */
#define TOTP_BACKUP_CODES	10
#define TOTP_BACKUP_LEN		11	/* "XXXXX-XXXXX" */

/*
 * Initialises liboath, once per process (later calls do nothing).
 * Returns 0, or -1 when it failed (no code can be checked then).
 */
int	totp_init(void);

/* A fresh random secret. */
void	totp_secret_new(unsigned char secret[TOTP_SECRET_BYTES]);

/*
 * Base32 (RFC 4648, upper case, no padding) of the secret into out,
 * TOTP_SECRET_B32_LEN + 1 bytes. Returns 0, or -1.
 */
int	totp_secret_base32(const unsigned char secret[TOTP_SECRET_BYTES],
	    char out[TOTP_SECRET_B32_LEN + 1]);

/* Seals secret under key with a fresh nonce into sealed. */
void	totp_seal(unsigned char sealed[TOTP_SEALED_BYTES],
	    const unsigned char secret[TOTP_SECRET_BYTES],
	    const unsigned char key[TOTP_KEY_BYTES]);

/*
 * Opens sealed[0..n) under key into secret. Returns 0, or -1 when n is
 * wrong or the box does not open under this key (forged, or another key).
 */
int	totp_open(unsigned char secret[TOTP_SECRET_BYTES],
	    const unsigned char *sealed, size_t n,
	    const unsigned char key[TOTP_KEY_BYTES]);

/* The 30-second step of time t (RFC 6238's T, with T0 = 0). */
int64_t	totp_step(time_t t);

/*
 * The digits-digit code (6 to 8) of step into out (digits + 1 bytes),
 * for any secret length (the RFC's test vectors use 20, 32 and 64
 * bytes). Returns 0, or -1 when liboath refused.
 */
int	totp_code(const unsigned char *secret, size_t n, int64_t step,
	    unsigned digits, char *out);

/*
 * Checks code (TOTP_DIGITS ASCII digits) against the steps of now - 1 ..
 * now + 1 that are later than after (the last accepted step; INT64_MIN
 * when none). Every candidate is generated and compared in constant
 * time, so the time taken says nothing of which matched. Returns 1 and
 * the latest matching step in *step, or 0.
 */
int	totp_check(const unsigned char secret[TOTP_SECRET_BYTES], time_t now,
	    int64_t after, const char *code, int64_t *step);

/* A fresh backup code, "XXXXX-XXXXX" (Crockford base32), into out. */
void	totp_backup_new(char out[TOTP_BACKUP_LEN + 1]);

/*
 * The stored form of a backup code as typed, s[0..n): white space and
 * dashes dropped, upper-cased, Crockford's look-alikes (O, I, L) read as
 * digits, then hex SHA-256 into hex (65 bytes). Any string has a hash;
 * a mistyped one matches nothing.
 */
void	totp_backup_hash(const char *s, size_t n, char hex[65]);

#endif
