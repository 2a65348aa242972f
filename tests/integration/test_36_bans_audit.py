"""Bans and the audit log (API.md "Bans and the audit log (admin)"): bans
end every session at once on every worker and refuse the right password
(403) while a wrong one stays the usual 401; an expired ban lifts itself;
the admin view adds the ban's fields; every audited action writes one row
with its actor, subject, client address and request id, in the
transaction of its change; GET /audit pages newest first with no
duplicates or gaps while rows are being written; `quirectl prune`."""

import hashlib
import os
import re
import subprocess
import threading
import time
import uuid

from lib import (ENV, ROOT, RUN_DIR, assert_revoked_everywhere, bearer, check_envelope_error, get, hdr,
                 log_lines, make_admin, post, psql, request, stack, unique_email, wait_for)

PW = "ban password 1"
UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
BAN_KEYS = {"banned", "banReason", "banExpiresAt"}
AUDIT_KEYS = {"id", "at", "action", "actorId", "userId", "ipAddress", "requestId"}

_admin = {}


def _admin_tok():
    if "tok" not in _admin:
        _admin["tok"], _admin["user"] = make_admin("audit-admin")
    return _admin["tok"]


def _rid(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex[:16])


def _signup(name="Ban", email=None, password=PW, rid=None, ip=None):
    h = hdr(ip=ip)
    if rid:
        h["X-Request-Id"] = rid
    r = post("/auth/signup", json_body={"name": name, "email": email or unique_email("ban"),
                                        "password": password}, headers=h)
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"]


def _login(email, password=PW, rid=None, ip=None):
    h = hdr(ip=ip)
    if rid:
        h["X-Request-Id"] = rid
    return post("/auth/login", json_body={"email": email, "password": password}, headers=h)


def _ban(uid, body=None, tok=None, rid=None, ip=None):
    h = dict(bearer(tok or _admin_tok()))
    if rid:
        h["X-Request-Id"] = rid
    if ip:
        h["X-Forwarded-For"] = ip
    return post("/users/%s/ban" % uid, json_body={} if body is None else body, headers=h)


def _unban(uid, tok=None, rid=None):
    h = dict(bearer(tok or _admin_tok()))
    if rid:
        h["X-Request-Id"] = rid
    return request("DELETE", "/users/%s/ban" % uid, headers=h)


def _rows(rid):
    """The audit rows of request id rid, from the database:
    [(action, actor_id, user_id, ip_address)] ('-' for null)."""
    out = psql("primary", "SELECT action, coalesce(actor_id::text, '-'), coalesce(user_id::text, '-'), "
                          "coalesce(ip_address, '-') FROM audit_log WHERE request_id = '%s' ORDER BY action" % rid)
    return [tuple(l.split("|")) for l in out.splitlines() if l]


def _audit(query="", tok=None, status=200):
    r = get("/audit" + ("?" + query if query else ""), headers=bearer(tok or _admin_tok()))
    assert r.status == status, r
    return r


def _api_row(rid, user_id):
    """The audit row of rid as GET /audit?userId= shows it."""
    items = _audit("userId=%s&limit=100" % user_id).json["data"]
    got = [it for it in items if it["requestId"] == rid]
    assert len(got) == 1, (rid, items)
    return got[0]


def test_ban_routes_need_an_admin_before_the_body():
    tok, user = _signup()
    path = "/users/%s/ban" % user["id"]
    check_envelope_error(request("POST", path, body="{", headers={"Content-Type": "application/json"}),
                         401, "UNAUTHORIZED")
    check_envelope_error(request("DELETE", path), 401, "UNAUTHORIZED")
    check_envelope_error(get("/audit"), 401, "UNAUTHORIZED")
    # A non-admin: 403 before the body (none, not JSON, the wrong type) or the query is looked at.
    for body, ctype in ((None, None), ("not json", "text/plain"), ("{", "application/json"),
                        ('{"expiresInSeconds": -1}', "application/json")):
        h = dict(bearer(tok))
        if ctype:
            h["Content-Type"] = ctype
        check_envelope_error(request("POST", path, body=body, headers=h), 403, "FORBIDDEN")
    check_envelope_error(request("DELETE", path, headers=bearer(tok)), 403, "FORBIDDEN")
    check_envelope_error(get("/audit?action=bogus&userId=x", headers=bearer(tok)), 403, "FORBIDDEN")
    check_envelope_error(request("POST", "/users/%s/ban" % uuid.uuid4(), json_body={}, headers=bearer(tok)),
                         403, "FORBIDDEN")
    assert get("/auth/me", headers=bearer(tok)).status == 200


