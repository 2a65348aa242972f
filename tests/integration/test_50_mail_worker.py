"""quirectl mail-worker against a real SMTP server (tests/smtp_sink.py,
aiosmtpd on loopback, STARTTLS with a self-signed certificate): rows are
put into mail_outbox as the app does (as its role quire_app, with NOTIFY)
and read back from what the server received. The stack's own worker is
stopped meanwhile, so these workers, with short poll and retry delays,
are the only ones sending; it is started again at the end."""

import email
import email.policy
import io
import json
import os
import shutil
import signal
import subprocess
import time
import uuid

from lib import ENV, ROOT, RUN_DIR, free_port, stack, wait_for

# QUIRECTL: another build (build-asan/quirectl), as scripts/stack takes it.
QUIRECTL = os.environ.get("QUIRECTL") or os.path.join(ROOT, "build", "quirectl")
SINK = os.path.join(ROOT, "tests", "smtp_sink.py")
BASE = os.path.join(RUN_DIR, "t50")
TLS_DIR = os.path.join(BASE, "tls")
CA = os.path.join(TLS_DIR, "cert.pem")
# The app's role, on the primary, as the app and the stack's worker connect.
APP_DB = ENV["QUIRE_APP_DB_URL"]
FROM = "quire <no-reply@quire.test>"
FAST = ["--poll", "0.5", "--backoff-min", "0.2", "--backoff-max", "1"]
TOKEN = "Qm9iIGlzIHRoZSBiZXN0IHRva2VuIGV2ZXIgbWFkZQ"   # 43 characters
EXPECTED_HEADERS = {"date", "from", "to", "subject", "message-id", "mime-version",
                    "content-type", "content-transfer-encoding", "auto-submitted"}

_ids = []        # every message id inserted here, deleted at the end
_procs = []      # sinks and workers still running

def sql(q):
    """Runs q as the app's role; returns psql's unaligned rows."""
    p = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", APP_DB, "-c", q],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


# Only these workers send while this file runs, and they must find only this
# file's messages: what other tests queued goes out through the stack's
# worker first.
wait_for(lambda: sql("SELECT count(*) FROM mail_outbox WHERE failed_at IS NULL").strip() == "0",
         timeout=60, what="the stack's mail worker to empty the outbox")
stack("mail-worker-stop")


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def enqueue(recipient, name="Ann", subject="Hello", body=None, kind="verify", n=1):
    """Inserts n messages in one transaction, with NOTIFY, as the app does;
    returns their message ids."""
    if body is None:
        body = "Hello,\n\nhttps://app.example.com/verify-email#token=%s\n" % TOKEN
    ids = ["<%s@quire.test>" % uuid.uuid4() for _ in range(n)]
    _ids.extend(ids)
    rows = ",".join("(%s, %s, %s, %s, %s, %s)" % (lit(i), lit(kind), lit(recipient), lit(name),
                                                  lit(subject), lit(body)) for i in ids)
    sql("BEGIN; INSERT INTO mail_outbox (message_id, kind, recipient, recipient_name, subject, "
        "body) VALUES %s; NOTIFY quire_mail; COMMIT" % rows)
    return ids


def row(mid):
    """(attempts, last_error, failed) of a queued message, or None once gone."""
    out = sql("SELECT attempts, coalesce(last_error, ''), failed_at IS NOT NULL FROM mail_outbox "
              "WHERE message_id = %s" % lit(mid)).strip()
    if not out:
        return None
    a, e, f = out.split("|")
    return int(a), e, f == "t"


def queued(ids):
    return int(sql("SELECT count(*) FROM mail_outbox WHERE message_id IN (%s)"
                   % ",".join(lit(i) for i in ids)).strip())


