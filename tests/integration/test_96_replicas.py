"""Several replicas in QUIRE_REPLICA_URL: reads are spread over them, and
one that is down is skipped (health says degraded, reads still 200)."""

from lib import ENV, get, psql, stack, wait_for


def _restart(replicas):
    stack("app-restart", env_extra={"QUIRE_REPLICA_URL_OVERRIDE": replicas})


def test_reads_spread_over_replicas():
    port = ENV["QUIRE_PG_REPLICA_PORT"]
    _restart("postgresql://quire@127.0.0.1:%s/quire?application_name=rep_a,"
             "postgresql://quire@127.0.0.1:%s/quire?application_name=rep_b" % (port, port))
    try:
        for _ in range(40):
            assert get("/posts?limit=1").status == 200
        names = psql("replica", "SELECT string_agg(DISTINCT application_name, ',') FROM pg_stat_activity "
                                "WHERE application_name LIKE 'rep_%'").strip()
        assert names == "rep_a,rep_b", names
        d = get("/health/db").json["data"]
        assert d["status"] == "ok" and len(d["replicas"]) == 2, d
    finally:
        _restart("")


def test_replica_down_is_skipped():
    port = ENV["QUIRE_PG_REPLICA_PORT"]
    # The second "replica" is a port nothing listens on.
    _restart("postgresql://quire@127.0.0.1:%s/quire,postgresql://quire@127.0.0.1:1/quire" % port)
    try:
        for _ in range(40):
            assert get("/posts?limit=1").status == 200
        r = get("/health/db")
        d = r.json["data"]
        assert r.status == 200 and d["status"] == "degraded", d
        assert [x["status"] for x in d["replicas"]] == ["up", "down"], d
    finally:
        _restart("")
    wait_for(lambda: get("/health/db").json["data"]["status"] == "ok", timeout=10, what="back to one replica")
