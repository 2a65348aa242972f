/*
 * Unit tests of read positions (src/pos.c) and the revocation table's
 * payloads and floors (src/revoke.c): a position round-trips, any
 * change to it, another key or another shape is refused; the per-host
 * key is shared through the segment; notification payloads parse
 * strictly; records pushed out of the table still count for everyone.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "pos.h"
#include "revoke.h"
#include "shm.h"
#include "tap.h"

int
main(void)
{
	struct conf	 c;
	char		 v[POS_LEN + 1], w[POS_LEN + 1], bad[POS_LEN + 8];
	char		 user[REVOKE_PAYLOAD_MAX], id[64];
	uint64_t	 lsn, first;
	size_t		 i;
	int		 k;

	if (sodium_init() < 0 || shm_init(NULL) != QERR_OK ||
	    pos_shm_init() != QERR_OK || revoke_shm_init() != QERR_OK) {
		printf("Bail out! set-up failed\n");
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.position_key = (char *)"";
	ok(pos_init(&c) == QERR_OK && !pos_shared_key(), "no key configured: the host's own");
	pos_encode(0x123456789abcdefULL, v);
	is_int(strlen(v), POS_LEN, "a value is POS_LEN characters");
	ok(v[0] == '1' && v[1] == '.', "version 1");
	is_int(pos_decode(v, strlen(v)), 0x123456789abcdefULL, "it decodes to the position");
	snprintf(bad, sizeof(bad), "  %s ", v);
	is_int(pos_decode(bad, strlen(bad)), 0x123456789abcdefULL, "blanks around it are fine");
	/* Every single-character change is refused. */
	k = 0;
	for (i = 0; i < POS_LEN; i++) {
		memcpy(w, v, sizeof(w));
		w[i] = w[i] == 'A' ? 'B' : 'A';
		k += pos_decode(w, POS_LEN) != 0;
	}
	is_int(k, 0, "no changed character verifies");
	ok(pos_decode(v, POS_LEN - 1) == 0, "cut short");
	snprintf(bad, sizeof(bad), "%sA", v);
	ok(pos_decode(bad, strlen(bad)) == 0, "too long");
	ok(pos_decode("garbage", 7) == 0 && pos_decode("", 0) == 0 &&
	    pos_decode(NULL, 0) == 0, "garbage");
	memcpy(w, v, sizeof(w));
	w[0] = '2';
	ok(pos_decode(w, POS_LEN) == 0, "another version");
	/* Made under another key: refused; the host's key survives a re-init. */
	first = pos_decode(v, POS_LEN);
	c.position_key = (char *)"K0wfygcZ8x+F/R6dF1WG5FU26koMVSh27k36dWGGfqI=";
	ok(pos_init(&c) == QERR_OK && pos_shared_key(), "a configured key");
	ok(pos_decode(v, POS_LEN) == 0, "a value made under another key is refused");
	pos_encode(42, w);
	is_int(pos_decode(w, POS_LEN), 42, "the configured key's values verify");
	c.position_key = (char *)"";
	ok(pos_init(&c) == QERR_OK, "back to the host's key");
	is_int(pos_decode(v, POS_LEN), first, "the host's key is kept in the segment");
	c.position_key = (char *)"dG9vIHNob3J0";
	ok(pos_init(&c) != QERR_OK, "a key that is not 32 bytes is refused");

	/* Payloads. */
	ok(revoke_parse("0fe16add-435e-44ab-b647-06f2eda64faa 0/306BFB0", user, &lsn) == 0 &&
	    strcmp(user, "0fe16add-435e-44ab-b647-06f2eda64faa") == 0 && lsn == 0x306BFB0,
	    "a user id and a position");
	ok(revoke_parse("* 1/0", user, &lsn) == 0 && strcmp(user, "*") == 0 &&
	    lsn == 0x100000000ULL, "every user");
	ok(revoke_parse("abc", user, &lsn) == -1, "no position");
	ok(revoke_parse(" 0/1", user, &lsn) == -1, "no user");
	ok(revoke_parse("a;b 0/1", user, &lsn) == -1, "a strange user");
	ok(revoke_parse("** 0/1", user, &lsn) == -1, "a star among others");
	ok(revoke_parse("u 0/1x", user, &lsn) == -1, "a strange position");
	ok(revoke_parse(NULL, user, &lsn) == -1, "nothing");

	/* The table: records and floors. */
	first = revoke_seq();
	revoke_note("user-a", 100);
	ok(!revoke_fresh("user-a", first) && revoke_fresh("user-b", first),
	    "a change makes only that user's older reads stale");
	is_int(revoke_required_lsn("user-a"), 100, "its position");
	is_int(revoke_required_lsn("user-b"), 0, "nobody else's");
	revoke_note("user-a", 50);
	is_int(revoke_required_lsn("user-a"), 100, "an older position does not lower it");
	/* Far more users than slots: whoever is pushed out lands in the floors. */
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "many-%zu", i);
		revoke_note(id, 1000 + i);
	}
	ok(revoke_required_lsn("never-seen") >= 1000, "pushed-out records raise the floor");
	ok(!revoke_fresh("never-seen", first), "and count as changes for everyone");
	lsn = revoke_seq();
	ok(revoke_fresh("never-seen", lsn), "what was read after them is fresh");
	revoke_all(9000);
	ok(!revoke_fresh("never-seen", lsn) && revoke_required_lsn("x") == 9000,
	    "every user at once");
	return tap_done();
}
