"""Posts: GET/POST /posts, GET/PATCH/DELETE /posts/:id. Visibility of
drafts, who may change what, validation, list paging (a cursor walk over
250 posts), query-parameter rules, full-text search, hostile strings kept
verbatim, the content limit in code points, and the precedence examples.
Every test makes its own users and posts and filters lists by the
authorId of a fresh user, or looks only at its own ids: other tests write
to the same database at the same time."""

import json
import os
import random
import subprocess
import time
import uuid

from lib import (ENV, ROOT, addr, bearer, check_envelope_error, eventually, get, hdr, make_admin, post, psql, request, unique_email)

PW = "correct horse 1"
POST_KEYS = {"id", "title", "content", "published", "authorId", "author", "createdAt", "updatedAt"}
MISSING = "00000000-0000-4000-8000-000000000000"
JSON = {"Content-Type": "application/json"}


# ---------------------------------------------------------------- helpers









def signup(name="Poster"):
    r = post("/auth/signup", json_body={"name": name, "email": unique_email("p40"), "password": PW},
             headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"]



_admin = []


def admin():
    """(token, user) of an admin made for this file."""
    if not _admin or get("/auth/me", headers=bearer(_admin[0][0])).status != 200:
        _admin[:] = [make_admin("admin40")]
    return _admin[0]


def newest_first(posts):
    """Ids in the lists' order: createdAt then id, both descending. Posts
    created within the same millisecond share createdAt, so creation order
    alone does not say which comes first; the id does (the textual order
    of UUIDs is their order in PostgreSQL)."""
    return [p["id"] for p in sorted(posts, key=lambda p: (p["createdAt"], p["id"]), reverse=True)]


def create(tok, title="A title", content="Some content", published=None, raw=False):
    body = {"title": title, "content": content}
    if published is not None:
        body["published"] = published
    r = post("/posts", json_body=body, headers=bearer(tok))
    if raw:
        return r
    assert r.status == 201, r
    return r.json["data"]


def raw_json(method, path, obj, tok):
    """Sends obj as UTF-8 JSON without \\u escapes for non-ASCII."""
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return request(method, path, body=body, headers=dict(bearer(tok), **JSON), timeout=60)


def patch(path, body, tok=None):
    return request("PATCH", path, json_body=body, headers=bearer(tok))


def delete(path, tok=None):
    return request("DELETE", path, headers=bearer(tok))


def get_post(pid, tok=None):
    r = get("/posts/" + pid, headers=bearer(tok))
    assert r.status == 200, r
    return r.json["data"]


def check_list(r, limit=20, offset=0):
    assert r.status == 200, r
    j = r.json
    assert j["success"] is True, j
    assert isinstance(j["data"], list), j
    assert set(j["meta"]) == {"limit", "offset", "nextCursor"}, j["meta"]
    assert j["meta"]["limit"] == limit and j["meta"]["offset"] == offset, j["meta"]
    assert j["meta"]["nextCursor"] is None or isinstance(j["meta"]["nextCursor"], str), j["meta"]
    assert len(j["data"]) <= limit
    for p in j["data"]:
        check_post(p)
    return j


def check_post(p):
    assert set(p) == POST_KEYS, p
    assert set(p["author"]) == {"id", "name"}, p
    assert p["author"]["id"] == p["authorId"], p
    assert isinstance(p["published"], bool)
    for k in ("createdAt", "updatedAt"):
        s = p[k]
        assert isinstance(s, str) and len(s) == 24 and s[10] == "T" and s.endswith("Z"), s


def ids_of(path, tok=None, limit=20, offset=0):
    return [p["id"] for p in check_list(get(path, headers=bearer(tok)), limit=limit, offset=offset)["data"]]


def walk_general(tok, stop_id):
    """Walks GET /posts (no filter) by cursor until stop_id is seen;
    checks published only and newest first; returns the ids seen."""
    seen, keys, cursor = [], [], None
    for _ in range(500):
        j = check_list(get("/posts?limit=100" + ("&cursor=" + cursor if cursor else ""),
                           headers=bearer(tok)), limit=100)
        for p in j["data"]:
            assert p["published"] is True, p
            seen.append(p["id"])
            keys.append((p["createdAt"], p["id"]))
        cursor = j["meta"]["nextCursor"]
        if stop_id in seen or cursor is None:
            break
    assert stop_id in seen, "walked the general list without meeting %s" % stop_id
    assert all(keys[i] >= keys[i + 1] for i in range(len(keys) - 1)), "not newest first"
    assert len(set(seen)) == len(seen), "a post appears twice"
    return seen


def field_of(j):
    return [d["field"] for d in j["details"]]


def count_posts(author_id):
    return int(psql("primary", "SELECT count(*) FROM posts WHERE author_id = '%s'" % author_id).strip())


# ------------------------------------------------------------------ GET /posts

def test_list_published_newest_first_with_author():
    ta, a = signup("Lister")
    p1 = create(ta, "first", published=True)
    d1 = create(ta, "draft between")
    p2 = create(ta, "second", published=True)
    q = "/posts?authorId=" + a["id"]
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of(q) == [p2["id"], p1["id"]])
    j = check_list(get(q))
    for p in j["data"]:
        assert p["published"] is True and p["authorId"] == a["id"], p
        assert p["author"] == {"id": a["id"], "name": "Lister"}, p
    assert j["data"][0] == p2 and j["data"][1] == p1
    # The general list (anonymous, and for the author): published only, newest
    # first; walk it back past p1 and never meet the draft.
    for tok in (None, ta):
        if tok is None:
            # another client's write: the replica may lag (contract: Consistency)
            seen = eventually(lambda: walk_general(tok, p1["id"]))
        else:
            seen = walk_general(tok, p1["id"])
        assert p2["id"] in seen and seen.index(p2["id"]) < seen.index(p1["id"])
        assert d1["id"] not in seen, "a draft in the general list"


