"""scripts/smoke, the operator's curl smoke test, run under dash (so it is
POSIX sh): against the stack it passes every step and leaves no user
behind; against a wrong path prefix, a port where nothing listens, and a
proxy in front of the stack that breaks one step, it fails with the
step's response printed (tokens redacted) and a non-zero exit, and still
deletes the user it made, also when it is stopped with SIGTERM. It sends
a write's Quire-Read-After back, as a client should."""

import http.client
import http.server
import json
import os
import re
import signal
import subprocess
import threading
import uuid

from lib import PORT, ROOT, addr, free_port, psql

SMOKE = os.path.join(ROOT, "scripts", "smoke")
BASE = "http://127.0.0.1:%d" % PORT
OK_RE = re.compile(r"^ok   \S.* \d{3} \(\d+ ms\)")
STEPS = ["health", "health/db", "signup", "login", "me (cookie)", "me (Bearer)", "create post",
         "list posts", "get post", "patch post", "delete post", "get deleted post", "logout",
         "me after logout", "delete user", "me after delete"]


def _domain():
    return "t73-%s.example.com" % uuid.uuid4().hex[:12]


def _env(domain, ip=None):
    env = dict(os.environ)
    env["SMOKE_HEADER"] = "X-Forwarded-For: %s" % (ip or addr())
    env["SMOKE_EMAIL_DOMAIN"] = domain
    return env