def test_ban_ends_every_session_at_once_and_refuses_the_right_password():
    admin_tok = _admin_tok()
    tok_a, user = _signup()
    r = _login(user["email"])
    assert r.status == 200, r
    tok_b = r.json["data"]["token"]
    cookie = {"Cookie": "quire_session=" + tok_a}
    rid = _rid("ban")
    got = {}

    def ban():
        got["r"] = _ban(user["id"], {"reason": "spam\nand more", "expiresInSeconds": None}, rid=rid,
                        ip="10.36.1.1")
    assert_revoked_everywhere([cookie, bearer(tok_b), bearer(admin_tok)], ban, revoked=[0, 1], kept=[2])
    r = got["r"]
    assert r.status == 200, r
    u = r.json["data"]["user"]
    assert (u["id"], u["banned"], u["banReason"], u["banExpiresAt"]) == \
        (user["id"], True, "spam\nand more", None), u
    assert _rows(rid) == [("user_banned", _admin["user"]["id"], user["id"], "10.36.1.1")], _rows(rid)
    assert psql("primary", "SELECT count(*) FROM sessions WHERE user_id = '%s'" % user["id"]).strip() == "0"

    # The right password learns of the ban; a wrong one is the usual 401.
    rid_ok, rid_bad = _rid("banned-login"), _rid("banned-wrong")
    r = _login(user["email"], rid=rid_ok)
    j = check_envelope_error(r, 403, "FORBIDDEN")
    assert j["message"] == "Account is banned" and r.header("Set-Cookie") is None and "data" not in j, r
    wrong = _login(user["email"], password="wrong password 9", rid=rid_bad)
    unknown = _login(unique_email("nobody"), password="wrong password 9")
    check_envelope_error(wrong, 401, "UNAUTHORIZED")
    assert wrong.body == unknown.body
    assert [x[:3] for x in _rows(rid_ok)] == [("login_failed", user["id"], user["id"])]
    assert [x[:3] for x in _rows(rid_bad)] == [("login_failed", user["id"], user["id"])]

    # The admin view has the ban's fields, every other view has none.
    g = get("/users/" + user["id"], headers=bearer(admin_tok)).json["data"]
    assert (g["banned"], g["banReason"], g["banExpiresAt"]) == (True, "spam\nand more", None), g
    listed = [x for x in get("/users?limit=100", headers=bearer(admin_tok)).json["data"] if x["id"] == user["id"]]
    assert listed and listed[0]["banned"] is True, listed
    other_tok, other = _signup()
    assert not BAN_KEYS & set(get("/users/" + user["id"], headers=bearer(other_tok)).json["data"])
    assert not BAN_KEYS & set(get("/users/" + other["id"], headers=bearer(other_tok)).json["data"])
    assert not BAN_KEYS & set(get("/auth/me", headers=bearer(other_tok)).json["data"]["user"])
    assert get("/users/" + other["id"], headers=bearer(admin_tok)).json["data"]["banned"] is False

    # Lifted: the login works again; lifting nothing writes no row.
    rid_un = _rid("unban")
    r = _unban(user["id"], rid=rid_un)
    assert r.status == 200, r
    u = r.json["data"]["user"]
    assert (u["banned"], u["banReason"], u["banExpiresAt"]) == (False, None, None), u
    assert [x[:3] for x in _rows(rid_un)] == [("user_unbanned", _admin["user"]["id"], user["id"])]
    assert _login(user["email"]).status == 200
    rid_un2 = _rid("unban-again")
    assert _unban(user["id"], rid=rid_un2).status == 200
    assert _rows(rid_un2) == []


