"""The app's log stays logfmt (issue #26, section 3): every line the app
writes, whatever a request makes PostgreSQL say, parses with a strict
logfmt parser. A post with a word longer than 2,047 characters makes the
server send NOTICE "word is too long to be indexed", which libpq's default
receiver would write raw (two lines, NOTICE and DETAIL) to stderr; the app
logs it as one line at debug, and a WARNING at warn, primary message only.
Then conf/logrotate.quire: logrotate -f on the running app's log, no line
lost or split."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid

from lib import (ROOT, RUN_DIR, app_log, bearer, hdr, post, psql, stack, unique_email, wait_for)

PW = "correct horse 1"
LOG = os.path.join(RUN_DIR, "app.log")
LEVELS = ("debug", "info", "warn", "error")
NOTICE_TEXT = "word is too long to be indexed"


# ------------------------------------------------------------ the parser

KEY = re.compile(r"[a-z_]+")
BARE = re.compile(r'[^\x00-\x20"=\\\x7f]+')


def parse_logfmt(line):
    """One log line (str, no newline) as a list of (key, value); raises
    ValueError unless it is strict logfmt: key=value pairs separated by
    one space, keys [a-z_]+ and not repeated, a value bare (no space,
    quote, '=', backslash or control character) or double-quoted with
    only \\", \\\\ and \\xNN escapes and no control character inside; the
    first two keys time and level, the level one of ours."""
    pairs = []
    i, n = 0, len(line)
    if n == 0:
        raise ValueError("empty line")
    while True:
        m = KEY.match(line, i)
        if not m or m.end() >= n or line[m.end()] != "=":
            raise ValueError("no key=value at %d: %r" % (i, line))
        key = m.group(0)
        i = m.end() + 1
        if line[i] == '"':
            i += 1
            val = []
            while True:
                if i >= n:
                    raise ValueError("unterminated quote: %r" % line)
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    e = line[i + 1:i + 2]
                    if e in ('"', "\\"):
                        val.append(e)
                        i += 2
                    elif e == "x" and re.fullmatch(r"[0-9a-f]{2}", line[i + 2:i + 4]):
                        val.append(chr(int(line[i + 2:i + 4], 16)))
                        i += 4
                    else:
                        raise ValueError("bad escape at %d: %r" % (i, line))
                    continue
                if ord(c) < 0x20 or c == "\x7f":
                    raise ValueError("control character in a quoted value: %r" % line)
                val.append(c)
                i += 1
            value = "".join(val)
        else:
            m = BARE.match(line, i)
            if not m:
                raise ValueError("empty or bad bare value at %d: %r" % (i, line))
            value = m.group(0)
            i = m.end()
        if any(k == key for k, _ in pairs):
            raise ValueError("key %s twice: %r" % (key, line))
        pairs.append((key, value))
        if i == n:
            break
        if line[i] != " ":
            raise ValueError("no space after a value at %d: %r" % (i, line))
        i += 1
    if [k for k, _ in pairs[:2]] != ["time", "level"] or pairs[1][1] not in LEVELS:
        raise ValueError("does not start with time= level=: %r" % line)
    return pairs


def test_the_parser_is_strict():
    good = ('time=2026-12-05T22:26:45.654Z level=info app=quire pid=1 '
            'func=f msg="a \\"b\\" \\\\ \\x0a c=d"')
    assert dict(parse_logfmt(good))["msg"] == 'a "b" \\ \n c=d'
    for bad in ("NOTICE:  word is too long to be indexed",
                "DETAIL:  Words longer than 2047 characters are ignored.",
                "", "time=x level=info msg=\"open", "time=x level=info msg=a\tb",
                "time=x level=info msg=a  x=b", "time=x level=info Msg=a",
                "time=x level=info msg=\"a\\n\"", "time=x level=loud",
                "level=info time=x", "time=x level=info msg=a msg=b",
                "time=x level=info msg=a=b", "time=x level=info msg= x=1",
                "time=x level=info msg=a "):
        try:
            parse_logfmt(bad)
        except ValueError:
            continue
        raise AssertionError("accepted: %r" % bad)


def request_line(rid):
    """Waits for the request line of rid (a notice's line, which also
    carries the request id, is written before it)."""
    return wait_for(lambda: "reqid=%s method=" % rid in app_log(), what="request line of %s" % rid)


def log_size():
    return os.path.getsize(LOG)


def lines_since(offset):
    """The app's log from byte offset on, checked line by line: each must
    be UTF-8 and strict logfmt. Returns the parsed lines as dicts."""
    with open(LOG, "rb") as f:
        f.seek(offset)
        data = f.read()
    assert data.endswith(b"\n"), "the last line is cut: %r" % data[-200:]
    out = []
    for raw in data[:-1].split(b"\n"):
        line = raw.decode("utf-8")      # strict: a non-UTF-8 byte fails
        try:
            out.append(dict(parse_logfmt(line)))
        except ValueError as e:
            raise AssertionError("not logfmt: %s\n%s" % (e, data.decode("utf-8", "replace")[-3000:]))
    return out


# ------------------------------------------------------------ the notices

def signup():
    r = post("/auth/signup", json_body={"name": "Logfmt", "email": unique_email("l61"), "password": PW},
             headers=hdr())
    assert r.status == 201, r
    return r.json["data"]["token"]


def long_word_post(tok, title="Long words"):
    """Creates a post with a 3,000-character word; returns its request id."""
    rid = "t61-" + uuid.uuid4().hex
    content = "before " + "x" * 3000 + " after"
    r = post("/posts", json_body={"title": title, "content": content},
             headers=hdr(dict(bearer(tok), **{"X-Request-Id": rid})))
    assert r.status == 201, r
    assert r.header("X-Request-Id") == rid, r.headers
    return rid


WARN_FN = """
CREATE OR REPLACE FUNCTION t61_warn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.title LIKE 't61-warn-%' THEN
        RAISE WARNING 'test "warning" for %', NEW.title || E'\\nsecond line'
            USING ERRCODE = '01Q61', DETAIL = 'detail t61-secret', HINT = 'hint t61-secret';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER t61_warn BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION t61_warn();
