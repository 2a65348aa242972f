#!/usr/bin/env python3
"""quire benchmark driver; run it through scripts/bench (see bench/README.md).

Brings up the README's stack (primary + streaming replica + quire workers +
lighttpd) in its own run directory and ports, seeds it through the API,
measures the machine's limit with pgbench on the replica, runs the wrk
scenarios, stops everything it started and appends the figures to
bench/results.md. With --soak N it runs one long load instead and follows
each worker's RSS.
"""
import argparse
import datetime
import fcntl
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.dont_write_bytecode = True
import seed as seeder  # noqa: E402
import peer as peerlib  # noqa: E402

NCPU = os.cpu_count() or 1
TCK = os.sysconf("SC_CLK_TCK")
KIB = 1024

# Each scenario: title, wrk script, the files its script takes, the
# pgbench limit it is compared with.
SCENARIOS = {
    "a": ("GET /posts/:id (anonymous, cycling over the seeded ids)", "post_get.lua", ["ids.txt"], "a"),
    "b": ("GET /posts?limit=20", "posts_list.lua", [], "b"),
    "c": ("GET /auth/me (Bearer)", "auth_me.lua", ["token-me.txt"], "a"),
    "d": ("POST /posts (Bearer)", "post_create.lua", ["token-create.txt"], "a"),
    "e": ("GET /health", "health.lua", [], "a"),
    # No pgbench limit: its cost is the Argon2id hash (auth.h's cost).
    "f": ("POST /auth/login (rate limit off)", "login.lua", ["logins.txt"], None),
    "g": ("GET /auth/sessions (Bearer)", "sessions.lua", ["token-me.txt"], "a"),
    # No pgbench limit: one statement that writes two rows and a NOTIFY.
    "h": ("POST /auth/password/forgot (rate limit off)", "forgot.lua", ["emails.txt"], None),
}
# The soak's default load (bench/wrk/mix.lua), run with the rate limit off.
SOAK_MIX = ("the mix per thousand requests a 450, b 200, c 120, d 50, e 100, g 60, h 18, f 2, "
            "with the rate limit off")
# Scenarios that write: run after the limits' second measurement.
WRITERS = ("d", "f", "h")
# Scenarios run with QUIRE_AUTH_RATE_LIMIT=0 (the app is restarted for them).
NO_RATE_LIMIT = ("f", "h")
LIMITS = {
    "a": ("STMT_POST_GET (scenario a's SQL)", "post_get.sql"),
    "b": ("STMT_POSTS_PUB_OFFSET limit 21 offset 0 (scenario b's SQL)", "posts_list.sql"),
}
# Scenario a's limit runs one pgbench script per seeded id (see
# bench/pgbench/post_get.sql). Each script is one more statement every
# connection prepares and plans (5 custom plans first), so many ids make a
# long ramp: 128 (pgbench's maximum) took ~12 s to reach the steady rate
# here, 16 about 2 s. The data are cached either way.
PGBENCH_IDS = 16
# --batching: executions of scenario a's SQL per pipeline in the probe.
BATCH_DEPTH = 8
PGBENCH_MIN_WARMUP = 5
# A limit whose window's first half ran slower than this share of its
# second half was still warming up: the run is marked noisy.
RAMP_MIN = 0.85
# A limit that moved by more than this share of its mean between its runs
# before and after the scenarios says the machine's speed drifted (a
# virtual machine's host can take cycles that no steal time shows): the
# ratios of that run are not a result, and the run is marked noisy.
LIMIT_DRIFT = 0.20

# A run is noisy when, on average over a measurement (or the idle probe
# before it), processes that are not ours used more than this many cores
# (plus the hypervisor's steal), or when the 1-minute load was above
# NOISY_LOAD before the stack came up.
NOISY_CORES = 0.25
NOISY_LOAD = 1.0


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Abort(Exception):
    pass


# ------------------------------------------------------------ /proc readers

