/*
 * Bans and the audit log (API.md "Bans and the audit log (admin)"): the
 * admin-only routes that lock a user out and read the security record.
 */
#ifndef QUIRE_H_ADMIN_H
#define QUIRE_H_ADMIN_H

#include "req.h"

int	h_admin_ban(struct req *);	/* POST /users/:id/ban */
int	h_admin_unban(struct req *);	/* DELETE /users/:id/ban */
int	h_admin_audit(struct req *);	/* GET /audit */

#endif
