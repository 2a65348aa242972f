/*
 * Unit tests of what db.c keeps of each replica in the shared segment
 * (the lag bound after a quiet spell), of its pg_lsn parser and of the
 * log level of a server notice.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "shm.h"
#include "tap.h"

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
	ok(near(db_replica_set(0, 100, 40.0, 1000.0), 40.0), "no bound before a current sighting");
	db_replica_get(0, &lsn, &lag, &at);
	ok(lsn == 100 && near(lag, 40.0) && near(at, 1000.0), "kept: lsn %llu lag %g at %g",
	    (unsigned long long)lsn, lag, at);

	/* Current at 1001; at 1002.5 a checkpoint record waits: 1.5 s, not 70. */
	ok(near(db_replica_set(0, 200, 0.0, 1001.0), 0.0), "current: lag 0");
	ok(near(db_replica_set(0, 210, 70.0, 1002.5), 1.5), "after a quiet spell: bounded by the sighting");
	db_replica_get(0, &lsn, &lag, &at);
	ok(lsn == 210 && near(lag, 1.5), "the bounded lag is what the workers see (%g)", lag);

	/* Really stuck: the bound grows with time and keeps counting. */
	ok(near(db_replica_set(0, 210, 75.0, 1031.0), 30.0), "stuck 30 s: lag 30");
	/* A smaller figure from the replica wins. */
	ok(near(db_replica_set(0, 220, 0.25, 1032.0), 0.25), "the replica's own smaller figure");
	/* Negative figures (clock skew) count as none. */
	ok(near(db_replica_set(0, 230, -1.0, 1033.0), 0.0), "negative lag is 0");

	/* Replicas are tracked apart; out of range is refused quietly. */
	ok(near(db_replica_set(1, 5, 9.0, 1034.0), 9.0), "replica 1 has its own sighting (none)");
	ok(near(db_replica_set(-1, 5, 3.0, 1034.0), 3.0), "out of range: the figure back, nothing kept");
	db_replica_get(-1, &lsn, &lag, &at);
	ok(lsn == 0 && lag == 0 && at == 0, "out of range reads as nothing");
	db_replica_get(CONF_MAX_REPLICAS, &lsn, &lag, &at);
	ok(lsn == 0 && lag == 0 && at == 0, "past the last replica reads as nothing");
}

static void
parse_lsn(void)
{

	is_int(db_parse_lsn("0/0"), 0, "0/0");
	is_int(db_parse_lsn("16/B374D848"), ((uint64_t)0x16 << 32) | 0xB374D848, "16/B374D848");
	is_int(db_parse_lsn("FFFFFFFF/FFFFFFFF"), UINT64_MAX, "the largest");
	is_int(db_parse_lsn(""), 0, "empty");
	is_int(db_parse_lsn("16"), 0, "no slash");
	is_int(db_parse_lsn("16/"), 0, "nothing after the slash");
	is_int(db_parse_lsn("/16"), 0, "nothing before the slash");
	is_int(db_parse_lsn("16/1x"), 0, "trailing garbage");
}

/* WARNING is worth a look; the rest a user can cause at will. */
static void
notice_level(void)
{

	is_int(db_notice_level("WARNING"), LVL_WARN, "WARNING is warn");
	is_int(db_notice_level("NOTICE"), LVL_DEBUG, "NOTICE is debug");
	is_int(db_notice_level("INFO"), LVL_DEBUG, "INFO is debug");
	is_int(db_notice_level("LOG"), LVL_DEBUG, "LOG is debug");
	is_int(db_notice_level("DEBUG"), LVL_DEBUG, "DEBUG is debug");
	is_int(db_notice_level(NULL), LVL_DEBUG, "no severity is debug");
}

int
main(void)
{
	uint64_t	 lsn;
	double		 lag, at;

	/* Not carved: nothing is kept, the figure comes back. */
	ok(near(db_replica_set(0, 100, 4.0, 1000.0), 4.0), "no segment: the figure back");
	db_replica_get(0, &lsn, &lag, &at);
	ok(lsn == 0 && lag == 0 && at == 0, "no segment: nothing kept");
	if (shm_init(NULL) != QERR_OK || db_shm_init() != QERR_OK) {
		printf("Bail out! %s\n", shm_error());
		return 1;
	}
	replica_lag();
	parse_lsn();
	notice_level();
	return tap_done();
}
