/*
 * Positions a client carries between hosts (docs/consistency.md,
 * "Several hosts"): a response to a request that wrote says where the
 * primary's WAL ended after the write, in the header Quire-Read-After
 * and the cookie quire_pos; a later request that brings either back, to
 * any host, reads from a replica only once it has replayed that far.
 *
 * The value is opaque to clients: a version, the WAL position and a MAC
 * over both under a key every host of the service shares
 * (QUIRE_POSITION_KEY; without it a random key made once per host, in
 * the shared segment, so positions verify on the host that made them
 * only). A value that is malformed, too long, of another version or
 * whose MAC does not verify is ignored, as if the client sent nothing:
 * a forger gains nothing, not even a read from the primary
 * (docs/security.md, "Read positions").
 */
#ifndef QUIRE_POS_H
#define QUIRE_POS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "quire.h"
#include "req.h"

#define POS_HEADER	"Quire-Read-After"
#define POS_COOKIE	"quire_pos"
/* "1." and base64url of 8 bytes of position and 16 of MAC, unpadded. */
#define POS_LEN		34

/*
 * Carves the per-host key out of the shared segment (start-up, after
 * shm_init(), in the same order in every process). Returns QERR_OK, or
 * QERR_IO with the reason in shm_error().
 */
enum qerr	 pos_shm_init(void) QUIRE_WUR;

/*
 * Chooses the key: conf's QUIRE_POSITION_KEY, else the host's own
 * (made at the first call on a new segment). Call after pos_shm_init,
 * before any request. Returns QERR_OK, or QERR_IO when there is neither.
 */
enum qerr	 pos_init(const struct conf *) QUIRE_WUR;

/* 1 when the key came from QUIRE_POSITION_KEY (shared by every host). */
int		 pos_shared_key(void);

/* Writes the value for WAL position lsn (> 0) into out (POS_LEN + 1). */
void		 pos_encode(uint64_t lsn, char *out);

/*
 * The WAL position in s[0..n), surrounding blanks allowed; 0 when s is
 * not a value pos_encode made under this key.
 */
uint64_t	 pos_decode(const char *s, size_t n);

/*
 * The position the request brings back: the larger of its
 * Quire-Read-After header's and its quire_pos cookie's, each counted
 * only when valid; 0 when neither is. A rejected value is logged (at
 * most once a minute per worker: mismatched keys between hosts show).
 */
uint64_t	 pos_from_request(struct req *);

/*
 * Adds Quire-Read-After and Set-Cookie quire_pos for position lsn to the
 * answer (Max-Age a few times QUIRE_MAX_REPLICA_LAG, Secure as the
 * session cookie). Nothing when lsn is 0.
 */
void		 pos_emit(struct req *, uint64_t lsn);

/* The cookie's Max-Age in seconds for a configuration. */
long		 pos_cookie_max_age(const struct conf *);

#endif
