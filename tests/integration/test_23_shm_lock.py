"""The workers' shared segment (src/shm.c) is guarded by a process-shared
robust mutex: a worker killed while it holds the lock (the OOM killer,
kill -9) must not leave the others waiting for it for ever. The app is
restarted with QUIRE_TEST_HOOKS=1, whose hook makes a worker take the lock
and sleep on a request carrying X-Quire-Test: hold-shm-lock; the test
kills that worker and shows that the others go on serving signed-in
requests, and that the supervisor replaced the dead one."""

import concurrent.futures
import os
import re
import signal
import socket
import threading
import time
import uuid

from lib import ENV, app_log, bearer, get, hdr, log_lines, post, stack, unique_email, wait_for

PW = "correct horse 1"


def _workers():
    return set(int(p) for p in stack("app-workers").split())


def _signup():
    r = post("/auth/signup", json_body={"name": "Lock", "email": unique_email("shm"), "password": PW},
             headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"]


def _log_since(offset):
    return app_log()[offset:]


def _served_by(rid):
    line = log_lines(rid)[0]
    return int(re.search(r" pid=(\d+) ", line).group(1))


def test_a_worker_killed_holding_the_lock_does_not_stop_the_others():
    n_workers = int(ENV["QUIRE_WORKERS"])
    assert n_workers >= 2, "needs several workers (QUIRE_WORKERS)"
    offset = len(app_log())
    stack("app-restart", env_extra={"QUIRE_TEST_HOOKS": "1"})
    holder_thread = None
    try:
        wait_for(lambda: "test hooks are on" in _log_since(offset), what="the hooks to be on")
        tok = _signup()
        # Every worker answers before the lock is taken.
        r = get("/auth/me", headers=bearer(tok))
        assert r.status == 200, r
        before = _workers()
        assert len(before) == n_workers, before

        # The hook's request never gets a real answer: its worker dies. A
        # POST, because nginx would send a GET whose worker died to another
        # worker, which would then take the lock in its turn.
        def hold():
            try:
                post("/posts", json_body={}, headers={"X-Quire-Test": "hold-shm-lock"}, timeout=90)
            except (OSError, socket.timeout):
                pass
        holder_thread = threading.Thread(target=hold, daemon=True)
        holder_thread.start()
        m = wait_for(lambda: re.search(r"test hook: worker (\d+) holds the shared lock",
                                       _log_since(offset)), what="a worker to hold the lock")
        holder = int(m.group(1))
        assert holder in before, (holder, before)

        # The lock is really held: a signed-in request needs it and waits.
        t0 = time.time()
        try:
            r = get("/auth/me", headers=bearer(tok), timeout=1.5)
            stuck = False
        except (OSError, socket.timeout):
            stuck = True
        assert stuck, "a signed-in request was answered (%r) while the lock was held" % (r,)
        assert time.time() - t0 >= 1.4

        os.kill(holder, signal.SIGKILL)
        # The worker that was waiting got the lock with EOWNERDEAD.
        wait_for(lambda: "a worker died holding the shared lock" in _log_since(offset),
                 what="the lock's recovery to be logged")

        # The others serve signed-in reads and writes promptly, all of them.
        survivors = before - {holder}
        tag = uuid.uuid4().hex[:10]

        def one(i):
            rid = "shm-%s-%d" % (tag, i)
            h = dict(bearer(tok), **{"X-Request-Id": rid})
            t = time.time()
            if i % 4 == 0:
                r = post("/posts", json_body={"title": "after %d" % i, "content": "still here"},
                         headers=h, timeout=5)
                want = 201
            else:
                r = get("/auth/me", headers=h, timeout=5)
                want = 200
            return r.status == want, time.time() - t, rid, r

        pool = concurrent.futures.ThreadPoolExecutor(8)
        count = [0]

        def burst():
            """48 requests, 8 at a time; returns {pid} that served them
            and the slowest time."""
            res = list(pool.map(one, range(count[0], count[0] + 48)))
            count[0] += 48
            bad = [r for good, _, _, r in res if not good]
            assert not bad, bad[:3]
            return set(_served_by(rid) for _, _, rid, _ in res), max(t for _, t, _, _ in res)

        served = set()
        slowest = 0.0
        for _ in range(10):
            pids, t = burst()
            served |= pids
            slowest = max(slowest, t)
            if survivors <= served:
                break
        assert survivors <= served, "workers %s served nothing" % (survivors - served)
        assert holder not in served
        assert slowest < 3.0, "a request took %.2f s" % slowest

        # The supervisor replaced the dead worker, and the new one serves.
        def replaced():
            now = _workers()
            return len(now) == n_workers and holder not in now and now - before
        new = wait_for(replaced, what="the dead worker to be replaced")
        assert re.search(r"worker %d died of signal 9; replacing it" % holder, _log_since(offset))
        served_new = set()

        def new_served():
            served_new.update(burst()[0])
            return new <= served_new
        wait_for(new_served, timeout=30, interval=0, what="the new worker to serve")
        pool.shutdown()
    finally:
        stack("app-restart")
        if holder_thread is not None:
            holder_thread.join(timeout=5)
    # Restored: the hooks are off again.
    offset2 = len(app_log())
    r = post("/posts", json_body={}, headers={"X-Quire-Test": "hold-shm-lock"}, timeout=5)
    assert r.status == 401, r
    assert "test hook" not in _log_since(offset2)