def _epoch(ts):
    import calendar
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:23]) / 1000.0


def test_an_expired_ban_lifts_itself():
    _, user = _signup()
    t0 = time.time()
    r = _ban(user["id"], {"expiresInSeconds": 1})
    assert r.status == 200, r
    u = r.json["data"]["user"]
    assert u["banned"] is True and u["banReason"] is None, u
    assert t0 - 1 < _epoch(u["banExpiresAt"]) < time.time() + 1.5, u
    check_envelope_error(_login(user["email"]), 403, "FORBIDDEN")
    time.sleep(max(0.0, _epoch(u["banExpiresAt"]) + 0.2 - time.time()))
    # No job ran: the login looks at the time.
    r = _login(user["email"])
    assert r.status == 200, r
    g = get("/users/" + user["id"], headers=bearer(_admin_tok())).json["data"]
    assert (g["banned"], g["banReason"], g["banExpiresAt"]) == (False, None, None), g
    rid = _rid("unban-expired")
    r = _unban(user["id"], rid=rid)
    assert r.status == 200 and r.json["data"]["user"]["banned"] is False, r
    assert _rows(rid) == [], "an expired ban was lifted again"


def test_an_admin_cannot_ban_themself_but_another_admin_can_be_banned():
    admin_tok = _admin_tok()
    check_envelope_error(_ban(_admin["user"]["id"]), 403, "FORBIDDEN")
    assert get("/auth/me", headers=bearer(admin_tok)).status == 200
    other_tok, other = make_admin("audit-admin2")
    r = _ban(other["id"], {"reason": "rogue admin"})
    assert r.status == 200 and r.json["data"]["user"]["role"] == "admin", r
    check_envelope_error(get("/auth/me", headers=bearer(other_tok)), 401, "UNAUTHORIZED")
    r = post("/auth/login", json_body={"email": other["email"], "password": "admin-password-1"}, headers=hdr())
    check_envelope_error(r, 403, "FORBIDDEN")
    # The banned admin's session is gone, so it cannot lift its own ban.
    check_envelope_error(_unban(other["id"], tok=other_tok), 401, "UNAUTHORIZED")


def test_ban_bad_input():
    _, user = _signup()
    path = "/users/%s/ban" % user["id"]
    tok = _admin_tok()
    secs = "expiresInSeconds"
    for body, field in (({"reason": ""}, "reason"), ({"reason": "x" * 501}, "reason"),
                        ({"reason": 5}, "reason"), ({"reason": ["a"]}, "reason"),
                        ({"reason": "a\u0001b"}, "reason"),
                        ({secs: -1}, secs), ({secs: 0}, secs), ({secs: 315360001}, secs),
                        ({secs: 10 ** 12}, secs), ({secs: 1.5}, secs), ({secs: "60"}, secs),
                        ({secs: True}, secs), ({"until": 5}, "until")):
        r = post(path, json_body=body, headers=bearer(tok))
        j = check_envelope_error(r, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in j["details"]] == [field], (body, j)
    for raw in ('{"expiresInSeconds": 1e3}', '{"expiresInSeconds": 1.0}'):
        r = request("POST", path, body=raw, headers=dict(bearer(tok), **{"Content-Type": "application/json"}))
        j = check_envelope_error(r, 400, "VALIDATION_ERROR")
        assert [d["field"] for d in j["details"]] == [secs], (raw, j)
    # Past 64 bits the number is no JSON this parser takes: 400 all the same.
    r = request("POST", path, body='{"expiresInSeconds": %d}' % 10 ** 30,
                headers=dict(bearer(tok), **{"Content-Type": "application/json"}))
    assert r.status == 400 and r.json["error"] in ("INVALID_JSON", "VALIDATION_ERROR"), r
    check_envelope_error(request("POST", path, headers=bearer(tok)), 415, "UNSUPPORTED_MEDIA_TYPE")
    check_envelope_error(request("POST", path, body="{", headers=dict(bearer(tok), **{
        "Content-Type": "application/json"})), 400, "INVALID_JSON")
    # The body before the resource; then 404 for a missing or malformed id.
    r = post("/users/%s/ban" % uuid.uuid4(), json_body={"reason": ""}, headers=bearer(tok))
    check_envelope_error(r, 400, "VALIDATION_ERROR")
    for bad in (str(uuid.uuid4()), "not-a-uuid", user["id"].upper()):
        check_envelope_error(_ban(bad), 404, "NOT_FOUND")
        check_envelope_error(_unban(bad), 404, "NOT_FOUND")
    # Nothing of it banned anyone.
    assert get("/users/" + user["id"], headers=bearer(tok)).json["data"]["banned"] is False
    # The bounds themselves are taken.
    r = _ban(user["id"], {"reason": "é" * 500, secs: 315360000})
    assert r.status == 200 and r.json["data"]["user"]["banReason"] == "é" * 500, r
    assert _unban(user["id"]).status == 200


