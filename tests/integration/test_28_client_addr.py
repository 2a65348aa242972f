"""The client address behind proxies (QUIRE_TRUSTED_PROXIES=127.0.0.1 in
the test stack): with two X-Forwarded-For lines, the second added by a
proxy in front of the web server as HAProxy's option forwardfor does, the
session's address and the rate-limit bucket are the proxy's view, never
the line the client wrote. Through lighttpd and nginx alike (nginx passed
one param per line and the app read the client's). Addresses are kept in
one canonical spelling, and an entry that is no address never fails a
request."""

import random
import uuid

from lib import psql, unique_email, wait_for
import rawhttp

PW = "correct horse 1"


def _rand_v4(first):
    return "%d.%d.%d.%d" % (first, random.randint(0, 255), random.randint(0, 255), random.randint(1, 254))


def _signup(xff_lines, email=None, ua=None):
    email = email or unique_email("xff")
    body = ('{"name": "Xff", "email": "%s", "password": "%s"}' % (email, PW)).encode()
    hdrs = [("Content-Type", "application/json")] + [("X-Forwarded-For", v) for v in xff_lines]
    if ua is not None:
        hdrs.append(("User-Agent", ua))
    r = rawhttp.send("POST", "/auth/signup", hdrs, body)
    assert r is not None, "no answer"
    return r, email


def _session_row(user_id):
    return psql("primary", "SELECT ip_address, encode(convert_to(user_agent, 'UTF8'), 'hex') "
                "FROM sessions WHERE user_id = '%s'" % user_id).strip().split("|")


def test_second_line_is_the_proxy_view():
    spoofed, real = _rand_v4(6), _rand_v4(10)
    r, _ = _signup([spoofed, real])
    assert r.status == 201, r
    uid = r.json["data"]["user"]["id"]
    assert _session_row(uid)[0] == real, (_session_row(uid), real)
    keys = psql("primary", "SELECT key FROM auth_attempts WHERE key IN ('addr:%s', 'addr:%s')"
                % (spoofed, real)).split()
    assert keys == ["addr:" + real], keys


def test_spoofed_first_line_does_not_evade_the_rate_limit():
    real = _rand_v4(10)
    statuses = []
    for i in range(11):
        # A fresh spoofed address each time: a bucket each, before the fix.
        r, _ = _signup([_rand_v4(6), real])
        statuses.append(r.status)
    assert statuses[:10] == [201] * 10, statuses
    assert statuses[10] == 429, statuses
    assert r.header("Retry-After"), r.headers


def test_one_spelling_per_address():
    tail = "%x:%x" % (random.randint(1, 0xffff), random.randint(1, 0xffff))
    spellings = ["2001:DB8:0:0:0:0:%s" % tail.upper(), "2001:db8::%s" % tail, "[2001:db8::%s]" % tail]
    for s in spellings:
        r, _ = _signup([s])
        assert r.status == 201, (s, r)
    got = psql("primary", "SELECT count FROM auth_attempts WHERE key = 'addr:2001:db8::%s'" % tail).strip()
    assert got == "3", (got, tail)


def test_unparsable_entries_never_fail():
    # Cut in the middle of a character, not an address, empty: answered, and
    # the address is the last one a trusted hop vouched for (127.0.0.1 here).
    for xff in (b"1.2.3.\xc3", b"\xff\xfe", b"evil.example.com", b"1.2.3.4:5678", b" , ,", "\u00e9".encode()):
        r, _ = _signup([xff])
        assert r.status == 201, (xff, r)
        ip = _session_row(r.json["data"]["user"]["id"])[0]
        assert ip == "127.0.0.1", (xff, ip)


def test_user_agent_kept_as_valid_text():
    # Not UTF-8, a character across the 256-byte cut, control bytes: the
    # client signs up and in; what is kept is valid UTF-8 of at most 256 bytes.
    cases = [
        (b"Mozilla/5.0 \xff\xfe (broken)", "Mozilla/5.0 \ufffd\ufffd (broken)"),
        (b"a" * 255 + "\u00e9".encode(), "a" * 255),
        (b"b" * 254 + "\u20ac".encode(), "b" * 254),
        ("\u00e9".encode() * 200, "\u00e9" * 128),
        (b"x" * 100000, "x" * 256),
    ]
    for ua, want in cases:
        r, email = _signup([_rand_v4(10)], ua=ua)
        if len(ua) > 8000:
            # Past the web server's header limit: its own 4xx, never a 500.
            assert r.status != 500 and (r.status == 201 or 400 <= r.status < 500), r
            if r.status != 201:
                continue
        assert r.status == 201, (ua[:40], r)
        hexed = _session_row(r.json["data"]["user"]["id"])[1]
        kept = bytes.fromhex(hexed).decode("utf-8")
        assert kept == want, (ua[:40], kept[:60])
        # And the same client logs in.
        body = ('{"email": "%s", "password": "%s"}' % (email, PW)).encode()
        r = rawhttp.send("POST", "/auth/login", [("Content-Type", "application/json"),
                         ("X-Forwarded-For", _rand_v4(10)), ("User-Agent", ua)], body)
        assert r.status == 200, (ua[:40], r)
