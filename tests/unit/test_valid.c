/*
 * Unit tests of body validation (src/valid.c): the contract's field
 * rules for signup and login, the details[] they produce, and the
 * UTF-8 length and trim helpers.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "conf.h"
#include "fixture.h"
#include "fmt.h"
#include "resp.h"
#include "tap.h"
#include "table.h"
#include "valid.h"

#define EMOJI	"\xf0\x9f\x98\x80"	/* U+1F600, 4 bytes */
#define EACUTE	"\xc3\xa9"		/* U+00E9, 2 bytes */
#define RLM	"\xe2\x80\x8f"		/* U+200F, 3 bytes */

/*
 * A field value in a table row: absent, a JSON literal, or the string
 * pre + unit * rep + post.
 */
enum vkind {
	V_ABSENT,
	V_STR,
	V_JSON,		/* pre is JSON text: 5, null, true, [], {} */
	V_NUL		/* pre, a NUL, post */
};

struct vspec {
	enum vkind	 kind;
	const char	*pre;
	const char	*unit;
	int		 rep;
	const char	*post;
};

#define ABSENT		{ V_ABSENT, NULL, NULL, 0, NULL }
#define S(s)		{ V_STR, (s), "", 0, "" }
#define REP(p, u, n, q)	{ V_STR, (p), (u), (n), (q) }
#define J(s)		{ V_JSON, (s), NULL, 0, NULL }
#define NUL(p, q)	{ V_NUL, (p), NULL, 0, (q) }

#define MAXD	4

struct detail {
	const char	*field;
	const char	*message;
};

/* Builds the string of v into dst; returns its length. */
static size_t
expand(const struct vspec *v, char *dst, size_t dsz)
{
	size_t	 n, k;
	int	 i;

	n = 0;
	k = strlen(v->pre);
	if (n + k < dsz) {
		memcpy(dst + n, v->pre, k);
		n += k;
	}
	if (v->kind == V_NUL) {
		if (n + 1 < dsz)
			dst[n++] = '\0';
	} else {
		for (i = 0; i < v->rep; i++) {
			k = strlen(v->unit);
			if (n + k < dsz) {
				memcpy(dst + n, v->unit, k);
				n += k;
			}
		}
	}
	k = strlen(v->post);
	if (n + k < dsz) {
		memcpy(dst + n, v->post, k);
		n += k;
	}
	dst[n] = '\0';
	return n;
}

/* Sets obj[name] per v. */
static void
put(json_t *obj, const char *name, const struct vspec *v)
{
	char	 s[2048];
	size_t	 n;

	switch (v->kind) {
	case V_ABSENT:
		break;
	case V_JSON:
		json_object_set_new(obj, name, json_loads(v->pre,
		    JSON_DECODE_ANY, NULL));
		break;
	case V_STR:
	case V_NUL:
		n = expand(v, s, sizeof(s));
		json_object_set_new(obj, name, json_stringn(s, n));
		break;
	}
}

/* Checks r->out.details against want (NULL-terminated). */
static void
check_details(struct req *r, int line, const struct detail *want)
{
	char		 doc[16384];
	json_t		*j, *d;
	size_t		 i, nwant;
	const char	*f, *m;

	snprintf(doc, sizeof(doc), "[%s]", r->out.details.p != NULL ?
	    r->out.details.p : "");
	j = json_loads(doc, 0, NULL);
	tap_ok(json_is_array(j), line, "details parse: %s", doc);
	for (nwant = 0; nwant < MAXD && want[nwant].field != NULL; nwant++)
		continue;
	tap_ok(json_array_size(j) == nwant, line, "%zu details want %zu: %s",
	    json_array_size(j), nwant, doc);
	for (i = 0; i < nwant && i < json_array_size(j); i++) {
		d = json_array_get(j, i);
		f = json_string_value(json_object_get(d, "field"));
		m = json_string_value(json_object_get(d, "message"));
		tap_ok(f != NULL && strcmp(f, want[i].field) == 0 &&
		    m != NULL && strcmp(m, want[i].message) == 0, line,
		    "detail %zu: {%s: %s} want {%s: %s}", i,
		    f != NULL ? f : "?", m != NULL ? m : "?", want[i].field,
		    want[i].message);
	}
	json_decref(j);
}

