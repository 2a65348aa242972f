/*
 * Unit tests of read-your-writes' table (src/ryw.c): positions kept per
 * session, the floor that entries pushed out raise, its repair after a
 * worker is killed holding the lock, and the table shared through a
 * segment file by processes that did not fork each other.
 */
#include "config.h"

#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ryw.h"
#include "holder.h"
#include "shm.h"
#include "tap.h"

static char	 dir[] = "/tmp/quire-test-ryw-XXXXXX";
static char	 path[256];

/* A key that lands in slot i (i > 0): a key is its own slot number. */
static uint64_t
key_at(uint64_t i, uint64_t round)
{

	return i + round * 16384;
}

/* Maps path (NULL: anonymous) and carves the table, as main() does. */
static int
map(const char *p)
{

	if (shm_init(p) != QERR_OK || ryw_shm_init() != QERR_OK) {
		printf("# %s\n", shm_error());
		return 0;
	}
	return 1;
}

static void
table(void)
{
	uint64_t	 k;

	is_int(ryw_key("abc"), ryw_key("abc"), "a key is a function of its text");
	ok(ryw_key("abc") != ryw_key("abd") && ryw_key("") != 0,
	    "keys differ, and none is 0 (empty)");
	is_int(ryw_required_lsn(key_at(10, 0)), 0, "nothing written: 0");
	ryw_note_write(key_at(10, 0), 500);
	is_int(ryw_required_lsn(key_at(10, 0)), 500, "own write");
	ryw_note_write(key_at(10, 0), 400);
	is_int(ryw_required_lsn(key_at(10, 0)), 500, "an older position does not lower it");
	/* Fill the probe window of slot 20, then push one more in. */
	for (k = 0; k < 8; k++)
		ryw_note_write(key_at(20, k), 1000 + k);
	ryw_note_write(key_at(20, 8), 2000);
	is_int(ryw_required_lsn(key_at(20, 8)), 2000, "the newcomer is kept");
	is_int(ryw_floor(), 1000, "the smallest was pushed out and became the floor");
	is_int(ryw_required_lsn(key_at(20, 0)), 1000, "the pushed-out session gets the floor");
	ryw_raise_floor(1500);
	is_int(ryw_required_lsn(key_at(99, 0)), 1500, "a raised floor counts for everyone");
	ryw_raise_floor(1200);
	is_int(ryw_floor(), 1500, "the floor never goes down");
}

/*
 * A child takes the segment's lock through the test hook and is
 * SIGKILLed while it holds it. A second child is already waiting for
 * the table then; both it and the parent must get an answer (the
 * table repaired: the floor raised to the highest position noted) and
 * find a usable table.
 */
static void
owner_dies(void)
{
	pid_t		 holder, waiter;
	int		 st;

	ryw_note_write(key_at(300, 0), 7000);
	ryw_note_write(key_at(301, 0), 7100);
	if ((holder = holder_start()) == -1)
		return;
	if ((waiter = fork()) == 0)
		_exit(ryw_required_lsn(key_at(301, 0)) >= 7100 ? 0 : 1);
	usleep(200 * 1000);
	ok(waitpid(waiter, &st, WNOHANG) == 0, "a second child waits for the table");

	ok(holder_kill(holder), "the holder was killed holding the lock");
	ok(waitpid(waiter, &st, 0) == waiter && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the waiting child got an answer");

	/* The repair: every session needs at least the highest position. */
	is_int(ryw_floor(), 7100, "floor raised to the highest position noted");
	is_int(ryw_required_lsn(key_at(300, 0)), 7100, "a session's answer is never smaller after the repair");
	ryw_note_write(key_at(302, 0), 9000);
	is_int(ryw_required_lsn(key_at(302, 0)), 9000, "the table keeps working");
	is_int(ryw_required_lsn(key_at(302, 0)), 9000, "and the lock is taken and released again");
}

/* Processes that did not fork each other share one table through a file. */
static void
shared_file(void)
{
	pid_t	 kids[4];
	int	 i, st, good;

	fflush(stdout);
	for (i = 0; i < 4; i++) {
		if ((kids[i] = fork()) == 0) {
			if (!map(path))
				_exit(1);
			ryw_note_write(key_at(400 + (uint64_t)i * 20, 0), 100 + (uint64_t)i);
			_exit(0);
		}
	}
	good = 0;
	for (i = 0; i < 4; i++)
		if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			good++;
	is_int(good, 4, "four processes mapped the file and wrote");
	if (!map(path)) {
		ok(0, "map it again");
		return;
	}
	good = 0;
	for (i = 0; i < 4; i++)
		if (ryw_required_lsn(key_at(400 + (uint64_t)i * 20, 0)) == 100 + (uint64_t)i)
			good++;
	is_int(good, 4, "every process's write is in the table");
}

int
main(void)
{

	if (holder_setup(dir) == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/ryw.shm", dir);
	/* Not carved: nothing is kept and every replica may serve. */
	ryw_note_write(key_at(5, 0), 50);
	is_int(ryw_required_lsn(key_at(5, 0)), 0, "no table: no position");
	is_int(ryw_floor(), 0, "no table: no floor");
	if (!map(NULL)) {
		printf("Bail out! cannot map a segment\n");
		return 1;
	}
	table();
	owner_dies();
	/* The same in a file shared by processes that did not fork it. */
	if (!map(path)) {
		printf("Bail out! cannot map %s\n", path);
		return 1;
	}
	shared_file();
	owner_dies();
	(void)unlink(path);
	(void)rmdir(dir);
	return tap_done();
}
