// Real-browser harness for Firefox: Debian's firefox-esr driven by puppeteer-core over WebDriver
// BiDi, the unpacked extension installed as a temporary add-on, a real `kith serve` subprocess on a
// loopback port, and the fixture pages (tests/fixtures/browser/) from a local HTTP server.
//
// The twin of tests/browser/conftest.py (Chromium, Playwright), with these Firefox facts:
//
// * The extension's origin is fixed by the pref `extensions.webextensions.uuids` (gecko id → UUID),
//   so every page of it is `moz-extension://UUID/...` and the companion pairs that origin.
// * WebDriver BiDi refuses to navigate a tab to a moz-extension:// URL. An extension page may open
//   tabs and navigate itself, and those tabs are visible to the driver; the way in is the welcome
//   tab the background opens on install (the options page). It stays open as the "control page":
//   tests reach the background through it with `chrome.runtime.sendMessage` (the same handlers the
//   Chromium tests call in the service worker), and it opens the popup and options pages.
// * Puppeteer does not learn the URL of a tab an extension opened (it reports about:blank), so a
//   page is recognised by evaluating `location.href` in it.
// * The background is an event page (`background.scripts`), not a service worker.
//
// The shipped extension may only reach http://127.0.0.1/* (the companion) and reads pages through
// activeTab, granted by the user's click; a test cannot make that click, so `extensionForTests`
// installs a *copy* of extension/ whose manifest adds one test-only host permission for the
// fixture host (http://localhost/*). What ships is never changed.
//
// Firefox tests fail (they do not skip) when Firefox or the virtualenv is missing;
// KITH_SKIP_BROWSER=1 is the explicit opt-out. Screenshots go to $KITH_SCREENSHOTS_DIR, by default
// the git-ignored build/screenshots/ (`make screenshots` points it at docs/screenshots/).

import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import puppeteer from 'puppeteer-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXTENSION_DIR = path.join(ROOT, 'extension');
export const PAGES_DIR = path.join(ROOT, 'tests', 'fixtures', 'browser');
export const SCREENSHOTS_DIR = path.resolve(process.env.KITH_SCREENSHOTS_DIR || path.join(ROOT, 'build', 'screenshots'));
export const FIREFOX = process.env.KITH_FIREFOX || '/usr/bin/firefox-esr';
export const PYTHON = process.env.KITH_PYTHON || path.join(ROOT, '.venv', 'bin', 'python');
export const SKIP_BROWSER = !['', '0'].includes(process.env.KITH_SKIP_BROWSER || '');
export const SKIP_REASON = 'KITH_SKIP_BROWSER is set: the Firefox tests were NOT run';
export const GECKO_ID = JSON.parse(fs.readFileSync(path.join(EXTENSION_DIR, 'manifest.json'), 'utf8'))
  .browser_specific_settings.gecko.id;
// The fixture pages' host, granted only to the test copy of the extension (see above).
export const TEST_HOST_PERMISSION = 'http://localhost/*';
export const COMPANION_PERMISSION = 'http://127.0.0.1/*';

// Generous: CI is a 2-core machine running Firefox, the companion and its extract workers.
export const UI_TIMEOUT_MS = 45_000;
export const TEST_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 90_000;

// `kith` with the virtualenv's interpreter (as tests/browser/conftest.py runs it).
const KITH = ['-c', "import sys; from companion.cli import main; sys.exit(main(prog_name='kith'))"];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why the Firefox tests cannot run here, or null when they can. */
export function setupProblem() {
  try {
    fs.accessSync(FIREFOX, fs.constants.X_OK);
  } catch {
    return `the Firefox tests need Firefox at ${FIREFOX}, and there is none. Fix: \`make firefox\` `
      + "(installs Debian's firefox-esr; needs root or sudo), or set KITH_FIREFOX=/path/to/firefox. "
      + 'To run everything else without them, set KITH_SKIP_BROWSER=1 (reported as skipped).';
  }
  try {
    fs.accessSync(PYTHON, fs.constants.X_OK);
  } catch {
    return `the Firefox tests start \`kith serve\` with ${PYTHON}, and there is none. Fix: \`make venv\`, `
      + 'or set KITH_PYTHON to a Python that has Kith installed.';
  }
  return null;
}