class Sink:
    """A recording SMTP server of our own, on a port of its own."""

    def __init__(self, tls=True, port=None, start=True, smtps=False):
        self.port = port or free_port()
        self.dir = os.path.join(BASE, "sink-%s" % uuid.uuid4().hex[:8])
        self.tls = tls
        self.smtps = smtps
        self.p = None
        if start:
            self.start()

    def start(self):
        args = ["/usr/bin/python3", SINK, "--port", str(self.port), "--dir",
                os.path.join(self.dir, "mail"), "--state", os.path.join(self.dir, "state")]
        if self.tls:
            args += ["--tls-dir", TLS_DIR]
        if self.smtps:
            args += ["--smtps"]
        os.makedirs(self.dir, exist_ok=True)
        self.log = open(os.path.join(self.dir, "sink.log"), "ab")
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        _procs.append(self.p)
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "state", "ready"))
                 or self.p.poll() is not None, timeout=20, what="sink ready")
        assert self.p.poll() is None, open(os.path.join(self.dir, "sink.log")).read()

    def mode(self, words):
        f = os.path.join(self.dir, "state", "mode")
        with open(f + ".tmp", "w") as fh:
            fh.write(words + "\n")
        os.replace(f + ".tmp", f)

    def stats(self):
        with open(os.path.join(self.dir, "state", "stats.json")) as f:
            return json.load(f)

    def messages(self):
        """(raw bytes, parsed) of every message received, in order."""
        d = os.path.join(self.dir, "mail")
        out = []
        for n in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if n.endswith(".eml") and not n.startswith("."):
                with open(os.path.join(d, n), "rb") as f:
                    raw = f.read()
                # From a binary file, the text comes back with LF line ends.
                out.append((raw, email.message_from_binary_file(io.BytesIO(raw),
                                                                policy=email.policy.default)))
        return out

    def by_id(self, mid):
        return [(r, m) for r, m in self.messages() if m["Message-ID"] == mid]

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.terminate()
            self.p.wait(10)


