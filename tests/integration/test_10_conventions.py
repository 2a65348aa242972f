"""The contract's conventions: envelope, headers, routing rules, body
rules, and the operations routes /health and /health/db."""

import re
import uuid

from lib import (app_log, check_envelope_error, get, log_lines, post, request)


def test_health_shape():
    r = get("/health")
    assert r.status == 200, r
    j = r.json
    assert j["success"] is True
    d = j["data"]
    assert d["status"] == "ok"
    assert isinstance(d["version"], str) and d["version"]
    assert isinstance(d["uptimeSeconds"], int) and d["uptimeSeconds"] >= 0
    assert r.header("Content-Type") == "application/json; charset=utf-8"
    assert r.header("Content-Length") == str(len(r.body))


def test_health_v1_alias_and_trailing_slash():
    for path in ("/v1/health", "/health/", "/v1/health/", "/health?x=1", "/v1/health/db"):
        r = get(path)
        assert r.status == 200, (path, r)
        assert r.json["success"] is True, path


def test_exact_path_matching():
    # (lighttpd itself folds "//" into "/", so that case is the server's.)
    for path in ("/healthz", "/v10/health", "/v1v1/health", "/HEALTH",
                 "/health/db/x", "/", "/v1", "/v1/", "/posts-x"):
        r = get(path)
        check_envelope_error(r, 404, "NOT_FOUND")


def test_method_not_allowed_with_allow():
    r = post("/health", json_body={})
    j = check_envelope_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("Allow") == "GET, HEAD", r.headers
    r = request("DELETE", "/v1/health/db")
    check_envelope_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("Allow") == "GET, HEAD"
    r = get("/auth/login")
    check_envelope_error(r, 405, "METHOD_NOT_ALLOWED")
    assert r.header("Allow") == "POST"
    assert r.header("Cache-Control") == "no-store", "errors under /auth/* are no-store too"
    r = request("PUT", "/auth/signup", body="{}", headers={"Content-Type": "application/json"})
    check_envelope_error(r, 405, "METHOD_NOT_ALLOWED")
    assert j["message"]


def test_head_is_get_without_body():
    r = request("HEAD", "/health")
    assert r.status == 200
    assert r.body == b""


def test_request_id_generated():
    a = get("/health").header("X-Request-Id")
    b = get("/health").header("X-Request-Id")
    assert a and b and a != b
    assert re.fullmatch(r"[0-9a-f]{32}", a), a


def test_request_id_echoed_when_sane():
    for rid in ("abc-123_X.y", "a" * 128):
        r = get("/health", headers={"X-Request-Id": rid})
        assert r.header("X-Request-Id") == rid
    # Errors echo it too.
    r = get("/nope", headers={"X-Request-Id": "trace-404"})
    assert r.status == 404 and r.header("X-Request-Id") == "trace-404"


def test_request_id_replaced_when_not_sane():
    for rid in ("a" * 129, "has space", "semi;colon", "ü", "<script>"):
        r = get("/health", headers={"X-Request-Id": rid})
        got = r.header("X-Request-Id")
        assert got != rid and re.fullmatch(r"[0-9a-f]{32}", got), (rid, got)


def test_one_log_line_per_request():
    rid = "logline-" + uuid.uuid4().hex
    get("/health/", headers={"X-Request-Id": rid})
    get("/nope", headers={"X-Request-Id": rid + "b"})
    lines = log_lines(rid)
    assert len(lines) == 1, lines
    l = lines[0]
    assert "method=GET" in l and "path=/health" in l and "status=200" in l, l
    assert re.search(r"duration_ms=[0-9]+\.[0-9]+", l), l
    lines = log_lines(rid + "b")
    assert len(lines) == 1 and "status=404" in lines[0], lines


def test_body_too_large_413():
    big = b'{"name":"' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = request("POST", "/auth/signup", body=big, headers={"Content-Type": "application/json"})
    check_envelope_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert r.header("Cache-Control") == "no-store"
    # Precedence: 413 before 415.
    r = request("POST", "/auth/signup", body=big, headers={"Content-Type": "text/plain"})
    check_envelope_error(r, 413, "PAYLOAD_TOO_LARGE")
    # The next request on the worker is served normally.
    assert get("/health").status == 200


