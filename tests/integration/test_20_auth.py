"""Authentication: signup, login, logout, me, by cookie and by Bearer;
validation, enumeration resistance, Origin rule, rate limits, session
expiry. The stack trusts 127.0.0.1 as a proxy, so each test client picks
its own address with X-Forwarded-For and the shared rate limit does not
bleed between tests."""

import concurrent.futures
import hashlib
import random
import statistics
import time
import uuid

from lib import (ENV, addr, app_log, bearer, check_envelope_error, get, hdr, log_lines, post, psql, request, unique_email, wait_for)

PW = "correct horse 1"






def signup(email=None, name="Ada", password=PW, ip=None):
    email = email or unique_email("ada")
    r = post("/auth/signup", json_body={"name": name, "email": email, "password": password}, headers=hdr(ip=ip))
    return r, email


def cookie_of(r):
    for v in r.header_all("Set-Cookie"):
        if v.startswith("quire_session="):
            return v
    return None




def test_signup_shape_and_cookie():
    tag = uuid.uuid4().hex[:10]
    r, email = signup(email="  Mixed.Case+%s@Example.COM " % tag, name="  Ada Lovelace  ")
    assert r.status == 201, r
    assert r.header("Cache-Control") == "no-store"
    d = r.json["data"]
    u = d["user"]
    assert u["email"] == "mixed.case+%s@example.com" % tag
    assert u["name"] == "Ada Lovelace"
    assert u["emailVerified"] is False and u["image"] is None and u["role"] == "user"
    assert set(u) == {"id", "name", "email", "emailVerified", "twoFactorEnabled", "image", "role", "createdAt",
                      "updatedAt"}
    assert u["twoFactorEnabled"] is False
    assert len(d["token"]) == 43
    assert d["expiresAt"].endswith("Z") and len(d["expiresAt"]) == 24
    c = cookie_of(r)
    assert c.startswith("quire_session=%s;" % d["token"]), c
    parts = [p.strip() for p in c.split(";")]
    assert "HttpOnly" in parts and "SameSite=Lax" in parts and "Path=/" in parts
    assert "Max-Age=604800" in parts
    # The check stack runs with QUIRE_COOKIE_SECURE=0 (plain HTTP).
    assert "Secure" not in parts
    assert "password" not in r.body.decode() and "$argon2" not in r.body.decode()


def test_flow_by_bearer():
    r, email = signup()
    tok = r.json["data"]["token"]
    me = get("/auth/me", headers=bearer(tok))
    assert me.status == 200, me
    assert me.header("Cache-Control") == "no-store"
    d = me.json["data"]
    assert d["user"]["email"] == email
    assert set(d["session"]) == {"expiresAt", "createdAt"}
    lo = post("/auth/logout", headers=bearer(tok))
    assert lo.status == 200 and lo.json["data"] == {}, lo
    c = cookie_of(lo)
    assert c.startswith("quire_session=;") and "Max-Age=0" in c, c
    check_envelope_error(get("/auth/me", headers=bearer(tok)), 401, "UNAUTHORIZED")
    check_envelope_error(post("/auth/logout", headers=bearer(tok)), 401, "UNAUTHORIZED")


def test_flow_by_cookie_and_login():
    r, email = signup()
    tok = r.json["data"]["token"]
    jar = {"Cookie": "other=1; quire_session=%s; x=y" % tok}
    assert get("/auth/me", headers=jar).status == 200
    # Login again: a second, different session.
    li = post("/auth/login", json_body={"email": email.upper(), "password": PW}, headers=hdr())
    assert li.status == 200, li
    tok2 = li.json["data"]["token"]
    assert tok2 != tok and cookie_of(li).startswith("quire_session=" + tok2)
    assert li.json["data"]["user"]["email"] == email
    # Logout by cookie ends only that session.
    assert post("/auth/logout", headers=jar).status == 200
    check_envelope_error(get("/auth/me", headers=jar), 401, "UNAUTHORIZED")
    assert get("/auth/me", headers=bearer(tok2)).status == 200


def test_me_without_or_with_bad_token():
    for h in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
              {"Cookie": "quire_session=" + "A" * 43}, {"Authorization": "Bearer " + "A" * 43},
              {"Cookie": "quire_session="}, {"Cookie": ";;=;"}):
        r = get("/auth/me", headers=h)
        check_envelope_error(r, 401, "UNAUTHORIZED")
        assert r.header("Cache-Control") == "no-store"


