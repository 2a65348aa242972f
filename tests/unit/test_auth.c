/*
 * Unit tests of tokens, headers, passwords and the request-level rules
 * of src/auth.c that need no database: the Origin check, the client
 * address and the session cookie.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "tap.h"
#include "table.h"

/* Two well-formed tokens (43 base64url characters). */
#define T1	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
#define T2	"0123456789-_0123456789-_0123456789-_0123456"

static int
b64url(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

static void
test_tokens(void)
{
	char	 tok[AUTH_TOKEN_LEN + 1], prev[AUTH_TOKEN_LEN + 1];
	int	 i, allok, alldiff;

	ok(strlen(T1) == AUTH_TOKEN_LEN && strlen(T2) == AUTH_TOKEN_LEN,
	    "test tokens have the right length");
	prev[0] = '\0';
	allok = alldiff = 1;
	for (i = 0; i < 200; i++) {
		memset(tok, '#', sizeof(tok));
		auth_token_new(tok);
		if (strlen(tok) != AUTH_TOKEN_LEN || !b64url(tok, 43) ||
		    !auth_token_sane(tok, strlen(tok)))
			allok = 0;
		if (strcmp(tok, prev) == 0)
			alldiff = 0;
		memcpy(prev, tok, sizeof(tok));
	}
	ok(allok, "200 tokens: 43 base64url chars, sane");
	ok(alldiff, "each differs from the one before");
}

static void
test_token_sane(void)
{
	static const struct {
		int		 line;
		const char	*t;
		int		 want;
	} rows[] = {
		{ __LINE__, T1, 1 },
		{ __LINE__, T2, 1 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP", 0 },
		{ __LINE__, T1 "Q", 0 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP+", 0 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP/", 0 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP=", 0 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP.", 0 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP ", 0 },
		{ __LINE__, " bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", 0 },
		{ __LINE__, "abcdefghijklmnopqrstuvwxyz\"BCDEFGHIJKLMNOPQ", 0 },
		{ __LINE__, "", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tap_ok(auth_token_sane(rows[i].t, strlen(rows[i].t)) ==
		    rows[i].want, rows[i].line, "auth_token_sane(\"%s\") == %d",
		    rows[i].t, rows[i].want);
	ok(!auth_token_sane(T1, 42), "n counts, not the NUL");
}

static void
test_token_hash(void)
{
	static const struct {
		int		 line;
		const char	*t;
		const char	*want;
	} rows[] = {
		/* FIPS 180-2 test vectors */
		{ __LINE__, "abc", "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad" },
		{ __LINE__, "", "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855" },
	};
	char	 h1[AUTH_HASH_LEN + 1], h2[AUTH_HASH_LEN + 1];
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		auth_token_hash(rows[i].t, h1);
		tap_ok(strcmp(h1, rows[i].want) == 0, rows[i].line,
		    "sha256(\"%s\") = %s", rows[i].t, h1);
	}
	auth_token_hash(T1, h1);
	auth_token_hash(T1, h2);
	ok(strlen(h1) == AUTH_HASH_LEN && strspn(h1, "0123456789abcdef") ==
	    AUTH_HASH_LEN, "64 lower-case hex: %s", h1);
	ok(strcmp(h1, h2) == 0, "stable");
	auth_token_hash(T2, h2);
	ok(strcmp(h1, h2) != 0, "differs for another token");
	ok(strstr(h1, T1) == NULL, "not the token itself");
}

static void
test_cookie(void)
{
	static const struct {
		int		 line;
		const char	*h;
		const char	*want;		/* NULL: no token */
	} rows[] = {
		{ __LINE__, "quire_session=" T1, T1 },
		{ __LINE__, "a=b; quire_session=" T1 "; c=d", T1 },
		{ __LINE__, "a=b;quire_session=" T1, T1 },
		{ __LINE__, "quire_session=\"" T1 "\"", T1 },
		{ __LINE__, "  quire_session = " T1 "  ", T1 },
		{ __LINE__, "quire_session=\t" T1 "\t;x=y", T1 },
		{ __LINE__, "quire_session=" T1 "; quire_session=" T2, T1 },
		{ __LINE__, "quire_session=short; quire_session=" T2, T2 },
		{ __LINE__, "quire_session=; quire_session=" T2, T2 },
		{ __LINE__, "quire_session=\"\"; quire_session=" T2, T2 },
		{ __LINE__, ";;=", NULL },
		{ __LINE__, ";;=;quire_session=" T1, T1 },
		{ __LINE__, "=" T1, NULL },
		{ __LINE__, ";;;;", NULL },
		{ __LINE__, "quire_session", NULL },
		{ __LINE__, "quire_session;quire_session=" T1, T1 },
		{ __LINE__, "quire_session " T1, NULL },
		{ __LINE__, "xquire_session=" T1, NULL },
		{ __LINE__, "xquire_session=" T2 "; quire_session=" T1, T1 },
		{ __LINE__, "quire_sessionx=" T1, NULL },
		{ __LINE__, "quire_session_=" T1, NULL },
		{ __LINE__, "quire-session=" T1, NULL },
		{ __LINE__, "QUIRE_SESSION=" T1, NULL },
		{ __LINE__, "quire_session=" T1 "x", NULL },
		{ __LINE__, "quire_session=" T1 "=", NULL },
		{ __LINE__, "quire_session=" T1 ",other=1", NULL },
		{ __LINE__, "quire_session=\"" T1, NULL },
		{ __LINE__, "quire_session=" T1 "\"", NULL },
		{ __LINE__, "quire_session=abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
		    "KLMNOP+", NULL },
		{ __LINE__, "a=\"x;y\"; quire_session=" T1, T1 },
		{ __LINE__, "quire_session=", NULL },
		{ __LINE__, "", NULL },
		{ __LINE__, NULL, NULL },
	};
	char		 out[AUTH_TOKEN_LEN + 1];
	const char	*got;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(out, 0, sizeof(out));
		got = auth_cookie_token(rows[i].h, out);
		if (rows[i].want == NULL)
			tap_ok(got == NULL, rows[i].line, "Cookie: %s -> none, "
			    "got %s", rows[i].h != NULL ? rows[i].h : "(null)",
			    got != NULL ? got : "none");
		else
			tap_ok(got == out && strcmp(out, rows[i].want) == 0,
			    rows[i].line, "Cookie: %s -> %s, got %s",
			    rows[i].h, rows[i].want,
			    got != NULL ? got : "none");
	}
}

static void
test_bearer(void)
{
	static const struct {
		int		 line;
		const char	*h;
		const char	*want;
	} rows[] = {
		{ __LINE__, "Bearer " T1, T1 },
		{ __LINE__, "bearer " T1, T1 },
		{ __LINE__, "BEARER " T1, T1 },
		{ __LINE__, "BeArEr " T2, T2 },
		{ __LINE__, "Bearer   " T1 "   ", T1 },
		{ __LINE__, "  Bearer " T1, T1 },
		{ __LINE__, "Bearer\t" T1, T1 },
		{ __LINE__, "Basic " T1, NULL },
		{ __LINE__, "Basic dXNlcjpwYXNz", NULL },
		{ __LINE__, "Bearer", NULL },
		{ __LINE__, "Bearer ", NULL },
		{ __LINE__, "Bearer    ", NULL },
		{ __LINE__, "Bearer" T1, NULL },
		{ __LINE__, "Bearerx " T1, NULL },
		{ __LINE__, "Bear " T1, NULL },
		{ __LINE__, T1, NULL },
		{ __LINE__, "Bearer " T1 "x", NULL },
		{ __LINE__, "Bearer abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
		    NULL },
		{ __LINE__, "Bearer " T1 " " T2, NULL },
		{ __LINE__, "Bearer \"" T1 "\"", NULL },
		{ __LINE__, "Bearer short", NULL },
		{ __LINE__, "Token " T1, NULL },
		{ __LINE__, "", NULL },
		{ __LINE__, NULL, NULL },
	};
	char		 out[AUTH_TOKEN_LEN + 1];
	const char	*got;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(out, 0, sizeof(out));
		got = auth_bearer_token(rows[i].h, out);
		if (rows[i].want == NULL)
			tap_ok(got == NULL, rows[i].line, "Authorization: %s "
			    "-> none, got %s",
			    rows[i].h != NULL ? rows[i].h : "(null)",
			    got != NULL ? got : "none");
		else
			tap_ok(got == out && strcmp(out, rows[i].want) == 0,
			    rows[i].line, "Authorization: %s -> %s",
			    rows[i].h, rows[i].want);
	}
}

static void
test_password(void)
{
	static const char pw[] = "correct horse battery staple";
	static const struct {
		int		 line;
		const char	*pw;
		size_t		 n;		/* 0: strlen */
		int		 want;
	} rows[] = {
		{ __LINE__, pw, 0, 1 },
		{ __LINE__, "correct horse battery stapl", 0, 0 },
		{ __LINE__, "Correct horse battery staple", 0, 0 },
		{ __LINE__, "correct horse battery staple ", 0, 0 },
		{ __LINE__, pw, sizeof(pw) - 2, 0 },	/* a prefix */
		{ __LINE__, "", 0, 0 },
	};
	char	 h[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
	char	 weak[crypto_pwhash_STRBYTES];
	size_t	 i, n;

	ok(auth_password_hash(h, pw, strlen(pw)) == 0, "hash");
	ok(strncmp(h, "$argon2id$", 10) == 0, "Argon2id: %.30s", h);
	ok(strstr(h, pw) == NULL, "the hash does not contain the password");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n != 0 ? rows[i].n : strlen(rows[i].pw);
		tap_ok(auth_password_verify(h, rows[i].pw, n) == rows[i].want,
		    rows[i].line, "verify \"%.*s\" == %d", (int)n, rows[i].pw,
		    rows[i].want);
	}
	ok(auth_password_needs_rehash(h) == 0, "fresh hash needs no rehash");

	ok(auth_password_hash(h2, pw, strlen(pw)) == 0 && strcmp(h, h2) != 0,
	    "salted: a second hash differs");
	ok(auth_password_verify(h2, pw, strlen(pw)) == 1,
	    "the second hash verifies too");

	/* Cheaper than today's cost: upgrade at next login. */
	ok(crypto_pwhash_str_alg(weak, pw, strlen(pw),
	    crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_MEMLIMIT_MIN,
	    crypto_pwhash_ALG_ARGON2ID13) == 0, "weak hash made");
	ok(auth_password_verify(weak, pw, strlen(pw)) == 1,
	    "weak hash still verifies");
	ok(auth_password_needs_rehash(weak) == 1, "weak hash needs rehash");
	ok(auth_password_needs_rehash("not a hash") == 1,
	    "garbage needs rehash");
	ok(auth_password_verify("not a hash", pw, strlen(pw)) == 0,
	    "garbage never verifies");
	ok(auth_password_verify("", "", 0) == 0, "empty never verifies");

	/* No user: a dummy hash is checked, and the answer is no. */
	ok(auth_password_verify(NULL, pw, strlen(pw)) == 0, "NULL hash: 0");
	ok(auth_password_verify(NULL, "quire-dummy-password", 20) == 0,
	    "NULL hash: 0 even for the dummy's own password");
}

/* Per request: a fresh req_begin on the given environment. */
static int
begin(struct req *r, const char *const *env)
{
	static char	*envp[8];
	size_t		 k;

	for (k = 0; k < 7 && env[k] != NULL; k++)
		envp[k] = (char *)(uintptr_t)env[k];
	envp[k] = NULL;
	return req_begin(r, envp, NULL, NULL) == QERR_OK;
}

static void
test_client_addr(struct arena *a)
{
	static const struct {
		int		 line;
		const char	*env[4];
		const char	*want;
		const char	*want_direct;	/* no proxies; NULL: REMOTE_ADDR */
	} rows[] = {
		{ __LINE__, { "REMOTE_ADDR=203.0.113.5", NULL },
		    "203.0.113.5", NULL },
		{ __LINE__, { "REMOTE_ADDR=203.0.113.5",
		    "HTTP_X_FORWARDED_FOR=1.2.3.4", NULL }, "203.0.113.5", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1", NULL }, "10.0.0.1", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=1.2.3.4", NULL }, "1.2.3.4", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=9.9.9.9, 1.2.3.4", NULL },
		    "1.2.3.4", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=9.9.9.9, 1.2.3.4, 10.0.0.2", NULL },
		    "1.2.3.4", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.2",
		    "HTTP_X_FORWARDED_FOR=1.2.3.4 ,\t 10.0.0.1 ,", NULL },
		    "1.2.3.4", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=2001:db8::1", NULL }, "2001:db8::1", NULL },
		/* Only proxies: the farthest one any of them reported. */
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=10.0.0.2", NULL }, "10.0.0.2", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=", NULL }, "10.0.0.1", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR= , ,,", NULL }, "10.0.0.1", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.10",
		    "HTTP_X_FORWARDED_FOR=1.2.3.4", NULL }, "10.0.0.10", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.",
		    "HTTP_X_FORWARDED_FOR=1.2.3.4", NULL }, "10.0.0.", NULL },
		{ __LINE__, { "HTTP_X_FORWARDED_FOR=1.2.3.4", NULL },
		    "unknown", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    NULL }, "10.0.0.1", NULL },
		/* Not an address: the walk stops at the proxy that wrote it. */
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=6.6.6.6, 1.2.3.\xc3", NULL }, "10.0.0.1", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=6.6.6.6, bogus, 10.0.0.2", NULL },
		    "10.0.0.2", NULL },
		/* One spelling per address: canonical text. */
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=2001:DB8:0:0::1", NULL }, "2001:db8::1", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=[2001:db8::2]", NULL }, "2001:db8::2", NULL },
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=::ffff:1.2.3.4", NULL }, "1.2.3.4", NULL },
		{ __LINE__, { "REMOTE_ADDR=::ffff:10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=1.2.3.5", NULL }, "1.2.3.5",
		    "10.0.0.1" },
		/* Two X-Forwarded-For params (nginx, a line each): the last. */
		{ __LINE__, { "REMOTE_ADDR=10.0.0.1",
		    "HTTP_X_FORWARDED_FOR=6.6.6.6",
		    "HTTP_X_FORWARDED_FOR=1.2.3.6", NULL }, "1.2.3.6", NULL },
		/* A REMOTE_ADDR that is no address is kept as valid text. */
		{ __LINE__, { "REMOTE_ADDR=unix:\xff\xfe", NULL },
		    "unix:\xef\xbf\xbd\xef\xbf\xbd",
		    "unix:\xef\xbf\xbd\xef\xbf\xbd" },
	};
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", "postgresql://db/quire" },
		{ "QUIRE_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2" },
		{ NULL, NULL }
	};
	struct kv	 env0[] = {
		{ "QUIRE_PRIMARY_URL", "postgresql://db/quire" },
		{ NULL, NULL }
	};
	struct conf	 c, c0;
	struct req	 r;
	char		 err[256];
	const char	*got;
	size_t		 i;

	if (conf_parse(&c, table_get, env, err, sizeof(err)) != QERR_OK ||
	    conf_parse(&c0, table_get, env0, err, sizeof(err)) != QERR_OK) {
		ok(0, "conf_parse: %s", err);
		return;
	}
	ok(req_setup(&r, &c, NULL, a) == QERR_OK, "req_setup");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!begin(&r, rows[i].env)) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		got = auth_client_addr(&r);
		tap_ok(got != NULL && strcmp(got, rows[i].want) == 0,
		    rows[i].line, "client %s want %s",
		    got != NULL ? got : "(null)", rows[i].want);
		req_end(&r);
	}
	req_teardown(&r);

	/* Without trusted proxies X-Forwarded-For is never believed. */
	ok(req_setup(&r, &c0, NULL, a) == QERR_OK, "req_setup");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *want = rows[i].want_direct != NULL ?
		    rows[i].want_direct : rows[i].env[0] != NULL &&
		    strncmp(rows[i].env[0], "REMOTE_ADDR=", 12) == 0 ?
		    rows[i].env[0] + 12 : "unknown";

		if (!begin(&r, rows[i].env))
			continue;
		got = auth_client_addr(&r);
		tap_ok(got != NULL && strcmp(got, want) == 0, rows[i].line,
		    "no proxies: client %s want %s",
		    got != NULL ? got : "(null)", want);
		req_end(&r);
	}
	req_teardown(&r);
	conf_free(&c);
	conf_free(&c0);
}

