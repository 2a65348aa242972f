"""Users: GET/POST /users, GET/PATCH/DELETE /users/:id. Who sees which
fields, who may change what, password changes and sessions, deletion and
its cascade, list paging and query-parameter rules, and the precedence
examples of the contract. Every test makes its own users (unique emails,
its own X-Forwarded-For address for the shared rate limit) and never
relies on the total number of rows: other tests write to the same
database at the same time."""

import os
import random
import subprocess
import time
import uuid

from lib import (ENV, ROOT, addr, bearer, check_envelope_error, eventually, get, hdr, make_admin, post, psql, request, unique_email)

JSONH = {"Content-Type": "application/json"}
PW = "correct horse 1"
# The self and admin views add twoFactorEnabled (API.md "Two-factor authentication").
USER_KEYS = {"id", "name", "email", "emailVerified", "twoFactorEnabled", "image", "role", "createdAt", "updatedAt"}
PUBLIC_KEYS = USER_KEYS - {"email", "emailVerified", "twoFactorEnabled"}
# An admin sees the ban too (API.md "Bans and the audit log").
ADMIN_KEYS = USER_KEYS | {"banned", "banReason", "banExpiresAt"}
MISSING = "00000000-0000-4000-8000-000000000000"


# ---------------------------------------------------------------- helpers









def signup(name="Ada", email=None, password=PW):
    email = email or unique_email("u30")
    r = post("/auth/signup", json_body={"name": name, "email": email, "password": password}, headers=hdr())
    assert r.status == 201, r
    d = r.json["data"]
    return d["token"], d["user"], email


def login(email, password=PW):
    return post("/auth/login", json_body={"email": email, "password": password}, headers=hdr())


def patch(path, body, tok=None, headers=None):
    # A client address of its own: a body with currentPassword counts
    # against the auth rate limit of the address too.
    h = hdr(headers)
    if tok:
        h.update(bearer(tok))
    return request("PATCH", path, json_body=body, headers=h)


def delete(path, tok=None):
    return request("DELETE", path, headers=bearer(tok) if tok else {})



_admin = []


def admin():
    """(token, user) of an admin made for this file."""
    if not _admin or get("/auth/me", headers=bearer(_admin[0][0])).status != 200:
        _admin[:] = [make_admin("admin30")]
    return _admin[0]


def check_list(r, limit=20, offset=0):
    assert r.status == 200, r
    j = r.json
    assert j["success"] is True, j
    assert isinstance(j["data"], list), j
    assert set(j["meta"]) == {"limit", "offset", "nextCursor"}, j["meta"]
    assert j["meta"]["limit"] == limit and j["meta"]["offset"] == offset, j["meta"]
    assert j["meta"]["nextCursor"] is None or isinstance(j["meta"]["nextCursor"], str), j["meta"]
    assert len(j["data"]) <= limit
    return j


def walk_users(tok, want_ids, limit=100, max_pages=50):
    """Walks GET /users by cursor until every id of want_ids was seen;
    returns {id: row}, every row seen, in order."""
    found, rows, cursor = {}, [], None
    for _ in range(max_pages):
        q = "/users?limit=%d" % limit + ("&cursor=" + cursor if cursor else "")
        j = check_list(get(q, headers=bearer(tok)), limit=limit)
        rows.extend(j["data"])
        for u in j["data"]:
            if u["id"] in want_ids:
                found[u["id"]] = u
        cursor = j["meta"]["nextCursor"]
        if len(found) == len(want_ids) or cursor is None:
            break
    assert set(found) == set(want_ids), (set(want_ids) - set(found))
    return found, rows


def get_user(uid, tok):
    r = get("/users/" + uid, headers=bearer(tok))
    assert r.status == 200, r
    return r.json["data"]


def field_of(j):
    return [d["field"] for d in j["details"]]


def check_ts(s):
    assert isinstance(s, str) and len(s) == 24 and s[10] == "T" and s.endswith("Z") and s[19] == ".", s


# ------------------------------------------------------------------ GET /users

