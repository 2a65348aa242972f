#!/usr/bin/env python3
"""The mail worker's drain rate: N messages (default 1,000) queued in
mail_outbox at once, then timed `quirectl mail-worker --drain` into the
recording SMTP server (tests/smtp_sink.py, aiosmtpd) on loopback.

    python3 bench/mail_drain.py [--messages N] [--tls] [--record]

Runs against the stack of $QUIRE_RUN_DIR (build/run; `scripts/stack up`
first). The stack's own mail worker is stopped for the run and started
again after, so the timed worker sends every message. The rows are what
the app inserts (a verification mail with a 43-character token link, a
display name beyond ASCII), as the app's role; --tls makes the sink offer
STARTTLS (the worker then uses it, verifying the sink's certificate).
Prints one line; --record also appends it to bench/results.md.

What is timed: from the worker's start to its exit, connection to the
database and TLS handshake included. Each message is one transaction
(BEGIN, claim with FOR UPDATE SKIP LOCKED, DELETE, COMMIT) around one SMTP
transaction (MAIL, RCPT, DATA) on one connection kept for the batch.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_DIR = os.environ.get("QUIRE_RUN_DIR", os.path.join(ROOT, "build", "run"))
QUIRECTL = os.environ.get("QUIRECTL", os.path.join(ROOT, "build", "quirectl"))


def load_env():
    env = {}
    with open(os.path.join(RUN_DIR, "stack.env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v
    return env


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sql(url, q):
    p = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", url, "-c", q],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit("psql: " + p.stderr)
    return p.stdout.strip()


def stack(*args):
    env = dict(os.environ, QUIRE_RUN_DIR=RUN_DIR)
    return subprocess.run([os.path.join(ROOT, "scripts", "stack")] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--tls", action="store_true", help="the sink offers STARTTLS")
    ap.add_argument("--record", action="store_true", help="append to bench/results.md")
    a = ap.parse_args()
    env = load_env()
    db = env["QUIRE_APP_DB_URL"]
    tag = uuid.uuid4().hex[:10]
    domain = "bench-%s.example" % tag
    tmp = tempfile.mkdtemp(prefix="quire-mail-bench-", dir=RUN_DIR)
    port = free_port()
    worker_was_up = stack("mail-worker-pid").stdout.strip() != ""
    stack("mail-worker-stop")
    sink = None
    try:
        args = ["/usr/bin/python3", os.path.join(ROOT, "tests", "smtp_sink.py"), "--port", str(port),
                "--dir", os.path.join(tmp, "mail"), "--state", os.path.join(tmp, "state")]
        if a.tls:
            args += ["--tls-dir", os.path.join(tmp, "tls")]
        sink = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(os.path.join(tmp, "state", "ready")):
                break
            time.sleep(0.05)
        else:
            sys.exit("the sink did not start")
        other = int(sql(db, "SELECT count(*) FROM mail_outbox WHERE failed_at IS NULL "
                            "AND next_attempt_at <= now()"))
        body = ("Hello,\n\nConfirm your email address for quire:\n\n"
                "http://127.0.0.1:3000/verify-email#token=' || "
                "rpad(md5(g::text), 43, 'x') || '\n\nThe link works for 24 hours. If you did "
                "not sign up, ignore this message.\n")
        sql(db, "INSERT INTO mail_outbox (message_id, kind, recipient, recipient_name, subject, body) "
                "SELECT '<' || gen_random_uuid() || '@quire.test>', 'verify', "
                "'user' || g || '@%s', 'Ren\u00e9e ' || g, 'Verify your email address', "
                "'%s' FROM generate_series(1, %d) g" % (domain, body, a.messages))
        wenv = {k: v for k, v in os.environ.items() if not k.startswith("QUIRE_")}
        wenv.update(QUIRE_PRIMARY_URL=db, QUIRE_MAIL_URL="smtp://127.0.0.1:%d" % port,
                    QUIRE_MAIL_FROM="quire <no-reply@quire.test>", QUIRE_LOG_LEVEL="warn",
                    QUIRE_MAIL_CA_FILE=os.path.join(tmp, "tls", "cert.pem") if a.tls else "")
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run([QUIRECTL, "mail-worker", "--drain"], env=wenv, capture_output=True,
                           text=True, timeout=600)
        dt = time.monotonic() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        left = int(sql(db, "SELECT count(*) FROM mail_outbox WHERE recipient LIKE '%%@%s'" % domain))
        with open(os.path.join(tmp, "state", "stats.json")) as f:
            st = json.load(f)
        ok = p.returncode == 0 and left == 0 and st["messages"] >= a.messages
        n = st["messages"]
        line = ("mail drain: %d messages in %.2f s = %.0f messages/s; worker CPU %.2f s "
                "(%.2f ms a message); %d SMTP connection(s)%s; sink aiosmtpd on loopback%s; "
                "%s%s" % (n, dt, n / dt, cpu, 1000 * cpu / max(n, 1), st["connections"],
                          ", STARTTLS (%d over TLS)" % st["tls_messages"] if a.tls else ", no TLS",
                          "" if other == 0 else " (%d other due rows included)" % other,
                          "load %s before" % " ".join(open("/proc/loadavg").read().split()[:3]),
                          "" if ok else " -- FAILED: exit %d, %d rows left, stderr: %s"
                          % (p.returncode, left, p.stderr[-500:])))
        print(line)
        if a.record:
            commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip()
            with open(os.path.join(ROOT, "bench", "results.md"), "a") as f:
                f.write("\n## %s UTC — %s — mail drain (bench/mail_drain.py)\n\n- machine: %d CPUs, %s\n- %s\n"
                        % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), commit, os.cpu_count(),
                           platform.processor() or platform.machine(), line))
        return 0 if ok else 1
    finally:
        if sink is not None:
            sink.terminate()
            sink.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        sql(db, "DELETE FROM mail_outbox WHERE recipient LIKE '%%@%s'" % domain)
        if worker_was_up:
            stack("mail-worker-start")


if __name__ == "__main__":
    sys.exit(main())
