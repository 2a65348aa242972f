"""Account lifecycle (API.md "Account lifecycle", "Mail", "Re-authentication"):
password reset, email verification, email change and re-authentication,
end to end through the real mail path: the app queues, `quirectl
mail-worker` delivers to the stack's mail sink, and the tests read the
links out of the delivered messages."""

import hashlib
import os
import re
import statistics
import time
import uuid

from lib import (ENV, RUN_DIR, bearer, check_envelope_error, get, hdr, mail_all, make_admin, post, psql,
                 request, stack, unique_email, wait_for)

PW = "first password 1"
APP_URL = "http://127.0.0.1:3000"  # QUIRE_APP_URL of the test stack
TOKEN_RE = re.compile(r"#token=([A-Za-z0-9_-]{43})\b")


def _signup(name="Life", email=None, password=PW):
    email = email or unique_email("life")
    r = post("/auth/signup", json_body={"name": name, "email": email, "password": password}, headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"], r.json["data"]["user"]


def _login(email, password=PW, status=200):
    r = post("/auth/login", json_body={"email": email, "password": password}, headers=hdr())
    assert r.status == status, r
    return r


def _body(msg):
    return msg.get_body(preferencelist=("plain",)).get_content()


def _mails(to, subject=None):
    return [m for m in mail_all()
            if to in str(m["To"]) and (subject is None or subject in str(m["Subject"]))]


def _mail(to, subject, count=1, timeout=20):
    """Waits for the count-th message to `to` whose subject holds `subject`;
    returns it."""
    ms = wait_for(lambda: (lambda l: l if len(l) >= count else None)(_mails(to, subject)),
                  timeout=timeout, what="%s mail #%d to %s" % (subject, count, to))
    return ms[count - 1]


def _token(msg, path):
    body = _body(msg)
    assert APP_URL + path + "#token=" in body, body
    m = TOKEN_RE.search(body)
    assert m, body
    return m.group(1)


def _current_and_stale(to, subject, user_id, kind, path):
    """Two messages to `to` each with a token of `kind`: returns (the one
    the database holds now, the one it replaced), by the stored hash."""
    ms = wait_for(lambda: (lambda l: l if len(l) >= 2 else None)(_mails(to, subject)),
                  timeout=20, what="two %s mails to %s" % (subject, to))
    toks = [_token(m, path) for m in ms]
    stored = psql("primary", "SELECT token_hash FROM one_time_tokens WHERE user_id = '%s' AND kind = '%s'"
                  % (user_id, kind)).strip()
    cur = [t for t in toks if hashlib.sha256(t.encode()).hexdigest() == stored]
    assert len(toks) == 2 and len(cur) == 1, (toks, stored)
    return cur[0], [t for t in toks if t != cur[0]][0]


def _fresh_minute():
    """The rate limit counts in fixed minutes (the database's clock, this
    machine's): start a counting test well inside one."""
    if time.time() % 60 > 50:
        time.sleep(60.5 - time.time() % 60)


def _no_store(r):
    assert r.header("Cache-Control") == "no-store", r.headers
    return r


def test_signup_mails_a_verification_link_that_verifies():
    tok, user = _signup(name="Ädä Lovelace")
    msg = _mail(user["email"], "Verify")
    # RFC 5322 headers, the name as an encoded word, the link in the body.
    for h in ("Date", "Message-ID", "From", "To", "Subject", "MIME-Version"):
        assert msg[h], (h, msg.items())
    assert "Ädä Lovelace" in str(msg["To"]), msg["To"]
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    vt = _token(msg, "/verify-email")
    assert get("/auth/me", headers=bearer(tok)).json["data"]["user"]["emailVerified"] is False
    r = _no_store(post("/auth/verify-email", json_body={"token": vt}, headers=hdr()))
    assert r.status == 200, r
    assert r.json["data"]["user"]["id"] == user["id"]
    assert r.json["data"]["user"]["emailVerified"] is True
    # Read-your-writes and the session cache: the caller sees it at once.
    assert get("/auth/me", headers=bearer(tok)).json["data"]["user"]["emailVerified"] is True
    # Single use.
    j = check_envelope_error(post("/auth/verify-email", json_body={"token": vt}, headers=hdr()),
                             400, "VALIDATION_ERROR")
    assert [d["field"] for d in j["details"]] == ["token"], j
    # Only the hash is stored.
    assert psql("primary", "SELECT count(*) FROM one_time_tokens WHERE token_hash = '%s'" % vt).strip() == "0"


def test_forgot_reset_ends_every_session_and_sets_the_password():
    tok1, user = _signup()
    email = user["email"]
    tok2 = _login(email).json["data"]["token"]
    r = _no_store(post("/auth/password/forgot", json_body={"email": "  " + email.upper() + " "},
                       headers=hdr()))
    assert r.status == 200 and r.json == {"success": True, "data": {}}, r
    rt = _token(_mail(email, "Reset"), "/reset-password")
    # A refused password leaves the token usable.
    j = check_envelope_error(post("/auth/password/reset", json_body={"token": rt, "password": "short"},
                                  headers=hdr()), 400, "VALIDATION_ERROR")
    assert [d["field"] for d in j["details"]] == ["password"], j
    r = _no_store(post("/auth/password/reset", json_body={"token": rt, "password": "second password 2"},
                       headers=hdr()))
    assert r.status == 200 and r.json["data"] == {}, r
    # Every session ended, on every worker (a burst spreads over them).
    for t in (tok1, tok2):
        for _ in range(16):
            assert get("/auth/me", headers=bearer(t)).status == 401
    _login(email, PW, status=401)
    me = _login(email, "second password 2").json["data"]["user"]
    assert me["emailVerified"] is True, me
    j = check_envelope_error(post("/auth/password/reset", json_body={"token": rt, "password": "third password 3"},
                                  headers=hdr()), 400, "VALIDATION_ERROR")
    assert j["details"][0]["field"] == "token"
    _login(email, "third password 3", status=401)


def test_expired_and_replaced_tokens_are_refused():
    _, user = _signup()
    email = user["email"]
    for _ in range(2):
        assert post("/auth/password/forgot", json_body={"email": email}, headers=hdr()).status == 200
    second, first = _current_and_stale(email, "Reset", user["id"], "reset", "/reset-password")
    # Asking again replaced the older token.
    check_envelope_error(post("/auth/password/reset", json_body={"token": first, "password": "new password 9"},
                              headers=hdr()), 400, "VALIDATION_ERROR")
    psql("primary", "UPDATE one_time_tokens SET expires_at = now() - interval '1 second' "
         "WHERE user_id = '%s' AND kind = 'reset'" % user["id"])
    j = check_envelope_error(post("/auth/password/reset", json_body={"token": second, "password": "new password 9"},
                                  headers=hdr()), 400, "VALIDATION_ERROR")
    assert j["details"][0]["field"] == "token"
    _login(email, PW)


def test_reset_token_lifetime_is_an_hour_and_verification_a_day():
    _, user = _signup()
    assert post("/auth/password/forgot", json_body={"email": user["email"]}, headers=hdr()).status == 200
    _mail(user["email"], "Reset")
    rows = psql("primary", "SELECT kind, round(EXTRACT(EPOCH FROM expires_at - created_at)) FROM "
                "one_time_tokens WHERE user_id = '%s' ORDER BY kind" % user["id"]).split()
    assert rows == ["reset|3600", "verify|86400"], rows


def test_unknown_email_same_answer_same_work_nothing_mailed():
    nobody = unique_email("nobody")
    r = post("/auth/password/forgot", json_body={"email": nobody}, headers=hdr())
    assert r.status == 200 and r.json == {"success": True, "data": {}}, r
    # About the same time: medians over several of each, every one from
    # its own address and email (the rate limit counts both). Each worker
    # learns a known email's time from its own requests: warm them first.
    known = [_signup()[1]["email"] for _ in range(19)]
    for em in known[:8]:
        assert post("/auth/password/forgot", json_body={"email": em}, headers=hdr()).status == 200
    tk, tu = [], []
    for em in known[8:]:
        for e, acc in ((em, tk), (unique_email("nobody"), tu)):
            t0 = time.perf_counter()
            assert post("/auth/password/forgot", json_body={"email": e}, headers=hdr()).status == 200
            acc.append(time.perf_counter() - t0)
    mk, mu = statistics.median(tk), statistics.median(tu)
    print("# forgot median: known %.2f ms, unknown %.2f ms" % (mk * 1000, mu * 1000))
    assert max(mk, mu) <= 1.5 * min(mk, mu) + 0.002, (mk, mu)
    time.sleep(1.5)
    assert _mails(nobody) == []
    assert psql("primary", "SELECT count(*) FROM mail_outbox WHERE recipient = '%s'" % nobody).strip() == "0"


def test_rate_limited_per_email_and_per_address():
    _fresh_minute()
    _, user = _signup()
    statuses = [post("/auth/password/forgot", json_body={"email": user["email"]}, headers=hdr()).status
                for _ in range(11)]
    # The signup was the email's first attempt of the minute.
    assert statuses[:9] == [200] * 9 and statuses[9:] == [429, 429], statuses
    ip = "10.99.%d.%d" % (uuid.uuid4().int % 250, uuid.uuid4().int % 250 + 1)
    rs = [post("/auth/password/reset", json_body={"token": "A" * 43, "password": "whatever 12"},
               headers=hdr(ip=ip)) for _ in range(11)]
    assert [r.status for r in rs[:10]] == [400] * 10, rs
    check_envelope_error(rs[10], 429, "RATE_LIMITED")
    assert int(rs[10].header("Retry-After")) >= 1


def test_bad_tokens_are_400_on_token_and_mail_nothing():
    cases = [({}, "token"), ({"token": "A" * 44}, "token"), ({"token": "A" * 42 + "!"}, "token"),
             ({"token": 5}, "token"), ({"token": None}, "token"), ({"token": "Zm9v\u00e9" + "A" * 38}, "token"),
             ({"token": "A" * 43, "extra": 1}, "extra")]
    for body, field in cases:
        for path in ("/auth/verify-email", "/auth/password/reset"):
            b = dict(body)
            if path.endswith("reset"):
                b.setdefault("password", "fine password 1")
            j = check_envelope_error(_no_store(post(path, json_body=b, headers=hdr())), 400, "VALIDATION_ERROR")
            assert field in [d["field"] for d in j["details"]], (path, b, j)
    # A well-formed token nobody issued.
    j = check_envelope_error(post("/auth/verify-email", json_body={"token": "A" * 43}, headers=hdr()),
                             400, "VALIDATION_ERROR")
    assert j["details"] == [{"field": "token", "message": j["details"][0]["message"]}]
    # Garbled JSON and a wrong media type keep their own errors.
    r = request("POST", "/auth/password/forgot", body=b'{"email": "x@', headers=dict(hdr(), **{"Content-Type": "application/json"}))
    check_envelope_error(_no_store(r), 400, "INVALID_JSON")
    r = request("POST", "/auth/password/forgot", body=b'email=x', headers=dict(hdr(), **{"Content-Type": "text/plain"}))
    check_envelope_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_header_injection_attempts_are_refused_before_anything_is_queued():
    before = psql("primary", "SELECT count(*) FROM mail_outbox").strip()
    for name, email in (("Eve\r\nBcc: victim@example.com", unique_email("inj")),
                        ("Eve", "eve@example.com\r\nBcc: victim@example.com"),
                        ("Eve", "eve@example.com\nSubject: x")):
        r = post("/auth/signup", json_body={"name": name, "email": email, "password": PW}, headers=hdr())
        check_envelope_error(r, 400, "VALIDATION_ERROR")
        r = post("/auth/password/forgot", json_body={"email": email}, headers=hdr())
        assert r.status in (200, 400), r
    assert _mails("victim@example.com") == []
    assert psql("primary", "SELECT count(*) FROM mail_outbox WHERE recipient LIKE '%victim%' OR "
                "recipient ~ '[\\r\\n]' OR recipient_name ~ '[\\r\\n]'").strip() == "0", before


def test_verify_email_send():
    tok, user = _signup()
    check_envelope_error(post("/auth/verify-email/send"), 401, "UNAUTHORIZED")
    r = _no_store(post("/auth/verify-email/send", headers=dict(hdr(), **bearer(tok))))
    assert r.status == 200 and r.json["data"] == {}, r
    second, first = _current_and_stale(user["email"], "Verify", user["id"], "verify", "/verify-email")
    # The newer link replaced the signup's.
    check_envelope_error(post("/auth/verify-email", json_body={"token": first}, headers=hdr()),
                         400, "VALIDATION_ERROR")
    assert post("/auth/verify-email", json_body={"token": second}, headers=hdr()).status == 200
    # Verified: nothing more is sent.
    assert post("/auth/verify-email/send", headers=dict(hdr(), **bearer(tok))).status == 200
    time.sleep(1.5)
    assert len(_mails(user["email"], "Verify")) == 2


def test_email_change_needs_the_current_password_and_reverifies():
    tok, user = _signup(name="Changer")
    old = user["email"]
    vt = _token(_mail(old, "Verify"), "/verify-email")
    assert post("/auth/verify-email", json_body={"token": vt}, headers=hdr()).status == 200
    new = unique_email("moved")
    path = "/users/" + user["id"]
    h = dict(hdr(), **bearer(tok))
    # Missing: 400 on currentPassword, named with the other field errors.
    j = check_envelope_error(request("PATCH", path, json_body={"email": new, "name": ""}, headers=h),
                             400, "VALIDATION_ERROR")
    assert sorted(d["field"] for d in j["details"]) == ["currentPassword", "name"], j
    # Wrong: 403, and nothing changed.
    j = check_envelope_error(request("PATCH", path, json_body={"email": new, "currentPassword": "wrong one 1"},
                                     headers=h), 403, "FORBIDDEN")
    assert "wrong one" not in str(j)
    assert get("/auth/me", headers=bearer(tok)).json["data"]["user"]["email"] == old
    r = request("PATCH", path, json_body={"email": new, "currentPassword": PW}, headers=h)
    assert r.status == 200, r
    assert r.json["data"]["email"] == new and r.json["data"]["emailVerified"] is False, r
    assert "currentPassword" not in r.body.decode()
    link = _mail(new, "Verify")
    notice = _mail(old, "changed")
    assert "#token=" not in _body(notice) and new not in _body(notice)
    # A name-only change needs nothing.
    assert request("PATCH", path, json_body={"name": "Changer 2"}, headers=h).status == 200
    assert post("/auth/verify-email", json_body={"token": _token(link, "/verify-email")},
                headers=hdr()).json["data"]["user"]["emailVerified"] is True
    _login(new)


def test_a_token_for_an_address_the_user_no_longer_has_verifies_nothing():
    tok, user = _signup()
    vt = _token(_mail(user["email"], "Verify"), "/verify-email")
    # Changed behind the app's back (an admin's SQL): the token's address is gone.
    psql("primary", "UPDATE users SET email = '%s' WHERE id = '%s'" % (unique_email("gone"), user["id"]))
    j = check_envelope_error(post("/auth/verify-email", json_body={"token": vt}, headers=hdr()),
                             400, "VALIDATION_ERROR")
    assert j["details"][0]["field"] == "token"


def test_password_change_reauth_counts_against_the_login_limit():
    _fresh_minute()
    tok, user = _signup()
    other = _login(user["email"]).json["data"]["token"]
    path = "/users/" + user["id"]
    h = dict(hdr(), **bearer(tok))
    check_envelope_error(request("PATCH", path, json_body={"password": "brand new pw 1"}, headers=h),
                         400, "VALIDATION_ERROR")
    r = request("PATCH", path, json_body={"password": "brand new pw 1", "currentPassword": PW}, headers=h)
    assert r.status == 200, r
    assert get("/auth/me", headers=bearer(other)).status == 401
    assert get("/auth/me", headers=bearer(tok)).status == 200
    # Wrong current passwords use up the account's login attempts: the
    # signup, the login and the PATCH above counted too.
    statuses = [request("PATCH", path, json_body={"password": "x" * 10, "currentPassword": "nope nope"},
                        headers=dict(hdr(), **bearer(tok))).status for _ in range(10)]
    assert 403 in statuses and statuses[-1] == 429, statuses
    _login(user["email"], "brand new pw 1", status=429)


def test_admin_changes_another_user_without_current_password():
    atok, _ = make_admin("lifeadm")
    _, user = _signup()
    r = request("PATCH", "/users/" + user["id"], json_body={"password": "set by admin 1",
                                                            "email": unique_email("adm-set")},
                headers=dict(hdr(), **bearer(atok)))
    assert r.status == 200, r
    assert r.json["data"]["emailVerified"] is False
    _login(r.json["data"]["email"], "set by admin 1")


def test_reset_works_for_a_user_without_a_password():
    # As the Better-Auth import leaves an OAuth-only user: no credential account.
    email = unique_email("oauth")
    uid = psql("primary", "INSERT INTO users (name, email) VALUES ('OAuth', '%s') RETURNING id" % email).split()[0]
    _login(email, "anything at all", status=401)
    assert post("/auth/password/forgot", json_body={"email": email}, headers=hdr()).status == 200
    rt = _token(_mail(email, "Reset"), "/reset-password")
    assert post("/auth/password/reset", json_body={"token": rt, "password": "now I have one"},
                headers=hdr()).status == 200
    assert _login(email, "now I have one").json["data"]["user"]["id"] == uid


def test_outbox_metrics():
    r = get("/metrics")
    assert r.status == 200
    text = r.body.decode()
    for name in ("quire_mail_outbox_messages", "quire_mail_outbox_oldest_seconds",
                 "quire_mail_failed_messages"):
        m = re.search(r"^%s ([0-9.e+]+)$" % name, text, re.M)
        assert m, name
        float(m.group(1))


def test_require_verified():
    stack("app-restart", env_extra={"QUIRE_REQUIRE_VERIFIED": "1"})
    try:
        tok, user = _signup()
        email = user["email"]
        _mail(email, "Verify")
        r = _login(email, status=403)
        assert r.json["message"] == "Email not verified" and r.header("Set-Cookie") is None, r
        _login(email, "wrong password 1", status=401)
        # A fresh link (the signup's and this one); the wrong password mailed nothing.
        fresh, _ = _current_and_stale(email, "Verify", user["id"], "verify", "/verify-email")
        time.sleep(1.5)
        assert len(_mails(email, "Verify")) == 2
        assert post("/auth/verify-email", json_body={"token": fresh}, headers=hdr()).status == 200
        _login(email)
    finally:
        stack("app-restart")


def test_mail_routes_without_mail_configured_answer_503():
    # An env file's values win over the environment the stack gives the app.
    envf = os.path.join(RUN_DIR, "no-mail.env")
    with open(envf, "w") as f:
        f.write("QUIRE_MAIL_URL=\nQUIRE_VERIFY_ON_SIGNUP=0\n")
    stack("app-restart", env_extra={"QUIRE_ENV_FILE": envf})
    try:
        tok, user = _signup()
        check_envelope_error(post("/auth/password/forgot", json_body={"email": user["email"]}, headers=hdr()),
                             503, "SERVICE_UNAVAILABLE")
        check_envelope_error(post("/auth/verify-email/send", headers=dict(hdr(), **bearer(tok))),
                             503, "SERVICE_UNAVAILABLE")
        time.sleep(1.0)
        assert _mails(user["email"]) == []
    finally:
        stack("app-restart")
        os.unlink(envf)