"""
WARN_DROP = "DROP TRIGGER IF EXISTS t61_warn ON posts; DROP FUNCTION IF EXISTS t61_warn();"


def test_notice_dropped_warning_logged_at_info():
    """At the default level: the NOTICE is dropped, a WARNING (from a
    trigger made for the test) is one warn line with its SQLSTATE and
    primary message, escaped, without DETAIL or HINT."""
    tok = signup()
    psql("primary", WARN_DROP)
    psql("primary", WARN_FN)
    try:
        offset = log_size()
        rid = long_word_post(tok)
        title = "t61-warn-" + uuid.uuid4().hex[:8]
        wid = long_word_post(tok, title=title)
        request_line(rid)
        request_line(wid)
        lines = lines_since(offset)
    finally:
        psql("primary", WARN_DROP)
    text = repr(lines)
    assert NOTICE_TEXT not in text, "a NOTICE is debug: %s" % text
    assert "Words longer than" not in text and "t61-secret" not in text, text
    warns = [l for l in lines if l.get("func") == "notice"]
    assert len(warns) == 1, warns
    w = warns[0]
    assert w["level"] == "warn" and w["reqid"] == wid, w
    assert w["msg"] == 'WARNING from primary: 01Q61 test "warning" for %s\nsecond line' % title, w
    reqs = [l for l in lines if l.get("reqid") in (rid, wid) and l.get("route") == "/posts"]
    assert len(reqs) == 2 and all(l["status"] == "201" for l in reqs), reqs


def test_notice_is_one_debug_line():
    """At debug: the NOTICE is one line, with the request's id, the
    severity, the SQLSTATE and the primary message; no DETAIL."""
    stack("app-restart", env_extra={"QUIRE_LOG_LEVEL": "debug"})
    try:
        tok = signup()
        offset = log_size()
        rid = long_word_post(tok)
        request_line(rid)
        lines = lines_since(offset)
    finally:
        stack("app-restart")
    notices = [l for l in lines if l.get("func") == "notice"]
    assert len(notices) == 1, notices
    n = notices[0]
    assert n["level"] == "debug" and n["reqid"] == rid, n
    # 54000: program_limit_exceeded.
    assert n["msg"] == "NOTICE from primary: 54000 " + NOTICE_TEXT, n
    assert "Words longer than" not in repr(lines), lines


# ------------------------------------------------------------ logrotate

def rotate_conf(tmp):
    """conf/logrotate.quire for the test stack's log."""
    with open(os.path.join(ROOT, "conf", "logrotate.quire")) as f:
        text = f.read()
    assert "/var/log/quire/quire.log {" in text, text
    conf = os.path.join(tmp, "quire")
    with open(conf, "w") as f:
        f.write(text.replace("/var/log/quire/quire.log {", LOG + " {"))
    os.chmod(conf, 0o644)
    return conf


def health_burst(tag, n=30):
    """n requests with request ids of our own; waits for their lines."""
    rids = ["t61-%s-%d-%s" % (tag, i, uuid.uuid4().hex[:8]) for i in range(n)]
    for rid in rids:
        r = post("/posts", json_body={}, headers=hdr({"X-Request-Id": rid}))
        assert r.status == 401, r
    for rid in rids:
        request_line(rid)
    return rids


def count_rids(path, rids, offset=0):
    """How often each of rids has a line in path from offset on; every
    line there must parse, and there must be no NUL byte."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    assert b"\0" not in data, "NUL bytes in %s: the log was not opened to append" % path
    assert data.endswith(b"\n"), "%s ends in a cut line" % path
    seen = {}
    for raw in data[:-1].split(b"\n"):
        line = dict(parse_logfmt(raw.decode("utf-8")))
        if line.get("reqid") in rids:
            seen[line["reqid"]] = seen.get(line["reqid"], 0) + 1
    return seen


def test_logrotate_copytruncate_keeps_every_line():
    logrotate = shutil.which("logrotate") or shutil.which("/usr/sbin/logrotate")
    assert logrotate, "logrotate (Debian package logrotate, scripts/deps) is needed"
    for old in os.listdir(RUN_DIR):
        if re.fullmatch(r"app\.log\.\d+(\.gz)?", old):
            os.unlink(os.path.join(RUN_DIR, old))
    with open(os.path.join(RUN_DIR, "app.pid")) as f:
        pid = f.read().strip()
    tmp = tempfile.mkdtemp(prefix="quire-logrotate-")
    try:
        conf = rotate_conf(tmp)
        start = log_size()
        before = health_burst("before")
        # Buffered request lines of any worker are written within 100 ms.
        time.sleep(0.5)
        size = log_size()
        p = subprocess.run([logrotate, "-f", "-s", os.path.join(tmp, "state"), conf],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        rotated = LOG + ".1"
        assert os.path.exists(rotated), os.listdir(RUN_DIR)
        assert os.path.getsize(rotated) >= size, (os.path.getsize(rotated), size)
        after = health_burst("after")
        with open(os.path.join(RUN_DIR, "app.pid")) as f:
            assert f.read().strip() == pid, "the app was not restarted"
        # The same processes write on, from the start of the emptied file
        # (count_rids: no NUL bytes, no cut line).
        old = count_rids(rotated, set(before + after), start)
        new = count_rids(LOG, set(before + after))
        assert old == {r: 1 for r in before}, old
        assert new == {r: 1 for r in after}, new
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
