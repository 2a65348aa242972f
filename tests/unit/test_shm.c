/*
 * Unit tests of what the workers share (src/shm.c): the lag kept for a
 * replica, the session table, its lock surviving a holder that is
 * killed, and the checks on a segment file (QUIRE_SHM_PATH).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm.h"
#include "tap.h"

static char	 dir[] = "/tmp/quire-test-shm-XXXXXX";

/* Lags are kept in whole microseconds. */
static int
near(double got, double want)
{

	return got > want - 1e-5 && got < want + 1e-5;
}

static void
replica_lag(void)
{
	uint64_t	 lsn;
	double		 lag, at;

	/* Never seen current: the replica's figure stands. */
	ok(near(shm_replica_set(0, 100, 40.0, 1000.0), 40.0), "no bound before a current sighting");
	shm_replica_get(0, &lsn, &lag, &at);
	ok(lsn == 100 && near(lag, 40.0) && near(at, 1000.0), "kept: lsn %llu lag %g at %g",
	    (unsigned long long)lsn, lag, at);

	/* Current at 1001; at 1002.5 a checkpoint record waits: 1.5 s, not 70. */
	ok(near(shm_replica_set(0, 200, 0.0, 1001.0), 0.0), "current: lag 0");
	ok(near(shm_replica_set(0, 210, 70.0, 1002.5), 1.5), "after a quiet spell: bounded by the sighting");
	shm_replica_get(0, &lsn, &lag, &at);
	ok(lsn == 210 && near(lag, 1.5), "the bounded lag is what the workers see (%g)", lag);

	/* Really stuck: the bound grows with time and keeps counting. */
	ok(near(shm_replica_set(0, 210, 75.0, 1031.0), 30.0), "stuck 30 s: lag 30");
	/* A smaller figure from the replica wins. */
	ok(near(shm_replica_set(0, 220, 0.25, 1032.0), 0.25), "the replica's own smaller figure");
	/* Negative figures (clock skew) count as none. */
	ok(near(shm_replica_set(0, 230, -1.0, 1033.0), 0.0), "negative lag is 0");

	/* Replicas are tracked apart; out of range is refused quietly. */
	ok(near(shm_replica_set(1, 5, 9.0, 1034.0), 9.0), "replica 1 has its own sighting (none)");
	ok(near(shm_replica_set(-1, 5, 3.0, 1034.0), 3.0), "out of range: the figure back, nothing kept");
	shm_replica_get(-1, &lsn, &lag, &at);
	ok(lsn == 0 && lag == 0 && at == 0, "out of range reads as nothing");
}

/* A key that lands in slot i (i > 0): a key is its own slot number. */
static uint64_t
key_at(uint64_t i, uint64_t round)
{

	return i + round * 16384;
}

static void
table(void)
{
	uint64_t	 k;

	is_int(shm_required_lsn(key_at(10, 0)), 0, "nothing written: 0");
	shm_note_write(key_at(10, 0), 500);
	is_int(shm_required_lsn(key_at(10, 0)), 500, "own write");
	shm_note_write(key_at(10, 0), 400);
	is_int(shm_required_lsn(key_at(10, 0)), 500, "an older position does not lower it");
	/* Fill the probe window of slot 20, then push one more in. */
	for (k = 0; k < 8; k++)
		shm_note_write(key_at(20, k), 1000 + k);
	shm_note_write(key_at(20, 8), 2000);
	is_int(shm_required_lsn(key_at(20, 8)), 2000, "the newcomer is kept");
	is_int(shm_floor(), 1000, "the smallest was pushed out and became the floor");
	is_int(shm_required_lsn(key_at(20, 0)), 1000, "the pushed-out session gets the floor");
	shm_raise_floor(1500);
	is_int(shm_required_lsn(key_at(99, 0)), 1500, "a raised floor counts for everyone");
}

/*
 * A child takes the lock through the test hook and is SIGKILLed while it
 * holds it. A second child is already waiting for the lock then; both
 * it and the parent must get the lock (the kernel says the owner died,
 * shm.c repairs and goes on) and find a usable table.
 */
