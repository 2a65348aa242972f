/*
 * Unit tests of the canonical email (src/email.c), of NFKC and the
 * character test under it (src/unicode.c), of passwords normalised
 * before hashing and checking (src/auth.c), and of the validator
 * handing on the canonical form (src/valid.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "email.h"
#include "fixture.h"
#include "tap.h"
#include "table.h"
#include "unicode.h"
#include "utf8.h"
#include "valid.h"

#define KELVIN		"\xe2\x84\xaa"		/* U+212A KELVIN SIGN */
#define I_DOT		"\xc4\xb0"		/* U+0130 CAPITAL I WITH DOT ABOVE */
#define DOT_ABOVE	"\xcc\x87"		/* U+0307 COMBINING DOT ABOVE */
#define ACUTE		"\xcc\x81"		/* U+0301 COMBINING ACUTE */
#define CARON		"\xcc\x8c"		/* U+030C COMBINING CARON */
#define E_ACUTE		"\xc3\xa9"		/* U+00E9 */
#define CAP_E_ACUTE	"\xc3\x89"		/* U+00C9 */
#define FI		"\xef\xac\x81"		/* U+FB01 LATIN SMALL LIGATURE FI */
#define FW_K		"\xef\xbd\x8b"		/* U+FF4B FULLWIDTH k */
#define FW_A		"\xef\xbd\x81"		/* U+FF41 FULLWIDTH a */
#define FW_T		"\xef\xbd\x94"		/* U+FF54 FULLWIDTH t */
#define FW_E		"\xef\xbd\x85"		/* U+FF45 FULLWIDTH e */
#define FW_CAP_A	"\xef\xbc\xa1"		/* U+FF21 FULLWIDTH A */
#define FW_CAP_B	"\xef\xbc\xa2"		/* U+FF22 FULLWIDTH B */
#define FW_AT		"\xef\xbc\xa0"		/* U+FF20 FULLWIDTH @ */
#define FW_DOT		"\xef\xbc\x8e"		/* U+FF0E FULLWIDTH . */
#define MATH_B		"\xf0\x9d\x90\x9b"	/* U+1D41B MATHEMATICAL BOLD b */
#define OHM		"\xe2\x84\xa6"		/* U+2126 OHM SIGN */
#define ANGSTROM	"\xe2\x84\xab"		/* U+212B ANGSTROM SIGN */
#define CAP_SHARP_S	"\xe1\xba\x9e"		/* U+1E9E CAPITAL SHARP S */
#define NBSP		"\xc2\xa0"		/* U+00A0, NFKC: a space */
#define IDEO_SPACE	"\xe3\x80\x80"		/* U+3000, NFKC: a space */
#define NEL		"\xc2\x85"		/* U+0085, a C1 control */
#define LSEP		"\xe2\x80\xa8"		/* U+2028 LINE SEPARATOR */
#define OGHAM_SPACE	"\xe1\x9a\x80"		/* U+1680, white space NFKC keeps */
#define FDFA		"\xef\xb7\xba"		/* U+FDFA, 18 code points in NFKC */

static const char bad[] = "must be a valid email address";
static const char too_long[] = "must be at most 254 bytes";
static const char not_utf8[] = "must be valid UTF-8";

/* pre + unit * rep + post into dst; returns its length. */
static size_t
build(char *dst, size_t dsz, const char *pre, const char *unit, int rep,
    const char *post)
{
	size_t	 n, k;
	int	 i;

	n = 0;
	k = strlen(pre);
	if (n + k < dsz) {
		memcpy(dst + n, pre, k);
		n += k;
	}
	for (i = 0; i < rep; i++) {
		k = strlen(unit);
		if (n + k < dsz) {
			memcpy(dst + n, unit, k);
			n += k;
		}
	}
	k = strlen(post);
	if (n + k < dsz) {
		memcpy(dst + n, post, k);
		n += k;
	}
	dst[n] = '\0';
	return n;
}