def test_list_drafts_only_for_author_and_admin():
    ta, a = signup()
    tb, b = signup()
    tadm, _ = admin()
    p1 = create(ta, "pub", published=True)
    d1 = create(ta, "draft", published=False)
    q = "/posts?authorId=" + a["id"]
    got = ids_of(q, ta)
    assert got == [d1["id"], p1["id"]], got
    got = check_list(get(q, headers=bearer(ta)))["data"]
    assert got[0]["published"] is False and got[0] == d1
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of(q, tadm) == [d1["id"], p1["id"]])  # admins see any author's drafts
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of(q) == [p1["id"]])  # anonymous sees no drafts
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of(q, tb) == [p1["id"]])  # another user sees no drafts
    # Not even the author sees drafts without the authorId filter.
    for tok in (ta, tadm):
        if tok == ta:
            seen = walk_general(tok, p1["id"])
        else:
            # another client's write: the replica may lag (contract: Consistency)
            seen = eventually(lambda: walk_general(tok, p1["id"]))
        assert d1["id"] not in seen
    # b's own list does not show a's draft either.
    assert ids_of("/posts?authorId=" + b["id"], tb) == []


# -------------------------------------------------------------- GET /posts/:id

def test_get_post_visibility():
    ta, a = signup("Vis")
    tb, b = signup()
    tadm, _ = admin()
    pub = create(ta, "visible", published=True)
    dr = create(ta, "hidden draft")
    # another client's write: the replica may lag (contract: Consistency)
    assert eventually(lambda: get_post(pub["id"])) == pub
    for tok in (tb, tadm, ta):
        if tok == ta:
            assert get_post(pub["id"], tok) == pub
        else:
            # another client's write: the replica may lag (contract: Consistency)
            assert eventually(lambda: get_post(pub["id"], tok)) == pub
    assert get_post(dr["id"], ta) == dr
    # another client's write: the replica may lag (contract: Consistency)
    assert eventually(lambda: get_post(dr["id"], tadm)) == dr
    check_envelope_error(get("/posts/" + dr["id"]), 404, "NOT_FOUND")
    check_envelope_error(get("/posts/" + dr["id"], headers=bearer(tb)), 404, "NOT_FOUND")
    # A 404 for a draft is the same as for a missing post.
    miss = get("/posts/" + MISSING, headers=bearer(tb))
    check_envelope_error(miss, 404, "NOT_FOUND")
    assert get("/posts/" + dr["id"], headers=bearer(tb)).json == miss.json
    for bad in ("not-a-uuid", "1", pub["id"].upper(), pub["id"][:-1], pub["id"] + "a"):
        check_envelope_error(get("/posts/" + bad), 404, "NOT_FOUND")
        check_envelope_error(get("/posts/" + bad, headers=bearer(ta)), 404, "NOT_FOUND")
    check_envelope_error(get("/posts/" + str(uuid.uuid4())), 404, "NOT_FOUND")
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get("/v1/posts/%s/" % pub["id"]).json["data"] == pub)


# ----------------------------------------------------------------- POST /posts

def test_create_requires_session():
    body = {"title": "t", "content": "c"}
    check_envelope_error(post("/posts", json_body=body), 401, "UNAUTHORIZED")
    check_envelope_error(post("/posts", json_body=body, headers={"Authorization": "Bearer x"}), 401, "UNAUTHORIZED")
    check_envelope_error(post("/posts", json_body={"bogus": 1}), 401, "UNAUTHORIZED")


