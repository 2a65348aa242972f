"""The nginx limit_req example of docs/deploy.md works as written: its
three blocks are inserted into the shipped conf/nginx.conf (a copy, with
a copy of scripts/lib/web.sh to render and start it), and that nginx, on
a port of its own in front of the test stack's app, cuts a burst of
searches and a burst of writes from one client at 429 (the contract's
envelope, with Retry-After) while plain reads go through. It is stopped by
its PID; the stack's own web server is not touched."""

import concurrent.futures
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from lib import ROOT, RUN_DIR, bearer, free_port, hdr, post, unique_email

PW = "correct horse 1"


def _blocks():
    with open(os.path.join(ROOT, "docs", "deploy.md")) as f:
        doc = f.read()
    out = {}
    for name in ("http", "server", "location"):
        m = re.search(r"<!-- test_72: %s -->\n```nginx\n(.*?)```" % name, doc, re.S)
        assert m, "docs/deploy.md has no test_72 %s block" % name
        out[name] = m.group(1)
    return out


def _insert(conf, after_re, block, indent):
    m = re.search(after_re, conf, re.M)
    assert m, after_re
    text = "".join(indent + l + "\n" if l.strip() else "\n" for l in block.splitlines())
    return conf[:m.end()] + "\n" + text + conf[m.end():]


class Nginx:
    """The shipped conf plus the documented blocks, started with web.sh."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="quire-t72-", dir=RUN_DIR)
        os.makedirs(os.path.join(self.tmp, "scripts", "lib"))
        shutil.copy(os.path.join(ROOT, "scripts", "lib", "web.sh"), os.path.join(self.tmp, "scripts", "lib"))
        shutil.copytree(os.path.join(ROOT, "conf"), os.path.join(self.tmp, "conf"))
        b = _blocks()
        path = os.path.join(self.tmp, "conf", "nginx.conf")
        with open(path) as f:
            conf = f.read()
        conf = _insert(conf, r"^\s*location / \{$", b["location"], "            ")
        conf = _insert(conf, r"^\s*server \{$", b["server"], "        ")
        conf = _insert(conf, r"^http \{$", b["http"], "    ")
        with open(path, "w") as f:
            f.write(conf)
        self.port = free_port()
        self.env = dict(os.environ, QUIRE_RUN_DIR=os.path.join(self.tmp, "run"), QUIRE_HTTP_PORT=str(self.port),
                        QUIRE_SOCKET=os.path.join(RUN_DIR, "quire.sock"))
        os.makedirs(self.env["QUIRE_RUN_DIR"])

    def web(self, cmd):
        return subprocess.run(["bash", "-c", '. "%s/scripts/lib/web.sh" && %s' % (self.tmp, cmd)],
                              env=self.env, capture_output=True, text=True, timeout=60)

    def __enter__(self):
        p = self.web("web_up nginx")
        assert p.returncode == 0, p.stdout + p.stderr
        return self

    def __exit__(self, *exc):
        self.web("web_down")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()


def _burst(ng, n, method, path, body=None, headers=None):
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        return list(ex.map(lambda i: ng.request(method, path, body, headers), range(n)))


def test_documented_limit_req_cuts_search_and_write_bursts():
    r = post("/auth/signup", json_body={"name": "Limited", "email": unique_email("t72"), "password": PW},
             headers=hdr())
    assert r.status == 201, r
    tok = r.json["data"]["token"]
    with Nginx() as ng:
        # Plain reads: no limit.
        res = _burst(ng, 40, "GET", "/posts?limit=1")
        assert [s for s, _, _ in res] == [200] * 40, [s for s, _, _ in res]
        # Searches: the burst of 10 goes through, the rest is cut.
        res = _burst(ng, 40, "GET", "/posts?q=anything&limit=1")
        codes = [s for s, _, _ in res]
        assert codes.count(200) >= 10 and codes.count(429) >= 15, codes
        assert set(codes) <= {200, 429}, codes
        s, h, body = next(x for x in res if x[0] == 429)
        j = json.loads(body)
        assert j == {"success": False, "message": "Too many requests, try again later", "error": "RATE_LIMITED"}, j
        assert h.get("Retry-After") == "1" and h.get("Content-Type") == "application/json; charset=utf-8", h
        # Plain reads still go through meanwhile.
        assert ng.request("GET", "/posts?limit=1")[0] == 200
        # Writes: the burst of 20 goes through, the rest is cut; nothing past it is written.
        res = _burst(ng, 60, "POST", "/posts", {"title": "t72", "content": "x"}, bearer(tok))
        codes = [s for s, _, _ in res]
        assert codes.count(201) >= 20 and codes.count(429) >= 25, codes
        assert set(codes) <= {201, 429}, codes
        # After a pause the client searches again.
        time.sleep(2.5)
        assert ng.request("GET", "/posts?q=anything&limit=1")[0] == 200
