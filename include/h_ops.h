/*
 * Operations handlers: /health, /health/db.
 */
#ifndef QUIRE_H_OPS_H
#define QUIRE_H_OPS_H

#include "req.h"

/* Monotonic time the service started (set before workers fork). */
extern double	h_ops_started;

int	h_ops_health(struct req *);
int	h_ops_health_db(struct req *);
int	h_ops_metrics(struct req *);
int	h_ops_openapi(struct req *);

#endif
