"""GET /metrics: Prometheus text that promtool accepts, with totals that
add up across every worker process."""

import os
import re
import shutil
import signal
import subprocess
import time

from lib import app_log, get, request, stack, wait_for


def _metrics():
    r = get("/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), r.headers
    return r.body.decode()


def _value(text, name, **labels):
    want = ",".join('%s="%s"' % (k, v) for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            m = re.match(r"^(\w+)(\{(.*)\})? (\S+)$", line)
            if m and m.group(1) == name and (m.group(3) or "") == want:
                return float(m.group(4))
    return 0.0


def test_promtool_accepts_metrics():
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed"
    get("/health")
    get("/posts?limit=1")
    p = subprocess.run([promtool, "check", "metrics"], input=_metrics(), capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_v1_alias_and_raw_format():
    r = get("/v1/metrics")
    assert r.status == 200 and r.body.startswith(b"# HELP"), r


def test_request_counts_add_up_across_workers():
    before = _metrics()
    for _ in range(40):
        assert get("/health").status == 200
    for _ in range(7):
        assert request("DELETE", "/health").status == 405
    for _ in range(9):
        assert get("/no/such/route").status == 404
    after = _metrics()

    def delta(name, **labels):
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("quire_http_requests_total", route="/health", method="GET", status="200") == 40
    assert delta("quire_http_requests_total", route="unmatched", method="DELETE", status="405") == 7
    assert delta("quire_http_requests_total", route="unmatched", method="GET", status="404") == 9
    assert delta("quire_http_request_duration_seconds_count", route="/health", method="GET") == 40
    # 40 requests were spread over several workers, yet one total.
    def pids():
        found = set(re.findall(r"pid=(\d+) \S+ method=GET route=/health path", app_log()))
        return len(found) >= 2 and found
    wait_for(pids, timeout=5, what="/health lines from two workers")


def test_reads_by_pool():
    before = _metrics()
    for _ in range(10):
        assert get("/posts?limit=1").status == 200
    after = _metrics()
    d = _value(after, "quire_db_statements_total", pool="replica", kind="read") - \
        _value(before, "quire_db_statements_total", pool="replica", kind="read")
    assert d >= 10, d
    assert "quire_replica_lag_seconds{replica=\"0\"}" in after


def test_worker_restart_counted():
    before = _value(_metrics(), "quire_worker_restarts_total")
    victim = int(stack("app-workers").split()[0])
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: _value(_metrics(), "quire_worker_restarts_total") == before + 1, timeout=10,
             what="restart counted")
