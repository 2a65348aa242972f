/*
 * Unit tests of the session cache (src/sesscache.c): hits are copies,
 * a change of the user (revoke.h), a newer read position or the
 * lifetime ends an entry, sessions near their expiry are not kept, and
 * a slot holds one token at a time.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "auth.h"
#include "revoke.h"
#include "sesscache.h"
#include "shm.h"
#include "tap.h"

static char	 name_buf[128];

/* An RFC 3339 timestamp `secs' from now, as fmt_ts() writes them. */
static void
ts_in(char *dst, long secs)
{
	time_t		 t = time(NULL) + secs;
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(dst, FMT_TS_LEN + 1, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static void
make_session(struct session *s, long expires_in)
{

	memset(s, 0, sizeof(*s));
	s->id = "11111111-1111-4111-8111-111111111111";
	s->user.id = "22222222-2222-4222-8222-222222222222";
	snprintf(name_buf, sizeof(name_buf), "Ada");
	s->user.name = name_buf;
	s->user.email = "ada@example.com";
	s->user.image = NULL;
	s->user.role = "user";
	s->user.email_verified = 1;
	strcpy(s->user.created_at, "2026-01-02T03:04:05.678Z");
	strcpy(s->user.updated_at, "2026-01-02T03:04:05.678Z");
	ts_in(s->expires_at, expires_in);
	strcpy(s->created_at, "2026-01-02T03:04:05.678Z");
	s->via_cookie = 1;
}

/* A hex SHA-256-shaped key; its first 8 characters pick the slot. */
static void
key(char *dst, const char *prefix, char fill)
{

	memset(dst, fill, AUTH_HASH_LEN);
	dst[AUTH_HASH_LEN] = '\0';
	memcpy(dst, prefix, strlen(prefix));
}

int
main(void)
{
	struct arena	*a;
	struct session	 s, *got;
	char		 k1[AUTH_HASH_LEN + 1], k2[AUTH_HASH_LEN + 1];
	struct timespec	 nap = { 0, 300 * 1000 * 1000 };
	uint64_t	 gen;
	int		 i, other;

	if (shm_init(NULL) != QERR_OK || revoke_shm_init() != QERR_OK ||
	    (a = arena_new(4096, 0)) == NULL) {
		printf("Bail out! set-up failed\n");
		return 1;
	}
	key(k1, "abcdef01", '0');
	key(k2, "abcdef01", '1');

	/* Off: nothing is kept. */
	sesscache_init(0);
	make_session(&s, 3600);
	sesscache_put(k1, &s, revoke_seq(), 0);
	ok(sesscache_get(k1, a, 0) == NULL, "a cache with lifetime 0 keeps nothing");

	sesscache_init(200);
	ok(sesscache_get(k1, a, 0) == NULL, "an empty cache misses");
	sesscache_put(k1, &s, revoke_seq(), 0);
	got = sesscache_get(k1, a, 0);
	ok(got != NULL, "a session just put is found");
	if (got != NULL) {
		is_str(got->id, s.id, "session id");
		is_str(got->user.id, s.user.id, "user id");
		is_str(got->user.name, "Ada", "name");
		is_str(got->user.email, s.user.email, "email");
		ok(got->user.image == NULL, "a null image stays null");
		is_str(got->user.role, "user", "role");
		is_int(got->user.email_verified, 1, "emailVerified");
		is_str(got->expires_at, s.expires_at, "expiresAt");
		is_str(got->user.created_at, s.user.created_at, "createdAt");
		is_int(got->via_cookie, 0, "how the token came is the caller's to say");
		ok(got->user.name != s.user.name, "the hit is a copy, not the caller's strings");
	}
	/* The caller's buffers change afterwards: the cache kept its own. */
	snprintf(name_buf, sizeof(name_buf), "Changed");
	got = sesscache_get(k1, a, 0);
	ok(got != NULL && strcmp(got->user.name, "Ada") == 0, "the cache owns its copy");
	ok(sesscache_get(k2, a, 0) == NULL, "another token in the same slot misses");

	/* A change of the user ends its entries at once, and only its. */
	gen = revoke_seq();
	revoke_note("33333333-3333-4333-8333-333333333333", 10);
	ok(sesscache_get(k1, a, 0) != NULL, "another user's change leaves the entry alone");
	revoke_note(s.user.id, 20);
	ok(revoke_seq() > gen, "a change takes a new sequence number");
	ok(sesscache_get(k1, a, 0) == NULL, "an entry fetched before its user's change is not used");
	is_int(revoke_required_lsn(s.user.id), 20, "the change's position is kept for the user");

	/* An entry read before a change is stale from the start. */
	make_session(&s, 3600);
	sesscache_put(k1, &s, gen, 0);
	ok(sesscache_get(k1, a, 0) == NULL, "a lookup that raced a change is not kept usable");
	sesscache_put(k1, &s, revoke_seq(), 0);
	ok(sesscache_get(k1, a, 0) != NULL, "one read after the change is");

	/* A client bringing a newer position than the entry's misses. */
	sesscache_put(k1, &s, revoke_seq(), 500);
	ok(sesscache_get(k1, a, 500) != NULL, "an entry as new as the client's position is used");
	ok(sesscache_get(k1, a, 501) == NULL, "one older than the client's position is not");

	/* Every user at once (a listener that reconnected). */
	sesscache_invalidate();
	ok(sesscache_get(k1, a, 0) == NULL, "invalidate ends every entry");

	/* The lifetime bounds everything else. */
	sesscache_put(k1, &s, revoke_seq(), 0);
	ok(sesscache_get(k1, a, 0) != NULL, "fresh entry found");
	nanosleep(&nap, NULL);
	ok(sesscache_get(k1, a, 0) == NULL, "an entry older than its lifetime is not used");

	/* A session about to expire is never kept. */
	make_session(&s, 30);
	sesscache_put(k1, &s, revoke_seq(), 0);
	ok(sesscache_get(k1, a, 0) == NULL, "a session expiring within a minute is not kept");
	make_session(&s, 3600);
	strcpy(s.expires_at, "garbage");
	sesscache_put(k1, &s, revoke_seq(), 0);
	ok(sesscache_get(k1, a, 0) == NULL, "an unreadable expiry is not kept");

	/* One slot holds one token: the newer replaces the older. */
	make_session(&s, 3600);
	sesscache_put(k1, &s, revoke_seq(), 0);
	sesscache_put(k2, &s, revoke_seq(), 0);
	ok(sesscache_get(k2, a, 0) != NULL, "the newer token is found");
	ok(sesscache_get(k1, a, 0) == NULL, "the one it replaced misses");

	/* Tokens spread over the slots: many distinct ones are all kept. */
	other = 0;
	for (i = 0; i < SESSCACHE_SLOTS * 4; i++) {
		char	 k[AUTH_HASH_LEN + 1], p[9];

		snprintf(p, sizeof(p), "%08x", (unsigned)i * 2654435761u);
		key(k, p, 'f');
		sesscache_put(k, &s, revoke_seq(), 0);
		other += sesscache_get(k, a, 0) != NULL;
	}
	is_int(other, SESSCACHE_SLOTS * 4, "every token is found right after it is put");
	ok(sesscache_get("short", a, 0) == NULL, "a malformed key misses");

	sesscache_free();
	arena_free(a);
	return tap_done();
}
