/*
 * The shared segment. One small spinlock guards the session table;
 * every critical section is a handful of loads and stores.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "shm.h"

#define SLOTS		16384	/* power of two */
#define PROBE		8

struct slot {
	uint64_t	 key;
	uint64_t	 lsn;
};

struct replica_state {
	_Atomic uint64_t	 up_us;		/* monotonic time of a good connect */
	_Atomic uint64_t	 lsn;
	_Atomic uint64_t	 lag_us;
	_Atomic uint64_t	 at_us;		/* monotonic */
	_Atomic uint64_t	 current_us;	/* last seen with nothing to replay */
};

struct segment {
	atomic_flag		 lock;
	uint64_t		 floor;		/* largest evicted position */
	_Atomic uint64_t	 auth_gen;	/* bumped when a session or user changes */
	struct replica_state	 primary;	/* only up_us is used */
	struct replica_state	 replicas[SHM_REPLICAS];
	struct slot		 slots[SLOTS];
	struct metrics		 metrics;
};

static struct segment	*seg;

enum qerr
shm_init(const char *path)
{
	void	*p;
	int	 fd;

	if (path == NULL || *path == '\0') {
		p = mmap(NULL, sizeof(*seg), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
			return QERR_IO;
		if (ftruncate(fd, (off_t)sizeof(*seg)) == -1) {
			close(fd);
			return QERR_IO;
		}
		p = mmap(NULL, sizeof(*seg), PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
		close(fd);
	}
	if (p == MAP_FAILED)
		return QERR_IO;
	/* A fresh mapping is zero-filled: an unlocked, empty table. */
	seg = p;
	metrics_init(&seg->metrics);
	return QERR_OK;
}

static void
lock(void)
{

	while (atomic_flag_test_and_set_explicit(&seg->lock, memory_order_acquire))
		continue;
}

static void
unlock(void)
{

	atomic_flag_clear_explicit(&seg->lock, memory_order_release);
}

uint64_t
shm_key(const char *s)
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
shm_note_write(uint64_t key, uint64_t lsn)
{
	struct slot	*s, *victim;
	size_t		 i, base;

	if (seg == NULL)
		return;
	base = (size_t)(key & (SLOTS - 1));
	lock();
	victim = NULL;
	for (i = 0; i < PROBE; i++) {
		s = &seg->slots[(base + i) & (SLOTS - 1)];
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
		if (victim->key != 0 && victim->lsn > seg->floor)
			seg->floor = victim->lsn;
		victim->key = key;
		victim->lsn = lsn;
	}
	unlock();
}

uint64_t
shm_required_lsn(uint64_t key)
{
	struct slot	*s;
	uint64_t	 lsn;
	size_t		 i, base;

	if (seg == NULL)
		return 0;
	base = (size_t)(key & (SLOTS - 1));
	lock();
	lsn = seg->floor;
	for (i = 0; i < PROBE; i++) {
		s = &seg->slots[(base + i) & (SLOTS - 1)];
		if (s->key == key) {
			if (s->lsn > lsn)
				lsn = s->lsn;
			break;
		}
		if (s->key == 0)
			break;
	}
	unlock();
	return lsn;
}

uint64_t
shm_floor(void)
{
	uint64_t	 lsn;

	if (seg == NULL)
		return 0;
	lock();
	lsn = seg->floor;
	unlock();
	return lsn;
}

void
shm_raise_floor(uint64_t lsn)
{

	if (seg == NULL)
		return;
	lock();
	if (lsn > seg->floor)
		seg->floor = lsn;
	unlock();
}

uint64_t
shm_auth_gen(void)
{

	return seg != NULL ? atomic_load(&seg->auth_gen) : 0;
}

void
shm_auth_bump(void)
{

	if (seg != NULL)
		atomic_fetch_add(&seg->auth_gen, 1);
}

void
shm_replica_get(int i, uint64_t *lsn, double *lag, double *at)
{
	struct replica_state	*r;

	*lsn = 0;
	*lag = 0;
	*at = 0;
	if (seg == NULL || i < 0 || i >= SHM_REPLICAS)
		return;
	r = &seg->replicas[i];
	*lsn = atomic_load(&r->lsn);
	*lag = (double)atomic_load(&r->lag_us) / 1e6;
	*at = (double)atomic_load(&r->at_us) / 1e6;
}

/*
 * The replica's own figure (the age of the last replayed transaction
 * while WAL waits to be replayed) overstates the lag after a quiet
 * spell: the first record that is not a transaction (autovacuum, a
 * checkpoint) makes a replica that was current look as old as the last
 * commit, and would send every read to the primary. A replica seen with
 * nothing to replay at some moment is at most that far behind, so the
 * time since then bounds the lag.
 */
double
shm_replica_set(int i, uint64_t lsn, double lag, double at)
{
	struct replica_state	*r;
	uint64_t		 at_us, current;

	if (lag < 0)
		lag = 0;
	if (seg == NULL || i < 0 || i >= SHM_REPLICAS)
		return lag;
	r = &seg->replicas[i];
	at_us = (uint64_t)(at * 1e6);
	current = atomic_load(&r->current_us);
	if (lag == 0)
		atomic_store(&r->current_us, at_us);
	else if (current != 0 && at_us >= current &&
	    (double)(at_us - current) / 1e6 < lag)
		lag = (double)(at_us - current) / 1e6;
	atomic_store(&r->lsn, lsn);
	atomic_store(&r->lag_us, (uint64_t)(lag * 1e6));
	atomic_store(&r->at_us, at_us);
	return lag;
}

static struct replica_state *
server(int i)
{

	if (seg == NULL || i < -1 || i >= SHM_REPLICAS)
		return NULL;
	return i == -1 ? &seg->primary : &seg->replicas[i];
}

void
shm_server_up(int i, double at)
{
	struct replica_state	*r;

	if ((r = server(i)) != NULL)
		atomic_store(&r->up_us, (uint64_t)(at * 1e6));
}

double
shm_server_up_at(int i)
{
	struct replica_state	*r;

	if ((r = server(i)) == NULL)
		return 0;
	return (double)atomic_load(&r->up_us) / 1e6;
}

uint64_t
shm_parse_lsn(const char *s)
{
	char		*end;
	unsigned long	 hi, lo;

	hi = strtoul(s, &end, 16);
	if (end == s || *end != '/')
		return 0;
	s = end + 1;
	lo = strtoul(s, &end, 16);
	if (end == s || *end != '\0')
		return 0;
	return ((uint64_t)hi << 32) | (uint64_t)(lo & 0xffffffffUL);
}