def test_body_at_limit_is_read():
    # Exactly at the limit: not 413 (it is then judged as JSON).
    body = b'{"name":"' + b"x" * (1024 * 1024 - 11) + b'"}'
    assert len(body) == 1024 * 1024
    r = request("POST", "/auth/signup", body=body, headers={"Content-Type": "application/json"})
    check_envelope_error(r, 400, "VALIDATION_ERROR")


def test_unsupported_media_type_415():
    for hdrs in ({"Content-Type": "text/plain"}, {}, {"Content-Type": "application/jsonx"},
                 {"Content-Type": "application/x-www-form-urlencoded"}):
        r = request("POST", "/auth/login", body='{"email":"a@b.co","password":"x"}', headers=hdrs)
        check_envelope_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    # No body and no type at all: 415 as well.
    r = request("POST", "/auth/login")
    check_envelope_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_media_type_case_and_parameters_accepted():
    for ct in ("APPLICATION/JSON", "application/json; charset=utf-8", "Application/Json;charset=UTF-8"):
        r = request("POST", "/auth/login", body="[]", headers={"Content-Type": ct})
        check_envelope_error(r, 400, "INVALID_JSON")


def test_invalid_json_400():
    for body in (b"", b"{", b"not json", b"[]", b"\"str\"", b"42", b"null",
                 b'{"a":1,"a":2}', b"\xff\xfe{}", b'{"name":"\xc3"}'):
        r = request("POST", "/auth/signup", body=body, headers={"Content-Type": "application/json"})
        check_envelope_error(r, 400, "INVALID_JSON")


def test_health_db_ok():
    r = get("/health/db")
    assert r.status == 200, r
    d = r.json["data"]
    assert d["status"] == "ok", d
    assert d["primary"]["status"] == "up"
    assert isinstance(d["primary"]["latencyMs"], (int, float)) and d["primary"]["latencyMs"] >= 0
    assert d["replica"]["status"] == "up"
    assert isinstance(d["replica"]["lagSeconds"], (int, float)) and d["replica"]["lagSeconds"] >= 0
    assert isinstance(d["replica"]["latencyMs"], (int, float))


def test_no_internal_details_in_errors():
    for r in (get("/nope"), post("/auth/login", json_body={"x": 1}),
              request("POST", "/auth/signup", body="{", headers={"Content-Type": "application/json"})):
        text = r.body.decode()
        for leak in ("SELECT", "INSERT", "/work/", "/src/", ".c:", "$argon2", "postgres"):
            assert leak not in text, (leak, text)


def test_openapi_document_served_raw():
    for path in ("/openapi.json", "/v1/openapi.json"):
        r = get(path)
        assert r.status == 200, r
        assert r.header("Content-Type") == "application/json; charset=utf-8"
        doc = r.json
        assert doc["openapi"].startswith("3."), doc.get("openapi")
        assert "success" not in doc, "the document is not wrapped in the envelope"
        for p in ("/health", "/health/db", "/metrics", "/openapi.json", "/auth/signup", "/auth/login",
                  "/auth/logout", "/auth/me", "/users", "/users/{id}", "/posts", "/posts/{id}"):
            assert p in doc["paths"], p


def test_migrate_is_idempotent():
    import os
    import subprocess
    from lib import ENV, ROOT, psql
    before = psql("primary", "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations").strip()
    assert before.startswith("001-init"), before
    p = subprocess.run([os.path.join(ROOT, "build", "quirectl"), "migrate", "--schema-dir",
                        os.path.join(ROOT, "schema")], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, QUIRE_PRIMARY_URL=ENV["QUIRE_PRIMARY_URL"]))
    assert p.returncode == 0, p.stderr
    assert "up to date" in p.stdout, p.stdout
    after = psql("primary", "SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations").strip()
    assert after == before
