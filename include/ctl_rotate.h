/*
 * quirectl rotate-secret-key (docs/security.md, "Rotating
 * QUIRE_SECRET_KEY"): re-encrypts every stored TOTP secret.
 */
#ifndef QUIRE_CTL_ROTATE_H
#define QUIRE_CTL_ROTATE_H

#include <libpq-fe.h>

/*
 * Opens every sealed TOTP secret with the old key (base64, 32 bytes) and
 * seals it again under the new one, in one transaction that locks the
 * rows: all or nothing. A secret that opens only with the new key
 * already is left as it is, so a run repeated after a crash finishes the
 * job; one that opens with neither rolls everything back. Prints what it
 * did. Returns the exit status: 0, 1 on an error (nothing changed), 2 on
 * a bad key argument.
 */
int	ctl_rotate(PGconn *, const char *old_b64, const char *new_b64);

#endif
