/*
 * Sessions and secrets: tokens, their hashes, the cookie and
 * Authorization headers, password hashing, the session check, the
 * Origin check and the client address.
 */
#ifndef QUIRE_AUTH_H
#define QUIRE_AUTH_H

#include <stddef.h>

#include "fmt.h"
#include "quire.h"
#include "req.h"
#include "user.h"

#define AUTH_COOKIE		"quire_session"
#define AUTH_TOKEN_BYTES	32
#define AUTH_TOKEN_LEN		43	/* base64url of 32 bytes, unpadded */
#define AUTH_HASH_LEN		64	/* hex SHA-256 */

/*
 * Argon2id cost, in one place. 19 MiB and 2 passes is the OWASP
 * Password Storage Cheat Sheet's minimum for Argon2id (m=19 MiB, t=2,
 * p=1); libsodium always uses p=1. It keeps a login around 30-60 ms on
 * one core of a small server and a worker's transient memory bounded,
 * while costing an attacker 19 MiB per guess. Raising either value
 * upgrades stored hashes at their next login (needs_rehash).
 */
#define AUTH_PWHASH_OPSLIMIT	2ULL
#define AUTH_PWHASH_MEMLIMIT	((size_t)19 * 1024 * 1024)

struct session {
	const char	*id;			/* borrowed from the PGresult */
	struct user	 user;
	char		 expires_at[FMT_TS_LEN + 1];
	char		 created_at[FMT_TS_LEN + 1];
	int		 via_cookie;
};

/* A fresh random token, AUTH_TOKEN_LEN chars + NUL. */
void		 auth_token_new(char *out);
/* 1 when t[0..n) has the shape of a token. */
int		 auth_token_sane(const char *t, size_t n);
/* Hex SHA-256 of a token into out (AUTH_HASH_LEN + 1 bytes). */
void		 auth_token_hash(const char *token, char *out);

/*
 * The session token of a Cookie header value, or NULL. Several cookies,
 * quoted values and garbage are handled; the first well-formed
 * quire_session wins. Writes the token into out (AUTH_TOKEN_LEN + 1).
 */
const char	*auth_cookie_token(const char *header, char *out);
/* The token of "Bearer <token>" (scheme in any case), or NULL. Same out. */
const char	*auth_bearer_token(const char *header, char *out);

extern const char	auth_dummy_hash[];

/*
 * Passwords are normalised to NFKC before they are hashed or checked
 * (API.md, Authentication), here and nowhere else: callers pass the
 * password as sent. The normalised copies are wiped.
 */

/*
 * Argon2id of the NFKC form of pw through libsodium, into out
 * (crypto_pwhash_STRBYTES). Returns 0, or -1 on failure (pw not UTF-8,
 * no memory).
 */
int		 auth_password_hash(char *out, const char *pw, size_t n);

#define AUTH_PW_NO	0
#define AUTH_PW_OK	1
#define AUTH_PW_LEGACY	2	/* matched a hash from before NFKC: rehash it */
#define AUTH_PW_SCRYPT	3	/* matched a hash imported from Better-Auth */

/*
 * Checks pw against hash: AUTH_PW_OK, AUTH_PW_LEGACY or AUTH_PW_SCRYPT
 * (true too: the caller replaces the hash with Argon2id), or AUTH_PW_NO.
 * A NULL hash verifies against a dummy hash of the same cost and answers
 * AUTH_PW_NO, so unknown users cost the same time. A Better-Auth scrypt
 * hash (bascrypt.h) is checked with scrypt.
 */
int		 auth_password_verify(const char *hash, const char *pw, size_t n);

/*
 * After a refused check of pw against hash (NULL: unknown user), spends
 * what a refused check of the other kind costs: the dummy Argon2id
 * checks after a Better-Auth scrypt hash, one scrypt after anything
 * else. While imported scrypt hashes remain, a login that pays both for
 * every refusal takes the same time whichever the account had, or none.
 */
void		 auth_password_pad(const char *hash, const char *pw, size_t n);
int		 auth_password_needs_rehash(const char *hash);

/*
 * Looks up the session of the request's Bearer token or cookie. Sets
 * r->sess (arena) when valid; leaves it NULL otherwise. Returns only
 * database errors.
 */
enum qerr	 auth_resolve(struct req *) QUIRE_WUR;

/* 1 when the caller is signed in with the admin role. */
int		 auth_is_admin(const struct req *);
/* 1 when the caller is signed in as the user with this id. */
int		 auth_is_self(const struct req *, const char *user_id);
/* How the caller sees the user with this id: admin, self or public view. */
enum user_view	 auth_user_view(const struct req *, const char *user_id);

/* 0 when the request passes the Origin rule of the contract, -1 if not. */
int		 auth_origin_ok(const struct req *);

/*
 * The client's address (xff.h), worked out once per request: canonical
 * text, never invalid UTF-8. Arena memory, or a static "unknown" when
 * the arena is full.
 */
const char	*auth_client_addr(struct req *);

/* Adds Set-Cookie for token (or clears the cookie when token is NULL). */
void		 auth_set_cookie(struct req *, const char *token);

#endif
