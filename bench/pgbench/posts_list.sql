-- Limit for scenario b (GET /posts?limit=20): STMT_POSTS_PUB_OFFSET of
-- src/stmts.c with the parameters the app binds for that request: the
-- list fetches limit + 1 rows (the extra row tells whether a next page
-- exists), offset 0.
\set lim 21
\set off 0
{{posts_pub_offset :lim :off}}