def test_create_shape_and_defaults():
    ta, a = signup("Maker")
    r = post("/posts", json_body={"title": "  Hello world \n", "content": "  body kept as is \n"},
             headers=bearer(ta))
    assert r.status == 201, r
    assert r.json["success"] is True
    p = r.json["data"]
    check_post(p)
    assert p["title"] == "Hello world", "title is trimmed"
    assert p["content"] == "  body kept as is \n", "content is not trimmed"
    assert p["published"] is False, "published defaults to false"
    assert p["authorId"] == a["id"] and p["author"] == {"id": a["id"], "name": "Maker"}
    assert p["createdAt"] == p["updatedAt"]
    assert p["id"] == str(uuid.UUID(p["id"])), "canonical lower-case UUID"
    q = create(ta, "pub", published=True)
    assert q["published"] is True
    q = create(ta, "notpub", published=False)
    assert q["published"] is False
    assert count_posts(a["id"]) == 3


def test_create_validation():
    ta, a = signup()
    good = {"title": "T", "content": "C"}
    cases = [
        ({"content": "C"}, "title"),
        ({"title": "T"}, "content"),
        ({}, "title"),
        (dict(good, title=""), "title"),
        (dict(good, title="   \t\n "), "title"),
        (dict(good, title="t" * 201), "title"),
        (dict(good, title="😀" * 201), "title"),
        (dict(good, title=5), "title"),
        (dict(good, title=None), "title"),
        (dict(good, title=["T"]), "title"),
        (dict(good, content=""), "content"),
        (dict(good, content=None), "content"),
        (dict(good, content={"a": 1}), "content"),
        (dict(good, content="c" * 100001), "content"),
        (dict(good, published="true"), "published"),
        (dict(good, published=1), "published"),
        (dict(good, published=0), "published"),
        (dict(good, published=None), "published"),
        (dict(good, authorId=a["id"]), "authorId"),
        (dict(good, id=str(uuid.uuid4())), "id"),
        (dict(good, createdAt="2020-01-01T00:00:00.000Z"), "createdAt"),
        (dict(good, tags=["x"]), "tags"),
    ]
    for body, field in cases:
        j = check_envelope_error(post("/posts", json_body=body, headers=bearer(ta)), 400, "VALIDATION_ERROR")
        assert field in field_of(j), (body, j)
    for raw in ("[]", '"x"', "null", "{", '{"title": "T", "content": "C",}'):
        check_envelope_error(post("/posts", body=raw, headers=dict(bearer(ta), **JSON)), 400, "INVALID_JSON")
    check_envelope_error(post("/posts", body='{"title":"T","content":"C"}', headers=bearer(ta)),
                         415, "UNSUPPORTED_MEDIA_TYPE")
    assert count_posts(a["id"]) == 0, "a refused POST wrote something"
    # Limits are inclusive, in code points, and counted after trimming the title.
    p = create(ta, " " + "😀" * 200 + " ", "c" * 100000)
    assert p["title"] == "😀" * 200 and len(p["content"]) == 100000
    p = create(ta, "x", "y")
    assert p["title"] == "x" and p["content"] == "y"


# -------------------------------------------------------------- PATCH /posts/:id

def test_patch_by_author():
    ta, a = signup("Editor")
    p = create(ta, "orig", "orig content")
    time.sleep(0.01)
    r = patch("/posts/" + p["id"], {"title": "  new title  "}, ta)
    assert r.status == 200, r
    u = r.json["data"]
    check_post(u)
    assert u["title"] == "new title" and u["content"] == "orig content" and u["published"] is False
    assert u["id"] == p["id"] and u["createdAt"] == p["createdAt"] and u["updatedAt"] > p["updatedAt"]
    assert u["author"] == {"id": a["id"], "name": "Editor"}
    r = patch("/posts/" + p["id"], {"content": "new content", "published": True}, ta)
    assert r.status == 200, r
    u = r.json["data"]
    assert u["title"] == "new title" and u["content"] == "new content" and u["published"] is True
    time.sleep(0.01)
    r2 = patch("/posts/" + p["id"], {}, ta)
    assert r2.status == 200, r2
    assert r2.json["data"] == u, "{} changes nothing, not even updatedAt"
    r3 = patch("/posts/" + p["id"], {"published": False}, ta)
    assert r3.status == 200 and r3.json["data"]["published"] is False, r3
    got = get_post(p["id"], ta)
    assert got == r3.json["data"], (got, r3.json["data"])
    for body, field in (({"title": ""}, "title"), ({"title": "t" * 201}, "title"), ({"content": ""}, "content"),
                        ({"published": "yes"}, "published"), ({"published": None}, "published"),
                        ({"authorId": MISSING}, "authorId"), ({"title": "ok", "x": 1}, "x")):
        j = check_envelope_error(patch("/posts/" + p["id"], body, ta), 400, "VALIDATION_ERROR")
        assert field in field_of(j), (body, j)
    row = psql("primary", "SELECT title || '|' || content || '|' || published || '|' || author_id "
                          "FROM posts WHERE id = '%s'" % p["id"]).strip()
    assert row == "new title|new content|false|" + a["id"], row


