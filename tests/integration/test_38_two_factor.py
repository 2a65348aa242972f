"""Two-factor authentication (API.md "Two-factor authentication", issue
#21): setup, enable (backup codes shown once, other sessions end), the
login's challenge and /auth/2fa/verify (codes once, in a window of one step
either side, five tries per challenge, backup codes once), disable, the
admin's way out, the secret sealed at rest, `quirectl rotate-secret-key`,
and the 503 without QUIRE_SECRET_KEY.

The codes come from an independent implementation, python3-pyotp (Debian),
never from quire's own code. pyotp is importable only by the system's
/usr/bin/python3, which the runner may not be: each code is made by a
small /usr/bin/python3 subprocess.

Every 2FA request counts against the login rate limit of the account's
email (10 a minute on the test stack): each test uses users of its own and
stays under it, unless the limit is what it tests."""

import base64
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid

from lib import (ENV, ROOT, RUN_DIR, bearer, check_envelope_error, get, hdr, make_admin, post, psql, request,
                 session_cookie, stack, unique_email, wait_for)

PW = "two factor password 1"
STEP = 30
CODE_RE = r"^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$"
SYSTEM_PYTHON = "/usr/bin/python3"

_admin = {}


def _admin_tok():
    if "tok" not in _admin:
        _admin["tok"], _admin["user"] = make_admin("tfa-admin")
    return _admin["tok"]


