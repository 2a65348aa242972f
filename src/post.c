/*
 * The post resource.
 */
#include "config.h"

#include "post.h"

int
post_from_row(struct post *p, const PGresult *res, int row)
{

	if (PQnfields(res) < POST_NCOLS)
		return -1;
	p->id = PQgetvalue(res, row, 0);
	p->title = PQgetvalue(res, row, 1);
	p->title_len = (size_t)PQgetlength(res, row, 1);
	p->content = PQgetvalue(res, row, 2);
	p->content_len = (size_t)PQgetlength(res, row, 2);
	p->published = PQgetvalue(res, row, 3)[0] == 't';
	p->author_id = PQgetvalue(res, row, 4);
	p->author_name = PQgetvalue(res, row, 5);
	if (fmt_ts(p->created_at, PQgetvalue(res, row, 6)) == -1 ||
	    fmt_ts(p->updated_at, PQgetvalue(res, row, 7)) == -1)
		return -1;
	return 0;
}

void
post_json(struct jw *w, const struct post *p)
{

	jw_obj(w);
	jw_key(w, "id");
	jw_str(w, p->id);
	jw_key(w, "title");
	jw_strn(w, p->title, p->title_len);
	jw_key(w, "content");
	jw_strn(w, p->content, p->content_len);
	jw_key(w, "published");
	jw_bool(w, p->published);
	jw_key(w, "authorId");
	jw_str(w, p->author_id);
	jw_key(w, "author");
	jw_obj(w);
	jw_key(w, "id");
	jw_str(w, p->author_id);
	jw_key(w, "name");
	jw_str(w, p->author_name);
	jw_obj_end(w);
	jw_key(w, "createdAt");
	jw_str(w, p->created_at);
	jw_key(w, "updatedAt");
	jw_str(w, p->updated_at);
	jw_obj_end(w);
}
