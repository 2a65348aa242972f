/*
 * The app's side of mail (API.md "Mail"): one-time tokens and the
 * messages that carry them, queued in the outbox table in the caller's
 * transaction (or as one statement) for `quirectl mail-worker`. Nothing
 * here talks to a mail server.
 */
#ifndef QUIRE_OUTBOX_H
#define QUIRE_OUTBOX_H

#include "req.h"

enum outbox_kind {
	OUTBOX_RESET,		/* token kind "reset", 1 h */
	OUTBOX_VERIFY,		/* token kind "verify", 24 h */
	OUTBOX_EMAIL_CHANGED	/* a notice: no token, no link */
};

/* The token kind as stored ("reset", "verify"). */
const char	*outbox_token_kind(enum outbox_kind);

/*
 * Issues a fresh token of kind for the user with this id (replacing the
 * older one) and queues the mail with its link to the user's current
 * email. With hold_s > 0 nothing is issued while a pending token of this
 * kind for the same address is younger than hold_s seconds. Returns
 * QERR_OK (also when the user does not exist) or the database error.
 */
enum qerr	 outbox_link_by_id(struct req *, enum outbox_kind,
		    const char *user_id, long hold_s) QUIRE_WUR;

/*
 * The same for the user with this canonical email: an unknown email does
 * the same round trip and queues nothing. *queued says which it was.
 */
enum qerr	 outbox_link_by_email(struct req *, enum outbox_kind,
		    const char *email, int *queued) QUIRE_WUR;

/* Queues a notice (no token) to email, addressed to name. */
enum qerr	 outbox_notice(struct req *, enum outbox_kind,
		    const char *email, const char *name) QUIRE_WUR;

#endif
