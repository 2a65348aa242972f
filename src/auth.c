/*
 * Tokens, passwords, the session check and the request-level rules
 * around them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "arena.h"
#include "auth.h"
#include "bascrypt.h"
#include "db.h"
#include "fmt.h"
#include "log.h"
#include "mem.h"
#include "resp.h"
#include "revoke.h"
#include "ryw.h"
#include "sesscache.h"
#include "unicode.h"
#include "xff.h"

static int
b64url_char(char c)
{

	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void
auth_token_new(char *out)
{
	unsigned char	 raw[AUTH_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

int
auth_token_sane(const char *t, size_t n)
{
	size_t	 i;

	if (n != AUTH_TOKEN_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!b64url_char(t[i]))
			return 0;
	/* The last char of 256 bits in unpadded base64 carries 2 zero bits. */
	return 1;
}

void
auth_token_hash(const char *token, char *out)
{
	unsigned char	 h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, AUTH_HASH_LEN + 1, h, sizeof(h));
}

static const char *
take(const char *v, size_t n, char *out)
{

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (!auth_token_sane(v, n))
		return NULL;
	memcpy(out, v, n);
	out[n] = '\0';
	return out;
}

const char *
auth_cookie_token(const char *h, char *out)
{
	const char	*name, *val, *end;
	size_t		 nlen, vlen;

	if (h == NULL)
		return NULL;
	while (*h != '\0') {
		name = h;
		end = h + strcspn(h, ";");
		h = *end == ';' ? end + 1 : end;
		if ((val = memchr(name, '=', (size_t)(end - name))) == NULL)
			continue;
		nlen = (size_t)(val - name);
		fmt_trim(&name, &nlen);
		val++;
		vlen = (size_t)(end - val);
		fmt_trim(&val, &vlen);
		if (nlen == strlen(AUTH_COOKIE) &&
		    memcmp(name, AUTH_COOKIE, nlen) == 0 &&
		    take(val, vlen, out) != NULL)
			return out;
	}
	return NULL;
}

