#!/usr/bin/env python3
"""Runs the operator's commands of docs/deploy.md and docs/operations.md
as written, so that the documents cannot drift from what works.

A command block is marked by an HTML comment on the line before its fence:

    <!-- doc-test: NAME -->          a sh block, run with bash -euo pipefail
    <!-- doc-test: vars -->          variable defaults, NAME=${NAME:-default};
                                     put in front of every block, and every
                                     name must be one this test sets
    <!-- doc-test: cron NAME -->     a crontab file: each job is run as cron
                                     would run it
    <!-- doc-test: output CMD -->    the text CMD prints, compared exactly
    <!-- doc-test: packages KIND --> an apt-get line: runtime (compared with
                                     the libraries quire and quirectl are
                                     linked against) or build (a part of
                                     scripts/deps)

The blocks run in document order (deploy.md, then operations.md), as root,
each in its own session (no terminal), stdin from /dev/null and a time
limit: a command that would prompt for a password fails instead of
hanging. Anything a block leaves running in its process group is killed
when the block ends. The clusters are made the Debian way, by the
documents' own pg_createcluster blocks, so pg_hba.conf is Debian's
default: peer on the socket, scram-sha-256 on TCP.

The test sets every variable of the vars blocks: uniquely named clusters
(quiredoc_<pid>_p, _r) on free ports, their data, the password files, the
environment file, the backup directories and the restore copy under
build/docs-test/<pid>/, the primary and the replica on 127.0.0.2 and
127.0.0.3 (so listen_addresses matters), no TLS (the clusters have no
certificate), new random passwords. root's ~/.pgpass is faked with HOME
and PGPASSFILE under that directory. quire and quirectl are build/'s, on
the PATH; without libfcgi-bin, tests/docs/cgi-fcgi stands in for cgi-fcgi.

Before certain blocks it makes what the documents take as given (BEFORE
below: the Better-Auth database that migrating-from-better-auth.md imports,
from tests/fixtures/better-auth-drizzle.sql). After certain blocks it
checks what they did (CHECKS below): the stock
pg_hba.conf, listening on the documented address, the roles, the replica
streaming (pg_stat_replication), the migration made by the owner, the
app's URL (connects as quire_app, may read, may not CREATE TABLE; quire
itself, run as the OS user quire with the documented environment file,
finds the primary and the replica up), the admin, the WAL archive, the
cron jobs' backups, a point-in-time restore that includes a user made
after the base backup, quire on the restored dump, the Better-Auth
import (its dry run writes nothing, the import brings every user, the
source is unchanged).

Whatever happens, it drops the clusters it made (pg_dropcluster --stop),
stops the restore copy, and removes its directory (kept with
QUIRE_DOCS_KEEP=1). It never touches another cluster.

Usage: tests/docs/run.py   (QUIRE_DOCS_PORTS="P R S" picks the ports;
QUIRE_DOCS_VERBOSE=1 prints what each block printed)
Last line: "docs: N passed, N failed"; exit status 0 when none failed.
"""

import json
import os
import pwd
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import fcgi  # noqa: E402

DOCS = ["docs/deploy.md", "docs/operations.md", "docs/migrating-from-better-auth.md"]
PGVER = "15"
BLOCK_TIMEOUT = 60

MARK = re.compile(r"^([ \t]*)<!-- doc-test: (.+?) -->[ \t]*$")
FENCE = re.compile(r"^([ \t]*)```([A-Za-z0-9_-]*)[ \t]*$")


class Block:
    def __init__(self, doc, line, spec, lang, text):
        self.doc, self.line, self.lang, self.text = doc, line, lang, text
        words = spec.split(None, 1)
        if words[0] in ("vars",):
            self.kind, self.name = "vars", "vars"
        elif words[0] in ("cron", "output", "packages"):
            self.kind = words[0]
            self.name = "%s %s" % (words[0], words[1] if len(words) > 1 else "")
            self.arg = words[1] if len(words) > 1 else ""
        else:
            self.kind, self.name = "sh", spec

    def where(self):
        return "%s:%d" % (self.doc, self.line)


