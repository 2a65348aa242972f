/*
 * Unit tests of the shared segment (src/shm.c): regions carved in order
 * and shared with children, its capacity, the lock surviving a holder
 * that is killed (the tenants' repairs run), the checks on a segment
 * file (QUIRE_SHM_PATH) and the marks that refuse a file carved
 * otherwise.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holder.h"
#include "shm.h"
#include "tap.h"

#define NKIDS	6

/* A tenant of the tests: counts its repairs; one word per child. */
struct tenant {
	uint64_t	 repairs;
	uint64_t	 words[NKIDS];
};

static char		 dir[] = "/tmp/quire-test-shm-XXXXXX";
static struct tenant	*ten;

static void
repair(void *region)
{
	struct tenant	*p = region;

	p->repairs++;
}

/* Maps path (NULL: anonymous) and carves the test's tenant. */
static int
map(const char *path)
{

	if (shm_init(path) != QERR_OK) {
		printf("# %s\n", shm_error());
		return 0;
	}
	if ((ten = shm_alloc("test.1", sizeof(*ten), repair)) == NULL) {
		printf("# %s\n", shm_error());
		return 0;
	}
	return 1;
}

static void
carving(void)
{
	char	*a, *b, *c;
	pid_t	 pid;
	int	 st, n;

	ok(shm_alloc("early", 8, NULL) == NULL &&
	    strstr(shm_error(), "shm_init first") != NULL,
	    "no region before shm_init: %s", shm_error());
	if (!map(NULL)) {
		ok(0, "map an anonymous segment");
		return;
	}
	a = shm_alloc("a", 10, NULL);
	b = shm_alloc("b", 100, NULL);
	c = shm_alloc("c", 1, NULL);
	ok(a != NULL && b != NULL && c != NULL, "three regions");
	if (a == NULL || b == NULL || c == NULL)
		return;
	ok((uintptr_t)a % 64 == 0 && b - a == 64 && c - b == 128,
	    "in order, each on its own cache lines (%td, %td)", b - a, c - b);
	ok(a[0] == 0 && b[99] == 0 && c[0] == 0, "zeroed");
	/* Written by a child forked after carving: the parent sees it. */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		memset(b, 'x', 100);
		_exit(0);
	}
	ok(waitpid(pid, &st, 0) == pid && b[0] == 'x' && b[99] == 'x' &&
	    a[9] == 0 && c[0] == 0, "shared with a child, and only that region");

	ok(shm_alloc("huge", (size_t)1 << 20, NULL) == NULL &&
	    strstr(shm_error(), "do not fit") != NULL,
	    "past the capacity: refused (%s)", shm_error());
	ok(shm_alloc("d", 64, NULL) != NULL, "a refusal carves nothing");
	for (n = 0; shm_alloc("more", 8, NULL) != NULL; n++)
		continue;
	ok(n > 0 && n < 16 && strstr(shm_error(), "regions") != NULL,
	    "the number of regions is bounded (%d more; %s)", n, shm_error());
}

/*
 * A child takes the lock through the test hook and is SIGKILLed while it
 * holds it. A second child is already waiting for the lock then; it
 * must get the lock (the kernel says the owner died) after the tenant's
 * repair ran, once; the parent then takes it normally.
 */