def test_list_requires_session():
    for h in ({}, {"Authorization": "Bearer nope"}, {"Cookie": "quire_session=" + "A" * 43}):
        check_envelope_error(get("/users", headers=h), 401, "UNAUTHORIZED")
        check_envelope_error(get("/users?limit=5", headers=h), 401, "UNAUTHORIZED")


def test_list_shape_and_private_fields():
    ta, a, _ = signup("Alpha")
    tb, b, _ = signup("Beta")
    # another client's write: the replica may lag (contract: Consistency)
    found, rows = eventually(lambda: walk_users(ta, {a["id"], b["id"]}))
    for u in rows:
        if u["id"] == a["id"]:
            assert set(u) == USER_KEYS, u
        else:
            assert set(u) == PUBLIC_KEYS, ("another user's row shows private fields", u)
        check_ts(u["createdAt"])
        check_ts(u["updatedAt"])
    assert found[a["id"]]["email"] == a["email"] and found[a["id"]]["emailVerified"] is False
    assert found[b["id"]]["name"] == "Beta" and found[b["id"]]["role"] == "user"
    # Newest first: b (created later) before a; (createdAt, id) never increases.
    ids = [u["id"] for u in rows]
    assert ids.index(b["id"]) < ids.index(a["id"]), "newest first"
    keys = [(u["createdAt"], u["id"]) for u in rows]
    assert all(keys[i] >= keys[i + 1] for i in range(len(keys) - 1)), "not newest first"
    assert len(set(ids)) == len(ids), "a row appears twice"
    # An admin sees every row's email and emailVerified.
    tadm, _ = admin()
    # another client's write: the replica may lag (contract: Consistency)
    found, rows = eventually(lambda: walk_users(tadm, {a["id"], b["id"]}))
    for u in rows:
        assert set(u) == ADMIN_KEYS, u
    assert found[b["id"]]["email"] == b["email"]


def test_list_paging_rules():
    ta, a, _ = signup()
    for _ in range(3):
        signup()
    # Default limit 20.
    j = check_list(get("/users", headers=bearer(ta)), limit=20, offset=0)
    assert len(j["data"]) == 20 or j["meta"]["nextCursor"] is None
    # limit=1: one row and a cursor (there are at least two users).
    j = check_list(get("/users?limit=1", headers=bearer(ta)), limit=1)
    assert len(j["data"]) == 1 and j["meta"]["nextCursor"], j
    # Bounds are inclusive.
    check_list(get("/users?limit=100", headers=bearer(ta)), limit=100)
    j = check_list(get("/users?limit=5&offset=10000", headers=bearer(ta)), limit=5, offset=10000)
    j = check_list(get("/users?limit=2&offset=1", headers=bearer(ta)), limit=2, offset=1)
    assert len(j["data"]) == 2
    # Cursor pages follow each other strictly, and meta.offset is 0 with a cursor.
    j1 = check_list(get("/users?limit=3", headers=bearer(ta)), limit=3)
    cur = j1["meta"]["nextCursor"]
    assert cur
    j2 = check_list(get("/users?limit=3&cursor=" + cur, headers=bearer(ta)), limit=3, offset=0)
    last = (j1["data"][-1]["createdAt"], j1["data"][-1]["id"])
    assert j2["data"], j2
    assert all((u["createdAt"], u["id"]) < last for u in j2["data"]), (j1, j2)
    assert not {u["id"] for u in j1["data"]} & {u["id"] for u in j2["data"]}
    # Unknown parameters are ignored.
    check_list(get("/users?limit=2&foo=bar&authorId=x&q=1&page=3", headers=bearer(ta)), limit=2)


