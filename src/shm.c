/*
 * The shared segment (shm.h): a header, then regions carved one after
 * another at start-up. The header holds a process-shared robust mutex,
 * for the tenants' short critical sections, and the mark (name and
 * size) of every region carved, so that a segment file shared by
 * processes that did not fork each other is refused when they do not
 * carve it alike. Robust, because a worker can die holding the lock
 * (the OOM killer, SIGKILL): the kernel then hands it to the next
 * taker, who has the tenants repair what the dead one may have left
 * half done instead of every other worker waiting for ever.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"

/*
 * The whole segment, header included. Its regions need about 320 KiB
 * today; pages nobody touches cost nothing, so there is room to grow
 * without changing the size (which would refuse every existing file).
 */
#define SEG_SIZE	((size_t)1 << 20)
#define SEG_REGIONS	16
#define SEG_ALIGN	64	/* a cache line: regions share none */

/*
 * Written last by whoever initialises a segment: "quireSHM" with the
 * header's version in the last byte. Bump it with every change of
 * struct head or SEG_SIZE; the regions are told apart by their marks.
 */
#define SEG_MAGIC	0x7175697265534802ULL

/* The test hook holds the lock at most this long when nobody kills it. */
#define TEST_HOLD_SECS	60

struct head {
	_Atomic uint64_t	 magic;		/* SEG_MAGIC once ready */
	pthread_mutex_t		 lock;
	_Atomic uint64_t	 marks[SEG_REGIONS];	/* region i's mark; 0: none yet */
};

/* What this process carved, in order; the same in every process. */
struct region {
	void	*p;
	void	(*repair)(void *);
};

static struct head	*seg;
static struct region	 regions[SEG_REGIONS];
static size_t		 nregions;
static size_t		 used;		/* bytes carved, the header's included */
static char		 why[256];	/* shm_error() */
static int		 test_hooks;	/* QUIRE_TEST_HOOKS=1 at shm_init */
static int		 seg_fd = -1;	/* the anonymous segment's memfd */
static int		 inherited;	/* the segment came through a reload */

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

static size_t
aligned(size_t n)
{

	return (n + SEG_ALIGN - 1) & ~(size_t)(SEG_ALIGN - 1);
}

/* Makes s's lock: shared between processes, and robust. */
static enum qerr
seg_init(struct head *s)
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
 * trusts (which sessions' reads a replica may serve, among others), so
 * it must be ours alone: a regular file (no symbolic link, device or
 * FIFO), owned by our effective user, writable by nobody else. The
 * first process to map a new (empty) file initialises it; the others,
 * started independently, must not do it again while it is in use: an
 * exclusive flock() serialises the check and the initialisation, and
 * the magic word, written last, says it is done. A process that dies
 * while initialising releases the flock and leaves the magic word at 0,
 * so the next one starts over: nobody can be using a segment without
 * the magic word, nor can anyone have carved it.
 */
static enum qerr
map_file(const char *path, struct head **out)
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
	if (st.st_size == 0 && ftruncate(fd, (off_t)SEG_SIZE) == -1) {
		e = fail("%s: ftruncate: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size != 0 && st.st_size != (off_t)SEG_SIZE) {
		e = fail("%s: %lld bytes, not %zu: another version's segment? "
		    "Stop every process that uses it, then remove it", path,
		    (long long)st.st_size, SEG_SIZE);
		goto out;
	}
	p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		e = fail("%s: mmap: %s", path, strerror(errno));
		goto out;
	}
	*out = p;
	magic = atomic_load_explicit(&(*out)->magic, memory_order_acquire);
	if (magic == SEG_MAGIC)
		e = QERR_OK;
	else if (magic == 0) {
		/*
		 * New, or left half made by one that died: nobody uses it.
		 * A file just made is zeros already; touching its pages
		 * would only make them all resident.
		 */
		if (st.st_size != 0)
			memset(p, 0, SEG_SIZE);
		e = seg_init(*out);
	} else
		e = fail("%s: not a segment of this version of quire (magic "
		    "%#llx): stop every process that uses it, then remove it",
		    path, (unsigned long long)magic);
	if (e != QERR_OK) {
		(void)munmap(p, SEG_SIZE);
		*out = NULL;
	}
out:
	/* Explicitly: the mapping keeps the open file, and so the flock. */
	(void)flock(fd, LOCK_UN);
	(void)close(fd);
	return e;
}

/*
 * The segment a reloading supervisor handed over (QUIRE_SHM_FD, set by
 * the process it was before exec), or NULL. The variable is removed:
 * workers must not take it for theirs.
 */
static struct head *
inherit(void)
{
	struct stat	 st;
	const char	*v;
	void		*p;
	long		 fd;
	char		*end;

	if ((v = getenv(SHM_FD_VAR)) == NULL)
		return NULL;
	fd = strtol(v, &end, 10);
	(void)unsetenv(SHM_FD_VAR);
	if (*v == '\0' || *end != '\0' || fd < 3 || fd > 65535)
		return NULL;
	if (fstat((int)fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size != (off_t)SEG_SIZE ||
	    (p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    (int)fd, 0)) == MAP_FAILED) {
		(void)close((int)fd);
		return NULL;
	}
	if (atomic_load_explicit(&((struct head *)p)->magic,
	    memory_order_acquire) != SEG_MAGIC) {
		(void)munmap(p, SEG_SIZE);
		(void)close((int)fd);
		return NULL;
	}
	seg_fd = (int)fd;
	inherited = 1;
	return p;
}

int
shm_fd(void)
{

	return seg_fd;
}

