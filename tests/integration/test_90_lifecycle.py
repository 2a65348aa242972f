"""Process life: a killed worker is replaced while the others keep
serving; SIGTERM lets the request in flight finish, then the service
exits 0."""

import os
import signal
import subprocess
import threading
import time

from lib import ENV, ROOT, RUN_DIR, get, post, stack, unique_email, wait_for


def _workers():
    return [int(p) for p in stack("app-workers").split()]


def _batch():
    """quire's --batch N for this run (QUIRE_BATCH, scripts/lib/app.sh), 1 when off."""
    return int(os.environ.get("QUIRE_BATCH") or 1)


def test_killed_worker_is_replaced():
    """One request at a time per worker (the default), a killed worker
    takes only the request it was serving; in batch mode (--batch N) up to
    the N of its batch (test_killed_batch_worker_takes_its_batch)."""
    _killed_worker_loses_at_most(_batch(), threads=4, path="/health")


def test_killed_batch_worker_takes_its_batch():
    """--batch 8: a worker holds up to 8 requests at once, and a worker
    killed mid-batch takes every one of them (the web server answers each
    5xx); never more than 8, and the others and the replacement serve on."""
    stack("app-restart", env_extra={"QUIRE_BATCH": "8"})
    try:
        # A read: its handler waits in the batch's pipeline.
        lost = _killed_worker_loses_at_most(8, threads=16, path="/posts?limit=5")
        print("# --batch 8: the killed worker took %d requests with it" % lost)
    finally:
        stack("app-restart", env_extra={"QUIRE_BATCH": os.environ.get("QUIRE_BATCH", "")})


def _killed_worker_loses_at_most(most, threads, path):
    """Kills a worker under load from `threads' clients; at most `most'
    requests fail (5xx), and every one after its replacement is served.
    Returns how many failed."""
    before = _workers()
    assert len(before) == int(ENV["QUIRE_WORKERS"]), before
    stop = threading.Event()
    results = []

    def hammer():
        while not stop.is_set():
            try:
                results.append(get(path).status)
            except Exception as e:  # noqa
                results.append(repr(e))

    pool = [threading.Thread(target=hammer) for _ in range(threads)]
    for t in pool:
        t.start()
    time.sleep(0.3)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    after = wait_for(lambda: (lambda w: len(w) == len(before) and victim not in w and w)(_workers()),
                     timeout=10, what="replacement worker")
    mark = len(results)
    time.sleep(0.5)
    stop.set()
    for t in pool:
        t.join()
    assert victim not in after
    assert len(results) > 20, results
    bad = [x for x in results[:mark] if x != 200]
    # Only what the victim was serving may be lost, answered by the web
    # server with a 5xx rather than hanging.
    assert len(bad) <= most and all(isinstance(x, int) and x >= 500 for x in bad), bad[:10]
    # Once replaced, every request is served.
    assert all(x == 200 for x in results[mark:]), results[mark:][:10]
    assert "died of signal 9" in open(os.path.join(RUN_DIR, "app.log"), errors="replace").read()
    return len(bad)


def test_graceful_shutdown_finishes_request_in_flight():
    # Hold a lock the login's rate-limit upsert needs, so the request is
    # provably inside a worker when SIGTERM arrives.
    env = dict(os.environ, QUIRE_RUN_DIR=RUN_DIR)
    for k in ("QUIRE_HTTP_PORT", "QUIRE_PG_PRIMARY_PORT", "QUIRE_PG_REPLICA_PORT", "QUIRE_WEB", "QUIRE_WORKERS"):
        env[k] = ENV[k]
    locker = subprocess.Popen([os.path.join(ROOT, "scripts", "stack"), "psql", "primary", "-XAtq"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)
    try:
        locker.stdin.write("BEGIN; LOCK TABLE auth_attempts IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == "locked"
        out = {}

        def login():
            out["r"] = post("/auth/login", json_body={"email": unique_email("gs"), "password": "whatever1"},
                            headers={"X-Request-Id": "graceful-1"})

        t = threading.Thread(target=login)
        t.start()
        # Wait until the worker is blocked on the lock.
        # As the superuser: the owner role cannot see the app role's waits.
        wait_for(lambda: "t" in stack("psql-admin", "primary", "-XAtq", "-c",
                 "SELECT bool_or(wait_event_type = 'Lock') FROM pg_stat_activity "
                 "WHERE application_name = 'quire'"), timeout=10, what="request blocked on lock")
        pid = int(stack("app-pid").strip())
        exitfile = os.path.join(RUN_DIR, "app.exit")
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        assert t.is_alive(), "the request must still be in flight"
        locker.stdin.write("COMMIT;\n")
        locker.stdin.flush()
        t.join(15)
        assert not t.is_alive()
        r = out["r"]
        # The in-flight login was answered by the app itself (401: unknown email).
        assert r.status == 401, r
        assert r.json["error"] == "UNAUTHORIZED"
        wait_for(lambda: os.path.exists(exitfile) and open(exitfile).read().strip() != "",
                 timeout=15, what="exit status")
        assert open(exitfile).read().strip() == "0"
    finally:
        locker.stdin.close()
        locker.wait(10)
        stack("app-start")
    assert get("/health").status == 200
