/*
 * Revocation (revoke.h). The table lives in the shared segment and is
 * guarded by its lock; every critical section is a handful of loads and
 * stores. Users are keyed by a hash of their id: two users that collide
 * share a record, which can only make one of them look changed when it
 * was not.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "revoke.h"
#include "ryw.h"
#include "shm.h"

#define SLOTS		4096	/* power of two */
#define PROBE		8

struct slot {
	uint64_t	 key;
	uint64_t	 seq;		/* of the user's last change */
	uint64_t	 lsn;		/* the largest position of its changes */
};

struct table {
	_Atomic uint64_t seq;		/* the last sequence number given */
	uint64_t	 floor_seq;	/* every user changed at least then */
	uint64_t	 floor_lsn;	/* every user's lookups need this */
	uint64_t	 high_lsn;	/* the largest position ever noted */
	struct slot	 slots[SLOTS];
};

static struct table	*t;

/*
 * After a lock holder died in its critical section: a slot may hold a
 * new key with an old sequence number, or a record may have been
 * overwritten before the floors took it. Counting every user as
 * changed now, at the largest position ever noted, covers whatever it
 * was: every cached session is looked up again, once.
 */
static void
repair(void *region)
{
	struct table	*p = region;

	p->floor_seq = atomic_load(&p->seq);
	if (p->high_lsn > p->floor_lsn)
		p->floor_lsn = p->high_lsn;
	log_msg(LVL_WARN, NULL, "every user's sessions are looked up again "
	    "(position %llu)", (unsigned long long)p->floor_lsn);
}

enum qerr
revoke_shm_init(void)
{

	t = shm_alloc("revoke.1", sizeof(*t), repair);
	return t != NULL ? QERR_OK : QERR_IO;
}

/* Under the lock: the next sequence number, and lsn into high_lsn first. */
static uint64_t
next_seq(uint64_t lsn)
{
	uint64_t	 seq;

	if (lsn > t->high_lsn)
		t->high_lsn = lsn;
	seq = atomic_load(&t->seq) + 1;
	atomic_store(&t->seq, seq);
	/* What a SIGKILL leaves behind is program order (repair()). */
	atomic_signal_fence(memory_order_seq_cst);
	return seq;
}

void
revoke_note(const char *user_id, uint64_t lsn)
{
	struct slot	*s, *victim;
	uint64_t	 key, seq;
	size_t		 i, base;

	if (t == NULL)
		return;
	if (strcmp(user_id, REVOKE_ALL_USERS) == 0) {
		revoke_all(lsn);
		return;
	}
	key = ryw_key(user_id);
	base = (size_t)(key & (SLOTS - 1));
	if (shm_lock() == -1)
		return;
	seq = next_seq(lsn);
	victim = NULL;
	for (i = 0; i < PROBE; i++) {
		s = &t->slots[(base + i) & (SLOTS - 1)];
		if (s->key == key || s->key == 0) {
			victim = s;
			break;
		}
		if (victim == NULL || s->seq < victim->seq)
			victim = s;
	}
	if (victim->key != key) {
		/* Whoever is pushed out is remembered in the floors. */
		if (victim->key != 0) {
			if (victim->seq > t->floor_seq)
				t->floor_seq = victim->seq;
			if (victim->lsn > t->floor_lsn)
				t->floor_lsn = victim->lsn;
		}
		victim->key = key;
		victim->lsn = 0;
	}
	victim->seq = seq;
	if (lsn > victim->lsn)
		victim->lsn = lsn;
	shm_unlock();
}

void
revoke_all(uint64_t lsn)
{

	if (t == NULL || shm_lock() == -1)
		return;
	t->floor_seq = next_seq(lsn);
	if (lsn > t->floor_lsn)
		t->floor_lsn = lsn;
	shm_unlock();
}

uint64_t
revoke_seq(void)
{

	return t != NULL ? atomic_load(&t->seq) : 0;
}

