/*
 * The shared segment. One process-shared robust mutex guards the
 * session table; every critical section is a handful of loads and
 * stores. Robust, because a worker can die holding it (the OOM killer,
 * SIGKILL): the kernel then hands it to the next taker, who repairs what
 * the dead one may have left half done (repair()) instead of every other
 * worker waiting for ever.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "shm.h"

#define SLOTS		16384	/* power of two */
#define PROBE		8

/*
 * Written last by whoever initialises a segment: "quireSHM" with the
 * layout's version in the last byte. Bump it with every change of
 * struct segment (sizes usually change too; both are checked).
 */
#define SEG_MAGIC	0x7175697265534801ULL

/* The test hook holds the lock at most this long when nobody kills it. */
#define TEST_HOLD_SECS	60

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
	_Atomic uint64_t	 magic;		/* SEG_MAGIC once ready */
	pthread_mutex_t		 lock;		/* guards floor, high and slots */
	uint64_t		 floor;		/* largest evicted position */
	uint64_t		 high;		/* largest position ever noted */
	_Atomic uint64_t	 auth_gen;	/* bumped when a session or user changes */
	struct replica_state	 primary;	/* only up_us is used */
	struct replica_state	 replicas[SHM_REPLICAS];
	struct slot		 slots[SLOTS];
	struct metrics		 metrics;
};

static struct segment	*seg;
static char		 why[256];	/* shm_error() */
static int		 test_hooks;	/* QUIRE_TEST_HOOKS=1 at shm_init */

__attribute__((format(printf, 1, 2)))
static enum qerr
fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return QERR_IO;
}

/* Makes s's lock: shared between processes, and robust. */
static enum qerr
seg_init(struct segment *s)
{
	pthread_mutexattr_t	 a;
	int			 e;

	if ((e = pthread_mutexattr_init(&a)) != 0)
		return fail("pthread_mutexattr_init: %s", strerror(e));
	if ((e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) == 0 &&
	    (e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) == 0)
		e = pthread_mutex_init(&s->lock, &a);
	(void)pthread_mutexattr_destroy(&a);
	if (e != 0)
		return fail("cannot make a process-shared robust mutex: %s",
		    strerror(e));
	atomic_store_explicit(&s->magic, SEG_MAGIC, memory_order_release);
	return QERR_OK;
}

/*
 * Maps the file at path into *out. The file holds what every worker
 * trusts about sessions, so it must be ours alone: a regular file (no
 * symbolic link, device or FIFO), owned by our effective user, writable
 * by nobody else. The first process to map a new (empty) file
 * initialises it; the others, started independently, must not do it
 * again while it is in use: an exclusive flock() serialises the check
 * and the initialisation, and the magic word, written last, says it is
 * done. A process that dies while initialising releases the flock and
 * leaves the magic word at 0, so the next one starts over: nobody can
 * be using a segment without the magic word.
 */
