// Popup: look the page up; if the person is saved show what we know, else preview and save.
// Reads (lookup/preview) go straight to the companion from this extension page; every
// write goes through the background queue so it is persisted before it is sent.
import { createClient, errorMessage } from './lib/client.js';
import { loadSettings } from './lib/settings.js';
import { capturePage, isCapturableUrl } from './lib/page.js';
import { profileCapture, noteCapture, interactionCapture, deflateBase64, EDIT_FIELDS } from './lib/captures.js';
import { fieldsFromExtraction } from './lib/fields.js';
import { $, el, show, ask, formatDate, hasHostAccess, requestHostAccess } from './lib/ui.js';
import { renderQueue, wireQueue } from './popup-queue.js';
import { catchUpText, upcomingText } from './lib/today.js';

const storage = chrome.storage.local;
const client = createClient({ fetch: (...a) => fetch(...a), getSettings: () => loadSettings(storage) });

const FIELD_IDS = { name: 'field-name', headline: 'field-headline', company: 'field-company',
  title: 'field-title', location: 'field-location', avatar_url: 'field-photo' };

const state = { page: null, original: {}, contact: null };

function setStatus(text, kind = 'info') {
  const s = $('status');
  s.textContent = text;
  s.dataset.state = kind;
}

function showPairFirst(visible = true) {
  show($('pair-banner'), visible);
}

async function targetTabId() {
  const fromQuery = Number(new URLSearchParams(location.search).get('tabId'));
  if (Number.isInteger(fromQuery) && fromQuery > 0) return fromQuery;
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab?.id;
}

function setPhoto(img, url) {
  const okUrl = /^https?:\/\//i.test(url || '');
  img.onerror = () => show(img, false); // a dead photo link should not show a broken icon
  if (okUrl) img.src = url; else img.removeAttribute('src');
  show(img, okUrl);
}

// ---- "already saved" panel -------------------------------------------------

function showSaved(found, { quiet = false } = {}) {
  const c = found.contact || {};
  state.contact = c;
  show($('save-form'), false);
  $('saved-name').textContent = c.name || state.page?.title || 'Saved contact';
  $('saved-headline').textContent = [c.headline, c.company].filter(Boolean).join(' · ');
  setPhoto($('saved-photo'), c.avatar_url);
  $('saved-first').textContent = formatDate(c.created_at) || 'unknown';
  const li = found.last_interaction;
  $('saved-last-interaction').textContent = li
    ? [li.kind, formatDate(li.happened_at), li.summary].filter(Boolean).join(' · ') : 'none yet';
  const catchUp = catchUpText(found.catch_up, formatDate);
  $('saved-catch-up').textContent = catchUp.text;
  $('saved-catch-up').dataset.state = catchUp.state;
  $('saved-upcoming').textContent = upcomingText(found.upcoming) || 'nothing in the next two weeks';
  const notes = found.notes || [];
  $('saved-notes').replaceChildren(...notes.map((n, i) => el('li',
    i === 0 ? { id: 'last-note', 'data-testid': 'last-note' } : {},
    n.body, el('time', { datetime: n.created_at, text: formatDate(n.created_at) }))));
  show($('saved-no-notes'), notes.length === 0);
  const link = $('saved-open');
  if (/^http:\/\/127\.0\.0\.1[:/]/.test(found.datasette_url || '')) link.href = found.datasette_url;
  show(link, link.getAttribute('href') !== '#');
  show($('saved-panel'), true);
  if (!quiet) setStatus(`Already saved${c.created_at ? ` on ${formatDate(c.created_at)}` : ''}.`, 'saved');
}

async function refreshSaved() {
  const lk = await client.lookup(state.page.url);
  if (lk.ok && lk.body?.found) showSaved(lk.body, { quiet: true });
}

async function sendFollowUp(capture, doneText) {
  const r = await ask('enqueue', { capture });
  reportOutcome(r, doneText);
  if (r.state === 'sent') await refreshSaved();
  await renderQueue();
  return r;
}

async function addNote() {
  const text = $('add-note-text').value;
  if (!text.trim()) { $('add-note-text').focus(); return; }
  $('add-note').disabled = true;
  try {
    const r = await sendFollowUp(noteCapture({ text, contactId: state.contact?.id, url: state.page.url }), 'Note added.');
    if (r.state !== 'failed') $('add-note-text').value = '';
  } finally { $('add-note').disabled = false; }
}

async function logInteraction() {
  $('log-interaction').disabled = true;
  try {
    const summary = $('add-note-text').value;
    const r = await sendFollowUp(interactionCapture({ contactId: state.contact?.id, url: state.page.url,
      interactionKind: $('interaction-kind').value, summary, happenedAt: new Date().toISOString() }), 'Interaction logged.');
    if (r.state !== 'failed') $('add-note-text').value = '';
  } finally { $('log-interaction').disabled = false; }
}

// ---- save form -------------------------------------------------------------

function showForm(values) {
  state.original = { ...values };
  for (const [k, id] of Object.entries(FIELD_IDS)) $(id).value = values[k] || '';
  setPhoto($('photo-preview'), values.avatar_url);
  show($('saved-panel'), false);
  show($('save-form'), true);
  $('field-name').focus();
}

