"""Hostile text through every input the app reads, through the real
stack: every query parameter, the path, User-Agent, X-Forwarded-For,
X-Request-Id, the cookie, and every JSON string field of every route.
Invalid and overlong UTF-8, lone surrogates, NUL, C0/C1 controls and
100 KB values: never a 500, the server keeps answering, and a refused
write leaves nothing behind. And the 500 that can still happen (the
database refusing what validation let through) is logged with its
SQLSTATE and request id and counted."""

import base64
import json
import random
import re
import urllib.parse
import uuid

from lib import (bearer, check_envelope_error, get, hdr, log_lines, make_admin, post, psql, request,
                 unique_email)
import rawhttp

PW = "correct horse 1"
JSON = {"Content-Type": "application/json"}

# Raw bytes: as a query value (percent-encoded), a path segment, a header.
BYTES = [b"\xc3", b"\xff\xfe", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
         b"\x00", b"\x01\x1b[31m", b"\x7f", b"\xc2\x85", b"\xc2\x9f", b"ok\xc3(", b"A" * 100000]
INVALID_UTF8 = [b"\xc3", b"\xff\xfe", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                b"ok\xc3("]
# JSON string values, as the text between the quotes (or raw bytes).
# Each is refused by every string field (the long one is past every limit).
JSON_VALUES = [b"\\ud800", b"\\udc00x", b"\\ud800\\u0041", b"\\u0000", b"a\\u0001b", b"a\\u0085b",
               b"a\\u009fb", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"a\x01b", b"x" * 100001]