static enum qerr
map_file(const char *path, struct segment **out)
{
	struct stat	 st;
	void		*p;
	uint64_t	 magic;
	enum qerr	 e;
	int		 fd;

	/* O_NONBLOCK: a FIFO must not stall us before fstat refuses it. */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
	    0600);
	if (fd == -1)
		return fail("%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
	if (fstat(fd, &st) == -1) {
		e = fail("%s: fstat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = fail("%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		e = fail("%s: owned by uid %lu, not by this process's uid %lu",
		    path, (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		e = fail("%s: writable by group or others (mode %04o): "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (flock(fd, LOCK_EX) == -1) {
		e = fail("%s: flock: %s", path, strerror(errno));
		goto out;
	}
	/* Under the flock: the size seen before may have changed. */
	if (fstat(fd, &st) == -1) {
		e = fail("%s: fstat: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size == 0 && ftruncate(fd, (off_t)sizeof(**out)) == -1) {
		e = fail("%s: ftruncate: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size != 0 && st.st_size != (off_t)sizeof(**out)) {
		e = fail("%s: %lld bytes, not %zu: another version's segment? "
		    "Stop every process that uses it, then remove it", path,
		    (long long)st.st_size, sizeof(**out));
		goto out;
	}
	p = mmap(NULL, sizeof(**out), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		e = fail("%s: mmap: %s", path, strerror(errno));
		goto out;
	}
	*out = p;
	magic = atomic_load_explicit(&(*out)->magic, memory_order_acquire);
	if (magic == SEG_MAGIC)
		e = QERR_OK;
	else if (magic == 0) {
		/* New, or left half made by one that died: nobody uses it. */
		memset(p, 0, sizeof(**out));
		e = seg_init(*out);
	} else
		e = fail("%s: not a segment of this version of quire (magic "
		    "%#llx): stop every process that uses it, then remove it",
		    path, (unsigned long long)magic);
	if (e != QERR_OK) {
		(void)munmap(p, sizeof(**out));
		*out = NULL;
	}
out:
	/* Explicitly: the mapping keeps the open file, and so the flock. */
	(void)flock(fd, LOCK_UN);
	(void)close(fd);
	return e;
}

enum qerr
shm_init(const char *path)
{
	struct segment	*s;
	const char	*v;
	void		*p;

	why[0] = '\0';
	s = NULL;
	/* Read once: see shm_test_hook(). */
	test_hooks = (v = getenv("QUIRE_TEST_HOOKS")) != NULL &&
	    strcmp(v, "1") == 0;
	if (path == NULL || *path == '\0') {
		p = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail("mmap: %s", strerror(errno));
		/* Zero-filled, and nobody else has it yet. */
		s = p;
		if (seg_init(s) != QERR_OK) {
			(void)munmap(p, sizeof(*s));
			return QERR_IO;
		}
	} else if (map_file(path, &s) != QERR_OK)
		return QERR_IO;
	if (seg != NULL)
		(void)munmap(seg, sizeof(*seg));
	seg = s;
	metrics_init(&seg->metrics);
	if (test_hooks)
		log_msg(LOG_WARN, NULL, "QUIRE_TEST_HOOKS=1: test hooks are on; "
		    "never set it in production");
	return QERR_OK;
}

const char *
shm_error(void)
{

	return why[0] != '\0' ? why : "unknown error";
}

/*
 * After a lock holder died, anywhere in its critical section. What it
 * may have left half done:
 *
 * - shm_note_write: a slot with the new key but the old (victim's) lsn,
 *   or the new lsn under the old key, or a victim overwritten before
 *   the floor was raised to its position. The victim's position is then
 *   lost, and a session whose entry it was could be read from a replica
 *   that has not replayed its write.
 * - shm_raise_floor: a single store, done or not. Not done is the same
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
repair(void)
{

	if (seg->high > seg->floor)
		seg->floor = seg->high;
}

/*
 * Takes the lock; 0 when held, -1 (not expected) when it cannot be had.
 * EOWNERDEAD: the holder died and we hold it now, with the table to
 * repair before it is marked consistent again.
 */
static int
lock(void)
{
	int	 e;

	if ((e = pthread_mutex_lock(&seg->lock)) == 0)
		return 0;
	if (e != EOWNERDEAD) {
		log_msg(LOG_ERROR, NULL, "shared lock: %s", strerror(e));
		return -1;
	}
	repair();
	if ((e = pthread_mutex_consistent(&seg->lock)) != 0) {
		log_msg(LOG_ERROR, NULL, "shared lock: %s", strerror(e));
		(void)pthread_mutex_unlock(&seg->lock);
		return -1;
	}
	log_msg(LOG_WARN, NULL, "a worker died holding the shared lock; "
	    "every session's reads now need position %llu",
	    (unsigned long long)seg->floor);
	return 0;
}

static void
unlock(void)
{

	(void)pthread_mutex_unlock(&seg->lock);
}

/* Before anything else in a critical section that stores lsn. */
static void
note_high(uint64_t lsn)
{

	if (lsn > seg->high)
		seg->high = lsn;
	/* What a SIGKILL leaves behind is program order. */
	atomic_signal_fence(memory_order_seq_cst);
}

int
shm_test_hooks(void)
{

	return test_hooks;
}

/*
 * Test-only, for tests/integration/test_23_shm_lock.py: a request
 * carrying "X-Quire-Test: hold-shm-lock" makes the worker take the lock
 * and sleep holding it, so the test can SIGKILL a worker that holds it.
 * Nobody killing it, it lets go after TEST_HOLD_SECS and the request
 * goes on.
 */
void
shm_test_hook(const char *what)
{
	struct timespec	 nap = { 0, 100 * 1000 * 1000 };
	int		 i;

	if (!test_hooks || seg == NULL || what == NULL ||
	    strcmp(what, "hold-shm-lock") != 0)
		return;
	if (lock() == -1)
		return;
	log_msg(LOG_WARN, NULL, "test hook: worker %ld holds the shared lock",
	    (long)getpid());
	for (i = 0; i < TEST_HOLD_SECS * 10; i++)
		(void)nanosleep(&nap, NULL);
	unlock();
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
	if (lock() == -1)
		return;
	note_high(lsn);
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
	/* No lock, no table: no replica may vouch for anyone. */
	if (lock() == -1)
		return UINT64_MAX;
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
	if (lock() == -1)
		return UINT64_MAX;
	lsn = seg->floor;
	unlock();
	return lsn;
}

void
shm_raise_floor(uint64_t lsn)
{

	if (seg == NULL)
		return;
	if (lock() == -1)
		return;
	note_high(lsn);
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
