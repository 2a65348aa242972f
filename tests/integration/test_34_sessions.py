"""Session management (API.md "Sessions"): the list of one's sessions,
ending one or all the others, an admin's view and revocation of another
user's, the absolute session age (QUIRE_SESSION_MAX_AGE), lastUsedAt
written at most once a minute, and revocation honoured at once by every
worker of the host (the stack runs 4; the session cache is warmed on each
before the revocation, and each must refuse the session after it)."""

import hashlib
import time
import uuid

from lib import (assert_revoked_everywhere, bearer, check_envelope_error, get, hdr, make_admin,
                 on_every_worker, post, psql, request, session_cookie, stack, unique_email, wait_for)

PW = "session password 1"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def _signup(ua="ua-signup", ip=None):
    r = post("/auth/signup", json_body={"name": "Sess", "email": unique_email("sess"), "password": PW},
             headers=hdr({"User-Agent": ua}, ip=ip))
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"]


def _login(email, ua="ua-login", ip=None, password=PW):
    r = post("/auth/login", json_body={"email": email, "password": password},
             headers=hdr({"User-Agent": ua}, ip=ip))
    assert r.status == 200, r
    return r.json["data"]["token"]


def _sessions(tok, path="/auth/sessions", status=200):
    r = get(path, headers=bearer(tok))
    assert r.status == status, r
    return r


def _hash(tok):
    return hashlib.sha256(tok.encode()).hexdigest()


def _sid(tok):
    """The session id of a token, from the database (the API never shows a
    token next to its id)."""
    return psql("primary", "SELECT id FROM sessions WHERE token_hash = '%s'" % _hash(tok)).strip()


def _audit(rid):
    """The audit rows of one request id: [(action, actor_id, user_id, ip)]."""
    out = psql("primary", "SELECT action, coalesce(actor_id::text, '-'), coalesce(user_id::text, '-'), "
                          "coalesce(ip_address, '-') FROM audit_log WHERE request_id = '%s' ORDER BY action" % rid)
    return [tuple(l.split("|")) for l in out.splitlines() if l]


def _rid(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex[:16])


def test_list_shape_newest_first_and_current():
    import re
    ip_a, ip_b = "10.34.1.1", "2001:db8:34::b"
    tok_a, user = _signup(ua="client-A/1.0", ip=ip_a)
    time.sleep(0.01)
    tok_b = _login(user["email"], ua="client-B/2.0", ip=ip_b)
    # Another client's login: the replica may lag (contract: Consistency).
    r = wait_for(lambda: (lambda r: len(r.json["data"]) == 2 and r)(_sessions(tok_a)), timeout=10,
                 what="both sessions listed")
    assert r.header("Cache-Control") == "no-store"
    j = r.json
    assert j["success"] is True and j["meta"] == {"limit": 100, "offset": 0, "nextCursor": None}, j
    items = j["data"]
    assert len(items) == 2, items
    newest, oldest = items
    for it in items:
        assert set(it) == {"id", "createdAt", "lastUsedAt", "expiresAt", "ipAddress", "userAgent", "current"}, it
        assert re.match(UUID_RE, it["id"]), it
        for k in ("createdAt", "lastUsedAt", "expiresAt"):
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", it[k]), it
    assert newest["createdAt"] >= oldest["createdAt"]
    assert (newest["ipAddress"], newest["userAgent"], newest["current"]) == (ip_b, "client-B/2.0", False), newest
    assert (oldest["ipAddress"], oldest["userAgent"], oldest["current"]) == (ip_a, "client-A/1.0", True), oldest
    assert oldest["id"] == _sid(tok_a) and newest["id"] == _sid(tok_b)
    # Neither a token nor its hash is shown.
    for t in (tok_a, tok_b):
        assert t not in r.body.decode() and _hash(t) not in r.body.decode()
    # Seen from B, B is the current one.
    assert [it["current"] for it in _sessions(tok_b).json["data"]] == [True, False]