static void
test_canon(void)
{
	static const struct {
		int		 line;
		const char	*pre, *unit;
		int		 rep;
		const char	*post;
		enum qerr	 want;
		const char	*out;		/* the form, or the message */
	} rows[] = {
		/* One account whatever the case, width or compatibility form. */
		{ __LINE__, "kate@x.io", "", 0, "", QERR_OK, "kate@x.io" },
		{ __LINE__, "Kate@X.IO", "", 0, "", QERR_OK, "kate@x.io" },
		{ __LINE__, KELVIN "ate@x.io", "", 0, "", QERR_OK, "kate@x.io" },
		{ __LINE__, FW_K FW_A FW_T FW_E "@x.io", "", 0, "", QERR_OK,
		    "kate@x.io" },
		{ __LINE__, "kate" FW_AT "x" FW_DOT "io", "", 0, "", QERR_OK,
		    "kate@x.io" },
		{ __LINE__, " \t Kate@x.io \r\n", "", 0, "", QERR_OK,
		    "kate@x.io" },
		/* Composed and decomposed accents are one form: NFC's. */
		{ __LINE__, "caf" E_ACUTE "@x.io", "", 0, "", QERR_OK,
		    "caf" E_ACUTE "@x.io" },
		{ __LINE__, "cafe" ACUTE "@x.io", "", 0, "", QERR_OK,
		    "caf" E_ACUTE "@x.io" },
		{ __LINE__, "CAF" CAP_E_ACUTE "@x.io", "", 0, "", QERR_OK,
		    "caf" E_ACUTE "@x.io" },
		{ __LINE__, "CAFE" ACUTE "@x.io", "", 0, "", QERR_OK,
		    "caf" E_ACUTE "@x.io" },
		{ __LINE__, FI "le@x.io", "", 0, "", QERR_OK, "file@x.io" },
		/*
		 * U+0130 lower-cases fully to i + U+0307, which NFC leaves as
		 * it is: m\u0130ke is NOT mike (PostgreSQL's lower() under a
		 * UTF-8 locale made them one). A distinct, stable account.
		 */
		{ __LINE__, "m" I_DOT "ke@x.io", "", 0, "", QERR_OK,
		    "mi" DOT_ABOVE "ke@x.io" },
		{ __LINE__, "mi" DOT_ABOVE "ke@x.io", "", 0, "", QERR_OK,
		    "mi" DOT_ABOVE "ke@x.io" },
		/* Final sigma where the word ends, as full lower-casing has it. */
		{ __LINE__, "\xce\x9f\xce\x94\xce\x9f\xce\xa3@x.io", "", 0, "",
		    QERR_OK, "\xce\xbf\xce\xb4\xce\xbf\xcf\x82@x.io" },
		{ __LINE__, "\xce\xbf\xce\xb4\xce\xbf\xcf\x83@x.io", "", 0, "",
		    QERR_OK, "\xce\xbf\xce\xb4\xce\xbf\xcf\x83@x.io" },
		{ __LINE__, "STRASSE" CAP_SHARP_S "@x.io", "", 0, "", QERR_OK,
		    "strasse\xc3\x9f@x.io" },
		{ __LINE__, OHM ANGSTROM "@x.io", "", 0, "", QERR_OK,
		    "\xcf\x89\xc3\xa5@x.io" },
		/* NFC after lower-casing: j + caron composes, J + caron did not. */
		{ __LINE__, "J" CARON "@x.io", "", 0, "", QERR_OK,
		    "\xc7\xb0@x.io" },
		/* Spaces NFKC makes, and white space or controls it keeps. */
		{ __LINE__, IDEO_SPACE "kate@x.io", "", 0, "", QERR_INVAL, bad },
		{ __LINE__, "ka" NBSP "te@x.io", "", 0, "", QERR_INVAL, bad },
		{ __LINE__, "ka" NEL "te@x.io", "", 0, "", QERR_INVAL, bad },
		{ __LINE__, "ka" LSEP "te@x.io", "", 0, "", QERR_INVAL, bad },
		{ __LINE__, "ka" OGHAM_SPACE "te@x.io", "", 0, "", QERR_INVAL,
		    bad },
		{ __LINE__, "", "", 0, "", QERR_INVAL, bad },
		{ __LINE__, " \t ", "", 0, "", QERR_INVAL, bad },
		{ __LINE__, FW_K "@x", "", 0, "", QERR_INVAL, bad },
		/* Invalid UTF-8: a stray, a cut, an overlong, a surrogate. */
		{ __LINE__, "\xff" "ate@x.io", "", 0, "", QERR_INVAL, not_utf8 },
		{ __LINE__, "kate@x.io\xc3", "", 0, "", QERR_INVAL, not_utf8 },
		{ __LINE__, "\xc0\xaf" "ate@x.io", "", 0, "", QERR_INVAL,
		    not_utf8 },
		{ __LINE__, "\xed\xa0\x80" "ate@x.io", "", 0, "", QERR_INVAL,
		    not_utf8 },
		/* The rules hold for the canonical form, not the input. */
		{ __LINE__, "", "a", 64, "@x.io", QERR_OK, NULL },
		{ __LINE__, "", "a", 65, "@x.io", QERR_INVAL, bad },
		{ __LINE__, "", FW_CAP_A, 64, "@x.io", QERR_OK, NULL },
		{ __LINE__, "", FW_CAP_A, 65, "@x.io", QERR_INVAL, bad },
		/* 21 x U+0130: 42 bytes sent, 63 canonical; 22: 66 > 64. */
		{ __LINE__, "", I_DOT, 21, "@x.io", QERR_OK, NULL },
		{ __LINE__, "", I_DOT, 22, "@x.io", QERR_INVAL, bad },
		/* 2 + 249 + 3 = 254 bytes, then 255. */
		{ __LINE__, "a@", "b", 249, ".io", QERR_OK, NULL },
		{ __LINE__, "a@", "b", 250, ".io", QERR_INVAL, too_long },
		{ __LINE__, "a@", FW_CAP_B, 249, ".io", QERR_OK, NULL },
		{ __LINE__, "a@", FW_CAP_B, 250, ".io", QERR_INVAL, too_long },
		/* 1001 bytes sent, 254 canonical. */
		{ __LINE__, "a@", MATH_B, 249, ".io", QERR_OK, NULL },
		/* 173 bytes sent, 257 canonical. */
		{ __LINE__, "a@", I_DOT, 84, ".io", QERR_INVAL, too_long },
		/* Over EMAIL_INPUT_MAX: refused before any normalising. */
		{ __LINE__, "a@", "b", EMAIL_INPUT_MAX, ".io", QERR_INVAL,
		    too_long },
		/* U+FDFA grows 11 times, to 18 code points with 3 spaces. */
		{ __LINE__, "a@", FDFA, 1, ".io", QERR_INVAL, bad },
		{ __LINE__, "a@", FDFA, 10, ".io", QERR_INVAL, too_long },
	};
	char		 in[EMAIL_INPUT_MAX + 64], out[EMAIL_MAX + 1];
	char		 again[EMAIL_MAX + 1];
	const char	*why, *why2;
	size_t		 i, n, len, len2;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = build(in, sizeof(in), rows[i].pre, rows[i].unit,
		    rows[i].rep, rows[i].post);
		memset(out, 'X', sizeof(out));
		len = 0;
		e = email_canon(in, n, out, &len, &why);
		tap_ok(e == rows[i].want, rows[i].line, "email_canon = %d "
		    "want %d (%s)", (int)e, (int)rows[i].want,
		    why != NULL ? why : "valid");
		if (e != rows[i].want)
			continue;
		if (e != QERR_OK) {
			tap_ok(why != NULL && strcmp(why, rows[i].out) == 0,
			    rows[i].line, "message \"%s\" want \"%s\"",
			    why != NULL ? why : "(null)", rows[i].out);
			continue;
		}
		tap_ok(why == NULL && len == strlen(out) && len <= EMAIL_MAX,
		    rows[i].line, "NUL-terminated, %zu bytes", len);
		if (rows[i].out != NULL)
			tap_ok(strcmp(out, rows[i].out) == 0, rows[i].line,
			    "\"%s\" want \"%s\"", out, rows[i].out);
		/* A canonical form is its own canonical form. */
		e = email_canon(out, len, again, &len2, &why2);
		tap_ok(e == QERR_OK && len2 == len && strcmp(again, out) == 0,
		    rows[i].line, "stable: \"%s\"", again);
	}
	n = build(in, sizeof(in), "mike@x.io", "", 0, "");
	ok(email_canon(in, n, out, &len, &why) == QERR_OK, "mike");
	n = build(in, sizeof(in), "m" I_DOT "ke@x.io", "", 0, "");
	ok(email_canon(in, n, again, &len2, &why) == QERR_OK &&
	    strcmp(out, again) != 0, "m\\u0130ke@x.io is not mike@x.io");
}