def test_list_bad_params():
    ta, _, _ = signup()
    j = check_list(get("/users?limit=1", headers=bearer(ta)), limit=1)
    cur = j["meta"]["nextCursor"]
    assert cur
    cases = [("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=1e2", "limit"),
             ("limit=", "limit"), ("limit", "limit"), ("limit=+5", "limit"), ("limit=%2B5", "limit"),
             ("limit=5.0", "limit"), ("limit=%205", "limit"), ("limit=0x10", "limit"),
             ("limit=99999999999999999999", "limit"),
             ("offset=10001", "offset"), ("offset=abc", "offset"), ("offset=-1", "offset"),
             ("offset=", "offset"),
             ("limit=1&limit=2", "limit"), ("limit=2&limit=2", "limit"), ("offset=1&offset=1", "offset"),
             ("cursor=%s&offset=0" % cur, "cursor"), ("offset=0&cursor=%s" % cur, "offset"),
             ("cursor=garbage", "cursor"), ("cursor=", "cursor"), ("cursor=" + cur[:-4], "cursor"),
             ("cursor=%s&cursor=%s" % (cur, cur), "cursor")]
    for qs, field in cases:
        r = get("/users?" + qs, headers=bearer(ta))
        j = check_envelope_error(r, 400, "VALIDATION_ERROR")
        assert field in field_of(j), (qs, j)


# -------------------------------------------------------------- GET /users/:id

def test_get_user_views():
    ta, a, _ = signup("Viewer")
    tb, b, _ = signup("Viewed")
    # another client's write: the replica may lag (contract: Consistency)
    other = eventually(lambda: get_user(b["id"], ta))
    assert set(other) == PUBLIC_KEYS, other
    assert other["id"] == b["id"] and other["name"] == "Viewed" and other["role"] == "user"
    assert other["image"] is None and other["createdAt"] == b["createdAt"]
    me = get_user(a["id"], ta)
    assert me == a, (me, a)
    tadm, _ = admin()
    # another client's write: the replica may lag (contract: Consistency)
    seen = eventually(lambda: get_user(b["id"], tadm))
    assert set(seen) == ADMIN_KEYS and seen["email"] == b["email"] and seen["emailVerified"] is False
    # Also under /v1 and with a trailing slash.
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get("/v1/users/%s/" % b["id"], headers=bearer(ta)).json["data"] == other)


def test_get_user_not_found_and_unauthenticated():
    ta, a, _ = signup()
    for bad in ("not-a-uuid", "1", a["id"].upper(), a["id"][:-1], a["id"] + "0", "%s-x" % a["id"]):
        check_envelope_error(get("/users/" + bad, headers=bearer(ta)), 404, "NOT_FOUND")
    check_envelope_error(get("/users/" + MISSING, headers=bearer(ta)), 404, "NOT_FOUND")
    check_envelope_error(get("/users/" + str(uuid.uuid4()), headers=bearer(ta)), 404, "NOT_FOUND")
    # Without a session everything is 401, whatever the id.
    for bad in ("not-a-uuid", MISSING, a["id"]):
        check_envelope_error(get("/users/" + bad), 401, "UNAUTHORIZED")


# ----------------------------------------------------------------- POST /users

def test_create_user_requires_admin():
    body = {"name": "Made", "email": unique_email("mk"), "password": PW}
    check_envelope_error(post("/users", json_body=body), 401, "UNAUTHORIZED")
    ta, _, _ = signup()
    check_envelope_error(post("/users", json_body=body, headers=bearer(ta)), 403, "FORBIDDEN")
    check_envelope_error(post("/users", json_body=dict(body, role="user"), headers=bearer(ta)),
                         403, "FORBIDDEN")
    # The role is checked before the body (API.md, precedence): any body,
    # good or bad, even none or not JSON, is 403 for a non-admin.
    for b, h in (('{"name": ""}', JSONH), ('{"nope": 1}', JSONH), ("not json", JSONH), ("{}", {}),
                 ("", JSONH), (None, {}), ("x" * (1048576 + 10000), JSONH)):
        r = request("POST", "/users", body=b, headers=dict(bearer(ta), **h))
        check_envelope_error(r, 403, "FORBIDDEN")
    # Nothing was written.
    n = psql("primary", "SELECT count(*) FROM users WHERE email = '%s'" % body["email"]).strip()
    assert n == "0", n