def _insert_token(user, kind):
    tok = uuid.uuid4().hex + uuid.uuid4().hex[:11]      # 43 characters of [0-9a-f]
    psql("primary", "INSERT INTO one_time_tokens (token_hash, kind, user_id, email, expires_at) VALUES "
                    "('%s', '%s', '%s', '%s', now() + interval '1 hour') ON CONFLICT (user_id, kind) DO UPDATE "
                    "SET token_hash = EXCLUDED.token_hash, email = EXCLUDED.email, used_at = NULL, "
                    "expires_at = EXCLUDED.expires_at"
         % (hashlib.sha256(tok.encode()).hexdigest(), kind, user["id"], user["email"]))
    return tok


def test_every_action_is_audited_with_actor_subject_address_and_request_id():
    admin_tok = _admin_tok()
    admin_id = _admin["user"]["id"]
    ip = "2001:db8:36::%x" % (uuid.uuid4().int & 0xffff)
    email = unique_email("aud")
    rid = {k: _rid(k) for k in ("signup", "login", "wrong", "unknown", "pw", "email", "role", "reset",
                                "verify", "delete")}
    tok, user = _signup(email=email, rid=rid["signup"], ip=ip)
    uid = user["id"]
    assert _login(email, rid=rid["login"], ip=ip).status == 200
    assert _login(email, password="wrong password 9", rid=rid["wrong"], ip=ip).status == 401
    ghost = unique_email("ghost")
    assert _login(ghost, password="wrong password 9", rid=rid["unknown"], ip=ip).status == 401
    r = request("PATCH", "/users/" + uid, json_body={"password": "new password 22", "currentPassword": PW},
                headers=dict(bearer(tok), **{"X-Request-Id": rid["pw"], "X-Forwarded-For": ip}))
    assert r.status == 200, r
    new_email = unique_email("aud2")
    r = request("PATCH", "/users/" + uid, json_body={"email": new_email, "currentPassword": "new password 22"},
                headers=dict(bearer(tok), **{"X-Request-Id": rid["email"], "X-Forwarded-For": ip}))
    assert r.status == 200, r
    r = request("PATCH", "/users/" + uid, json_body={"role": "admin", "name": "Promoted"},
                headers=dict(bearer(admin_tok), **{"X-Request-Id": rid["role"], "X-Forwarded-For": ip}))
    assert r.status == 200, r
    # A role "changed" to what it is changes nothing and records nothing.
    rid_same = _rid("same-role")
    r = request("PATCH", "/users/" + uid, json_body={"role": "admin"},
                headers=dict(bearer(admin_tok), **{"X-Request-Id": rid_same}))
    assert r.status == 200 and _rows(rid_same) == [], r
    # Tokens as the mailed links carry them (the mail path is test_32's).
    user["email"] = new_email
    r = post("/auth/verify-email", json_body={"token": _insert_token(user, "verify")},
             headers={"X-Request-Id": rid["verify"], "X-Forwarded-For": ip})
    assert r.status == 200, r
    r = post("/auth/password/reset", json_body={"token": _insert_token(user, "reset"), "password": "third pw 333"},
             headers={"X-Request-Id": rid["reset"], "X-Forwarded-For": ip})
    assert r.status == 200, r
    r = request("DELETE", "/users/" + uid, headers=dict(bearer(admin_tok), **{"X-Request-Id": rid["delete"],
                                                                             "X-Forwarded-For": ip}))
    assert r.status == 200, r
    want = {
        "signup": [("signup", uid, uid, ip)],
        "login": [("login", uid, uid, ip)],
        "wrong": [("login_failed", uid, uid, ip)],
        "unknown": [("login_failed", "-", "-", ip)],
        "pw": [("password_changed", uid, uid, ip)],
        "email": [("email_changed", uid, uid, ip)],
        "role": [("role_changed", admin_id, uid, ip)],
        "verify": [("email_verified", "-", uid, ip)],
        "reset": [("password_reset", "-", uid, ip)],
        "delete": [("user_deleted", admin_id, uid, ip)],
    }
    for k, rows in want.items():
        assert _rows(rid[k]) == rows, (k, _rows(rid[k]))
    # The failed login of an unknown email stores no email, anywhere in its row.
    assert psql("primary", "SELECT count(*) FROM audit_log a WHERE a::text LIKE '%%%s%%'" % ghost).strip() == "0"
    # The user is gone, its record is not; the API shows it, and the log line joins it.
    row = _api_row(rid["delete"], uid)
    assert set(row) == AUDIT_KEYS and re.match(UUID_RE, row["id"]), row
    assert (row["action"], row["actorId"], row["userId"], row["ipAddress"]) == ("user_deleted", admin_id, uid, ip)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", row["at"]), row
    assert "route=/users/:id " in log_lines(rid["delete"])[0]
    got = [it["action"] for it in _audit("userId=%s&limit=100" % uid).json["data"]]
    assert sorted(got) == sorted(["signup", "login", "login_failed", "password_changed", "email_changed",
                                  "role_changed", "email_verified", "password_reset", "user_deleted"]), got


