#!/usr/bin/python3
"""A recording SMTP server for the tests and benches (aiosmtpd; Debian's
python3-aiosmtpd imports only under /usr/bin/python3).

    /usr/bin/python3 tests/smtp_sink.py --port 8025 --dir MAILDIR \
        --state STATEDIR [--tls-dir TLSDIR [--smtps]] [--host 127.0.0.1]

Every accepted message is written to MAILDIR as <ns>-<n>.eml (the bytes
the client sent after DATA, dot-unstuffed), atomically: a temporary file
renamed into place. A resent message is a second file.

STATEDIR/stats.json counts connections, DATA commands, messages accepted
(and of those, received over TLS) or refused (written atomically after
each change);
STATEDIR/ready appears once the port is open. STATEDIR/mode is re-read at
every connection and command, so a test can change the answers while the
server runs. It holds words:
    normal          accept everything (also: the file is missing or empty)
    421, 550        answer RCPT TO with that code (421 also closes)
    421-data, 550-data   answer the end of DATA with that code, not keeping
                    the message
    554-helo        answer EHLO and HELO with 554 (a server that refuses
                    the client before any mail)
    421-after-data  keep the message, then answer 421 and close: the
                    client cannot know it arrived, so it sends it again
    notls           offer no STARTTLS to new connections
    auth=USER:PASS  offer AUTH (PLAIN, LOGIN; also in clear) to new
                    connections, accept only that pair, and refuse
                    mail without it (530)
    delay=S         wait S seconds before answering the end of DATA
With --tls-dir, STARTTLS is offered with TLSDIR/cert.pem (made by openssl
with key.pem on first use, for 127.0.0.1 and localhost): a client
verifies it with cert.pem as its CA file. With --smtps as well, the
port speaks TLS from the first byte instead (smtps://, no STARTTLS).

SIGTERM or SIGINT stops it (exit 0).
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class State:
    def __init__(self, maildir, statedir):
        self.maildir = maildir
        self.statedir = statedir
        self.lock = threading.Lock()
        self.counts = {"connections": 0, "data": 0, "messages": 0, "refused": 0,
                       "tls_messages": 0}
        self.seq = 0

    def mode(self):
        """The words of STATEDIR/mode: (set of words, delay seconds)."""
        try:
            with open(os.path.join(self.statedir, "mode")) as f:
                words = f.read().split()
        except FileNotFoundError:
            words = []
        delay = 0.0
        flags = set()
        self.auth = None
        for w in words:
            if w.startswith("delay="):
                delay = float(w[6:])
            elif w.startswith("auth="):
                self.auth = w[5:]
            else:
                flags.add(w)
        return flags, delay

    def bump(self, key):
        with self.lock:
            self.counts[key] += 1
            self._write_stats()

    def _write_stats(self):
        tmp = os.path.join(self.statedir, ".stats.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.counts, f)
        os.replace(tmp, os.path.join(self.statedir, "stats.json"))

    def keep(self, content, tls):
        if tls:
            self.bump("tls_messages")
        with self.lock:
            self.seq += 1
            name = "%d-%06d.eml" % (time.time_ns(), self.seq)
        tmp = os.path.join(self.maildir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(self.maildir, name))
        self.bump("messages")


class Handler:
    def __init__(self, state):
        self.state = state

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        flags, _ = self.state.mode()
        if "554-helo" in flags:
            self.state.bump("refused")
            return ["554 5.7.1 sink: not talking to you"]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        flags, _ = self.state.mode()
        if "554-helo" in flags:
            self.state.bump("refused")
            return "554 5.7.1 sink: not talking to you"
        session.host_name = hostname
        return "250 %s" % server.hostname

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        flags, _ = self.state.mode()
        if "421" in flags:
            self.state.bump("refused")
            return "421 4.3.2 sink: try again later"
        if "550" in flags:
            self.state.bump("refused")
            return "550 5.1.1 sink: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        flags, delay = self.state.mode()
        if delay > 0:
            await asyncio.sleep(delay)
        if "421-data" in flags:
            self.state.bump("refused")
            return "421 4.3.2 sink: try again later"
        if "550-data" in flags:
            self.state.bump("refused")
            return "550 5.6.0 sink: refused"
        self.state.keep(envelope.original_content,
                        server.sink_implicit_tls or session.ssl is not None)
        if "421-after-data" in flags:
            return "421 4.3.2 sink: kept it, but says try again"
        return "250 OK: queued"


class SinkSMTP(SMTP):
    def __init__(self, state, implicit_tls, *args, **kw):
        self.sink_state = state
        self.sink_implicit_tls = implicit_tls
        super().__init__(*args, **kw)

    async def smtp_DATA(self, arg):
        self.sink_state.bump("data")
        return await super().smtp_DATA(arg)

    async def push(self, status):
        await super().push(status)
        # 421 means the server is closing the channel (RFC 5321 3.8).
        if str(status).startswith("421") and self.transport is not None:
            self.transport.close()


class SinkController(Controller):
    def __init__(self, state, tls, implicit, *args, **kw):
        self.sink_state = state
        self.tls = tls
        self.implicit = implicit
        if implicit:
            kw["ssl_context"] = tls
        super().__init__(*args, **kw)

    def factory(self):
        # Called once per connection: the mode decides whether it offers TLS.
        flags, _ = self.sink_state.mode()
        auth = self.sink_state.auth
        self.sink_state.bump("connections")
        tls = None if "notls" in flags or self.implicit else self.tls
        kw = {}
        if auth is not None:
            user, _, pw = auth.partition(":")

            def check(server, session, envelope, mechanism, data):
                ok = (isinstance(data, LoginPassword) and data.login == user.encode()
                      and data.password == pw.encode())
                if not ok:
                    self.sink_state.bump("refused")
                return AuthResult(success=ok, handled=False)
            kw = dict(authenticator=check, auth_required=True, auth_require_tls=False)
        return SinkSMTP(self.sink_state, self.implicit, self.handler, tls_context=tls,
                        hostname="sink.quire.test", enable_SMTPUTF8=True, **kw)


def tls_context(tlsdir):
    os.makedirs(tlsdir, exist_ok=True)
    cert = os.path.join(tlsdir, "cert.pem")
    key = os.path.join(tlsdir, "key.pem")
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650",
             "-subj", "/CN=localhost", "-addext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", key + ".tmp", "-out", cert + ".tmp"],
            check=True, capture_output=True)
        os.replace(key + ".tmp", key)
        os.replace(cert + ".tmp", cert)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True, help="where accepted messages go")
    ap.add_argument("--state", required=True, help="mode, stats.json, ready")
    ap.add_argument("--tls-dir", help="offer STARTTLS with a certificate made here")
    ap.add_argument("--smtps", action="store_true", help="TLS from the first byte (needs --tls-dir)")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    os.makedirs(a.state, exist_ok=True)
    ready = os.path.join(a.state, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    state = State(a.dir, a.state)
    with state.lock:
        state._write_stats()
    tls = tls_context(a.tls_dir) if a.tls_dir else None
    if a.smtps and tls is None:
        ap.error("--smtps needs --tls-dir")
    ctl = SinkController(state, tls, a.smtps, Handler(state), hostname=a.host, port=a.port)
    ctl.start()
    # start() connects once itself to make the server start serving.
    with state.lock:
        state.counts["connections"] = 0
        state._write_stats()
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(ready + ".tmp", ready)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(3600):
        pass
    ctl.stop()
    os.unlink(ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