def test_create_user_by_admin():
    tadm, _ = admin()
    tag = uuid.uuid4().hex[:10]
    email = "Made.%s@Example.COM" % tag
    r = post("/users", json_body={"name": "  Made Admin ", "email": "  " + email, "password": "pw-made-12",
                                  "role": "admin"}, headers=bearer(tadm))
    assert r.status == 201, r
    u = r.json["data"]
    assert r.json["success"] is True
    assert set(u) == ADMIN_KEYS, u
    assert u["role"] == "admin" and u["name"] == "Made Admin" and u["email"] == email.lower()
    assert u["emailVerified"] is False and u["image"] is None
    check_ts(u["createdAt"])
    assert "password" not in r.body.decode() and "$argon2" not in r.body.decode()
    # Default role is user.
    r2 = post("/users", json_body={"name": "Plain", "email": unique_email("mk"), "password": "pw-made-12"},
              headers=bearer(tadm))
    assert r2.status == 201, r2
    assert r2.json["data"]["role"] == "user"
    # Both can log in with the given password.
    li = login(email.upper(), "pw-made-12")
    assert li.status == 200, li
    assert li.json["data"]["user"]["role"] == "admin" and li.json["data"]["user"]["id"] == u["id"]
    li2 = login(r2.json["data"]["email"], "pw-made-12")
    assert li2.status == 200 and li2.json["data"]["user"]["role"] == "user", li2
    # Duplicate email, in another case: 409, and still a single row.
    r3 = post("/users", json_body={"name": "Dup", "email": email.swapcase(), "password": "pw-made-12"},
              headers=bearer(tadm))
    check_envelope_error(r3, 409, "CONFLICT")
    n = psql("primary", "SELECT count(*) FROM users WHERE lower(email) = '%s'" % email.lower()).strip()
    assert n == "1", n


def test_create_user_validation():
    tadm, _ = admin()
    good = {"name": "Val", "email": unique_email("val"), "password": PW}
    cases = [
        ({k: v for k, v in good.items() if k != "name"}, "name"),
        ({k: v for k, v in good.items() if k != "email"}, "email"),
        ({k: v for k, v in good.items() if k != "password"}, "password"),
        (dict(good, name="  "), "name"),
        (dict(good, name="n" * 101), "name"),
        (dict(good, name=7), "name"),
        (dict(good, email="nope"), "email"),
        (dict(good, email="a@b..com"), "email"),
        (dict(good, email=None), "email"),
        (dict(good, password="short"), "password"),
        (dict(good, password="p" * 129), "password"),
        (dict(good, password=None), "password"),
        (dict(good, role="root"), "role"),
        (dict(good, role="Admin"), "role"),
        (dict(good, role=1), "role"),
        (dict(good, role=None), "role"),
        (dict(good, id=str(uuid.uuid4())), "id"),
        (dict(good, emailVerified=True), "emailVerified"),
        (dict(good, image="https://example.com/a.png"), "image"),
    ]
    for body, field in cases:
        j = check_envelope_error(post("/users", json_body=body, headers=bearer(tadm)), 400, "VALIDATION_ERROR")
        assert field in field_of(j), (body, j)
    check_envelope_error(post("/users", body="[]", headers=dict(bearer(tadm), **{"Content-Type": "application/json"})),
                         400, "INVALID_JSON")
    n = psql("primary", "SELECT count(*) FROM users WHERE email = '%s'" % good["email"]).strip()
    assert n == "0", n


# -------------------------------------------------------------- PATCH /users/:id

