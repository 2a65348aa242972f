"""HTTP/1.1 requests written byte for byte, for what http.client refuses
to send: repeated header lines, raw bytes in the path, header values that
are not UTF-8."""

import socket

from lib import HOST, PORT, Resp


def send(method, target, headers=(), body=b"", timeout=30):
    """Sends one request; target and header values may be bytes. headers
    is a list of (name, value) pairs, repeats allowed. Returns a Resp, or
    None when the server closed without answering."""
    def b(x):
        return x if isinstance(x, bytes) else x.encode("utf-8")
    req = b"%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (b(method), b(target), b(HOST), PORT)
    for k, v in headers:
        req += b(k) + b": " + b(v) + b"\r\n"
    if body:
        req += b"Content-Length: %d\r\n" % len(body)
    req += b"\r\n" + body
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    hdrs = []
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        hdrs.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
    resp = Resp(status, hdrs, rest)
    if resp.header("Transfer-Encoding") == "chunked":
        out, buf = b"", rest
        while buf:
            size, _, buf = buf.partition(b"\r\n")
            n = int(size.split(b";")[0], 16)
            if n == 0:
                break
            out, buf = out + buf[:n], buf[n + 2:]
        resp.body = out
    return resp