enum sesskind {
	SESS_NONE,
	SESS_COOKIE,
	SESS_BEARER
};

static void
test_origin(struct arena *a)
{
	static const struct {
		int		 line;
		const char	*env[4];
		enum sesskind	 sess;
		int		 want;
	} rows[] = {
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_COOKIE, -1 },
		{ __LINE__, { "REQUEST_METHOD=PATCH",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_COOKIE, -1 },
		{ __LINE__, { "REQUEST_METHOD=DELETE",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_COOKIE, -1 },
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_BEARER, 0 },
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_NONE, 0 },
		{ __LINE__, { "REQUEST_METHOD=GET",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_COOKIE, 0 },
		{ __LINE__, { "REQUEST_METHOD=HEAD",
		    "HTTP_ORIGIN=https://evil.example", NULL }, SESS_COOKIE, 0 },
		{ __LINE__, { "REQUEST_METHOD=POST", NULL }, SESS_COOKIE, 0 },
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=https://app.example.com", NULL }, SESS_COOKIE,
		    0 },
		{ __LINE__, { "REQUEST_METHOD=DELETE",
		    "HTTP_ORIGIN=http://localhost:5173", NULL }, SESS_COOKIE,
		    0 },
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=https://app.example.com/", NULL }, SESS_COOKIE,
		    -1 },
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=https://app.example.com.evil.example", NULL },
		    SESS_COOKIE, -1 },
		{ __LINE__, { "REQUEST_METHOD=POST",
		    "HTTP_ORIGIN=http://app.example.com", NULL }, SESS_COOKIE,
		    -1 },
		{ __LINE__, { "REQUEST_METHOD=POST", "HTTP_ORIGIN=null", NULL },
		    SESS_COOKIE, -1 },
		{ __LINE__, { "REQUEST_METHOD=POST", "HTTP_ORIGIN=", NULL },
		    SESS_COOKIE, -1 },
		{ __LINE__, { "REQUEST_METHOD=PATCH",
		    "HTTP_REFERER=https://evil.example/", NULL }, SESS_COOKIE,
		    0 },
	};
	struct kv	 env[] = {
		{ "QUIRE_PRIMARY_URL", "postgresql://db/quire" },
		{ "QUIRE_ALLOWED_ORIGINS",
		    "https://app.example.com,http://localhost:5173" },
		{ NULL, NULL }
	};
	struct conf	 c;
	struct req	 r;
	struct session	 s;
	char		 err[256];
	size_t		 i;
	int		 got;

	if (conf_parse(&c, table_get, env, err, sizeof(err)) != QERR_OK) {
		ok(0, "conf_parse: %s", err);
		return;
	}
	ok(req_setup(&r, &c, NULL, a) == QERR_OK, "req_setup");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!begin(&r, rows[i].env)) {
			tap_ok(0, rows[i].line, "req_begin");
			continue;
		}
		memset(&s, 0, sizeof(s));
		s.via_cookie = rows[i].sess == SESS_COOKIE;
		r.sess = rows[i].sess == SESS_NONE ? NULL : &s;
		got = auth_origin_ok(&r);
		tap_ok(got == rows[i].want, rows[i].line,
		    "%s %s, %s: %d want %d", rows[i].env[0],
		    rows[i].env[1] != NULL ? rows[i].env[1] : "no Origin",
		    rows[i].sess == SESS_COOKIE ? "cookie" :
		    rows[i].sess == SESS_BEARER ? "bearer" : "anonymous",
		    got, rows[i].want);
		req_end(&r);
	}
	req_teardown(&r);
	conf_free(&c);
}

