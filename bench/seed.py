#!/usr/bin/env python3
"""Seeds a quire stack through its HTTP API, for the benchmark.

    python3 bench/seed.py BASE_URL OUT_DIR [--users 20] [--posts 2000] [--parallel 8]

Signs up USERS users (so the app must run with QUIRE_AUTH_RATE_LIMIT=0),
then creates POSTS published posts spread evenly over them, PARALLEL
requests at a time over keep-alive connections. Writes to OUT_DIR:

    ids.txt            the post ids, one a line, in a fixed shuffled order
    token-me.txt       user 1's session token (scenario c, GET /auth/me)
    token-create.txt   user 2's session token (scenario d, POST /posts)
    tokens.txt         every user's token

Content is pseudo-random but the same on every run (seeded generator).
Standard library only.
"""
import argparse
import http.client
import json
import os
import queue
import random
import sys
import threading
import time
import urllib.parse

WORDS = (
    "quire postgres replica stream lighttpd worker socket request latency "
    "throughput index buffer commit session token author title content "
    "page cursor offset limit benchmark memory process kernel network "
    "query plan cache tuple vacuum analyze primary standby failover "
    "the a of and to in is that for it as with was on be by at this "
    "from or an are not have but which one you all were can there"
).split()


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects once on failure."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def call(self, method, path, body=None, token=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, json.loads(raw) if raw else None
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def text(rng, lo, hi):
    n = rng.randint(lo, hi)
    out, size = [], 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    s = " ".join(out)[:n].strip()
    return s[0].upper() + s[1:]


def run_parallel(jobs, parallel, base, fn):
    """Runs fn(client, job) for every job on PARALLEL threads; returns results
    in job order; raises the first error."""
    q = queue.Queue()
    for i, j in enumerate(jobs):
        q.put((i, j))
    results = [None] * len(jobs)
    errors = []

    def worker():
        c = Client(base)
        while not errors:
            try:
                i, j = q.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = fn(c, j)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    ts = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return results


def seed(base, out_dir, users=20, posts=2000, parallel=8, log=print):
    t0 = time.monotonic()
    rng = random.Random(20261124)
    run_tag = "%x" % int(time.time() * 1000)

    def email(k):
        return "bench%02d-%s@example.com" % (k + 1, run_tag)

    def password(k):
        return "bench-password-%d" % (k + 1)

    def signup(c, k):
        body = {"name": "Bench User %d" % (k + 1),
                "email": email(k),
                "password": password(k)}
        st, doc = c.call("POST", "/auth/signup", body)
        if st != 201:
            raise RuntimeError("signup %d: HTTP %d %s (is QUIRE_AUTH_RATE_LIMIT=0?)" % (k + 1, st, doc))
        return doc["data"]["token"]

    tokens = run_parallel(list(range(users)), min(parallel, users), base, signup)
    t1 = time.monotonic()

    jobs = []
    for k in range(posts):
        jobs.append((tokens[k % users], {
            "title": text(rng, 20, 80),
            "content": text(rng, 200, 1200),
            "published": True,
        }))

    def create(c, job):
        token, body = job
        st, doc = c.call("POST", "/posts", body, token)
        if st != 201:
            raise RuntimeError("POST /posts: HTTP %d %s" % (st, doc))
        return doc["data"]["id"]

    ids = run_parallel(jobs, parallel, base, create)
    t2 = time.monotonic()
    rng.shuffle(ids)

    os.makedirs(out_dir, exist_ok=True)

    def write(name, lines):
        with open(os.path.join(out_dir, name), "w") as f:
            f.write("\n".join(lines) + "\n")

    write("ids.txt", ids)
    write("tokens.txt", tokens)
    write("emails.txt", [email(k) for k in range(users)])
    write("logins.txt", ["%s %s" % (email(k), password(k)) for k in range(users)])
    write("token-me.txt", tokens[:1])
    write("token-create.txt", tokens[1:2] if users > 1 else tokens[:1])
    log("seeded %d users in %.1f s and %d posts in %.1f s (%.0f posts/s)"
        % (users, t1 - t0, posts, t2 - t1, posts / max(t2 - t1, 1e-9)))
    return {"users": users, "posts": posts, "users_s": t1 - t0, "posts_s": t2 - t1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base_url")
    ap.add_argument("out_dir")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--parallel", type=int, default=8)
    a = ap.parse_args()
    seed(a.base_url, a.out_dir, a.users, a.posts, a.parallel)


if __name__ == "__main__":
    sys.exit(main())