def test_patch_self_fields():
    ta, a, email = signup("Before")
    r = patch("/users/" + a["id"], {"name": "  After Name  "}, ta)
    assert r.status == 200, r
    u = r.json["data"]
    assert set(u) == USER_KEYS, u
    assert u["name"] == "After Name" and u["email"] == email and u["id"] == a["id"]
    assert u["createdAt"] == a["createdAt"] and u["updatedAt"] >= a["updatedAt"]
    new_email = "New.%s@Example.ORG" % uuid.uuid4().hex[:10]
    r = patch("/users/" + a["id"], {"email": new_email, "currentPassword": PW}, ta)
    assert r.status == 200, r
    assert r.json["data"]["email"] == new_email.lower()
    img = "https://cdn.example.com/a/b.png?x=1&y=%20"
    r = patch("/users/" + a["id"], {"image": img}, ta)
    assert r.status == 200 and r.json["data"]["image"] == img, r
    r = patch("/users/" + a["id"], {"image": "http://example.com/p.jpg", "name": "Both"}, ta)
    assert r.status == 200, r
    assert r.json["data"]["image"] == "http://example.com/p.jpg" and r.json["data"]["name"] == "Both"
    r = patch("/users/" + a["id"], {"image": None}, ta)
    assert r.status == 200 and r.json["data"]["image"] is None, r
    assert r.json["data"]["name"] == "Both", "a PATCH changes only the given fields"
    # The session still works, and GET shows the final state.
    me = get_user(a["id"], ta)
    assert me == r.json["data"], (me, r.json["data"])
    # Login uses the new email now, and not the old one.
    assert login(new_email).status == 200
    check_envelope_error(login(email), 401, "UNAUTHORIZED")


def test_patch_empty_body_changes_nothing():
    ta, a, _ = signup("Still")
    r1 = patch("/users/" + a["id"], {"name": "Still Here"}, ta)
    assert r1.status == 200, r1
    time.sleep(0.01)
    r2 = patch("/users/" + a["id"], {}, ta)
    assert r2.status == 200, r2
    assert r2.json["data"] == r1.json["data"], (r1.json, r2.json)
    assert r2.json["data"]["updatedAt"] == r1.json["data"]["updatedAt"]
    row = psql("primary", "SELECT name, to_char(updated_at AT TIME ZONE 'UTC', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM users WHERE id = '%s'" % a["id"]).strip()
    assert row == "Still Here|" + r1.json["data"]["updatedAt"], row


def test_patch_role_only_by_admin():
    ta, a, _ = signup()
    for role in ("admin", "user"):
        r = patch("/users/" + a["id"], {"role": role}, ta)
        check_envelope_error(r, 403, "FORBIDDEN")
    r = patch("/users/" + a["id"], {"role": "admin", "name": "Sneaky"}, ta)
    check_envelope_error(r, 403, "FORBIDDEN")
    row = psql("primary", "SELECT role || '|' || name FROM users WHERE id = '%s'" % a["id"]).strip()
    assert row == "user|Ada", ("a refused PATCH must change nothing", row)
    # An admin sets the role; the promoted user then sees others' emails.
    tadm, adm = admin()
    r = patch("/users/" + a["id"], {"role": "admin"}, tadm)
    assert r.status == 200 and r.json["data"]["role"] == "admin", r
    assert set(r.json["data"]) == ADMIN_KEYS
    # another client's write: the replica may lag (contract: Consistency)
    seen = eventually(lambda: (lambda u: set(u) == ADMIN_KEYS and u)(get_user(adm["id"], ta)))
    assert seen["email"] == adm["email"] and seen["emailVerified"] is False, seen
    r = patch("/users/" + a["id"], {"role": "user"}, tadm)
    assert r.status == 200 and r.json["data"]["role"] == "user", r


def test_patch_other_user_forbidden_or_missing():
    ta, a, _ = signup()
    tb, b, _ = signup("Bee")
    check_envelope_error(patch("/users/" + b["id"], {"name": "Hijack"}, ta), 403, "FORBIDDEN")
    check_envelope_error(patch("/users/" + b["id"], {}, ta), 403, "FORBIDDEN")
    check_envelope_error(patch("/users/" + b["id"], {"password": "hijacked-pw-1"}, ta), 403, "FORBIDDEN")
    assert login(b["email"]).status == 200, "a refused password change must change nothing"
    check_envelope_error(patch("/users/" + MISSING, {"name": "X"}, ta), 404, "NOT_FOUND")
    check_envelope_error(patch("/users/not-a-uuid", {"name": "X"}, ta), 404, "NOT_FOUND")
    check_envelope_error(patch("/users/" + b["id"], {"name": "X"}), 401, "UNAUTHORIZED")
    row = psql("primary", "SELECT name FROM users WHERE id = '%s'" % b["id"]).strip()
    assert row == "Bee", row
    # An admin may change another user.
    tadm, _ = admin()
    r = patch("/users/" + b["id"], {"name": "Renamed by admin", "image": "https://x.example/i.png"}, tadm)
    assert r.status == 200, r
    assert r.json["data"]["name"] == "Renamed by admin" and r.json["data"]["email"] == b["email"]
    check_envelope_error(patch("/users/" + MISSING, {"name": "X"}, tadm), 404, "NOT_FOUND")