def test_signup_validation():
    good = {"name": "Ada", "email": unique_email("v"), "password": PW}
    cases = [
        ({k: v for k, v in good.items() if k != "name"}, "name"),
        ({k: v for k, v in good.items() if k != "email"}, "email"),
        ({k: v for k, v in good.items() if k != "password"}, "password"),
        (dict(good, name=""), "name"),
        (dict(good, name="   "), "name"),
        (dict(good, name="x" * 101), "name"),
        (dict(good, name=5), "name"),
        (dict(good, name=None), "name"),
        (dict(good, email="no-at"), "email"),
        (dict(good, email="a@b"), "email"),
        (dict(good, email="a@.com"), "email"),
        (dict(good, email="a@b..com"), "email"),
        (dict(good, email="a@@b.com"), "email"),
        (dict(good, email="@b.com"), "email"),
        (dict(good, email="a b@c.com"), "email"),
        (dict(good, email="x" * 65 + "@b.com"), "email"),
        (dict(good, email="a@" + "b" * 250 + ".com"), "email"),
        (dict(good, email=["a@b.com"]), "email"),
        (dict(good, password="short7!"), "password"),
        (dict(good, password="p" * 129), "password"),
        (dict(good, password=12345678), "password"),
        (dict(good, role="admin"), "role"),
        (dict(good, extra=1), "extra"),
    ]
    for body, field in cases:
        r = post("/auth/signup", json_body=body, headers=hdr())
        j = check_envelope_error(r, 400, "VALIDATION_ERROR")
        fields = [d["field"] for d in j["details"]]
        assert field in fields, (body, j)
        assert all(isinstance(d["message"], str) and d["message"] for d in j["details"])
        assert r.header("Cache-Control") == "no-store"
    # Limits are inclusive and counted in code points.
    r = post("/auth/signup", json_body=dict(good, name="😀" * 100, password="é" * 8), headers=hdr())
    assert r.status == 201, r
    assert r.json["data"]["user"]["name"] == "😀" * 100


def test_login_validation():
    cases = [({}, "email"), ({"email": "a@b.co"}, "password"), ({"password": "x"}, "email"),
             ({"email": "a@b.co", "password": 1}, "password"),
             ({"email": "a@b.co", "password": "x" * 129}, "password"),
             ({"email": "a@b.co", "password": "short7!"}, "password"),
             ({"email": "a@b.co", "password": "x", "remember": True}, "remember")]
    for body, field in cases:
        j = check_envelope_error(post("/auth/login", json_body=body, headers=hdr()), 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in j["details"]], (body, j)


def test_duplicate_email_other_case_409():
    r, email = signup()
    assert r.status == 201
    r2, _ = signup(email=email.upper())
    check_envelope_error(r2, 409, "CONFLICT")
    # Nothing half-written: still exactly one user and one account.
    n = psql("primary", "SELECT count(*) FROM users WHERE lower(email) = lower('%s')" % email).strip()
    assert n == "1", n


def test_unknown_email_and_wrong_password_identical():
    r, email = signup()
    a = post("/auth/login", json_body={"email": unique_email("ghost"), "password": PW}, headers=hdr())
    b = post("/auth/login", json_body={"email": email, "password": PW + "x"}, headers=hdr())
    check_envelope_error(a, 401, "UNAUTHORIZED")
    check_envelope_error(b, 401, "UNAUTHORIZED")
    assert a.body == b.body
    assert a.header("Set-Cookie") is None and b.header("Set-Cookie") is None


def test_login_timing_similar():
    r, email = signup()
    ghost, wrong = [], []
    for i in range(6):
        t0 = time.perf_counter()
        post("/auth/login", json_body={"email": unique_email("g"), "password": PW}, headers=hdr())
        ghost.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        post("/auth/login", json_body={"email": email, "password": "wrong-%d-pass" % i}, headers=hdr())
        wrong.append(time.perf_counter() - t0)
    g, w = statistics.median(ghost), statistics.median(wrong)
    assert max(g, w) / min(g, w) < 1.5, (g, w)
    # Both paths really ran Argon2id (well above a plain lookup).
    assert min(g, w) > 0.005, (g, w)


def test_origin_check_cookie_writes():
    r, _ = signup()
    tok = r.json["data"]["token"]
    jar = {"Cookie": "quire_session=" + tok}
    r = post("/auth/logout", headers=dict(jar, Origin="http://evil.example"))
    check_envelope_error(r, 403, "FORBIDDEN")
    assert get("/auth/me", headers=jar).status == 200, "refused logout must not end the session"
    # GET is not checked.
    assert get("/auth/me", headers=dict(jar, Origin="http://evil.example")).status == 200
    # Bearer is not checked.
    r2, _ = signup()
    tok2 = r2.json["data"]["token"]
    assert post("/auth/logout", headers=dict(bearer(tok2), Origin="http://evil.example")).status == 200
    # An allowed origin passes.
    assert post("/auth/logout", headers=dict(jar, Origin="http://127.0.0.1:3000")).status == 200


