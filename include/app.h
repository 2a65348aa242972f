/*
 * The front line: every request passes here between parsing and the
 * handler. Route, then authentication and Origin, then the body, as the
 * contract's precedence says.
 */
#ifndef QUIRE_APP_H
#define QUIRE_APP_H

#include "req.h"

/* Handles r completely: on return r holds the answer to render. */
void	app_handle(struct req *);

#endif
