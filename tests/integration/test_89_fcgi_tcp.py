"""FastCGI over TCP, straight to the app: the peer allow-list
(FCGI_WEB_SERVER_ADDRS) and the deadline for reading a request
(QUIRE_REQUEST_TIMEOUT). Each test starts its own quire under spawn-fcgi
on a free loopback port, with the stack's databases, and stops it by PID."""

import os
import re
import select
import socket
import subprocess
import threading
import time

from fcgi import PARAMS, STDIN, begin, params, read_response, record, request
from lib import ENV, ROOT, RUN_DIR, free_port, wait_for

# QUIRE_BIN, as for scripts/stack: e.g. build-asan/quire.
QUIRE = os.environ.get("QUIRE_BIN") or os.path.join(ROOT, "build", "quire")
V4, V6 = socket.AF_INET, socket.AF_INET6


class Quire:
    """quire --workers N under spawn-fcgi on addr (TCP) or a unix socket
    path; stderr goes to a log file read by log()."""

    n = 0

    def __init__(self, addr=None, sock=None, env=None, workers=2):
        self.addr, self.sock = addr, sock
        e = {"PATH": os.environ["PATH"], "QUIRE_PRIMARY_URL": ENV["QUIRE_PRIMARY_URL"],
             "QUIRE_REPLICA_URL": ENV["QUIRE_REPLICA_URL"], "QUIRE_LOG_LEVEL": "info"}
        e.update(env or {})
        if sock:
            where = ["-s", sock]
        else:
            self.port = free_port(addr)
            where = ["-a", addr, "-p", str(self.port)]
        Quire.n += 1
        self.logpath = os.path.join(RUN_DIR, "test_89.%d.%d.log" % (os.getpid(), Quire.n))
        self.logf = open(self.logpath, "wb")
        self.p = subprocess.Popen(["spawn-fcgi", "-n"] + where + ["--", QUIRE, "--workers", str(workers)],
                                  env=e, stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT)
        # spawn-fcgi listens before it starts quire: once quire has
        # started its workers, connections are queued, not refused.
        try:
            wait_for(lambda: "supervising" in self.log(), timeout=20, what="quire started")
        except BaseException:
            self.stop()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()
        if self.sock:
            try:
                os.unlink(self.sock)
            except OSError:
                pass

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self, part, at_least=1):
        """The log lines holding `part', once there are at_least of them
        (a worker logs after it has closed the connection)."""
        wait_for(lambda: self.log().count(part) >= at_least, timeout=10,
                 what="%d log lines with %r" % (at_least, part))
        return [ln for ln in self.log().splitlines() if part in ln]

    def connect(self, bind=None, timeout=10):
        """A client socket connected to this quire, bound to `bind'."""
        if self.sock:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            dst = self.sock
        else:
            s = socket.socket(V6 if ":" in (bind or self.addr) else V4)
            dst = (self.addr, self.port)
            if self.addr == "::" and bind and ":" not in bind:
                dst = ("127.0.0.1", self.port)
            elif self.addr == "::":
                dst = ("::1", self.port)
        s.settimeout(timeout)
        if bind:
            s.bind((bind, 0))
        s.connect(dst)
        return s

    def get(self, path, bind=None, timeout=10):
        """A FastCGI GET from `bind'; its stdout, or None when the
        connection was closed (or reset) without an answer."""
        s = self.connect(bind, timeout)
        try:
            s.sendall(request(1, path))
            return read_response(s, 1)
        except (ConnectionResetError, BrokenPipeError):
            return None
        finally:
            s.close()

    def ready(self, bind=None):
        wait_for(lambda: (self.get("/health", bind) or b"").startswith(b"Status: 200"),
                 timeout=20, what="quire under spawn-fcgi serves /health")

    def metric(self, name, bind=None):
        out = self.get("/metrics", bind)
        assert out is not None and out.startswith(b"Status: 200"), out
        m = re.search(rb"^%s (\d+)$" % name.encode(), out, re.M)
        assert m, "no %s in /metrics" % name
        return int(m.group(1))

    def metric_is(self, name, want, bind=None):
        """Waits for a counter to reach `want' (a worker may count just
        after the peer saw its connection close) and checks it stays."""
        wait_for(lambda: self.metric(name, bind) >= want, timeout=5, what="%s >= %d" % (name, want))
        got = self.metric(name, bind)
        assert got == want, (name, got, want)


