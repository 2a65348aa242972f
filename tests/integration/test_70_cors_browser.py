"""CORS as a browser enforces it. Headless Chromium (the system's
/usr/bin/chromium, driven through chromedriver by tests/browser/
cors_webdriver.py, standard library only) loads a
page from an allowed origin on another port of 127.0.0.1 and, with
fetch(..., {credentials: 'include'}), signs up, calls /auth/me (the
session cookie is sent: same site, SameSite=Lax), creates a post and lists
it. Then, in the same browser (so the session cookie is in its jar), a
page from an origin that is not allowed tries the same: every fetch that
needs a preflight or reads an answer fails in the browser, and nothing is
created, not even by a "simple" no-cors POST (the application refuses
its Origin).

The pages are tests/browser/cors.html, served here by a small HTTP server
in a thread: the allowed one on the first http://127.0.0.1:PORT origin of
the stack's QUIRE_ALLOWED_ORIGINS (http://127.0.0.1:3000 by default; the
test fails if that port is taken), the refused one on a free port of
127.0.0.1 that is not on the list. Needs the Debian packages chromium and
chromium-driver; QUIRE_CHROMIUM and QUIRE_CHROMEDRIVER override their paths."""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

from lib import ENV, RUN_DIR, ROOT, psql

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
PAGE = os.path.join(BROWSER_DIR, "cors.html")
CHROMIUM = os.environ.get("QUIRE_CHROMIUM", "/usr/bin/chromium")
API = ENV["QUIRE_BASE_URL"].rstrip("/")
DRIVER_TIMEOUT = 90

_servers = []
_result = {}


# ---------------------------------------------------------------- setup

