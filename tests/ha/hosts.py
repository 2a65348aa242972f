"""Helpers for the HA stack's tests: talk to one app host directly
(FastCGI over TCP, as nginx does), to both through nginx, and to the
pg_auto_failover nodes."""

import os
import socket
import subprocess

import fcgi
from lib import ENV, ROOT, Resp, request, stack

assert ENV.get("QUIRE_HA") == "1", "run these on `scripts/stack up --ha` (tests/ha/run.py)"
HOSTS = {"a": int(ENV["QUIRE_HOST_A_PORT"]), "b": int(ENV["QUIRE_HOST_B_PORT"])}
CACHE_S = 1.0           # QUIRE_SESSION_CACHE_MS of the stack (the default)
STATEMENT_S = 5.0       # QUIRE_STATEMENT_TIMEOUT_MS of the stack (the default)


def host(name, method, path, headers=None, json_body=None, timeout=15):
    """One request to app host name ("a" or "b") over FastCGI, with the
    parameters nginx would send; returns a lib.Resp."""
    import json as _json
    body = b""
    env = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "REQUEST_URI": path,
           "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"}
    p, _, q = path.partition("?")
    env["PATH_INFO"], env["QUERY_STRING"] = p, q
    if json_body is not None:
        body = _json.dumps(json_body).encode()
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    for k, v in (headers or {}).items():
        env["HTTP_" + k.upper().replace("-", "_")] = v
    s = socket.create_connection(("127.0.0.1", HOSTS[name]), timeout=timeout)
    try:
        s.sendall(fcgi.request(1, p, extra=env, method=method, stdin=body))
        out = fcgi.read_response(s, 1)
    finally:
        s.close()
    assert out is not None, "host %s closed the connection" % name
    head, _, data = out.partition(b"\r\n\r\n")
    status, hdrs = 200, []
    for line in head.decode("latin-1").split("\r\n"):
        k, _, v = line.partition(":")
        v = v.strip()
        if k.lower() == "status":
            status = int(v.split()[0])
        else:
            hdrs.append((k, v))
    return Resp(status, hdrs, data)


def web(method, path, **kw):
    """Through nginx: round robin over both hosts."""
    return request(method, path, **kw)


def host_log(name):
    with open(os.path.join(ENV["QUIRE_RUN_DIR"], "host-" + name, "app.log"), errors="replace") as f:
        return f.read()


def ha_psql(node, sql):
    """SQL as the superuser on node1, node2 or the monitor."""
    return stack("ha-psql", node, "-XAtq", "-c", sql).strip()


def primary():
    return stack("ha-primary").strip()


def standby():
    return "node2" if primary() == "node1" else "node1"


def cookie_of(resp, name):
    """The value a response sets for cookie name, or None."""
    for v in resp.header_all("Set-Cookie"):
        k, _, rest = v.partition("=")
        if k.strip() == name:
            return rest.split(";")[0]
    return None
