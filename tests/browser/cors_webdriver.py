#!/usr/bin/env python3
"""Drives headless Chromium through chromedriver (Debian packages chromium
and chromium-driver; WebDriver is plain HTTP, so python3's standard
library is enough) through the CORS check. Opens each page given on the
command line, in order, in ONE browser session (cookies set by an earlier
page are in the jar for a later one, as in a real browser), waits for the
page's own script to finish (window.quireResult), and prints one JSON
object: for each page its status, result, what the browser's network
layer saw of the API (from the DevTools performance log), the console,
and the API's cookies in the jar.

    cors_webdriver.py --api http://127.0.0.1:8080 \\
        --page allowed=http://127.0.0.1:3000/cors.html?... \\
        --page refused=http://127.0.0.1:4321/cors.html?... [--timeout 30]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# The flags that keep Chromium from reaching for the network on its own
# (this machine has none; without them it stalls on background requests).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
KEPT_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials",
                "access-control-expose-headers", "vary", "retry-after")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class WebDriver:
    def __init__(self, base):
        self.base = base
        self.sid = None

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode() or "{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError("%s %s: %s" % (method, path, e.read().decode()[:2000]))

    def s(self, method, path, body=None, timeout=60):
        return self.call(method, "/session/%s%s" % (self.sid, path), body, timeout)


def network_of(perf, api):
    """The API requests of a page, from DevTools Network events."""
    reqs, order = {}, []
    page_status = None
    for entry in perf:
        msg = json.loads(entry["message"])["message"]
        m, p = msg.get("method"), msg.get("params", {})
        rid = p.get("requestId")
        if m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if url.startswith(api):
                if rid not in reqs:
                    order.append(rid)
                reqs[rid] = {"method": p["request"]["method"], "url": url[len(api):]}
        elif m == "Network.responseReceived":
            resp = p["response"]
            if p.get("type") == "Document" and page_status is None:
                page_status = resp.get("status")
            if rid in reqs:
                h = {k.lower(): v for k, v in resp.get("headers", {}).items()}
                reqs[rid]["status"] = resp.get("status")
                reqs[rid]["headers"] = {k: h[k] for k in KEPT_HEADERS if k in h}
        elif m == "Network.loadingFailed" and rid in reqs and "status" not in reqs[rid]:
            reqs[rid]["failure"] = p.get("errorText")
    return [reqs[r] for r in order], page_status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--page", action="append", required=True, help="NAME=URL")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--chromium", default=os.environ.get("QUIRE_CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument("--chromedriver", default=os.environ.get("QUIRE_CHROMEDRIVER",
                                                             shutil.which("chromedriver") or
                                                             "/usr/bin/chromedriver"))
    a = ap.parse_args()
    out = {"pages": {}}
    t0 = time.time()
    port = free_port()
    profile = tempfile.mkdtemp(prefix="quire-chromium-")
    drv = subprocess.Popen([a.chromedriver, "--port=%d" % port], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wd = WebDriver("http://127.0.0.1:%d" % port)
    try:
        for _ in range(100):
            try:
                if wd.call("GET", "/status", timeout=2).get("ready"):
                    break
            except (OSError, RuntimeError):
                pass
            time.sleep(0.1)
        caps = {"browserName": "chrome",
                "goog:chromeOptions": {"binary": a.chromium,
                                       "args": CHROMIUM_ARGS + ["--user-data-dir=" + profile]},
                "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"}}
        sess = wd.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}}, timeout=a.timeout)
        wd.sid = sess["sessionId"]
        out["browserVersion"] = sess["capabilities"].get("browserVersion")
        for spec in a.page:
            name, _, url = spec.partition("=")
            rec = {"url": url}
            out["pages"][name] = rec
            try:
                wd.s("POST", "/url", {"url": url}, timeout=a.timeout)
                end = time.time() + a.timeout
                while True:
                    res = wd.s("POST", "/execute/sync", {
                        "script": "return window.quireResult === undefined ? null : window.quireResult;",
                        "args": []})
                    if res is not None:
                        rec["result"] = res
                        break
                    if time.time() > end:
                        raise RuntimeError("the page did not finish in %.0f s" % a.timeout)
                    time.sleep(0.1)
            except RuntimeError as e:
                rec["error"] = str(e)
            perf = wd.s("POST", "/se/log", {"type": "performance"}) or []
            rec["network"], rec["pageStatus"] = network_of(perf, a.api)
            rec["console"] = ["%s: %s" % (e.get("level", "").lower(), e.get("message", ""))
                              for e in (wd.s("POST", "/se/log", {"type": "browser"}) or [])]
            rec["apiCookies"] = [{"name": c["name"], "domain": c.get("domain"), "path": c.get("path"),
                                  "httpOnly": c.get("httpOnly"), "secure": c.get("secure"),
                                  "sameSite": c.get("sameSite"), "valueLength": len(c.get("value", ""))}
                                 for c in (wd.s("GET", "/cookie") or [])]
    except (OSError, RuntimeError, KeyError, ValueError) as e:
        out["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if wd.sid:
            try:
                wd.s("DELETE", "", timeout=10)
            except (OSError, RuntimeError):
                pass
        drv.terminate()
        try:
            drv.wait(10)
        except subprocess.TimeoutExpired:
            drv.kill()
            drv.wait()
        shutil.rmtree(profile, ignore_errors=True)
    out["elapsedMs"] = int((time.time() - t0) * 1000)
    print(json.dumps(out))
    return 1 if out.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