def test_patch_permissions():
    ta, a = signup()
    tb, b = signup()
    pub = create(ta, "pub", published=True)
    dr = create(ta, "draft")
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get_post(pub["id"], tb))
    check_envelope_error(patch("/posts/" + pub["id"], {"title": "hijack"}), 401, "UNAUTHORIZED")
    check_envelope_error(patch("/posts/" + pub["id"], {"title": "hijack"}, tb), 403, "FORBIDDEN")
    check_envelope_error(patch("/posts/" + pub["id"], {}, tb), 403, "FORBIDDEN")
    # Someone else's draft does not exist for b: 404, not 403.
    check_envelope_error(patch("/posts/" + dr["id"], {"title": "hijack"}, tb), 404, "NOT_FOUND")
    check_envelope_error(patch("/posts/" + dr["id"], {"published": True}, tb), 404, "NOT_FOUND")
    check_envelope_error(patch("/posts/" + MISSING, {"title": "x"}, tb), 404, "NOT_FOUND")
    check_envelope_error(patch("/posts/" + MISSING, {"title": "x"}, ta), 404, "NOT_FOUND")
    check_envelope_error(patch("/posts/not-a-uuid", {"title": "x"}, ta), 404, "NOT_FOUND")
    rows = psql("primary", "SELECT title || '|' || published FROM posts WHERE author_id = '%s' "
                           "ORDER BY created_at" % a["id"]).split()
    assert rows == ["pub|true", "draft|false"], rows
    # An admin may change anyone's post, draft or not; the author stays.
    tadm, _ = admin()
    r = patch("/posts/" + dr["id"], {"title": "fixed by admin", "published": True}, tadm)
    assert r.status == 200, r
    assert r.json["data"]["title"] == "fixed by admin" and r.json["data"]["published"] is True
    assert r.json["data"]["authorId"] == a["id"] and r.json["data"]["author"]["id"] == a["id"]
    r = patch("/posts/" + pub["id"], {"content": "admin content"}, tadm)
    assert r.status == 200 and r.json["data"]["content"] == "admin content", r
    check_envelope_error(patch("/posts/" + MISSING, {"title": "x"}, tadm), 404, "NOT_FOUND")


# ------------------------------------------------------------- DELETE /posts/:id

def test_delete_post():
    ta, a = signup()
    tb, b = signup()
    tadm, _ = admin()
    pub = create(ta, "pub", published=True)
    dr = create(ta, "draft")
    other = create(ta, "other", published=True)
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get_post(pub["id"], tb))
    check_envelope_error(delete("/posts/" + pub["id"]), 401, "UNAUTHORIZED")
    check_envelope_error(delete("/posts/" + pub["id"], tb), 403, "FORBIDDEN")
    check_envelope_error(delete("/posts/" + dr["id"], tb), 404, "NOT_FOUND")
    check_envelope_error(delete("/posts/" + MISSING, ta), 404, "NOT_FOUND")
    check_envelope_error(delete("/posts/not-a-uuid", ta), 404, "NOT_FOUND")
    assert count_posts(a["id"]) == 3
    r = delete("/posts/" + pub["id"], ta)
    assert r.status == 200, r
    assert r.json == {"success": True, "data": {"id": pub["id"]}}, r.json
    r = get("/posts/" + pub["id"], headers=bearer(ta))
    assert r.status == 404, r
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: check_envelope_error(get("/posts/" + pub["id"]), 404, "NOT_FOUND"))
    check_envelope_error(delete("/posts/" + pub["id"], ta), 404, "NOT_FOUND")
    r = delete("/posts/" + dr["id"], ta)
    assert r.status == 200 and r.json["data"] == {"id": dr["id"]}, r
    r = delete("/posts/" + other["id"], tadm)
    assert r.status == 200 and r.json["data"] == {"id": other["id"]}, r
    assert count_posts(a["id"]) == 0
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of("/posts?authorId=" + a["id"], ta) == [])


# ----------------------------------------------------------------------- lists

