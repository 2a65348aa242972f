/*
 * Authentication handlers: signup, login, logout, me.
 */
#ifndef QUIRE_H_AUTH_H
#define QUIRE_H_AUTH_H

#include "req.h"

int	h_auth_signup(struct req *);
int	h_auth_login(struct req *);
int	h_auth_logout(struct req *);
int	h_auth_me(struct req *);

#endif