def test_a_rolled_back_change_leaves_no_row():
    email = unique_email("dup")
    _signup(email=email)
    rid = _rid("dup-signup")
    r = post("/auth/signup", json_body={"name": "Dup", "email": email.upper(), "password": PW},
             headers=hdr({"X-Request-Id": rid}))
    check_envelope_error(r, 409, "CONFLICT")
    assert _rows(rid) == []
    tok, user = _signup()
    rid = _rid("dup-email")
    r = request("PATCH", "/users/" + user["id"], json_body={"email": email, "role": "admin"},
                headers=dict(bearer(_admin_tok()), **{"X-Request-Id": rid}))
    check_envelope_error(r, 409, "CONFLICT")
    assert _rows(rid) == []
    assert get("/users/" + user["id"], headers=bearer(tok)).json["data"]["role"] == "user"


def test_password_reset_request_is_audited_when_mail_is_on():
    mail_dir = os.path.join(RUN_DIR, "mail-36")
    os.makedirs(mail_dir, exist_ok=True)
    stack("app-restart", env_extra={"QUIRE_MAIL_URL": "file:" + mail_dir, "QUIRE_APP_URL": "http://127.0.0.1:3000",
                                    "QUIRE_MAIL_FROM": "quire@example.com"})
    try:
        _, user = _signup()
        rid, rid_ghost = _rid("forgot"), _rid("forgot-ghost")
        r = post("/auth/password/forgot", json_body={"email": user["email"]},
                 headers=hdr({"X-Request-Id": rid}, ip="10.36.7.7"))
        assert r.status == 200, r
        ghost = unique_email("ghost")
        r2 = post("/auth/password/forgot", json_body={"email": ghost}, headers=hdr({"X-Request-Id": rid_ghost}))
        assert r2.status == 200 and r2.body == r.body, (r, r2)
        assert _rows(rid) == [("password_reset_requested", "-", user["id"], "10.36.7.7")], _rows(rid)
        assert _rows(rid_ghost) == []
    finally:
        stack("app-restart")


