// Service worker (Chrome) / event page (Firefox). Owns the only CaptureQueue, so every
// queue write and every send happens in one context. Listeners are registered at top
// level because MV3 only wakes a worker for listeners added synchronously.
import { createClient } from './lib/client.js';
import { CaptureQueue } from './lib/queue.js';
import { loadSettings, SETTINGS_KEY } from './lib/settings.js';
import { capturePage, captureSelection, isCapturableUrl } from './lib/page.js';
import { deflateBase64, messageCapture, noteCapture, profileCapture } from './lib/captures.js';

const storage = chrome.storage.local;
const ALARM = 'kith-flush';
const MENU_MESSAGE = 'kith-save-message';
const MENU_NOTE = 'kith-save-note';

const client = createClient({ fetch: (...a) => fetch(...a), getSettings: () => loadSettings(storage) });
const queue = new CaptureQueue({ storage, send: (c) => client.postCapture(c), onChange: showBadge });

function showBadge({ waiting, failed, needsPairing }) {
  const text = waiting ? String(waiting) : failed ? '!' : '';
  chrome.action.setBadgeText({ text }).catch(() => {});
  const color = needsPairing || failed ? '#b3261e' : '#8a5a00';
  chrome.action.setBadgeBackgroundColor({ color }).catch(() => {});
  const title = waiting || failed
    ? `Kith: ${waiting} waiting, ${failed} failed${needsPairing ? ' (pair first)' : ''}` : 'Kith';
  chrome.action.setTitle({ title }).catch(() => {});
}

async function refreshBadge() {
  showBadge(await queue.status());
}

async function ensureAlarm() {
  if (!(await chrome.alarms.get(ALARM))) chrome.alarms.create(ALARM, { periodInMinutes: 0.5 });
}

function setupMenus() {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({ id: MENU_MESSAGE, title: 'Save selection to Kith as message', contexts: ['selection'] });
    chrome.contextMenus.create({ id: MENU_NOTE, title: 'Save selection to Kith as note', contexts: ['selection'] });
  });
}

/** Enqueue (persisted first), then try to send at once. Resolves with what happened to it. */
async function enqueueAndSend(capture, { flush = true } = {}) {
  const id = await queue.enqueue(capture);
  if (!flush) return { id, state: 'waiting' };
  const out = await queue.flush({ force: true });
  const res = out.results[id];
  let state = 'waiting';
  if (out.sent.includes(id)) state = 'sent';
  else if (out.failed.includes(id)) state = 'failed';
  else if (res?.needsPairing || (await queue.status()).needsPairing) state = 'needs_pairing';
  return { id, state, response: res ? { status: res.status, body: res.body, error: res.error } : null };
}

async function savePage(tabId) {
  const page = await capturePage(tabId);
  if (!isCapturableUrl(page.url)) throw new Error(`cannot save ${page.url}`);
  // Compressed as the popup's Save sends it: the queue's storage write and the POST move a few
  // hundred KB, not the whole page. If this browser cannot compress, the page goes as it is.
  const htmlZ = await deflateBase64(page.html).catch(() => null);
  return enqueueAndSend(profileCapture({ page: htmlZ ? { ...page, htmlZ } : page }));
}

async function saveSelection(tabId, kind, frameId = 0, fallbackText = '') {
  let selection;
  try {
    selection = await captureSelection(tabId, frameId);
  } catch {
    // Some frames refuse scripts; the menu's own selectionText still saves the words.
    const tab = await chrome.tabs.get(tabId);
    selection = { text: fallbackText, html: '', url: tab.url, title: tab.title };
  }
  if (!selection.text) selection.text = fallbackText;
  if (!selection.text?.trim()) throw new Error('nothing selected');
  const page = await capturePage(tabId).catch(() => null);
  const pageUrl = page?.url || selection.url;
  const capture = kind === 'note'
    ? noteCapture({ text: selection.text, url: pageUrl, title: page?.title })
    : messageCapture({ selection, pageHtml: page?.html, pageUrl });
  return enqueueAndSend(capture);
}

