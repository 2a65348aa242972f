"""Database faults as /health/db and the routes see them: the replica
stopped (degraded, reads still served), the primary stopped (down, 503
within the connect timeout), and both coming back without a restart."""

import time

from lib import check_envelope_error, get, post, stack, unique_email, wait_for


def _db():
    r = get("/health/db")
    return r.status, r.json


def test_replica_stopped_is_degraded():
    stack("pg-stop", "replica", "fast")
    try:
        def degraded():
            st, j = _db()
            return st == 200 and j["data"]["status"] == "degraded" and j
        j = wait_for(degraded, timeout=15, what="degraded")
        d = j["data"]
        assert j["success"] is True
        assert d["primary"]["status"] == "up"
        assert d["replica"]["status"] == "down"
        assert d["replica"]["latencyMs"] is None
        # Reads that would use the replica fall back to the primary.
        email = unique_email("deg")
        r = post("/auth/signup", json_body={"name": "Deg", "email": email, "password": "password123"})
        assert r.status == 201, r
        tok = r.json["data"]["token"]
        for _ in range(5):
            r = get("/auth/me", headers={"Authorization": "Bearer " + tok})
            assert r.status == 200, r
    finally:
        stack("pg-start", "replica")
    wait_for(lambda: _db()[1]["data"]["status"] == "ok", timeout=30, what="replica back")


def test_primary_stopped_is_down_503():
    stack("pg-stop", "primary", "fast")
    try:
        def down():
            st, j = _db()
            return st == 503 and j
        t0 = time.time()
        j = wait_for(down, timeout=15, what="down")
        assert time.time() - t0 < 15
        assert j["success"] is False and j["error"] == "SERVICE_UNAVAILABLE"
        assert j["data"]["status"] == "down", j
        assert j["data"]["primary"]["status"] == "down"
        assert j["data"]["replica"]["status"] == "up"
        # A write answers 503 quickly, never hangs.
        t0 = time.time()
        r = post("/auth/signup", json_body={"name": "X", "email": unique_email("down"),
                                             "password": "password123"})
        check_envelope_error(r, 503, "SERVICE_UNAVAILABLE")
        assert time.time() - t0 < 5, "503 must come within the connect timeout"
        # /health touches no database.
        assert get("/health").status == 200
    finally:
        stack("pg-start", "primary")
    wait_for(lambda: _db()[0] == 200, timeout=30, what="primary back")
    # Writes work again without restarting anything.
    r = wait_for(lambda: (lambda x: x.status == 201 and x)(
        post("/auth/signup", json_body={"name": "Back", "email": unique_email("back"),
                                        "password": "password123"})), timeout=20, what="write after restart")
    assert r.status == 201
