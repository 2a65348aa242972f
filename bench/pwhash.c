/*
 * bench/pwhash.c — the Argon2id cost alone, at quire's configured cost
 * (AUTH_PWHASH_OPSLIMIT / AUTH_PWHASH_MEMLIMIT of include/auth.h), for
 * scenario f's yardstick and for the peer's stored hashes. Built by
 * bench/bench.py on every run (not part of the server):
 *
 *   pwhash hash PASSWORD        prints crypto_pwhash_str(PASSWORD): a PHC
 *                               string ($argon2id$v=19$m=19456,t=2,p=1$...)
 *   pwhash verify PROCS SECS    PROCS processes each run
 *                               crypto_pwhash_str_verify for SECS seconds;
 *                               prints one JSON line with the total count
 *                               and the rate: what POST /auth/login could
 *                               reach if it cost the hash and nothing else
 *   pwhash params               prints the configured cost as JSON
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
usage(void)
{
	fprintf(stderr, "usage: pwhash hash PASSWORD | verify PROCS SECONDS | params\n");
	return 2;
}

static int
do_hash(const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str(out, pw, strlen(pw), AUTH_PWHASH_OPSLIMIT,
	    AUTH_PWHASH_MEMLIMIT) != 0) {
		fprintf(stderr, "pwhash: out of memory\n");
		return -1;
	}
	return 0;
}

/* One child: verifies until the deadline, writes its count to fd. */
static void
child(const char *hash, double until, int fd)
{
	static const char pw[] = "bench-password-1";
	unsigned long n = 0;

	while (now() < until) {
		if (crypto_pwhash_str_verify(hash, pw, sizeof pw - 1) != 0)
			_exit(3);
		n++;
	}
	if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
		_exit(4);
	_exit(0);
}

static int
do_verify(int procs, double secs)
{
	char hash[crypto_pwhash_STRBYTES];
	int fds[2], i, st, bad = 0;
	unsigned long total = 0, n;
	double t0, t1;

	if (do_hash("bench-password-1", hash) != 0)
		return 1;
	if (pipe(fds) != 0) {
		perror("pipe");
		return 1;
	}
	t0 = now();
	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			close(fds[0]);
			child(hash, t0 + secs, fds[1]);
		}
	}
	close(fds[1]);
	for (i = 0; i < procs; i++) {
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	t1 = now();
	while (read(fds[0], &n, sizeof n) == (ssize_t)sizeof n)
		total += n;
	close(fds[0]);
	if (bad) {
		fprintf(stderr, "pwhash: %d of %d processes failed\n", bad, procs);
		return 1;
	}
	printf("{\"procs\": %d, \"secs\": %.3f, \"verifies\": %lu, \"per_s\": %.2f, "
	    "\"opslimit\": %llu, \"memlimit\": %zu}\n", procs, t1 - t0, total,
	    total / (t1 - t0), (unsigned long long)AUTH_PWHASH_OPSLIMIT,
	    (size_t)AUTH_PWHASH_MEMLIMIT);
	return 0;
}

int
main(int argc, char **argv)
{
	char hash[crypto_pwhash_STRBYTES];

	if (sodium_init() < 0) {
		fprintf(stderr, "pwhash: sodium_init failed\n");
		return 1;
	}
	if (argc == 3 && strcmp(argv[1], "hash") == 0) {
		if (do_hash(argv[2], hash) != 0)
			return 1;
		printf("%s\n", hash);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "verify") == 0) {
		int procs = atoi(argv[2]);
		double secs = atof(argv[3]);

		if (procs < 1 || procs > 256 || secs <= 0)
			return usage();
		return do_verify(procs, secs);
	}
	if (argc == 2 && strcmp(argv[1], "params") == 0) {
		printf("{\"opslimit\": %llu, \"memlimit\": %zu}\n",
		    (unsigned long long)AUTH_PWHASH_OPSLIMIT,
		    (size_t)AUTH_PWHASH_MEMLIMIT);
		return 0;
	}
	return usage();
}