const char *
auth_bearer_token(const char *h, char *out)
{
	size_t	 n;

	if (h == NULL)
		return NULL;
	n = strlen(h);
	fmt_trim(&h, &n);
	if (n < 7 || strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	h += 6;
	n -= 6;
	fmt_trim(&h, &n);
	if (!auth_token_sane(h, n))
		return NULL;
	memcpy(out, h, n);
	out[n] = '\0';
	return out;
}

/*
 * Room for the NFKC form of any password the contract admits: 128 code
 * points, each at most 33 bytes after NFKC (U+FDFA, the longest).
 * Longer input still works, through libunistring's malloc.
 */
#define PW_NFKC_BUF	(128 * 33)

/* Wipes and releases what uni_nfkc gave for a password. */
static void
pw_done(char *p, size_t len, char *buf)
{

	if (p != NULL && p != buf) {
		sodium_memzero(p, len);
		free(p);
	}
	/* libunistring may have filled buf before it moved to the heap. */
	sodium_memzero(buf, PW_NFKC_BUF);
}

int
auth_password_hash(char *out, const char *pw, size_t n)
{
	char	 buf[PW_NFKC_BUF], *p;
	size_t	 len;
	int	 rc;

	rc = -1;
	len = 0;
	if ((p = uni_nfkc(pw, n, buf, sizeof(buf), &len)) != NULL &&
	    crypto_pwhash_str(out, p, len, AUTH_PWHASH_OPSLIMIT,
	    AUTH_PWHASH_MEMLIMIT) == 0)
		rc = 0;
	pw_done(p, len, buf);
	return rc;
}

/*
 * What an unknown user's password is checked against: the hash of a
 * random password nobody kept, made with AUTH_PWHASH_* (a unit test fails
 * when the two drift apart), so the check costs what a real one does.
 */
const char auth_dummy_hash[crypto_pwhash_STRBYTES] = "$argon2id$v=19$m=19456,t=2,p=1$"
    "FCkJi/+TCL3YQJaBiJ8fpg$Tziso3H7l63MA6Ayq15Syjadn7uUy8KKnN0TjWF5zzI";

/*
 * Hashes made before passwords were normalised hold the password as it
 * was sent. When the NFKC form does not match and differs from what was
 * sent, the password as sent is tried too (AUTH_PW_LEGACY: the caller
 * rehashes). An unknown user pays for the same number of checks, so the
 * time taken does not tell whether the email exists.
 */
int
auth_password_verify(const char *hash, const char *pw, size_t n)
{
	char		 buf[PW_NFKC_BUF], *p;
	const char	*h;
	size_t		 len;
	int		 rc, differs, spent;

	/* A NULL hash: the answer is always "no"; only the time spent matters. */
	h = hash != NULL ? hash : auth_dummy_hash;
	rc = AUTH_PW_NO;
	len = 0;
	if ((p = uni_nfkc(pw, n, buf, sizeof(buf), &len)) == NULL) {
		/* Not UTF-8 (or no memory): no password we hashed; same cost. */
		if (bascrypt_format(h) == BASCRYPT_FMT_SCRYPT)
			bascrypt_spend(pw, n);
		else {
			spent = crypto_pwhash_str_verify(h, pw, n);
			(void)spent;
		}
		goto out;
	}
	/* Imported from Better-Auth, which hashed the NFKC form only. */
	if (bascrypt_format(h) == BASCRYPT_FMT_SCRYPT) {
		if (bascrypt_verify(h, p, len) == 1)
			rc = AUTH_PW_SCRYPT;
		goto out;
	}
	differs = len != n || memcmp(p, pw, n) != 0;
	if (crypto_pwhash_str_verify(h, p, len) == 0)
		rc = AUTH_PW_OK;
	else if (differs && crypto_pwhash_str_verify(h, pw, n) == 0)
		rc = AUTH_PW_LEGACY;
	if (hash == NULL)
		rc = AUTH_PW_NO;
out:
	pw_done(p, len, buf);
	return rc;
}

void
auth_password_pad(const char *hash, const char *pw, size_t n)
{

	if (hash != NULL && bascrypt_format(hash) == BASCRYPT_FMT_SCRYPT)
		(void)auth_password_verify(NULL, pw, n);
	else
		bascrypt_spend(pw, n);
}

int
auth_password_needs_rehash(const char *hash)
{

	return crypto_pwhash_str_needs_rehash(hash, AUTH_PWHASH_OPSLIMIT,
	    AUTH_PWHASH_MEMLIMIT) != 0;
}

static void
wipe_token(void *p)
{

	sodium_memzero(p, AUTH_TOKEN_LEN);
}

/* STMT_SESSION_LOOKUP's columns. */
#define LOOKUP_SLIDE	3	/* the expiry should move forward */
#define LOOKUP_SEEN	4	/* last_used_at is over a minute old */
#define LOOKUP_USER	5

/* Fills s from a STMT_SESSION_LOOKUP row. */
static int
session_from_row(struct session *s, const PGresult *res)
{

	s->id = PQgetvalue(res, 0, 0);
	if (fmt_ts(s->expires_at, PQgetvalue(res, 0, 1)) == -1 ||
	    fmt_ts(s->created_at, PQgetvalue(res, 0, 2)) == -1)
		return -1;
	return user_from_row(&s->user, res, 0, LOOKUP_USER);
}

/*
 * Looks the session of token hash hash up, from a replica when one is
 * usable, and makes sure the answer is new enough: a session created a
 * moment ago may not have reached the replica yet (asked again on the
 * primary), and a user whose sessions changed (revoke.h) is believed
 * only from a server that has replayed the change. Returns QERR_OK with
 * *res (arena; no row when there is no such session) or the error.
 */
static enum qerr
session_lookup(struct req *r, const char *hash, const char *max_age,
    PGresult **res)
{
	const char	*params[2];
	uint64_t	 need;
	enum qerr	 e;

	params[0] = hash;
	params[1] = max_age;
	if ((e = db_exec(r, DB_READ, STMT_SESSION_LOOKUP, params, res)) != QERR_OK)
		return e;
	if (PQntuples(*res) == 0 && r->ryw.served_lsn != UINT64_MAX)
		return db_exec(r, DB_PRIMARY, STMT_SESSION_LOOKUP, params, res);
	if (PQntuples(*res) != 1)
		return QERR_OK;
	need = revoke_required_lsn(PQgetvalue(*res, 0, LOOKUP_USER));
	if (r->ryw.served_lsn >= need)
		return QERR_OK;
	/* A replica that has replayed the user's last change, or the primary. */
	if (need > r->ryw.min_lsn)
		r->ryw.min_lsn = need;
	return db_exec(r, DB_READ, STMT_SESSION_LOOKUP, params, res);
}

enum qerr
auth_resolve(struct req *r)
{
	struct session	*s;
	PGresult	*res, *tres;
	const char	*tok, *params[3];
	char		 buf[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_LEN + 1];
	char		 ttl[24], max_age[24], *tok_for_cookie;
	uint64_t	 seq, at;
	enum qerr	 e;
	int		 via_cookie;

	r->sess = NULL;
	via_cookie = 0;
	if ((tok = auth_bearer_token(req_param(r, "HTTP_AUTHORIZATION"), buf)) == NULL) {
		tok = auth_cookie_token(req_param(r, "HTTP_COOKIE"), buf);
		via_cookie = 1;
	}
	if (tok == NULL)
		return QERR_OK;
	auth_token_hash(tok, hash);
	/* Kept only for a sliding cookie's renewal; wiped with the request. */
	if ((tok_for_cookie = arena_strdup(r->arena, tok)) == NULL ||
	    arena_defer(r->arena, wipe_token, tok_for_cookie) != QERR_OK)
		return QERR_NOMEM;
	sodium_memzero(buf, sizeof(buf));
	if ((e = ryw_caller(r, hash)) != QERR_OK)
		return e;
	/* An entry older than the client's read position is not good enough. */
	if ((s = sesscache_get(hash, r->arena, r->ryw.client_lsn)) != NULL) {
		s->via_cookie = via_cookie;
		ryw_need_own(r);
		r->sess = s;
		return QERR_OK;
	}
	/* Read before the lookup: a change meanwhile makes the entry old. */
	seq = revoke_seq();
	/* The lookup needs a replica past the floor and the client's position. */
	ryw_need_floor(r);
	snprintf(max_age, sizeof(max_age), "%ld", r->conf->session_max_age);
	if ((e = session_lookup(r, hash, max_age, &res)) != QERR_OK)
		return e;
	if (PQntuples(res) != 1)
		return QERR_OK;
	/* What the answer is at least as new as: the replica's, or what we asked. */
	at = r->ryw.served_lsn != UINT64_MAX && r->ryw.served_lsn > r->ryw.min_lsn ?
	    r->ryw.served_lsn : r->ryw.min_lsn;
	if ((s = arena_calloc(r->arena, sizeof(*s))) == NULL)
		return QERR_NOMEM;
	if (session_from_row(s, res) == -1)
		return QERR_DB;
	s->via_cookie = via_cookie;
	/* Everything else this client reads must include its own writes. */
	ryw_need_own(r);
	if (PQgetvalue(res, 0, LOOKUP_SLIDE)[0] == 't') {
		/*
		 * Used after a day: slide the expiry forward, never past the
		 * absolute age; last_used_at goes with it.
		 */
		snprintf(ttl, sizeof(ttl), "%ld", r->conf->session_ttl);
		params[0] = s->id;
		params[1] = ttl;
		params[2] = max_age;
		if (db_exec(r, DB_PRIMARY, STMT_SESSION_TOUCH, params, &tres) == QERR_OK &&
		    PQntuples(tres) == 1) {
			(void)fmt_ts(s->expires_at, PQgetvalue(tres, 0, 0));
			/* The browser's copy must live as long as the row now does. */
			if (via_cookie)
				auth_set_cookie(r, tok_for_cookie);
		}
	} else {
		/*
		 * lastUsedAt: one write a minute per session at most, and only
		 * on a miss of the session cache, so the read path stays free
		 * of writes in between. A failure costs only its accuracy.
		 */
		params[0] = s->id;
		if (PQgetvalue(res, 0, LOOKUP_SEEN)[0] == 't' &&
		    db_exec(r, DB_PRIMARY, STMT_SESSION_SEEN, params, &tres) != QERR_OK)
			log_msg(LVL_WARN, r->in.reqid, "last_used_at not written");
		sesscache_put(hash, s, seq, at);
	}
	r->sess = s;
	return QERR_OK;
}

int
auth_is_admin(const struct req *r)
{

	return r->sess != NULL && strcmp(r->sess->user.role, "admin") == 0;
}

int
auth_is_self(const struct req *r, const char *user_id)
{

	return r->sess != NULL && strcmp(r->sess->user.id, user_id) == 0;
}

enum user_view
auth_user_view(const struct req *r, const char *user_id)
{

	if (auth_is_admin(r))
		return USER_VIEW_ADMIN;
	return auth_is_self(r, user_id) ? USER_VIEW_SELF : USER_VIEW_PUBLIC;
}

int
auth_origin_ok(const struct req *r)
{
	const char	*origin;

	if (r->sess == NULL || !r->sess->via_cookie)
		return 0;
	if (r->in.method != METHOD_POST && r->in.method != METHOD_PATCH &&
	    r->in.method != METHOD_DELETE)
		return 0;
	if ((origin = req_param(r, "HTTP_ORIGIN")) == NULL)
		return 0;
	return conf_origin_allowed(r->conf, origin) ? 0 : -1;
}

const char *
auth_client_addr(struct req *r)
{
	char	*out;

	if (r->in.client_addr != NULL)
		return r->in.client_addr;
	if ((out = arena_alloc(r->arena, XFF_ADDR_MAX)) == NULL)
		return "unknown";
	r->in.client_addr = xff_client(req_param(r, "REMOTE_ADDR"),
	    req_param(r, "HTTP_X_FORWARDED_FOR"), r->conf->proxies,
	    r->conf->nproxies, out);
	return r->in.client_addr;
}

void
auth_set_cookie(struct req *r, const char *token)
{
	char	 v[256];

	/* No cookie need live past the absolute age of any session. */
	if (token != NULL)
		snprintf(v, sizeof(v), AUTH_COOKIE "=%s; Max-Age=%ld; Path=/; "
		    "HttpOnly; SameSite=Lax%s", token,
		    r->conf->session_ttl < r->conf->session_max_age ?
		    r->conf->session_ttl : r->conf->session_max_age,
		    r->conf->cookie_secure ? "; Secure" : "");
	else
		snprintf(v, sizeof(v), AUTH_COOKIE "=; Max-Age=0; Path=/; "
		    "HttpOnly; SameSite=Lax%s",
		    r->conf->cookie_secure ? "; Secure" : "");
	resp_header(r, "Set-Cookie", v);
	sodium_memzero(v, sizeof(v));
}