def parse(doc):
    """The marked blocks of doc, in order. A marker must be followed by a
    fence; the block is dedented by the fence's indentation."""
    lines = open(os.path.join(ROOT, doc), encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        f = FENCE.match(lines[j]) if j < len(lines) else None
        if not f:
            raise ValueError("%s:%d: doc-test marker not followed by a ``` fence" % (doc, i + 1))
        indent = f.group(1)
        body, k = [], j + 1
        while k < len(lines) and lines[k].strip() != "```":
            body.append(lines[k][len(indent):] if lines[k].startswith(indent) else lines[k].lstrip())
            k += 1
        if k == len(lines):
            raise ValueError("%s:%d: block never closed" % (doc, j + 1))
        blocks.append(Block(doc, i + 1, m.group(2).strip(), f.group(2), "\n".join(body) + "\n"))
        i = k + 1
    return blocks


VAR_DEFAULT = re.compile(r"(?<![\w$])([A-Za-z_][A-Za-z0-9_]*)=\$\{\1:?-")
ANY_ASSIGN = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=")


def var_names(block):
    """Names a vars block assigns; each must keep a value already set."""
    names = []
    for ln in block.text.split("\n"):
        code = ln.split("#", 1)[0] if not ln.lstrip().startswith("#") else ""
        if not code.strip():
            continue
        good = VAR_DEFAULT.findall(code)
        every = ANY_ASSIGN.findall(code)
        if sorted(good) != sorted(every):
            raise ValueError("%s: %r: every assignment must read NAME=${NAME:-default}" % (block.where(), ln))
        names += good
    return names


# ---------------------------------------------------------------- helpers

class Fail(Exception):
    pass


def run(cmd, timeout=60, check=True, **kw):
    """Runs cmd (a list) with stdin from /dev/null, in its own session;
    returns (status, output)."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True, **kw)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        out, _ = p.communicate()
        raise Fail("%s: still running after %d s (waiting at a prompt?)\n%s"
                   % (" ".join(cmd)[:200], timeout, out.decode(errors="replace")[-2000:]))
    kill_group(p.pid)
    out = out.decode(errors="replace")
    if check and p.returncode != 0:
        raise Fail("%s: exit status %d\n%s" % (" ".join(cmd)[:200], p.returncode, out[-3000:]))
    return p.returncode, out


def kill_group(pgid):
    """Ends whatever a block left running in its own process group."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def psql_postgres(port, sql, db="postgres"):
    """One value from the cluster on port, as the OS user postgres over the
    socket (peer): the test's own look, independent of the documents."""
    return run(["runuser", "-u", "postgres", "--", "psql", "-w", "-X", "-p", str(port), "-d", db,
                "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], env=clean_env())[1].strip()


def clean_env(extra=None):
    """The caller's environment without libpq's PG* and quire's QUIRE_*
    (a PGPORT of the caller would hide a missing -p in the documents)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and not k.startswith("QUIRE_")
           and k not in ("ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env.update(extra or {})
    return env


def wait_for(what, fn, timeout=30):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise Fail("%s: not within %d s" % (what, timeout))
        time.sleep(0.5)


def free_ports(n):
    if os.environ.get("QUIRE_DOCS_PORTS"):
        return [int(p) for p in os.environ["QUIRE_DOCS_PORTS"].split()][:n]
    ports = []
    while len(ports) < n:
        p = random.randint(20000, 32000)
        if p in ports or os.path.exists("/var/run/postgresql/.s.PGSQL.%d" % p):
            continue
        ok = True
        for addr in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            s = socket.socket()
            try:
                s.bind((addr, p))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            ports.append(p)
    return ports


# ------------------------------------------------------------------ setup

PID = os.getpid()
SCRATCH = os.path.join(ROOT, "build", "docs-test", str(PID))
CLUSTERS = ["quiredoc_%d_p" % PID, "quiredoc_%d_r" % PID]
STATE = {"app": None, "block_pgid": None, "ba_digest": None}


def make_vars():
    """The value of every variable the documents' vars blocks name."""
    p, r, s = free_ports(3)
    return {
        "PGVER": PGVER,
        "PRIMARY": CLUSTERS[0], "PRIMARY_PORT": str(p), "PRIMARY_HOST": "127.0.0.2",
        "PRIMARY_DATA": os.path.join(SCRATCH, "pg", "primary"),
        "REPLICA": CLUSTERS[1], "REPLICA_PORT": str(r), "REPLICA_HOST": "127.0.0.3",
        "REPLICA_DATA": os.path.join(SCRATCH, "pg", "replica"),
        "REPLICA_SLOT": "quiredoc_%d" % PID,
        "APP_NET": "127.0.0.0/8",
        "PG_TLS": "",
        "PG_PGPASS": os.path.join(SCRATCH, "pg-home", ".pgpass"),
        "QUIRE_ENV": os.path.join(SCRATCH, "etc", "quire.env"),
        "SHARE": ROOT,
        "OWNER_PW": secrets.token_hex(24), "APP_PW": secrets.token_hex(24),
        "REPL_PW": secrets.token_hex(24),
        "BACKUP_DIR": os.path.join(SCRATCH, "backups"),
        "ARCHIVE_DIR": os.path.join(SCRATCH, "wal-archive"),
        "RESTORE_DIR": os.path.join(SCRATCH, "restore", "copy"),
        "RESTORE_PORT": str(s),
        # migrating-from-better-auth.md: the Better-Auth database is a database of
        # the primary's cluster (BEFORE makes it), read over TCP with TLS.
        "BA_HOST": "127.0.0.2", "BA_PORT": str(p), "BA_CLUSTER": CLUSTERS[0],
        "BA_DB": "betterauth", "BA_TLS": "?sslmode=require", "BA_PW": secrets.token_hex(24),
    }


def setup(v):
    """The scratch directory, root's fake home, postgres's directories, and
    a bin directory with build/'s quire and quirectl (and a cgi-fcgi)."""
    pg = pwd.getpwnam("postgres")
    os.makedirs(SCRATCH)
    os.chmod(SCRATCH, 0o755)
    home = os.path.join(SCRATCH, "root-home")
    os.makedirs(home, mode=0o700)
    for d in ("pg-home", "restore"):
        os.makedirs(os.path.join(SCRATCH, d), mode=0o700)
        os.chown(os.path.join(SCRATCH, d), pg.pw_uid, pg.pw_gid)
    os.makedirs(os.path.join(SCRATCH, "pg"), mode=0o755)
    bindir = os.path.join(SCRATCH, "bin")
    os.makedirs(bindir)
    for b in ("quire", "quirectl"):
        src = os.path.join(ROOT, "build", b)
        if not os.access(src, os.X_OK):
            raise Fail("%s is missing: run scripts/build first" % src)
        os.symlink(src, os.path.join(bindir, b))
    if shutil.which("cgi-fcgi") is None:
        os.symlink(os.path.join(ROOT, "tests", "docs", "cgi-fcgi"), os.path.join(bindir, "cgi-fcgi"))
        print("# cgi-fcgi is not installed (libfcgi-bin): tests/docs/cgi-fcgi stands in")
    env = clean_env(v)
    env.update({
        "PATH": bindir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": home, "PGPASSFILE": os.path.join(home, ".pgpass"),
        "QUIRE_SCHEMA_DIR": os.path.join(ROOT, "schema"),
        "LC_ALL": "C.UTF-8",
    })
    return env


def cleanup(v):
    """Stops and removes everything this run made, and nothing else."""
    if STATE["block_pgid"]:
        kill_group(STATE["block_pgid"])
    app = STATE["app"]
    if app is not None and app.poll() is None:
        app.kill()
        app.wait()
    rdir = v.get("RESTORE_DIR", "")
    if rdir.startswith(SCRATCH) and os.path.exists(os.path.join(rdir, "postmaster.pid")):
        subprocess.run(["runuser", "-u", "postgres", "--",
                        "/usr/lib/postgresql/%s/bin/pg_ctl" % PGVER, "-D", rdir,
                        "-m", "immediate", "-w", "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for name in CLUSTERS:
        conf = "/etc/postgresql/%s/%s" % (PGVER, name)
        if os.path.exists(os.path.join(conf, "postgresql.conf")):
            r = subprocess.run(["pg_dropcluster", "--stop", PGVER, name], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                print("# pg_dropcluster %s: %s" % (name, r.stdout.decode(errors="replace")))
        # pg_dropcluster leaves the files it did not write (conf.d/quire.conf).
        if os.path.isdir(conf) and not os.path.exists(os.path.join(conf, "postgresql.conf")):
            shutil.rmtree(conf, ignore_errors=True)
    if os.environ.get("QUIRE_DOCS_KEEP") != "1":
        shutil.rmtree(SCRATCH, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(SCRATCH))
        except OSError:
            pass


# ------------------------------------------------------------ block kinds

def run_sh(block, prefix, env):
    path = os.path.join(SCRATCH, "blocks", "%s.sh" % re.sub(r"[^A-Za-z0-9_.-]", "_", block.name))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# %s\n%s\n# ---- %s\n%s" % (block.where(), prefix, block.name, block.text))
    p = subprocess.Popen(["bash", "-euo", "pipefail", path], cwd=SCRATCH, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    STATE["block_pgid"] = p.pid
    try:
        out, _ = p.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        out, _ = p.communicate()
        raise Fail("still running after %d s (waiting at a prompt?)\n%s"
                   % (BLOCK_TIMEOUT, out.decode(errors="replace")[-3000:]))
    finally:
        kill_group(p.pid)
        STATE["block_pgid"] = None
    out = out.decode(errors="replace")
    if p.returncode != 0:
        raise Fail("exit status %d\n%s" % (p.returncode, out[-3000:]))
    return out


def run_cron(block, v):
    """Each job of a crontab block, as cron runs it: as its user, with
    cron's small environment plus the file's own variables (whose values
    are replaced by this test's), through /bin/sh, no terminal, stdin from
    /dev/null."""
    overrides = {"PGPORT": v["PRIMARY_PORT"], "BACKUP_DIR": v["BACKUP_DIR"]}
    fenv, jobs = {}, []
    for ln in block.text.split("\n"):
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", s)
        if m:
            if m.group(1) not in overrides:
                raise Fail("%s: the test has no value for %s" % (block.where(), m.group(1)))
            fenv[m.group(1)] = overrides[m.group(1)]
            continue
        f = s.split(None, 6)
        if len(f) < 7:
            raise Fail("%s: not a cron.d job line: %r" % (block.where(), s))
        user, cmd = f[5], f[6]
        if re.search(r"(?<!\\)%", cmd):
            raise Fail("%s: a bare %% in a crontab ends the command: %r" % (block.where(), cmd))
        cmd = cmd.replace("\\%", "%")
        prog = os.path.basename(cmd.split()[0])
        if prog in ("psql", "pg_dump", "pg_basebackup", "pg_dumpall") and " -w" not in cmd:
            raise Fail("%s: %s without -w may wait at a password prompt" % (block.where(), prog))
        jobs.append((user, cmd))
    outs = []
    for user, cmd in jobs:
        pw = pwd.getpwnam(user)
        env = ["PATH=/usr/bin:/bin", "HOME=" + pw.pw_dir, "LOGNAME=" + user, "SHELL=/bin/sh"]
        env += ["%s=%s" % kv for kv in fenv.items()]
        outs.append(run(["runuser", "-u", user, "--", "env", "-i"] + env + ["/bin/sh", "-c", cmd],
                        timeout=BLOCK_TIMEOUT)[1])
    return "".join(outs)


def run_output(block, env):
    out = run(["sh", "-c", block.arg], env=env)[1]
    if out.rstrip("\n") != block.text.rstrip("\n"):
        raise Fail("%s prints:\n%s\nthe document says:\n%s" % (block.arg, out, block.text))
    return out


def apt_packages(text):
    words = text.split()
    if "install" not in words:
        raise Fail("no apt-get install line")
    return {w for w in words[words.index("install") + 1:] if not w.startswith("-")}


def run_packages(block):
    listed = apt_packages(block.text)
    for pkg in sorted(listed):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", pkg], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        if b"install ok installed" not in r.stdout:
            raise Fail("%s is not an installed Debian package here" % pkg)
    if block.arg == "runtime":
        libs = set()
        for b in ("quire", "quirectl"):
            out = run(["readelf", "-d", os.path.join(ROOT, "build", b)])[1]
            libs |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
        cache = run(["ldconfig", "-p"])[1]
        need = set()
        for lib in sorted(libs):
            m = re.search(r"^\s*%s \(.*x86-64.*\) => (\S+)$" % re.escape(lib), cache, re.M) or \
                re.search(r"^\s*%s \(.*\) => (\S+)$" % re.escape(lib), cache, re.M)
            if not m:
                raise Fail("%s: not in the linker cache" % lib)
            path = os.path.realpath(m.group(1))
            r = subprocess.run(["dpkg", "-S", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                r = subprocess.run(["dpkg", "-S", "*/" + os.path.basename(path)],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            pkg = r.stdout.decode().split(":")[0].strip()
            if not pkg:
                raise Fail("%s (%s): no package owns it" % (lib, path))
            if pkg != "libc6":
                need.add(pkg)
        want = need | {"spawn-fcgi"}
        if listed != want:
            raise Fail("the app-host line lists %s; quire and quirectl need %s (+ spawn-fcgi)"
                       % (" ".join(sorted(listed)), " ".join(sorted(need))))
    elif block.arg == "build":
        deps = open(os.path.join(ROOT, "scripts", "deps")).read()
        m = re.search(r"PACKAGES=\((.*?)\)", deps, re.S)
        have = set(re.sub(r"#.*", "", m.group(1)).split()) if m else set()
        missing = listed - have
        if missing:
            raise Fail("scripts/deps does not install %s" % " ".join(sorted(missing)))
    else:
        raise Fail("unknown packages kind %r" % block.arg)
    return ""


# ----------------------------------------------------------------- checks

def sq(s):
    return "'" + s.replace("'", "''") + "'"


def check_primary_create(v, out):
    port = v["PRIMARY_PORT"]
    assert psql_postgres(port, "SELECT 1") == "1"
    hba = open("/etc/postgresql/%s/%s/pg_hba.conf" % (PGVER, v["PRIMARY"])).read()
    rules = [ln.split() for ln in hba.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    for want in (["local", "all", "postgres", "peer"], ["local", "all", "all", "peer"],
                 ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"]):
        if want not in rules:
            raise Fail("not Debian's default pg_hba.conf: no %s" % " ".join(want))
    if any(r[-1] == "trust" for r in rules):
        raise Fail("pg_hba.conf trusts someone")


def check_primary_config(v, out):
    if out.strip():
        raise Fail("pg_hba_file_rules reports errors:\n" + out)
    if psql_postgres(v["PRIMARY_PORT"], "SHOW ssl") != "on":
        raise Fail("ssl is off")
    with socket.create_connection((v["PRIMARY_HOST"], int(v["PRIMARY_PORT"])), timeout=5):
        pass


def check_roles(v, out):
    got = psql_postgres(v["PRIMARY_PORT"], "SELECT string_agg(rolname || ':' || rolsuper || rolreplication"
                        " || rolcanlogin, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN"
                        " ('quire', 'quire_app', 'replicator')")
    if got != "quire:falsefalsetrue,quire_app:falsefalsetrue,replicator:falsetruetrue":
        raise Fail("roles: " + got)
    if psql_postgres(v["PRIMARY_PORT"], "SELECT pg_get_userbyid(datdba) FROM pg_database"
                     " WHERE datname = 'quire'") != "quire":
        raise Fail("database quire is not owned by quire")


def streaming(v):
    return psql_postgres(v["PRIMARY_PORT"], "SELECT count(*) FROM pg_stat_replication WHERE state ="
                         " 'streaming' AND application_name = %s" % sq(PGVER + "/" + v["REPLICA"])) == "1"


def check_replica(v, out):
    wait_for("pg_stat_replication shows the replica streaming", lambda: streaming(v))
    if psql_postgres(v["REPLICA_PORT"], "SELECT pg_is_in_recovery()") != "t":
        raise Fail("the replica is not in recovery")
    slot = psql_postgres(v["PRIMARY_PORT"], "SELECT active FROM pg_replication_slots WHERE slot_name = %s"
                         % sq(v["REPLICA_SLOT"]))
    if slot != "t":
        raise Fail("replication slot %s: %r" % (v["REPLICA_SLOT"], slot))


def check_replica_check(v, out):
    if not re.search(r"%s/%s\s*\|\s*\S+\s*\|\s*streaming\s*\|" % (PGVER, re.escape(v["REPLICA"])), out):
        raise Fail("no streaming row in the block's pg_stat_replication:\n" + out)
    if not re.search(r"^\s*t\s*\|\s*streaming\s*$", out, re.M):
        raise Fail("the replica's pg_stat_wal_receiver is not t | streaming:\n" + out)


def check_migrate(v, out):
    if "applied 001-init" not in out:
        raise Fail("quirectl migrate did not apply 001-init:\n" + out)
    owners = psql_postgres(v["PRIMARY_PORT"], "SELECT string_agg(DISTINCT tableowner, ',') FROM"
                           " pg_tables WHERE schemaname = 'public'", db="quire")
    if owners != "quire":
        raise Fail("tables owned by %r, not by quire" % owners)
    if psql_postgres(v["PRIMARY_PORT"], "SELECT count(*) > 0 FROM schema_migrations", db="quire") != "t":
        raise Fail("schema_migrations is empty")


def env_file(v):
    """QUIRE_PRIMARY_URL and QUIRE_REPLICA_URL as sh reads the file."""
    out = run(["sh", "-c", 'set -a; . "$1"; printf "%s\\n%s\\n" "$QUIRE_PRIMARY_URL" "$QUIRE_REPLICA_URL"',
               "sh", v["QUIRE_ENV"]], env=clean_env())[1].split("\n")
    return out[0], out[1]


def psql_url(url, sql, check=True):
    return run(["psql", "-w", "-X", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
               env=clean_env(), check=check)


def fcgi_get(sock, path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(15)
    s.connect(sock)
    s.sendall(fcgi.request(1, path))
    out = fcgi.read_response(s, 1)
    s.close()
    if out is None:
        raise Fail("%s: the connection ended without an answer" % path)
    head, _, body = out.partition(b"\r\n\r\n")
    return head.decode(errors="replace"), body.decode(errors="replace")


def check_app_config(v, out):
    st = os.stat(v["QUIRE_ENV"])
    if st.st_mode & 0o777 != 0o640 or st.st_gid != pwd.getpwnam("quire").pw_gid:
        raise Fail("%s: mode %o, gid %d; the document says 0640, group quire"
                   % (v["QUIRE_ENV"], st.st_mode & 0o777, st.st_gid))
    primary, replica = env_file(v)
    if "quire_app:" not in primary or v["PRIMARY_HOST"] not in primary or \
       v["REPLICA_HOST"] not in replica:
        raise Fail("the environment file's URLs are not the app's")
    if psql_url(primary, "SELECT current_user")[1].strip() != "quire_app":
        raise Fail("the app's URL does not log in as quire_app")
    psql_url(primary, "SELECT count(*) FROM pg_class")
    rc, o = psql_url(primary, "CREATE TABLE doctest_ddl (x int)", check=False)
    if rc == 0 or "permission denied" not in o:
        raise Fail("quire_app could run CREATE TABLE (%d): %s" % (rc, o))
    if psql_url(replica, "SELECT pg_is_in_recovery()")[1].strip() != "t":
        raise Fail("the replica URL does not reach the replica")
    # quire itself, as the OS user quire, with the documented file.
    sock = os.path.join(SCRATCH, "app.sock")
    app = subprocess.Popen(
        ["sh", "-c", 'set -a; . "$1"; set +a; exec spawn-fcgi -s "$2" -u quire -n -- "$3"',
         "sh", v["QUIRE_ENV"], sock, os.path.join(ROOT, "build", "quire")],
        env=clean_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True)
    STATE["app"] = app
    try:
        wait_for("quire's socket", lambda: os.path.exists(sock) or app.poll() is not None, 10)
        head, body = fcgi_get(sock, "/health/db")
        try:
            d = json.loads(body)["data"]
        except (ValueError, KeyError):
            raise Fail("/health/db: %s %s" % (head, body))
        if d["status"] != "ok" or d["primary"]["status"] != "up" or d["replica"]["status"] != "up":
            raise Fail("/health/db as the OS user quire: %s" % body)
        user = run(["ps", "-o", "user=", "-p", str(app.pid)])[1].strip()
        if user != "quire":
            raise Fail("quire ran as %r" % user)
    finally:
        app.terminate()
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        err = app.stderr.read().decode(errors="replace")
        if v["APP_PW"] in err:
            raise Fail("quire logged the app's password")
        STATE["app"] = None


def check_create_admin(v, out):
    if not re.fullmatch(r"[0-9a-f-]{36}", out.strip()):
        raise Fail("create-admin printed %r, not an id" % out)
    got = psql_postgres(v["PRIMARY_PORT"], "SELECT role FROM users WHERE email = 'admin@example.com'",
                        db="quire")
    if got != "admin":
        raise Fail("admin@example.com: role %r" % got)


def check_migrate_live(v, out):
    if "schema is up to date" not in out:
        raise Fail("second migrate: " + out)


def check_index(v, out):
    if "posts_title_idx|t" not in out:
        raise Fail("index: " + out)


def check_archive_check(v, out):
    got = psql_postgres(v["PRIMARY_PORT"], "SELECT archived_count > 0 AND failed_count = 0"
                        " FROM pg_stat_archiver")
    if got != "t":
        raise Fail("pg_stat_archiver: " + psql_postgres(v["PRIMARY_PORT"], "SELECT * FROM pg_stat_archiver"))
    if not os.listdir(v["ARCHIVE_DIR"]):
        raise Fail("the archive directory is empty")


def archive_now(v):
    """Switches WAL on the primary and waits until the archive has it."""
    wal = psql_postgres(v["PRIMARY_PORT"], "SELECT pg_walfile_name(pg_switch_wal())")
    wait_for("archiving " + wal, lambda: psql_postgres(
        v["PRIMARY_PORT"], "SELECT last_archived_wal >= %s FROM pg_stat_archiver" % sq(wal)) == "t")


def check_backup(v, out):
    bases = [d for d in os.listdir(v["BACKUP_DIR"]) if d.startswith("base-")]
    dumps = [d for d in os.listdir(v["BACKUP_DIR"]) if d.endswith(".dump")]
    if len(bases) != 1 or len(dumps) != 1:
        raise Fail("backups: %s" % os.listdir(v["BACKUP_DIR"]))
    for f in ("base.tar.gz", "pg_wal.tar.gz"):
        if os.path.getsize(os.path.join(v["BACKUP_DIR"], bases[0], f)) == 0:
            raise Fail(f + " is empty")
    # A user made after the base backup must come back from the archive.
    v["_marker"] = "doctest-%d-%s@example.com" % (PID, secrets.token_hex(4))
    run(["sh", "-c", 'set -a; . "$1"; set +a; printf "%s\\n" "$3" | quirectl create-admin'
         ' --email "$2" --name Marker', "sh", v["QUIRE_ENV"], v["_marker"], secrets.token_hex(12)],
        env=ENV)
    v["_users"] = psql_postgres(v["PRIMARY_PORT"], "SELECT count(*) FROM users", db="quire")
    archive_now(v)


def check_restore_start(v, out):
    got = psql_postgres(v["RESTORE_PORT"], "SELECT count(*) FROM users WHERE email = %s" % sq(v["_marker"]),
                        db="quire")
    if got != "1":
        raise Fail("the user made after the base backup is not in the restored copy")
    lines = out.split("\n")
    n = lines[lines.index("server started") + 1].strip() if "server started" in lines else None
    if n != v["_users"]:
        raise Fail("restored users %r, the primary had %s:\n%s" % (n, v["_users"], out))


def check_restore_dump(v, out):
    lines = [ln.strip() for ln in out.split("\n") if ln.strip()]
    n = lines[-2] if len(lines) >= 2 else ""
    if not n.isdigit() or int(n) < 1:
        raise Fail("the restored dump has no users: " + out)


def check_restore_app(v, out):
    if out.count('"success":true') != 2 or '"primary":{"status":"up"' not in out:
        raise Fail("quire on the restored data:\n" + out)
    if os.path.exists(v["RESTORE_DIR"]):
        raise Fail("the restore copy was not removed")
    s = socket.socket()
    try:
        if s.connect_ex(("127.0.0.1", int(v["RESTORE_PORT"]))) == 0:
            raise Fail("the restore copy still listens")
    finally:
        s.close()


def debian_ssl(v, out, cluster):
    """Stands in for the snakeoil certificate that the ssl-cert package
    makes on a stock Debian and pg_createcluster then turns on (this
    machine has none): a self-signed certificate, ssl = on in conf.d."""
    d = os.path.join(SCRATCH, "ssl")
    crt, key = os.path.join(d, "server.crt"), os.path.join(d, "server.key")
    if not os.path.exists(key):
        os.makedirs(d, mode=0o755)
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-keyout", key, "-out", crt])
        pg = pwd.getpwnam("postgres")
        os.chown(key, pg.pw_uid, pg.pw_gid)
        os.chmod(key, 0o600)
    with open("/etc/postgresql/%s/%s/conf.d/00-doctest-ssl.conf" % (PGVER, v[cluster]), "w") as f:
        f.write("# tests/docs/run.py: the snakeoil certificate's stand-in\n"
                "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" % (crt, key))


def check_primary_create_ssl(v, out):
    check_primary_create(v, out)
    debian_ssl(v, out, "PRIMARY")


def check_replica_create(v, out):
    debian_ssl(v, out, "REPLICA")


def make_ba_source(v):
    """The Better-Auth database that migrating-from-better-auth.md imports: the
    Drizzle fixture the peer's Better-Auth made, loaded as postgres."""
    psql_postgres(v["BA_PORT"], "CREATE DATABASE %s" % v["BA_DB"])
    with open(os.path.join(ROOT, "tests", "fixtures", "better-auth-drizzle.sql"), "rb") as f:
        p = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-w", "-X", "-q", "-p", v["BA_PORT"],
                            "-d", v["BA_DB"], "-v", "ON_ERROR_STOP=1"], stdin=f, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=clean_env(), timeout=60)
    if p.returncode != 0:
        raise Fail("loading the Better-Auth fixture: %s" % p.stdout.decode(errors="replace"))


def ba_digest(v):
    return psql_postgres(v["BA_PORT"], "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM "
                         "(SELECT u::text FROM users u UNION ALL SELECT a::text FROM accounts a "
                         "UNION ALL SELECT p::text FROM posts p) t", db=v["BA_DB"])


def check_ba_backup(v, out):
    if not os.path.getsize(os.path.join(v["BACKUP_DIR"], "quire-before-import.dump")):
        raise Fail("the dump is empty")
    STATE["ba_digest"] = ba_digest(v)


# deploy.md's first admin (create-admin) has the email of one of the
# fixture's users: that user and its post are refused, the rest imported.
BA_REFUSED = 'refused user 45b28254-042d-456c-92c9-d46255eae699 "admin@example.com": ' \
    'canonical email "admin@example.com" already belongs to quire user '


def check_ba_dry_run(v, out):
    for want in ("source: plural tables (users, accounts, posts), snake_case columns", BA_REFUSED,
                 "users: read 9, imported 8, already there 0, refused 1",
                 "dry run: rolled back, nothing written", "exit status 3 "):
        if want not in out:
            raise Fail("the dry run did not print %r:\n%s" % (want, out))
    if psql_postgres(v["PRIMARY_PORT"], "SELECT count(*) FROM import_source_ids", db="quire") != "0":
        raise Fail("the dry run wrote")


def check_ba_import(v, out):
    for want in (BA_REFUSED, "users: read 9, imported 8, already there 0, refused 1",
                 "posts: read 8, imported 7, already there 0, refused 1", "committed", "exit status 3 "):
        if want not in out:
            raise Fail("the import did not print %r:\n%s" % (want, out))
    got = psql_postgres(v["PRIMARY_PORT"], "SELECT count(*) FROM users u JOIN import_source_ids m ON "
                        "m.id = u.id AND m.kind = 'user'", db="quire")
    if got != "8":
        raise Fail("%s imported users in quire, not 8" % got)
    if ba_digest(v) != STATE["ba_digest"]:
        raise Fail("the import changed the Better-Auth database")


BEFORE = {
    "ba-role": make_ba_source,
}

CHECKS = {
    "primary-create": check_primary_create_ssl,
    "primary-config": check_primary_config,
    "roles": check_roles,
    "replica-create": check_replica_create,
    "replica-copy": check_replica,
    "replica-check": check_replica_check,
    "migrate": check_migrate,
    "app-config": check_app_config,
    "create-admin": check_create_admin,
    "migrate-live": check_migrate_live,
    "index-concurrently": check_index,
    "archive-check": check_archive_check,
    "cron backup": check_backup,
    "restore-start": check_restore_start,
    "restore-dump": check_restore_dump,
    "restore-app": check_restore_app,
    "ba-backup": check_ba_backup,
    "ba-dry-run": check_ba_dry_run,
    "ba-import": check_ba_import,
}


# ------------------------------------------------------------------- main

ENV = {}


def main():
    passed = failed = 0

    def result(ok, name, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok %d - %s" % (passed + failed, name))
        else:
            failed += 1
            print("not ok %d - %s" % (passed + failed, name))
            for ln in why.rstrip("\n").split("\n"):
                print("#   " + ln)
        sys.stdout.flush()

    try:
        blocks = [b for d in DOCS for b in parse(d)]
        names = [b.name for b in blocks]
        for want in CHECKS:
            if want not in names:
                raise ValueError("the documents have no block %r" % want)
        dup = {n for n in names if names.count(n) > 1 and n != "vars"}
        if dup:
            raise ValueError("blocks named twice: %s" % ", ".join(sorted(dup)))
        v = make_vars()
        declared = [n for b in blocks if b.kind == "vars" for n in var_names(b)]
        unset = sorted(set(declared) - set(v))
        if unset:
            raise ValueError("the test has no value for %s (a default would touch the real system)"
                             % ", ".join(unset))
        unused = sorted(set(v) - set(declared))
        if unused:
            raise ValueError("the test sets %s, which no vars block names" % ", ".join(unused))
    except (ValueError, OSError) as e:
        result(False, "parse the documents", str(e))
        print("docs: %d passed, %d failed" % (passed, failed))
        return 1
    if os.geteuid() != 0 or shutil.which("pg_createcluster") is None:
        result(False, "run as root with postgresql-common installed",
               "the documents' commands are root's, on a Debian cluster")
        print("docs: %d passed, %d failed" % (passed, failed))
        return 1

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    prefix = "".join(b.text for b in blocks if b.kind == "vars")
    t0 = time.time()
    try:
        ENV.update(setup(v))
        broken = None
        for b in blocks:
            if b.kind == "vars":
                continue
            label = "%s (%s)" % (b.name, b.where())
            if broken:
                result(False, label, "not run: %s failed" % broken)
                continue
            try:
                if b.name in BEFORE:
                    BEFORE[b.name](v)
                if b.kind == "sh":
                    if b.lang != "sh":
                        raise Fail("a doc-test block must be ```sh, not %r" % b.lang)
                    out = run_sh(b, prefix, ENV)
                elif b.kind == "cron":
                    out = run_cron(b, v)
                elif b.kind == "output":
                    out = run_output(b, ENV)
                else:
                    out = run_packages(b)
                if os.environ.get("QUIRE_DOCS_VERBOSE") == "1":
                    print("\n".join("#   | " + ln for ln in out.rstrip("\n").split("\n")))
                if b.name in CHECKS:
                    CHECKS[b.name](v, out)
                result(True, label)
            except (Fail, AssertionError, OSError, KeyError, subprocess.SubprocessError) as e:
                result(False, label, "%s: %s" % (type(e).__name__, e))
                if b.kind in ("sh", "cron"):
                    broken = b.name
        if not broken:
            try:
                # The replica followed the primary's restarts.
                wait_for("the replica streaming at the end", lambda: streaming(v))
                result(True, "the replica still streams after the primary's restarts")
            except Fail as e:
                result(False, "the replica still streams after the primary's restarts", str(e))
    except KeyboardInterrupt:
        result(False, "interrupted")
    except Fail as e:
        result(False, "set up", str(e))
    finally:
        cleanup(v)
        left = [n for n in CLUSTERS if os.path.exists("/etc/postgresql/%s/%s" % (PGVER, n))]
        if left:
            result(False, "clusters removed", "still there: " + " ".join(left))
    print("# %.0f s" % (time.time() - t0))
    print("docs: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