def test_user_agent_capped_on_a_character_boundary():
    ua = ("é" * 200).encode("utf-8")       # 400 bytes
    tok, _ = _signup(ua=ua)
    got = _sessions(tok).json["data"][0]["userAgent"]
    raw = got.encode("utf-8")
    assert 0 < len(raw) <= 256 and ua.startswith(raw), len(raw)
    assert got == "é" * (len(raw) // 2)


def test_session_routes_need_a_session():
    for method, path in (("GET", "/auth/sessions"), ("POST", "/auth/sessions/revoke-others"),
                         ("DELETE", "/auth/sessions/" + str(uuid.uuid4()))):
        r = request(method, path, headers=hdr())
        check_envelope_error(r, 401, "UNAUTHORIZED")
        assert r.header("Cache-Control") == "no-store"
        r = request(method, path, headers=bearer("x" * 43))
        check_envelope_error(r, 401, "UNAUTHORIZED")
    # A cookie write from an origin not allowed is refused before anything ends.
    tok, user = _signup()
    other = _login(user["email"])
    r = post("/auth/sessions/revoke-others", headers={"Cookie": "quire_session=" + tok,
                                                      "Origin": "https://evil.example"})
    check_envelope_error(r, 403, "FORBIDDEN")
    assert get("/auth/me", headers=bearer(other)).status == 200


def test_delete_one_session_by_id():
    tok_a, user = _signup()
    tok_b = _login(user["email"])
    sid_b = _sid(tok_b)
    rid = _rid("del-one")
    got = {}

    def delete():
        got["r"] = request("DELETE", "/auth/sessions/" + sid_b,
                           headers=dict(bearer(tok_a), **{"X-Request-Id": rid, "X-Forwarded-For": "10.34.2.2"}))
    assert_revoked_everywhere([bearer(tok_b), bearer(tok_a)], delete, revoked=[0], kept=[1])
    r = got["r"]
    assert r.status == 200 and r.json["data"] == {"id": sid_b}, r
    assert session_cookie(r) is None, r.headers  # not the current session: no logout
    assert [it["id"] for it in _sessions(tok_a).json["data"]] == [_sid(tok_a)]
    assert _audit(rid) == [("session_revoked", user["id"], user["id"], "10.34.2.2")], _audit(rid)
    # Ended: 404, and no second audit row.
    rid2 = _rid("del-again")
    r = request("DELETE", "/auth/sessions/" + sid_b, headers=dict(bearer(tok_a), **{"X-Request-Id": rid2}))
    check_envelope_error(r, 404, "NOT_FOUND")
    assert _audit(rid2) == []


def test_delete_another_users_session_is_404():
    tok_a, _ = _signup()
    tok_x, _ = _signup()
    sid_x = _sid(tok_x)
    for bad in (sid_x, sid_x.upper(), "not-a-uuid", "revoke-others", str(uuid.uuid4()), sid_x + "0"):
        r = request("DELETE", "/auth/sessions/" + bad, headers=bearer(tok_a))
        check_envelope_error(r, 404, "NOT_FOUND")
    assert get("/auth/me", headers=bearer(tok_x)).status == 200


def test_deleting_the_current_session_is_a_logout():
    tok, user = _signup()
    sid = _sid(tok)
    rid = _rid("del-cur")
    r = request("DELETE", "/auth/sessions/" + sid,
                headers={"Cookie": "quire_session=" + tok, "X-Request-Id": rid, "X-Forwarded-For": "10.34.3.3"})
    assert r.status == 200 and r.json["data"] == {"id": sid}, r
    c = session_cookie(r)
    assert c is not None and c.startswith("quire_session=;") and "Max-Age=0" in c, c
    assert get("/auth/me", headers={"Cookie": "quire_session=" + tok}).status == 401
    assert _audit(rid) == [("logout", user["id"], user["id"], "10.34.3.3")], _audit(rid)


def test_logout_is_audited():
    tok, user = _signup()
    rid = _rid("logout")
    r = post("/auth/logout", headers=dict(bearer(tok), **{"X-Request-Id": rid, "X-Forwarded-For": "10.34.4.4"}))
    assert r.status == 200, r
    assert _audit(rid) == [("logout", user["id"], user["id"], "10.34.4.4")], _audit(rid)


def test_revoke_others_refused_at_once_on_every_worker():
    tok_a, user = _signup()
    tok_b = _login(user["email"])
    tok_c = _login(user["email"])
    cookie_b = {"Cookie": "quire_session=" + tok_b}
    rid = _rid("rev-others")
    got = {}

    def revoke():
        got["r"] = post("/auth/sessions/revoke-others", headers=dict(bearer(tok_a), **{"X-Request-Id": rid}))
    # No tolerance: every request sent after the answer is refused, by every worker.
    assert_revoked_everywhere([cookie_b, bearer(tok_c), bearer(tok_a)], revoke, revoked=[0, 1], kept=[2])
    r = got["r"]
    assert r.status == 200 and r.json["data"] == {"count": 2}, r
    # One row for the request, however many sessions it ended.
    assert [a[0] for a in _audit(rid)] == ["session_revoked"], _audit(rid)
    # Nothing left to end: count 0, and no row for a change that did not happen.
    rid2 = _rid("rev-none")
    r = post("/auth/sessions/revoke-others", headers=dict(bearer(tok_a), **{"X-Request-Id": rid2}))
    assert r.status == 200 and r.json["data"] == {"count": 0}, r
    assert _audit(rid2) == []


def test_admin_lists_and_ends_a_users_sessions():
    admin_tok, admin = make_admin("sess-admin")
    tok_a, user = _signup(ua="cookie-client")
    tok_b = _login(user["email"], ua="bearer-client")
    path = "/users/%s/sessions" % user["id"]
    # Another client's writes: the replica may lag (contract: Consistency).
    items = wait_for(lambda: (lambda d: len(d) == 2 and d)(_sessions(admin_tok, path).json["data"]),
                     timeout=10, what="both sessions listed")
    assert [it["userAgent"] for it in items] == ["bearer-client", "cookie-client"], items
    assert [it["current"] for it in items] == [False, False]
    # Not for a non-admin, even for their own id, before anything else.
    check_envelope_error(get(path, headers=bearer(tok_a)), 403, "FORBIDDEN")
    check_envelope_error(request("DELETE", path, headers=bearer(tok_a)), 403, "FORBIDDEN")
    check_envelope_error(get(path), 401, "UNAUTHORIZED")
    cookie = {"Cookie": "quire_session=" + tok_a}
    rid = _rid("adm-rev")
    got = {}

    def revoke():
        got["r"] = request("DELETE", path, headers=dict(bearer(admin_tok), **{"X-Request-Id": rid,
                                                                              "X-Forwarded-For": "10.34.5.5"}))
    assert_revoked_everywhere([cookie, bearer(tok_b), bearer(admin_tok)], revoke, revoked=[0, 1], kept=[2])
    r = got["r"]
    assert r.status == 200 and r.json["data"] == {"count": 2}, r
    assert session_cookie(r) is None  # the admin's own session goes on
    assert _audit(rid) == [("session_revoked", admin["id"], user["id"], "10.34.5.5")], _audit(rid)
    assert _sessions(admin_tok, path).json["data"] == []
    # Missing and malformed users.
    for bad in (str(uuid.uuid4()), "nope", user["id"].upper()):
        check_envelope_error(get("/users/%s/sessions" % bad, headers=bearer(admin_tok)), 404, "NOT_FOUND")
        check_envelope_error(request("DELETE", "/users/%s/sessions" % bad, headers=bearer(admin_tok)),
                             404, "NOT_FOUND")


def test_last_used_at_written_at_most_once_a_minute():
    """GET /auth/me writes nothing while lastUsedAt is under a minute old
    (the row's xmin, which every UPDATE changes, stays the same), and
    writes it once when it is older."""
    tok, _ = _signup()
    sid = _sid(tok)

    def xmin():
        return psql("primary", "SELECT xmin FROM sessions WHERE id = '%s'" % sid).strip()
    before = xmin()
    end = time.time() + 2.5                 # past two cache lifetimes: lookups in the database too
    while time.time() < end:
        assert get("/auth/me", headers=bearer(tok)).status == 200
        time.sleep(0.05)
    assert xmin() == before, "GET /auth/me wrote the session row"
    psql("primary", "UPDATE sessions SET last_used_at = now() - interval '2 minutes' WHERE id = '%s'" % sid)
    wait_for(lambda: psql("replica", "SELECT last_used_at < now() - interval '1 minute' FROM sessions "
                                     "WHERE id = '%s'" % sid).strip() == "t", timeout=10, what="replica")
    old = xmin()

    answers = []

    def refreshed():
        answers.append(get("/auth/me", headers=bearer(tok)))
        assert answers[-1].status == 200
        return psql("primary", "SELECT last_used_at > now() - interval '10 seconds' FROM sessions "
                               "WHERE id = '%s'" % sid).strip() == "t"
    wait_for(refreshed, timeout=10, interval=0.1, what="lastUsedAt written")
    once = xmin()
    assert once != old
    # The refresh is bookkeeping, not the caller's write: no answer of
    # this read hands out a read position (which would send the caller's
    # next reads to the primary or make them wait for a replica).
    for a in answers:
        assert a.header("Quire-Read-After") is None, a.headers
        assert not any(c.startswith("quire_pos=") for c in a.header_all("Set-Cookie")), a.headers
    seen = _sessions(tok).json["data"][0]["lastUsedAt"]
    end = time.time() + 2.5
    while time.time() < end:
        assert get("/auth/me", headers=bearer(tok)).status == 200
        time.sleep(0.05)
    assert xmin() == once, "lastUsedAt written twice within a minute"
    assert _sessions(tok).json["data"][0]["lastUsedAt"] == seen


def test_absolute_age_ends_an_extended_session():
    """With the default QUIRE_SESSION_MAX_AGE (30 days), a session created
    30 days and a minute ago whose sliding expiry is still a day ahead (it
    was extended) is refused, and is not listed."""
    tok, user = _signup()
    tok2 = _login(user["email"])
    psql("primary", "UPDATE sessions SET created_at = now() - interval '30 days 1 minute', "
                    "expires_at = now() + interval '1 day' WHERE token_hash = '%s'" % _hash(tok))
    wait_for(lambda: get("/auth/me", headers=bearer(tok)).status == 401, timeout=10, what="aged session refused")
    assert [it["id"] for it in _sessions(tok2).json["data"]] == [_sid(tok2)]
    # A session a minute short of the age still works, and says when it ends.
    psql("primary", "UPDATE sessions SET created_at = now() - interval '30 days' + interval '1 hour', "
                    "expires_at = now() + interval '1 day' WHERE token_hash = '%s'" % _hash(tok2))

    def capped():
        r = get("/auth/me", headers=bearer(tok2))
        return r.status == 200 and r.json["data"]["session"]["expiresAt"] < \
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 3700)) and r
    r = wait_for(capped, timeout=10, what="expiresAt capped by the absolute age")
    assert r.json["data"]["session"]["expiresAt"] > time.strftime("%Y-%m-%dT%H:%M:%S",
                                                                  time.gmtime(time.time() + 3500))


