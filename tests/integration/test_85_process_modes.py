"""The two other ways to run quire: plain `spawn-fcgi -F N` (no
supervising parent) and lighttpd starting the workers itself with
bin-path (lighttpd replaces a dead one). Each runs its own lighttpd on a
free port with the shipped configuration files."""

import http.client
import os
import shutil
import signal
import subprocess
import time

from lib import ROOT, RUN_DIR, free_port, wait_for

QUIRE = os.path.join(ROOT, "build", "quire")


def _app_env():
    env = dict(os.environ)
    with open(os.path.join(RUN_DIR, "app.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v
    return env


def _get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _lighttpd(conf, port, d, extra):
    env = _app_env()
    env.update({"QUIRE_HTTP_PORT": str(port), "QUIRE_SOCKET": os.path.join(d, "q.sock"),
                "QUIRE_WEB_PIDFILE": os.path.join(d, "l.pid"),
                "QUIRE_WEB_ERRORLOG": os.path.join(d, "error.log"),
                "QUIRE_WEB_TMPDIR": d, "QUIRE_WEB_USER": ""})
    env.update(extra)
    p = subprocess.Popen(["lighttpd", "-D", "-f", os.path.join(ROOT, "conf", conf)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p


def _dir(name):
    d = os.path.join(RUN_DIR, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def test_spawn_fcgi_children():
    d = _dir("mode-spawn-fcgi")
    port = free_port()
    pidfile = os.path.join(d, "app.pid")
    env = _app_env()
    with open(os.path.join(d, "app.log"), "w") as log:
        subprocess.run(["spawn-fcgi", "-F", "2", "-s", os.path.join(d, "q.sock"), "-P", pidfile,
                        "--", QUIRE], env=env, check=True, stdin=subprocess.DEVNULL,
                       stdout=log, stderr=log)
    pids = [int(x) for x in open(pidfile).read().split()]
    web = _lighttpd("lighttpd.conf", port, d, {})
    try:
        assert len(pids) == 2 and all(_alive(p) for p in pids), pids
        wait_for(lambda: _get(port, "/health")[0] == 200, timeout=10, what="lighttpd up")
        for _ in range(20):
            st, body = _get(port, "/v1/health/db")
            assert st == 200, body
    finally:
        web.send_signal(signal.SIGINT)
        web.wait(10)
        for p in pids:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
    wait_for(lambda: not any(_alive(p) for p in pids), timeout=10, what="children to exit on SIGTERM")


def test_lighttpd_bin_path_respawns():
    d = _dir("mode-bin-path")
    port = free_port()
    web = _lighttpd("lighttpd-bin-path.conf", port, d, {"QUIRE_BIN_PATH": QUIRE, "QUIRE_BIN_PROCS": "2"})
    kids = []
    try:
        kids = wait_for(lambda: (lambda k: len(k) == 2 and k)(_children(web.pid)), timeout=10,
                        what="lighttpd to start 2 workers")
        wait_for(lambda: _get(port, "/health")[0] == 200, timeout=10, what="served")
        os.kill(kids[0], signal.SIGKILL)
        new = wait_for(lambda: (lambda k: len(k) == 2 and kids[0] not in k and k)(_children(web.pid)),
                       timeout=15, what="lighttpd to replace the worker")
        for _ in range(20):
            st, body = _get(port, "/health")
            assert st == 200, body
        kids = new
    finally:
        web.send_signal(signal.SIGINT)
        web.wait(10)
    wait_for(lambda: not any(_alive(p) for p in kids), timeout=10, what="workers to stop with lighttpd")
