/*
 * Read-your-writes (ryw.h, docs/consistency.md). The table lives in the
 * shared segment and is guarded by its lock; every critical section is
 * a handful of loads and stores. A worker that dies inside one leaves
 * the table to repair() (shm_lock() sees to it).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "pos.h"
#include "ryw.h"
#include "shm.h"

#define SLOTS		16384	/* power of two */
#define PROBE		8

struct slot {
	uint64_t	 key;
	uint64_t	 lsn;
};

struct table {
	uint64_t	 floor;		/* largest evicted or revoking position */
	uint64_t	 high;		/* largest position ever noted */
	struct slot	 slots[SLOTS];
};

static struct table	*t;

/*
 * After a lock holder died, anywhere in its critical section. What it
 * may have left half done:
 *
 * - ryw_note_write: a slot with the new key but the old (victim's) lsn,
 *   or the new lsn under the old key, or a victim overwritten before
 *   the floor was raised to its position. The victim's position is then
 *   lost, and a session whose entry it was could be read from a replica
 *   that has not replayed its write.
 * - ryw_raise_floor: a single store, done or not. Not done is the same
 *   as dying just before taking the lock, which no lock can help with
 *   (the client got no answer, so read-your-writes promised nothing).
 * - readers change nothing.
 *
 * Every position that ever went into a slot or the floor went into
 * high first (a compiler barrier keeps that order), so raising the
 * floor to high gives every session, the mangled slots' included, an
 * answer at least as large as the one it should have had. The cost is
 * that every session's reads wait, for a moment, for replicas to
 * replay up to that point. Keys and positions are aligned 64-bit words,
 * each stored whole: a mangled slot holds some real key and position,
 * which can only make some session's answer larger.
 */
static void
repair(void *region)
{
	struct table	*p = region;

	if (p->high > p->floor)
		p->floor = p->high;
	log_msg(LVL_WARN, NULL, "every session's reads now need position %llu",
	    (unsigned long long)p->floor);
}

enum qerr
ryw_shm_init(void)
{

	t = shm_alloc("ryw.1", sizeof(*t), repair);
	return t != NULL ? QERR_OK : QERR_IO;
}

/* Before anything else in a critical section that stores lsn. */
static void
note_high(uint64_t lsn)
{

	if (lsn > t->high)
		t->high = lsn;
	/* What a SIGKILL leaves behind is program order. */
	atomic_signal_fence(memory_order_seq_cst);
}

uint64_t
ryw_key(const char *s)
{
	uint64_t	 h;

	/* FNV-1a; 0 is reserved for "empty". */
	h = 1469598103934665603ULL;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h == 0 ? 1 : h;
}

void
ryw_note_write(uint64_t key, uint64_t lsn)
{
	struct slot	*s, *victim;
	size_t		 i, base;

	if (t == NULL)
		return;
	base = (size_t)(key & (SLOTS - 1));
	if (shm_lock() == -1)
		return;
	note_high(lsn);
	victim = NULL;
	for (i = 0; i < PROBE; i++) {
		s = &t->slots[(base + i) & (SLOTS - 1)];
		if (s->key == key || s->key == 0) {
			victim = s;
			break;
		}
		if (victim == NULL || s->lsn < victim->lsn)
			victim = s;
	}
	if (victim->key == key) {
		if (lsn > victim->lsn)
			victim->lsn = lsn;
	} else {
		/* Whoever is pushed out still gets a safe answer: the floor. */
		if (victim->key != 0 && victim->lsn > t->floor)
			t->floor = victim->lsn;
		victim->key = key;
		victim->lsn = lsn;
	}
	shm_unlock();
}

uint64_t
ryw_required_lsn(uint64_t key)
{
	struct slot	*s;
	uint64_t	 lsn;
	size_t		 i, base;

	if (t == NULL)
		return 0;
	base = (size_t)(key & (SLOTS - 1));
	/* No lock, no table: no replica may vouch for anyone. */
	if (shm_lock() == -1)
		return UINT64_MAX;
	lsn = t->floor;
	for (i = 0; i < PROBE; i++) {
		s = &t->slots[(base + i) & (SLOTS - 1)];
		if (s->key == key) {
			if (s->lsn > lsn)
				lsn = s->lsn;
			break;
		}
		if (s->key == 0)
			break;
	}
	shm_unlock();
	return lsn;
}

uint64_t
ryw_floor(void)
{
	uint64_t	 lsn;

	if (t == NULL)
		return 0;
	if (shm_lock() == -1)
		return UINT64_MAX;
	lsn = t->floor;
	shm_unlock();
	return lsn;
}

void
ryw_raise_floor(uint64_t lsn)
{

	if (t == NULL)
		return;
	if (shm_lock() == -1)
		return;
	note_high(lsn);
	if (lsn > t->floor)
		t->floor = lsn;
	shm_unlock();
}

enum qerr
ryw_caller(struct req *r, const char *hash)
{

	if ((r->ryw.key = arena_strdup(r->arena, hash)) == NULL)
		return QERR_NOMEM;
	return QERR_OK;
}

void
ryw_need_floor(struct req *r)
{
	uint64_t	 lsn;

	lsn = ryw_floor();
	r->ryw.min_lsn = lsn > r->ryw.client_lsn ? lsn : r->ryw.client_lsn;
}

void
ryw_need_own(struct req *r)
{
	uint64_t	 lsn;

	lsn = ryw_required_lsn(ryw_key(r->ryw.key));
	r->ryw.min_lsn = lsn > r->ryw.client_lsn ? lsn : r->ryw.client_lsn;
}

uint64_t
ryw_high(void)
{
	uint64_t	 lsn;

	if (t == NULL || shm_lock() == -1)
		return 0;
	lsn = t->high;
	shm_unlock();
	return lsn;
}

void
ryw_note_writes(struct req *r, uint64_t l)
{
	PGresult	*res;
	uint64_t	 lsn;

	if (!r->ryw.wrote)
		return;
	if (r->db->nreplicas == 0)
		return;
	/* Read with the last write when it was a lone statement. */
	lsn = r->ryw.lsn_after > l ? r->ryw.lsn_after : l;
	if (lsn == 0 && (db_exec(r, DB_PRIMARY, STMT_WAL_LSN, NULL, &res) != QERR_OK ||
	    PQntuples(res) != 1 ||
	    (lsn = db_parse_lsn(PQgetvalue(res, 0, 0))) == 0)) {
		/*
		 * Without the position this client could read stale data;
		 * say so loudly. The write itself stands.
		 */
		log_msg(LVL_WARN, r->in.reqid, "no WAL position after a write: "
		    "read-your-writes not guaranteed for this session");
		return;
	}
	if (r->ryw.key != NULL)
		ryw_note_write(ryw_key(r->ryw.key), lsn);
	/*
	 * For every host, with a successful answer (an error's writes are
	 * bookkeeping, such as a failed login's rate counters): never lower
	 * than what the client already had.
	 */
	if (r->out.status >= 200 && r->out.status < 300)
		pos_emit(r, lsn > r->ryw.client_lsn ? lsn : r->ryw.client_lsn);
}
