/*
 * The field-table walker and the field rules of the contract.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "auth.h"
#include "email.h"
#include "fmt.h"
#include "resp.h"
#include "totp.h"
#include "valid.h"

static const struct field signup_fields[SIGNUP__MAX] = {
	[SIGNUP_NAME] = { "name", FT_TEXT, 1, 100, F_REQUIRED | F_TRIM },
	[SIGNUP_EMAIL] = { "email", FT_EMAIL, 1, 254, F_REQUIRED | F_TRIM },
	[SIGNUP_PASSWORD] = { "password", FT_PASSWORD, 8, 128, F_REQUIRED },
};
const struct body_spec body_signup = { signup_fields, SIGNUP__MAX, NULL };

/* The contract's password rule holds for login too. */
static const struct field login_fields[LOGIN__MAX] = {
	[LOGIN_EMAIL] = { "email", FT_EMAIL, 1, 254, F_REQUIRED | F_TRIM },
	[LOGIN_PASSWORD] = { "password", FT_PASSWORD, 8, 128, F_REQUIRED },
};
const struct body_spec body_login = { login_fields, LOGIN__MAX, NULL };

/* One table for both user bodies: create requires, patch does not. */
#define USER_FIELDS(req) \
	[USER_NAME] = { "name", FT_TEXT, 1, 100, (req) | F_TRIM }, \
	[USER_EMAIL] = { "email", FT_EMAIL, 1, 254, (req) | F_TRIM }, \
	[USER_PASSWORD] = { "password", FT_PASSWORD, 8, 128, (req) }, \
	[USER_ROLE] = { "role", FT_ROLE, 0, 0, 0 }

static const struct field user_create_fields[USER_IMAGE] = {
	USER_FIELDS(F_REQUIRED)
};
const struct body_spec body_user_create = { user_create_fields, USER_IMAGE, NULL };

int
valid_needs_reauth(const struct req *r, const struct fieldval *f)
{

	/* r->id is compared as sent: a non-canonical id is never one's own. */
	return (f[USER_PASSWORD].present || f[USER_EMAIL].present) &&
	    r->sess != NULL && r->id != NULL &&
	    strcmp(r->id, r->sess->user.id) == 0;
}

/* Missing currentPassword is named with the other field errors. */
static int
patch_reauth(struct req *r, const struct fieldval *f)
{

	if (!valid_needs_reauth(r, f) || f[USER_CURRENT_PASSWORD].present)
		return 0;
	resp_detail(r, "currentPassword",
	    "is required to change your own password or email");
	return 1;
}

/*
 * currentPassword is checked against the stored hash, so any length a
 * stored password may have had is let through to that check.
 */
static const struct field user_patch_fields[USER__MAX] = {
	USER_FIELDS(0),
	[USER_IMAGE] = { "image", FT_URL, 0, 2048, F_NULLABLE },
	[USER_CURRENT_PASSWORD] = { "currentPassword", FT_PASSWORD, 1, 1024, 0 },
};
const struct body_spec body_user_patch = { user_patch_fields, USER__MAX, patch_reauth };

static const struct field forgot_fields[FORGOT__MAX] = {
	[FORGOT_EMAIL] = { "email", FT_EMAIL, 1, 254, F_REQUIRED | F_TRIM },
};
const struct body_spec body_forgot = { forgot_fields, FORGOT__MAX, NULL };

static const struct field reset_fields[RESET__MAX] = {
	[RESET_TOKEN] = { "token", FT_TOKEN, 0, 0, F_REQUIRED },
	[RESET_PASSWORD] = { "password", FT_PASSWORD, 8, 128, F_REQUIRED },
};
const struct body_spec body_reset = { reset_fields, RESET__MAX, NULL };

static const struct field verify_fields[VERIFY__MAX] = {
	[VERIFY_TOKEN] = { "token", FT_TOKEN, 0, 0, F_REQUIRED },
};
const struct body_spec body_verify = { verify_fields, VERIFY__MAX, NULL };

/*
 * POST /users/:id/ban: both optional, null is absent. The reason is
 * shown to admins only; it may run over lines.
 */
static const struct field ban_fields[BAN__MAX] = {
	[BAN_REASON] = { "reason", FT_TEXT, 1, 500, F_NULLABLE | F_LINES },
	[BAN_EXPIRES_IN] = { "expiresInSeconds", FT_INT, 1, 315360000, F_NULLABLE },
};
const struct body_spec body_ban = { ban_fields, BAN__MAX, NULL };

/*
 * Two-factor authentication (API.md): code is 6 ASCII digits and
 * backupCode any string; disable and verify take exactly one of them.
 * currentPassword as in PATCH /users/:id: checked against the hash.
 */
static const struct field tfa_setup_fields[TFA_SETUP__MAX] = {
	[TFA_SETUP_PASSWORD] = { "currentPassword", FT_PASSWORD, 1, 1024, F_REQUIRED },
};
const struct body_spec body_2fa_setup = { tfa_setup_fields, TFA_SETUP__MAX, NULL };