def _signup():
    email = unique_email("h87")
    r = post("/auth/signup", json_body={"name": "Hostile", "email": email, "password": PW}, headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"], email


_admin = []


def _admin_tok():
    if not _admin or get("/auth/me", headers=bearer(_admin[0])).status != 200:
        _admin[:] = [make_admin("admin87")[0]]
    return _admin[0]


def _sane(r, what):
    """Never a 500 (nor a dropped connection); the app's answers are the envelope."""
    assert r is not None, "%s: no answer" % (what,)
    assert r.status < 500, (what, r)
    if r.header("X-Request-Id"):     # the app answered, not the web server
        assert r.header("Content-Type") == "application/json; charset=utf-8", (what, r.headers)
        json.loads(r.body.decode("utf-8"))


def _q(b):
    return urllib.parse.quote_from_bytes(b, safe="")


def test_query_parameters():
    tok, _, _ = _signup()
    params = [("/posts", p, None) for p in ("limit", "offset", "cursor", "authorId", "q")]
    params += [("/users", p, tok) for p in ("limit", "offset", "cursor")]
    for path, name, t in params:
        for v in BYTES:
            r = get("%s?%s=%s" % (path, name, _q(v)), headers=bearer(t))
            _sane(r, (path, name, v[:8]))
            # lighttpd refuses some itself (a 400 page of its own).
            if v in INVALID_UTF8 and r.header("X-Request-Id"):
                j = check_envelope_error(r, 400, "VALIDATION_ERROR")
                assert [d["field"] for d in j["details"]] == [name], (path, name, v, j)
            # Raw bytes too, where the web server passes them on.
            if len(v) < 100 and b"\x00" not in v:
                _sane(rawhttp.send("GET", b"%s?%s=%s" % (path.encode(), name.encode(), v),
                                   [("Authorization", "Bearer " + tok)] if t else []), (path, name, v))
    # The cases the audit found: a cut character in q, cursors naming dates that do not exist.
    r = get("/posts?q=%c3")
    j = check_envelope_error(r, 400, "VALIDATION_ERROR")
    assert j["details"][0]["field"] == "q", j
    uid = str(uuid.uuid4())
    for ts in ("2026-13-01 00:00:00+00", "2026-02-30 10:00:00+00", "0000-01-01 00:00:00+00",
               "2026-01-01 99:00:00+00", "2026-01-01 10:61:00+00"):
        cur = base64.urlsafe_b64encode(("%s|%s" % (ts, uid)).encode()).decode().rstrip("=")
        for path, t in (("/posts", None), ("/users", tok)):
            r = get("%s?cursor=%s" % (path, cur), headers=bearer(t))
            j = check_envelope_error(r, 400, "VALIDATION_ERROR")
            assert j["details"][0]["field"] == "cursor", (ts, j)
        r = get("/posts?q=x&cursor=" + cur)
        check_envelope_error(r, 400, "VALIDATION_ERROR")


def test_path():
    tok, _, _ = _signup()
    for v in BYTES:
        for base in ("/posts/", "/users/", "/v1/posts/", "/"):
            r = get(base + _q(v), headers=bearer(tok))
            _sane(r, (base, v[:8]))
            if r.header("X-Request-Id"):
                assert r.status in (404, 405), (base, v[:8], r)
            if len(v) < 100 and b"\x00" not in v:
                _sane(rawhttp.send("GET", base.encode() + v, [("Authorization", "Bearer " + tok)]),
                      (base, v))


def test_headers():
    tok, _, _ = _signup()
    for v in BYTES:
        if b"\x00" in v:
            continue     # no web server passes a NUL in a header
        for name in ("User-Agent", "X-Forwarded-For", "X-Request-Id", "Cookie", "Authorization"):
            hs = [(name, v)]
            # A session route, a public one, and a write that keeps the header.
            r = rawhttp.send("GET", "/auth/me", hs + ([] if name in ("Cookie", "Authorization") else
                                                      [("Authorization", "Bearer " + tok)]))
            _sane(r, (name, v[:8]))
            rid = r.header("X-Request-Id")
            if rid:
                assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", rid), rid
            if name == "X-Forwarded-For":
                continue     # a signup with it: test_28 (one rate-limit bucket for all)
            email = unique_email("h87h")
            body = json.dumps({"name": "H", "email": email, "password": PW}).encode()
            extra = [("X-Forwarded-For", "10.87.%d.%d" % (random.randint(0, 255), random.randint(1, 254)))]
            r = rawhttp.send("POST", "/auth/signup", hs + extra + [("Content-Type", "application/json")], body)
            _sane(r, ("signup", name, v[:8]))
            if r.status == 201:
                continue
            # Refused (by the web server, or rate limited): nothing written.
            assert psql("primary", "SELECT count(*) FROM users WHERE email = '%s'" % email).strip() == "0"


def _body(base, field, raw):
    """base as JSON with field's value replaced by the string "raw" (bytes)."""
    marker = "@@%s@@" % uuid.uuid4().hex
    d = dict(base)
    d[field] = marker
    return json.dumps(d).encode().replace(marker.encode(), raw)


def test_json_fields_of_every_route():
    atok = _admin_tok()
    tok, user, email = _signup()
    r = post("/posts", json_body={"title": "keep", "content": "keep"}, headers=bearer(tok))
    assert r.status == 201, r
    pid = r.json["data"]["id"]

    def users_named(e):
        return psql("primary", "SELECT count(*) FROM users WHERE email = '%s'" % e).strip()

    def post_row():
        return psql("primary", "SELECT title, content, updated_at FROM posts WHERE id = '%s'" % pid)

    def user_row():
        return psql("primary", "SELECT name, email, image, role, updated_at FROM users WHERE id = '%s'" % user["id"])

    posts_before = psql("primary", "SELECT count(*) FROM posts WHERE author_id = '%s'" % user["id"])
    post_before, user_before = post_row(), user_row()
    for v in JSON_VALUES:
        # Routes that create: a 4xx leaves no row.
        for field in ("name", "email", "password"):
            e = unique_email("h87j")
            r = request("POST", "/auth/signup", body=_body({"name": "N", "email": e, "password": PW}, field, v),
                        headers=dict(hdr(), **JSON))
            _sane(r, ("signup", field, v[:8]))
            if r.status != 201:
                assert users_named(e) == "0", ("signup wrote", field, v[:8])
        for field in ("email", "password"):
            r = request("POST", "/auth/login", body=_body({"email": email, "password": PW}, field, v),
                        headers=dict(hdr(), **JSON))
            _sane(r, ("login", field, v[:8]))
        for field in ("name", "email", "password", "role"):
            e = unique_email("h87a")
            r = request("POST", "/users", body=_body({"name": "N", "email": e, "password": PW}, field, v),
                        headers=dict(bearer(atok), **JSON))
            _sane(r, ("POST /users", field, v[:8]))
            if r.status != 201:
                assert users_named(e) == "0", ("POST /users wrote", field, v[:8])
        for field in ("title", "content"):
            r = request("POST", "/posts", body=_body({"title": "t", "content": "c"}, field, v),
                        headers=dict(bearer(tok), **JSON))
            _sane(r, ("POST /posts", field, v[:8]))
            assert r.status == 400, ("POST /posts", field, v[:8], r)
        # Routes that change: a 4xx changes nothing.
        for field in ("title", "content"):
            r = request("PATCH", "/posts/" + pid, body=_body({}, field, v), headers=dict(bearer(tok), **JSON))
            _sane(r, ("PATCH /posts", field, v[:8]))
            assert r.status == 400, ("PATCH /posts", field, v[:8], r)
        for field in ("name", "email", "image", "role"):
            r = request("PATCH", "/users/" + user["id"], body=_body({}, field, v), headers=dict(bearer(atok), **JSON))
            _sane(r, ("PATCH /users", field, v[:8]))
            assert r.status == 400, ("PATCH /users", field, v[:8], r)
    assert psql("primary", "SELECT count(*) FROM posts WHERE author_id = '%s'" % user["id"]) == posts_before
    assert post_row() == post_before, "a refused PATCH changed the post"
    assert user_row() == user_before, "a refused PATCH changed the user"
    assert get("/health").status == 200


def _metric(name):
    r = get("/metrics")
    assert r.status == 200, r
    total = 0.0
    for line in r.body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_internal_error_is_logged_and_counted():
    """A statement the database refuses (here a CHECK added for the test,
    SQLSTATE 23514) answers 500: logged with the SQLSTATE and the request
    id, and counted."""
    tok, _, _ = _signup()
    word = "boom-%s" % uuid.uuid4().hex[:8]
    con = "test87_%s" % uuid.uuid4().hex[:8]
    before, dberr = _metric("quire_internal_errors_total"), _metric("quire_db_errors_total")
    psql("primary", "ALTER TABLE posts ADD CONSTRAINT %s CHECK (title <> '%s') NOT VALID" % (con, word))
    try:
        rid = "h87-%s" % uuid.uuid4().hex
        r = post("/posts", json_body={"title": word, "content": "x"},
                 headers=dict(bearer(tok), **{"X-Request-Id": rid}))
        check_envelope_error(r, 500, "INTERNAL_ERROR")
        assert word not in r.body.decode() and "23514" not in r.body.decode(), r
    finally:
        psql("primary", "ALTER TABLE posts DROP CONSTRAINT %s" % con)
    lines = [l for l in log_lines(rid) if "sqlstate=23514" in l and "internal error" in l]
    assert lines, log_lines(rid)
    assert _metric("quire_internal_errors_total") >= before + 1
    assert _metric("quire_db_errors_total") >= dberr + 1
    # The next request is served.
    r = post("/posts", json_body={"title": "fine", "content": "x"}, headers=bearer(tok))
    assert r.status == 201, r