def otp(secret, *times):
    """pyotp's codes of the base32 secret at each of times (seconds)."""
    prog = ("import pyotp, sys\n"
            "t = pyotp.TOTP(sys.argv[1])\n"
            "print(' '.join(t.at(int(x)) for x in sys.argv[2:]))\n")
    p = subprocess.run([SYSTEM_PYTHON, "-c", prog, secret] + [str(int(t)) for t in times],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, "pyotp (python3-pyotp, scripts/deps) under %s: %s" % (SYSTEM_PYTHON, p.stderr)
    codes = p.stdout.split()
    assert len(codes) == len(times) and all(re.match(r"^[0-9]{6}$", c) for c in codes), p.stdout
    return codes[0] if len(times) == 1 else codes


def settle(need=12):
    """Waits until at least need seconds of the current 30-second step
    are left (and one has passed), so that the server and this test agree
    on "now" for the codes that follow. Returns a time inside the step."""
    while True:
        now = time.time()
        into = now % STEP
        if 1.0 <= into <= STEP - need:
            return now
        time.sleep(STEP - into + 1.05 if into > 1.0 else 1.05 - into)


def settle_minute(latest=15):
    """Waits until the current minute (the rate limit's window) is at
    most latest seconds old, so that a test counting up to the limit
    runs inside one window."""
    while True:
        into = time.time() % 60
        if 1.0 <= into <= latest:
            return
        time.sleep(60 - into + 1.05 if into > 1.0 else 1.05 - into)


def _rid(tag):
    return "%s-%s" % (tag, uuid.uuid4().hex[:16])


def _signup(tag="tfa"):
    email = unique_email(tag)
    r = post("/auth/signup", json_body={"name": "Two Factor", "email": email, "password": PW}, headers=hdr())
    assert r.status == 201, r
    return email, r.json["data"]["token"], r.json["data"]["user"]


def _login(email, password=PW, rid=None):
    h = hdr({"X-Request-Id": rid} if rid else None)
    return post("/auth/login", json_body={"email": email, "password": password}, headers=h)


def _setup(tok, password=PW):
    return post("/auth/2fa/setup", json_body={"currentPassword": password}, headers=hdr(bearer(tok)))


def _enable(tok, code):
    return post("/auth/2fa/enable", json_body={"code": code}, headers=hdr(bearer(tok)))


def _verify(challenge, code=None, backup=None, rid=None):
    body = {"challenge": challenge}
    if code is not None:
        body["code"] = code
    if backup is not None:
        body["backupCode"] = backup
    return post("/auth/2fa/verify", json_body=body, headers=hdr({"X-Request-Id": rid} if rid else None))


def _disable(tok, password=PW, code=None, backup=None):
    body = {"currentPassword": password}
    if code is not None:
        body["code"] = code
    if backup is not None:
        body["backupCode"] = backup
    return post("/auth/2fa/disable", json_body=body, headers=hdr(bearer(tok)))


def _challenge(email):
    """Logs in with the right password; returns the challenge."""
    r = _login(email)
    assert r.status == 200, r
    d = r.json["data"]
    assert d.get("twoFactorRequired") is True and set(d) == {"twoFactorRequired", "challenge", "expiresAt"}, d
    assert session_cookie(r) is None, r.headers
    return d["challenge"]


def enabled_user(tag="tfa"):
    """A user with 2FA on (3 rate-limited requests: signup, setup,
    enable). The enable code is the one of the step before now's, so
    now's and the next step's codes are still unused. Returns a dict."""
    email, tok, user = _signup(tag)
    r = _setup(tok)
    assert r.status == 200, r
    secret = r.json["data"]["secret"]
    t0 = settle()
    r = _enable(tok, otp(secret, t0 - STEP))
    assert r.status == 200, r
    return {"email": email, "tok": tok, "user": user, "secret": secret, "t0": t0,
            "backup": r.json["data"]["backupCodes"]}


def _audit(user_id, action):
    out = psql("primary", "SELECT coalesce(actor_id::text, '-'), coalesce(user_id::text, '-'), request_id "
                          "FROM audit_log WHERE user_id = '%s' AND action = '%s' ORDER BY at, id" % (user_id, action))
    return [tuple(l.split("|")) for l in out.splitlines() if l]


def test_setup_enable_login_verify():
    """The whole flow: setup shows the secret; enable with a code returns
    the backup codes once and ends the other sessions; login answers a
    challenge without a cookie; verify with a code logs in (cookie works);
    the same code, or the same challenge, is refused after."""
    email, tok, user = _signup()
    uid = user["id"]
    other = _login(email).json["data"]["token"]
    assert get("/auth/me", headers=bearer(other)).status == 200
    me = get("/auth/me", headers=bearer(tok)).json["data"]["user"]
    assert me["twoFactorEnabled"] is False, me

    r = _setup(tok)
    assert r.status == 200 and r.header("Cache-Control") == "no-store", r
    d = r.json["data"]
    assert set(d) == {"secret", "otpauthUri"}, d
    secret = d["secret"]
    assert re.match(r"^[A-Z2-7]{32}$", secret), secret
    raw = base64.b32decode(secret)
    assert len(raw) == 20
    u = urllib.parse.urlparse(d["otpauthUri"])
    assert (u.scheme, u.netloc) == ("otpauth", "totp"), d["otpauthUri"]
    assert urllib.parse.unquote(u.path) == "/quire:" + email, d["otpauthUri"]
    assert "%40" in u.path, "the label is percent-encoded: %s" % d["otpauthUri"]
    q = urllib.parse.parse_qs(u.query, strict_parsing=True)
    assert q == {"secret": [secret], "issuer": ["quire"], "algorithm": ["SHA1"], "digits": ["6"],
                 "period": ["30"]}, q
    # pyotp reads the URI as an authenticator app would.
    p = subprocess.run([SYSTEM_PYTHON, "-c", "import pyotp, sys; t = pyotp.parse_uri(sys.argv[1]); "
                        "print(t.secret, t.issuer, t.name, t.digits, t.interval)", d["otpauthUri"]],
                       capture_output=True, text=True, timeout=30)
    assert p.stdout.split() == [secret, "quire", email, "6", "30"], (p.stdout, p.stderr)
    # Stored sealed: neither the base32 nor the raw secret is in the row.
    stored = psql("primary", "SELECT encode(totp_secret, 'hex'), two_factor_enabled FROM users "
                             "WHERE id = '%s'" % uid).strip()
    hexval, on = stored.split("|")
    assert on == "f" and len(hexval) == 120, stored
    assert raw.hex() not in hexval and secret.encode().hex() not in hexval, "the secret is stored in the clear"
    assert get("/auth/me", headers=bearer(tok)).json["data"]["user"]["twoFactorEnabled"] is False

    t0 = settle()
    enable_code = otp(secret, t0 - STEP)
    rid = _rid("enable")
    r = post("/auth/2fa/enable", json_body={"code": enable_code}, headers=hdr({**bearer(tok), "X-Request-Id": rid}))
    assert r.status == 200 and r.header("Cache-Control") == "no-store", r
    codes = r.json["data"]["backupCodes"]
    assert set(r.json["data"]) == {"backupCodes"}
    assert len(codes) == 10 and len(set(codes)) == 10 and all(re.match(CODE_RE, c) for c in codes), codes
    # Other sessions end at once (every worker); the caller's stays.
    wait_for(lambda: get("/auth/me", headers=bearer(other)).status == 401, timeout=5, what="other session ended")
    me = get("/auth/me", headers=bearer(tok))
    assert me.status == 200 and me.json["data"]["user"]["twoFactorEnabled"] is True, me
    assert get("/users/" + uid, headers=bearer(tok)).json["data"]["twoFactorEnabled"] is True
    # Backup codes: hashes only, never shown again.
    stored = psql("primary", "SELECT code_hash FROM two_factor_backup_codes WHERE user_id = '%s'" % uid).split()
    assert len(stored) == 10 and not set(stored) & set(codes), stored
    assert _audit(uid, "two_factor_enabled") == [(uid, uid, rid)], _audit(uid, "two_factor_enabled")

    challenge = _challenge(email)
    # The code that enabled 2FA counts as accepted: not again.
    r = _verify(challenge, enable_code)
    check_envelope_error(r, 401, "UNAUTHORIZED")
    assert session_cookie(r) is None and r.header("Cache-Control") == "no-store"
    code = otp(secret, t0)
    rid = _rid("verify")
    r = _verify(challenge, code, rid=rid)
    assert r.status == 200, r
    d = r.json["data"]
    assert set(d) == {"user", "token", "expiresAt"} and d["user"]["id"] == uid, d
    assert d["user"]["twoFactorEnabled"] is True
    cookie = session_cookie(r)
    assert cookie and cookie.startswith("quire_session=" + d["token"] + ";"), cookie
    me = get("/auth/me", headers={"Cookie": "quire_session=" + d["token"]})
    assert me.status == 200 and me.json["data"]["user"]["id"] == uid, me
    assert _audit(uid, "login")[-1] == (uid, uid, rid), _audit(uid, "login")
    # The challenge is single-use, whatever the code.
    r = _verify(challenge, otp(secret, t0 + STEP))
    check_envelope_error(r, 401, "UNAUTHORIZED")


def test_a_code_works_once_and_only_in_its_window():
    """A replayed code is refused within its window; codes two steps away
    are refused even when later than the last accepted one."""
    u = enabled_user()
    t0, secret, uid = u["t0"], u["secret"], u["user"]["id"]
    # The last accepted step far back: only the window refuses now.
    psql("primary", "UPDATE users SET totp_last_step = %d WHERE id = '%s'" % (int(t0 // STEP) - 100, uid))
    ch = _challenge(u["email"])
    old, ahead, now = otp(secret, t0 - 2 * STEP, t0 + 2 * STEP, t0)
    for bad in (old, ahead):
        if bad == now:
            continue  # one chance in a million: the same digits
        check_envelope_error(_verify(ch, bad), 401, "UNAUTHORIZED")
    r = _verify(ch, now)
    assert r.status == 200, r
    # The same code on a fresh challenge, within its window: refused.
    ch = _challenge(u["email"])
    r = _verify(ch, now)
    check_envelope_error(r, 401, "UNAUTHORIZED")
    assert session_cookie(r) is None
    # A later step's code still passes: the challenge took one try.
    r = _verify(ch, otp(secret, t0 + STEP))
    assert r.status == 200 and session_cookie(r), r
    assert psql("primary", "SELECT totp_last_step FROM users WHERE id = '%s'" % uid).strip() == \
        str(int(t0 // STEP) + 1)


def _wrong(secret, t0):
    """A 6-digit code that is none of the window's."""
    valid = set(otp(secret, t0 - STEP, t0, t0 + STEP))
    return next("%06d" % n for n in range(1000) if "%06d" % n not in valid)


def test_six_wrong_codes_kill_the_challenge_and_count_against_the_rate_limit():
    settle_minute()
    u = enabled_user()
    t0, secret, uid = u["t0"], u["secret"], u["user"]["id"]
    ch = _challenge(u["email"])
    wrong = _wrong(secret, t0)
    rid = _rid("wrong")
    for i in range(5):
        r = _verify(ch, wrong, rid=rid if i == 0 else None)
        check_envelope_error(r, 401, "UNAUTHORIZED")
    assert (uid, uid, rid) in _audit(uid, "login_failed"), _audit(uid, "login_failed")
    # The sixth try, with the right code: the challenge is dead.
    r = _verify(ch, otp(secret, t0))
    check_envelope_error(r, 401, "UNAUTHORIZED")
    assert session_cookie(r) is None
    # That was the account's 10th counted request this minute: the next is 429.
    r = _login(u["email"])
    check_envelope_error(r, 429, "RATE_LIMITED")
    assert r.header("Retry-After"), r.headers


def test_backup_codes_work_once_each():
    u = enabled_user()
    codes = u["backup"]
    ch = _challenge(u["email"])
    r = _verify(ch, backup=codes[0])
    assert r.status == 200 and session_cookie(r), r
    ch = _challenge(u["email"])
    check_envelope_error(_verify(ch, backup=codes[0]), 401, "UNAUTHORIZED")
    check_envelope_error(_verify(ch, backup="ZZZZZ-ZZZZZ"), 401, "UNAUTHORIZED")
    # As typed by hand: lower case, no dash.
    r = _verify(ch, backup=codes[1].lower().replace("-", ""))
    assert r.status == 200 and session_cookie(r), r
    used = psql("primary", "SELECT count(*) FROM two_factor_backup_codes WHERE user_id = '%s' "
                           "AND used_at IS NOT NULL" % u["user"]["id"]).strip()
    assert used == "2", used


def test_disable_needs_the_password_and_a_code():
    u = enabled_user()
    t0, secret, uid, tok = u["t0"], u["secret"], u["user"]["id"], u["tok"]
    now = otp(secret, t0)
    r = _disable(tok, password="not the password", code=now)
    check_envelope_error(r, 403, "FORBIDDEN")
    r = _disable(tok, code=_wrong(secret, t0))
    check_envelope_error(r, 401, "UNAUTHORIZED")
    # Field errors first, and they use up nothing.
    j = check_envelope_error(_disable(tok), 400, "VALIDATION_ERROR")
    assert [x["field"] for x in j["details"]] == ["code"], j
    j = check_envelope_error(_disable(tok, code=now, backup=u["backup"][0]), 400, "VALIDATION_ERROR")
    assert [x["field"] for x in j["details"]] == ["backupCode"], j
    rid = _rid("disable")
    r = post("/auth/2fa/disable", json_body={"currentPassword": PW, "code": now},
             headers=hdr({**bearer(tok), "X-Request-Id": rid}))
    assert r.status == 200 and r.json["data"] == {}, r
    assert get("/auth/me", headers=bearer(tok)).json["data"]["user"]["twoFactorEnabled"] is False
    assert _audit(uid, "two_factor_disabled") == [(uid, uid, rid)]
    row = psql("primary", "SELECT totp_secret IS NULL, two_factor_enabled, (SELECT count(*) FROM "
                          "two_factor_backup_codes WHERE user_id = '%s') FROM users WHERE id = '%s'" % (uid, uid))
    assert row.strip() == "t|f|0", row
    r = _login(u["email"])
    assert r.status == 200 and r.json["data"].get("token") and session_cookie(r), r
    check_envelope_error(_disable(tok, code=otp(secret, t0 + STEP)), 409, "CONFLICT")


def test_disable_with_a_backup_code():
    u = enabled_user()
    r = _disable(u["tok"], backup=u["backup"][3])
    assert r.status == 200, r
    assert get("/auth/me", headers=bearer(u["tok"])).json["data"]["user"]["twoFactorEnabled"] is False


def test_bad_input_gets_the_documented_errors():
    email, tok, user = _signup()
    # Setup needs the right password (403) and a body (400); enable needs setup.
    check_envelope_error(_setup(tok, password="wrong password"), 403, "FORBIDDEN")
    j = check_envelope_error(post("/auth/2fa/setup", json_body={}, headers=hdr(bearer(tok))), 400,
                             "VALIDATION_ERROR")
    assert [x["field"] for x in j["details"]] == ["currentPassword"], j
    check_envelope_error(_enable(tok, "123456"), 409, "CONFLICT")
    check_envelope_error(_disable(tok, code="123456"), 409, "CONFLICT")
    for bad in ("12345", "1234567", "12a456", " 123456", "\u0661\u0662\u0663\u0664\u0665\u0666", "", 123456,
                None, ["123456"]):
        for r in (_enable(tok, bad), _verify("x" * 43, bad)):
            j = check_envelope_error(r, 400, "VALIDATION_ERROR")
            assert [x["field"] for x in j["details"]] == ["code"], (bad, j)
    j = check_envelope_error(post("/auth/2fa/verify", json_body={"challenge": 5, "code": "123456"}, headers=hdr()),
                             400, "VALIDATION_ERROR")
    assert [x["field"] for x in j["details"]] == ["challenge"], j
    j = check_envelope_error(post("/auth/2fa/verify", json_body={"code": "123456"}, headers=hdr()),
                             400, "VALIDATION_ERROR")
    assert [x["field"] for x in j["details"]] == ["challenge"], j
    j = check_envelope_error(post("/auth/2fa/enable", json_body={"code": "123456", "secret": "x"},
                                  headers=hdr(bearer(tok))), 400, "VALIDATION_ERROR")
    assert [x["field"] for x in j["details"]] == ["secret"], j
    check_envelope_error(post("/auth/2fa/setup", json_body={"currentPassword": PW}), 401, "UNAUTHORIZED")
    check_envelope_error(request("GET", "/auth/2fa/verify"), 405, "METHOD_NOT_ALLOWED")

    u = enabled_user()
    v = enabled_user()
    code = otp(u["secret"], u["t0"])
    # Forged and malformed challenges are 401, not 400.
    for forged in ("forged", "x" * 43, base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
                   "\u00e9" * 43, "x" * 5000):
        check_envelope_error(_verify(forged, code), 401, "UNAUTHORIZED")
    # Another user's challenge with this user's code: refused.
    check_envelope_error(_verify(_challenge(v["email"]), code), 401, "UNAUTHORIZED")
    # An expired challenge.
    ch = _challenge(u["email"])
    psql("primary", "UPDATE two_factor_challenges SET expires_at = now() - interval '1 second' "
                    "WHERE user_id = '%s'" % u["user"]["id"])
    check_envelope_error(_verify(ch, code), 401, "UNAUTHORIZED")
    # Setup and enable once 2FA is on.
    check_envelope_error(_setup(u["tok"]), 409, "CONFLICT")
    check_envelope_error(_enable(u["tok"], code), 409, "CONFLICT")


def test_an_admin_turns_2fa_off_for_a_lost_device():
    u = enabled_user()
    uid = u["user"]["id"]
    path = "/users/%s/2fa" % uid
    check_envelope_error(request("DELETE", path, headers=bearer(u["tok"])), 403, "FORBIDDEN")
    check_envelope_error(request("DELETE", "/users/not-a-uuid/2fa", headers=bearer(_admin_tok())), 404, "NOT_FOUND")
    check_envelope_error(request("DELETE", "/users/%s/2fa" % uuid.uuid4(), headers=bearer(_admin_tok())), 404,
                         "NOT_FOUND")
    ch = _challenge(u["email"])
    rid = _rid("admin-2fa")
    r = request("DELETE", path, headers={**bearer(_admin_tok()), "X-Request-Id": rid})
    assert r.status == 200, r
    seen = r.json["data"]["user"]
    assert seen["id"] == uid and seen["twoFactorEnabled"] is False and "banned" in seen, seen
    assert _audit(uid, "two_factor_disabled") == [(_admin["user"]["id"], uid, rid)]
    # Idempotent, and the second call records nothing.
    assert request("DELETE", path, headers=bearer(_admin_tok())).status == 200
    assert len(_audit(uid, "two_factor_disabled")) == 1
    # The pending challenge went with it; the password alone logs in now.
    check_envelope_error(_verify(ch, otp(u["secret"], u["t0"])), 401, "UNAUTHORIZED")
    r = _login(u["email"])
    assert r.status == 200 and session_cookie(r), r


def _ctl(*args):
    ctl = os.path.join(ROOT, "build", "quirectl")
    env = dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_APP_DB_URL"])
    return subprocess.run([ctl] + list(args), capture_output=True, text=True, env=env, timeout=60)


def test_without_a_secret_key_2fa_answers_503_and_the_rest_works():
    u = enabled_user()
    stack("app-restart", env_extra={"QUIRE_SECRET_KEY": ""})
    try:
        email, tok, user = _signup()
        for r in (_setup(tok), _enable(tok, "123456"), _disable(tok, code="123456"),
                  _verify("x" * 43, "123456")):
            j = check_envelope_error(r, 503, "SERVICE_UNAVAILABLE")
            assert "QUIRE_SECRET_KEY" in j["message"], j
        assert get("/auth/me", headers=bearer(tok)).status == 200
        assert get("/posts").status == 200
        # The admin's way out needs no key.
        r = request("DELETE", "/users/%s/2fa" % u["user"]["id"], headers=bearer(_admin_tok()))
        assert r.status == 200 and r.json["data"]["user"]["twoFactorEnabled"] is False, r
    finally:
        stack("app-restart")
    assert _setup(tok).status == 200


def test_a_wrong_secret_key_refuses_the_start():
    # The binary the stack runs (scripts/check's ASan suite sets it).
    quire = os.environ.get("QUIRE_BIN") or os.path.join(ROOT, "build", "quire")
    for key, says in (("c2hvcnQ=", "decodes to 5 bytes"), ("not base64!", "not base64")):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "QUIRE_PRIMARY_URL": ENV["QUIRE_APP_DB_URL"],
               "QUIRE_SECRET_KEY": key}
        p = subprocess.run([quire, "--workers", "1"], capture_output=True, text=True, env=env, timeout=30,
                           stdin=subprocess.DEVNULL)
        assert p.returncode != 0, p
        assert "QUIRE_SECRET_KEY must be 32 bytes in base64" in p.stderr and says in p.stderr, p.stderr
        assert key not in p.stderr, "the key is not echoed"


def test_quirectl_rotate_secret_key():
    """Re-encrypts every secret under the new key in one transaction; the
    app restarted with the new key checks the old codes' successors; a
    wrong --old changes nothing."""
    u = enabled_user()
    uid = u["user"]["id"]
    with open(os.path.join(RUN_DIR, "secret.key")) as f:
        old = f.read().strip()
    new = base64.b64encode(os.urandom(32)).decode()
    other = base64.b64encode(os.urandom(32)).decode()
    before = psql("primary", "SELECT encode(totp_secret, 'hex') FROM users WHERE id = '%s'" % uid).strip()
    p = _ctl("rotate-secret-key", "--old", other, "--new", new)
    assert p.returncode == 1 and "nothing changed" in p.stderr, (p.returncode, p.stdout, p.stderr)
    assert psql("primary", "SELECT encode(totp_secret, 'hex') FROM users WHERE id = '%s'" % uid).strip() == before
    p = _ctl("rotate-secret-key", "--old", old, "--new", "c2hvcnQ=")
    assert p.returncode == 2 and "--new must be 32 bytes" in p.stderr, (p.stdout, p.stderr)
    p = _ctl("rotate-secret-key", "--old", old, "--new", new)
    assert p.returncode == 0 and re.match(r"^re-encrypted [1-9][0-9]* TOTP secrets", p.stdout), (p.stdout, p.stderr)
    after = psql("primary", "SELECT encode(totp_secret, 'hex') FROM users WHERE id = '%s'" % uid).strip()
    assert after != before and len(after) == 120
    stack("app-restart", env_extra={"QUIRE_SECRET_KEY": new})
    try:
        ch = _challenge(u["email"])
        r = _verify(ch, otp(u["secret"], u["t0"]))
        assert r.status == 200 and session_cookie(r), r
    finally:
        # Back to the stack's own key, whatever happened above.
        p = _ctl("rotate-secret-key", "--old", new, "--new", old)
        stack("app-restart")
    assert p.returncode == 0, (p.stdout, p.stderr)
    # Again: every secret is under the old key already; nothing to do.
    p = _ctl("rotate-secret-key", "--old", new, "--new", old)
    assert p.returncode == 0 and p.stdout.startswith("re-encrypted 0 TOTP secrets"), p.stdout
