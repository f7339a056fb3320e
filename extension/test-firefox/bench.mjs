// Popup Save → row committed in SQLite, for a ~2 MB profile page, in headless Firefox ESR: the
// Firefox twin of scripts/bench_popup.py (Chromium), on the same generated page.
//
//   node test-firefox/bench.mjs [--runs 5] [--size 2000000] [--json]
//
// What is timed (median over --runs, after one warm-up):
// * popup_save_to_commit_2mb_firefox: from the Save click in the popup (timestamped in the page) to
//   the capture row being visible in the SQLite file (a Python poller reading it every 2 ms). The
//   path: popup → runtime message (2 MB) → event page writes the capture to storage.local → fetch
//   POST to the companion → JSON parse → extraction in the worker pool → one write transaction.
//   Reference: the same body POSTed to /v1/captures from Node (no browser).
// * popup_save_to_sent_2mb_firefox: the same click to the popup showing "Saved".
// * firefox_storage_set_2mb / firefox_runtime_message_2mb: the two browser-side steps that carry
//   2 MB before the fetch, timed alone in an extension page.
// Prints rows {name, figure_ms, reference_ms, ratio, note} (scripts/bench.py's shape) with --json.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  Companion, PYTHON, PageServer, ROOT, fill, launchFirefox, setupProblem, tempDir, waitState,
} from './harness.mjs';

const TIMEOUT_MS = 120_000;

const { values: args } = parseArgs({ options: {
  runs: { type: 'string', default: '5' }, size: { type: 'string', default: '2000000' }, json: { type: 'boolean', default: false },
} });
const RUNS = Number(args.runs);
const SIZE = Number(args.size);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const row = (name, figure, reference, note) => ({
  name, figure_ms: figure === null ? null : Math.round(figure * 10) / 10,
  reference_ms: reference === null ? null : Math.round(reference * 10) / 10,
  ratio: figure !== null && reference ? Math.round((figure / reference) * 100) / 100 : null, note,
});

/** The page scripts/bench_popup.py measures Chromium on (same generator, same seed). */
function bigPage(size) {
  const code = "import sys; sys.path[:0] = ['scripts', 'tests']; from bench_popup import make_big_profile_page; "
    + 'sys.stdout.write(make_big_profile_page(int(sys.argv[1])))';
  const out = spawnSync(PYTHON, ['-c', code, String(size)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (out.status !== 0) throw new Error(`could not generate the page: ${out.stderr}`);
  return out.stdout;
}

/** A Python process that prints the epoch ms at which a capture row for `url` is first committed. */
function rowWatcher(dbPath, url) {
  const code = `
import sqlite3, sys, time
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
print("ready", flush=True)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if con.execute("SELECT 1 FROM captures WHERE url = ? LIMIT 1", (sys.argv[2],)).fetchone():
        print(time.time() * 1000, flush=True)
        sys.exit(0)
    time.sleep(0.002)
sys.exit(1)
`;
  const proc = spawn(PYTHON, ['-c', code, dbPath, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  const lines = [];
  const waiters = [];
  proc.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      while (waiters.length && lines.length) waiters.shift()(lines.shift());
    }
  });
  proc.on('exit', (code) => { while (waiters.length) waiters.shift()(`exit ${code}`); });
  const next = () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((r) => waiters.push(r)));
  return { next, proc };
}

const ARM_AND_CLICK = () => {
  window.__kithSentAt = null;
  const status = document.getElementById('status');
  new MutationObserver(() => {
    if (status.dataset.state === 'sent' && window.__kithSentAt === null) window.__kithSentAt = performance.timeOrigin + performance.now();
  }).observe(status, { attributes: true, attributeFilter: ['data-state'] });
  const t0 = performance.timeOrigin + performance.now();
  document.getElementById('save').click();
  return t0;
};

const STORAGE_SET = async (n) => {
  const s = 'x'.repeat(n);
  const t = performance.now();
  await chrome.storage.local.set({ 'bench.blob': { html: s } });
  const d = performance.now() - t;
  await chrome.storage.local.remove('bench.blob');
  return d;
};