/* The user's record, or the floors: its last change's seq and lsn. */
static int
state(const char *user_id, uint64_t *seq, uint64_t *lsn)
{
	struct slot	*s;
	uint64_t	 key;
	size_t		 i, base;

	key = ryw_key(user_id);
	base = (size_t)(key & (SLOTS - 1));
	if (shm_lock() == -1)
		return -1;
	*seq = t->floor_seq;
	*lsn = t->floor_lsn;
	for (i = 0; i < PROBE; i++) {
		s = &t->slots[(base + i) & (SLOTS - 1)];
		if (s->key == key) {
			if (s->seq > *seq)
				*seq = s->seq;
			if (s->lsn > *lsn)
				*lsn = s->lsn;
			break;
		}
		if (s->key == 0)
			break;
	}
	shm_unlock();
	return 0;
}

int
revoke_fresh(const char *user_id, uint64_t seq)
{
	uint64_t	 changed, lsn;

	if (t == NULL)
		return 1;
	/* No lock, no table: nothing cached can be vouched for. */
	if (state(user_id, &changed, &lsn) == -1)
		return 0;
	return changed <= seq;
}

uint64_t
revoke_required_lsn(const char *user_id)
{
	uint64_t	 seq, lsn;

	if (t == NULL)
		return 0;
	if (state(user_id, &seq, &lsn) == -1)
		return UINT64_MAX;
	return lsn;
}

void
revoke_user(struct req *r, const char *user_id)
{
	char	*copy;

	r->ryw.revoked = 1;
	if (r->ryw.every_user)
		return;
	if (r->ryw.nusers == REQ_REVOKE_MAX || user_id == NULL ||
	    (copy = arena_strdup(r->arena, user_id)) == NULL) {
		r->ryw.every_user = 1;
		return;
	}
	r->ryw.users[r->ryw.nusers++] = copy;
}

int
revoke_parse(const char *p, char *user, uint64_t *lsn)
{
	const char	*sp;
	size_t		 n, i;

	if (p == NULL || (sp = strchr(p, ' ')) == NULL)
		return -1;
	n = (size_t)(sp - p);
	if (n == 0 || n >= REVOKE_PAYLOAD_MAX)
		return -1;
	/* A user id (a UUID, or whatever a later schema uses) or "*". */
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_' ||
		    (p[i] == '*' && n == 1)))
			return -1;
	if ((*lsn = db_parse_lsn(sp + 1)) == 0)
		return -1;
	memcpy(user, p, n);
	user[n] = '\0';
	return 0;
}

/*
 * Sends one NOTIFY for who ("*" or a user id). Returns the primary's
 * WAL position read in the same statement, or 0.
 */
static uint64_t
notify(struct req *r, const char *who)
{
	PGresult	*res;
	const char	*params[1];

	params[0] = who;
	if (db_exec(r, DB_PRIMARY, STMT_REVOKE_NOTIFY, params, &res) != QERR_OK ||
	    PQntuples(res) != 1)
		return 0;
	return db_parse_lsn(PQgetvalue(res, 0, 0));
}

uint64_t
revoke_commit(struct req *r)
{
	uint64_t	 lsn, l, at;
	size_t		 i;
	int		 every, missed;

	if (!r->ryw.wrote || !r->ryw.revoked)
		return 0;
	every = r->ryw.every_user || r->ryw.nusers == 0;
	lsn = 0;
	missed = 0;
	if (every) {
		if ((lsn = notify(r, REVOKE_ALL_USERS)) == 0)
			missed = 1;
	} else
		for (i = 0; i < r->ryw.nusers; i++) {
			if ((l = notify(r, r->ryw.users[i])) == 0)
				missed = 1;
			else if (l > lsn)
				lsn = l;
		}
	if (missed)
		log_msg(LVL_WARN, r->in.reqid, "a revocation could not be "
		    "announced to the other hosts (primary gone?): they honour "
		    "it within QUIRE_SESSION_CACHE_MS plus their replicas' lag");
	/*
	 * Recorded here whatever happened to the NOTIFY. Without its
	 * position, the one read with the write, or the largest this host
	 * ever noted: the write is at least that far.
	 */
	at = lsn != 0 ? lsn : r->ryw.lsn_after;
	if (at == 0 && t != NULL)
		at = t->high_lsn;
	if (every)
		revoke_all(at);
	else
		for (i = 0; i < r->ryw.nusers; i++)
			revoke_note(r->ryw.users[i], at);
	return lsn;
}