def proc_table():
    """{pid: (ppid, own ticks, reaped children's ticks)} of every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        # rest[0] is field 3 (state): ppid 4, utime 14, stime 15, cutime 16, cstime 17
        t[int(d)] = (int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]))
    return t


def tree(table, roots):
    """The roots and all their descendants that are alive."""
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = set(), [r for r in roots if r in table]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo.extend(kids.get(p, []))
    return out


def tree_ticks(table, roots):
    """CPU ticks of a process tree: every live member's own time plus the
    time of the children it has reaped. A member that exits moves its time
    into its parent's reaped-children time, so the sum does not jump when
    a backend or a worker ends during a run."""
    return sum(table[p][1] + table[p][2] for p in tree(table, roots))


def cpu_stat():
    """Machine-wide ticks from /proc/stat: (process time user+nice+system, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system = v[0], v[1], v[2]
    steal = v[7] if len(v) > 7 else 0
    return user + nice + system, steal


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------ the stack

class Stack:
    def __init__(self, a):
        self.run_dir = a.run_dir
        self.work = os.path.join(self.run_dir, "bench")
        self.http_port, self.pg_primary, self.pg_replica = a.http_port, a.pg_primary_port, a.pg_replica_port
        self.workers = a.workers
        self.web = a.web
        self.base = "http://127.0.0.1:%d" % self.http_port
        env = dict(os.environ)
        env.update({
            "QUIRE_RUN_DIR": self.run_dir,
            "QUIRE_HTTP_PORT": str(self.http_port),
            "QUIRE_PG_PRIMARY_PORT": str(self.pg_primary),
            "QUIRE_PG_REPLICA_PORT": str(self.pg_replica),
            "QUIRE_WORKERS": str(self.workers),
            "QUIRE_WEB": a.web,
        })
        for k in ("QUIRE_SOCKET", "QUIRE_PRIMARY_URL_OVERRIDE", "QUIRE_REPLICA_URL_OVERRIDE",
                  "QUIRE_PG_REPLICA_APPLY_DELAY", "QUIRE_AUTH_RATE_LIMIT"):
            env.pop(k, None)
        self.env = env
        self.started = False

    def cmd(self, *args, extra_env=None, capture=True):
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        r = subprocess.run([os.path.join(ROOT, "scripts", "stack")] + list(args), env=env,
                           stdout=subprocess.PIPE if capture else sys.stderr, text=True)
        if r.returncode != 0:
            raise Abort("scripts/stack %s failed (exit %d)" % (" ".join(args), r.returncode))
        return (r.stdout or "").strip()

    def psql(self, role, sql):
        return self.cmd("psql", role, "-At", "-c", sql)

    def port_busy(self, port):
        import socket
        s = socket.socket()
        try:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", port)) == 0
        finally:
            s.close()

    def up(self, rate_limit):
        # A stack left behind by an interrupted run of ours (same run dir) first.
        self.cmd("down", capture=False)
        for p in (self.http_port, self.pg_primary, self.pg_replica):
            if self.port_busy(p):
                raise Abort("port %d is in use by another process; choose other ports "
                            "(QUIRE_BENCH_HTTP_PORT, QUIRE_BENCH_PG_PRIMARY_PORT, QUIRE_BENCH_PG_REPLICA_PORT)" % p)
        # A fresh database every run: the same data, the same plans. And a
        # fresh app log (one line a request: it grows by ~200 MB a run).
        self.cmd("pg-reset", capture=False)
        open(os.path.join(self.run_dir, "app.log"), "w").close()
        self.started = True
        self.cmd("up", extra_env={"QUIRE_AUTH_RATE_LIMIT": str(rate_limit)}, capture=False)

    def app_restart(self, rate_limit=None):
        extra = {} if rate_limit is None else {"QUIRE_AUTH_RATE_LIMIT": str(rate_limit)}
        self.cmd("app-restart", extra_env=extra, capture=False)

    def down(self):
        """Stops the stack and deletes its databases (the next run makes new ones)."""
        if self.started:
            st = os.path.join(ROOT, "scripts", "stack")
            subprocess.run([st, "down"], env=self.env, stdout=sys.stderr)
            subprocess.run([st, "pg-reset"], env=self.env, stdout=sys.stderr)
            self.started = False

    # Process groups whose CPU and memory are followed.
    def app_pid(self):
        return read_pid(os.path.join(self.run_dir, "app.pid"))

    def worker_pids(self):
        pid = self.app_pid()
        if pid is None:
            return []
        return sorted(p for p, (pp, _, _) in proc_table().items() if pp == pid)

    def web_pid(self):
        return read_pid(os.path.join(self.run_dir, self.web, self.web + ".pid"))

    def pg_pids(self):
        return [p for p in (read_pid(os.path.join(self.run_dir, "pg", r, "postmaster.pid"))
                            for r in ("primary", "replica")) if p]

    def groups(self):
        return {"workers": [self.app_pid()], "web": [self.web_pid()], "postgres": self.pg_pids()}

    def wait_replica(self, timeout=60):
        lsn = self.psql("primary", "SELECT pg_current_wal_lsn()")
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.psql("replica", "SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % lsn) == "t":
                return
            time.sleep(0.2)
        raise Abort("the replica did not replay up to %s within %d s" % (lsn, timeout))


# ------------------------------------------------------------ measurement

class Meter:
    """CPU of each group, of the machine, and of our load generators
    between start() and stop(); RSS of the workers and the web server sampled
    every `every` seconds meanwhile."""

    def __init__(self, stack, every=0.5):
        self.stack, self.every = stack, every

    def _snap(self):
        table = proc_table()
        g = {k: tree_ticks(table, [p for p in v if p]) for k, v in self.stack.groups().items()}
        busy, steal = cpu_stat()
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)
        me = resource.getrusage(resource.RUSAGE_SELF)
        return {"t": time.monotonic(), "groups": g, "busy": busy, "steal": steal,
                "loadgen": ch.ru_utime + ch.ru_stime, "self": me.ru_utime + me.ru_stime}

    def _sample(self):
        workers = self.stack.worker_pids()
        w = {p: rss_kib(p) for p in workers}
        w = {p: v for p, v in w.items() if v is not None}
        web = self.stack.web_pid()
        web_rss = sum(v for v in (rss_kib(p) for p in tree(proc_table(), [web])) if v) if web else 0
        for p, v in w.items():
            self.worker_max[p] = max(self.worker_max.get(p, 0), v)
        self.workers_sum_max = max(self.workers_sum_max, sum(w.values()))
        self.web_max = max(self.web_max, web_rss)
        # Everything that serves HTTP at one moment: the workers and the web
        # server (for the peer: its one process).
        self.total_max = max(self.total_max, sum(w.values()) + web_rss)
        self.samples.append((time.monotonic() - self.t0, w, web_rss))

    def _loop(self):
        while not self.stop_ev.wait(self.every):
            self._sample()

    def start(self, sample=True, loadgen_pid=None):
        """loadgen_pid: a child already running whose CPU counts only from now."""
        self.loadgen_pre = 0.0
        if loadgen_pid is not None:
            st = proc_table().get(loadgen_pid)
            self.loadgen_pre = st[1] / TCK if st else 0.0
        self.worker_max, self.workers_sum_max, self.web_max, self.samples = {}, 0, 0, []
        self.total_max = 0
        self.workers_before = set(self.stack.worker_pids())
        self.t0 = time.monotonic()
        self.before = self._snap()
        self.stop_ev = threading.Event()
        self.thread = None
        if sample:
            self._sample()
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()

    def stop(self):
        if self.thread:
            self.stop_ev.set()
            self.thread.join()
            self._sample()
        after = self._snap()
        b = self.before
        secs = after["t"] - b["t"]
        cpu = {k: (after["groups"][k] - b["groups"][k]) / TCK for k in after["groups"]}
        cpu["loadgen"] = after["loadgen"] - b["loadgen"] - self.loadgen_pre
        busy = (after["busy"] - b["busy"]) / TCK
        steal = (after["steal"] - b["steal"]) / TCK
        ours = sum(cpu.values()) + (after["self"] - b["self"])
        other = max(0.0, busy - ours) + steal
        workers_after = set(self.stack.worker_pids())
        return {"secs": secs, "cpu": cpu, "other": other, "other_cores": other / secs if secs else 0,
                "rss": {"workers_sum_max": self.workers_sum_max,
                        "worker_max": max(self.worker_max.values()) if self.worker_max else 0,
                        "per_worker": dict(self.worker_max), "web": self.web_max,
                        "total_max": self.total_max},
                "samples": self.samples,
                "replaced_workers": len(workers_after - self.workers_before)}


def settle(target, quiet=0.10, limit=30.0):
    """Waits (at least 1 s, at most `limit`) until what serves HTTP (the
    workers and the web server, or the peer's process) is idle: requests
    that the warm-up's wrk left behind when it closed its connections must
    not run inside the measured window. A server that shares its CPU among
    all pending requests (the peer hashing 64 passwords at once) can need
    seconds to finish them; one that answers them in turn, a moment."""
    time.sleep(1)
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        table = proc_table()
        g = target.groups()
        roots = [p for p in g["workers"] + g["web"] if p]
        c0 = tree_ticks(table, roots)
        time.sleep(0.5)
        c1 = tree_ticks(proc_table(), roots)
        if (c1 - c0) / TCK / 0.5 < quiet:
            return
    log("still busy %.0f s after the warm-up; measuring anyway" % limit)


def idle_probe(stack, secs):
    """CPU used by processes that are not ours while our stack idles."""
    m = Meter(stack)
    m.start(sample=False)
    time.sleep(secs)
    return m.stop()["other_cores"]


def app_log_offset(stack):
    try:
        return os.path.getsize(os.path.join(stack.run_dir, "app.log"))
    except OSError:
        return 0


def app_log_counts(stack, offset):
    """Statuses and pools of the requests the app logged since offset."""
    status, pool = {}, {}
    try:
        with open(os.path.join(stack.run_dir, "app.log"), "rb") as f:
            f.seek(offset)
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return status, pool
    for line in data.splitlines():
        m = re.search(r" status=(\d+)", line)
        if not m:
            continue
        status[m.group(1)] = status.get(m.group(1), 0) + 1
        p = re.search(r" pool=(\S+)", line)
        k = p.group(1) if p else "-"
        k = "no database" if k == "-" else k
        pool[k] = pool.get(k, 0) + 1
    return status, pool


def wrk_cmd(stack, a, sc, secs):
    _, script, files, _ = SCENARIOS[sc]
    cmd = ["wrk", "-t%d" % a.threads, "-c%d" % a.connections, "-d%ds" % secs, "--latency",
           "--timeout", "10s", "-s", os.path.join(BENCH, "wrk", script), stack.base]
    if files:
        cmd += ["--"] + [os.path.join(stack.work, f) for f in files]
    return cmd


def run_tool(cmd, env=None, raw=None, timeout=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=timeout)
    if raw:
        with open(raw, "a") as f:
            f.write("$ %s\n%s\n" % (" ".join(cmd), r.stdout))
    if r.returncode != 0:
        raise Abort("%s failed (exit %d):\n%s" % (cmd[0], r.returncode, r.stdout[-2000:]))
    return r.stdout


def wrk_env():
    env = dict(os.environ)
    env["QUIRE_BENCH_WRK"] = os.path.join(BENCH, "wrk")
    return env


def parse_wrk(out):
    m = re.search(r"^BENCH_JSON (\{.*\})$", out, re.M)
    if not m:
        raise Abort("no BENCH_JSON line in the wrk output:\n" + out[-2000:])
    j = json.loads(m.group(1))
    j["rps"] = j["requests"] / (j["duration_us"] / 1e6) if j["duration_us"] else 0.0
    j["errors"] = j["connect"] + j["read"] + j["write"] + j["timeout"]
    return j


def app_writes(stack):
    """The write statements the app's workers have run so far
    (quire_db_statements_total, kind write, every pool), from /metrics."""
    import urllib.request
    with urllib.request.urlopen(stack.base + "/metrics", timeout=10) as f:
        body = f.read().decode()
    return int(sum(float(v) for v in re.findall(
        r'^quire_db_statements_total\{pool="[a-z]+",kind="write"\} ([0-9.e+]+)$', body, re.M)))


def run_scenario(stack, a, sc, raw, target=None):
    """One scenario: warm-up, idle probe, measured run. target is the
    stack (quire, the default) or a peer.Peer, whose process replaces the
    workers and the web server in the figures (no app log, no /metrics)."""
    target = target or stack
    is_peer = getattr(target, "is_peer", False)
    who = "peer " if is_peer else ""
    title = SCENARIOS[sc][0]
    if a.warmup > 0:
        log("%s%s: warm-up %d s" % (who, sc, a.warmup))
        run_tool(wrk_cmd(target, a, sc, a.warmup), env=wrk_env(), raw=raw)
    settle(target)
    idle_other = idle_probe(target, a.probe)
    load = loadavg()
    if not is_peer:
        off = app_log_offset(stack)
        writes0 = app_writes(stack)
    m = Meter(target)
    m.start()
    log("%s%s: %s, %d s" % (who, sc, title, a.duration))
    out = run_tool(wrk_cmd(target, a, sc, a.duration), env=wrk_env(), raw=raw)
    meas = m.stop()
    status, pool, writes = {}, {}, None
    if not is_peer:
        writes = app_writes(stack) - writes0
        time.sleep(0.3)
        status, pool = app_log_counts(stack, off)
    w = parse_wrk(out)
    r = {"scenario": sc, "title": title, "wrk": w, "load": load, "idle_other": idle_other,
         "meas": meas, "status": status, "pool": pool, "writes": writes, "peer": is_peer}
    log("%s%s: %.0f req/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d, errors %d; RSS %.1f MiB; other processes %.2f cores"
        % (who, sc, w["rps"], w["p50_us"] / 1000, w["p99_us"] / 1000, w["non2xx"], w["errors"],
           meas["rss"]["total_max"] / 1024.0, meas["other_cores"]))
    return r


def durability_check(stack):
    """Every POST /posts the app answered 201 (the seeding, the warm-up and
    scenario d) is a row in the primary, and still is after the primary is
    killed without a checkpoint (pg_ctl stop -m immediate, as in a crash)
    and started again. Run last: it breaks the app's connections."""
    time.sleep(0.5)  # request lines are written within 100 ms
    created = 0
    with open(os.path.join(stack.run_dir, "app.log"), "rb") as f:
        for line in f:
            if b" method=POST route=/posts " in line and b" status=201 " in line:
                created += 1
    before = int(stack.psql("primary", "SELECT count(*) FROM posts"))
    log("durability: %d posts answered 201, %d rows; killing the primary (immediate) and "
        "starting it again" % (created, before))
    stack.cmd("pg-stop", "primary", "immediate", capture=False)
    stack.cmd("pg-start", "primary", capture=False)
    after = int(stack.psql("primary", "SELECT count(*) FROM posts"))
    log("durability: %d rows after the restart" % after)
    return {"created": created, "before": before, "after": after}


# ------------------------------------------------------------ pgbench limits

def pg_bin(name):
    for d in (os.environ.get("QUIRE_PG_BINDIR", ""), "/usr/lib/postgresql/15/bin"):
        if d and os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    p = shutil.which(name)
    if not p:
        raise Abort("%s not found (it ships in postgresql-15)" % name)
    return p


def build_stmtsql(stack):
    """Compiles bench/stmtsql.c against src/stmts.c; returns the binary."""
    build = os.environ.get("QUIRE_BUILD_DIR", os.path.join(ROOT, "build"))
    out = os.path.join(stack.work, "stmtsql")
    cc = os.environ.get("CC", "cc")
    run_tool([cc, "-std=c11", "-O0", "-I", build, "-I", os.path.join(ROOT, "include"),
              "-o", out, os.path.join(BENCH, "stmtsql.c"), os.path.join(ROOT, "src", "stmts.c")])
    return out


def render_template(stmtsql, template, rename=None):
    """A pgbench script from bench/pgbench/<template>: every
    {{stmt_name :v1 :v2 ...}} becomes that statement's SQL from src/stmts.c
    with $1, $2, ... replaced by the pgbench variables :v1, :v2, ...
    rename maps a variable name to another (the per-id copies of a)."""
    with open(os.path.join(BENCH, "pgbench", template)) as f:
        src = f.read()
    rename = rename or {}

    def sub(m):
        name, args = m.group(1), m.group(2).split()
        out = run_tool([stmtsql, name]).rstrip("\n")
        nparams, sql = out.split("\t", 1)
        if int(nparams) != len(args):
            raise Abort("bench/pgbench/%s: %s takes %s parameters, the template gives %d"
                        % (template, name, nparams, len(args)))
        for k in range(len(args), 0, -1):
            v = args[k - 1].lstrip(":")
            sql = re.sub(r"\$%d(?!\d)" % k, ":" + rename.get(v, v), sql)
        return sql + ";"

    return re.sub(r"\{\{(\w+)((?:\s+:\w+)*)\s*\}\}", sub, src)


def pgbench_files(stack, stmtsql, lim, depth=1):
    """(pgbench arguments naming the scripts and variables, description).
    depth > 1 (limit a only): each transaction sends `depth` executions in
    one pipeline, as one worker answering several requests at once would."""
    d = os.path.join(stack.work, "pgbench", "x%d" % depth)
    os.makedirs(d, exist_ok=True)
    if lim == "b":
        p = os.path.join(d, "posts_list.sql")
        with open(p, "w") as f:
            f.write(render_template(stmtsql, "posts_list.sql"))
        return ["-f", p], "1 script"
    with open(os.path.join(stack.work, "ids.txt")) as f:
        ids = [x.strip() for x in f if x.strip()]
    ids = ids[:PGBENCH_IDS]
    args = []
    for k, uuid in enumerate(ids):
        var = "id%03d" % k
        p = os.path.join(d, "post_get_%03d.sql" % k)
        script = render_template(stmtsql, "post_get.sql", {"id": var})
        if depth > 1:
            script = "\\startpipeline\n" + script * depth + "\n\\endpipeline\n"
        with open(p, "w") as f:
            f.write(script)
        args += ["-D", "%s=%s" % (var, uuid), "-f", p]
    how = "%d scripts, one seeded id each" % len(ids)
    if depth > 1:
        how += ", %d executions per pipeline" % depth
    return args, how


def pgbench_window(prefix, ws, we):
    """The transactions pgbench logged (-l) as completed between the
    wall-clock times ws and we; the window ends at the last one (pgbench
    takes a moment to exit). Returns (count, seconds, p50 us, p99 us, rate of
    the window's first half over its second's). Removes the log files."""
    done, d, base = [], os.path.dirname(prefix), os.path.basename(prefix) + "."
    for p in os.listdir(d):
        if not p.startswith(base):
            continue
        with open(os.path.join(d, p)) as f:
            for line in f:
                # client_id transaction_no time script_no time_epoch time_us
                x = line.split()
                if len(x) >= 6 and x[2].isdigit():
                    t = int(x[4]) + int(x[5]) / 1e6
                    if ws <= t <= we:
                        done.append((t, int(x[2])))
        os.unlink(os.path.join(d, p))
    if not done:
        return 0, 0.0, None, None, None
    end = max(t for t, _ in done)
    mid = (ws + end) / 2
    first = sum(1 for t, _ in done if t < mid)
    second = len(done) - first
    lat = sorted(v for _, v in done)

    def pct(q):
        return lat[min(len(lat) - 1, int(q / 100.0 * len(lat)))]

    return len(lat), end - ws, pct(50), pct(99), first / second if second else None


def run_limit(stack, a, lim, stmtsql, raw, clients=None, depth=1, when=None):
    """pgbench for warm-up + duration seconds in one process (its
    connections and prepared statements must be warm, like the app's);
    only the transactions that complete in the last `duration` seconds
    count, read from pgbench's per-transaction log. clients defaults to
    the scenarios' connection count; depth is as in pgbench_files."""
    clients = clients or a.connections
    files, how = pgbench_files(stack, stmtsql, lim, depth)
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("PG"):
            del env[k]
    # The fixed session settings every app connection has (src/stmts.c).
    env["PGOPTIONS"] = run_tool([stmtsql, "--options"]).strip()
    warm = max(a.warmup, PGBENCH_MIN_WARMUP)
    prefix = os.path.join(stack.work, "pgbench-log", "lim%s-c%d-x%d" % (lim, clients, depth))
    os.makedirs(os.path.dirname(prefix), exist_ok=True)
    cmd = [pg_bin("pgbench"), "-n", "-M", "prepared", "-c", str(clients), "-j", str(a.threads),
           "-h", "127.0.0.1", "-p", str(stack.pg_replica), "-U", "quire_app", "-T", str(warm + a.duration),
           "-l", "--log-prefix", prefix] + files + ["quire"]
    time.sleep(1)
    idle_other = idle_probe(stack, a.probe)
    load = loadavg()
    log("limit %s%s: pgbench -M prepared -c %d -j %d -T %d+%d on the replica (%s)"
        % (lim, " " + when if when else "", clients, a.threads, warm, a.duration, how))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        t_end = time.monotonic() + warm
        while p.poll() is None and time.monotonic() < t_end:
            time.sleep(0.05)
        m = Meter(stack)
        m.start(loadgen_pid=p.pid)
        ws = time.time()
        out = p.communicate()[0]
        we = time.time()
        meas = m.stop()
    except BaseException:
        p.terminate()
        p.wait()
        raise
    with open(raw, "a") as f:
        f.write("$ %s\n%s\n" % (" ".join(cmd), out))
    if p.returncode != 0:
        raise Abort("pgbench failed (exit %d):\n%s" % (p.returncode, out[-2000:]))
    failed = re.search(r"number of failed transactions: (\d+)", out)
    n, secs, p50, p99, ramp = pgbench_window(prefix, ws, we)
    tps = n / secs if secs > 0 else 0.0
    r = {"limit": lim, "title": LIMITS[lim][0], "how": how, "tps": tps, "clients": clients,
         "depth": depth, "stmts_s": tps * depth, "when": when,
         "failed": int(failed.group(1)) if failed else 0, "p50_us": p50, "p99_us": p99,
         "ramp": ramp, "load": load, "idle_other": idle_other, "meas": meas}
    log("limit %s: %.0f tx/s, p50 %.2f ms, p99 %.2f ms; first half of the window at %.0f%% of the second; "
        "other processes %.2f cores" % (lim, tps, (p50 or 0) / 1000, (p99 or 0) / 1000, 100 * (ramp or 0),
                                        meas["other_cores"]))
    return r


# ------------------------------------------------------------ report

def git_rev():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" (dirty)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def ms(us):
    return "–" if us is None else "%.2f" % (us / 1000.0)


def cpu_cell(secs, dur):
    return "%.1f s (%.0f%%)" % (secs, 100.0 * secs / (dur * NCPU)) if dur else "–"


def mib(kib):
    return "%.1f" % (kib / 1024.0)


def noise_of(entries, load0):
    reasons = []
    try:
        l1 = float(load0.split()[0])
    except (ValueError, IndexError):
        l1 = 0.0
    if l1 > NOISY_LOAD:
        reasons.append("1-min load %.2f before the stack came up (threshold %.1f)" % (l1, NOISY_LOAD))
    for name, e in entries:
        if e.get("ramp") is not None and e["ramp"] < RAMP_MIN:
            reasons.append("%s: still ramping up (the first half of the window ran at %.0f%% of the second's rate)"
                           % (name, 100 * e["ramp"]))
        worst = max(e["meas"]["other_cores"], e["idle_other"])
        if worst > NOISY_CORES:
            reasons.append("%s: other processes used %.2f cores (during the run %.2f, idle probe before %.2f; threshold %.2f)"
                           % (name, worst, e["meas"]["other_cores"], e["idle_other"], NOISY_CORES))
    return reasons


def status_note(status):
    bad = {k: v for k, v in status.items() if not k.startswith("2")}
    return ", ".join("%s×%d" % kv for kv in sorted(bad.items())) if bad else ""


def pool_note(pool):
    tot = sum(pool.values())
    if not tot:
        return "–"
    return ", ".join("%s %.0f%%" % (k, 100.0 * v / tot) for k, v in sorted(pool.items(), key=lambda kv: -kv[1]))


def report(a, stack, info, limits, results, probes=()):
    when = info["date"]
    noisy = noise_of([("limit %s %s" % (l["limit"], l["when"]), l) for l in limits] +
                     [("batching probe ×%d" % p["depth"], p) for p in probes] +
                     [(r["scenario"], r) for r in results], info["load0"])
    lim_tps = {}
    for lim in sorted({l["limit"] for l in limits}):
        tps = [l["tps"] for l in limits if l["limit"] == lim]
        lim_tps[lim] = sum(tps) / len(tps)
        if len(tps) > 1 and lim_tps[lim] > 0 and (max(tps) - min(tps)) / lim_tps[lim] > LIMIT_DRIFT:
            noisy.append("limit %s: %.0f tx/s before the scenarios, %.0f after (%.0f%% apart; threshold %.0f%%)"
                         % (lim, tps[0], tps[-1], 100 * (max(tps) - min(tps)) / lim_tps[lim], 100 * LIMIT_DRIFT))
    head = "## %s — %s — %d workers, %s%s%s" % (when, info["rev"], a.workers, a.web,
                                            " — quick" if a.quick else "", " — NOISY" if noisy else "")
    L = [head, ""]
    L.append("- machine: %d CPUs, %s; load average %s before the stack came up"
             % (NCPU, info["cpu_model"], info["load0"]))
    L.append("- stack: PostgreSQL primary + streaming replica, %d quire workers under spawn-fcgi, %s; "
             "seeded through the API: %d users, %d published posts (%.1f s); ANALYZE on the primary"
             % (a.workers, a.web, info["seed"]["users"], info["seed"]["posts"],
                info["seed"]["users_s"] + info["seed"]["posts_s"]))
    L.append("- load: wrk -t%d -c%d --latency, %d s after a %d s warm-up; limits: pgbench -M prepared -c %d -j %d "
             "against the replica as the app's role quire_app, the last %d s of a %d s run, before and after the scenarios "
             "(d runs after them); × limit is against the mean of the two" % (
                 a.threads, a.connections, a.duration, a.warmup, a.connections, a.threads, a.duration,
                 a.duration + max(a.warmup, PGBENCH_MIN_WARMUP)))
    dur = info.get("durability")
    if dur:
        ok = dur["created"] == dur["before"] == dur["after"]
        L.append("- durability (every 201 of POST /posts, seeding and scenario d included): %d answered 201, "
                 "%d rows in the primary, %d rows after killing it (`pg_ctl stop -m immediate`) and "
                 "starting it again%s" % (dur["created"], dur["before"], dur["after"],
                                          "" if ok else " — **MISMATCH: acknowledged posts lost or unaccounted**"))
    if noisy:
        L.append("- **noisy run — these figures are not a result:** " + "; ".join(noisy))
        L += ["", "<details><summary>figures of the noisy run (not a result)</summary>", ""]
    if limits:
        L += ["| limit (pgbench on the replica) | tx/s | p50 ms | p99 ms | failed | CPU postgres | CPU pgbench | other | load before |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for l in limits:
            m = l["meas"]
            L.append("| %s, %s the scenarios: %s (%s) | %.0f | %s | %s | %d | %s | %s | %.2f cores | %s |" % (
                l["limit"], l["when"], l["title"], l["how"], l["tps"], ms(l["p50_us"]), ms(l["p99_us"]), l["failed"],
                cpu_cell(m["cpu"]["postgres"], m["secs"]), cpu_cell(m["cpu"]["loadgen"], m["secs"]),
                m["other_cores"], l["load"]))
        L.append("")
    if results:
        L += ["| scenario | req/s | × limit | p50 ms | p99 ms | non-2xx | CPU workers | CPU %s | CPU postgres | CPU wrk | other | RSS workers Σ MiB | RSS max/worker MiB | RSS %s MiB | pool | load before |" % (a.web, a.web),
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
        for r in results:
            w, m = r["wrk"], r["meas"]
            lim = SCENARIOS[r["scenario"]][3]
            ratio = ("%.2f (%s)" % (w["rps"] / lim_tps[lim], lim)) if lim_tps.get(lim) else "–"
            non2 = str(w["non2xx"])
            extra = status_note(r["status"])
            if extra:
                non2 += " (" + extra + ")"
            if w["errors"]:
                non2 += "; socket errors %d" % w["errors"]
            if m["replaced_workers"]:
                non2 += "; %d workers replaced" % m["replaced_workers"]
            L.append("| %s: %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %.2f cores | %s | %s | %s | %s | %s |" % (
                r["scenario"], r["title"], w["rps"], ratio, ms(w["p50_us"]), ms(w["p99_us"]), non2,
                cpu_cell(m["cpu"]["workers"], m["secs"]), cpu_cell(m["cpu"]["web"], m["secs"]),
                cpu_cell(m["cpu"]["postgres"], m["secs"]), cpu_cell(m["cpu"]["loadgen"], m["secs"]),
                m["other_cores"], mib(m["rss"]["workers_sum_max"]), mib(m["rss"]["worker_max"]),
                mib(m["rss"]["web"]), pool_note(r["pool"]), r["load"]))
        L.append("")
        # The read path writes nothing but lastUsedAt, at most once a minute per session.
        L.append("- write statements the app ran during each scenario (`quire_db_statements_total`, "
                 "kind write; reads should show none but a session's lastUsedAt, at most one a minute): "
                 + ", ".join("%s %d" % (r["scenario"], r["writes"]) for r in results))
        L.append("")
        for r in [r for r in results if r["scenario"] == "f"]:
            cpu = 1e6 * sum(r["meas"]["cpu"][g] for g in ("workers", "web", "postgres")) / (r["wrk"]["requests"] or 1)
            hl = hash_alone_line(info, r["wrk"]["rps"], cpu_quire=cpu)
            if hl:
                L += [hl, ""]
    if probes:
        L += batching_table(a, probes, results)
    if noisy:
        L += ["</details>", ""]
    return "\n".join(L) + "\n", noisy


def batching_table(a, probes, results):
    """--batching: PostgreSQL's CPU per execution of scenario a's SQL with
    as many connections as the app has workers, one execution per round
    trip (as each worker sends now) and BATCH_DEPTH per pipeline (as a
    worker answering several requests at once could), beside the app's
    own figure in scenario a."""
    L = ["| batching probe: scenario a's SQL | connections | executions per round trip | executions/s | "
         "CPU postgres | postgres µs per execution | load before |",
         "|---|---:|---:|---:|---:|---:|---|"]
    for p in probes:
        m = p["meas"]
        n = p["stmts_s"] * m["secs"]
        L.append("| pgbench on the replica | %d | %d | %.0f | %s | %s | %s |" % (
            p["clients"], p["depth"], p["stmts_s"], cpu_cell(m["cpu"]["postgres"], m["secs"]),
            "%.1f" % (1e6 * m["cpu"]["postgres"] / n) if n else "–", p["load"]))
    for r in results:
        if r["scenario"] == "a":
            m, n = r["meas"], r["wrk"]["rps"] * r["meas"]["secs"]
            L.append("| scenario a through %s and the app | %d | 1 | %.0f | %s | %s | %s |" % (
                a.web, a.workers, r["wrk"]["rps"], cpu_cell(m["cpu"]["postgres"], m["secs"]),
                "%.1f" % (1e6 * m["cpu"]["postgres"] / n) if n else "–", r["load"]))
    return L + [""]


def soak_report(a, info, r, series, first_min):
    noisy = noise_of([("soak", r)], info["load0"])
    w, m = r["wrk"], r["meas"]
    head = "## %s — %s — %d workers, %s — soak %d s (%s)%s" % (
        info["date"], info["rev"], a.workers, a.web, a.soak, a.soak_mix, " — NOISY" if noisy else "")
    L = [head, ""]
    L.append("- machine: %d CPUs, %s; load average %s before the stack came up"
             % (NCPU, info["cpu_model"], info["load0"]))
    L.append("- load: wrk -t%d -c%d for %d s after a %d s warm-up, %s; RSS (VmRSS) of every worker every %d s"
             % (a.threads, a.connections, a.soak, a.warmup,
                "scenario a" if a.soak_mix == "a" else SOAK_MIX, a.soak_every))
    L.append("- %.0f req/s, p50 %s ms, p99 %s ms, non-2xx %d%s; CPU workers %s, %s %s, postgres %s, other %.2f cores"
             % (w["rps"], ms(w["p50_us"]), ms(w["p99_us"]), w["non2xx"],
                (" (" + status_note(r["status"]) + ")") if status_note(r["status"]) else "",
                cpu_cell(m["cpu"]["workers"], m["secs"]), a.web, cpu_cell(m["cpu"]["web"], m["secs"]),
                cpu_cell(m["cpu"]["postgres"], m["secs"]), m["other_cores"]))
    if noisy:
        L.append("- **noisy run:** " + "; ".join(noisy) + " (RSS figures do not depend on the noise; throughput does)")
    worst_max, worst_growth, worst_floor, worst_fgrowth = 0, None, 0, None
    # A worker that is verifying a password holds the Argon2id memory
    # (include/auth.h's memlimit, mmapped by libsodium and unmapped after)
    # for those milliseconds: a sample can catch it. The floor, the lowest
    # sample of a minute, is the worker's own memory without it.
    L += ["", "| worker pid | RSS start KiB | at %d s KiB | end KiB | max KiB | growth end − %d s KiB "
          "| floor %d–%d s KiB | floor last 60 s KiB | floor growth KiB |"
          % (first_min, first_min, first_min, first_min + 60),
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    t_end = series_end(series)
    for pid in sorted(series):
        pts = series[pid]
        start = pts[0][1]
        ref = next((v for t, v in pts if t >= first_min), pts[-1][1])
        end = pts[-1][1]
        mx = max(v for _, v in pts)
        worst_max = max(worst_max, mx)
        g = end - ref
        worst_growth = g if worst_growth is None else max(worst_growth, g)
        f0 = min([v for t, v in pts if first_min <= t < first_min + 60] or [ref])
        f1 = min([v for t, v in pts if t >= t_end - 60] or [end])
        worst_floor = max(worst_floor, f0, f1)
        fg = f1 - f0
        worst_fgrowth = fg if worst_fgrowth is None else max(worst_fgrowth, fg)
        alive = "" if pts[-1][0] >= t_end - 0.5 else " (gone)"
        L.append("| %d%s | %d | %d | %d | %d | %+d | %d | %d | %+d |" % (pid, alive, start, ref, end, mx, g, f0, f1, fg))
    L.append("")
    L.append("- max RSS of a worker: %d KiB (%.2f MiB%s); largest growth after %d s: %+d KiB; "
             "workers replaced during the soak: %d"
             % (worst_max, worst_max / 1024.0,
                "; target ≤ 5 MiB: " + ("met" if worst_max <= 5 * 1024 else "NOT met") if a.soak_mix == "a" else
                ", a sample taken while the worker verified a password included", first_min,
                worst_growth or 0, m["replaced_workers"]))
    L.append("- floors (the lowest sample of a minute): the largest %d KiB (%.2f MiB; target ≤ 5 MiB: %s); "
             "largest floor growth from %d–%d s to the last minute %+d KiB (flat, ≤ 256 KiB: %s)"
             % (worst_floor, worst_floor / 1024.0, "met" if worst_floor <= 5 * 1024 else "NOT met",
                first_min, first_min + 60, worst_fgrowth or 0,
                "yes" if (worst_fgrowth or 0) <= 256 else "**NO**"))
    L += ["", "<details><summary>RSS samples (KiB), one column per worker</summary>", ""]
    pids = sorted(series)
    L.append("| t s | " + " | ".join(str(p) for p in pids) + " |")
    L.append("|---:|" + "---:|" * len(pids))
    times = sorted({round(t) for p in pids for t, _ in series[p]})
    for t in times:
        row = []
        for p in pids:
            v = next((v for tt, v in series[p] if round(tt) == t), None)
            row.append("" if v is None else str(v))
        L.append("| %d | %s |" % (t, " | ".join(row)))
    L += ["", "</details>", ""]
    return "\n".join(L) + "\n", noisy


def series_end(series):
    return max(pts[-1][0] for pts in series.values())


RESULTS_HEADER = """# quire benchmark results

Appended by `scripts/bench` (see `bench/README.md`): one section per run,
newest last. Each section names the date (UTC), the commit ("dirty" when
tracked files had uncommitted changes), the worker count and the load.

Columns: **req/s** and **p50/p99** latency from wrk; **× limit** is req/s
divided by the pgbench limit named in brackets (a: the SQL of
`GET /posts/:id`, b: the SQL of `GET /posts?limit=20`, both run by pgbench
against the replica with the same client count); **non-2xx** is wrk's count
of responses with a status ≥ 400, with the statuses from the app's log in
brackets; **CPU** is CPU time used during the measured run by the quire
supervisor and its workers, the web server (lighttpd, or nginx with
`--web nginx`), PostgreSQL (both postmasters and every
backend, including the app's) and the load generator, and in brackets the
share of all CPUs over the run; **other** is CPU that no process of the
benchmark used (other work on the machine, plus steal), in cores, averaged
over the run; **RSS** is VmRSS: the largest sum over all workers and the
largest single worker seen while sampling every 0.5 s; **pool** is where
the app's log says the requests' statements ran.

A run is **noisy** when the 1-minute load was above 1.0 before the stack
came up, or when other processes used more than 0.25 cores during a
measurement or the idle second before it. The figures of a noisy run are
kept folded under its section for the record and are not a result.

"""


def append_results(text, path):
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a") as f:
        if new:
            f.write(RESULTS_HEADER)
        f.write("\n" + text)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


# ------------------------------------------------------------ main

def parse_args():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=(
        "Benchmark quire on the README's stack: seeds it through the API, measures the machine's "
        "limit with pgbench on the replica and runs the wrk scenarios a-e and g; appends the figures to "
        "bench/results.md. Scenarios: " + "; ".join("%s %s" % (k, v[0]) for k, v in SCENARIOS.items())))
    ap.add_argument("--quick", action="store_true",
                    help="3 s runs after 1 s warm-ups, for development; not recorded unless --record")
    ap.add_argument("--scenarios", default=",".join(sorted(SCENARIOS)), help="comma-separated subset of %s (default all)" % ",".join(sorted(SCENARIOS)))
    ap.add_argument("--duration", type=int, help="seconds per measured run (default 10; --quick 3)")
    ap.add_argument("--warmup", type=int, help="seconds of warm-up before each run (default 3; --quick 1)")
    ap.add_argument("--no-limits", action="store_true", help="skip the pgbench limits")
    ap.add_argument("--batching", action="store_true",
                    help="after the limits, measure PostgreSQL's CPU per execution of scenario a's SQL with "
                         "as many connections as workers, one execution per round trip and %d per pipeline"
                         % BATCH_DEPTH)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=int(os.environ.get("QUIRE_WORKERS") or 6),
                    help="quire worker processes (default $QUIRE_WORKERS or 6; 6 measured best on the 2-core box)")
    ap.add_argument("--web", choices=["lighttpd", "nginx"], default="lighttpd",
                    help="the web server in front (default lighttpd, as in the README; nginx keeps its "
                         "connections to the app)")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--peer", action="store_true",
                    help="also run every scenario on the peer (../shared/peer: Bun + Elysia + Better-Auth + "
                         "Drizzle) on its own database of the same primary/replica, alternating with quire "
                         "(--rounds each), and report both side by side; needs node and npm (npm ci installs "
                         "bun from the npm registry)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="with --peer: measured runs of each scenario per side, alternating (default 2)")
    ap.add_argument("--peer-src", default=os.environ.get("QUIRE_BENCH_PEER_SRC") or
                    os.path.join(os.path.dirname(ROOT), "shared", "peer"),
                    help="the peer's sources (default $QUIRE_BENCH_PEER_SRC or ../shared/peer); copied, never modified")
    ap.add_argument("--peer-hash", choices=["quire", "native"], default="quire",
                    help="with --peer: the peer's stored password hashes are rewritten at quire's Argon2id "
                         "cost (default), or kept at Bun.password's own (native)")
    ap.add_argument("--soak", type=int, metavar="SECONDS",
                    help="instead of the scenarios: one load of SECONDS, sampling each worker's RSS")
    ap.add_argument("--soak-mix", choices=["mix", "a"], default="mix",
                    help="the soak's load: every scenario mixed, the auth flows f, g, h included (default), "
                         "or scenario a alone")
    ap.add_argument("--soak-every", type=int, default=10, help="seconds between RSS samples in a soak (10)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--record", action="store_true", help="append to bench/results.md even with --quick")
    g.add_argument("--no-record", action="store_true", help="do not append to bench/results.md")
    ap.add_argument("--results", default=os.path.join(BENCH, "results.md"), help=argparse.SUPPRESS)
    ap.add_argument("--keep-up", action="store_true", help="leave the stack running at the end (stop it with "
                    "QUIRE_RUN_DIR=<run dir> scripts/stack down)")
    a = ap.parse_args()
    a.duration = a.duration or (3 if a.quick else 10)
    a.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 3)
    a.probe = 1.0
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    for s in a.scenarios:
        if s not in SCENARIOS:
            ap.error("unknown scenario %r (choose from %s)" % (s, ",".join(SCENARIOS)))
    a.record = not a.no_record and (a.record or not a.quick)
    a.run_dir = os.environ.get("QUIRE_BENCH_RUN_DIR", os.path.join(ROOT, "build", "run-bench"))
    a.http_port = int(os.environ.get("QUIRE_BENCH_HTTP_PORT", 18585))
    a.pg_primary_port = int(os.environ.get("QUIRE_BENCH_PG_PRIMARY_PORT", 25900))
    a.pg_replica_port = int(os.environ.get("QUIRE_BENCH_PG_REPLICA_PORT", 25901))
    a.peer_port = int(os.environ.get("QUIRE_BENCH_PEER_PORT", 18300))
    if a.peer and a.soak is not None:
        ap.error("--peer runs the scenarios side by side: not with --soak")
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    if a.batching and (a.no_limits or a.soak is not None):
        ap.error("--batching runs with the limits: not with --no-limits or --soak")
    if a.soak is not None and a.soak < a.soak_every:
        ap.error("--soak needs at least --soak-every (%d) seconds" % a.soak_every)
    return a


def prepare(stack, a, info, rate_limit=None):
    """Stack up, seeded; the app then restarted with rate_limit (None: the
    default; the soak's mix, which logs in and asks for reset mails, runs
    with 0)."""
    log("stack in %s: http %d, primary %d, replica %d, %d workers"
        % (stack.run_dir, stack.http_port, stack.pg_primary, stack.pg_replica, a.workers))
    stack.up(rate_limit=0)
    info["seed"] = seeder.seed(stack.base, stack.work, a.users, a.posts, parallel=8,
                               log=lambda s: log(s))
    # The measurement runs with the default rate limit.
    stack.app_restart(rate_limit=rate_limit)
    stack.cmd("psql", "primary", "-q", "-c", "SET client_min_messages = error", "-c", "ANALYZE")
    stack.wait_replica()
    n = stack.psql("replica", "SELECT count(*) FROM posts WHERE published")
    if int(n) < a.posts:
        raise Abort("the replica has %s published posts, expected %d" % (n, a.posts))
    log("ANALYZE done; the replica has replayed it (%s published posts)" % n)


def main():
    a = parse_args()
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "rev": git_rev(), "load0": os.environ.get("QUIRE_BENCH_LOAD0") or loadavg(),
            "cpu_model": cpu_model()}
    stack = Stack(a)
    os.makedirs(stack.run_dir, exist_ok=True)
    # One benchmark per run dir: a second one would take the first one's stack down.
    lock = open(os.path.join(stack.run_dir, "bench.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log("error: another scripts/bench is running in %s (set QUIRE_BENCH_RUN_DIR and the "
            "QUIRE_BENCH_*_PORT variables to run a second one)" % stack.run_dir)
        return 1

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw = os.path.join(stack.run_dir, "bench-raw-%s.log" % stamp)
    text = None
    peer = None
    try:
        if os.path.isdir(stack.work):
            shutil.rmtree(stack.work)
        os.makedirs(stack.work)
        if a.peer:
            peer = peerlib.Peer(a, stack, pg_bin("psql"))
            info["bun"] = peer.install()
        prepare(stack, a, info, rate_limit=0 if (a.soak is not None and a.soak_mix == "mix") else None)
        if a.soak is not None:
            text, noisy = soak(stack, a, info, raw)
        elif a.peer:
            text, noisy = run_peer(stack, peer, a, info, raw)
        else:
            limits, probes, results = [], [], []
            if not a.no_limits:
                stmtsql = build_stmtsql(stack)
                need = sorted({SCENARIOS[s][3] for s in a.scenarios} - {None})
                for lim in need:
                    limits.append(run_limit(stack, a, lim, stmtsql, raw, when="before"))
                if a.batching:
                    for depth in (1, BATCH_DEPTH):
                        probes.append(run_limit(stack, a, "a", stmtsql, raw, clients=a.workers, depth=depth))
            # d last: its writes would be in the database under the limits
            # measured again after the reads.
            for sc in [s for s in a.scenarios if s not in WRITERS]:
                results.append(run_scenario(stack, a, sc, raw))
            if not a.no_limits:
                for lim in need:
                    limits.append(run_limit(stack, a, lim, stmtsql, raw, when="after"))
            if "d" in a.scenarios:
                results.append(run_scenario(stack, a, "d", raw))
                info["durability"] = durability_check(stack)
            for sc in [s for s in a.scenarios if s in NO_RATE_LIMIT]:
                stack.app_restart(rate_limit=0)
                results.append(run_scenario(stack, a, sc, raw))
                stack.app_restart()
            if "f" in a.scenarios:
                info["hash_alone"] = run_hash_alone(stack, a, build_pwhash(stack), raw)
            results.sort(key=lambda r: r["scenario"])
            text, noisy = report(a, stack, info, limits, results, probes)
    except (Abort, peerlib.PeerError) as e:
        log("error: %s" % e)
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if peer is not None:
            peer.stop()
        if a.keep_up:
            log("stack left running: QUIRE_RUN_DIR=%s scripts/stack status|down" % stack.run_dir)
        else:
            stack.down()
    print(text)
    log("raw wrk/pgbench output: %s" % raw)
    if a.record:
        append_results(text, a.results)
        log("appended to %s%s" % (os.path.relpath(a.results), " (marked noisy)" if noisy else ""))
    else:
        log("not recorded (--quick or --no-record)")
    return 0


def soak(stack, a, info, raw):
    sc = "a" if a.soak_mix == "a" else None
    if sc:
        cmd = lambda secs: wrk_cmd(stack, a, "a", secs)  # noqa: E731
    else:
        def cmd(secs):
            return ["wrk", "-t%d" % a.threads, "-c%d" % a.connections, "-d%ds" % secs, "--latency",
                    "--timeout", "10s", "-s", os.path.join(BENCH, "wrk", "mix.lua"), stack.base, "--",
                    os.path.join(stack.work, "ids.txt"), os.path.join(stack.work, "token-me.txt"),
                    os.path.join(stack.work, "token-create.txt"), os.path.join(stack.work, "logins.txt"),
                    os.path.join(stack.work, "emails.txt")]
    if a.warmup > 0:
        log("soak: warm-up %d s" % a.warmup)
        run_tool(cmd(a.warmup), env=wrk_env(), raw=raw)
    time.sleep(1)
    idle_other = idle_probe(stack, a.probe)
    load = loadavg()
    off = app_log_offset(stack)
    m = Meter(stack, every=1.0)
    series = {}

    def sample(t):
        for pid in stack.worker_pids():
            v = rss_kib(pid)
            if v is not None:
                series.setdefault(pid, []).append((t, v))

    log("soak: %d s of %s; RSS of every worker every %d s" % (a.soak, a.soak_mix, a.soak_every))
    m.start()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd(a.soak), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=wrk_env())
    try:
        sample(0.0)
        k = 1
        while True:
            nxt = t0 + k * a.soak_every
            while p.poll() is None and time.monotonic() < nxt:
                time.sleep(0.1)
            if p.poll() is not None:
                break
            sample(time.monotonic() - t0)
            if k % 6 == 0:
                last = {pid: pts[-1][1] for pid, pts in series.items()}
                log("soak: %d s, worker RSS KiB %s" % (k * a.soak_every, " ".join(str(v) for v in last.values())))
            k += 1
        out = p.communicate()[0]
    except BaseException:
        p.terminate()
        p.wait()
        raise
    sample(time.monotonic() - t0)
    meas = m.stop()
    with open(raw, "a") as f:
        f.write("$ %s\n%s\n" % (" ".join(cmd(a.soak)), out))
    if p.returncode != 0:
        raise Abort("wrk failed (exit %d):\n%s" % (p.returncode, out[-2000:]))
    time.sleep(0.3)
    status, pool = app_log_counts(stack, off)
    r = {"wrk": parse_wrk(out), "meas": meas, "status": status, "pool": pool, "load": load,
         "idle_other": idle_other}
    first_min = 60 if a.soak >= 120 else a.soak_every
    return soak_report(a, info, r, series, first_min)


# ------------------------------------------------------------ f's yardstick

def build_pwhash(stack):
    """Compiles bench/pwhash.c (the Argon2id cost alone, at include/auth.h's
    cost) into the run's work dir; returns the binary."""
    out = os.path.join(stack.work, "pwhash")
    if os.access(out, os.X_OK):
        return out
    build = os.environ.get("QUIRE_BUILD_DIR", os.path.join(ROOT, "build"))
    cc = os.environ.get("CC", "cc")
    pq = subprocess.run(["pkg-config", "--cflags", "libpq"], stdout=subprocess.PIPE, text=True).stdout.split()
    run_tool([cc, "-std=c11", "-O2", "-I", build, "-I", os.path.join(ROOT, "include")] + pq +
             ["-o", out, os.path.join(BENCH, "pwhash.c"), "-lsodium"])
    return out


def run_hash_alone(stack, a, pwhash, raw):
    """crypto_pwhash_str_verify at quire's cost on as many processes as the
    app has workers (each worker answers one login at a time), for the
    scenarios' duration: the rate POST /auth/login would reach if it cost
    the hash and nothing else."""
    time.sleep(1)
    idle_other = idle_probe(stack, a.probe)
    load = loadavg()
    m = Meter(stack)
    m.start(sample=False)
    log("hash alone: %s verify %d %d" % (os.path.basename(pwhash), a.workers, a.duration))
    out = run_tool([pwhash, "verify", str(a.workers), str(a.duration)], raw=raw)
    meas = m.stop()
    j = json.loads(out.strip().splitlines()[-1])
    j.update({"meas": meas, "idle_other": idle_other, "load": load,
              # CPU per verification: less sensitive to other work on the machine than the rate.
              "cpu_us": 1e6 * meas["cpu"]["loadgen"] / j["verifies"] if j["verifies"] else None})
    log("hash alone: %.1f verifies/s on %d processes; other processes %.2f cores"
        % (j["per_s"], j["procs"], meas["other_cores"]))
    return j


def hash_alone_line(info, rps_quire, rps_peer=None, cpu_quire=None):
    """cpu_quire: CPU µs per login of the workers, the web server and
    PostgreSQL together."""
    h = info.get("hash_alone")
    if not h or rps_quire is None:
        return None
    s = ("- f / hash-alone: quire's POST /auth/login %.1f req/s over the Argon2id verification alone "
         "(bench/pwhash.c: crypto_pwhash_str_verify, opslimit %d, memlimit %d MiB, on %d processes for %.0f s: "
         "%.1f/s) = **%.2f** (target ≥ 0.90)"
         % (rps_quire, h["opslimit"], h["memlimit"] // (1024 * 1024), h["procs"], h["secs"], h["per_s"],
            rps_quire / h["per_s"] if h["per_s"] else 0))
    if rps_peer is not None and h["per_s"]:
        s += "; the peer's: %.1f req/s = %.2f" % (rps_peer, rps_peer / h["per_s"])
    if cpu_quire and h.get("cpu_us"):
        s += ("; in CPU, which other work on the machine moves less: %.1f ms per verification alone, %.1f ms "
              "per login (workers, web server and PostgreSQL) = %.2f"
              % (h["cpu_us"] / 1000, cpu_quire / 1000, h["cpu_us"] / cpu_quire))
    return s


# ------------------------------------------------------------ side by side with the peer

def hash_impls(peer, a, pwhash, raw):
    """The same Argon2id hash (quire's cost) verified on one core by
    libsodium (quire's, bench/pwhash.c) and by Bun.password (the peer's,
    bench/peer_hash.ts), alternating ABBA, a.rounds times each: whether
    the two implementations cost the same, which f's ratio depends on."""
    secs = min(a.duration, 5)
    h = run_tool([pwhash, "hash", "bench-password-1"]).strip()
    bun = os.path.join(peer.dir, "node_modules", ".bin", "bun")
    rates = {"sodium": [], "bun": []}
    for k in range(a.rounds):
        for who in (("sodium", "bun") if k % 2 == 0 else ("bun", "sodium")):
            cmd = ([pwhash, "verify", "1", str(secs)] if who == "sodium"
                   else [bun, os.path.join(BENCH, "peer_hash.ts"), h, str(secs)])
            out = run_tool(cmd, raw=raw)
            rates[who].append(json.loads(out.strip().splitlines()[-1])["per_s"])
    r = {k: _mean(v) for k, v in rates.items()}
    r["secs"] = secs
    log("one core each, the same hash: libsodium %.1f/s, Bun.password %.1f/s" % (r["sodium"], r["bun"]))
    return r


def run_peer(stack, peer, a, info, raw):
    """--peer: the peer on its own database, seeded like quire; then every
    scenario on both, alternating, a.rounds runs a side."""
    pwhash = build_pwhash(stack)
    peer.create_db()
    peer.start()
    info["peer_seed"] = peer.seed(seeder, a.users, a.posts, pwhash, a.peer_hash, lambda s: log("peer: " + s))
    stack.wait_replica()
    log("peer: seeded; hashes %s (its own: %s)" % (info["peer_seed"]["hash"], info["peer_seed"]["native_hash"]))
    missing = {sc: peer.supports(sc, peer.work) for sc in a.scenarios}
    for sc, why in missing.items():
        if why:
            log("%s: %s" % (sc, why))
    limits, pairs = [], []
    if not a.no_limits:
        stmtsql = build_stmtsql(stack)
        need = sorted({SCENARIOS[s][3] for s in a.scenarios} - {None})
        for lim in need:
            limits.append(run_limit(stack, a, lim, stmtsql, raw, when="before"))

    def pair(sc):
        # ABBA: quire first in odd rounds, the peer first in even ones, so
        # a machine that drifts one way over the pair favours neither.
        q, p = [], []
        for k in range(a.rounds):
            order = ("quire", "peer") if k % 2 == 0 else ("peer", "quire")
            for who in order:
                if who == "quire":
                    q.append(run_scenario(stack, a, sc, raw))
                elif not missing.get(sc):
                    p.append(run_scenario(stack, a, sc, raw, target=peer))
        pairs.append({"scenario": sc, "quire": q, "peer": p, "missing": missing.get(sc)})

    for sc in [s for s in a.scenarios if s not in WRITERS]:
        pair(sc)
    if not a.no_limits:
        for lim in need:
            limits.append(run_limit(stack, a, lim, stmtsql, raw, when="after"))
    if "d" in a.scenarios:
        pair("d")
        info["durability"] = durability_check(stack)
    for sc in [s for s in a.scenarios if s in NO_RATE_LIMIT]:
        stack.app_restart(rate_limit=0)
        pair(sc)
        stack.app_restart()
    if "f" in a.scenarios:
        info["hash_alone"] = run_hash_alone(stack, a, pwhash, raw)
        info["hash_impls"] = hash_impls(peer, a, pwhash, raw)
    pairs.sort(key=lambda x: x["scenario"])
    return peer_report(a, info, limits, pairs)


def _mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def side(runs):
    """The mean of a side's rounds: req/s, p50, p99, RSS, CPU per request."""
    if not runs:
        return None
    out = {"rps": _mean([r["wrk"]["rps"] for r in runs]),
           "p50": _mean([r["wrk"]["p50_us"] for r in runs]),
           "p99": _mean([r["wrk"]["p99_us"] for r in runs]),
           "rss": max(r["meas"]["rss"]["total_max"] for r in runs),
           "rss_workers": max(r["meas"]["rss"]["workers_sum_max"] for r in runs),
           "rss_web": max(r["meas"]["rss"]["web"] for r in runs),
           "non2xx": sum(r["wrk"]["non2xx"] for r in runs),
           "errors": sum(r["wrk"]["errors"] for r in runs),
           "rounds": [r["wrk"]["rps"] for r in runs]}
    for g in ("workers", "web", "postgres", "loadgen"):
        us = [1e6 * r["meas"]["cpu"][g] / r["wrk"]["requests"] for r in runs if r["wrk"]["requests"]]
        out["cpu_" + g] = _mean(us) or 0.0
    return out


def _x(v, fmt="%.2f"):
    return "–" if v is None else fmt % v


def peer_report(a, info, limits, pairs):
    results = [r for p in pairs for r in p["quire"] + p["peer"]]
    noisy = noise_of([("limit %s %s" % (l["limit"], l["when"]), l) for l in limits] +
                     [("%s %s" % ("peer" if r["peer"] else "quire", r["scenario"]), r) for r in results] +
                     ([("hash alone", info["hash_alone"])] if info.get("hash_alone") else []),
                     info["load0"])
    ps = info["peer_seed"]
    head = "## %s — %s — quire (%d workers, %s) vs the peer (Bun %s) — %d rounds%s%s" % (
        info["date"], info["rev"], a.workers, a.web, info.get("bun", "?"), a.rounds,
        " — quick" if a.quick else "", " — NOISY" if noisy else "")
    L = [head, ""]
    L.append("- machine: %d CPUs, %s; load average %s before the stack came up"
             % (NCPU, info["cpu_model"], info["load0"]))
    L.append("- quire: PostgreSQL primary + streaming replica, %d workers under spawn-fcgi, %s in front; "
             "the peer (`scripts/bench --peer`, from %s): one Bun process (Elysia, Better-Auth with the "
             "bearer plugin, Drizzle over two node-postgres pools of 20), its own database `%s` on the same "
             "primary and replica, as role postgres. Both seeded through their own API with the same shape: "
             "%d users, %d published posts"
             % (a.workers, a.web, os.path.relpath(a.peer_src, ROOT), peerlib.PEER_DB, ps["users"], ps["posts"]))
    L.append("- passwords: quire hashes with libsodium Argon2id, m=%d MiB t=%d p=1 (include/auth.h); the peer "
             "with Bun.password, whose own cost is %s and is not settable by environment; %s"
             % (info["hash_alone"]["memlimit"] // (1024 * 1024) if info.get("hash_alone") else 19,
                info["hash_alone"]["opslimit"] if info.get("hash_alone") else 2, ps["native_hash"],
                "its stored hashes were rewritten at quire's cost (%s, made by bench/pwhash.c; "
                "Bun.password.verify reads the cost from the hash), so f costs the same hash on both"
                % ps["hash"] if a.peer_hash == "quire" else "its hashes were kept at that cost (--peer-hash native)"))
    L.append("- load: wrk -t%d -c%d --latency on both, %d s after a %d s warm-up; each scenario %d runs a side, "
             "alternating quire and the peer (ABBA: quire first in odd rounds); req/s, p50, p99: the mean of "
             "a side's runs; RSS: the largest VmRSS sampled every 0.5 s, quire = the sum of its workers "
             "and the web server (what serves HTTP), the peer = its Bun process; PostgreSQL in neither. "
             "f and h run with quire's rate limit off (the peer has none)"
             % (a.threads, a.connections, a.duration, a.warmup, a.rounds))
    dur = info.get("durability")
    if dur:
        ok = dur["created"] == dur["before"] == dur["after"]
        L.append("- durability (quire, every 201 of POST /posts): %d answered 201, %d rows in the primary, %d after "
                 "killing it (`pg_ctl stop -m immediate`) and starting it again%s"
                 % (dur["created"], dur["before"], dur["after"], "" if ok else " — **MISMATCH**"))
    if noisy:
        L.append("- **noisy run — these figures are not a result:** " + "; ".join(noisy))
        L += ["", "<details><summary>figures of the noisy run (not a result)</summary>", ""]
    L += ["| scenario | quire req/s | peer req/s | quire ÷ peer | quire p50 / p99 ms | peer p50 / p99 ms | "
          "p99 quire ÷ peer | RSS quire MiB (workers + %s) | RSS peer MiB | peer ÷ quire RSS | non-2xx quire / peer |"
          % a.web, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    S = {}
    for p in pairs:
        q, r = side(p["quire"]), side(p["peer"])
        S[p["scenario"]] = (q, r)
        title = "%s: %s" % (p["scenario"], SCENARIOS[p["scenario"]][0])
        if r is None:
            L.append("| %s | %.0f | %s | – | %s / %s | – | – | %s (%s + %s) | – | – | %d / – |" % (
                title, q["rps"], p["missing"] or "not run", ms(q["p50"]), ms(q["p99"]), mib(q["rss"]),
                mib(q["rss_workers"]), mib(q["rss_web"]), q["non2xx"] + q["errors"]))
            continue
        L.append("| %s | %.0f | %.0f | **%.2f** | %s / %s | %s / %s | %s | %s (%s + %s) | %s | %s | %d / %d |" % (
            title, q["rps"], r["rps"], q["rps"] / r["rps"] if r["rps"] else 0, ms(q["p50"]), ms(q["p99"]),
            ms(r["p50"]), ms(r["p99"]), _x(q["p99"] / r["p99"] if r["p99"] else None), mib(q["rss"]),
            mib(q["rss_workers"]), mib(q["rss_web"]), mib(r["rss"]), _x(r["rss"] / q["rss"] if q["rss"] else None, "%.1f"),
            q["non2xx"] + q["errors"], r["non2xx"] + r["errors"]))
    L.append("")
    L += ["CPU per request (µs, the mean of the runs; quire's web server apart):", "",
          "| scenario | quire workers | quire %s | quire postgres | quire total | peer (Bun) | peer postgres | peer total | wrk per request quire / peer |" % a.web,
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sc, (q, r) in sorted(S.items()):
        qt = q["cpu_workers"] + q["cpu_web"] + q["cpu_postgres"]
        if r:
            rt = r["cpu_workers"] + r["cpu_postgres"]
            L.append("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f / %.0f |" % (
                sc, q["cpu_workers"], q["cpu_web"], q["cpu_postgres"], qt, r["cpu_workers"], r["cpu_postgres"], rt,
                q["cpu_loadgen"], r["cpu_loadgen"]))
        else:
            L.append("| %s | %.0f | %.0f | %.0f | %.0f | – | – | – | %.0f / – |" % (
                sc, q["cpu_workers"], q["cpu_web"], q["cpu_postgres"], qt, q["cpu_loadgen"]))
    L.append("")
    fq = S.get("f", (None, None))
    hl = hash_alone_line(info, fq[0]["rps"] if fq[0] else None, fq[1]["rps"] if fq[1] else None,
                         fq[0]["cpu_workers"] + fq[0]["cpu_web"] + fq[0]["cpu_postgres"] if fq[0] else None)
    if hl:
        L += [hl, ""]
    hi = info.get("hash_impls")
    if hi and hi["sodium"]:
        L += ["- the same hash (quire's cost) verified on one core, %d × %d s each, alternating: libsodium "
              "(quire's, bench/pwhash.c) %.1f/s, Bun.password (the peer's, bench/peer_hash.ts) %.1f/s: Bun's "
              "implementation is %.2f× as fast, which f's quire ÷ peer inherits" % (
                  a.rounds, hi["secs"], hi["sodium"], hi["bun"], hi["bun"] / hi["sodium"]), ""]
    L += targets_table(S, info)
    L += ["<details><summary>every run (req/s, in the order run)</summary>", ""]
    for p in pairs:
        L.append("- %s: quire %s; peer %s" % (
            p["scenario"], ", ".join("%.0f" % r["wrk"]["rps"] for r in p["quire"]),
            ", ".join("%.0f" % r["wrk"]["rps"] for r in p["peer"]) or
            (p["missing"] or "–").replace("peer: ", "")))
    if limits:
        L.append("- limits (pgbench on the replica, quire's SQL): " + "; ".join(
            "%s %s %.0f tx/s" % (l["limit"], l["when"], l["tps"]) for l in limits))
    L += ["", "</details>", ""]
    if noisy:
        L += ["</details>", ""]
    return "\n".join(L) + "\n", noisy


def targets_table(S, info):
    """Issue #23's targets, as ratios within this run."""
    def ratio(sc, key="rps", inv=False):
        q, r = S.get(sc, (None, None))
        if not q or not r or not r[key] or not q[key]:
            return None
        return r[key] / q[key] if inv else q[key] / r[key]

    rows = []

    def add(name, v, ok, fmt="%.2f×"):
        rows.append("| %s | %s | %s |" % (name, "–" if v is None else fmt % v,
                                           "not measured" if v is None else ("met" if ok(v) else "**NOT met**")))

    add("a GET /posts/:id ≥ 3× the peer", ratio("a"), lambda v: v >= 3)
    add("b GET /posts?limit=20 ≥ 3×", ratio("b"), lambda v: v >= 3)
    add("d POST /posts ≥ 3×", ratio("d"), lambda v: v >= 3)
    add("p99 of a ≤ ⅓ of the peer's", ratio("a", "p99"), lambda v: v <= 1 / 3.0)
    add("p99 of d ≤ ⅓ of the peer's", ratio("d", "p99"), lambda v: v <= 1 / 3.0)
    add("e GET /health ≥ 0.6× the peer", ratio("e"), lambda v: v >= 0.6)
    h = info.get("hash_alone")
    fq = S.get("f", (None, None))[0]
    add("f POST /auth/login within 10 % of the Argon2id cost alone",
        fq["rps"] / h["per_s"] if fq and h and h["per_s"] else None, lambda v: v >= 0.9, "%.2f of hash-alone")
    add("c GET /auth/me (no target; the issue's figure 10.9×)", ratio("c"), lambda v: True)
    add("memory: the peer's RSS over quire's in a (the issue's figure 6.6×)", ratio("a", "rss", inv=True),
        lambda v: True, "%.1f×")
    rows.append("| every worker's memory flat in a 5-minute soak with the new flows | `scripts/bench --soak 300` "
                "(its own section) | not part of this run |")
    return ["| target (issue #23) | this run | |", "|---|---:|---|"] + rows + [""]


if __name__ == "__main__":
    sys.exit(main())