def test_cursor_walk_250():
    ta, a = signup("Prolific")
    made = []
    for i in range(250):
        made.append(create(ta, "walk %03d" % i, "content %d" % i, published=(i % 5 != 0)))
    want = newest_first(made)
    want_pub = newest_first([p for i, p in enumerate(made) if i % 5 != 0])
    base = "/posts?authorId=%s&limit=100" % a["id"]

    def walk(tok):
        got, cursor, pages = [], None, []
        while True:
            j = check_list(get(base + ("&cursor=" + cursor if cursor else ""), headers=bearer(tok)),
                           limit=100, offset=0)
            pages.append(j)
            got.extend(p["id"] for p in j["data"])
            cursor = j["meta"]["nextCursor"]
            if cursor is None:
                return got, pages
            assert len(pages) < 10, "cursor walk does not end"

    first = ids_of(base, ta, limit=100)[:1]
    assert first == want[:1], first
    got, pages = walk(ta)
    assert got == want, "the author's walk covers every post once, newest first"
    assert [len(p["data"]) for p in pages] == [100, 100, 50]
    assert pages[-1]["meta"]["nextCursor"] is None
    assert all(p["meta"]["nextCursor"] for p in pages[:-1])
    # Anonymous: the 200 published ones only.
    # another client's write: the replica may lag (contract: Consistency)
    got_pub, pages_pub = eventually(lambda: (lambda w: w[0] == want_pub and w)(walk(None)))
    assert got_pub == want_pub and len(got_pub) == 200, (len(got_pub),)
    assert [len(p["data"]) for p in pages_pub] == [100, 100]
    # Offset and cursor agree.
    assert ids_of(base + "&offset=0", ta, limit=100) == want[:100] == [p["id"] for p in pages[0]["data"]]
    assert ids_of(base + "&offset=100", ta, limit=100, offset=100) == want[100:200]
    j = check_list(get(base + "&offset=200", headers=bearer(ta)), limit=100, offset=200)
    assert [p["id"] for p in j["data"]] == want[200:] and j["meta"]["nextCursor"] is None
    j = check_list(get("/posts?authorId=%s&limit=7&offset=3" % a["id"], headers=bearer(ta)), limit=7, offset=3)
    assert [p["id"] for p in j["data"]] == want[3:10]
    # A cursor with a smaller limit; meta.offset is 0 with a cursor.
    cur = pages[0]["meta"]["nextCursor"]
    j = check_list(get("/posts?authorId=%s&limit=5&cursor=%s" % (a["id"], cur), headers=bearer(ta)),
                   limit=5, offset=0)
    assert [p["id"] for p in j["data"]] == want[100:105]
    # Default limit 20.
    j = check_list(get("/posts?authorId=" + a["id"], headers=bearer(ta)), limit=20)
    assert [p["id"] for p in j["data"]] == want[:20] and j["meta"]["nextCursor"]


def test_list_bad_params():
    ta, a = signup()
    create(ta, "one", published=True)
    create(ta, "two", published=True)
    # another client's write: the replica may lag (contract: Consistency)
    j = eventually(lambda: check_list(get("/posts?limit=1&authorId=" + a["id"]), limit=1)["meta"]["nextCursor"]
                   and check_list(get("/posts?limit=1&authorId=" + a["id"]), limit=1))
    cur = j["meta"]["nextCursor"]
    cases = [("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=1e2", "limit"),
             ("limit=", "limit"), ("limit", "limit"), ("limit=+5", "limit"), ("limit=%2B5", "limit"),
             ("limit=5.0", "limit"), ("limit=0x10", "limit"), ("limit=99999999999999999999", "limit"),
             ("offset=10001", "offset"), ("offset=abc", "offset"), ("offset=-0", "offset"), ("offset=", "offset"),
             ("limit=1&limit=2", "limit"), ("limit=5&limit=5", "limit"), ("offset=0&offset=0", "offset"),
             ("cursor=%s&offset=0" % cur, "cursor"), ("offset=5&cursor=%s" % cur, "offset"),
             ("cursor=garbage", "cursor"), ("cursor=", "cursor"), ("cursor=%21%21%21", "cursor"),
             ("cursor=" + cur[:-3], "cursor"), ("cursor=%s&cursor=%s" % (cur, cur), "cursor"),
             ("authorId=not-a-uuid", "authorId"), ("authorId=", "authorId"),
             ("authorId=" + a["id"][:-1], "authorId"),
             ("authorId=%s&authorId=%s" % (a["id"], a["id"]), "authorId"),
             ("q=a&q=b", "q")]
    for qs, field in cases:
        for tok in (None, ta):
            r = get("/posts?" + qs, headers=bearer(tok))
            j = check_envelope_error(r, 400, "VALIDATION_ERROR")
            assert field in field_of(j), (qs, j)
    # All the bad parameters are reported at once.
    j = check_envelope_error(get("/posts?limit=0&offset=x&authorId=y"), 400, "VALIDATION_ERROR")
    assert {"limit", "offset", "authorId"} <= set(field_of(j)), j
    # Bounds are inclusive; unknown parameters are ignored.
    check_list(get("/posts?limit=100&offset=10000"), limit=100, offset=10000)
    check_list(get("/posts?limit=1&offset=0"), limit=1)
    check_list(get("/posts?limit=007"), limit=7)
    j = check_list(get("/posts?authorId=%s&limit=1&cursor=%s&sort=asc&page=2&foo" % (a["id"], cur)), limit=1)
    assert j["data"][0]["title"] == "one"
    j = check_list(get("/posts?authorId=%s&limit=2&Limit=0&LIMIT=x&offset_=1" % a["id"]), limit=2)
    assert [p["title"] for p in j["data"]] == ["two", "one"]


