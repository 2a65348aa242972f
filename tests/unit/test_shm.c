/*
 * Unit tests of what the workers share about a replica (src/shm.c): the
 * lag kept is the replica's own figure, bounded by the time since it was
 * last seen with nothing to replay.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "shm.h"
#include "tap.h"

/* Lags are kept in whole microseconds. */
static int
near(double got, double want)
{

	return got > want - 1e-5 && got < want + 1e-5;
}

int
main(void)
{
	uint64_t	 lsn;
	double		 lag, at;

	if (shm_init(NULL) != QERR_OK) {
		printf("Bail out! set-up failed\n");
		return 1;
	}

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
	return tap_done();
}