// Flash a short mark after a shortcut/menu save, then go back to the queue count.
async function flashResult(result) {
  const mark = { sent: '✓', failed: '×', needs_pairing: '?' }[result?.state];
  if (!mark) return refreshBadge();
  await chrome.action.setBadgeText({ text: mark }).catch(() => {});
  setTimeout(() => refreshBadge().catch(() => {}), 2000);
}

const handlers = {
  status: async () => ({ ...(await queue.status()), paired: !!(await loadSettings(storage)).token }),
  flush: async () => {
    const out = await queue.flush({ force: true });
    return { sent: out.sent.length, waiting: out.waiting.length, failed: out.failed.length,
      needsPairing: out.needsPairing, status: await handlers.status() };
  },
  enqueue: ({ capture, flush = true }) => enqueueAndSend(capture, { flush }),
  retry: async ({ id = null }) => { await queue.retry(id); return handlers.flush(); },
  discard: async ({ id }) => { await queue.discard(id); return handlers.status(); },
  export: async ({ state = null }) => ({ json: await queue.exportJSON({ state }) }),
  'save-page': ({ tabId }) => savePage(tabId),
  'save-selection': ({ tabId, kind = 'message', frameId = 0 }) => saveSelection(tabId, kind, frameId),
};

chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  const handler = handlers[msg?.type];
  if (!handler || sender.id !== chrome.runtime.id) return false;
  handler(msg).then(
    (value) => sendResponse({ ok: true, value }),
    (err) => sendResponse({ ok: false, error: String(err?.message || err) }),
  );
  return true; // answer asynchronously (works in Chrome and Firefox)
});

chrome.runtime.onInstalled.addListener(({ reason }) => {
  setupMenus();
  ensureAlarm();
  queue.gc().catch(() => {});
  queue.flush().catch(() => {});
  // A new user lands on the options page and pairs right away; an update opens nothing.
  if (reason === 'install') {
    chrome.tabs.create({ url: chrome.runtime.getURL('options.html') }).catch(() => {});
  }
});

chrome.runtime.onStartup.addListener(() => {
  ensureAlarm();
  queue.flush().catch(() => {});
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) queue.flush().catch(() => {});
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (!tab?.id || (info.menuItemId !== MENU_MESSAGE && info.menuItemId !== MENU_NOTE)) return;
  const kind = info.menuItemId === MENU_NOTE ? 'note' : 'message';
  saveSelection(tab.id, kind, info.frameId || 0, info.selectionText || '')
    .then(flashResult, (err) => { console.warn('Kith: selection not saved:', err); flashResult({ state: 'failed' }); });
});

chrome.commands.onCommand.addListener((command, tab) => {
  if (command !== 'save-page') return;
  const tabPromise = tab?.id ? Promise.resolve(tab)
    : chrome.tabs.query({ active: true, currentWindow: true }).then(([t]) => t);
  tabPromise.then((t) => savePage(t.id))
    .then(flashResult, (err) => { console.warn('Kith: page not saved:', err); flashResult({ state: 'failed' }); });
});

// A new token (from the options page, or set by a test) clears "needs pairing" and sends what waited.
chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' || !changes[SETTINGS_KEY]) return;
  const before = changes[SETTINGS_KEY].oldValue || {};
  const after = changes[SETTINGS_KEY].newValue || {};
  if (after.token && (after.token !== before.token || after.port !== before.port)) {
    queue.setNeedsPairing(false).then(() => queue.flush({ force: true })).catch(() => {});
  }
});

ensureAlarm();
refreshBadge().catch(() => {});

// For tests driving the worker directly (Playwright's sw.evaluate): same handlers as messages.
globalThis.kith = Object.fromEntries(Object.entries(handlers).map(([k, fn]) => [k, (m = {}) => fn(m)]));
