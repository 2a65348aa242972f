/*
 * Validation as data: each request body is a table of fields (name,
 * type, bounds, flags) and one walker applies it, building the
 * contract's details[] and rejecting unknown fields.
 */
#ifndef QUIRE_VALID_H
#define QUIRE_VALID_H

#include <stddef.h>

#include <jansson.h>

#include "req.h"

enum ftype {
	FT_TEXT,	/* string, length in code points */
	FT_EMAIL,
	FT_PASSWORD,
	FT_URL,
	FT_ROLE,
	FT_BOOL,
	FT_TOKEN,	/* a mailed one-time token: base64url of 32 bytes */
	FT_INT,		/* a JSON integer within [min, max] */
	FT_OTP,		/* a one-time code: exactly TOTP_DIGITS ASCII digits */
	/*
	 * Any string, checked by the handler alone (a 2FA challenge, a
	 * backup code: a wrong one is 401, never 400). One holding NUL is
	 * kept cut at it, with len the length sent: strlen(s) != len.
	 */
	FT_OPAQUE
};

#define F_REQUIRED	0x01
#define F_NULLABLE	0x02
#define F_TRIM		0x04
#define F_LINES		0x08	/* FT_TEXT: tab, LF and CR allowed */

struct field {
	const char	*name;
	enum ftype	 type;
	size_t		 min, max;	/* code points (bytes for email/url); FT_INT: value */
	unsigned int	 flags;
};

struct fieldval;

struct body_spec {
	const struct field	*fields;
	size_t			 nfields;
	/*
	 * A rule across fields, or NULL: runs after the field walk, adds its
	 * own details and returns 1 when it did.
	 */
	int			(*cross)(struct req *, const struct fieldval *);
};

/*
 * A validated value: strings are trimmed copies in the arena; an email
 * is its canonical form (email.h).
 */
struct fieldval {
	int		 present;
	int		 is_null;
	const char	*s;
	size_t		 len;
	int		 b;
	long long	 n;		/* FT_INT */
};

enum { SIGNUP_NAME, SIGNUP_EMAIL, SIGNUP_PASSWORD, SIGNUP__MAX };
enum { LOGIN_EMAIL, LOGIN_PASSWORD, LOGIN__MAX };
enum { USER_NAME, USER_EMAIL, USER_PASSWORD, USER_ROLE, USER_IMAGE,
	USER_CURRENT_PASSWORD, USER__MAX };
enum { FORGOT_EMAIL, FORGOT__MAX };
enum { RESET_TOKEN, RESET_PASSWORD, RESET__MAX };
enum { VERIFY_TOKEN, VERIFY__MAX };
enum { POST_TITLE, POST_CONTENT, POST_PUBLISHED, POST__MAX };
enum { BAN_REASON, BAN_EXPIRES_IN, BAN__MAX };
enum { TFA_SETUP_PASSWORD, TFA_SETUP__MAX };
enum { TFA_ENABLE_CODE, TFA_ENABLE__MAX };
enum { TFA_DISABLE_PASSWORD, TFA_DISABLE_CODE, TFA_DISABLE_BACKUP, TFA_DISABLE__MAX };
enum { TFA_VERIFY_CHALLENGE, TFA_VERIFY_CODE, TFA_VERIFY_BACKUP, TFA_VERIFY__MAX };

extern const struct body_spec body_signup;
extern const struct body_spec body_login;
extern const struct body_spec body_user_create;	/* no image */
extern const struct body_spec body_user_patch;
extern const struct body_spec body_post_create;
extern const struct body_spec body_post_patch;
extern const struct body_spec body_forgot;
extern const struct body_spec body_reset;
extern const struct body_spec body_verify;
extern const struct body_spec body_ban;
extern const struct body_spec body_2fa_setup;
extern const struct body_spec body_2fa_enable;
extern const struct body_spec body_2fa_disable;
extern const struct body_spec body_2fa_verify;

/*
 * 1 when a PATCH /users/:id body (fields f) changes the caller's own
 * password or email: the change that needs currentPassword
 * (API.md, Re-authentication).
 */
int		 valid_needs_reauth(const struct req *, const struct fieldval *f);

/*
 * Applies spec to the JSON object obj. Fills r->fields (arena, indexed
 * like spec->fields) and returns QERR_OK, or adds details to r and
 * returns QERR_INVAL; QERR_NOMEM when the arena is full.
 */
enum qerr	 valid_body(struct req *, const struct body_spec *, json_t *obj) QUIRE_WUR;

/* Number of code points in valid UTF-8 s[0..n). */
size_t		 valid_utf8_len(const char *, size_t);

/*
 * 1 when s[0..n) holds a C0, DEL or C1 control character; with lines
 * set, tab, line feed and carriage return are not counted.
 */
int		 valid_has_control(const char *, size_t, int lines);

/*
 * The FT_TEXT rule on valid UTF-8 s[0..n), already trimmed when the
 * field is: min to max code points, no control characters (tab, line
 * feed and carriage return allowed with lines). NULL when it passes,
 * else the message for details[], written to msg (msgsz bytes) when it
 * names the bounds. The import applies the same rules (ctl_import.c).
 */
const char	*valid_text(const char *s, size_t n, size_t min, size_t max,
		    int lines, char *msg, size_t msgsz);

/* The FT_URL rule: an http(s) URL of at most max bytes. As valid_text. */
const char	*valid_url(const char *s, size_t n, size_t max, char *msg,
		    size_t msgsz);

#endif
