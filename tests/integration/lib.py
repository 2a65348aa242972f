"""Helpers for the integration tests: HTTP against the real stack, and
control of the stack's processes through scripts/stack."""

import http.client
import json
import os
import random
import socket
import subprocess
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_DIR = os.environ.get("QUIRE_RUN_DIR", os.path.join(ROOT, "build", "run"))


def _load_env():
    env = {}
    with open(os.path.join(RUN_DIR, "stack.env")) as f:
        for line in f:
            line = line.strip()
            if line and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


ENV = _load_env()
HOST = "127.0.0.1"
PORT = int(ENV["QUIRE_HTTP_PORT"])


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body
        self._json = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode("utf-8"))
        return self._json

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


def request(method, path, body=None, headers=None, json_body=None, timeout=15):
    """One HTTP/1.1 request on a fresh connection. body is bytes or str;
    json_body is serialised with Content-Type application/json."""
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.getheaders(), data)
    finally:
        conn.close()


def get(path, **kw):
    return request("GET", path, **kw)


def post(path, json_body=None, **kw):
    return request("POST", path, json_body=json_body, **kw)


def stack(*args, check=True, env_extra=None):
    """Runs scripts/stack with the test stack's environment."""
    env = dict(os.environ)
    env.update(env_extra or {})
    env["QUIRE_RUN_DIR"] = RUN_DIR
    for k in ("QUIRE_HTTP_PORT", "QUIRE_PG_PRIMARY_PORT", "QUIRE_PG_REPLICA_PORT",
              "QUIRE_WEB", "QUIRE_WORKERS"):
        env[k] = ENV[k]
    # A stack brought up again keeps its mail setting (scripts/lib/mail.sh).
    for k in ("QUIRE_MAIL_SINK", "QUIRE_SMTP_PORT"):
        if k in ENV:
            env.setdefault(k, ENV[k])
    p = subprocess.run([os.path.join(ROOT, "scripts", "stack")] + list(args),
                       env=env, capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("scripts/stack %s failed: %s%s" % (" ".join(args), p.stdout, p.stderr))
    return p.stdout


def psql(server, sql):
    """Runs SQL on primary or replica; returns stdout (unaligned, tuples only)."""
    return stack("psql", server, "-XAtq", "-c", sql)


def wait_for(pred, timeout=20.0, interval=0.1, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # a server may be restarting
            last = e
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def unique_email(tag="t"):
    return "%s-%s@example.com" % (tag, uuid.uuid4().hex[:12])


def check_envelope_error(r, status, code):
    assert r.status == status, "want %d, got %r" % (status, r)
    j = r.json
    assert j.get("success") is False, j
    assert j.get("error") == code, j
    assert isinstance(j.get("message"), str) and j["message"], j
    if code == "VALIDATION_ERROR":
        assert isinstance(j.get("details"), list) and j["details"], j
    else:
        assert "details" not in j, j
    assert r.header("Content-Type") == "application/json; charset=utf-8", r.headers
    assert r.header("X-Request-Id"), r.headers
    return j


def log_lines(rid, timeout=5):
    """The app's request lines for request id rid, once written: workers
    write their buffered lines when they go idle."""
    def found():
        return [l for l in app_log().splitlines() if "reqid=%s " % rid in l]
    return wait_for(found, timeout=timeout, what="log line of %s" % rid)


def app_log():
    with open(os.path.join(RUN_DIR, "app.log"), errors="replace") as f:
        return f.read()


def addr():
    """A random client address: signup/login are rate limited per address,
    and the test stack trusts 127.0.0.1's X-Forwarded-For."""
    if random.random() < 0.5:
        return "2001:db8:%x:%x::%x" % (random.randint(1, 0xffff), random.randint(1, 0xffff),
                                       random.randint(1, 0xffff))
    return "10.%d.%d.%d" % (random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))


def hdr(extra=None, ip=None):
    """Headers with a client address of our own (ip, or a random one)."""
    h = {"X-Forwarded-For": ip or addr()}
    h.update(extra or {})
    return h


def bearer(tok):
    return {"Authorization": "Bearer " + tok} if tok else {}


def eventually(fn, timeout=5):
    """Calls fn until it returns a true value without raising
    AssertionError; the last attempt's failure propagates."""
    end = time.time() + timeout
    while True:
        try:
            v = fn()
            if v:
                return v
            if time.time() >= end:
                raise AssertionError("eventually: %r" % (v,))
        except AssertionError:
            if time.time() >= end:
                raise
        time.sleep(0.05)


def make_admin(tag="admin"):
    """Creates an admin with quirectl create-admin and logs in; returns
    (token, user). create-admin only writes rows, so it runs as the app's
    role (QUIRE_APP_DB_URL), which is all an operator needs to give it."""
    email = unique_email(tag)
    ctl = os.path.join(ROOT, "build", "quirectl")
    for attempt in range(60):
        # build/quirectl may be being relinked by a concurrent `make`.
        try:
            p = subprocess.run([ctl, "create-admin", "--email", email, "--name", "Root"],
                               input="admin-password-1\n", capture_output=True, text=True,
                               env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_APP_DB_URL"]), timeout=30)
            break
        except OSError:
            if attempt == 59:
                raise
            time.sleep(0.5)
    assert p.returncode == 0, p.stderr
    r = post("/auth/login", json_body={"email": email, "password": "admin-password-1"}, headers=hdr())
    assert r.status == 200, r
    assert r.json["data"]["user"]["role"] == "admin"
    return r.json["data"]["token"], r.json["data"]["user"]


def free_port(addr="127.0.0.1"):
    """A TCP port free on addr at the moment (IPv4 or IPv6)."""
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    try:
        s.bind((addr, 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---- mail ------------------------------------------------------------------
# The stack's mail worker delivers into QUIRE_MAIL_DIR (stack.env): the
# file: transport's folder, or with QUIRE_MAIL_SINK=1 the folder the
# recording SMTP server (tests/smtp_sink.py) writes. Either way one .eml
# file per delivered message.

MAIL_DIR = ENV.get("QUIRE_MAIL_DIR") or os.path.join(RUN_DIR, "mail")


def _mail_read(path):
    import email
    import email.policy
    with open(path, "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    m.path = path
    m.mtime = os.stat(path).st_mtime
    return m


def mail_recipients(m):
    """The addresses of a parsed message's To header, lower-cased."""
    out = []
    for h in m.get_all("To", []):
        out += [a.addr_spec.lower() for a in getattr(h, "addresses", ())]
    return out


def mail_all(recipient=None, after=None, folder=None):
    """Every message delivered so far, oldest first, each an
    email.message.EmailMessage (policy email.policy.default: m["Subject"]
    and m["To"] are decoded, m.get_content() is the decoded body text),
    with m.path (its file) and m.mtime. recipient: only messages To that
    address (case-insensitive). after: only messages written at or after
    that time.time() (file times are coarse: a message written up to 10 ms
    earlier counts too). folder: another folder than QUIRE_MAIL_DIR."""
    folder = folder or MAIL_DIR
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".eml") and not n.startswith(".")]
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        try:
            m = _mail_read(os.path.join(folder, n))
        except FileNotFoundError:
            continue
        if after is not None and m.mtime < after - 0.01:
            continue
        if recipient is not None and recipient.lower() not in mail_recipients(m):
            continue
        out.append(m)
    out.sort(key=lambda m: (m.mtime, m.path))
    return out


def mail_wait(recipient, timeout=15, after=None, folder=None):
    """Waits until a message to recipient has been delivered (at or after
    `after`, a time.time(), when given) and returns the newest such
    message (see mail_all). Raises AssertionError after timeout seconds.
    Typical use:
        t = time.time(); post("/auth/password/forgot", ...)
        m = mail_wait(email, after=t)
        link = m.get_content()   # the decoded text body"""
    found = wait_for(lambda: mail_all(recipient, after, folder), timeout=timeout,
                     interval=0.1, what="mail to %s" % recipient)
    return found[-1]
