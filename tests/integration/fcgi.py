"""FastCGI records for the tests that talk to the app's socket directly
(test_88 on the stack's unix socket, test_89 on TCP)."""

import struct

BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 3, 4, 5, 6


def record(rtype, rid, content, version=1, pad=0):
    return struct.pack(">BBHHBx", version, rtype, rid, len(content), pad) + content + b"\0" * pad


def params(pairs):
    out = b""
    for k, v in pairs.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return out


def begin(rid, keep=False):
    """A BEGIN_REQUEST record for the responder role."""
    return record(BEGIN_REQUEST, rid, struct.pack(">HB5x", 1, 1 if keep else 0))


def request(rid, path, keep=False, extra=None, method="GET", stdin=b"", stdin_end=True):
    """The records of one request: BEGIN_REQUEST (with FCGI_KEEP_CONN
    when keep), PARAMS and their end, STDIN, and (stdin_end) its end."""
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "REQUEST_URI": path,
           "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1"}
    env.update(extra or {})
    return (begin(rid, keep) + record(PARAMS, rid, params(env))
            + record(PARAMS, rid, b"") + (record(STDIN, rid, stdin) if stdin else b"")
            + (record(STDIN, rid, b"") if stdin_end else b""))


def read_response(s, rid):
    """Reads records from s until request rid's END_REQUEST; returns its
    stdout, or None if the connection ended first."""
    data, out = b"", b""
    while True:
        while len(data) >= 8:
            ver, rtype, r, clen, plen = struct.unpack(">BBHHBx", data[:8])
            if len(data) < 8 + clen + plen:
                break
            body, data = data[8:8 + clen], data[8 + clen + plen:]
            assert r == rid, (r, rid)
            if rtype == STDOUT:
                out += body
            elif rtype == END_REQUEST:
                return out
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
