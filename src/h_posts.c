/*
 * GET/POST /posts, GET/PATCH/DELETE /posts/:id.
 */
#include "config.h"

#include <string.h>

#include "auth.h"
#include "db.h"
#include "h_posts.h"
#include "page.h"
#include "post.h"
#include "resp.h"
#include "valid.h"

/* A draft is seen by its author and admins; to anyone else it does not exist. */
static int
visible(const struct req *r, const struct post *p)
{

	return p->published || auth_is_self(r, p->author_id) || auth_is_admin(r);
}

static int
post_item(struct req *r, struct jw *w, const PGresult *res, int row)
{
	struct post	 p;

	(void)r;
	if (post_from_row(&p, res, row) == -1)
		return -1;
	post_json(w, &p);
	return 0;
}

int
h_posts_list(struct req *r)
{
	struct qval	 q[POSTQ__MAX];
	const char	*params[6], *author, *drafts;
	int		 st;

	if ((st = page_query(r, &query_posts, q)) != 0)
		return st;
	author = q[POSTQ_AUTHOR].present ? q[POSTQ_AUTHOR].s : NULL;
	/* Drafts only in one author's list, and only for that author or an admin. */
	drafts = author != NULL && (auth_is_self(r, author) || auth_is_admin(r)) ?
	    "true" : "false";
	if (q[POSTQ_Q].present && q[POSTQ_Q].len > 0) {
		params[0] = q[POSTQ_Q].s;
		params[1] = author;
		params[2] = drafts;
		return page_run(r, q, STMT_POSTS_SEARCH_OFFSET,
		    STMT_POSTS_SEARCH_AFTER, params, 3, POST_COL_CREATED, post_item);
	}
	if (author != NULL) {
		params[0] = author;
		params[1] = drafts;
		return page_run(r, q, STMT_POSTS_AUTHOR_OFFSET,
		    STMT_POSTS_AUTHOR_AFTER, params, 2, POST_COL_CREATED, post_item);
	}
	return page_run(r, q, STMT_POSTS_PUB_OFFSET, STMT_POSTS_PUB_AFTER,
	    params, 0, POST_COL_CREATED, post_item);
}

/*
 * Loads the post of the path's id if the caller may see it, from the
 * primary when fresh is set. Returns 0, or the answer's status.
 */
static int
load(struct req *r, struct post *p, int fresh)
{
	PGresult	*res;
	int		 st;

	if ((st = page_one(r, STMT_POST_GET, fresh, "Post", &res)) != 0)
		return st;
	if (post_from_row(p, res, 0) == -1)
		return resp_qerr(r, QERR_DB);
	if (!visible(r, p))
		return resp_error(r, ERR_NOT_FOUND, "Post not found");
	return 0;
}

static int
post_answer(struct req *r, int status, const PGresult *res)
{
	struct post	 p;
	struct jw	 w;

	if (PQntuples(res) != 1)
		return resp_error(r, ERR_NOT_FOUND, "Post not found");
	if (post_from_row(&p, res, 0) == -1)
		return resp_qerr(r, QERR_DB);
	resp_ok(r, status, &w);
	post_json(&w, &p);
	return r->out.status;
}

int
h_posts_get(struct req *r)
{
	struct post	 p;
	struct jw	 w;
	int		 st;

	if ((st = load(r, &p, 0)) != 0)
		return st;
	resp_ok(r, 200, &w);
	post_json(&w, &p);
	return r->out.status;
}

int
h_posts_create(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	const char		*params[5];
	enum qerr		 e;

	params[0] = f[POST_TITLE].s;
	params[1] = f[POST_CONTENT].s;
	params[2] = f[POST_PUBLISHED].present && f[POST_PUBLISHED].b ? "true" : "false";
	params[3] = r->sess->user.id;
	params[4] = r->sess->user.name;
	if ((e = db_exec(r, DB_PRIMARY, STMT_POST_INSERT, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	return post_answer(r, 201, res);
}

/* The author or an admin: everyone else gets 403 (once the post is visible). */
static int
may_change(const struct req *r, const struct post *p)
{

	return auth_is_self(r, p->author_id) || auth_is_admin(r);
}

int
h_posts_patch(struct req *r)
{
	const struct fieldval	*f = r->fields;
	PGresult		*res;
	struct post		 p;
	struct jw		 w;
	const char		*params[4];
	enum qerr		 e;
	int			 st;

	if ((st = load(r, &p, 1)) != 0)
		return st;
	if (!may_change(r, &p))
		return resp_error(r, ERR_FORBIDDEN, "Only the author or an admin may change a post");
	if (!f[POST_TITLE].present && !f[POST_CONTENT].present &&
	    !f[POST_PUBLISHED].present) {
		resp_ok(r, 200, &w);
		post_json(&w, &p);
		return r->out.status;
	}
	params[0] = p.id;
	params[1] = f[POST_TITLE].present ? f[POST_TITLE].s : NULL;
	params[2] = f[POST_CONTENT].present ? f[POST_CONTENT].s : NULL;
	params[3] = !f[POST_PUBLISHED].present ? NULL :
	    f[POST_PUBLISHED].b ? "true" : "false";
	if ((e = db_exec(r, DB_PRIMARY, STMT_POST_UPDATE, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	return post_answer(r, 200, res);
}

int
h_posts_delete(struct req *r)
{
	PGresult	*res;
	struct post	 p;
	struct jw	 w;
	const char	*params[1];
	enum qerr	 e;
	int		 st;

	if ((st = load(r, &p, 1)) != 0)
		return st;
	if (!may_change(r, &p))
		return resp_error(r, ERR_FORBIDDEN, "Only the author or an admin may delete a post");
	params[0] = p.id;
	if ((e = db_exec(r, DB_PRIMARY, STMT_POST_DELETE, params, &res)) != QERR_OK)
		return resp_qerr(r, e);
	if (PQntuples(res) != 1)
		return resp_error(r, ERR_NOT_FOUND, "Post not found");
	resp_ok(r, 200, &w);
	jw_obj(&w);
	jw_key(&w, "id");
	jw_str(&w, PQgetvalue(res, 0, 0));
	jw_obj_end(&w);
	return r->out.status;
}