# ---------------------------------------------------------------------- search

def word():
    return "w" + uuid.uuid4().hex[:16]


def test_search():
    ta, a = signup()
    tb, b = signup()
    tadm, _ = admin()
    w1, w2, w3, w4, wt = word(), word(), word(), word(), word()
    p = create(ta, "searchable", "lorem %s ipsum" % w1, published=True)
    pt = create(ta, "title %s here" % wt, "nothing special", published=True)
    many = newest_first([create(tb, "many %d" % i, "x %s y" % w3, published=True) for i in range(3)])
    dr = create(ta, "secret", "hidden %s draft" % w4)
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of("/posts?q=" + w3) == many)
    assert ids_of("/posts?q=" + w1) == [p["id"]]
    assert ids_of("/posts?q=" + wt) == [pt["id"]], "title words are searched too"
    assert ids_of("/posts?q=" + w1.upper()) == [p["id"]], "search is case-insensitive"
    assert ids_of("/posts?q=%s%%20lorem" % w1) == [p["id"]]
    assert ids_of("/posts?q=" + w2) == [], "a word no post has"
    assert ids_of("/posts?q=%s+%s" % (w1, w2)) == [], "every word must match"
    j = check_list(get("/posts?q=" + w1))
    assert j["data"][0] == p
    # With authorId.
    assert ids_of("/posts?q=%s&authorId=%s" % (w1, a["id"])) == [p["id"]]
    assert ids_of("/posts?q=%s&authorId=%s" % (w1, b["id"])) == []
    assert ids_of("/posts?q=%s&authorId=%s" % (w3, b["id"])) == many
    # With pagination.
    j = check_list(get("/posts?q=%s&limit=2" % w3), limit=2)
    assert [x["id"] for x in j["data"]] == many[:2] and j["meta"]["nextCursor"]
    j = check_list(get("/posts?q=%s&limit=2&cursor=%s" % (w3, j["meta"]["nextCursor"])), limit=2)
    assert [x["id"] for x in j["data"]] == many[2:] and j["meta"]["nextCursor"] is None
    j = check_list(get("/posts?q=%s&limit=2&offset=2" % w3), limit=2, offset=2)
    assert [x["id"] for x in j["data"]] == many[2:] and j["meta"]["nextCursor"] is None
    # A draft is found only by its author (with authorId = self) and admins.
    got = ids_of("/posts?q=%s&authorId=%s" % (w4, a["id"]), ta)
    assert got == [dr["id"]], got
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of("/posts?q=%s&authorId=%s" % (w4, a["id"]), tadm) == [dr["id"]])
    assert ids_of("/posts?q=" + w4) == []
    assert ids_of("/posts?q=" + w4, tb) == []
    assert ids_of("/posts?q=%s&authorId=%s" % (w4, a["id"]), tb) == []
    assert ids_of("/posts?q=%s&authorId=%s" % (w4, a["id"])) == []
    assert ids_of("/posts?q=" + w4, ta) == [], "drafts only with authorId"


def test_search_hostile_queries():
    ta, a = signup()
    w = word()
    p = create(ta, "hostile q", "%s ok" % w, published=True)
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: ids_of("/posts?q=" + w) == [p["id"]])
    for q in ("%27%3B%20DROP%20TABLE%20posts%3B%20--", "%22unbalanced", "%5C", "a%20%26%20%7C%20!%20(",
              "%3A*", "-", "or", "%F0%9F%98%80", "%E2%80%AE", "x" * 200, "%22" + w + "%22", "-" + w):
        r = get("/posts?q=" + q)
        assert r.status == 200, (q, r)
        check_list(r)
    assert ids_of("/posts?q=%22" + w + "%22") == [p["id"]]
    assert p["id"] not in ids_of("/posts?q=-" + w + "&authorId=" + a["id"])
    assert psql("primary", "SELECT count(*) FROM posts WHERE id = '%s'" % p["id"]).strip() == "1"


