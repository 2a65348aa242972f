/*
 * Read positions between hosts (pos.h). The MAC is keyed BLAKE2b
 * (crypto_generichash) over a domain tag, the version and the position,
 * cut to 16 bytes: enough that guessing one is hopeless, short enough
 * for a cookie.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "fmt.h"
#include "log.h"
#include "pos.h"
#include "resp.h"
#include "shm.h"

#define MAC_BYTES	16
#define RAW_BYTES	(8 + MAC_BYTES)
#define POS_VERSION		'1'
#define DOMAIN		"quire read position"
/* A value longer than this is not looked at. */
#define VALUE_MAX	128
#define REJECT_LOG_S	60.0

/* The host's own key, made once per segment when no key is configured. */
struct hostkey {
	_Atomic uint32_t	 ready;
	unsigned char		 key[CONF_KEY_BYTES];
};

static struct hostkey	*hk;
static unsigned char	 key[CONF_KEY_BYTES];
static int		 have_key;
static int		 shared_key;
static double		 logged_at = -REJECT_LOG_S;

enum qerr
pos_shm_init(void)
{

	hk = shm_alloc("pos.1", sizeof(*hk), NULL);
	return hk != NULL ? QERR_OK : QERR_IO;
}

enum qerr
pos_init(const struct conf *c)
{
	size_t	 n;

	have_key = shared_key = 0;
	if (c->position_key != NULL && c->position_key[0] != '\0') {
		if (sodium_base642bin(key, sizeof(key), c->position_key,
		    strlen(c->position_key), NULL, &n, NULL,
		    sodium_base64_VARIANT_ORIGINAL) != 0 &&
		    sodium_base642bin(key, sizeof(key), c->position_key,
		    strlen(c->position_key), NULL, &n, NULL,
		    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
			return QERR_IO;
		if (n != sizeof(key))
			return QERR_IO;
		have_key = shared_key = 1;
		return QERR_OK;
	}
	if (hk == NULL || shm_lock() == -1)
		return QERR_IO;
	/* The first process on a new segment makes it; the others read it. */
	if (atomic_load(&hk->ready) == 0) {
		randombytes_buf(hk->key, sizeof(hk->key));
		atomic_store(&hk->ready, 1);
	}
	memcpy(key, hk->key, sizeof(key));
	shm_unlock();
	have_key = 1;
	return QERR_OK;
}

int
pos_shared_key(void)
{

	return shared_key;
}

static void
mac(const unsigned char pos[8], unsigned char out[MAC_BYTES])
{
	crypto_generichash_state	 st;
	const unsigned char		 v = POS_VERSION;

	crypto_generichash_init(&st, key, sizeof(key), MAC_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)DOMAIN,
	    sizeof(DOMAIN));
	crypto_generichash_update(&st, &v, 1);
	crypto_generichash_update(&st, pos, 8);
	crypto_generichash_final(&st, out, MAC_BYTES);
}

void
pos_encode(uint64_t lsn, char *out)
{
	unsigned char	 raw[RAW_BYTES];
	int		 i;

	for (i = 0; i < 8; i++)
		raw[i] = (unsigned char)(lsn >> (56 - 8 * i));
	mac(raw, raw + 8);
	out[0] = POS_VERSION;
	out[1] = '.';
	sodium_bin2base64(out + 2, POS_LEN - 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* 1 when c is one of base64url's characters. */
static int
b64url(char c)
{

	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

uint64_t
pos_decode(const char *s, size_t n)
{
	unsigned char	 raw[RAW_BYTES], want[MAC_BYTES];
	uint64_t	 lsn;
	size_t		 i, got;

	if (!have_key || s == NULL)
		return 0;
	fmt_trim(&s, &n);
	if (n != POS_LEN || s[0] != POS_VERSION || s[1] != '.')
		return 0;
	for (i = 2; i < n; i++)
		if (!b64url(s[i]))
			return 0;
	/*
	 * 24 bytes are exactly 32 characters: no spare bits, so one value
	 * has one spelling only.
	 */
	if (sodium_base642bin(raw, sizeof(raw), s + 2, n - 2, NULL, &got, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || got != sizeof(raw))
		return 0;
	mac(raw, want);
	if (sodium_memcmp(want, raw + 8, MAC_BYTES) != 0)
		return 0;
	lsn = 0;
	for (i = 0; i < 8; i++)
		lsn = lsn << 8 | raw[i];
	return lsn;
}

/* Says, now and then, that a client brought a value that did not verify. */
static void
rejected(const struct req *r, const char *where)
{

	if (req_now() - logged_at < REJECT_LOG_S)
		return;
	logged_at = req_now();
	log_msg(LVL_WARN, r->in.reqid, "ignored a %s that is not a read "
	    "position of this service (garbled, forged, or another host's "
	    "QUIRE_POSITION_KEY); next such line in a minute at the earliest",
	    where);
}

/*
 * The largest valid quire_pos in a Cookie header; 0 when none. *bad is
 * set when one was there but did not verify.
 */
static uint64_t
cookie_pos(const char *h, int *bad)
{
	const char	*name, *val, *end;
	size_t		 nlen, vlen;
	uint64_t	 best, v;

	best = 0;
	while (h != NULL && *h != '\0') {
		name = h;
		end = h + strcspn(h, ";");
		h = *end == ';' ? end + 1 : end;
		if ((val = memchr(name, '=', (size_t)(end - name))) == NULL)
			continue;
		nlen = (size_t)(val - name);
		fmt_trim(&name, &nlen);
		if (nlen != sizeof(POS_COOKIE) - 1 ||
		    memcmp(name, POS_COOKIE, nlen) != 0)
			continue;
		val++;
		vlen = (size_t)(end - val);
		if ((v = vlen <= VALUE_MAX ? pos_decode(val, vlen) : 0) == 0)
			*bad = 1;
		else if (v > best)
			best = v;
	}
	return best;
}

uint64_t
pos_from_request(struct req *r)
{
	const char	*h;
	uint64_t	 lsn, c;
	size_t		 n;
	int		 bad;

	lsn = 0;
	bad = 0;
	if ((h = req_param(r, "HTTP_QUIRE_READ_AFTER")) != NULL) {
		n = strlen(h);
		if ((lsn = n <= VALUE_MAX ? pos_decode(h, n) : 0) == 0)
			rejected(r, POS_HEADER " header");
	}
	if ((c = cookie_pos(req_param(r, "HTTP_COOKIE"), &bad)) > lsn)
		lsn = c;
	if (bad)
		rejected(r, POS_COOKIE " cookie");
	return lsn;
}

long
pos_cookie_max_age(const struct conf *c)
{

	/*
	 * A replica within QUIRE_MAX_REPLICA_LAG has replayed what was
	 * committed that long ago; three times that leaves room for clocks
	 * and slow clients. Without a bound, five minutes.
	 */
	if (c->max_replica_lag <= 0)
		return 300;
	return c->max_replica_lag * 3 < 10 ? 10 : c->max_replica_lag * 3;
}

void
pos_emit(struct req *r, uint64_t lsn)
{
	char	 v[POS_LEN + 1], cookie[POS_LEN + 128];

	if (lsn == 0 || !have_key)
		return;
	pos_encode(lsn, v);
	resp_header(r, POS_HEADER, v);
	snprintf(cookie, sizeof(cookie), POS_COOKIE "=%s; Max-Age=%ld; Path=/; "
	    "HttpOnly; SameSite=Lax%s", v, pos_cookie_max_age(r->conf),
	    r->conf->cookie_secure ? "; Secure" : "");
	resp_header_first(r, "Set-Cookie", cookie);
}