static void
test_signup(struct req *r)
{
	static const char bad_email[] = "must be a valid email address";
	static const char name_len[] = "must be 1 to 100 characters";
	static const char pw_len[] = "must be 8 to 128 characters";
	static const struct {
		int		 line;
		struct vspec	 name, email, password;
		const char	*extra;		/* an unknown key, or NULL */
		enum qerr	 want;
		struct detail	 details[MAXD];
		const char	*want_name;	/* checked on QERR_OK */
		const char	*want_email;
	} rows[] = {
		{ __LINE__, S("Ada"), S("ada@example.com"), S("correct horse"),
		    NULL, QERR_OK, { { NULL, NULL } }, "Ada", "ada@example.com" },
		/* name: trimmed, 1-100 code points */
		{ __LINE__, S("  Ada \t\n"), S("a@b.co"), S("12345678"), NULL,
		    QERR_OK, { { NULL, NULL } }, "Ada", "a@b.co" },
		{ __LINE__, S("A"), S("a@b.co"), S("12345678"), NULL,
		    QERR_OK, { { NULL, NULL } }, "A", NULL },
		{ __LINE__, REP("", EMOJI, 100, ""), S("a@b.co"),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    NULL },
		{ __LINE__, REP("", EMOJI, 101, ""), S("a@b.co"),
		    S("12345678"), NULL, QERR_INVAL,
		    { { "name", name_len } }, NULL, NULL },
		{ __LINE__, REP("", "a", 100, ""), S("a@b.co"), S("12345678"),
		    NULL, QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, REP("", "a", 101, ""), S("a@b.co"), S("12345678"),
		    NULL, QERR_INVAL, { { "name", name_len } }, NULL, NULL },
		{ __LINE__, REP("   ", "a", 100, "   "), S("a@b.co"),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    NULL },
		{ __LINE__, REP("", EACUTE, 100, ""), S("a@b.co"),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    NULL },
		{ __LINE__, REP("", RLM, 100, ""), S("a@b.co"), S("12345678"),
		    NULL, QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, REP("", RLM, 101, ""), S("a@b.co"), S("12345678"),
		    NULL, QERR_INVAL, { { "name", name_len } }, NULL, NULL },
		{ __LINE__, S(""), S("a@b.co"), S("12345678"), NULL,
		    QERR_INVAL, { { "name", name_len } }, NULL, NULL },
		{ __LINE__, S(" \t\r\n "), S("a@b.co"), S("12345678"), NULL,
		    QERR_INVAL, { { "name", name_len } }, NULL, NULL },
		{ __LINE__, S(EMOJI " Ada " RLM), S("a@b.co"), S("12345678"),
		    NULL, QERR_OK, { { NULL, NULL } }, EMOJI " Ada " RLM,
		    NULL },
		/* email */
		{ __LINE__, S("Ada"), S("  Ada@Example.COM "), S("12345678"),
		    NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    "ada@example.com" },
		{ __LINE__, S("Ada"), S("a@.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b..com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.com."), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@bcom"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b@c.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("abc.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("@b.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), REP("", "a", 64, "@b.com"),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), REP("", "a", 65, "@b.com"),
		    S("12345678"), NULL, QERR_INVAL, { { "email", bad_email } },
		    NULL, NULL },
		/* 5 + 245 + 4 = 254 bytes, then 255 */
		{ __LINE__, S("Ada"), REP("aaaa@", "b", 245, ".com"),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), REP("aaaa@", "b", 246, ".com"),
		    S("12345678"), NULL, QERR_INVAL,
		    { { "email", "must be at most 254 bytes" } }, NULL, NULL },
		/* the 254 bytes are counted after trimming */
		{ __LINE__, S("Ada"), REP("  aaaa@", "b", 245, ".com  "),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a b@c.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("ab@c .com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a\tb@c.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a\x01" "b@c.com"), S("12345678"),
		    NULL, QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a\x7f@c.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("ab@c.com\r\nBcc: x@y.z"),
		    S("12345678"), NULL, QERR_INVAL, { { "email", bad_email } },
		    NULL, NULL },
		{ __LINE__, S("Ada"), NUL("a", "b@c.com"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", "must not contain NUL characters" } },
		    NULL, NULL },
		{ __LINE__, S("Ada"), S(""), S("12345678"), NULL, QERR_INVAL,
		    { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("   "), S("12345678"), NULL, QERR_INVAL,
		    { { "email", bad_email } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.c"), S("12345678"), NULL, QERR_OK,
		    { { NULL, NULL } }, NULL, "a@b.c" },
		{ __LINE__, S("Ada"), S("first.last+tag@sub.example.org"),
		    S("12345678"), NULL, QERR_OK, { { NULL, NULL } }, NULL,
		    "first.last+tag@sub.example.org" },
		/* password: 8-128 code points, never trimmed */
		{ __LINE__, S("Ada"), S("a@b.co"), S("1234567"), NULL,
		    QERR_INVAL, { { "password", pw_len } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), REP("", "p", 128, ""), NULL,
		    QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), REP("", "p", 129, ""), NULL,
		    QERR_INVAL, { { "password", pw_len } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), REP("", EMOJI, 8, ""), NULL,
		    QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), REP("", EMOJI, 7, ""), NULL,
		    QERR_INVAL, { { "password", pw_len } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), REP("", EMOJI, 128, ""),
		    NULL, QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), REP("", EMOJI, 129, ""),
		    NULL, QERR_INVAL, { { "password", pw_len } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S("  abcd  "), NULL,
		    QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S("        "), NULL,
		    QERR_OK, { { NULL, NULL } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S(" abcdef"), NULL,
		    QERR_INVAL, { { "password", pw_len } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S(""), NULL,
		    QERR_INVAL, { { "password", pw_len } }, NULL, NULL },
		/* missing, wrong type */
		{ __LINE__, ABSENT, S("a@b.co"), S("12345678"), NULL,
		    QERR_INVAL, { { "name", "is required" } }, NULL, NULL },
		{ __LINE__, S("Ada"), ABSENT, S("12345678"), NULL,
		    QERR_INVAL, { { "email", "is required" } }, NULL, NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), ABSENT, NULL,
		    QERR_INVAL, { { "password", "is required" } }, NULL, NULL },
		{ __LINE__, ABSENT, ABSENT, ABSENT, NULL, QERR_INVAL,
		    { { "name", "is required" }, { "email", "is required" },
		    { "password", "is required" } }, NULL, NULL },
		{ __LINE__, J("5"), S("a@b.co"), S("12345678"), NULL,
		    QERR_INVAL, { { "name", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, J("null"), S("a@b.co"), S("12345678"), NULL,
		    QERR_INVAL, { { "name", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, J("[\"Ada\"]"), S("a@b.co"), S("12345678"), NULL,
		    QERR_INVAL, { { "name", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), J("{}"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), J("null"), S("12345678"), NULL,
		    QERR_INVAL, { { "email", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), J("true"), NULL,
		    QERR_INVAL, { { "password", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), J("12345678"), NULL,
		    QERR_INVAL, { { "password", "must be a string" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), NUL("1234", "5678"), NULL,
		    QERR_INVAL, { { "password",
		    "must not contain NUL characters" } }, NULL, NULL },
		/* unknown fields */
		{ __LINE__, S("Ada"), S("a@b.co"), S("12345678"), "role",
		    QERR_INVAL, { { "role", "is not a known field" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S("12345678"), "Name",
		    QERR_INVAL, { { "Name", "is not a known field" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S("12345678"), "",
		    QERR_INVAL, { { "", "is not a known field" } }, NULL,
		    NULL },
		{ __LINE__, S("Ada"), S("a@b.co"), S("12345678"),
		    "na\"me\\" EACUTE, QERR_INVAL,
		    { { "na\"me\\" EACUTE, "is not a known field" } }, NULL,
		    NULL },
		{ __LINE__, ABSENT, S("a@b.co"), S("12345678"), "username",
		    QERR_INVAL, { { "name", "is required" },
		    { "username", "is not a known field" } }, NULL, NULL },
		/* several errors at once, in field order */
		{ __LINE__, S(""), S("nope"), S("short"), NULL, QERR_INVAL,
		    { { "name", name_len }, { "email", bad_email },
		    { "password", pw_len } }, NULL, NULL },
	};
	json_t		*obj;
	char		 pw[2048];
	size_t		 i, pwlen;
	enum qerr	 e;
	const struct fieldval *v;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		obj = json_object();
		put(obj, "name", &rows[i].name);
		put(obj, "email", &rows[i].email);
		put(obj, "password", &rows[i].password);
		if (rows[i].extra != NULL)
			json_object_set_new(obj, rows[i].extra, json_true());
		e = valid_body(r, &body_signup, obj);
		tap_ok(e == rows[i].want, rows[i].line, "valid_body = %d "
		    "want %d", (int)e, (int)rows[i].want);
		check_details(r, rows[i].line, rows[i].details);
		if (e == QERR_OK && rows[i].want == QERR_OK) {
			v = r->fields;
			tap_ok(v != NULL && v[SIGNUP_NAME].present &&
			    v[SIGNUP_EMAIL].present &&
			    v[SIGNUP_PASSWORD].present, rows[i].line,
			    "all three present");
			if (v == NULL) {
				json_decref(obj);
				req_end(r);
				continue;
			}
			if (rows[i].want_name != NULL)
				tap_ok(v[SIGNUP_NAME].s != NULL &&
				    strcmp(v[SIGNUP_NAME].s,
				    rows[i].want_name) == 0 &&
				    v[SIGNUP_NAME].len ==
				    strlen(rows[i].want_name), rows[i].line,
				    "name \"%s\"", v[SIGNUP_NAME].s);
			if (rows[i].want_email != NULL)
				tap_ok(v[SIGNUP_EMAIL].s != NULL &&
				    strcmp(v[SIGNUP_EMAIL].s,
				    rows[i].want_email) == 0, rows[i].line,
				    "email \"%s\" want \"%s\"",
				    v[SIGNUP_EMAIL].s, rows[i].want_email);
			/* The password is exactly what was sent. */
			pwlen = expand(&rows[i].password, pw, sizeof(pw));
			tap_ok(v[SIGNUP_PASSWORD].s != NULL &&
			    v[SIGNUP_PASSWORD].len == pwlen &&
			    memcmp(v[SIGNUP_PASSWORD].s, pw, pwlen) == 0,
			    rows[i].line, "password untouched");
		}
		json_decref(obj);
		req_end(r);
	}
}

static void
test_login(struct req *r)
{
	static const struct {
		int		 line;
		struct vspec	 email, password;
		const char	*extra;
		enum qerr	 want;
		struct detail	 details[MAXD];
		const char	*want_email;
	} rows[] = {
		/* the contract's password rule (8-128) holds for login too */
		{ __LINE__, S("Ada@Example.com"), S("12345678"), NULL, QERR_OK,
		    { { NULL, NULL } }, "ada@example.com" },
		{ __LINE__, S(" ada@example.com "), S("  pass  "), NULL,
		    QERR_OK, { { NULL, NULL } }, "ada@example.com" },
		{ __LINE__, S("ada@example.com"), S("1234567"), NULL, QERR_INVAL,
		    { { "password", "must be 8 to 128 characters" } }, NULL },
		{ __LINE__, S("ada@example.com"), S("x"), NULL, QERR_INVAL,
		    { { "password", "must be 8 to 128 characters" } }, NULL },
		{ __LINE__, S("ada@example.com"), S(""), NULL, QERR_INVAL,
		    { { "password", "must be 8 to 128 characters" } }, NULL },
		{ __LINE__, S("ada@example.com"), REP("", "p", 128, ""), NULL,
		    QERR_OK, { { NULL, NULL } }, NULL },
		{ __LINE__, S("ada@example.com"), REP("", "p", 129, ""), NULL,
		    QERR_INVAL,
		    { { "password", "must be 8 to 128 characters" } }, NULL },
		{ __LINE__, S("a@.com"), S("password"), NULL, QERR_INVAL,
		    { { "email", "must be a valid email address" } }, NULL },
		{ __LINE__, ABSENT, S("password"), NULL, QERR_INVAL,
		    { { "email", "is required" } }, NULL },
		{ __LINE__, S("a@b.co"), ABSENT, NULL, QERR_INVAL,
		    { { "password", "is required" } }, NULL },
		{ __LINE__, S("a@b.co"), J("null"), NULL, QERR_INVAL,
		    { { "password", "must be a string" } }, NULL },
		{ __LINE__, S("a@b.co"), S("password"), "name", QERR_INVAL,
		    { { "name", "is not a known field" } }, NULL },
		{ __LINE__, S("a@b.co"), S("password"), "remember", QERR_INVAL,
		    { { "remember", "is not a known field" } }, NULL },
	};
	json_t		*obj;
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		obj = json_object();
		put(obj, "email", &rows[i].email);
		put(obj, "password", &rows[i].password);
		if (rows[i].extra != NULL)
			json_object_set_new(obj, rows[i].extra,
			    json_string("x"));
		e = valid_body(r, &body_login, obj);
		tap_ok(e == rows[i].want, rows[i].line, "valid_body(login) = "
		    "%d want %d", (int)e, (int)rows[i].want);
		check_details(r, rows[i].line, rows[i].details);
		if (e == QERR_OK && rows[i].want_email != NULL)
			tap_ok(r->fields != NULL &&
			    r->fields[LOGIN_EMAIL].s != NULL &&
			    strcmp(r->fields[LOGIN_EMAIL].s,
			    rows[i].want_email) == 0, rows[i].line,
			    "email lower-cased and trimmed");
		json_decref(obj);
		req_end(r);
	}
}

/*
 * The text rules: no control characters (C0, DEL, C1) in name and title,
 * none but tab, line feed and carriage return in content.
 */
static void
test_text_rules(struct req *r)
{
	static const char ctl[] = "must not contain control characters";
	static const char ctl_lines[] = "must not contain control characters "
	    "other than tab, line feed and carriage return";
	static const struct {
		int		 line;
		const struct body_spec *spec;
		const char	*field;
		struct vspec	 v;
		const char	*msg;		/* NULL: valid */
	} rows[] = {
		{ __LINE__, &body_signup, "name", S("Ada Lovelace"), NULL },
		{ __LINE__, &body_signup, "name", S("A\x01" "da"), ctl },
		{ __LINE__, &body_signup, "name", S("A\x1f" "da"), ctl },
		{ __LINE__, &body_signup, "name", S("A\tda"), ctl },
		{ __LINE__, &body_signup, "name", S("A\nda"), ctl },
		{ __LINE__, &body_signup, "name", S("A\x7f" "da"), ctl },
		/* C1: U+0080 and U+009F; U+00A0 (no-break space) is not one */
		{ __LINE__, &body_signup, "name", S("A\xc2\x80" "da"), ctl },
		{ __LINE__, &body_signup, "name", S("A\xc2\x9f" "da"), ctl },
		{ __LINE__, &body_signup, "name", S("A\xc2\xa0" "da"), NULL },
		{ __LINE__, &body_signup, "name", S(EACUTE EMOJI RLM), NULL },
		/* surrounding white space is trimmed first */
		{ __LINE__, &body_signup, "name", S("\tAda\n"), NULL },
		{ __LINE__, &body_post_create, "title", S("Hello"), NULL },
		{ __LINE__, &body_post_create, "title", S("Hel\rlo"), ctl },
		{ __LINE__, &body_post_create, "title",
		    REP("", "\x01", 100, ""), ctl },
		{ __LINE__, &body_post_create, "content", S("a\tb\nc\r\nd"),
		    NULL },
		{ __LINE__, &body_post_create, "content", S("a\x01"), ctl_lines },
		{ __LINE__, &body_post_create, "content", S("a\x0b"), ctl_lines },
		{ __LINE__, &body_post_create, "content", S("a\x0c"), ctl_lines },
		{ __LINE__, &body_post_create, "content", S("a\x1b[31m"),
		    ctl_lines },
		{ __LINE__, &body_post_create, "content", S("a\x7f"), ctl_lines },
		{ __LINE__, &body_post_create, "content", S("a\xc2\x85"),
		    ctl_lines },
		{ __LINE__, &body_post_patch, "title", S("x\x02"), ctl },
		{ __LINE__, &body_post_patch, "content", S("x\x02"), ctl_lines },
		{ __LINE__, &body_user_patch, "name", S("x\x02"), ctl },
		{ __LINE__, &body_user_create, "name", S("x\xc2\x90"), ctl },
	};
	json_t		*obj;
	char		 needle[256];
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		obj = json_object();
		put(obj, rows[i].field, &rows[i].v);
		e = valid_body(r, rows[i].spec, obj);
		/* Only this field's verdict: required ones may be missing. */
		snprintf(needle, sizeof(needle), "{\"field\":\"%s\",\"message\":"
		    "\"%s\"}", rows[i].field, rows[i].msg != NULL ?
		    rows[i].msg : ctl);
		if (rows[i].msg != NULL)
			tap_ok(e == QERR_INVAL && r->out.details.p != NULL &&
			    strstr(r->out.details.p, needle) != NULL,
			    rows[i].line, "%s refused: %s", rows[i].field,
			    r->out.details.p != NULL ? r->out.details.p : "");
		else
			tap_ok(r->out.details.p == NULL ||
			    strstr(r->out.details.p, "control") == NULL,
			    rows[i].line, "%s accepted: %s", rows[i].field,
			    r->out.details.p != NULL ? r->out.details.p : "");
		json_decref(obj);
		req_end(r);
	}
}

/*
 * POST /users/:id/ban: a reason of 1-500 characters (lines allowed) and
 * expiresInSeconds, a JSON integer from 1 to 315360000; null is absent.
 */
static void
test_ban(struct req *r)
{
	static const char range[] = "must be a whole number from 1 to 315360000";
	static const struct {
		int		 line;
		const char	*body;
		enum qerr	 want;
		struct detail	 details[MAXD];
		long long	 secs;		/* -1: not given */
	} rows[] = {
		{ __LINE__, "{}", QERR_OK, { { NULL, NULL } }, -1 },
		{ __LINE__, "{\"reason\":null,\"expiresInSeconds\":null}",
		    QERR_OK, { { NULL, NULL } }, -1 },
		{ __LINE__, "{\"reason\":\"spam\\nand more\",\"expiresInSeconds\":1}",
		    QERR_OK, { { NULL, NULL } }, 1 },
		{ __LINE__, "{\"expiresInSeconds\":315360000}", QERR_OK,
		    { { NULL, NULL } }, 315360000 },
		{ __LINE__, "{\"expiresInSeconds\":315360001}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":0}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":-5}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":9223372036854775807}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":1.5}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":1.0}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":1e3}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":\"60\"}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"expiresInSeconds\":true}", QERR_INVAL,
		    { { "expiresInSeconds", range } }, -1 },
		{ __LINE__, "{\"reason\":\"\"}", QERR_INVAL,
		    { { "reason", "must be 1 to 500 characters" } }, -1 },
		{ __LINE__, "{\"reason\":5}", QERR_INVAL,
		    { { "reason", "must be a string" } }, -1 },
		{ __LINE__, "{\"reason\":\"a\\u0001\"}", QERR_INVAL,
		    { { "reason", "must not contain control characters other "
		    "than tab, line feed and carriage return" } }, -1 },
		{ __LINE__, "{\"until\":5}", QERR_INVAL,
		    { { "until", "is not a known field" } }, -1 },
	};
	char		 long_reason[2048];
	json_t		*obj;
	size_t		 i;
	enum qerr	 e;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (req_begin(r, NULL, NULL, NULL) != QERR_OK) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		obj = json_loads(rows[i].body, JSON_REJECT_DUPLICATES, NULL);
		tap_ok(obj != NULL, rows[i].line, "%s parses", rows[i].body);
		e = obj != NULL ? valid_body(r, &body_ban, obj) : QERR_IO;
		tap_ok(e == rows[i].want, rows[i].line, "valid_body(ban) %s = "
		    "%d want %d", rows[i].body, (int)e, (int)rows[i].want);
		check_details(r, rows[i].line, rows[i].details);
		if (e == QERR_OK)
			tap_ok(rows[i].secs == -1 ?
			    !r->fields[BAN_EXPIRES_IN].present ||
			    r->fields[BAN_EXPIRES_IN].is_null :
			    r->fields[BAN_EXPIRES_IN].n == rows[i].secs,
			    rows[i].line, "expiresInSeconds is %lld", rows[i].secs);
		json_decref(obj);
		req_end(r);
	}
	/* 500 characters of 2 bytes each pass; 501 do not. */
	for (i = 500; i <= 501; i++) {
		size_t	 k;

		if (req_begin(r, NULL, NULL, NULL) != QERR_OK)
			continue;
		for (k = 0; k < i; k++)
			memcpy(long_reason + 2 * k, EACUTE, 2);
		obj = json_object();
		json_object_set_new(obj, "reason", json_stringn(long_reason, 2 * i));
		e = valid_body(r, &body_ban, obj);
		tap_ok(e == (i == 500 ? QERR_OK : QERR_INVAL), __LINE__,
		    "a reason of %zu characters", i);
		json_decref(obj);
		req_end(r);
	}
}

/* A full arena is QERR_NOMEM, not a validation error nor success. */
static void
test_nomem(const struct conf *c)
{
	static const struct {
		int		 line;
		size_t		 limit;
		enum qerr	 want;
	} rows[] = {
		/* "/" takes 16, the four fieldvals 160, then 16, 16, 32 */
		{ __LINE__, 64, QERR_NOMEM },		/* no room for vals */
		{ __LINE__, 176, QERR_NOMEM },		/* no room for name */
		{ __LINE__, 208, QERR_NOMEM },		/* none for password */
		{ __LINE__, 240, QERR_OK },
	};
	struct arena	*a;
	struct req	 r;
	json_t		*obj;
	size_t		 i;
	enum qerr	 e;

	obj = json_pack("{s:s, s:s, s:s}", "name", "Ada", "email",
	    "ada@example.com", "password", "correct horse battery");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		a = arena_new(256, rows[i].limit);
		if (a == NULL || req_setup(&r, c, NULL, a) != QERR_OK) {
			tap_ok(0, rows[i].line, "arena_new");
			arena_free(a);
			continue;
		}
		tap_ok(req_begin(&r, NULL, NULL, NULL) == QERR_OK,
		    rows[i].line, "req_begin");
		e = valid_body(&r, &body_signup, obj);
		tap_ok(e == rows[i].want, rows[i].line,
		    "arena limit %zu: valid_body = %d want %d", rows[i].limit,
		    (int)e, (int)rows[i].want);
		req_end(&r);
		req_teardown(&r);
		arena_free(a);
	}
	json_decref(obj);
}

static void
test_utf8_len(void)
{
	static const struct {
		int		 line;
		const char	*s;
		size_t		 n;		/* (size_t)-1: strlen */
		size_t		 want;
	} rows[] = {
		{ __LINE__, "", (size_t)-1, 0 },
		{ __LINE__, "abc", (size_t)-1, 3 },
		{ __LINE__, "abc", 2, 2 },
		{ __LINE__, EACUTE, (size_t)-1, 1 },
		{ __LINE__, "caf" EACUTE, (size_t)-1, 4 },
		{ __LINE__, EMOJI, (size_t)-1, 1 },
		{ __LINE__, "a" EMOJI "b", (size_t)-1, 3 },
		{ __LINE__, RLM, (size_t)-1, 1 },
		{ __LINE__, "\xe4\xb8\xad\xe6\x96\x87", (size_t)-1, 2 },
		{ __LINE__, EMOJI EMOJI EMOJI, (size_t)-1, 3 },
		/* woman technologist: 3 code points, one glyph */
		{ __LINE__, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb",
		    (size_t)-1, 3 },
		{ __LINE__, "e\xcc\x81", (size_t)-1, 2 },	/* e + combining */
		{ __LINE__, "a\0b", 3, 3 },
	};
	size_t	 i, n, got;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n == (size_t)-1 ? strlen(rows[i].s) : rows[i].n;
		got = valid_utf8_len(rows[i].s, n);
		tap_ok(got == rows[i].want, rows[i].line,
		    "valid_utf8_len = %zu want %zu", got, rows[i].want);
	}
}

static void
test_trim(void)
{
	static const struct {
		int		 line;
		const char	*in;
		const char	*want;
	} rows[] = {
		{ __LINE__, "abc", "abc" },
		{ __LINE__, "  a b  ", "a b" },
		{ __LINE__, "\t\r\n\f\va\v\f\n\r\t ", "a" },
		{ __LINE__, "", "" },
		{ __LINE__, "    ", "" },
		{ __LINE__, " x", "x" },
		{ __LINE__, "x ", "x" },
		{ __LINE__, "\xc2\xa0" "a" "\xc2\xa0", "\xc2\xa0" "a" "\xc2\xa0" },
		{ __LINE__, " " EMOJI " ", EMOJI },
	};
	const char	*s;
	size_t		 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s = rows[i].in;
		n = strlen(s);
		fmt_trim(&s, &n);
		tap_ok(n == strlen(rows[i].want) &&
		    strncmp(s, rows[i].want, n) == 0 && s >= rows[i].in &&
		    s + n <= rows[i].in + strlen(rows[i].in), rows[i].line,
		    "fmt_trim: \"%.*s\" want \"%s\"", (int)n, s,
		    rows[i].want);
	}
}

int
main(void)
{
	struct fixture	 f;

	test_utf8_len();
	test_trim();
	if (fixture_init(&f) == -1)
		return tap_done();
	test_signup(&f.r);
	test_login(&f.r);
	test_text_rules(&f.r);
	test_ban(&f.r);
	req_teardown(&f.r);
	arena_free(f.a);
	test_nomem(&f.c);
	conf_free(&f.c);
	return tap_done();
}