# -------------------------------------------------------------- hostile strings

HOSTILE = [
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE posts;--",
    "\"double\" and 'single' quotes and `back` ticks",
    "back\\slash \\n \\u0041 \\\\ \\\" \\x00 end\\",
    "separators \u2028 \u2029 and no-break\u00a0space inside",
    "emoji 😀🎉𝄞🧑‍🚀👩🏽‍💻 🇫🇷 4-byte",
    "rtl \u202eevil.exe\u202c \u200f\u200e mark",
    "combining e\u0301 a\u0308 Z\u0337\u0322\u0349 \u0e01\u0e34\u0e4a",
    "zero\u200bwidth\ufeffbom",
    "<script>alert(1)</script> &amp; %s %n {{x}} ${x} $1",
    "ümlaut 中文 日本語 한국어 العربية עברית",
    "surrogate-free \U0010FFFF max \U0001F600",
]


def test_hostile_strings_verbatim():
    ta, a = signup()
    made = []
    for i, s in enumerate(HOSTILE):
        title = s.strip()
        assert title == s or s.endswith("\n")
        # Once with \u escapes (ASCII JSON), once as raw UTF-8.
        r = post("/posts", json_body={"title": title, "content": s, "published": True}, headers=bearer(ta))
        assert r.status == 201, (s, r)
        assert r.json["data"]["title"] == title and r.json["data"]["content"] == s, (s, r.json)
        made.append((r.json["data"]["id"], title, s, r.json["data"]["createdAt"]))
        r = raw_json("POST", "/posts", {"title": title, "content": "  " + s + "  "}, ta)
        assert r.status == 201, (s, r)
        assert r.json["data"]["title"] == title and r.json["data"]["content"] == "  " + s + "  ", (s, r.json)
        made.append((r.json["data"]["id"], title, "  " + s + "  ", r.json["data"]["createdAt"]))
    for pid, title, content, _ in made:
        got = get_post(pid, ta)
        assert got["title"] == title and got["content"] == content, (title, got)
    # And in the list, newest first.
    j = check_list(get("/posts?limit=100&authorId=" + a["id"], headers=bearer(ta)), limit=100)
    order = newest_first([{"id": m[0], "createdAt": m[3]} for m in made])
    by_id = {m[0]: m[:3] for m in made}
    assert [(p["id"], p["title"], p["content"]) for p in j["data"]] == [by_id[i] for i in order]
    # Through PATCH too.
    pid = made[0][0]
    s = HOSTILE[4] + HOSTILE[5]
    r = raw_json("PATCH", "/posts/" + pid, {"title": s, "content": s}, ta)
    assert r.status == 200 and r.json["data"]["title"] == s and r.json["data"]["content"] == s, r
    # Byte for byte in the database.
    hexed = psql("primary", "SELECT encode(convert_to(content, 'UTF8'), 'hex') FROM posts WHERE id = '%s'" % pid).strip()
    assert bytes.fromhex(hexed) == s.encode("utf-8")
    # The tables are all still there.
    assert psql("primary", "SELECT count(*) FROM users WHERE id = '%s'" % a["id"]).strip() == "1"


# Control characters: none in a title, none but tab, LF and CR in content
# (API.md, field rules).
CONTROLS = ["\x01", "\x02", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x1f", "\x7f",
            "\u0080", "\u0085", "\u009f"]


def test_control_characters_refused():
    ta, a = signup()
    for c in CONTROLS:
        for body, bad in (({"title": "a" + c + "b", "content": "ok"}, "title"),
                          ({"title": "ok", "content": "a" + c + "b"}, "content")):
            # Once with \u escapes (ASCII JSON), once as raw UTF-8.
            for r in (post("/posts", json_body=body, headers=bearer(ta)), raw_json("POST", "/posts", body, ta)):
                j = check_envelope_error(r, 400, "VALIDATION_ERROR")
                assert [d["field"] for d in j["details"]] == [bad], (c, j)
                assert "control characters" in j["details"][0]["message"], j
    assert count_posts(a["id"]) == 0, "a refused body wrote something"
    p = create(ta, "clean", "clean")
    for c in CONTROLS:
        r = patch("/posts/" + p["id"], {"title": "x" + c + "y"}, ta)
        check_envelope_error(r, 400, "VALIDATION_ERROR")
        r = patch("/posts/" + p["id"], {"content": "x" + c + "y"}, ta)
        check_envelope_error(r, 400, "VALIDATION_ERROR")
    got = get_post(p["id"], ta)
    assert got["title"] == "clean" and got["content"] == "clean", got