/** Poll `predicate` (sync or async) until it returns something truthy, which is returned. */
export async function waitUntil(predicate, { timeout = 30_000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await predicate();
    } catch (err) {
      last = `error: ${err?.message || err}`;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000}s waiting for ${what} (${last})`);
      await sleep(interval);
      continue;
    }
    if (last && !(typeof last === 'string' && last.startsWith('error: '))) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout / 1000}s waiting for ${what} (last value: ${JSON.stringify(last)})`);
    }
    await sleep(interval);
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (tests/ports.py's twin). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setTimeout(500);
    sock.on('connect', () => { sock.destroy(); resolve(true); });
    sock.on('error', () => resolve(false));
    sock.on('timeout', () => { sock.destroy(); resolve(false); });
  });
}

export function tempDir(prefix = 'kith-firefox-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---- fixture pages ---------------------------------------------------------------------------

const TYPES = { '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.css': 'text/css' };

/** Serves PAGES_DIR on 127.0.0.1, addressed as http://localhost:PORT; `*.html` get {{BASE}}/{{PAGE_URL}} filled in. */
export class PageServer {
  static async start() {
    const server = new PageServer();
    await new Promise((resolve, reject) => {
      server.httpd.once('error', reject);
      server.httpd.listen(0, '127.0.0.1', resolve);
    });
    server.port = server.httpd.address().port;
    server.baseUrl = `http://localhost:${server.port}`;
    return server;
  }

  constructor() {
    this.extra = new Map(); // path -> [body, type]
    this.prefixes = new Map(); // path prefix -> [body, type]
    this.httpd = http.createServer((req, res) => this.handle(req, res));
  }

  url(p) {
    return `${this.baseUrl}/${p.replace(/^\/+/, '')}`;
  }

  /** Serve generated content at `p`. */
  add(p, body, type = TYPES['.html']) {
    this.extra.set(p, [Buffer.from(body), type]);
    return this.url(p);
  }

  /** Serve the same content at every path under `prefix` (one URL per run, one contact each). */
  addPrefix(prefix, body, type = TYPES['.html']) {
    this.prefixes.set(prefix, [Buffer.from(body), type]);
  }

  fill(body, p) {
    return Buffer.from(body.toString('utf8').replaceAll('{{PAGE_URL}}', this.baseUrl + p).replaceAll('{{BASE}}', this.baseUrl));
  }

  handle(req, res) {
    const p = decodeURIComponent(req.url.split('?')[0].split('#')[0]);
    let found = this.extra.get(p);
    if (!found) for (const [prefix, value] of this.prefixes) if (p.startsWith(prefix)) { found = value; break; }
    if (!found) {
      const file = path.resolve(PAGES_DIR, `.${p}`);
      if (file.startsWith(PAGES_DIR + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        found = [fs.readFileSync(file), TYPES[path.extname(file)] || 'application/octet-stream'];
      }
    }
    if (!found) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const [raw, type] = found;
    const body = type.startsWith('text/html') ? this.fill(raw, p) : raw;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(body);
  }

  close() {
    return new Promise((resolve) => {
      this.httpd.closeAllConnections?.();
      this.httpd.close(() => resolve());
    });
  }
}

// ---- the companion as a subprocess -------------------------------------------------------------

const DB_TOOL = `
import json, sqlite3, sys
db, op, arg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
con.row_factory = sqlite3.Row
if op == "query":
    out = [dict(r) for r in con.execute(arg["sql"], arg.get("params", []))]
else:  # the contact owning a page URL's identity (what the companion's lookup finds)
    from companion.identity import identities_for_url
    out = None
    for ident in identities_for_url(arg["url"]):
        row = con.execute("SELECT c.* FROM contacts c JOIN identities i ON i.contact_id = c.id"
                          " WHERE i.kind = ? AND i.value = ?", (ident["kind"], ident["value"])).fetchone()
        if row:
            out = dict(row)
            break
con.close()
print(json.dumps(out, default=str))
`;

const running = new Set(); // companions this process started, stopped on exit whatever happens

process.on('exit', () => {
  for (const c of running) {
    try { process.kill(-c.proc.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** `kith serve` in a subprocess on a fixed port, so it can be stopped and started again. */
export class Companion {
  constructor(dir, { port = null } = {}) {
    this.dir = dir;
    this.dbPath = path.join(dir, 'kith.db');
    this.logPath = path.join(dir, 'companion.log');
    this.port = port;
    this.proc = null;
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get running() {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(timeout = START_TIMEOUT_MS) {
    if (this.running) throw new Error('companion already running');
    this.port ||= await freePort();
    const log = fs.openSync(this.logPath, 'a');
    // Its own process group (detached): its extract workers go with it.
    this.proc = spawn(PYTHON, [...KITH, 'serve', '--db', this.dbPath, '--port', String(this.port), '--datasette-port', '0'],
      { cwd: ROOT, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    running.add(this);
    const deadline = Date.now() + timeout;
    for (;;) {
      if (!this.running) {
        const code = this.proc.exitCode;
        await this.stop();
        throw new Error(`companion exited with ${code}:\n${this.logTail()}`);
      }
      if (await this.ping()) return this;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`companion did not answer /v1/ping in ${timeout / 1000}s:\n${this.logTail()}`);
      }
      await sleep(100);
    }
  }

  async stop(timeout = 30_000) {
    const proc = this.proc;
    this.proc = null;
    running.delete(this);
    if (proc) {
      const exited = proc.exitCode !== null || proc.signalCode !== null
        ? Promise.resolve() : new Promise((resolve) => proc.once('exit', resolve));
      try { proc.kill('SIGTERM'); } catch { /* gone */ } // `kith serve` shuts down cleanly on SIGTERM
      let timer;
      const done = await Promise.race([exited.then(() => true),
        new Promise((resolve) => { timer = setTimeout(resolve, timeout, false); })]);
      clearTimeout(timer);
      // Then the group this class started, by its id: stray extract workers, or a hung server.
      try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* none left */ }
      if (!done) await exited;
    }
    await waitUntil(async () => !(await portOpen(this.port)), { timeout, what: `port ${this.port} to close` });
  }

  async ping() {
    try {
      const r = await fetch(`${this.baseUrl}/v1/ping`, { signal: AbortSignal.timeout(2000) });
      return (await r.json()).app === 'kith';
    } catch {
      return false;
    }
  }

  logTail(chars = 4000) {
    try { return fs.readFileSync(this.logPath, 'utf8').slice(-chars); } catch { return ''; }
  }

  // -- the CLI, as a user would run it --
  cli(...args) {
    const out = spawnSync(PYTHON, [...KITH, ...args, '--db', this.dbPath], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (out.status !== 0) throw new Error(`kith ${args.join(' ')} failed (${out.status}): ${out.stderr}`);
    return out.stdout;
  }

  /** A fresh code from `kith pair` (its last stdout line). */
  pairCode() {
    return this.cli('pair').trim().split('\n').at(-1).trim();
  }

  newToken(name = 'firefox-test') {
    return this.cli('token', 'new', '--name', name).trim().split('\n').at(-1).trim();
  }

  // -- reading the database (read-only sqlite3, so nothing here can change it) --
  dbTool(op, arg, db = this.dbPath) {
    const out = spawnSync(PYTHON, ['-c', DB_TOOL, db, op, JSON.stringify(arg)],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    if (out.status !== 0) throw new Error(`database read failed: ${out.stderr}`);
    return JSON.parse(out.stdout);
  }

  query(sql, params = []) {
    return this.dbTool('query', { sql, params });
  }

  /** Extension origins the companion has paired (from the private auth file beside the database). */
  pairedOrigins() {
    return this.dbTool('query', { sql: 'SELECT origin FROM paired_origins ORDER BY origin' }, `${this.dbPath}.auth`)
      .map((r) => r.origin);
  }

  contactForUrl(url) {
    return this.dbTool('contact', { url });
  }

  tagsOf(contactId) {
    return this.query('SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id'
      + ' WHERE ct.contact_id = ? ORDER BY t.name', [contactId]).map((r) => r.name);
  }

  count(table) {
    return this.query(`SELECT count(*) AS n FROM ${table}`)[0].n;
  }
}

// ---- Firefox with the extension -------------------------------------------------------------

/**
 * A copy of extension/ at `dest` whose manifest also grants the fixture pages' host (see the top
 * of this file). Only the files the browser loads are copied.
 */
export function extensionForTests(dest) {
  const skip = new Set(['node_modules', 'test', 'test-firefox', 'tools', 'package.json', 'package-lock.json',
    '.gitignore', 'web-ext-artifacts']);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(EXTENSION_DIR, dest, {
    recursive: true,
    filter: (src) => {
      const name = path.basename(src);
      return src === EXTENSION_DIR || !(skip.has(name) || name.endsWith('.md'));
    },
  });
  const manifestPath = path.join(dest, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  manifest.host_permissions ||= [];
  if (!manifest.host_permissions.includes(TEST_HOST_PERMISSION)) manifest.host_permissions.push(TEST_HOST_PERMISSION);
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return dest;
}

/**
 * page.setViewport, for Firefox 140 too: puppeteer sends emulation.setScreenOrientationOverride beside
 * browsingContext.setViewport, and Firefox 140's WebDriver BiDi does not know that command (153 does).
 * The viewport itself is set either way; this checks that it was.
 */
export async function setViewport(page, { width, height }) {
  try {
    await page.setViewport({ width, height });
  } catch (err) {
    if (!/setScreenOrientationOverride/.test(String(err?.message))) throw err;
  }
  await waitUntil(async () => {
    const [w, h] = await page.evaluate(() => [innerWidth, innerHeight]);
    return w === width && h === height;
  }, { timeout: 10_000, what: `a ${width}x${height} viewport` });
}

/** location.href of a page, or '' when it cannot be asked (closing, or not ours to script). */
async function hrefOf(page) {
  try {
    return await page.evaluate(() => location.href);
  } catch {
    return '';
  }
}

/**
 * Firefox (headless) with the test copy of the extension installed as a temporary add-on.
 * `prefs` adds Firefox preferences (e.g. a short event-page idle timeout for one test).
 * Resolves once the welcome tab (the options page the background opens on install) is there.
 */
export async function launchFirefox({ dir = tempDir(), prefs = {}, viewport = { width: 1100, height: 800 } } = {}) {
  const problem = setupProblem();
  if (problem) throw new Error(problem);
  const uuid = randomUUID();
  const extensionDir = extensionForTests(path.join(dir, 'extension'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    defaultViewport: null, // set per page by setViewport() below
    protocolTimeout: 180_000,
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: uuid }),
      ...prefs,
    },
  });
  const ext = new FirefoxExtension(browser, uuid, extensionDir);
  try {
    const installedId = await browser.installExtension(extensionDir);
    if (installedId !== GECKO_ID) throw new Error(`installed ${installedId}, expected ${GECKO_ID}`);
    ext.control = await ext.waitForPage((href) => href === ext.url('options.html'),
      { what: 'the welcome tab (options page) the extension opens on install' });
    await setViewport(ext.control, viewport);
  } catch (err) {
    await browser.close().catch(() => {});
    throw err;
  }
  return ext;
}

export class FirefoxExtension {
  constructor(browser, uuid, extensionDir) {
    this.browser = browser;
    this.uuid = uuid;
    this.extensionDir = extensionDir;
    this.control = null; // the welcome tab, kept open: the tests' way in
    this.seq = 0;
  }

  get origin() {
    return `moz-extension://${this.uuid}`;
  }

  url(page) {
    return `${this.origin}/${page}`;
  }

  /** A page (tab) whose location.href satisfies `match`, not in `exclude`. */
  async waitForPage(match, { exclude = new Set(), timeout = UI_TIMEOUT_MS, what = 'a page' } = {}) {
    return waitUntil(async () => {
      for (const page of await this.browser.pages()) {
        if (!exclude.has(page) && match(await hrefOf(page))) return page;
      }
      return null;
    }, { timeout, interval: 100, what });
  }

  /** Evaluate in the control page (an extension page: it has the chrome.* APIs). */
  evaluate(fn, ...args) {
    return this.control.evaluate(fn, ...args);
  }

  /** runtime message to the background: the same handlers as the Chromium tests' `kith[type]`. */
  async call(type, payload = {}) {
    const reply = await this.evaluate((msg) => chrome.runtime.sendMessage(msg), { type, ...payload });
    if (!reply?.ok) throw new Error(`background ${type} failed: ${reply?.error || 'no answer'}`);
    return reply.value;
  }

  status() {
    return this.call('status');
  }

  flush() {
    return this.call('flush');
  }

  badge() {
    return this.evaluate(() => chrome.action.getBadgeText({}));
  }

  async waitBadge(text, timeout = 30_000) {
    await waitUntil(async () => (await this.badge()) === text, { timeout, what: `badge ${JSON.stringify(text)}` });
    return text;
  }

  settings() {
    return this.evaluate(() => chrome.storage.local.get('kith.settings').then((s) => s['kith.settings'] || {}));
  }

  /** How many background contexts (the event page) are alive right now: 0 once Firefox unloaded it. */
  backgroundContexts() {
    return this.evaluate(() => chrome.runtime.getContexts({ contextTypes: ['BACKGROUND'] }).then((c) => c.length));
  }

  hasCompanionPermission() {
    return this.evaluate((o) => chrome.permissions.contains({ origins: [o] }), COMPANION_PERMISSION);
  }

  // -- tabs and pages --
  /** Open a web page in a new tab; returns {page, tabId} (tabId as the extension sees it). */
  async openTab(url) {
    const page = await this.browser.newPage();
    await page.goto(url, { waitUntil: 'load' });
    const tabId = await waitUntil(() => this.evaluate((u) => chrome.tabs.query({})
      .then((ts) => (ts.find((t) => t.url === u && t.status === 'complete') || {}).id || null), url),
    { what: `a tab for ${url}` });
    return { page, tabId };
  }

  /** An extension page in a new tab, opened by the extension (the driver may not navigate there). */
  async openExtensionPage(pagePath, { width = null, height = null } = {}) {
    const sep = pagePath.includes('?') ? '&' : '?';
    const target = this.url(`${pagePath}${sep}_t=${++this.seq}`); // unique, so the new tab is told apart
    await this.evaluate((u) => chrome.tabs.create({ url: u }).then(() => true), target);
    const page = await this.waitForPage((href) => href === target, { what: target });
    if (width && height) await setViewport(page, { width, height });
    await page.bringToFront();
    return page;
  }

  /**
   * The popup, opened as a tab that targets `tabId` (a tab-popup would target itself). 360 px is
   * the width Firefox gives it: a browser-action popup is as wide as its content (popup.css).
   */
  openPopup(tabId, { width = 360, height = 600 } = {}) {
    return this.openExtensionPage(`popup.html?tabId=${tabId}`, { width, height });
  }

  openOptions() {
    return this.openExtensionPage('options.html');
  }

  // -- settings through the options page, as a user does it --
  async setPort(port, page = null) {
    const own = page === null;
    page ||= await this.openOptions();
    await page.bringToFront();
    await fill(page, '#port', String(port));
    await page.click('#save-port');
    await waitText(page, '#companion-address', `http://127.0.0.1:${port}`);
    if (own) await page.close();
    return page;
  }

  /** Options page: set the companion's port, enter a code from `kith pair`, click Pair. */
  async pair(companion, page = null) {
    const own = page === null;
    page ||= await this.openOptions();
    await this.setPort(companion.port, page);
    await waitState(page, '#connection-status', 'connected');
    await fill(page, '#pair-code', companion.pairCode());
    await page.click('#pair');
    await waitState(page, '#pair-state', 'paired');
    await waitState(page, '#pair-status', 'paired');
    await waitDom(page, () => !document.querySelector('#pair').disabled, [], 're-enabled Pair button');
    if (!(await this.settings()).token) throw new Error('pairing did not store a token');
    if (own) await page.close();
    return page;
  }

  async close() {
    await this.browser.close().catch(() => {});
  }
}

// ---- DOM helpers: waits are on DOM state, polled from here (background tabs throttle timers) ----

/** Poll `fn(...args)` in the page until it returns something truthy. */
export function waitDom(page, fn, args = [], what = 'a DOM condition', timeout = UI_TIMEOUT_MS) {
  return waitUntil(() => page.evaluate(fn, ...args), { timeout, interval: 50, what });
}

export function waitState(page, selector, state, timeout = UI_TIMEOUT_MS) {
  return waitDom(page, (s, v) => document.querySelector(s)?.dataset.state === v, [selector, state],
    `${selector} data-state=${state}`, timeout).catch(async (err) => {
    const now = await page.evaluate((s) => {
      const n = document.querySelector(s);
      return n ? `${n.dataset.state}: ${n.textContent}` : 'missing';
    }, selector).catch(() => '?');
    throw new Error(`${err.message}; it is ${now}`);
  });
}

export function waitText(page, selector, text, { contains = false, timeout = UI_TIMEOUT_MS } = {}) {
  return waitDom(page, (s, t, c) => {
    const n = document.querySelector(s);
    const got = n ? n.textContent.trim() : null;
    return c ? got !== null && got.includes(t) : got === t;
  }, [selector, text, contains], `${selector} text ${contains ? 'containing' : '='} ${JSON.stringify(text)}`, timeout);
}

export function waitVisible(page, selector, visible = true, timeout = UI_TIMEOUT_MS) {
  return waitDom(page, (s, v) => {
    const n = document.querySelector(s);
    const shown = !!n && !n.closest('[hidden]') && n.getClientRects().length > 0;
    return shown === v;
  }, [selector, visible], `${selector} ${visible ? 'visible' : 'hidden'}`, timeout);
}

export const value = (page, selector) => page.$eval(selector, (n) => n.value);
export const text = (page, selector) => page.$eval(selector, (n) => n.textContent.trim());

/** Replace an input's value by typing, as a user would (select all, then type). */
export async function fill(page, selector, v) {
  await page.click(selector);
  await page.$eval(selector, (n) => n.select());
  await page.keyboard.press('Backspace');
  if (v) await page.type(selector, v);
  const got = await value(page, selector);
  if (got !== v) throw new Error(`${selector}: typed ${JSON.stringify(v)}, holds ${JSON.stringify(got)}`);
}

// ---- one test = a fresh Firefox profile and a fresh companion database ----------------------

/**
 * Registers the file's hooks (the fixture page server, the setup check) and returns `firefoxTest(name,
 * fn, opts)`: `fn({ext, companion, pages, dir})` runs with Firefox and the extension installed (welcome
 * tab open, nothing paired) and a running `kith serve` on an empty database. `opts.prefs` adds Firefox
 * preferences. Everything is stopped afterwards; the temporary folder is kept (and named) on failure.
 */
export function firefoxSuite() {
  const shared = { pages: null };
  before(async () => {
    if (SKIP_BROWSER) return;
    const problem = setupProblem();
    if (problem) throw new Error(problem);
    shared.pages = await PageServer.start();
  });
  after(async () => {
    await shared.pages?.close();
  });
  return function firefoxTest(name, fn, { prefs = {} } = {}) {
    test(name, { skip: SKIP_BROWSER && SKIP_REASON, timeout: TEST_TIMEOUT_MS }, async () => {
      const dir = tempDir();
      const companion = new Companion(dir);
      let ext = null;
      let ok = false;
      try {
        await companion.start();
        ext = await launchFirefox({ dir, prefs });
        await fn({ ext, companion, pages: shared.pages, dir });
        ok = true;
      } finally {
        await ext?.close();
        await companion.stop();
        if (ok) fs.rmSync(dir, { recursive: true, force: true });
        else process.stderr.write(`\n[firefox] kept ${dir} (companion log: ${companion.logPath})\n`);
      }
    });
  };
}

export function screenshotPath(name) {
  fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  return path.join(SCREENSHOTS_DIR, name);
}