def test_null_and_empty_origin():
    """Origin: null is refused behind either web server. An empty Origin
    is refused when it reaches the app (nginx passes it); lighttpd drops
    header lines with an empty value, so behind it the request has no
    Origin at all and passes, as a request without one does."""
    import rawhttp
    r, _ = signup()
    tok = r.json["data"]["token"]
    jar = {"Cookie": "quire_session=" + tok}
    r = post("/posts", json_body={"title": "t", "content": "c"}, headers=dict(jar, Origin="null"))
    check_envelope_error(r, 403, "FORBIDDEN")
    body = b'{"title": "t", "content": "c"}'
    r = rawhttp.send("POST", "/posts", [("Cookie", "quire_session=" + tok), ("Origin", ""),
                                        ("Content-Type", "application/json")], body)
    if ENV["QUIRE_WEB"] == "lighttpd":
        assert r.status == 201, r
    else:
        check_envelope_error(r, 403, "FORBIDDEN")


def test_no_store_for_signed_in_callers():
    """no-store on /auth/* (errors too) and on every answer to a signed-in
    caller; a public answer to an anonymous one may be cached."""
    r, _ = signup()
    tok, uid = r.json["data"]["token"], r.json["data"]["user"]["id"]
    for path in ("/users/" + uid, "/users", "/posts?limit=1"):
        assert get(path, headers=bearer(tok)).header("Cache-Control") == "no-store", path
    # Routes that never look at the session do not know the caller.
    for path in ("/posts?limit=1", "/health"):
        assert get(path).header("Cache-Control") is None, path
    assert get("/health", headers=bearer(tok)).header("Cache-Control") is None
    assert get("/auth/me").header("Cache-Control") == "no-store"


def test_rate_limit_per_address():
    ip = "203.0.113.%d" % random.randint(1, 254)
    statuses = []
    for i in range(12):
        r = post("/auth/login", json_body={"email": unique_email("rl"), "password": "password1"},
                 headers=hdr(ip=ip))
        statuses.append(r.status)
    assert statuses[:10] == [401] * 10, statuses
    assert statuses[10:] == [429, 429], statuses
    j = check_envelope_error(r, 429, "RATE_LIMITED")
    ra = int(r.header("Retry-After"))
    assert 1 <= ra <= 60, ra
    assert r.header("Cache-Control") == "no-store"
    # Signup from the same address is limited too (same counter).
    r, _ = signup(ip=ip)
    check_envelope_error(r, 429, "RATE_LIMITED")
    # Another address is not.
    r, _ = signup()
    assert r.status == 201
    assert j["message"]


def test_rate_limit_per_email_across_workers():
    r, email = signup()
    tag = uuid.uuid4().hex
    statuses = [post("/auth/login", json_body={"email": email, "password": "wrong-pass"},
                     headers=hdr({"X-Request-Id": "rle-%s-%d" % (tag, i)})).status for i in range(11)]
    assert statuses[:9] == [401] * 9 and statuses[10] == 429, statuses
    # Even the right password is refused while limited.
    r = post("/auth/login", json_body={"email": email, "password": PW}, headers=hdr())
    check_envelope_error(r, 429, "RATE_LIMITED")


def test_rate_limit_shared_by_workers():
    """11 attempts at once (a web server that keeps its connections to the
    app sends one client's sequential requests to one worker): several
    workers serve them, and still exactly one over the limit is refused."""
    for _ in range(5):
        r, email = signup()
        tag = uuid.uuid4().hex

        def attempt(i):
            return post("/auth/login", json_body={"email": email, "password": "wrong-pass"},
                        headers=hdr({"X-Request-Id": "rls-%s-%d" % (tag, i)})).status
        with concurrent.futures.ThreadPoolExecutor(11) as ex:
            statuses = sorted(ex.map(attempt, range(11)))
        # The signup was the first attempt on this email (limit 10 a minute).
        assert statuses == [401] * 9 + [429] * 2, statuses
        pids = {log_lines("rls-%s-%d" % (tag, i))[0].split(" pid=")[1].split()[0] for i in range(11)}
        if len(pids) >= 2:
            return
    raise AssertionError("every attempt was served by one worker, five times over")


def _hash(tok):
    return hashlib.sha256(tok.encode()).hexdigest()


def test_token_stored_only_as_hash():
    r, email = signup()
    tok = r.json["data"]["token"]
    rows = psql("primary", "SELECT token_hash FROM sessions s JOIN users u ON u.id = s.user_id "
                           "WHERE u.email = '%s'" % email).split()
    assert rows == [_hash(tok)], rows
    assert tok not in psql("primary", "SELECT string_agg(s::text, ',') FROM sessions s")
    pw = psql("primary", "SELECT a.password FROM accounts a JOIN users u ON u.id = a.user_id "
                         "WHERE u.email = '%s'" % email).strip()
    assert pw.startswith("$argon2id$"), pw