def test_patch_email_conflict():
    ta, a, ea = signup()
    tb, b, eb = signup()
    r = patch("/users/" + a["id"], {"email": eb.upper(), "currentPassword": PW}, ta)
    check_envelope_error(r, 409, "CONFLICT")
    r = patch("/users/" + a["id"], {"email": eb, "name": "Changed", "currentPassword": PW}, ta)
    check_envelope_error(r, 409, "CONFLICT")
    row = psql("primary", "SELECT email || '|' || name FROM users WHERE id = '%s'" % a["id"]).strip()
    assert row == ea + "|Ada", ("a refused PATCH must change nothing", row)
    # One's own email, in another case, is no conflict.
    r = patch("/users/" + a["id"], {"email": ea.upper(), "currentPassword": PW}, ta)
    assert r.status == 200 and r.json["data"]["email"] == ea, r


def test_patch_validation():
    ta, a, _ = signup()
    u = "/users/" + a["id"]
    long_ok = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    assert len(long_ok) == 2048
    cases = [
        ({"nickname": "x"}, "nickname"),
        ({"name": "ok", "extra": 1}, "extra"),
        ({"emailVerified": True}, "emailVerified"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"createdAt": "2020-01-01T00:00:00.000Z"}, "createdAt"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": None}, "name"),
        ({"name": ["a"]}, "name"),
        ({"email": "bad"}, "email"),
        ({"email": None}, "email"),
        ({"password": "short"}, "password"),
        ({"password": None}, "password"),
        ({"image": "ftp://example.com/a.png"}, "image"),
        ({"image": "javascript:alert(1)"}, "image"),
        ({"image": "example.com/a.png"}, "image"),
        ({"image": "HTTPS//example.com"}, "image"),
        ({"image": ""}, "image"),
        ({"image": 5}, "image"),
        ({"image": long_ok + "a"}, "image"),
        # 2048 code points but more than 2048 bytes: the limit is in bytes.
        ({"image": "https://example.com/" + "é" * (2048 - len("https://example.com/"))}, "image"),
        ({"role": "root"}, "role"),
    ]
    for body, field in cases:
        j = check_envelope_error(patch(u, body, ta), 400, "VALIDATION_ERROR")
        assert field in field_of(j), (body, j)
    check_envelope_error(request("PATCH", u, body="[1]", headers=dict(bearer(ta), **{"Content-Type": "application/json"})),
                         400, "INVALID_JSON")
    check_envelope_error(request("PATCH", u, body='{"name": "x"', headers=dict(bearer(ta), **{"Content-Type": "application/json"})),
                         400, "INVALID_JSON")
    check_envelope_error(request("PATCH", u, body='{"name": "x"}', headers=bearer(ta)), 415, "UNSUPPORTED_MEDIA_TYPE")
    row = psql("primary", "SELECT name || '|' || coalesce(image, '<null>') FROM users WHERE id = '%s'" % a["id"]).strip()
    assert row == "Ada|<null>", row
    # The limits are inclusive.
    r = patch(u, {"image": long_ok}, ta)
    assert r.status == 200 and r.json["data"]["image"] == long_ok, r
    r = patch(u, {"name": "😀" * 100}, ta)
    assert r.status == 200 and r.json["data"]["name"] == "😀" * 100, r


def test_patch_user_hostile_name_verbatim():
    ta, a, _ = signup()
    name = "O'Brien \"\\\" ; DROP TABLE users; -- \u202eevil\u202c e\u0301 🧑‍🚀"
    r = patch("/users/" + a["id"], {"name": name}, ta)
    assert r.status == 200, r
    assert r.json["data"]["name"] == name
    got = get_user(a["id"], ta)
    assert got["name"] == name, (got, name)