/*
 * Every code point c in "x" c "@x.io": when the form is valid, it is its
 * own canonical form. One line for the lot, naming the first failures.
 */
static void
test_stable_all(void)
{
	char		 in[16], out[EMAIL_MAX + 1], again[EMAIL_MAX + 1];
	const char	*why;
	size_t		 len, len2;
	unsigned long	 c, valid, unstable;
	int		 k;

	valid = unstable = 0;
	for (c = 0; c < 0x110000; c++) {
		if (c >= 0xd800 && c < 0xe000)
			continue;
		in[0] = 'x';
		if (c < 0x80) {
			in[1] = (char)c;
			k = 1;
		} else if (c < 0x800) {
			in[1] = (char)(0xc0 | (c >> 6));
			in[2] = (char)(0x80 | (c & 0x3f));
			k = 2;
		} else if (c < 0x10000) {
			in[1] = (char)(0xe0 | (c >> 12));
			in[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			in[3] = (char)(0x80 | (c & 0x3f));
			k = 3;
		} else {
			in[1] = (char)(0xf0 | (c >> 18));
			in[2] = (char)(0x80 | ((c >> 12) & 0x3f));
			in[3] = (char)(0x80 | ((c >> 6) & 0x3f));
			in[4] = (char)(0x80 | (c & 0x3f));
			k = 4;
		}
		memcpy(in + 1 + k, "@x.io", 5);
		if (email_canon(in, (size_t)k + 6, out, &len, &why) != QERR_OK)
			continue;
		valid++;
		if (email_canon(out, len, again, &len2, &why) != QERR_OK ||
		    strcmp(out, again) != 0) {
			if (unstable++ < 5)
				ok(0, "U+%04lX: \"%s\" then \"%s\"", c, out,
				    again);
		}
	}
	ok(unstable == 0 && valid > 1000000, "%lu code points give a valid "
	    "form, %lu of them unstable", valid, unstable);
}

static void
test_nfkc(void)
{
	char		 buf[8], *p;
	size_t		 len;

	/* Too big for buf: the result is malloc'd. */
	p = uni_nfkc(FDFA, 3, buf, sizeof(buf), &len);
	ok(p != NULL && p != buf && len == 33, "U+FDFA: %zu bytes, heap", len);
	if (p != NULL && p != buf)
		free(p);
	p = uni_nfkc(FI, 3, buf, sizeof(buf), &len);
	ok(p == buf && len == 2 && memcmp(p, "fi", 2) == 0, "ligature in buf");
	p = uni_nfkc("", 0, buf, sizeof(buf), &len);
	ok(p == buf && len == 0, "empty");
	ok(uni_nfkc("\xff", 1, buf, sizeof(buf), &len) == NULL,
	    "invalid UTF-8 refused");
	ok(utf8_valid("caf" E_ACUTE, 5) && !utf8_valid("\xed\xa0\x80", 3) &&
	    !utf8_valid("\xc3", 1), "uni_valid");
	ok(uni_has_space_or_control("a" LSEP, 4) &&
	    uni_has_space_or_control("\x7f", 1) &&
	    !uni_has_space_or_control("caf" E_ACUTE "@x.io", 10),
	    "uni_has_space_or_control");
}

static void
test_passwords(void)
{
	/* Each set: hashed as the first, then checked as each other. */
	static const struct {
		int		 line;
		const char	*hashed, *tried;
		int		 want;
	} rows[] = {
		{ __LINE__, "pass" FI "word", "passfiword", AUTH_PW_OK },
		{ __LINE__, "pass" FI "word", "pass" FI "word", AUTH_PW_OK },
		{ __LINE__, "pass" FI "word", "passFIword", AUTH_PW_NO },
		{ __LINE__, "passfiword", "pass" FI "word", AUTH_PW_OK },
		{ __LINE__, "caf" E_ACUTE "-secret", "cafe" ACUTE "-secret",
		    AUTH_PW_OK },
		{ __LINE__, "cafe" ACUTE "-secret", "caf" E_ACUTE "-secret",
		    AUTH_PW_OK },
		{ __LINE__, "cafe" ACUTE "-secret", "cafe-secret", AUTH_PW_NO },
		/* Width folds; case does not. */
		{ __LINE__, FW_K FW_A FW_T FW_E "1234", "kate1234", AUTH_PW_OK },
		{ __LINE__, FW_K FW_A FW_T FW_E "1234", "KATE1234", AUTH_PW_NO },
		{ __LINE__, FW_K FW_A FW_T FW_E "1234", "\xff" "ate1234",
		    AUTH_PW_NO },
	};
	char		 h[crypto_pwhash_STRBYTES], legacy[crypto_pwhash_STRBYTES];
	const char	*last;
	size_t		 i;
	int		 got;

	last = NULL;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (last == NULL || strcmp(last, rows[i].hashed) != 0) {
			tap_ok(auth_password_hash(h, rows[i].hashed,
			    strlen(rows[i].hashed)) == 0, rows[i].line, "hash");
			last = rows[i].hashed;
		}
		got = auth_password_verify(h, rows[i].tried,
		    strlen(rows[i].tried));
		tap_ok(got == rows[i].want, rows[i].line, "verify = %d want %d",
		    got, rows[i].want);
	}
	ok(auth_password_hash(h, "\xff\xfe-not-utf8", 11) == -1,
	    "invalid UTF-8 is not hashed");

	/* A hash from before NFKC: the password exactly as it was sent. */
	ok(crypto_pwhash_str(legacy, "pass" FI "word", 10,
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0,
	    "legacy hash made");
	ok(auth_password_verify(legacy, "pass" FI "word", 10) ==
	    AUTH_PW_LEGACY, "legacy hash: the same bytes verify, to rehash");
	ok(auth_password_verify(legacy, "passfiword", 10) == AUTH_PW_NO,
	    "legacy hash: the NFKC form does not");
	ok(crypto_pwhash_str(legacy, "passfiword", 10,
	    crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0 &&
	    auth_password_verify(legacy, "passfiword", 10) == AUTH_PW_OK,
	    "an NFKC-invariant password is never legacy");
	ok(auth_password_verify(NULL, "pass" FI "word", 10) == AUTH_PW_NO,
	    "no user: no");
}

/* The validator hands on the canonical email and the password as sent. */
static void
test_valid_body(struct req *r)
{
	static const struct {
		int		 line;
		const char	*email, *password;
		enum qerr	 want;
		const char	*email_out;	/* or the detail's message */
	} rows[] = {
		{ __LINE__, KELVIN "ate@X.io", "12345678", QERR_OK, "kate@x.io" },
		{ __LINE__, "  " FW_K FW_A FW_T FW_E "@x.io ", "12345678",
		    QERR_OK, "kate@x.io" },
		{ __LINE__, "cafe" ACUTE "@x.io", "12345678", QERR_OK,
		    "caf" E_ACUTE "@x.io" },
		{ __LINE__, FW_K "@x", "12345678", QERR_INVAL, bad },
		{ __LINE__, "a@" FDFA ".io", "12345678", QERR_INVAL, bad },
		/* 8 code points as sent (16 after NFKC) */
		{ __LINE__, "a@b.co", FI FI FI FI FI FI FI FI, QERR_OK, "a@b.co" },
		/* 4 as sent, though 8 after NFKC: too short */
		{ __LINE__, "a@b.co", FI FI FI FI, QERR_INVAL,
		    "must be 8 to 128 characters" },
	};
	json_t		*obj;
	const char	*m, *f;
	char		 doc[1024];
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		obj = json_pack("{s:s, s:s}", "email", rows[i].email,
		    "password", rows[i].password);
		e = valid_body(r, &body_login, obj);
		tap_ok(e == rows[i].want, rows[i].line, "valid_body = %d "
		    "want %d", (int)e, (int)rows[i].want);
		if (e == QERR_OK && rows[i].want == QERR_OK) {
			tap_ok(strcmp(r->fields[LOGIN_EMAIL].s,
			    rows[i].email_out) == 0 && r->fields[LOGIN_EMAIL].len
			    == strlen(rows[i].email_out), rows[i].line,
			    "email \"%s\" want \"%s\"", r->fields[LOGIN_EMAIL].s,
			    rows[i].email_out);
			tap_ok(strcmp(r->fields[LOGIN_PASSWORD].s,
			    rows[i].password) == 0, rows[i].line,
			    "password as sent");
		} else if (e == QERR_INVAL) {
			/* details: [{"field": ..., "message": ...}] */
			snprintf(doc, sizeof(doc), "[%s]", r->out.details.p != NULL ?
			    r->out.details.p : "");
			json_decref(obj);
			obj = json_loads(doc, 0, NULL);
			f = json_string_value(json_object_get(
			    json_array_get(obj, 0), "field"));
			m = json_string_value(json_object_get(
			    json_array_get(obj, 0), "message"));
			tap_ok(json_array_size(obj) == 1 && m != NULL &&
			    strcmp(m, rows[i].email_out) == 0, rows[i].line,
			    "detail %s: %s", f != NULL ? f : "?",
			    m != NULL ? m : "?");
		}
		json_decref(obj);
		req_end(r);
	}
}

int
main(void)
{
	struct fixture	 f;

	if (sodium_init() < 0) {
		ok(0, "sodium_init");
		return tap_done();
	}
	test_canon();
	test_stable_all();
	test_nfkc();
	test_passwords();
	if (fixture_init(&f) == -1)
		return tap_done();
	test_valid_body(&f.r);
	fixture_free(&f);
	return tap_done();
}
