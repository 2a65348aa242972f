/*
 * The session cache (sesscache.h). Per worker: one slot per token hash
 * and a copy of the session in one allocation. A hit costs one look at
 * the revocation table (revoke.h), under the shared segment's lock.
 */
#include "config.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "mem.h"
#include "req.h"
#include "revoke.h"
#include "sesscache.h"

/* A session this close to its expiry (by our clock) is not kept. */
#define NEAR_EXPIRY_S	60
#define NSTR		7

struct entry {
	char		 hash[AUTH_HASH_LEN + 1];
	uint64_t	 seq;		/* revoke_seq() before the lookup */
	uint64_t	 lsn;		/* the lookup's answer was this new */
	double		 until;		/* monotonic seconds */
	struct session	*s;		/* the struct, then its strings */
};

static struct entry	 slots[SESSCACHE_SLOTS];
static double		 ttl;		/* seconds; 0 when off */

void
sesscache_init(long ttl_ms)
{

	sesscache_free();
	ttl = ttl_ms > 0 ? (double)ttl_ms / 1000.0 : 0.0;
}

void
sesscache_free(void)
{
	size_t	 i;

	for (i = 0; i < SESSCACHE_SLOTS; i++) {
		mem_free(slots[i].s);
		slots[i].s = NULL;
		slots[i].hash[0] = '\0';
	}
}

void
sesscache_invalidate(void)
{

	revoke_all(0);
}

static struct entry *
slot_for(const char *hash)
{
	unsigned int	 h = 0;
	size_t		 i;

	/* The hash is hex SHA-256: any few of its characters are uniform. */
	for (i = 0; i < 8 && hash[i] != '\0'; i++)
		h = h * 31 + (unsigned char)hash[i];
	return &slots[h % SESSCACHE_SLOTS];
}

/* The session's string fields, so that copies can move them. */
static void
str_fields(struct session *s, const char **f[NSTR])
{

	f[0] = &s->id;
	f[1] = &s->user.id;
	f[2] = &s->user.name;
	f[3] = &s->user.email;
	f[4] = &s->user.image;
	f[5] = &s->user.role;
	f[6] = &s->user.ban_reason;
}

static size_t
copy_len(const struct session *s)
{
	const char	*f[NSTR] = { s->id, s->user.id, s->user.name,
			    s->user.email, s->user.image, s->user.role,
			    s->user.ban_reason };
	size_t		 len = sizeof(*s);
	int		 i;

	for (i = 0; i < NSTR; i++)
		if (f[i] != NULL)
			len += strlen(f[i]) + 1;
	return len;
}

/* Copies src and its strings into dst, which holds copy_len(src) bytes. */
static struct session *
copy_to(void *dst, const struct session *src)
{
	struct session	 *s = dst;
	const char	**f[NSTR];
	char		 *p = (char *)(s + 1);
	size_t		  n;
	int		  i;

	*s = *src;
	str_fields(s, f);
	for (i = 0; i < NSTR; i++) {
		if (*f[i] == NULL)
			continue;
		n = strlen(*f[i]) + 1;
		memcpy(p, *f[i], n);
		*f[i] = p;
		p += n;
	}
	return s;
}

/* The digits p[0..n) (a field of an fmt_ts() time stamp), or -1. */
static long long
digits(const char *p, size_t n)
{
	unsigned long long	 v;

	return fmt_parse_u(p, n, 9999, &v) == 0 ? (long long)v : -1;
}

/* Seconds since the epoch of an fmt_ts() timestamp; -1 when malformed. */
static long long
ts_epoch(const char *ts)
{
	long long	 y, mo, d, h, mi, se, era, yoe, doy, doe;

	if (strlen(ts) != FMT_TS_LEN || ts[4] != '-' || ts[10] != 'T')
		return -1;
	y = digits(ts, 4);
	mo = digits(ts + 5, 2);
	d = digits(ts + 8, 2);
	h = digits(ts + 11, 2);
	mi = digits(ts + 14, 2);
	se = digits(ts + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    mi < 0 || se < 0)
		return -1;
	/* Days from the civil date: H. Hinnant's days_from_civil. */
	y -= mo <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + se;
}

struct session *
sesscache_get(const char *hash, struct arena *a, uint64_t min_lsn)
{
	struct entry	*e;
	void		*dst;

	if (ttl <= 0.0 || strlen(hash) != AUTH_HASH_LEN)
		return NULL;
	e = slot_for(hash);
	if (e->s == NULL ||
	    sodium_memcmp(e->hash, hash, AUTH_HASH_LEN) != 0 ||
	    req_now() >= e->until || e->lsn < min_lsn ||
	    !revoke_fresh(e->s->user.id, e->seq))
		return NULL;
	if ((dst = arena_alloc(a, copy_len(e->s))) == NULL)
		return NULL;
	return copy_to(dst, e->s);
}

void
sesscache_put(const char *hash, const struct session *src, uint64_t seq,
    uint64_t lsn)
{
	struct entry	*e;
	struct session	*s;
	long long	 exp;

	if (ttl <= 0.0 || strlen(hash) != AUTH_HASH_LEN)
		return;
	exp = ts_epoch(src->expires_at);
	if (exp == -1 || exp < (long long)time(NULL) + NEAR_EXPIRY_S + (long long)ttl + 1)
		return;
	e = slot_for(hash);
	mem_free(e->s);
	e->s = NULL;
	/* A failed allocation just leaves the slot empty. */
	if ((s = mem_malloc(copy_len(src))) == NULL)
		return;
	e->s = copy_to(s, src);
	e->s->via_cookie = 0;
	memcpy(e->hash, hash, AUTH_HASH_LEN + 1);
	e->seq = seq;
	e->lsn = lsn;
	e->until = req_now() + ttl;
}