def test_audit_query_errors():
    tok = _admin_tok()
    users_cursor = get("/users?limit=1", headers=bearer(tok)).json["meta"]["nextCursor"]
    assert users_cursor
    audit_cursor = _audit("limit=1").json["meta"]["nextCursor"]
    assert audit_cursor
    for q, fields in (("action=bogus", ["action"]), ("action=", ["action"]), ("action=LOGIN", ["action"]),
                      ("userId=nope", ["userId"]), ("userId=" + str(uuid.uuid4()).upper(), ["userId"]),
                      ("cursor=" + users_cursor, ["cursor"]), ("cursor=garbage", ["cursor"]),
                      ("limit=0", ["limit"]), ("limit=101", ["limit"]), ("action=login&action=logout", ["action"]),
                      ("cursor=%s&offset=1" % audit_cursor, ["cursor", "offset"]),
                      ("action=bogus&userId=nope", ["userId", "action"])):
        j = check_envelope_error(_audit(q, status=400), 400, "VALIDATION_ERROR")
        assert sorted(d["field"] for d in j["details"]) == sorted(fields), (q, j)
    # An audit cursor is no other list's either.
    for path in ("/users?cursor=", "/posts?cursor="):
        j = check_envelope_error(get(path + audit_cursor, headers=bearer(tok)), 400, "VALIDATION_ERROR")
        assert [d["field"] for d in j["details"]] == ["cursor"], j
    # Every contract action is a filter, the 2FA ones included.
    for a in ("signup", "login", "login_failed", "logout", "password_changed", "password_reset_requested",
              "password_reset", "email_changed", "email_verified", "session_revoked", "user_banned",
              "user_unbanned", "role_changed", "user_deleted", "two_factor_enabled", "two_factor_disabled"):
        items = _audit("limit=5&action=" + a).json["data"]
        assert all(it["action"] == a for it in items), (a, items)
    r = _audit("limit=3&action=login_failed&userId=%s" % _admin["user"]["id"])
    assert r.json["data"] == [] and r.json["meta"]["nextCursor"] is None, r


def _toggle_role(uid, n, stop=None):
    role = ["admin", "user"]
    for i in range(n):
        if stop is not None and stop.is_set():
            return
        r = request("PATCH", "/users/" + uid, json_body={"role": role[i % 2]}, headers=bearer(_admin_tok()))
        assert r.status == 200, r


