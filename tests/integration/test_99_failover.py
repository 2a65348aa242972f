"""Failover, last because it changes the cluster: with the primary
stopped and the replica promoted, writes come back through the app's
multi-host QUIRE_PRIMARY_URL (target_session_attrs=read-write) without
restarting anything. The stack is rebuilt afterwards."""

import random
import time

from lib import check_envelope_error, get, post, stack, unique_email, wait_for


def test_failover_by_promotion():
    r = post("/auth/signup", json_body={"name": "F", "email": unique_email("fo"), "password": "password123"},
             headers={"X-Forwarded-For": "192.0.2.%d" % random.randint(1, 254)})
    assert r.status == 201, r
    h = {"Authorization": "Bearer " + r.json["data"]["token"]}
    before = post("/posts", json_body={"title": "before failover", "content": "x", "published": True}, headers=h)
    assert before.status == 201
    stack("pg-stop", "primary", "fast")
    try:
        check_envelope_error(post("/posts", json_body={"title": "t", "content": "x"}, headers=h),
                             503, "SERVICE_UNAVAILABLE")
        t0 = time.time()
        stack("pg-promote")
        after = wait_for(lambda: (lambda x: x.status == 201 and x)(
            post("/posts", json_body={"title": "after failover", "content": "y", "published": True},
                 headers=h)), timeout=20, what="writes on the promoted replica")
        print("# writes back %.2f s after promotion" % (time.time() - t0))
        # Everything written before is still there, and the new write reads back.
        assert get("/posts/" + before.json["data"]["id"]).status == 200
        g = get("/posts/" + after.json["data"]["id"], headers=h)
        assert g.status == 200 and g.json["data"]["title"] == "after failover"
    finally:
        # Rebuild a fresh primary + replica for whatever runs next.
        stack("down")
        stack("pg-reset")
        stack("up")
    assert get("/health/db").json["data"]["status"] == "ok"
