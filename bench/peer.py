"""The peer in the bench (scripts/bench --peer; bench/README.md, "Side by
side with the peer").

The peer is ../shared/peer: the design quire replaces (Bun + Elysia +
Better-Auth + Drizzle + node-postgres, one process). bench.py copies it
into the run dir, installs it from its package-lock.json, gives it its own
database on the bench's primary (the replica follows by streaming), seeds
it through its API with the data shape quire gets, and runs every scenario
on quire and on the peer in turn.
"""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

PEER_DB = "quire_peer"
# How long the peer may take to install its schema (drizzle-kit push) and listen.
START_TIMEOUT = 240


class PeerError(Exception):
    pass


def _log(msg):
    import sys
    print("bench: peer: " + msg, file=sys.stderr, flush=True)


class Peer:
    """The peer process and its place; duck-types what bench.Meter and
    bench.wrk_cmd use of bench.Stack (base, work, groups, worker_pids,
    web_pid)."""

    is_peer = True

    def __init__(self, a, stack, psql_bin):
        self.psql_bin = psql_bin
        self.src = a.peer_src
        self.dir = os.path.join(stack.run_dir, "peer")
        self.work = os.path.join(stack.run_dir, "bench-peer")
        self.port = a.peer_port
        self.base = "http://127.0.0.1:%d" % self.port
        self.stack = stack
        self.run_dir = stack.run_dir
        self.proc = None
        self.pid = None
        self.log_path = os.path.join(self.dir, "peer.log")
        self.url_primary = "postgres://postgres@127.0.0.1:%d/%s" % (stack.pg_primary, PEER_DB)
        self.url_replica = "postgres://postgres@127.0.0.1:%d/%s" % (stack.pg_replica, PEER_DB)

    # ---------------------------------------------------------- install

    def install(self):
        """Copies the peer's sources into the run dir (keeping an
        installed node_modules whose package-lock.json is unchanged) and
        installs it with `npm ci`; the bun binary comes from the npm
        package `bun`, whose postinstall start.sh runs if npm did not."""
        if not os.path.isfile(os.path.join(self.src, "package-lock.json")):
            raise PeerError("no peer at %s (set QUIRE_BENCH_PEER_SRC or --peer-src)" % self.src)
        lock_new = _read(os.path.join(self.src, "package-lock.json"))
        lock_old = _read(os.path.join(self.dir, "package-lock.json"))
        keep = lock_old == lock_new and os.path.isdir(os.path.join(self.dir, "node_modules"))
        if os.path.isdir(self.dir):
            for name in os.listdir(self.dir):
                if keep and name == "node_modules":
                    continue
                p = os.path.join(self.dir, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
        os.makedirs(self.dir, exist_ok=True)
        for name in os.listdir(self.src):
            if name == "node_modules":
                continue
            s, d = os.path.join(self.src, name), os.path.join(self.dir, name)
            if os.path.isdir(s):
                shutil.copytree(s, d)
            else:
                shutil.copy2(s, d)
        # ../shared may be read-only: the copy must be writable (npm, logs).
        for base, dirs, files in os.walk(self.dir):
            if "node_modules" in dirs and base == self.dir:
                dirs.remove("node_modules")
            for n in dirs + files:
                p = os.path.join(base, n)
                if not os.path.islink(p):
                    os.chmod(p, os.stat(p).st_mode | 0o200)
        os.chmod(self.dir, os.stat(self.dir).st_mode | 0o200)
        if not keep:
            _log("npm ci in %s" % self.dir)
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=self.dir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise PeerError("npm ci failed (exit %d):\n%s" % (r.returncode, r.stdout[-2000:]))
        else:
            _log("node_modules kept (package-lock.json unchanged)")
        bun = os.path.join(self.dir, "node_modules", ".bin", "bun")
        if subprocess.run([bun, "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["node", "install.js"], cwd=os.path.join(self.dir, "node_modules", "bun"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run([bun, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise PeerError("bun does not run after npm ci: %s" % r.stdout[-500:])
        self.bun_version = r.stdout.strip()
        return self.bun_version

    # ---------------------------------------------------------- database

    def psql(self, sql, db=PEER_DB, port=None):
        r = subprocess.run([self.psql_bin, "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1",
                            "-p", str(port or self.stack.pg_primary), "-U", "postgres", "-d", db, "-c", sql],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise PeerError("psql %s: %s" % (db, r.stdout.strip()))
        return r.stdout.strip()

    def create_db(self):
        self.psql("DROP DATABASE IF EXISTS %s" % PEER_DB, db="postgres")
        self.psql("CREATE DATABASE %s" % PEER_DB, db="postgres")

    # ---------------------------------------------------------- process

    def start(self):
        import socket
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise PeerError("port %d is in use by another process; choose another "
                                "(QUIRE_BENCH_PEER_PORT)" % self.port)
        env = dict(os.environ)
        env.update({
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "QUIRE_PRIMARY_URL": self.url_primary,
            "QUIRE_REPLICA_URL": self.url_replica,
            # plain HTTP, like the bench's quire
            "QUIRE_COOKIE_SECURE": "0",
            "NODE_ENV": "production",
        })
        for k in ("PEER_PASSWORD_HASH",):
            env.pop(k, None)
        logf = open(self.log_path, "a")
        # start.sh execs bun: the child's pid is the peer's.
        self.proc = subprocess.Popen([os.path.join(self.dir, "start.sh")], cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        self.pid = self.proc.pid
        t0 = time.monotonic()
        while time.monotonic() - t0 < START_TIMEOUT:
            if self.proc.poll() is not None:
                raise PeerError("the peer exited (status %d); see %s:\n%s"
                                % (self.proc.returncode, self.log_path, _read(self.log_path)[-2000:]))
            try:
                st, _ = self.call("GET", "/health")
                if st == 200:
                    _log("up on %s (pid %d, %s) after %.1f s"
                         % (self.base, self.pid, _comm(self.pid), time.monotonic() - t0))
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise PeerError("the peer did not answer /health within %d s; see %s" % (START_TIMEOUT, self.log_path))

    def stop(self):
        """By PID: TERM, up to 10 s, then KILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        _log("stopped (pid %d)" % self.pid)
        self.proc = None

    # What bench.Meter follows: the one Bun process (and any child).
    def groups(self):
        return {"workers": [self.pid], "web": [], "postgres": self.stack.pg_pids()}

    def worker_pids(self):
        return [self.pid] if self.pid and self.proc is not None and self.proc.poll() is None else []

    def web_pid(self):
        return None

    # ---------------------------------------------------------- HTTP

    def call(self, method, path, body=None, token=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as f:
                raw = f.read()
                st = f.status
        except urllib.error.HTTPError as e:
            raw, st = e.read(), e.code
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = None
        return st, doc

    # ---------------------------------------------------------- seeding

    def seed(self, seeder, users, posts, pwhash, hash_mode, log):
        """The data shape quire gets (bench/seed.py through the peer's own
        API: the same users, posts and files), then, with hash_mode
        "quire", every user's stored Argon2id hash replaced by one made at
        quire's cost (bench/pwhash.c, libsodium), which Bun.password.verify
        accepts: the peer's code is unchanged and hashes at Bun's default
        cost, which no environment variable sets. Returns seeding info."""
        if os.path.isdir(self.work):
            shutil.rmtree(self.work)
        info = seeder.seed(self.base, self.work, users, posts, parallel=8, log=log)
        info["native_hash"] = _phc_params(self.psql(
            "SELECT password FROM accounts WHERE provider_id = 'credential' LIMIT 1"))
        if hash_mode == "quire":
            with open(os.path.join(self.work, "logins.txt")) as f:
                logins = [ln.split(" ", 1) for ln in f.read().splitlines() if ln]
            sets = []
            for email, password in logins:
                h = subprocess.run([pwhash, "hash", password], stdout=subprocess.PIPE, text=True,
                                   check=True).stdout.strip()
                sets.append("('%s', '%s')" % (email.replace("'", "''"), h))
            self.psql("UPDATE accounts a SET password = v.h FROM users u, (VALUES %s) AS v(email, h) "
                      "WHERE u.id = a.user_id AND u.email = v.email AND a.provider_id = 'credential'"
                      % ", ".join(sets))
            info["hash"] = _phc_params(self.psql(
                "SELECT password FROM accounts WHERE provider_id = 'credential' LIMIT 1"))
            # One login must still succeed with the rewritten hash.
            email, password = logins[0]
            st, doc = self.call("POST", "/auth/login", {"email": email, "password": password}, timeout=30)
            if st != 200:
                raise PeerError("login with the rewritten hash: HTTP %d %s" % (st, doc))
        else:
            info["hash"] = info["native_hash"]
        self.psql("ANALYZE")
        return info

    def supports(self, sc, work):
        """None when the peer implements scenario sc's request, else why not
        (its answer to one such request)."""
        probes = {
            "g": ("GET", "/auth/sessions", None, True),
            "h": ("POST", "/auth/password/forgot", {"email": "nobody@example.com"}, False),
        }
        if sc not in probes:
            return None
        method, path, body, auth = probes[sc]
        token = _read(os.path.join(work, "token-me.txt")).strip() if auth else None
        st, doc = self.call(method, path, body, token)
        if st == 404:
            return "peer: 404, not implemented (%s %s answers %s)" % (
                method, path, (doc or {}).get("error", "404"))
        if st >= 400:
            return "peer: %d on %s %s" % (st, method, path)
        return None


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _comm(pid):
    return _read("/proc/%d/comm" % pid).strip() or "?"


def _phc_params(phc):
    """'$argon2id$v=19$m=65536,t=2,p=1$...' -> 'argon2id m=64 MiB t=2 p=1'."""
    parts = phc.split("$")
    if len(parts) < 5:
        return phc[:20] + "…"
    kv = dict(x.split("=", 1) for x in parts[3].split(",") if "=" in x)
    m = int(kv.get("m", "0"))
    return "%s m=%s t=%s p=%s" % (parts[1], ("%g MiB" % (m / 1024.0)) if m else "?", kv.get("t", "?"),
                                  kv.get("p", "?"))