def test_own_password_change_keeps_current_ends_others():
    t0, a, email = signup()
    r1, r2 = login(email), login(email)
    assert r1.status == 200 and r2.status == 200, (r1, r2)
    t1, t2 = r1.json["data"]["token"], r2.json["data"]["token"]
    r = patch("/users/" + a["id"], {"password": "brand-new-pass-1", "currentPassword": PW}, t1)
    assert r.status == 200, r
    assert set(r.json["data"]) == USER_KEYS
    assert "brand-new-pass-1" not in r.body.decode() and "$argon2" not in r.body.decode()
    assert get("/auth/me", headers=bearer(t1)).status == 200, "the current session stays"
    for t in (t0, t2):
        r = get("/auth/me", headers=bearer(t))
        assert r.status == 401, r
        check_envelope_error(get("/users/" + a["id"], headers=bearer(t)), 401, "UNAUTHORIZED")
    n = psql("primary", "SELECT count(*) FROM sessions WHERE user_id = '%s'" % a["id"]).strip()
    assert n == "1", n
    check_envelope_error(login(email), 401, "UNAUTHORIZED")
    li = login(email, "brand-new-pass-1")
    assert li.status == 200, li
    assert get("/auth/me", headers=bearer(t1)).status == 200


def test_admin_password_change_ends_all_sessions():
    t0, b, email = signup()
    r1 = login(email)
    assert r1.status == 200
    t1 = r1.json["data"]["token"]
    tadm, _ = admin()
    r = patch("/users/" + b["id"], {"password": "set-by-admin-1"}, tadm)
    assert r.status == 200, r
    for t in (t0, t1):
        r = get("/auth/me", headers=bearer(t))
        assert r.status == 401, r
    n = psql("primary", "SELECT count(*) FROM sessions WHERE user_id = '%s'" % b["id"]).strip()
    assert n == "0", n
    assert get("/auth/me", headers=bearer(tadm)).status == 200, "the admin's own session stays"
    check_envelope_error(login(email), 401, "UNAUTHORIZED")
    assert login(email, "set-by-admin-1").status == 200


# ------------------------------------------------------------- DELETE /users/:id

def test_delete_self():
    t0, a, email = signup()
    r1 = login(email)
    assert r1.status == 200
    t1 = r1.json["data"]["token"]
    p = post("/posts", json_body={"title": "mine", "content": "soon gone", "published": True}, headers=bearer(t0))
    assert p.status == 201, p
    pid = p.json["data"]["id"]
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get("/posts/" + pid).status == 200)
    tw, w, _ = signup("Witness")
    r = delete("/users/" + a["id"], t0)
    assert r.status == 200, r
    assert r.json == {"success": True, "data": {"id": a["id"]}}, r.json
    for t in (t0, t1):
        r = get("/auth/me", headers=bearer(t))
        assert r.status == 401, r
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get("/posts/" + pid).status == 404)
    check_envelope_error(get("/posts/" + pid, headers=bearer(tw)), 404, "NOT_FOUND")
    check_envelope_error(get("/users/" + a["id"], headers=bearer(tw)), 404, "NOT_FOUND")
    check_envelope_error(login(email), 401, "UNAUTHORIZED")
    n = psql("primary", "SELECT (SELECT count(*) FROM users WHERE id = '{0}') + (SELECT count(*) FROM "
                        "sessions WHERE user_id = '{0}') + (SELECT count(*) FROM posts WHERE author_id = "
                        "'{0}') + (SELECT count(*) FROM accounts WHERE user_id = '{0}')".format(a["id"])).strip()
    assert n == "0", n