function formValues() {
  const values = {};
  for (const k of EDIT_FIELDS) if (FIELD_IDS[k]) values[k] = $(FIELD_IDS[k]).value;
  return values;
}

function reportOutcome(r, doneText) {
  if (r.state === 'sent') setStatus(doneText, 'sent');
  else if (r.state === 'needs_pairing') {
    showPairFirst(true);
    setStatus('Waiting in the queue: pair first, it is sent once paired.', 'needs_pairing');
  } else if (r.state === 'failed') {
    setStatus(`Not saved: ${r.response ? errorMessage({ ...r.response, ok: false }) : 'rejected'}. See the queue below.`, 'failed');
  } else setStatus('Companion not reachable: waiting in the queue, will retry.', 'waiting');
}

async function save(event) {
  event.preventDefault();
  if (!state.page || $('save').disabled) return;
  $('save').disabled = true;
  setStatus('Saving…', 'working');
  try {
    // Compressed while the popup was open (loadPage); a page that would not compress goes as it is.
    const htmlZ = await state.pageZ?.catch(() => null);
    const page = htmlZ ? { ...state.page, htmlZ } : state.page;
    const capture = profileCapture({ page, values: formValues(), original: state.original,
      circle: $('circle').value, tags: $('tags').value, howMet: $('how-met').value, note: $('note').value });
    const r = await ask('enqueue', { capture });
    const name = r.response?.body?.contact?.name;
    reportOutcome(r, `Saved${name ? `: ${name}` : ''}.`);
    if (r.state === 'sent') await refreshSaved();
    // Queued captures are kept and retried: a second click would only queue a duplicate.
    else if (r.state !== 'failed') $('save').textContent = 'Queued';
    $('save').disabled = r.state !== 'failed';
  } catch (err) {
    setStatus(`Could not queue the capture: ${err.message}`, 'error');
    $('save').disabled = false;
  }
  await renderQueue();
}

// Enter saves from a textarea too; Shift+Enter keeps a newline.
function enterSubmits(textarea, action) {
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); action(); }
  });
}

// ---- start -----------------------------------------------------------------

async function loadPage() {
  const tabId = await targetTabId();
  if (!tabId) throw new Error('no tab to save');
  const page = await capturePage(tabId);
  if (!isCapturableUrl(page.url)) throw new Error('only http(s) pages can be saved');
  return page;
}

async function start() {
  wireQueue();
  $('save-form').addEventListener('submit', save);
  enterSubmits($('note'), () => $('save-form').requestSubmit());
  enterSubmits($('add-note-text'), addNote);
  $('add-note').addEventListener('click', addNote);
  $('log-interaction').addEventListener('click', logInteraction);
  $('field-photo').addEventListener('change', () => setPhoto($('photo-preview'), $('field-photo').value));
  for (const id of ['open-options', 'pair-link']) {
    $(id).addEventListener('click', (e) => { e.preventDefault(); chrome.runtime.openOptionsPage(); });
  }
  $('perm-request').addEventListener('click', async () => {
    if (await requestHostAccess()) location.reload();
  });

  // Opening the popup is one of the moments the queue is retried.
  ask('flush').catch(() => {}).then(() => renderQueue()).catch(() => {});
  renderQueue().catch(() => {});

  if (!(await hasHostAccess())) show($('perm-banner'), true);
  const { token } = await loadSettings(storage);
  if (!token) showPairFirst(true);

  try {
    state.page = await loadPage();
    // Compress now, while the preview runs: Save then moves a few hundred KB, not the whole page.
    state.pageZ = deflateBase64(state.page.html);
  } catch (err) {
    setStatus(`This page cannot be saved: ${err.message}.`, 'error');
    return;
  }
  const guess = { name: state.page.title };
  if (!token) {
    setStatus('Not paired yet: you can still save, the capture waits.', 'needs_pairing');
    return showForm(guess);
  }
  setStatus('Looking up…', 'working');
  const lk = await client.lookup(state.page.url);
  if (lk.ok && lk.body?.found) return showSaved(lk.body);
  if (lk.needsPairing) {
    showPairFirst(true);
    setStatus('The companion does not know this browser: pair first. Saving still queues.', 'needs_pairing');
    return showForm(guess);
  }
  if (!lk.ok) {
    setStatus(`Companion not reachable (${errorMessage(lk)}). Saving queues the capture.`, 'waiting');
    return showForm(guess);
  }
  setStatus('Reading the profile…', 'working');
  const pv = await client.preview(state.page.url, state.page.html, state.page.title);
  if (pv.ok && pv.body?.existing?.found) return showSaved(pv.body.existing);
  if (!pv.ok) {
    setStatus(`Preview failed (${errorMessage(pv)}); you can still save.`, 'waiting');
    return showForm(guess);
  }
  // Original stays what was extracted, so only real user changes become edits.
  const fields = fieldsFromExtraction(pv.body?.extraction);
  showForm(fields);
  setStatus(fields.name ? 'Check the details, then save.' : 'Nothing recognised: fill in what you know.', 'ready');
}

start().catch((err) => setStatus(`Something went wrong: ${err.message}`, 'error'));
