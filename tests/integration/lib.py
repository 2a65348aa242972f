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


def session_cookie(r):
    """The response's Set-Cookie for quire_session, or None. A write's
    answer also sets quire_pos (the read position), which says nothing
    about the session."""
    for v in r.header_all("Set-Cookie"):
        if v.startswith("quire_session="):
            return v
    return None


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
def worker_pids():
    """The pids of the app's workers, as scripts/stack status names them."""
    import re
    m = re.search(r"workers ([0-9 ]+)\)", stack("status"))
    assert m, "no workers in scripts/stack status"
    return set(m.group(1).split())


def me_burst(headers, n=48, tag=None):
    """n concurrent GET /auth/me with these headers, each with its own
    request id; returns [(status, pid, pool)] from the requests' log lines."""
    import concurrent.futures
    import re
    tag = tag or uuid.uuid4().hex[:12]

    def one(i):
        rid = "wk-%s-%d" % (tag, i)
        return get("/auth/me", headers=dict(headers, **{"X-Request-Id": rid})).status, rid
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        res = list(ex.map(one, range(n)))
    out = []
    for status, rid in res:
        line = log_lines(rid)[0]
        out.append((status, re.search(r" pid=(\d+) ", line).group(1), line.rsplit("pool=", 1)[1].strip()))
    return out


def warm_every_worker(headers, timeout=30):
    """Bursts of GET /auth/me (all 200) until every worker has answered
    one from its session cache (pool=-, no database)."""
    pids = worker_pids()
    hits = set()
    end = time.time() + timeout
    while not pids <= hits:
        assert time.time() < end, "cache hits on every worker %s: only %s" % (pids, hits)
        for status, pid, pool in me_burst(headers):
            assert status == 200, (status, pid)
            if pool == "-":
                hits.add(pid)


def on_every_worker(headers, want, timeout=30):
    """Bursts of GET /auth/me until every worker has answered; every
    answer, from the first, must be `want`. Returns {pid: answers}."""
    pids = worker_pids()
    seen = {}
    end = time.time() + timeout
    while not pids <= set(seen):
        assert time.time() < end, "answers from every worker %s: only %s" % (pids, seen)
        for status, pid, _ in me_burst(headers):
            assert status == want, "worker %s answered %d, want %d" % (pid, status, want)
            seen[pid] = seen.get(pid, 0) + 1
    return seen


def log_served(rids, timeout=10):
    """{rid: (pid, pool)} from the app's request lines of these request ids,
    once all are written."""
    import re
    want = set(rids)
    out = {}

    def scan():
        for line in app_log().splitlines():
            m = re.search(r" pid=(\d+) .*reqid=(\S+) ", line)
            if m and m.group(2) in want and " route=" in line:
                out[m.group(2)] = (m.group(1), line.rsplit("pool=", 1)[1].strip())
        return want <= set(out)
    wait_for(scan, timeout=timeout, interval=0.2, what="log lines of %d requests" % len(want))
    return out


def revoke_under_load(clients, action, before=1.2, after=1.2, threads=6):
    """Keeps GET /auth/me going for each of `clients` (header dicts) from
    `threads` threads, so every worker keeps caching their sessions; runs
    action() after `before` seconds and goes on for `after` more. Returns
    (warm, late): the requests answered before action() started, and those
    sent after it returned, each as (client index, status, pid, pool)."""
    import threading
    tag = uuid.uuid4().hex[:10]
    rec = []
    stop = threading.Event()
    lock = threading.Lock()
    mark = {}

    def loop(k):
        i = 0
        while not stop.is_set():
            c = (k + i) % len(clients)
            rid = "rl-%s-%d-%d" % (tag, k, i)
            i += 1
            t0 = time.monotonic()
            st = get("/auth/me", headers=dict(clients[c], **{"X-Request-Id": rid})).status
            with lock:
                rec.append((t0, time.monotonic(), c, st, rid))
    ts = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    try:
        time.sleep(before)
        mark["start"] = time.monotonic()
        action()
        mark["done"] = time.monotonic()
        time.sleep(after)
    finally:
        stop.set()
        for t in ts:
            t.join()
    served = log_served([r[4] for r in rec])
    warm = [(c, st) + served[rid] for t0, t1, c, st, rid in rec if t1 < mark["start"]]
    late = [(c, st) + served[rid] for t0, t1, c, st, rid in rec if t0 > mark["done"]]
    return warm, late


def assert_revoked_everywhere(clients, action, revoked, kept=()):
    """action() must end the sessions of clients[i] for i in `revoked`:
    before it at least two workers answered them from their caches (so a
    worker that missed the revocation would still vouch for them), at
    least two of those answered after it, and every request sent after it
    returned, on any worker, is 401. Clients in `kept`
    stay 200 throughout."""
    pids = worker_pids()
    warm, late = revoke_under_load(clients, action)
    for i in revoked:
        hits = {pid for c, st, pid, pool in warm if c == i and pool == "-"}
        # Under load (ASan, nginx's kept connections) a worker may get no
        # cache hit in the warm-up; two workers that vouched from their
        # caches still show the revocation crossing workers.
        assert len(hits & pids) >= min(2, len(pids)), \
            "client %d: cache hits before only on %s of %s" % (i, hits, pids)
        got = [(st, pid) for c, st, pid, pool in late if c == i]
        bad = [(st, pid) for st, pid in got if st != 401]
        assert got and not bad, "client %d: %d of %d answers after were not 401, first %s" % (
            i, len(bad), len(got), bad[:5])
        # The workers that vouched from their caches must refuse it now:
        # at least two of them answered after (nginx's kept connections
        # may leave a worker without a request in the window).
        after = {pid for _, pid in got}
        assert len(hits & pids & after) >= min(2, len(pids)), \
            "client %d: of the workers with cache hits before (%s), only %s answered after" % (
                i, hits & pids, hits & pids & after)
    for i in kept:
        assert all(st == 200 for c, st, _, _ in warm + late if c == i), "kept client %d refused" % i
