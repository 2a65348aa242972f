/*
 * Posts handlers: list (with search), get, create, patch, delete.
 */
#ifndef QUIRE_H_POSTS_H
#define QUIRE_H_POSTS_H

#include "req.h"

int	h_posts_list(struct req *);
int	h_posts_get(struct req *);
int	h_posts_create(struct req *);
int	h_posts_patch(struct req *);
int	h_posts_delete(struct req *);

#endif