def test_content_keeps_tabs_and_line_breaks():
    ta, a = signup()
    content = "tab\tinside and CR\rLF\r\nnewline\n"
    p = create(ta, "lines", content)
    assert p["content"] == content, p
    assert get_post(p["id"], ta)["content"] == content
    # Not in a title: the same characters inside it are refused.
    r = post("/posts", json_body={"title": "tab\tinside", "content": "x"}, headers=bearer(ta))
    j = check_envelope_error(r, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in j["details"]] == ["title"], j
    # Around a title they are white space, trimmed as before.
    r = post("/posts", json_body={"title": "\t title \r\n", "content": "x"}, headers=bearer(ta))
    assert r.status == 201 and r.json["data"]["title"] == "title", r


def test_nul_escape_refused():
    ta, a = signup()
    bodies = ['{"title": "a\\u0000b", "content": "c"}',
              '{"title": "t", "content": "c\\u0000"}',
              '{"title": "t", "content": "\\u0000"}',
              '{"title": "t", "content": "ok", "published": true, "x\\u0000": 1}']
    codes = set()
    for b in bodies:
        r = post("/posts", body=b, headers=dict(bearer(ta), **JSON))
        assert r.status == 400, (b, r)
        codes.add(r.json["error"])
        check_envelope_error(r, 400, r.json["error"])
        assert r.json["error"] in ("INVALID_JSON", "VALIDATION_ERROR"), r.json
    assert count_posts(a["id"]) == 0, "a refused body wrote something"
    p = create(ta, "clean", "clean")
    r = request("PATCH", "/posts/" + p["id"], body='{"content": "x\\u0000y"}', headers=dict(bearer(ta), **JSON))
    assert r.status == 400 and r.json["error"] in ("INVALID_JSON", "VALIDATION_ERROR"), r
    codes.add(r.json["error"])
    assert psql("primary", "SELECT content FROM posts WHERE id = '%s'" % p["id"]).strip() == "clean"
    # One answer for all of them (the app answers INVALID_JSON).
    assert len(codes) == 1, codes


def test_content_limit_in_code_points():
    ta, a = signup()
    big = "😀" * 100000
    r = raw_json("POST", "/posts", {"title": "big", "content": big, "published": True}, ta)
    assert r.status == 201, r
    p = r.json["data"]
    assert p["content"] == big
    # another client's write: the replica may lag (contract: Consistency)
    got = eventually(lambda: get_post(p["id"]))
    assert got["content"] == big
    r = raw_json("POST", "/posts", {"title": "too big", "content": big + "😀"}, ta)
    j = check_envelope_error(r, 400, "VALIDATION_ERROR")
    assert "content" in field_of(j)
    r = raw_json("PATCH", "/posts/" + p["id"], {"content": big + "a"}, ta)
    j = check_envelope_error(r, 400, "VALIDATION_ERROR")
    assert "content" in field_of(j)
    assert count_posts(a["id"]) == 1
    n = psql("primary", "SELECT char_length(content) || '|' || octet_length(content) FROM posts "
                        "WHERE id = '%s'" % p["id"]).strip()
    assert n == "100000|400000", n


# ------------------------------------------------------------------ precedence

def test_precedence_examples():
    ta, a = signup()
    tb, b = signup()
    dr = create(ta, "draft")
    get_post(dr["id"], ta)
    # PATCH of another user's draft: 404 (not visible), not 403.
    check_envelope_error(patch("/posts/" + dr["id"], {"title": "x"}, tb), 404, "NOT_FOUND")
    check_envelope_error(patch("/posts/" + dr["id"], {}, tb), 404, "NOT_FOUND")
    # The body is checked before the resource.
    j = check_envelope_error(patch("/posts/" + dr["id"], {"title": ""}, tb), 400, "VALIDATION_ERROR")
    assert "title" in field_of(j)
    j = check_envelope_error(patch("/posts/" + MISSING, {"bogus": 1}, tb), 400, "VALIDATION_ERROR")
    assert "bogus" in field_of(j)
    # Authentication before the body and the resource.
    check_envelope_error(patch("/posts/" + dr["id"], {"bogus": 1}), 401, "UNAUTHORIZED")
    check_envelope_error(patch("/posts/not-a-uuid", {"title": "x"}), 401, "UNAUTHORIZED")
    check_envelope_error(delete("/posts/not-a-uuid"), 401, "UNAUTHORIZED")
    check_envelope_error(post("/posts", body="not json", headers=JSON), 401, "UNAUTHORIZED")
    # Route before everything.
    check_envelope_error(request("PUT", "/posts/" + dr["id"]), 405, "METHOD_NOT_ALLOWED")
    assert get_post(dr["id"], ta)["title"] == "draft"