static void
owner_dies(void)
{
	pid_t		 holder, waiter;
	uint64_t	 before;
	int		 st;

	before = ten->repairs;
	if ((holder = holder_start()) == -1)
		return;
	/* Blocked on the lock when the holder dies: woken with the lock. */
	if ((waiter = fork()) == 0) {
		if (shm_lock() == -1)
			_exit(1);
		shm_unlock();
		_exit(0);
	}
	usleep(200 * 1000);
	ok(waitpid(waiter, &st, WNOHANG) == 0, "a second child waits for the lock");

	ok(holder_kill(holder), "the holder was killed holding it");
	ok(waitpid(waiter, &st, 0) == waiter && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the waiting child got the lock");
	is_int(ten->repairs, before + 1, "the tenant's repair ran, once");
	ok(shm_lock() == 0, "the lock is taken again");
	shm_unlock();
	ok(shm_lock() == 0, "and released again");
	shm_unlock();
	is_int(ten->repairs, before + 1, "no repair without a death");
}

/*
 * Processes started independently map a new file at once: one of them
 * initialises it, and nobody does it again over the others' writes.
 */
static void
first_mappers(void)
{
	char		 path[256];
	pid_t		 kids[NKIDS];
	int		 go[2], i, st, good;
	char		 c;

	snprintf(path, sizeof(path), "%s/race.shm", dir);
	if (pipe(go) == -1) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	for (i = 0; i < NKIDS; i++) {
		if ((kids[i] = fork()) == 0) {
			close(go[1]);
			/* All start when the pipe closes. */
			if (read(go[0], &c, 1) == -1)
				_exit(2);
			if (!map(path))
				_exit(1);
			ten->words[i] = 100 + (uint64_t)i;
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	good = 0;
	for (i = 0; i < NKIDS; i++)
		if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			good++;
	is_int(good, NKIDS, "six processes mapped the new file");
	if (!map(path)) {
		ok(0, "map it again");
		return;
	}
	good = 0;
	for (i = 0; i < NKIDS; i++)
		if (ten->words[i] == 100 + (uint64_t)i)
			good++;
	is_int(good, NKIDS, "every process's write is there: initialised once");
}

/* 1 when shm_init(path) fails with a reason containing want. */
static int
refused(const char *path, const char *want)
{

	if (shm_init(path) == QERR_OK) {
		printf("# %s was accepted\n", path);
		return 0;
	}
	printf("# %s\n", shm_error());
	return strstr(shm_error(), want) != NULL;
}

/* 1 when the file at path is refused at carving name of size bytes. */
static int
carved_otherwise(const char *path, const char *name, size_t size)
{

	if (shm_init(path) != QERR_OK || shm_alloc(name, size, NULL) != NULL)
		return 0;
	printf("# %s\n", shm_error());
	return strstr(shm_error(), "another version") != NULL;
}

static void
files(void)
{
	struct stat	 st;
	char		 good[256], link[256], other[256], wide[256], odd[256];
	char		 fifo[256];
	uint64_t	 junk = 0x0123456789abcdefULL;
	off_t		 size;
	int		 fd;

	snprintf(good, sizeof(good), "%s/good.shm", dir);
	snprintf(link, sizeof(link), "%s/link.shm", dir);
	snprintf(other, sizeof(other), "%s/other.shm", dir);
	snprintf(wide, sizeof(wide), "%s/wide.shm", dir);
	snprintf(odd, sizeof(odd), "%s/odd.shm", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo.shm", dir);

	ok(map(good), "a new file is made");
	memset(&st, 0, sizeof(st));
	(void)stat(good, &st);
	ok((st.st_mode & 0777) == 0600 && st.st_size > 0,
	    "mode 0600, sized (%o, %lld bytes)", (unsigned)(st.st_mode & 0777),
	    (long long)st.st_size);
	size = st.st_size;
	ten->words[0] = 4242;
	ok(map(good) && ten->words[0] == 4242,
	    "mapped again: the same region, not initialised again");

	/* The marks: what was carved first is carved alike, or refused. */
	ok(carved_otherwise(good, "test.2", sizeof(*ten)),
	    "a region of another name (layout) is refused");
	ok(carved_otherwise(good, "test.1", sizeof(*ten) + 8),
	    "a region of another size is refused");
	ok(map(good) && shm_alloc("next.1", 64, NULL) != NULL &&
	    map(good) && shm_alloc("next.1", 64, NULL) != NULL &&
	    ten->words[0] == 4242, "a region added after the others is taken");

	ok(symlink(good, link) == 0 && refused(link, "symbolic link"), "a symbolic link is refused");
	ok(mkfifo(fifo, 0600) == 0 && refused(fifo, "not a regular file"), "a FIFO is refused");
	ok(refused(dir, "not a regular file") || refused(dir, "Is a directory"),
	    "a directory is refused");

	ok((fd = open(wide, O_RDWR | O_CREAT | O_EXCL, 0600)) != -1 &&
	    fchmod(fd, 0666) == 0 && close(fd) == 0 &&
	    refused(wide, "writable by group or others"), "mode 0666 is refused");
	ok(chmod(wide, 0620) == 0 && refused(wide, "writable by group or others"),
	    "mode 0620 is refused");
	ok(chmod(wide, 0640) == 0 && shm_init(wide) == QERR_OK,
	    "mode 0640 is taken");

	ok((fd = open(odd, O_RDWR | O_CREAT | O_EXCL, 0600)) != -1 &&
	    ftruncate(fd, 100) == 0 && close(fd) == 0 &&
	    refused(odd, "another version"), "a segment of another size is refused");
	ok(truncate(odd, size) == 0 && (fd = open(odd, O_WRONLY)) != -1 &&
	    write(fd, &junk, sizeof(junk)) == (ssize_t)sizeof(junk) && close(fd) == 0 &&
	    refused(odd, "not a segment of this version"),
	    "the right size with a foreign magic word is refused");

	if (geteuid() != 0) {
		printf("ok %d # SKIP a file of another user needs root to make\n",
		    ++tap_count);
		return;
	}
	ok((fd = open(other, O_RDWR | O_CREAT | O_EXCL, 0600)) != -1 &&
	    fchown(fd, 65534, 65534) == 0 && close(fd) == 0 &&
	    refused(other, "owned by uid 65534"), "a file of another user is refused");
}

static void
cleanup(void)
{
	static const char *const names[] = { "good", "link", "other", "wide",
	    "odd", "fifo", "race" };
	char	 path[256];
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.shm", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

int
main(void)
{

	if (holder_setup(dir) == -1)
		return 1;
	carving();
	ok(shm_test_hooks(), "QUIRE_TEST_HOOKS=1 read by shm_init");
	if (!map(NULL)) {
		printf("Bail out! cannot map a segment\n");
		return 1;
	}
	owner_dies();
	/* The same in a file shared by processes that did not fork it. */
	files();
	first_mappers();
	/* Again in the file now mapped (first_mappers' own). */
	owner_dies();
	cleanup();
	return tap_done();
}
