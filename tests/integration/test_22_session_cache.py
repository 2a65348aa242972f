"""The session cache (include/sesscache.h): workers keep verified sessions
for QUIRE_SESSION_CACHE_MS (1 s by default, as in this stack). These tests
first show that the cache is in use (requests answered without the
database, `pool=-` in their log lines, on several workers), then that
every change made through this host takes effect at once on every worker,
and that a change the host is not told about (made straight in the
database, as another host would) is honoured within the bound."""

import concurrent.futures
import re
import time
import uuid

from lib import bearer, get, log_lines, make_admin, post, psql, request, unique_email, hdr, wait_for

PW = "correct horse 1"
CACHE_S = 1.0  # QUIRE_SESSION_CACHE_MS of the test stack (the default)


def _signup(name="Cache"):
    r = post("/auth/signup", json_body={"name": name, "email": unique_email("sc"), "password": PW},
             headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"]


def _login(email):
    r = post("/auth/login", json_body={"email": email, "password": PW}, headers=hdr())
    assert r.status == 200, r
    return r.json["data"]["token"]


def _burst(tok, n=48, tag=None):
    """n concurrent GET /auth/me (so that every worker serves some);
    returns [(status, json, request id)]."""
    tag = tag or uuid.uuid4().hex[:12]

    def one(i):
        rid = "sc-%s-%d" % (tag, i)
        r = get("/auth/me", headers=dict(bearer(tok), **{"X-Request-Id": rid}))
        return r.status, r.json, rid
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        return list(ex.map(one, range(n)))


def _served(results):
    """{pid: [pool, ...]} of the requests' log lines."""
    by_pid = {}
    for _, _, rid in results:
        line = log_lines(rid)[0]
        pid = re.search(r" pid=(\d+) ", line).group(1)
        by_pid.setdefault(pid, []).append(line.rsplit("pool=", 1)[1].strip())
    return by_pid


def _warm(tok):
    """Bursts until at least two workers answered from their cache."""
    def warm():
        res = _burst(tok)
        assert all(s == 200 for s, _, _ in res), [s for s, _, _ in res]
        hits = [pid for pid, pools in _served(res).items() if "-" in pools]
        return len(hits) >= 2 and hits
    return wait_for(warm, timeout=20, interval=0, what="cache hits on two workers")


def test_cache_is_used_on_several_workers():
    tok, _ = _signup()
    _warm(tok)


def test_logout_ends_the_session_on_every_worker_at_once():
    tok, _ = _signup()
    _warm(tok)
    assert post("/auth/logout", headers=bearer(tok)).status == 200
    res = _burst(tok)
    assert [s for s, _, _ in res] == [401] * len(res)
    assert len(_served(res)) >= 2


def test_own_password_change_ends_other_sessions_at_once():
    tok, user = _signup()
    other = _login(user["email"])
    _warm(other)
    r = request("PATCH", "/users/" + user["id"], json_body={"password": "another horse 2", "currentPassword": PW},
                headers=bearer(tok))
    assert r.status == 200, r
    res = _burst(other)
    assert [s for s, _, _ in res] == [401] * len(res)
    # The session that made the change lives on.
    assert all(s == 200 for s, _, _ in _burst(tok, n=16))


def test_profile_and_role_changes_show_at_once():
    tok, user = _signup(name="Before")
    admin_tok, _ = make_admin("sc-admin")
    _warm(tok)
    r = request("PATCH", "/users/" + user["id"], json_body={"name": "After"}, headers=bearer(tok))
    assert r.status == 200, r
    res = _burst(tok)
    assert {j["data"]["user"]["name"] for s, j, _ in res} == {"After"}
    _warm(tok)
    r = request("PATCH", "/users/" + user["id"], json_body={"role": "admin"}, headers=bearer(admin_tok))
    assert r.status == 200, r
    res = _burst(tok)
    assert {j["data"]["user"]["role"] for s, j, _ in res} == {"admin"}


def test_deleting_the_user_ends_the_session_at_once():
    tok, user = _signup()
    _warm(tok)
    assert request("DELETE", "/users/" + user["id"], headers=bearer(tok)).status == 200
    res = _burst(tok)
    assert [s for s, _, _ in res] == [401] * len(res)


def test_change_this_host_is_not_told_about_is_honoured_within_the_bound():
    """A session deleted straight in the database (as another host would,
    which shares no memory with this one) stops working within the
    cache's lifetime plus replication."""
    tok, user = _signup()
    _warm(tok)
    psql("primary", "DELETE FROM sessions WHERE user_id = '%s'" % user["id"])
    t0 = time.monotonic()
    wait_for(lambda: psql("replica", "SELECT count(*) FROM sessions WHERE user_id = '%s'"
                          % user["id"]).strip() == "0", timeout=10, what="replica replayed the delete")
    time.sleep(max(0.0, CACHE_S + 0.05 - (time.monotonic() - t0)))
    res = _burst(tok)
    assert [s for s, _, _ in res] == [401] * len(res)
    assert len(_served(res)) >= 2