def _allowed_origins():
    v = ""
    with open(os.path.join(RUN_DIR, "app.env")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("QUIRE_ALLOWED_ORIGINS="):
                v = line.split("=", 1)[1].strip().strip("'\"")
    return [o.strip() for o in v.split(",") if o.strip()]


class _PageHandler(http.server.BaseHTTPRequestHandler):
    """Serves cors.html at /cors.html and nothing else."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path.split("?", 1)[0] != "/cors.html":
            self.send_error(404)
            return
        with open(PAGE, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(port):
    """Starts a page server on 127.0.0.1:port (0: any free port); returns its port."""
    try:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _PageHandler)
    except OSError as e:
        raise AssertionError(
            "cannot serve the browser test's page on 127.0.0.1:%d (%s): that port must be free "
            "for the allowed-origin page (an origin in QUIRE_ALLOWED_ORIGINS)" % (port, e)) from None
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _servers.append(srv)
    return srv.server_address[1]


def _ensure_tools():
    assert os.access(CHROMIUM, os.X_OK), (
        "%s not found: the browser test needs the Debian package chromium "
        "(or QUIRE_CHROMIUM=/path/to/chromium)" % CHROMIUM)
    assert shutil.which("chromedriver") or os.environ.get("QUIRE_CHROMEDRIVER"), (
        "chromedriver not found: the browser test needs the Debian package chromium-driver")


def _run_browser(pages):
    args = [sys.executable, os.path.join(BROWSER_DIR, "cors_webdriver.py"), "--chromium", CHROMIUM,
            "--api", API, "--timeout", "20"]
    for name, url in pages:
        args += ["--page", "%s=%s" % (name, url)]
    try:
        p = subprocess.run(args, cwd=BROWSER_DIR, capture_output=True, text=True,
                           timeout=DRIVER_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("the browser run took over %d s; stderr: %s" % (
            DRIVER_TIMEOUT, str(e.stderr or "")[-2000:]))
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    assert lines, "cors_webdriver.py printed no JSON (exit %d):\n%s%s" % (
        p.returncode, p.stdout[-2000:], p.stderr[-3000:])
    out = json.loads(lines[-1])
    assert p.returncode == 0 and not out.get("error"), "the browser run failed (exit %d): %s\n%s" % (
        p.returncode, out.get("error"), p.stderr[-3000:])
    for name, _ in pages:
        rec = out["pages"].get(name) or {}
        assert not rec.get("error") and rec.get("result"), (
            "page %s did not finish: %s; console: %s" % (name, rec.get("error"), rec.get("console")))
    return out


def _browser_result():
    """Runs the browser once for the module; both tests read its result
    (or fail with its error)."""
    if "error" in _result:
        raise AssertionError("the browser run failed: %s" % _result["error"])
    if not _result:
        try:
            _run_once()
        except BaseException as e:
            _result["error"] = "%s: %s" % (type(e).__name__, e)
            raise
    return _result


def _run_once():
    origins = _allowed_origins()
    allowed = next((o for o in origins if o.startswith("http://127.0.0.1:")), None)
    assert allowed, ("QUIRE_ALLOWED_ORIGINS (%r) has no http://127.0.0.1:PORT origin for the "
                     "browser test's allowed page" % origins)
    _ensure_tools()
    aport = _serve(int(allowed.rsplit(":", 1)[1]))
    rport = _serve(0)
    refused = "http://127.0.0.1:%d" % rport
    assert refused not in origins, "the free port %d is an allowed origin" % rport

    for attempt in range(2):
        tag = uuid.uuid4().hex[:12]
        emails = {"allowed": "browser-ok-%s@example.com" % tag,
                  "refused": "browser-no-%s@example.com" % tag}

        def url(port, mode):
            q = urllib.parse.urlencode({"api": API, "mode": mode, "email": emails[mode], "tag": tag})
            return "http://127.0.0.1:%d/cors.html?%s" % (port, q)

        t0 = time.time()
        out = _run_browser([("allowed", url(aport, "allowed")),
                                  ("refused", url(rport, "refused"))])
        signup = out["pages"]["allowed"]["result"]["steps"].get("signup") or {}
        if signup.get("status") == 429 and attempt == 0:
            # Signups are rate limited per client address and the browser
            # is 127.0.0.1, like other tests that send no X-Forwarded-For:
            # wait for the window to pass, once.
            wait = 61
            for n in out["pages"]["allowed"]["network"]:
                ra = (n.get("headers") or {}).get("retry-after")
                if n["url"] == "/auth/signup" and ra and ra.isdigit():
                    wait = min(int(ra) + 1, 61)
            time.sleep(wait)
            continue
        break
    _result.update(out=out, tag=tag, emails=emails, allowed=allowed, refused=refused,
                   seconds=time.time() - t0)


def teardown_module():
    while _servers:
        srv = _servers.pop()
        srv.shutdown()
        srv.server_close()


def _sql_count(sql):
    return int(psql("primary", sql).strip())


def _net(page, method, path):
    return [n for n in page["network"] if n["method"] == method and n["url"] == path]


# ---------------------------------------------------------------- tests

def test_allowed_origin_signup_me_post_list_in_chromium():
    r = _browser_result()
    page = r["out"]["pages"]["allowed"]
    res = page["result"]
    steps = res["steps"]
    ctx = "browser %s, page %s; console: %s" % (r["out"].get("browserVersion"), r["allowed"],
                                                page["console"])
    assert page["pageStatus"] == 200, ctx
    assert res["origin"] == r["allowed"], (res["origin"], ctx)

    su = steps["signup"]
    assert su["ok"] and su["status"] == 201, (su, ctx)
    assert su["type"] == "cors", su
    user = su["body"]["data"]["user"]
    assert user["email"] == r["emails"]["allowed"], su
    # X-Request-Id is readable only because the server exposes it.
    assert su.get("requestId"), su

    # The session cookie landed in the browser's jar, as the API promises.
    cookies = {c["name"]: c for c in page["apiCookies"]}
    c = cookies.get("quire_session")
    assert c, ("no quire_session cookie in the browser", page["apiCookies"])
    assert c["httpOnly"] and c["sameSite"] == "Lax" and c["path"] == "/", c

    # The page never sends the token: /auth/me works through the cookie alone.
    me = steps["me"]
    assert me["ok"] and me["status"] == 200, (me, ctx)
    assert me["body"]["data"]["user"]["id"] == user["id"], me

    pc = steps["createPost"]
    assert pc["ok"] and pc["status"] == 201, (pc, ctx)
    post = pc["body"]["data"]
    assert post["authorId"] == user["id"] and post["title"] == "browser post " + r["tag"], post

    lp = steps["listPosts"]
    assert lp["ok"] and lp["status"] == 200, (lp, ctx)
    assert [p["id"] for p in lp["body"]["data"]] == [post["id"]], lp["body"]

    gp = steps["getPost"]
    assert gp["ok"] and gp["status"] == 200 and gp["body"]["data"]["id"] == post["id"], gp

    # What the web server sent, as Chromium's network layer saw it.
    for method, path in (("POST", "/auth/signup"), ("GET", "/auth/me"), ("POST", "/posts")):
        seen = _net(page, method, path)
        assert seen, (method, path, page["network"])
        h = seen[0]["headers"]
        assert h.get("access-control-allow-origin") == r["allowed"], (method, path, h)
        assert h.get("access-control-allow-credentials") == "true", (method, path, h)
        assert "origin" in h.get("vary", "").lower(), (method, path, h)

    assert _sql_count("SELECT count(*) FROM posts WHERE id = '%s'" % post["id"]) == 1


def test_refused_origin_is_blocked_by_chromium():
    r = _browser_result()
    page = r["out"]["pages"]["refused"]
    res = page["result"]
    steps = res["steps"]
    ctx = "browser %s, page %s; console: %s" % (r["out"].get("browserVersion"), r["refused"],
                                                page["console"])
    assert page["pageStatus"] == 200, ctx
    assert res["origin"] == r["refused"], (res["origin"], ctx)
    # The browser holds a session cookie for the API (from the allowed
    # page) and sends it along: same site. CORS alone must stop this page.
    assert any(c["name"] == "quire_session" for c in page["apiCookies"]), page["apiCookies"]

    for name in ("signup", "me", "createPost", "listPosts"):
        s = steps[name]
        assert s["ok"] is False, ("the refused page could read %s" % name, s, ctx)
        assert s["error"].startswith("TypeError"), (name, s)
    # ...and it is CORS that refused them, not a dead server.
    blocked = [m for m in page["console"] if "CORS policy" in m and r["refused"] in m]
    assert any("/auth/signup" in m for m in blocked), ctx
    assert any("/auth/me" in m for m in blocked), ctx

    # No preflight approval, so the JSON POSTs never reached the server.
    for n in page["network"]:
        if n["method"] == "POST" and "status" in n:
            assert not 200 <= n["status"] < 300, ("a refused POST succeeded", n)
        if n["method"] == "POST" and n["url"] == "/auth/signup":
            assert "status" not in n, ("the refused signup reached the server", n)

    # A simple (no-cors) POST does go out, with the cookie; the browser
    # hides the answer and the application refuses the Origin with 403.
    nc = steps["createPostNoCors"]
    assert nc["ok"] is True and nc["type"] == "opaque" and nc["status"] == 0, nc
    answered = [n for n in _net(page, "POST", "/posts") if "status" in n]
    assert [n["status"] for n in answered] == [403], page["network"]

    assert _sql_count("SELECT count(*) FROM users WHERE email = '%s'"
                      % r["emails"]["refused"]) == 0
    assert _sql_count("SELECT count(*) FROM posts WHERE title LIKE 'refused%%%s'"
                      % r["tag"]) == 0