static const struct field tfa_enable_fields[TFA_ENABLE__MAX] = {
	[TFA_ENABLE_CODE] = { "code", FT_OTP, 0, 0, F_REQUIRED },
};
const struct body_spec body_2fa_enable = { tfa_enable_fields, TFA_ENABLE__MAX, NULL };

/* One of code and backupCode, at field indexes code and code + 1. */
static int
one_code(struct req *r, const struct fieldval *f, size_t code)
{

	if (f[code].present && f[code + 1].present) {
		resp_detail(r, "backupCode", "must not be sent with code");
		return 1;
	}
	if (!f[code].present && !f[code + 1].present) {
		resp_detail(r, "code", "is required (or backupCode)");
		return 1;
	}
	return 0;
}

static int
disable_code(struct req *r, const struct fieldval *f)
{

	return one_code(r, f, TFA_DISABLE_CODE);
}

static const struct field tfa_disable_fields[TFA_DISABLE__MAX] = {
	[TFA_DISABLE_PASSWORD] = { "currentPassword", FT_PASSWORD, 1, 1024, F_REQUIRED },
	[TFA_DISABLE_CODE] = { "code", FT_OTP, 0, 0, 0 },
	[TFA_DISABLE_BACKUP] = { "backupCode", FT_OPAQUE, 0, 0, 0 },
};
const struct body_spec body_2fa_disable = { tfa_disable_fields, TFA_DISABLE__MAX, disable_code };

static int
verify_code(struct req *r, const struct fieldval *f)
{

	return one_code(r, f, TFA_VERIFY_CODE);
}

static const struct field tfa_verify_fields[TFA_VERIFY__MAX] = {
	[TFA_VERIFY_CHALLENGE] = { "challenge", FT_OPAQUE, 0, 0, F_REQUIRED },
	[TFA_VERIFY_CODE] = { "code", FT_OTP, 0, 0, 0 },
	[TFA_VERIFY_BACKUP] = { "backupCode", FT_OPAQUE, 0, 0, 0 },
};
const struct body_spec body_2fa_verify = { tfa_verify_fields, TFA_VERIFY__MAX, verify_code };

#define POST_FIELDS(req) \
	[POST_TITLE] = { "title", FT_TEXT, 1, 200, (req) | F_TRIM }, \
	[POST_CONTENT] = { "content", FT_TEXT, 1, 100000, (req) | F_LINES }, \
	[POST_PUBLISHED] = { "published", FT_BOOL, 0, 0, 0 }

static const struct field post_create_fields[POST__MAX] = { POST_FIELDS(F_REQUIRED) };
const struct body_spec body_post_create = { post_create_fields, POST__MAX, NULL };
static const struct field post_patch_fields[POST__MAX] = { POST_FIELDS(0) };
const struct body_spec body_post_patch = { post_patch_fields, POST__MAX, NULL };

size_t
valid_utf8_len(const char *s, size_t n)
{
	size_t	 i, cp;

	for (i = cp = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			cp++;
	return cp;
}

/*
 * 1 when s[0..n) holds a control character: C0, DEL or C1 (U+0080 to
 * U+009F, C2 80..C2 9F in UTF-8); with lines set, tab, line feed and
 * carriage return are allowed. Escaped as \u00XX they would cost a page
 * six bytes each, and no name or title needs one.
 */
int
valid_has_control(const char *s, size_t n, int lines)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20) {
			if (lines && (p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
				continue;
			return 1;
		}
		if (p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f))
			return 1;
	}
	return 0;
}

const char *
valid_text(const char *s, size_t n, size_t min, size_t max, int lines,
    char *msg, size_t msgsz)
{
	size_t	 cp;

	cp = valid_utf8_len(s, n);
	if (cp < min || cp > max) {
		snprintf(msg, msgsz, "must be %zu to %zu characters", min, max);
		return msg;
	}
	if (valid_has_control(s, n, lines))
		return lines ? "must not contain control characters other "
		    "than tab, line feed and carriage return" :
		    "must not contain control characters";
	return NULL;
}

const char *
valid_url(const char *s, size_t n, size_t max, char *msg, size_t msgsz)
{
	size_t	 i;

	if (n > max) {
		snprintf(msg, msgsz, "must be at most %zu bytes", max);
		return msg;
	}
	if (!((n > 8 && strncmp(s, "https://", 8) == 0) ||
	    (n > 7 && strncmp(s, "http://", 7) == 0)))
		return "must be a URL starting with https:// or http://";
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return "must be a URL without spaces or control "
			    "characters";
	return NULL;
}

static const char *
type_name(enum ftype t)
{

	switch (t) {
	case FT_BOOL:
		return "must be a boolean";
	case FT_ROLE:
		return "must be \"user\" or \"admin\"";
	case FT_INT:
		return "must be a whole number";
	case FT_OTP:
		return "must be a string of 6 digits";
	default:
		return "must be a string";
	}
}