def test_expired_session_refused_and_cleaned():
    r, email = signup()
    tok = r.json["data"]["token"]
    psql("primary", "UPDATE sessions SET expires_at = now() - interval '1 second' "
                    "WHERE token_hash = '%s'" % _hash(tok))
    wait_for(lambda: get("/auth/me", headers=bearer(tok)).status == 401, timeout=10, what="expired → 401")
    # The next login sweeps the user's expired rows.
    assert post("/auth/login", json_body={"email": email, "password": PW}, headers=hdr()).status == 200
    n = psql("primary", "SELECT count(*) FROM sessions WHERE token_hash = '%s'" % _hash(tok)).strip()
    assert n == "0", n


def _aged_session():
    """A new session last extended two days ago, expiring in an hour."""
    r, _ = signup()
    tok = r.json["data"]["token"]
    psql("primary", "UPDATE sessions SET updated_at = now() - interval '2 days', "
                    "expires_at = now() + interval '1 hour' WHERE token_hash = '%s'" % _hash(tok))
    # /auth/me reads the replica: until it has replayed the UPDATE it sees
    # the fresh session, which needs no sliding and already expires in a week.
    wait_for(lambda: psql("replica", "SELECT expires_at < now() + interval '2 hours' FROM sessions "
                                     "WHERE token_hash = '%s'" % _hash(tok)).strip() == "t",
             timeout=10, what="the aged session on the replica")
    return r, tok


def test_session_slides_after_a_day():
    r, tok = _aged_session()

    def slid():
        m = get("/auth/me", headers=bearer(tok))
        return m.status == 200 and m.json["data"]["session"]["expiresAt"] > r.json["data"]["expiresAt"][:10]
    wait_for(slid, timeout=10, what="slid expiry")
    left = psql("primary", "SELECT extract(epoch FROM expires_at - now())::int FROM sessions "
                           "WHERE token_hash = '%s'" % _hash(tok)).strip()
    assert int(left) > 604800 - 120, left


def test_session_visible_right_after_signup():
    # Signup writes on the primary; /auth/me reads the replica first and
    # must fall back to the primary on a miss.
    for _ in range(5):
        r, _ = signup()
        assert get("/auth/me", headers=bearer(r.json["data"]["token"])).status == 200


def test_no_secret_in_logs():
    r, email = signup(password="Secret-pass-XYZ-123")
    tok = r.json["data"]["token"]
    tag = uuid.uuid4().hex
    get("/auth/me", headers=dict(bearer(tok), **{"X-Request-Id": "sec-me-" + tag}))
    post("/auth/login", json_body={"email": email, "password": "Secret-pass-XYZ-123"},
         headers=hdr({"X-Request-Id": "sec-login-" + tag}))
    # Wait until both lines are written, then look at everything.
    log_lines("sec-me-" + tag)
    log_lines("sec-login-" + tag)
    log = app_log()
    assert "Secret-pass-XYZ-123" not in log
    assert tok not in log
    assert "$argon2" not in log
    assert "quire_session" not in log


def test_create_admin_can_log_in():
    import os
    import subprocess
    from lib import ENV, ROOT
    email = unique_email("admin")
    ctl = os.path.join(ROOT, "build", "quirectl")
    p = subprocess.run([ctl, "create-admin", "--email", email, "--name", "Root"],
                       input="admin-password-1\n", capture_output=True, text=True,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_PRIMARY_URL"]), timeout=30)
    assert p.returncode == 0, p.stderr
    r = post("/auth/login", json_body={"email": email, "password": "admin-password-1"}, headers=hdr())
    assert r.status == 200, r
    assert r.json["data"]["user"]["role"] == "admin"


def test_sliding_session_renews_the_cookie():
    _, tok = _aged_session()

    def renewed():
        m = get("/auth/me", headers={"Cookie": "quire_session=" + tok})
        c = cookie_of(m)
        return m.status == 200 and c is not None and c.startswith("quire_session=%s;" % tok) and c
    c = wait_for(renewed, timeout=10, what="renewed cookie")
    assert "Max-Age=604800" in c, c


def test_private_answers_are_not_cached():
    r, _ = signup()
    uid = r.json["data"]["user"]["id"]
    for path in ("/users/" + uid, "/users?limit=1", "/posts?limit=1"):
        g = get(path, headers=bearer(r.json["data"]["token"]))
        assert g.status == 200 and g.header("Cache-Control") == "no-store", (path, g.headers)
    # An anonymous public read may be cached by the client.
    assert get("/posts?limit=1").header("Cache-Control") is None
