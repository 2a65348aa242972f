/*
 * Users handlers: list, get, create (admin), patch, delete.
 */
#ifndef QUIRE_H_USERS_H
#define QUIRE_H_USERS_H

#include "req.h"

int	h_users_list(struct req *);
int	h_users_get(struct req *);
int	h_users_create(struct req *);
int	h_users_patch(struct req *);
int	h_users_delete(struct req *);

#endif