def _walk(query, limit, pause=0.0):
    """Follows nextCursor from the first page, pause seconds between
    pages; returns the items and the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        time.sleep(pause)
        q = "%s&limit=%d" % (query, limit) + ("&cursor=" + cursor if cursor else "")
        j = _audit(q).json
        assert j["meta"]["limit"] == limit and j["meta"]["offset"] == 0, j["meta"]
        assert 0 < len(j["data"]) <= limit or (not j["data"] and not items), j
        items += j["data"]
        cursor = j["meta"]["nextCursor"]
        pages += 1
        if cursor is None:
            return items, pages


def test_audit_pages_have_no_duplicates_or_gaps_while_rows_are_written():
    _, user = _signup()
    uid = user["id"]
    _toggle_role(uid, 30)
    before = psql("primary", "SELECT id FROM audit_log WHERE user_id = '%s'" % uid).split()
    assert len(before) == 31  # signup and 30 role changes
    stop = threading.Event()
    writer = threading.Thread(target=_toggle_role, args=(uid, 1000, stop))
    writer.start()
    try:
        items, pages = _walk("userId=" + uid, 7, pause=0.1)
        first = _audit("limit=50").json
        second = _audit("limit=50&cursor=" + first["meta"]["nextCursor"]).json
    finally:
        stop.set()
        writer.join()
    after = int(psql("primary", "SELECT count(*) FROM audit_log WHERE user_id = '%s'" % uid).strip())
    assert after >= len(before) + 5, "the writer wrote %d rows meanwhile" % (after - len(before))
    ids = [it["id"] for it in items]
    assert len(ids) == len(set(ids)), "a row twice"
    assert set(before) <= set(ids), "rows missed: %s" % (set(before) - set(ids))
    assert pages >= 5
    assert all(it["userId"] == uid for it in items)
    keys = [(it["at"], it["id"]) for it in items]
    assert keys == sorted(keys, reverse=True), "not newest first"
    both = first["data"] + second["data"]
    assert len({it["id"] for it in both}) == len(both) == 100
    keys = [(it["at"], it["id"]) for it in both]
    assert keys == sorted(keys, reverse=True)
    # Offsets page too; with a cursor meta.offset is 0.
    r = _audit("userId=%s&limit=5&offset=5" % uid).json
    assert r["meta"]["offset"] == 5 and len(r["data"]) == 5


def _prune(**env):
    ctl = os.path.join(ROOT, "build", "quirectl")
    e = dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_APP_DB_URL"])
    for k in ("QUIRE_AUDIT_RETENTION_DAYS", "QUIRE_SESSION_MAX_AGE"):
        e.pop(k, None)
    e.update(env)
    return subprocess.run([ctl, "prune"], capture_output=True, text=True, env=e, timeout=120)


def test_quirectl_prune():
    """As the app's role, in batches: ended sessions (either limit), used
    or expired tokens, audit rows past the retention; nothing else."""
    tok, user = _signup()
    uid = user["id"]
    live_sid = psql("primary", "SELECT id FROM sessions WHERE user_id = '%s'" % uid).strip()
    tag = uuid.uuid4().hex[:12]
    # The signup's verification token (mail is on) makes way for these.
    psql("primary", "DELETE FROM one_time_tokens WHERE user_id = '%s'" % uid)
    psql("primary", """
        INSERT INTO sessions (user_id, token_hash, expires_at, created_at) VALUES
          ('{u}', 'expired-{t}', now() - interval '1 second', now() - interval '2 days'),
          ('{u}', 'too-old-{t}', now() + interval '1 day', now() - interval '31 days');
        INSERT INTO one_time_tokens (token_hash, kind, user_id, email, expires_at, used_at) VALUES
          ('used-{t}', 'reset', '{u}', 'x', now() + interval '1 hour', now()),
          ('expired-{t}', 'verify', '{u}', 'x', now() - interval '1 second', NULL);
        INSERT INTO audit_log (at, action, request_id)
          SELECT now() - interval '366 days', 'login_failed', 'old-{t}' FROM generate_series(1, 2500);
        INSERT INTO audit_log (at, action, request_id) VALUES
          (now() - interval '364 days', 'login_failed', 'young-{t}'),
          (now() - interval '2 days', 'login_failed', 'recent-{t}');
    """.format(u=uid, t=tag))

    def count(sql):
        return int(psql("primary", sql).strip())
    p = _prune(QUIRE_AUDIT_RETENTION_DAYS="0")
    assert p.returncode == 1 and "QUIRE_AUDIT_RETENTION_DAYS" in p.stderr, (p.returncode, p.stderr)
    assert count("SELECT count(*) FROM audit_log WHERE request_id = 'old-%s'" % tag) == 2500
    p = _prune()
    assert p.returncode == 0, p.stderr
    m = re.search(r"pruned: (\d+) sessions, (\d+) one-time tokens, (\d+) audit rows older than 365 days", p.stdout)
    assert m and int(m.group(1)) >= 2 and int(m.group(2)) >= 2 and int(m.group(3)) >= 2500, p.stdout
    assert count("SELECT count(*) FROM sessions WHERE token_hash IN ('expired-%s', 'too-old-%s')" % (tag, tag)) == 0
    assert count("SELECT count(*) FROM sessions WHERE id = '%s'" % live_sid) == 1
    assert get("/auth/me", headers=bearer(tok)).status == 200
    assert count("SELECT count(*) FROM one_time_tokens WHERE token_hash LIKE '%%-%s'" % tag) == 0
    assert count("SELECT count(*) FROM audit_log WHERE request_id = 'old-%s'" % tag) == 0
    assert count("SELECT count(*) FROM audit_log WHERE request_id IN ('young-%s', 'recent-%s')" % (tag, tag)) == 2
    p = _prune(QUIRE_AUDIT_RETENTION_DAYS="300")
    assert p.returncode == 0 and "older than 300 days" in p.stdout, (p.stdout, p.stderr)
    assert count("SELECT count(*) FROM audit_log WHERE request_id = 'young-%s'" % tag) == 0
    assert count("SELECT count(*) FROM audit_log WHERE request_id = 'recent-%s'" % tag) == 1