static void
owner_dies(void)
{
	char		 buf[512];
	size_t		 got;
	ssize_t		 n;
	pid_t		 holder, waiter;
	int		 fds[2], st;

	shm_note_write(key_at(300, 0), 7000);
	shm_note_write(key_at(301, 0), 7100);
	/* Children must not print the parent's buffered lines again. */
	fflush(stdout);
	if (pipe(fds) == -1 || (holder = fork()) == -1) {
		ok(0, "pipe/fork: %s", strerror(errno));
		return;
	}
	if (holder == 0) {
		/* The hook says so on stderr once it holds the lock. */
		(void)dup2(fds[1], 2);
		close(fds[0]);
		shm_test_hook("hold-shm-lock");
		_exit(3);	/* not killed within TEST_HOLD_SECS */
	}
	close(fds[1]);
	got = 0;
	buf[0] = '\0';
	while (strstr(buf, "holds the shared lock") == NULL && got < sizeof(buf) - 1 &&
	    (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
	}
	close(fds[0]);
	ok(strstr(buf, "holds the shared lock") != NULL, "the child holds the lock");

	/* Blocked on the lock when the holder dies: woken with the lock. */
	fflush(stdout);
	if ((waiter = fork()) == 0)
		_exit(shm_required_lsn(key_at(301, 0)) >= 7100 ? 0 : 1);
	usleep(200 * 1000);
	ok(waitpid(waiter, &st, WNOHANG) == 0, "a second child waits for the lock");

	kill(holder, SIGKILL);
	ok(waitpid(holder, &st, 0) == holder && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL, "the holder was killed holding it");
	ok(waitpid(waiter, &st, 0) == waiter && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the waiting child got the lock and an answer");

	/* The repair: every session needs at least the highest position. */
	is_int(shm_floor(), 7100, "floor raised to the highest position noted");
	is_int(shm_required_lsn(key_at(300, 0)), 7100, "a session's answer is never smaller after the repair");
	shm_note_write(key_at(302, 0), 9000);
	is_int(shm_required_lsn(key_at(302, 0)), 9000, "the table keeps working");
	is_int(shm_required_lsn(key_at(302, 0)), 9000, "and the lock is taken and released again");
}

/*
 * Processes started independently map a new file at once: one of them
 * initialises it, and nobody does it again over the others' writes.
 */
static void
first_mappers(void)
{
	char		 path[256];
	pid_t		 kids[6];
	int		 go[2], i, st, good;
	char		 c;

	snprintf(path, sizeof(path), "%s/race.shm", dir);
	if (pipe(go) == -1) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	for (i = 0; i < 6; i++) {
		if ((kids[i] = fork()) == 0) {
			close(go[1]);
			/* All start when the pipe closes. */
			if (read(go[0], &c, 1) == -1)
				_exit(2);
			if (shm_init(path) != QERR_OK)
				_exit(1);
			shm_note_write(key_at(400 + (uint64_t)i * 20, 0), 100 + (uint64_t)i);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	good = 0;
	for (i = 0; i < 6; i++)
		if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			good++;
	is_int(good, 6, "six processes mapped the new file");
	if (shm_init(path) != QERR_OK) {
		ok(0, "map it again: %s", shm_error());
		return;
	}
	good = 0;
	for (i = 0; i < 6; i++)
		if (shm_required_lsn(key_at(400 + (uint64_t)i * 20, 0)) == 100 + (uint64_t)i)
			good++;
	is_int(good, 6, "every process's write is there: initialised once");
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

	ok(shm_init(good) == QERR_OK, "a new file is made");
	memset(&st, 0, sizeof(st));
	(void)stat(good, &st);
	ok((st.st_mode & 0777) == 0600 && st.st_size > 0,
	    "mode 0600, sized (%o, %lld bytes)", (unsigned)(st.st_mode & 0777),
	    (long long)st.st_size);
	size = st.st_size;
	shm_note_write(key_at(500, 0), 4242);
	ok(shm_init(good) == QERR_OK && shm_required_lsn(key_at(500, 0)) == 4242,
	    "mapped again: the same table, not initialised again");

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

	/* A hang on the lock is a failure, not a stuck build. */
	alarm(60);
	if (setenv("QUIRE_TEST_HOOKS", "1", 1) == -1 || shm_init(NULL) != QERR_OK ||
	    mkdtemp(dir) == NULL) {
		printf("Bail out! set-up failed\n");
		return 1;
	}
	ok(shm_test_hooks(), "QUIRE_TEST_HOOKS=1 read by shm_init");
	replica_lag();
	table();
	owner_dies();
	/* The same in a file shared by processes that did not fork it. */
	files();
	first_mappers();
	/* Again in the file now mapped (first_mappers' own). */
	owner_dies();
	cleanup();
	return tap_done();
}
