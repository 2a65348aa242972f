/*
 * A child that holds the shared segment's lock until it is killed, for
 * the tests of what follows a holder's death (test_shm.c, test_ryw.c).
 * It takes the lock through the test hook: QUIRE_TEST_HOOKS=1 must be
 * in the environment before shm_init().
 */
#ifndef QUIRE_TEST_HOLDER_H
#define QUIRE_TEST_HOLDER_H

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm.h"
#include "tap.h"

/*
 * Before shm_init(): the hook on, a time limit (a hang on the lock is a
 * failure, not a stuck build) and a directory of the test's own, made
 * from the mkdtemp() template dir. Returns 0, or -1 after "Bail out!".
 */
static int
holder_setup(char *dir)
{

	alarm(60);
	if (setenv("QUIRE_TEST_HOOKS", "1", 1) == -1 || mkdtemp(dir) == NULL) {
		printf("Bail out! set-up failed\n");
		return -1;
	}
	return 0;
}

/* The child's pid once it holds the lock (one check), or -1. */
static pid_t
holder_start(void)
{
	char		 buf[512];
	size_t		 got;
	ssize_t		 n;
	pid_t		 pid;
	int		 fds[2];

	/* Children must not print the parent's buffered lines again. */
	fflush(stdout);
	if (pipe(fds) == -1 || (pid = fork()) == -1) {
		ok(0, "pipe/fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The hook says so on stderr once it holds the lock. */
		(void)dup2(fds[1], 2);
		close(fds[0]);
		shm_test_hook("hold-shm-lock");
		_exit(3);	/* not killed within the hook's time */
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
	if (!ok(strstr(buf, "holds the shared lock") != NULL, "the child holds the lock")) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return -1;
	}
	fflush(stdout);
	return pid;
}

/* SIGKILLs the holder; 1 when it died of it. */
static int
holder_kill(pid_t pid)
{
	int	 st;

	kill(pid, SIGKILL);
	return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL;
}

#endif