def _run(base, domain, ip=None, timeout=90):
    p = subprocess.run(["dash", SMOKE, base], env=_env(domain, ip), capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def _users(domain):
    return int(psql("primary", "SELECT count(*) FROM users WHERE email LIKE '%%@%s'" % domain))


class _Proxy:
    """An HTTP proxy on a free port in front of the stack, for the cases
    the stack never produces. hook(handler, method, path, status, headers,
    body) may return (status, headers, body) to answer instead; it sees
    every real answer. Records the XFF and Quire-Read-After headers of
    each request (strip_read_after: not passed on) and the signup's user
    id."""

    def __init__(self, hook=None, strip_read_after=False):
        self.hook = hook
        self.strip_read_after = strip_read_after
        self.xff = []
        self.seen = []
        self.user_id = None
        self.token = None
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower() not in ("connection", "keep-alive", "host")}
                proxy.xff.append(self.headers.get("X-Forwarded-For"))
                proxy.seen.append((self.command, self.path, self.headers.get_all("Quire-Read-After")))
                if proxy.strip_read_after:
                    hdrs = {k: v for k, v in hdrs.items() if k.lower() != "quire-read-after"}
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                try:
                    c.request(self.command, self.path, body=body, headers=hdrs)
                    r = c.getresponse()
                    status, rh, rb = r.status, r.getheaders(), r.read()
                finally:
                    c.close()
                if self.command == "POST" and self.path == "/auth/signup" and status == 201:
                    proxy.user_id = json.loads(rb)["data"]["user"]["id"]
                if self.command == "POST" and self.path == "/auth/login" and status == 200:
                    proxy.token = json.loads(rb)["data"]["token"]
                if proxy.hook:
                    alt = proxy.hook(self, self.command, self.path, status, rh, rb)
                    if alt:
                        status, rh, rb = alt
                self.send_response(status)
                for k, v in rh:
                    if k.lower() not in ("connection", "transfer-encoding", "content-length",
                                         "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(rb)))
                self.end_headers()
                self.wfile.write(rb)

            do_GET = do_POST = do_PATCH = do_DELETE = _any

        self.port = free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()
        self.base = "http://127.0.0.1:%d" % self.port

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _gone(user_id):
    """The user, its posts and its sessions are gone."""
    assert user_id and re.match(r"^[0-9a-f-]{36}$", user_id), user_id
    for table, col in (("users", "id"), ("posts", "author_id"), ("sessions", "user_id")):
        n = psql("primary", "SELECT count(*) FROM %s WHERE %s = '%s'" % (table, col, user_id))
        assert int(n) == 0, (table, n)


def test_passes_against_the_stack():
    dom = _domain()
    rc, out, err = _run(BASE, dom)
    assert rc == 0, (rc, out, err)
    lines = out.splitlines()
    oks = [l for l in lines if l.startswith("ok ")]
    assert all(OK_RE.match(l) for l in oks), oks
    assert [re.match(r"^ok   (.*) \d{3} \(", l).group(1) for l in oks] == STEPS, oks
    assert lines[-1] == "smoke: all steps passed against %s" % BASE, lines
    assert "FAIL" not in out + err, (out, err)
    assert _users(dom) == 0


def test_trailing_slash_and_v1_prefix():
    # BASE_URL may carry the mount point; /v1 serves every route.
    dom = _domain()
    rc, out, err = _run(BASE + "/v1/", dom)
    assert rc == 0, (rc, out, err)
    assert sum(1 for l in out.splitlines() if OK_RE.match(l)) == len(STEPS), out
    assert _users(dom) == 0


def test_wrong_path_prefix_fails_at_health():
    dom = _domain()
    rc, out, err = _run(BASE + "/no-such-prefix", dom)
    assert rc == 1, (rc, out, err)
    assert not [l for l in out.splitlines() if l.startswith("ok ")], out
    assert err.startswith("FAIL health 404 ("), err
    assert "GET %s/no-such-prefix/health" % BASE in err, err
    assert "--- response headers\nHTTP/1.1 404" in err, err
    assert re.search(r"(?mi)^x-request-id: \S+$", err), err
    assert '"error":"NOT_FOUND"' in err, err
    assert err.rstrip().endswith("smoke: FAILED against %s/no-such-prefix" % BASE), err
    assert _users(dom) == 0


def test_nothing_listening_fails_with_curls_error():
    base = "http://127.0.0.1:%d" % free_port()
    rc, out, err = _run(base, _domain())
    assert rc == 1, (rc, out, err)
    assert out == "", out
    assert err.startswith("FAIL health 000 ("), err
    assert "no HTTP answer" in err and "--- curl exit status 7" in err, err


def test_usage_errors():
    for args in ([], ["127.0.0.1:%d" % PORT], [BASE, BASE], ["--timeout", "x", BASE], ["--bogus", BASE]):
        p = subprocess.run(["dash", SMOKE] + args, capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
        assert "scripts/smoke [--insecure]" in p.stderr, p.stderr


def test_midway_failure_prints_the_response_and_deletes_the_user():
    def hook(h, method, path, status, rh, rb):
        if method == "PATCH" and path.startswith("/posts/"):
            return 500, [("Content-Type", "application/json; charset=utf-8"),
                         ("X-Request-Id", "t73-broken")], \
                b'{"success":false,"message":"broken by test_73","error":"INTERNAL_ERROR"}'
    px = _Proxy(hook)
    ip = addr()
    try:
        rc, out, err = _run(px.base, _domain(), ip=ip)
    finally:
        px.close()
    assert rc == 1, (rc, out, err)
    oks = [l for l in out.splitlines() if l.startswith("ok ")]
    assert [re.match(r"^ok   (.*) \d{3} \(", l).group(1) for l in oks] == \
        STEPS[:STEPS.index("patch post")] + ["cleanup: delete user"], out
    assert oks[-1].startswith("ok   cleanup: delete user 200 ("), oks
    assert "FAIL patch post 500 (" in err and "want 200" in err, err
    assert "X-Request-Id: t73-broken" in err, err
    assert "broken by test_73" in err, err
    # SMOKE_HEADER went with every request, the cleanup's too.
    assert px.xff and all(x == ip for x in px.xff), px.xff
    _gone(px.user_id)


def test_failure_output_redacts_the_session_token():
    # The login answer loses its Set-Cookie: the step fails and prints the
    # body and headers, which hold the token.
    def hook(h, method, path, status, rh, rb):
        if method == "POST" and path == "/auth/login":
            rh = [(k, v) for k, v in rh if k.lower() != "set-cookie"]
            rh.append(("Set-Cookie", "other=1; Path=/"))
            rh.append(("X-Copy", "quire_session=" + json.loads(rb)["data"]["token"] + "; Path=/"))
            return status, rh, rb
    px = _Proxy(hook)
    try:
        rc, out, err = _run(px.base, _domain())
    finally:
        px.close()
    assert rc == 1, (rc, out, err)
    assert "FAIL login 200 (" in err and "no Set-Cookie: quire_session" in err, err
    assert px.token and len(px.token) >= 40, px.token
    assert px.token not in out + err, err
    assert '"token":"<redacted>"' in err and "X-Copy: quire_session=<redacted>; Path=/" in err, err
    assert "ok   cleanup: delete user 200" in out, out
    _gone(px.user_id)


def test_sigterm_midway_still_deletes_the_user():
    held = threading.Event()
    release = threading.Event()

    def hook(h, method, path, status, rh, rb):
        if method == "GET" and re.match(r"^/posts/[0-9a-f-]{36}$", path) and not held.is_set():
            held.set()
            release.wait(30)

    px = _Proxy(hook)
    try:
        p = subprocess.Popen(["dash", SMOKE, px.base], env=_env(_domain()),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert held.wait(60), "the smoke test never reached GET /posts/:id"
            p.send_signal(signal.SIGTERM)
            release.set()
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    finally:
        release.set()
        px.close()
    assert p.returncode == 143, (p.returncode, out, err)
    assert "ok   get post" not in out, out
    assert out.splitlines()[-1].startswith("ok   cleanup: delete user 200 ("), out
    assert "smoke: FAILED" in err, err
    _gone(px.user_id)


def test_quire_read_after_is_sent_back():
    # A client that gets Quire-Read-After from a write sends it back with
    # what follows (read-your-writes over several app hosts). The proxy
    # hands out positions of its own on every write and keeps them from
    # the server.
    n = [0]

    def hook(h, method, path, status, rh, rb):
        if method in ("POST", "PATCH", "DELETE"):
            n[0] += 1
            rh = [(k, v) for k, v in rh if k.lower() != "quire-read-after"]
            rh.append(("Quire-Read-After", "t73/pos-%d" % n[0]))
            return status, rh, rb
    px = _Proxy(hook, strip_read_after=True)
    try:
        rc, out, err = _run(px.base, _domain())
    finally:
        px.close()
    assert rc == 0, (rc, out, err)
    assert px.seen[2][:2] == ("POST", "/auth/signup") and px.seen[2][2] is None, px.seen[:3]
    want = None
    for method, path, got in px.seen:
        assert got == ([want] if want else None), (method, path, got, px.seen)
        if method in ("POST", "PATCH", "DELETE"):
            want = "t73/pos-%d" % (int(want.rsplit("-", 1)[1]) + 1 if want else 1)
    assert n[0] >= 6, n
    _gone(px.user_id)