class Worker:
    """quirectl mail-worker with the given QUIRE_MAIL_URL."""

    def __init__(self, url, args=FAST, ca=CA, extra_env=None):
        self.logpath = os.path.join(BASE, "worker-%s.log" % uuid.uuid4().hex[:8])
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
        env.update(QUIRE_PRIMARY_URL=APP_DB, QUIRE_MAIL_URL=url, QUIRE_MAIL_FROM=FROM,
                   QUIRE_MAIL_CA_FILE=ca or "")
        env.update(extra_env or {})
        os.makedirs(BASE, exist_ok=True)
        self.log = open(self.logpath, "ab")
        self.p = subprocess.Popen([QUIRECTL, "mail-worker"] + list(args), env=env,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        _procs.append(self.p)
        wait_for(lambda: "msg=started" in self.text() or self.p.poll() is not None,
                 timeout=10, what="worker started")
        assert self.p.poll() is None, self.text()

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.p.wait(timeout)


def _delivered(sink, ids, timeout=20):
    def all_there():
        got = {m["Message-ID"] for _, m in sink.messages()}
        return all(i in got for i in ids) and got
    return wait_for(all_there, timeout=timeout, what="%d messages at the sink" % len(ids))


def setup_module_tls():
    os.makedirs(BASE, exist_ok=True)


setup_module_tls()


def test_delivered_over_smtp_with_starttls():
    sink = Sink(tls=True)
    w = Worker("smtp://127.0.0.1:%d" % sink.port)
    try:
        name = "Ren\u00e9e \u00dcnic\u00f8de \u2603"
        subject = "V\u00e9rifiez votre adresse"
        body = ("Bonjour,\n\nConfirmez : https://app.example.com/verify-email#token=%s\n"
                "= sign, trailing space \n.\n" % TOKEN)
        mid, = enqueue("ann@example.com", name=name, subject=subject, body=body)
        _delivered(sink, [mid])
        (raw, m), = sink.by_id(mid)
        assert {k.lower() for k in m.keys()} == EXPECTED_HEADERS, m.keys()
        to = m["To"].addresses
        assert len(to) == 1 and to[0].addr_spec == "ann@example.com", m["To"]
        assert to[0].display_name == name, to[0].display_name
        assert str(m["Subject"]) == subject
        assert m["From"].addresses[0].addr_spec == "no-reply@quire.test"
        assert m["Content-Type"].content_type == "text/plain"
        assert m["Content-Type"].params["charset"] == "utf-8"
        assert m["Content-Transfer-Encoding"] == "quoted-printable"
        assert m["MIME-Version"] == "1.0"
        assert m["Date"].datetime is not None
        assert m.get_content() == body
        for line in raw.split(b"\r\n"):
            assert len(line) <= 78 or line.startswith(b"Message-ID"), line
            assert b"\n" not in line and b"\r" not in line
        # STARTTLS was offered, so it was used.
        assert sink.stats()["tls_messages"] == 1, sink.stats()
        wait_for(lambda: row(mid) is None, timeout=5, what="row deleted")
        log = w.text()
        assert "msg=sent kind=verify message_id=%s domain=example.com" % mid in log, log
        # The log names the domain, never the address or the token.
        assert "ann@example.com" not in log and TOKEN not in log
    finally:
        w.stop()
        sink.stop()


def test_tls_required():
    sink = Sink(tls=True)
    w = Worker("smtp://127.0.0.1:%d?tls=required" % sink.port)
    try:
        mid, = enqueue("tls@example.com")
        _delivered(sink, [mid])
        assert sink.stats()["tls_messages"] == 1
        # A server that offers no STARTTLS gets nothing, not even in clear.
        sink.mode("notls")
        before = sink.stats()
        mid2, = enqueue("tls2@example.com")
        wait_for(lambda: (row(mid2) or (0,))[0] >= 2, timeout=15, what="two refused attempts")
        attempts, err, failed = row(mid2)
        assert not failed and "STARTTLS" in err, row(mid2)
        after = sink.stats()
        assert after["data"] == before["data"] and after["messages"] == before["messages"], after
        assert after["connections"] > before["connections"]
        # Offered again: it goes.
        sink.mode("normal")
        _delivered(sink, [mid2])
        assert sink.stats()["tls_messages"] == 2
    finally:
        w.stop()
        sink.stop()


def test_smtps():
    sink = Sink(tls=True, smtps=True)
    w = Worker("smtps://127.0.0.1:%d" % sink.port)
    try:
        mid, = enqueue("smtps@example.com")
        _delivered(sink, [mid])
        assert sink.stats()["tls_messages"] == 1, sink.stats()
    finally:
        w.stop()
    # Without the CA file the sink's certificate is not trusted: not sent.
    w = Worker("smtps://127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("smtps@example.com")
        wait_for(lambda: (row(mid) or (0,))[0] >= 1, timeout=15, what="an attempt")
        attempts, err, failed = row(mid)
        assert not failed and "certificate" in err.lower(), row(mid)
        assert sink.by_id(mid) == []
    finally:
        w.stop()
        sink.stop()


def test_server_down_when_queued_then_delivered():
    sink = Sink(tls=False, start=False)
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("down@example.com")
        wait_for(lambda: (row(mid) or (0,))[0] >= 1, timeout=15, what="a failed attempt")
        attempts, err, failed = row(mid)
        assert not failed and err, row(mid)
        sink.start()
        _delivered(sink, [mid], timeout=20)
        wait_for(lambda: row(mid) is None, timeout=5, what="row deleted")
    finally:
        w.stop()
        sink.stop()


def test_sigkill_mid_batch_then_restart_delivers_all():
    sink = Sink(tls=False)
    sink.mode("delay=0.05")
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        ids = enqueue("batch@example.com", n=50)
        wait_for(lambda: len(sink.messages()) >= 10, timeout=20, what="10 delivered")
        w.stop(signal.SIGKILL)
        at_kill = len(sink.messages())
        assert at_kill < 50, "the batch was over before the kill: the test proves nothing"
        assert queued(ids) > 0
        w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
        _delivered(sink, ids, timeout=60)
        wait_for(lambda: queued(ids) == 0, timeout=10, what="rows deleted")
        got = {}
        for raw, m in sink.messages():
            got.setdefault(m["Message-ID"], []).append(raw)
        assert set(ids) <= set(got)
        # A resend is the same message: same Message-ID, Date, bytes.
        for mid, copies in got.items():
            assert all(c == copies[0] for c in copies), mid
        print("# %d of 50 delivered at the kill; %d copies in all"
              % (at_kill, sum(len(c) for c in got.values())))
    finally:
        w.stop()
        sink.stop()


def test_421_is_retried_then_delivered():
    sink = Sink(tls=False)
    sink.mode("421")
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("retry@example.com")
        wait_for(lambda: (row(mid) or (0,))[0] >= 2, timeout=15, what="retried")
        attempts, err, failed = row(mid)
        assert not failed and "421" in err, row(mid)
        assert sink.by_id(mid) == []
        sink.mode("normal")
        _delivered(sink, [mid])
        wait_for(lambda: row(mid) is None, timeout=5, what="row deleted")
    finally:
        w.stop()
        sink.stop()


def test_550_is_kept_as_failed_not_retried():
    sink = Sink(tls=False)
    sink.mode("550")
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("nobody@example.com")
        wait_for(lambda: (row(mid) or (0, "", False))[2], timeout=15, what="failed")
        attempts, err, failed = row(mid)
        assert attempts == 1 and "550" in err, row(mid)
        refused = sink.stats()["refused"]
        # Past the longest retry delay (1 s) and two polls: not tried again.
        time.sleep(2.5)
        assert row(mid) == (1, err, True)
        assert sink.stats()["refused"] == refused and sink.by_id(mid) == []
        assert "msg=\"failed; kept in the outbox\"" in w.text()
    finally:
        w.stop()
        sink.stop()


def test_refusal_before_mail_from_is_retried_not_failed():
    # A 5xx to EHLO and HELO is about the client or the server, not the
    # message: it must not fail the queue.
    sink = Sink(tls=False)
    sink.mode("554-helo")
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("helo@example.com")
        wait_for(lambda: (row(mid) or (0,))[0] >= 2, timeout=15, what="retried")
        attempts, err, failed = row(mid)
        assert not failed and "554" in err, row(mid)
        sink.mode("normal")
        _delivered(sink, [mid])
    finally:
        w.stop()
        sink.stop()


def test_file_transport_writes_parseable_eml():
    d = os.path.join(BASE, "files-%s" % uuid.uuid4().hex[:8])
    w = Worker("file:" + d, ca=None)
    try:
        ids = enqueue("file@example.com", name="File \u00c9", n=3)
        wait_for(lambda: queued(ids) == 0, timeout=15, what="written")
        names = sorted(os.listdir(d))
        assert names == sorted(i.strip("<>") + ".eml" for i in ids), names
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                m = email.message_from_binary_file(f, policy=email.policy.default)
            assert "<" + n[:-4] + ">" == m["Message-ID"]
            assert m["To"].addresses[0].display_name == "File \u00c9"
            assert TOKEN in m.get_content()
    finally:
        w.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_one_connection_per_batch():
    sink = Sink(tls=True)
    # Queued before the worker starts: one batch.
    ids = enqueue("conn@example.com", n=10)
    w = Worker("smtp://127.0.0.1:%d" % sink.port)
    try:
        _delivered(sink, ids)
        st = sink.stats()
        assert st["connections"] == 1, st
        assert all(len(sink.by_id(i)) == 1 for i in ids)
        # Nothing else due (rows of other tests would lengthen the batch).
        wait_for(lambda: sql("SELECT count(*) FROM mail_outbox WHERE failed_at IS NULL "
                             "AND next_attempt_at <= now()").strip() == "0",
                 timeout=15, what="the batch done")
        # The next batch opens one more (the first was closed with QUIT).
        ids = enqueue("conn@example.com", n=5)
        _delivered(sink, ids)
        st = sink.stats()
        assert st["connections"] == 2, st
    finally:
        w.stop()
        sink.stop()


def test_sigterm_finishes_the_message_in_flight_and_exits_0():
    sink = Sink(tls=False)
    sink.mode("delay=1.5")
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    mid, = enqueue("term@example.com")
    wait_for(lambda: sink.stats()["data"] >= 1, timeout=10, what="DATA sent")
    t0 = time.time()
    rc = w.stop(signal.SIGTERM, timeout=20)
    try:
        assert rc == 0, w.text()
        assert time.time() - t0 < 10
        # It waited for the server's 250 and recorded it.
        assert len(sink.by_id(mid)) == 1
        assert row(mid) is None
        assert "msg=stopped sent=1" in w.text()
        # Idle, it stops at once.
        w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None, args=["--poll", "30"])
        t0 = time.time()
        assert w.stop(signal.SIGINT) == 0
        assert time.time() - t0 < 3
    finally:
        sink.stop()


def test_header_injection_in_name_and_subject():
    sink = Sink(tls=False)
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        evil = "Eve\r\nBcc: bcc@evil.example\r\n\r\ninjected body"
        ids = [enqueue("inj@example.com", name=evil)[0],
               enqueue("inj@example.com", subject=evil)[0],
               enqueue("inj@example.com", name="Eve\nBcc: bcc@evil.example",
                       subject="Hi\rBcc: bcc@evil.example")[0]]
        _delivered(sink, ids)
        for mid in ids:
            (raw, m), = sink.by_id(mid)
            assert {k.lower() for k in m.keys()} == EXPECTED_HEADERS, m.keys()
            assert m["Bcc"] is None
            head = raw.split(b"\r\n\r\n", 1)[0]
            assert not any(l.lower().startswith(b"bcc") for l in head.split(b"\r\n")), head
            assert [a.addr_spec for a in m["To"].addresses] == ["inj@example.com"]
            assert "injected body" not in m.get_content()
    finally:
        w.stop()
        sink.stop()


def test_bad_recipient_is_failed_not_sent():
    sink = Sink(tls=False)
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        bad = ["ann@example.com\r\nBcc: x@evil.example", "not an address",
               "<ann@example.com>", "ann@example.com, x@evil.example", "\"q\"@example.com"]
        ids = [enqueue(r)[0] for r in bad]
        good, = enqueue("fine@example.com")
        _delivered(sink, [good])
        for mid in ids:
            wait_for(lambda: (row(mid) or (0, "", False))[2], timeout=10, what="failed")
            attempts, err, failed = row(mid)
            assert "recipient is not a plain address" in err, err
        for mid in ids:
            assert sink.by_id(mid) == []
    finally:
        w.stop()
        sink.stop()


def test_message_id_and_bytes_same_on_a_resend():
    sink = Sink(tls=False)
    # The server keeps the message but answers 421: the client must send
    # it again, and the second copy must be the same message.
    sink.mode("421-after-data")
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("twice@example.com", kind="reset")
        wait_for(lambda: len(sink.by_id(mid)) >= 1 and (row(mid) or (0,))[0] >= 1,
                 timeout=15, what="first copy")
        sink.mode("normal")
        wait_for(lambda: row(mid) is None, timeout=15, what="sent again")
        copies = sink.by_id(mid)
        assert len(copies) >= 2, len(copies)
        assert all(raw == copies[0][0] for raw, _ in copies)
        assert copies[0][1]["Date"] == copies[-1][1]["Date"]
    finally:
        w.stop()
        sink.stop()


def test_smtp_auth_and_no_password_in_errors_or_logs():
    sink = Sink(tls=False)
    sink.mode("auth=mailuser:s3cret@Pa55")
    # A wrong password: refused (535), a temporary failure, retried.
    w = Worker("smtp://mailuser:wr0ng-s3cret@127.0.0.1:%d" % sink.port, ca=None)
    try:
        mid, = enqueue("pw@example.com")
        wait_for(lambda: (row(mid) or (0,))[0] >= 2, timeout=15, what="two attempts")
        attempts, err, failed = row(mid)
        assert not failed and err, row(mid)
        assert sink.by_id(mid) == []
    finally:
        w.stop()
    log = w.text()
    assert "wr0ng" not in log and "wr0ng" not in err, (log, err)
    assert TOKEN not in log and "pw@example.com" not in log
    assert "has a password but not tls=required" in log
    # The right one, percent-encoded in the URL: sent.
    w = Worker("smtp://mailuser:s3cret%%40Pa55@127.0.0.1:%d" % sink.port, ca=None)
    try:
        _delivered(sink, [mid])
        wait_for(lambda: row(mid) is None, timeout=5, what="row deleted")
    finally:
        w.stop()
        sink.stop()
    assert "s3cret" not in w.text()


def test_reconnects_after_primary_restart():
    sink = Sink(tls=False)
    w = Worker("smtp://127.0.0.1:%d" % sink.port, ca=None)
    try:
        stack("pg-stop", "primary", "fast")
        stack("pg-start", "primary")
        mid, = wait_for(lambda: enqueue("pgback@example.com"), timeout=30, what="primary back")
        _delivered(sink, [mid], timeout=30)
        assert "primary connection lost" in w.text(), w.text()
    finally:
        w.stop()
        sink.stop()


def teardown_module():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    if _ids:
        sql("DELETE FROM mail_outbox WHERE message_id IN (%s)" % ",".join(lit(i) for i in _ids))
    stack("mail-worker-start")
