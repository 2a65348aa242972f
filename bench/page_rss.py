#!/usr/bin/env python3
"""A worker's peak RSS while it serves a full 4 MiB list page.

Runs against a stack started by scripts/stack with QUIRE_WORKERS=1 (one
worker, so every request lands on it), reading build/run*/stack.env from
QUIRE_RUN_DIR. Creates one author with 41 published posts of ~100 kB of
JSON each (4.1 MB: the largest page under the default QUIRE_MAX_PAGE_BYTES
of 4 MiB), resets the worker's peak (echo 5 > /proc/PID/clear_refs), asks
for GET /posts?authorId=..&limit=41 N times, and prints the worker's
VmHWM (peak RSS) before and after, and the page's size.

    QUIRE_RUN_DIR=build/run-x python3 bench/page_rss.py [--times 20]

Needs root (or the worker's user) for /proc/PID/clear_refs."""

import argparse
import http.client
import json
import os
import subprocess
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def env():
    d = {}
    with open(os.path.join(os.environ["QUIRE_RUN_DIR"], "stack.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            d[k] = v
    return d


def call(port, method, path, body=None, tok=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"X-Forwarded-For": "10.99.%d.%d" % (os.getpid() % 250, uuid.uuid4().int % 250 + 1)}
    if body is not None:
        h["Content-Type"] = "application/json"
    if tok:
        h["Authorization"] = "Bearer " + tok
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def worker_pid():
    out = subprocess.run([os.path.join(ROOT, "scripts", "stack"), "app-pid"], capture_output=True,
                         text=True, check=True).stdout.strip()
    return int(out)


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--times", type=int, default=20)
    ap.add_argument("--posts", type=int, default=41)
    a = ap.parse_args()
    port = int(env()["QUIRE_HTTP_PORT"])
    st, data = call(port, "POST", "/auth/signup", {"name": "Rss", "email": "rss-%s@example.com" % uuid.uuid4().hex[:10],
                                                   "password": "correct horse 1"})
    assert st == 201, (st, data[:200])
    j = json.loads(data)["data"]
    tok, uid = j["token"], j["user"]["id"]
    for i in range(a.posts):
        st, data = call(port, "POST", "/posts", {"title": "rss %d" % i, "content": "y" * 99900,
                                                 "published": True}, tok)
        assert st == 201, (st, data[:200])
    pid = worker_pid()
    path = "/posts?limit=%d&authorId=%s" % (a.posts, uid)
    st, data = call(port, "GET", path)
    assert st == 200, st
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")
    rss0, hwm0 = status(pid, "VmRSS"), status(pid, "VmHWM")
    for _ in range(a.times):
        st, data = call(port, "GET", path)
        assert st == 200, st
    items = len(json.loads(data)["data"])
    print(json.dumps({"pid": pid, "page_bytes": len(data), "items": items, "rss_before_kib": rss0,
                      "hwm_reset_kib": hwm0, "hwm_after_kib": status(pid, "VmHWM"),
                      "rss_after_kib": status(pid, "VmRSS")}))


if __name__ == "__main__":
    sys.exit(main())