/*
 * Checks one present value. Returns NULL when valid (filling v), else
 * the message for details[]; *oom is set when the arena is full.
 */
static const char *
check(struct req *r, const struct field *f, json_t *j, struct fieldval *v,
    int *oom, char *msg, size_t msgsz)
{
	const char	*s, *why;
	size_t		 n, cp;
	char		 canon[EMAIL_MAX + 1];

	v->present = 1;
	if (json_is_null(j)) {
		if (f->flags & F_NULLABLE) {
			v->is_null = 1;
			return NULL;
		}
		return f->type == FT_BOOL || f->type == FT_ROLE ||
		    f->type == FT_INT || f->type == FT_OTP ?
		    type_name(f->type) : "must be a string";
	}
	if (f->type == FT_INT) {
		/* A JSON integer only: 1.0, 1e3 and "1" are not. */
		if (!json_is_integer(j) || json_integer_value(j) < (json_int_t)f->min ||
		    json_integer_value(j) > (json_int_t)f->max) {
			snprintf(msg, msgsz, "must be a whole number from %zu to %zu",
			    f->min, f->max);
			return msg;
		}
		v->n = json_integer_value(j);
		return NULL;
	}
	if (f->type == FT_BOOL) {
		if (!json_is_boolean(j))
			return type_name(f->type);
		v->b = json_is_true(j);
		return NULL;
	}
	if (!json_is_string(j))
		return type_name(f->type);
	s = json_string_value(j);
	n = json_string_length(j);
	if (f->type == FT_OPAQUE) {
		/* The handler's to judge; strndup stops at a NUL (valid.h). */
		if ((v->s = arena_strndup(r->arena, s, n)) == NULL)
			*oom = 1;
		v->len = n;
		return NULL;
	}
	if (memchr(s, '\0', n) != NULL)
		return "must not contain NUL characters";
	if (f->flags & F_TRIM)
		fmt_trim(&s, &n);
	switch (f->type) {
	case FT_TEXT:
		if ((why = valid_text(s, n, f->min, f->max,
		    (f->flags & F_LINES) != 0, msg, msgsz)) != NULL)
			return why;
		break;
	case FT_PASSWORD:
		cp = valid_utf8_len(s, n);
		if (cp < f->min || cp > f->max) {
			snprintf(msg, msgsz, "must be %zu to %zu characters",
			    f->min, f->max);
			return msg;
		}
		break;
	case FT_EMAIL:
		/* The canonical form is the value from here on. */
		switch (email_canon(s, n, canon, &n, &why)) {
		case QERR_OK:
			s = canon;
			break;
		case QERR_INVAL:
			return why;
		default:
			*oom = 1;
			return NULL;
		}
		break;
	case FT_URL:
		if ((why = valid_url(s, n, f->max, msg, msgsz)) != NULL)
			return why;
		break;
	case FT_ROLE:
		if (!((n == 4 && memcmp(s, "user", 4) == 0) ||
		    (n == 5 && memcmp(s, "admin", 5) == 0)))
			return type_name(f->type);
		break;
	case FT_TOKEN:
		if (!auth_token_sane(s, n))
			return "must be the token of a mailed link "
			    "(43 characters of base64url)";
		break;
	case FT_OTP:
		if (n != TOTP_DIGITS || strspn(s, "0123456789") < n)
			return type_name(f->type);
		break;
	case FT_BOOL:
	case FT_INT:
	case FT_OPAQUE:
		break;
	}
	if ((v->s = arena_strndup(r->arena, s, n)) == NULL) {
		*oom = 1;
		return NULL;
	}
	v->len = n;
	return NULL;
}

enum qerr
valid_body(struct req *r, const struct body_spec *spec, json_t *obj)
{
	struct fieldval	*vals;
	const char	*key, *m;
	json_t		*j;
	size_t		 i;
	int		 bad, oom;
	char		 msg[96];

	vals = arena_calloc(r->arena, sizeof(*vals) * (spec->nfields + 1));
	if (vals == NULL)
		return QERR_NOMEM;
	bad = oom = 0;
	for (i = 0; i < spec->nfields; i++) {
		const struct field *f = &spec->fields[i];

		if ((j = json_object_get(obj, f->name)) == NULL) {
			if (f->flags & F_REQUIRED) {
				resp_detail(r, f->name, "is required");
				bad = 1;
			}
			continue;
		}
		m = check(r, f, j, &vals[i], &oom, msg, sizeof(msg));
		if (oom)
			return QERR_NOMEM;
		if (m != NULL) {
			resp_detail(r, f->name, m);
			bad = 1;
		}
	}
	json_object_foreach(obj, key, j) {
		for (i = 0; i < spec->nfields; i++)
			if (strcmp(key, spec->fields[i].name) == 0)
				break;
		if (i == spec->nfields) {
			resp_detail(r, key, "is not a known field");
			bad = 1;
		}
	}
	if (spec->cross != NULL && spec->cross(r, vals))
		bad = 1;
	r->fields = vals;
	return bad ? QERR_INVAL : QERR_OK;
}