def test_delete_permissions():
    ta, a, _ = signup()
    tb, b, eb = signup()
    check_envelope_error(delete("/users/" + b["id"], ta), 403, "FORBIDDEN")
    check_envelope_error(delete("/users/" + b["id"]), 401, "UNAUTHORIZED")
    check_envelope_error(delete("/users/" + MISSING, ta), 404, "NOT_FOUND")
    check_envelope_error(delete("/users/not-a-uuid", ta), 404, "NOT_FOUND")
    assert get("/auth/me", headers=bearer(tb)).status == 200
    n = psql("primary", "SELECT count(*) FROM users WHERE id = '%s'" % b["id"]).strip()
    assert n == "1", n
    tadm, adm = admin()
    r = delete("/users/" + b["id"], tadm)
    assert r.status == 200 and r.json["data"] == {"id": b["id"]}, r
    check_envelope_error(delete("/users/" + b["id"], tadm), 404, "NOT_FOUND")
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: get("/users/" + b["id"], headers=bearer(ta)).status == 404)
    assert get("/auth/me", headers=bearer(tadm)).status == 200
    # The deleter (a) is untouched.
    assert get("/auth/me", headers=bearer(ta)).status == 200


def test_admin_delete_cascades():
    tb, b, eb = signup("Doomed")
    r1 = login(eb)
    assert r1.status == 200
    t1 = r1.json["data"]["token"]
    pids = []
    for i, pub in enumerate((True, False, True)):
        p = post("/posts", json_body={"title": "doomed %d" % i, "content": "c", "published": pub}, headers=bearer(tb))
        assert p.status == 201, p
        pids.append(p.json["data"]["id"])
    q = ("SELECT (SELECT count(*) FROM posts WHERE author_id = '{0}') || '|' || (SELECT count(*) FROM "
         "sessions WHERE user_id = '{0}') || '|' || (SELECT count(*) FROM accounts WHERE user_id = '{0}') "
         "|| '|' || (SELECT count(*) FROM users WHERE id = '{0}')").format(b["id"])
    assert psql("primary", q).strip() == "3|2|1|1"
    # another client's write: the replica may lag (contract: Consistency)
    eventually(lambda: len(get("/posts?authorId=" + b["id"]).json["data"]) == 2)
    tadm, _ = admin()
    r = delete("/users/" + b["id"], tadm)
    assert r.status == 200 and r.json["data"] == {"id": b["id"]}, r
    assert psql("primary", q).strip() == "0|0|0|0"
    for t in (tb, t1):
        r = get("/auth/me", headers=bearer(t))
        assert r.status == 401, r
    # The admin who deleted reads its own write.
    for pid in pids:
        r = get("/posts/" + pid, headers=bearer(tadm))
        assert r.status == 404, r
    r = get("/posts?authorId=" + b["id"], headers=bearer(tadm))
    assert r.status == 200 and r.json["data"] == [], r
    check_envelope_error(get("/users/" + b["id"], headers=bearer(tadm)), 404, "NOT_FOUND")
    check_envelope_error(login(eb), 401, "UNAUTHORIZED")


# ------------------------------------------------------------------ precedence

def test_precedence_examples():
    # Unauthenticated GET of a non-UUID id: authentication comes first.
    check_envelope_error(get("/users/not-a-uuid"), 401, "UNAUTHORIZED")
    check_envelope_error(patch("/users/not-a-uuid", {"bogus": 1}), 401, "UNAUTHORIZED")
    check_envelope_error(delete("/users/not-a-uuid"), 401, "UNAUTHORIZED")
    ta, a, _ = signup()
    # Non-admin PATCH of a missing user: 404 (resource) before 403 (permission),
    # even when the body asks for a role.
    check_envelope_error(patch("/users/" + MISSING, {"name": "x"}, ta), 404, "NOT_FOUND")
    check_envelope_error(patch("/users/" + MISSING, {"role": "admin"}, ta), 404, "NOT_FOUND")
    check_envelope_error(patch("/users/" + MISSING, {}, ta), 404, "NOT_FOUND")
    # The body is checked before the resource.
    j = check_envelope_error(patch("/users/" + MISSING, {"bogus": 1}, ta), 400, "VALIDATION_ERROR")
    assert "bogus" in field_of(j)
    # Route (405) before authentication.
    check_envelope_error(request("PUT", "/users/" + MISSING), 405, "METHOD_NOT_ALLOWED")