def _refused(q, bind):
    """Connects from `bind', sends a whole request and expects the
    connection closed with nothing served, promptly."""
    t0 = time.monotonic()
    out = q.get("/health", bind)
    took = time.monotonic() - t0
    assert out is None, (bind, out[:100] if out else out)
    assert took < 3, took


def test_unlisted_ipv4_peer_is_refused_listed_one_served():
    with Quire("127.0.0.1", env={"FCGI_WEB_SERVER_ADDRS": "127.0.0.2"}) as q:
        q.ready(bind="127.0.0.2")
        before = q.metric("quire_fcgi_peers_refused_total", bind="127.0.0.2")
        for _ in range(3):
            _refused(q, "127.0.0.1")
        # The refusals are counted (across both workers: shared memory)...
        q.metric_is("quire_fcgi_peers_refused_total", before + 3, bind="127.0.0.2")
        # ...the listed peer is still served...
        assert q.get("/health", "127.0.0.2").startswith(b"Status: 200")
        # ...and logged, at most a line a second per worker, naming the peer.
        lines = q.log_lines("not in FCGI_WEB_SERVER_ADDRS")
        assert 1 <= len(lines) <= 2, lines
        assert all("peer=127.0.0.1" in ln and re.search(r"refused=\d+", ln) for ln in lines), lines
        # A second later the next refusal is logged again, with the
        # count of those not logged before it.
        time.sleep(1.1)
        for _ in range(2):
            _refused(q, "127.0.0.1")
        lines2 = q.log_lines("not in FCGI_WEB_SERVER_ADDRS", len(lines) + 1)
        total = sum(int(re.search(r"refused=(\d+)", ln).group(1)) for ln in lines2)
        assert len(lines2) <= total <= 5, lines2


def test_spoofed_remote_addr_from_unlisted_peer_gets_nothing():
    """The point of the list: an unlisted host must not reach the app at
    all, whatever REMOTE_ADDR it claims."""
    with Quire("127.0.0.1", env={"FCGI_WEB_SERVER_ADDRS": "127.0.0.2"}) as q:
        q.ready(bind="127.0.0.2")
        s = q.connect("127.0.0.1")
        try:
            s.sendall(request(1, "/auth/login", method="POST", stdin=b'{"email":"a@b.co","password":"x"}',
                              extra={"REMOTE_ADDR": "127.0.0.2", "CONTENT_TYPE": "application/json",
                                     "CONTENT_LENGTH": "34"}))
            try:
                out = read_response(s, 1)
            except ConnectionResetError:
                out = None
        finally:
            s.close()
        assert out is None, out


def test_unix_socket_peer_is_not_checked():
    sock = os.path.join(RUN_DIR, "test_89.%d.sock" % os.getpid())
    with Quire(sock=sock, env={"FCGI_WEB_SERVER_ADDRS": "127.0.0.2"}) as q:
        q.ready()
        assert q.get("/health").startswith(b"Status: 200")
        assert q.metric("quire_fcgi_peers_refused_total") == 0


def test_ipv6_peers():
    with Quire("::1", env={"FCGI_WEB_SERVER_ADDRS": "::1"}) as q:
        q.ready(bind="::1")
        assert q.get("/health", "::1").startswith(b"Status: 200")
        assert q.metric("quire_fcgi_peers_refused_total", bind="::1") == 0
    # Listing only the IPv4 loopback does not let the IPv6 one in.
    with Quire("::1", env={"FCGI_WEB_SERVER_ADDRS": "127.0.0.1"}) as q:
        _refused(q, "::1")
        _refused(q, "::1")
        assert q.log_lines("peer=::1")
    # On a dual-stack socket an IPv4 peer arrives as ::ffff:a.b.c.d and
    # matches its IPv4 entry; others are refused.
    with Quire("::", env={"FCGI_WEB_SERVER_ADDRS": "127.0.0.2"}) as q:
        q.ready(bind="127.0.0.2")
        assert q.get("/health", "127.0.0.2").startswith(b"Status: 200")
        _refused(q, "127.0.0.1")
        _refused(q, "::1")
        q.metric_is("quire_fcgi_peers_refused_total", 2, bind="127.0.0.2")
        assert q.log_lines("peer=127.0.0.1")


