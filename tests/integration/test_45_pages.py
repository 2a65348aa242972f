"""Pages bounded in bytes (QUIRE_MAX_PAGE_BYTES, default 4 MiB): a list
page ends before the item that would take it past the bound, always
holds one item, and meta.nextCursor continues from there, for posts and
users, with or without q, by cursor and by offset. One account's huge
posts no longer make every anonymous page huge."""

import uuid

from lib import bearer, get, hdr, make_admin, post, stack, unique_email, wait_for

PW = "correct horse 1"
MIB4 = 4 * 1024 * 1024


def _signup(name="Pager"):
    r = post("/auth/signup", json_body={"name": name, "email": unique_email("p45"), "password": PW},
             headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"]


def _walk(path, tok, limit_bytes, expect_short=True):
    """Follows nextCursor from path; returns (ids, sizes of pages, counts)."""
    ids, sizes, counts, cursor = [], [], [], None
    for _ in range(200):
        r = get(path + ("&cursor=" + cursor if cursor else ""), headers=bearer(tok), timeout=60)
        assert r.status == 200, r
        sizes.append(len(r.body))
        assert len(r.body) <= limit_bytes or len(r.json["data"]) == 1, (len(r.body), len(r.json["data"]))
        assert r.json["meta"]["offset"] == 0
        counts.append(len(r.json["data"]))
        ids += [x["id"] for x in r.json["data"]]
        cursor = r.json["meta"]["nextCursor"]
        if cursor is None:
            break
    assert len(ids) == len(set(ids)), "an item twice"
    return ids, sizes, counts


def test_posts_pages_stop_at_4mib():
    tok, a = _signup()
    w = "big%s" % uuid.uuid4().hex[:10]
    made = []
    for i in range(45):
        # About 100 kB of JSON each: 45 of them pass 4 MiB.
        r = post("/posts", json_body={"title": "big %d" % i, "content": w + " " + "y" * 99900, "published": True},
                 headers=bearer(tok), timeout=60)
        assert r.status == 201, r
        made.append(r.json["data"]["id"])
    made.reverse()    # newest first
    ids, sizes, counts = _walk("/posts?limit=100&authorId=" + a["id"], tok, MIB4)
    assert ids == made, "cursor walk lost or reordered posts"
    assert len(counts) >= 2 and counts[0] < 45 and counts[0] < 100, counts
    assert max(sizes) <= MIB4 and sizes[0] > MIB4 - 150000, sizes
    # Anonymous, no filter: the general list is bounded too.
    r = get("/posts?limit=100", timeout=60)
    assert r.status == 200 and len(r.body) <= MIB4, len(r.body)
    # With q (the replica may lag behind this client's writes for others).
    wait_for(lambda: len(get("/posts?limit=1&q=" + w).json["data"]) == 1, what="search sees the posts")
    qids, qsizes, _ = _walk("/posts?limit=100&q=" + w, None, MIB4)
    assert qids == made, "search walk lost or reordered posts"
    # By offset: advance by the number of items received.
    got, off = [], 0
    while True:
        r = get("/posts?limit=100&authorId=%s&offset=%d" % (a["id"], off), headers=bearer(tok), timeout=60)
        assert r.status == 200 and len(r.body) <= MIB4, r
        assert r.json["meta"]["offset"] == off
        page = [x["id"] for x in r.json["data"]]
        got += page
        off += len(page)
        if r.json["meta"]["nextCursor"] is None:
            break
    assert got == made


def test_small_bound_users_and_one_item():
    """With QUIRE_MAX_PAGE_BYTES at its minimum (16 KiB) the user list ends
    early too, and a single post larger than the bound still goes out."""
    atok, _ = make_admin("admin45")
    tok, a = _signup()
    r = post("/posts", json_body={"title": "huge", "content": "z" * 60000}, headers=bearer(tok))
    assert r.status == 201, r
    r2 = post("/posts", json_body={"title": "huge2", "content": "z" * 60000}, headers=bearer(tok))
    assert r2.status == 201, r2
    mine = []
    for i in range(60):
        r = post("/users", json_body={"name": "N" * 100, "email": unique_email("p45u"), "password": PW},
                 headers=bearer(atok))
        assert r.status == 201, r
        mine.append(r.json["data"]["id"])
    stack("app-restart", env_extra={"QUIRE_MAX_PAGE_BYTES": "16384"})
    try:
        # The admin session survives the restart (sessions are rows).
        ids, sizes, counts = _walk("/users?limit=100", atok, 16384)
        assert counts[0] < 100 and max(sizes) <= 16384, (counts[:3], sizes[:3])
        assert set(mine) <= set(ids), "the cursor walk lost users"
        # One item past the bound: it goes out alone, and the next page has the other.
        r = get("/posts?limit=100&authorId=" + a["id"], headers=bearer(tok))
        assert r.status == 200 and len(r.json["data"]) == 1 and len(r.body) > 16384, (len(r.body),)
        cur = r.json["meta"]["nextCursor"]
        assert cur, r.json["meta"]
        r = get("/posts?limit=100&authorId=%s&cursor=%s" % (a["id"], cur), headers=bearer(tok))
        assert [x["title"] for x in r.json["data"]] == ["huge"], r.json["data"]
        assert r.json["meta"]["nextCursor"] is None
    finally:
        stack("app-restart")