const RUNTIME_MESSAGE = async (n) => {
  const pad = 'x'.repeat(n);
  const t = performance.now();
  await chrome.runtime.sendMessage({ type: 'status', pad });
  return performance.now() - t;
};

async function measure() {
  const problem = setupProblem();
  if (problem) throw new Error(problem);
  const dir = tempDir('kith-bench-firefox-');
  const pages = await PageServer.start();
  pages.addPrefix('/in/', bigPage(SIZE));
  const companion = await new Companion(dir).start();
  let ext = null;
  try {
    ext = await launchFirefox({ dir });
    const version = await ext.browser.version();
    await ext.pair(companion, ext.control);
    const commit = [];
    const sent = [];
    let bytes = 0;
    let liveHtml = '';
    for (let i = 0; i <= RUNS; i++) { // the first is a warm-up
      const url = pages.url(`/in/bench-${i}/`);
      const { page, tabId } = await ext.openTab(url);
      liveHtml = await page.evaluate(() => document.documentElement.outerHTML);
      bytes = Math.max(bytes, Buffer.byteLength(liveHtml));
      const popup = await ext.openPopup(tabId);
      await waitState(popup, '#status', 'ready', TIMEOUT_MS);
      await fill(popup, '#note', 'bench');
      const watcher = rowWatcher(companion.dbPath, url);
      if ((await watcher.next()) !== 'ready') throw new Error('the row watcher did not start');
      const t0 = await popup.evaluate(ARM_AND_CLICK);
      const tCommit = Number(await watcher.next());
      if (!Number.isFinite(tCommit)) throw new Error(`no capture row for ${url}`);
      await waitState(popup, '#status', 'sent', TIMEOUT_MS);
      const tSent = await popup.evaluate(() => window.__kithSentAt);
      if (i) {
        commit.push(tCommit - t0);
        sent.push(tSent - t0);
      }
      await popup.close();
      await page.close();
    }
    const storage = [];
    const message = [];
    for (let i = 0; i < RUNS; i++) storage.push(await ext.evaluate(STORAGE_SET, bytes));
    for (let i = 0; i < RUNS; i++) message.push(await ext.evaluate(RUNTIME_MESSAGE, bytes));
    await ext.close();
    ext = null;

    // The same body straight to the companion from here (loopback + the companion's whole ingest).
    const token = companion.newToken('bench');
    const direct = [];
    for (let i = 0; i <= RUNS; i++) {
      const url = pages.url(`/in/direct-${i}/`);
      const body = JSON.stringify({ capture_id: randomUUID(), kind: 'profile', url, note: 'bench',
        html: liveHtml.replaceAll(pages.url('/in/bench-0/'), url), captured_at: new Date().toISOString() });
      const t = performance.now();
      const r = await fetch(`${companion.baseUrl}/v1/captures`, { method: 'POST', body, headers: {
        'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'X-Kith-API-Version': '1' } });
      await r.json();
      if (r.status !== 201) throw new Error(`direct POST answered ${r.status}`);
      if (i) direct.push(performance.now() - t);
    }

    const c = median(commit);
    const d = median(direct);
    const mb = (bytes / 1e6).toFixed(2);
    return [
      row('popup_save_to_commit_2mb_firefox', c, d, `${version}: Save click → capture row committed, ${mb} MB page `
        + `(scripts/bench_popup.py's), median of ${RUNS}; ref = the same body POSTed from Node; browser side ≈ ${Math.round(c - d)} ms`),
      row('popup_save_to_sent_2mb_firefox', median(sent), c, 'Save click → popup shows Saved; ref = click → commit'),
      row('firefox_storage_set_2mb', median(storage), c, 'storage.local.set of a page-sized string in an extension page; ref = click → commit'),
      row('firefox_runtime_message_2mb', median(message), c, 'extension page → event page sendMessage round trip, page-sized; ref = click → commit'),
    ];
  } finally {
    await ext?.close();
    await companion.stop();
    await pages.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rows = await measure();
if (args.json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  for (const r of rows) console.log(`${r.name.padEnd(36)} ${String(r.figure_ms).padStart(9)} ${String(r.reference_ms).padStart(9)} ${String(r.ratio).padStart(6)}`);
  for (const r of rows) console.log(`- ${r.name}: ${r.note}`);
}