def test_bad_settings_stop_the_start():
    for name, value, says in (("FCGI_WEB_SERVER_ADDRS", "10.0.0.5, localhost", '"localhost"'),
                              ("FCGI_WEB_SERVER_ADDRS", "10.1", '"10.1"'),
                              ("FCGI_WEB_SERVER_ADDRS", ",", "lists no address"),
                              ("QUIRE_REQUEST_TIMEOUT", "0", "QUIRE_REQUEST_TIMEOUT"),
                              ("QUIRE_REQUEST_TIMEOUT", "601", "QUIRE_REQUEST_TIMEOUT")):
        env = {"PATH": os.environ["PATH"], "QUIRE_PRIMARY_URL": ENV["QUIRE_PRIMARY_URL"], name: value}
        p = subprocess.run([QUIRE], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        err = p.stderr.decode()
        assert p.returncode == 2, (name, value, p.returncode, err)
        assert name in err and says in err, (name, value, err)


def _closed(s, wait):
    """True once the peer has closed s (end of file or reset), waiting up
    to `wait' seconds."""
    r, _, _ = select.select([s], [], [], wait)
    if not r:
        return False
    try:
        return s.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def _drip(s, data, every=1.0, limit=30):
    """Sends data a byte every `every' seconds until the peer closes s.
    Returns how long that took, or None if it never did."""
    t0 = time.monotonic()
    for i in range(len(data)):
        try:
            s.send(data[i:i + 1])
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
        if _closed(s, every):
            return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            break
    return None


class Others(threading.Thread):
    """Asks for /health on fresh connections until stopped; counts the answers."""

    def __init__(self, q):
        super().__init__()
        self.q, self.ok, self.bad, self.stop = q, 0, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            out = self.q.get("/health", timeout=5)
            if out is not None and out.startswith(b"Status: 200"):
                self.ok += 1
            else:
                self.bad += 1
            time.sleep(0.2)


DEADLINE = 3
SLACK = 2.0


def test_dripping_peers_are_cut_at_the_deadline():
    with Quire("127.0.0.1", env={"QUIRE_REQUEST_TIMEOUT": str(DEADLINE)}) as q:
        q.ready()
        before = q.metric("quire_fcgi_deadline_total")
        others = Others(q)
        others.start()
        try:
            # The PARAMS a byte a second: FCGX_Accept_r is reading.
            s = q.connect(timeout=40)
            s.sendall(begin(1))
            took = _drip(s, record(PARAMS, 1, params({"REQUEST_METHOD": "GET", "PATH_INFO": "/health"}))
                         + record(PARAMS, 1, b"") + record(STDIN, 1, b""))
            s.close()
            assert took is not None, "the dripping peer was never cut"
            assert DEADLINE - 0.5 <= took <= DEADLINE + SLACK, took
            # The body a byte a second, the rest of the request whole:
            # the app is reading the body.
            body = b'{"email":"drip@example.com","password":"password1"}'
            s = q.connect(timeout=40)
            s.sendall(request(1, "/auth/login", method="POST", stdin_end=False,
                              extra={"CONTENT_TYPE": "application/json",
                                     "CONTENT_LENGTH": str(len(body))}))
            took = _drip(s, record(STDIN, 1, body) + record(STDIN, 1, b""))
            s.close()
            assert took is not None and DEADLINE - 0.5 <= took <= DEADLINE + SLACK, took
            # A peer that connects and says nothing.
            s = q.connect(timeout=40)
            t0 = time.monotonic()
            assert _closed(s, 30), "the silent peer was never cut"
            took = time.monotonic() - t0
            s.close()
            assert DEADLINE - 0.5 <= took <= DEADLINE + SLACK, took
        finally:
            others.stop.set()
            others.join()
        # The other worker served all along.
        assert others.ok >= 10 and others.bad == 0, (others.ok, others.bad)
        q.metric_is("quire_fcgi_deadline_total", before + 3)
        assert len(q.log_lines("not read within QUIRE_REQUEST_TIMEOUT", 3)) == 3, q.log()
        # Both workers serve again.
        for _ in range(6):
            assert q.get("/health").startswith(b"Status: 200")


def test_unread_body_does_not_hold_a_worker():
    """An answer that needs no body (here 401: the token is checked
    first) while the peer keeps sending one: the peer gets its answer
    and an end of file at once, and the worker lets go at the deadline
    (libfcgi's lingering close alone read on for as long as bytes came)."""
    with Quire("127.0.0.1", env={"QUIRE_REQUEST_TIMEOUT": str(DEADLINE)}) as q:
        q.ready()
        socks = []
        try:
            for _ in range(2):
                s = q.connect(timeout=40)
                s.sendall(request(1, "/posts", method="POST", stdin_end=False,
                                  extra={"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "100000",
                                         "HTTP_AUTHORIZATION": "Bearer " + "x" * 43}))
                out = read_response(s, 1)
                assert out is not None and out.startswith(b"Status: 401"), out
                socks.append(s)
            # Both workers are now lingering; keep feeding them.
            t0 = time.monotonic()
            gone = [None, None]
            while None in gone and time.monotonic() - t0 < 20:
                for i, s in enumerate(socks):
                    if gone[i] is None:
                        try:
                            s.send(b"x" * 100)
                        except (ConnectionResetError, BrokenPipeError):
                            gone[i] = time.monotonic() - t0
                time.sleep(0.5)
            assert None not in gone, "a worker kept reading an unread body"
            assert max(gone) <= DEADLINE + SLACK, gone
            t1 = time.monotonic()
            assert q.get("/health").startswith(b"Status: 200")
            assert time.monotonic() - t1 < 2
            q.metric_is("quire_fcgi_deadline_total", 2)
        finally:
            for s in socks:
                s.close()


def test_slow_but_whole_requests_within_the_deadline_are_served():
    with Quire("127.0.0.1", env={"QUIRE_REQUEST_TIMEOUT": str(DEADLINE)}) as q:
        q.ready()
        before = q.metric("quire_fcgi_deadline_total")
        # A GET in pieces over about 1.5 s.
        data = request(1, "/health")
        s = q.connect()
        try:
            for i in range(0, len(data), len(data) // 3 + 1):
                s.sendall(data[i:i + len(data) // 3 + 1])
                time.sleep(0.5)
            out = read_response(s, 1)
            assert out is not None and out.startswith(b"Status: 200"), out
        finally:
            s.close()
        # A POST whose body comes in pieces over about 2 s: read and
        # answered (401: no such user), not cut.
        body = b'{"email":"slow-%d@example.com","password":"password1"}' % os.getpid()
        s = q.connect()
        try:
            s.sendall(request(1, "/auth/login", method="POST", stdin_end=False,
                              extra={"CONTENT_TYPE": "application/json",
                                     "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "198.51.100.89"}))
            rest = record(STDIN, 1, body) + record(STDIN, 1, b"")
            for i in range(4):
                time.sleep(0.5)
                s.sendall(rest[i * len(rest) // 4:(i + 1) * len(rest) // 4])
            out = read_response(s, 1)
            assert out is not None and out.startswith(b"Status: 401"), out
        finally:
            s.close()
        # A kept connection idle for longer than the deadline between two
        # requests: the idle wait is not the request's.
        s = q.connect(timeout=20)
        try:
            s.sendall(request(1, "/health", keep=True))
            assert read_response(s, 1).startswith(b"Status: 200")
            time.sleep(DEADLINE + 1)
            s.sendall(request(2, "/health", keep=True))
            out = read_response(s, 2)
            assert out is not None and out.startswith(b"Status: 200"), out
            # A kept connection's next request, dripped, is cut too.
            s.sendall(begin(3, keep=True))
            took = _drip(s, record(PARAMS, 3, params({"REQUEST_METHOD": "GET", "PATH_INFO": "/health"}))
                         + record(PARAMS, 3, b"") + record(STDIN, 3, b""))
            assert took is not None and DEADLINE - 0.5 <= took <= DEADLINE + SLACK, took
        finally:
            s.close()
        q.metric_is("quire_fcgi_deadline_total", before + 1)
