"""make install with a prefix of its own (issue #26, section 4): the
installed quire.service, spawn-fcgi.example, lighttpd-bin-path.conf,
logrotate.quire and smoke name the configured $(bindir) and
$(pkgdatadir), never /usr/local, while the copies in conf/ keep saying
/usr/local (the default, as documentation); and the installed files
send the operator to no script that make install does not install. Only
the data is installed (install-data): the programs need not be built
for it. Needs no running stack."""

import os
import re
import shutil
import subprocess
import tempfile

from lib import ROOT

PREFIX = "/opt/q"
NAMED = ("conf/quire.service", "conf/spawn-fcgi.example", "conf/lighttpd-bin-path.conf",
         "conf/logrotate.quire")


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=110)
    assert p.returncode == 0, "%s: %s%s" % (" ".join(cmd), p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout


def test_install_names_the_configured_prefix():
    assert os.path.exists(os.path.join(ROOT, "configure")), "run scripts/build first (autogen.sh)"
    tmp = tempfile.mkdtemp(prefix="quire-install-")
    try:
        build, dest = os.path.join(tmp, "build"), os.path.join(tmp, "dest")
        os.mkdir(build)
        run([os.path.join(ROOT, "configure"), "-q", "--prefix=" + PREFIX], build)
        run(["make", "-s", "install-data", "DESTDIR=" + dest], build)
        # installcheck-local (Makefile.am) checks the same; distcheck runs it.
        out = run(["make", "-s", "installcheck", "DESTDIR=" + dest], build)
        assert "installcheck: installed files name %s/bin and %s/share/quire" % (PREFIX, PREFIX) in out, out
        share = os.path.join(dest, PREFIX.lstrip("/"), "share", "quire")
        files = {}
        for d, _, names in os.walk(share):
            for n in names:
                with open(os.path.join(d, n), errors="replace") as f:
                    files[os.path.relpath(os.path.join(d, n), share)] = f.read()
        for want in NAMED + ("conf/nginx.conf", "conf/lighttpd.conf", "conf/quire.env.example", "smoke",
                             "schema/001-init.sql", "conf/quire-mail-worker.service"):
            assert want in files, sorted(files)
        for name, text in files.items():
            assert "/usr/local" not in text, "%s names /usr/local" % name
        for name in NAMED:
            assert PREFIX + "/bin/quire " in files[name], name
            with open(os.path.join(ROOT, name)) as f:
                assert "/usr/local/bin/quire " in f.read(), "the copy in conf/ says /usr/local: " + name
        svc = files["conf/quire.service"]
        assert re.search(r"^ExecStart=/usr/bin/spawn-fcgi .* -- /opt/q/bin/quire --workers 4$", svc, re.M), svc
        assert "install -m 0644 /opt/q/share/quire/conf/quire.service /etc/systemd/system/" in svc, svc
        assert "install -m 0640 -g quire /opt/q/share/quire/conf/quire.env.example" in svc, svc
        mw = files["conf/quire-mail-worker.service"]
        assert re.search(r"^ExecStart=/opt/q/bin/quirectl mail-worker$", mw, re.M), mw
        assert "install -m 0644 /opt/q/share/quire/conf/quire-mail-worker.service /etc/systemd/" in mw, mw
        assert "lighttpd -D -f /opt/q/share/quire/conf/lighttpd-bin-path.conf" in \
            files["conf/lighttpd-bin-path.conf"]
        assert "(make install puts it in $(pkgdatadir): /opt/q/share/quire/smoke)" in files["smoke"]
        assert os.access(os.path.join(share, "smoke"), os.X_OK)
        # A script named by an installed file is installed, or the text
        # says it is the source tree's (comment markers and line breaks
        # aside).
        for name, text in files.items():
            flat = re.sub(r"\s+", " ", re.sub(r"(?m)^\s*#+", " ", text))
            for m in re.finditer(r"scripts/([\w/-]+(?:\.\w+)*)", flat):
                if os.path.basename(m.group(1)) in files:
                    continue
                around = flat[max(0, m.start() - 120):m.end() + 120]
                assert "source tree" in around, "%s sends to %s, not installed: %r" % (name, m.group(0), around)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
