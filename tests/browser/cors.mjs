// Drives headless Chromium (the system's, through playwright-core) through
// the CORS check: opens each page given on the command line, in order, in
// ONE browser context (so cookies set by an earlier page are in the jar
// for a later one, as in a real browser), waits for the page's own script
// to finish (window.quireResult), and prints one JSON object on stdout.
//
//   node cors.mjs --chromium /usr/bin/chromium --api http://127.0.0.1:8080 \
//        --page allowed=http://127.0.0.1:3000/cors.html?... \
//        --page refused=http://127.0.0.1:4321/cors.html?... [--timeout-ms 30000]
//
// Exit status: 0 when every page finished (whatever it found: the caller
// judges the result), 2 on bad arguments, 1 when the browser could not be
// driven (the error is in the JSON's "error" and on stderr).
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const o = { pages: [], timeoutMs: 30000, chromium: process.env.QUIRE_CHROMIUM || '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--chromium') { o.chromium = v; i++; }
    else if (a === '--api') { o.api = v; i++; }
    else if (a === '--timeout-ms') { o.timeoutMs = Number(v); i++; }
    else if (a === '--page') {
      const eq = v ? v.indexOf('=') : -1;
      if (eq <= 0) throw new Error('--page wants NAME=URL');
      o.pages.push({ name: v.slice(0, eq), url: v.slice(eq + 1) });
      i++;
    } else throw new Error('unknown argument ' + a);
  }
  if (!o.api || !o.pages.length) throw new Error('--api and at least one --page are required');
  return o;
}

// The flags that keep Chromium from reaching for the network on its own
// (this machine has none; without them it stalls on background requests).
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

// Response headers worth reporting (as the network layer saw them, before
// CORS decides what the page may read).
const KEPT_HEADERS = [
  'access-control-allow-origin', 'access-control-allow-credentials',
  'access-control-expose-headers', 'vary', 'retry-after',
];

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(String(e.message || e) + '\n');
    process.exit(2);
  }
  const out = { pages: {} };
  const t0 = Date.now();
  let browser;
  try {
    // launch() gives Chromium a fresh temporary user-data-dir and removes it on close.
    browser = await chromium.launch({
      executablePath: opts.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: opts.timeoutMs,
    });
    out.browserVersion = browser.version();
    const context = await browser.newContext();
    for (const { name, url } of opts.pages) {
      const page = await context.newPage();
      const net = [];
      const console_ = [];
      // What went over the wire to the API, as the browser's network layer
      // saw it (the page itself may be refused the answer).
      page.on('response', (r) => {
        if (r.url().startsWith(opts.api)) {
          const h = r.headers();
          const headers = {};
          for (const k of KEPT_HEADERS) if (h[k] !== undefined) headers[k] = h[k];
          net.push({ method: r.request().method(), url: r.url().slice(opts.api.length), status: r.status(), headers });
        }
      });
      page.on('requestfailed', (r) => {
        if (r.url().startsWith(opts.api)) {
          net.push({ method: r.method(), url: r.url().slice(opts.api.length), failure: (r.failure() || {}).errorText });
        }
      });
      page.on('console', (m) => console_.push(m.type() + ': ' + m.text()));
      page.on('pageerror', (e) => console_.push('pageerror: ' + String(e)));
      const rec = { url };
      out.pages[name] = rec;
      try {
        const resp = await page.goto(url, { timeout: opts.timeoutMs });
        rec.pageStatus = resp ? resp.status() : null;
        await page.waitForFunction(() => window.quireResult !== undefined, null, { timeout: opts.timeoutMs });
        rec.result = await page.evaluate(() => window.quireResult);
      } catch (e) {
        rec.error = String(e && e.message || e);
      }
      rec.network = net;
      rec.console = console_;
      // Cookies the browser holds for the API after this page.
      rec.apiCookies = (await context.cookies(opts.api)).map((c) => ({
        name: c.name, domain: c.domain, path: c.path, httpOnly: c.httpOnly,
        secure: c.secure, sameSite: c.sameSite, valueLength: c.value.length,
      }));
      await page.close();
    }
    await context.close();
  } catch (e) {
    out.error = String(e && e.stack || e);
    process.stderr.write(out.error + '\n');
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  out.elapsedMs = Date.now() - t0;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(out.error ? 1 : 0);
}

main();