def _epoch(ts):
    import calendar
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:23]) / 1000.0


def test_small_max_age_ends_an_extended_session():
    """QUIRE_SESSION_MAX_AGE=6: the expiry shown is never past creation +
    6 s, sliding does not move it further, and the session ends then."""
    stack("app-restart", env_extra={"QUIRE_SESSION_MAX_AGE": "6"})
    try:
        r = post("/auth/signup", json_body={"name": "Short", "email": unique_email("short"), "password": PW},
                 headers=hdr())
        assert r.status == 201, r
        tok = r.json["data"]["token"]
        created = _epoch(get("/auth/me", headers=bearer(tok)).json["data"]["session"]["createdAt"])
        assert _epoch(r.json["data"]["expiresAt"]) <= created + 6.001, r.json
        assert "Max-Age=6;" in session_cookie(r), r.headers
        # Last extended two days ago: the next use slides the expiry, capped.
        psql("primary", "UPDATE sessions SET updated_at = now() - interval '2 days' "
                        "WHERE token_hash = '%s'" % _hash(tok))
        wait_for(lambda: psql("replica", "SELECT updated_at < now() - interval '1 day' FROM sessions "
                                         "WHERE token_hash = '%s'" % _hash(tok)).strip() == "t",
                 timeout=5, what="replica")
        m = get("/auth/me", headers=bearer(tok))
        assert m.status == 200, m
        assert psql("primary", "SELECT updated_at > now() - interval '1 minute' FROM sessions "
                               "WHERE token_hash = '%s'" % _hash(tok)).strip() == "t", "did not slide"
        assert psql("primary", "SELECT expires_at <= created_at + interval '6 seconds' FROM sessions "
                               "WHERE token_hash = '%s'" % _hash(tok)).strip() == "t"
        assert _epoch(m.json["data"]["session"]["expiresAt"]) <= created + 6.001, m.json
        listed = _sessions(tok).json["data"][0]["expiresAt"]
        assert _epoch(listed) <= created + 6.001, listed
        time.sleep(max(0.0, created + 6.3 - time.time()))
        on_every_worker(bearer(tok), 401)
    finally:
        stack("app-restart")