static void
test_set_cookie(struct arena *a)
{
	static const struct {
		int		 line;
		const char	*secure;
		const char	*token;
		const char	*want;
	} rows[] = {
		{ __LINE__, "1", T1, "Set-Cookie: quire_session=" T1
		    "; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax; Secure\r\n" },
		{ __LINE__, "0", T1, "Set-Cookie: quire_session=" T1
		    "; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax\r\n" },
		{ __LINE__, "1", NULL, "Set-Cookie: quire_session=; Max-Age=0;"
		    " Path=/; HttpOnly; SameSite=Lax; Secure\r\n" },
		{ __LINE__, "0", NULL, "Set-Cookie: quire_session=; Max-Age=0;"
		    " Path=/; HttpOnly; SameSite=Lax\r\n" },
	};
	struct kv	 env[4];
	struct conf	 c;
	struct req	 r;
	char		 err[256];
	size_t		 i;
	static const char *const none[] = { NULL };

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		env[0].name = "QUIRE_PRIMARY_URL";
		env[0].value = "postgresql://db/quire";
		env[1].name = "QUIRE_COOKIE_SECURE";
		env[1].value = rows[i].secure;
		env[2].name = "QUIRE_SESSION_TTL";
		env[2].value = "3600";
		env[3].name = NULL;
		if (conf_parse(&c, table_get, env, err, sizeof(err)) !=
		    QERR_OK) {
			tap_ok(0, rows[i].line, "conf_parse: %s", err);
			continue;
		}
		if (req_setup(&r, &c, NULL, a) != QERR_OK || !begin(&r, none)) {
			tap_ok(0, rows[i].line, "req_setup");
			conf_free(&c);
			continue;
		}
		auth_set_cookie(&r, rows[i].token);
		tap_ok(r.out.hdrs.p != NULL && strcmp(r.out.hdrs.p, rows[i].want) == 0,
		    rows[i].line, "Set-Cookie line, secure=%s, %s",
		    rows[i].secure, rows[i].token != NULL ? "set" : "clear");
		req_end(&r);
		req_teardown(&r);
		conf_free(&c);
	}
}

/*
 * The dummy hash unknown users are checked against must cost what a real
 * one does: same algorithm and parameters as AUTH_PWHASH_*.
 */
static void
test_dummy_hash(void)
{

	ok(strncmp(auth_dummy_hash, "$argon2id$", 10) == 0, "dummy hash is Argon2id");
	ok(!auth_password_needs_rehash(auth_dummy_hash),
	    "dummy hash uses the current AUTH_PWHASH_* parameters");
	ok(auth_password_verify(NULL, "anything at all", 15) == 0,
	    "verify against the dummy hash says no");
}

int
main(void)
{
	struct arena	*a;

	if (sodium_init() < 0) {
		ok(0, "sodium_init");
		return tap_done();
	}
	test_tokens();
	test_token_sane();
	test_token_hash();
	test_cookie();
	test_bearer();
	test_password();
	test_dummy_hash();
	if ((a = arena_new(4096, 1 << 20)) == NULL) {
		ok(0, "arena_new");
		return tap_done();
	}
	test_client_addr(a);
	test_origin(a);
	test_set_cookie(a);
	arena_free(a);
	return tap_done();
}