int
shm_inherited(void)
{

	return inherited;
}

void
shm_discard(void)
{

	if (seg != NULL)
		(void)munmap(seg, SEG_SIZE);
	seg = NULL;
	if (seg_fd >= 0)
		(void)close(seg_fd);
	seg_fd = -1;
	inherited = 0;
}

enum qerr
shm_init(const char *path)
{
	struct head	*s;
	const char	*v;
	void		*p;
	int		 fd;

	why[0] = '\0';
	s = NULL;
	/* Mapping again (tests): the old mapping stays until replaced. */
	if (seg_fd >= 0) {
		(void)close(seg_fd);
		seg_fd = -1;
	}
	/* Read once: see shm_test_hook(). */
	test_hooks = (v = getenv("QUIRE_TEST_HOOKS")) != NULL &&
	    strcmp(v, "1") == 0;
	if (path == NULL || *path == '\0') {
		if ((s = inherit()) == NULL) {
			/*
			 * An anonymous file, kept open across exec (no
			 * MFD_CLOEXEC) so that a reload (main.c) hands the
			 * same counters and tables to the next supervisor.
			 */
			if ((fd = memfd_create("quire-shm", 0)) == -1) {
				/* A sandbox without memfd: no hand-over, then. */
				log_msg(LVL_WARN, NULL, "memfd_create: %s: a "
				    "reload will start the shared state afresh",
				    strerror(errno));
				p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			} else if (ftruncate(fd, (off_t)SEG_SIZE) == -1)
				p = MAP_FAILED;
			else
				p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd, 0);
			if (p == MAP_FAILED) {
				if (fd >= 0)
					(void)close(fd);
				return fail("mmap: %s", strerror(errno));
			}
			/* Zero-filled, and nobody else has it yet. */
			s = p;
			if (seg_init(s) != QERR_OK) {
				(void)munmap(p, SEG_SIZE);
				if (fd >= 0)
					(void)close(fd);
				return QERR_IO;
			}
			seg_fd = fd;
		}
	} else if (map_file(path, &s) != QERR_OK)
		return QERR_IO;
	if (seg != NULL)
		(void)munmap(seg, SEG_SIZE);
	seg = s;
	memset(regions, 0, sizeof(regions));
	nregions = 0;
	used = aligned(sizeof(*seg));
	if (test_hooks)
		log_msg(LVL_WARN, NULL, "QUIRE_TEST_HOOKS=1: test hooks are on; "
		    "never set it in production");
	return QERR_OK;
}

/* What a region is, in one word: its name and size. Never 0. */
static uint64_t
mark(const char *name, size_t size)
{
	uint64_t	 h = 0;

	while (*name != '\0')
		h = h * 131 + (unsigned char)*name++;
	h = h * 131 + size;
	return h == 0 ? 1 : h;
}

void *
shm_alloc(const char *name, size_t size, void (*repair)(void *))
{
	struct region	*r;
	uint64_t	 want, have;

	if (seg == NULL) {
		(void)fail("%s: no shared segment (shm_init first)", name);
		return NULL;
	}
	if (nregions == SEG_REGIONS || size > SEG_SIZE - used) {
		(void)fail("%s: %zu bytes do not fit in the shared segment "
		    "(%zu of %zu bytes carved, %zu regions)", name, size, used,
		    SEG_SIZE, nregions);
		return NULL;
	}
	/*
	 * The first process to carve region i marks it; the others must
	 * carve the same there. No lock: one word, compared and swapped.
	 */
	want = mark(name, size);
	have = 0;
	if (!atomic_compare_exchange_strong(&seg->marks[nregions], &have,
	    want) && have != want) {
		(void)fail("region %zu is not %s of %zu bytes in this segment: "
		    "another version's segment? Stop every process that uses "
		    "it, then remove it", nregions, name, size);
		return NULL;
	}
	r = &regions[nregions++];
	r->p = (char *)seg + used;
	r->repair = repair;
	used += aligned(size);
	return r->p;
}

const char *
shm_error(void)
{

	return why[0] != '\0' ? why : "unknown error";
}

/*
 * EOWNERDEAD: the holder died and we hold the lock now. Whatever the
 * dead one was doing, the tenant whose region it was is the one to say
 * what may be half done: every region's repair runs before the lock is
 * marked consistent again.
 */
int
shm_lock(void)
{
	size_t	 i;
	int	 e;

	if (seg == NULL)
		return -1;
	if ((e = pthread_mutex_lock(&seg->lock)) == 0)
		return 0;
	if (e != EOWNERDEAD) {
		log_msg(LVL_ERROR, NULL, "shared lock: %s", strerror(e));
		return -1;
	}
	log_msg(LVL_WARN, NULL, "a worker died holding the shared lock; "
	    "repairing what it guards");
	for (i = 0; i < nregions; i++)
		if (regions[i].repair != NULL)
			regions[i].repair(regions[i].p);
	if ((e = pthread_mutex_consistent(&seg->lock)) != 0) {
		log_msg(LVL_ERROR, NULL, "shared lock: %s", strerror(e));
		(void)pthread_mutex_unlock(&seg->lock);
		return -1;
	}
	return 0;
}

void
shm_unlock(void)
{

	if (seg != NULL)
		(void)pthread_mutex_unlock(&seg->lock);
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
	if (shm_lock() == -1)
		return;
	log_msg(LVL_WARN, NULL, "test hook: worker %ld holds the shared lock",
	    (long)getpid());
	for (i = 0; i < TEST_HOLD_SECS * 10; i++)
		(void)nanosleep(&nap, NULL);
	shm_unlock();
}
