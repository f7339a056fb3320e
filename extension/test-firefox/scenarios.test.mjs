// The Chromium browser scenarios (tests/browser/test_extension.py), in a real Firefox ESR against a
// real `kith serve`. Each test gets a fresh Firefox profile (empty queue, no token) and a fresh
// companion database. Waits are on DOM state or on polled extension/database state, never fixed sleeps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  fill, firefoxSuite, screenshotPath, text, value, waitDom, waitState, waitText, waitUntil, waitVisible,
} from './harness.mjs';

const firefoxTest = firefoxSuite();

const NOTE = "Talked about Babbage's notation at the Thursday meetup; send her the Bernoulli paper.";

/** Open the popup on a fresh profile, fill the form, click Save and wait until it is sent. */
async function saveProfileFromPopup(ext, tabId, { circle = 'both', tags = 'compilers, London meetup',
  howMet = 'Analytical Engines meetup', note = NOTE, headline = null, screenshot = null } = {}) {
  const popup = await ext.openPopup(tabId);
  await waitState(popup, '#status', 'ready'); // lookup said "new", preview filled the form
  await waitVisible(popup, '#save-form');
  await waitVisible(popup, '#pair-banner', false);
  if (headline !== null) await fill(popup, '#field-headline', headline);
  await popup.select('#circle', circle);
  await fill(popup, '#tags', tags);
  await fill(popup, '#how-met', howMet);
  await fill(popup, '#note', note);
  if (screenshot) {
    await waitVisible(popup, '#photo-preview');
    await waitDom(popup, () => {
      const img = document.querySelector('#photo-preview');
      return img.complete && img.naturalWidth > 0;
    }, [], 'the photo preview to load');
    await popup.focus('#save');
    await popup.evaluate(() => window.scrollTo(0, 0));
    const main = await popup.$('main');
    await main.screenshot({ path: screenshot });
  }
  await popup.click('#save');
  await waitState(popup, '#status', 'sent');
  return popup;
}

firefoxTest('pair, then save a profile with note, tags and circle', async ({ ext, companion, pages }) => {
  await ext.pair(companion, ext.control); // on the welcome tab, as a new user would
  const url = pages.url('people/ada-lovelace.html');
  const { tabId } = await ext.openTab(url);

  let popup = await ext.openPopup(tabId);
  // What the companion found is shown, editable, before anything is saved.
  await waitState(popup, '#status', 'ready');
  assert.equal(await value(popup, '#field-name'), 'Ada Lovelace');
  assert.equal(await value(popup, '#field-company'), 'Analytical Engines Ltd');
  assert.equal(await value(popup, '#field-title'), 'Principal Engineer');
  assert.equal(companion.count('captures'), 0, 'preview must not write');
  await popup.close();

  const shot = screenshotPath('popup-firefox.png');
  fs.rmSync(shot, { force: true });
  popup = await saveProfileFromPopup(ext, tabId, { circle: 'both', tags: 'compilers, London meetup',
    headline: 'Compilers for difference machines', screenshot: shot });
  await waitText(popup, '#status', 'Saved: Ada Lovelace', { contains: true });
  assert.ok(fs.statSync(shot).size > 5_000, 'the popup screenshot is too small to show anything');

  const contact = companion.contactForUrl(url);
  assert.ok(contact, 'no contact owns the page URL');
  assert.equal(contact.name, 'Ada Lovelace');
  assert.equal(contact.circle, 'both');
  assert.equal(contact.how_met, 'Analytical Engines meetup');
  assert.equal(contact.headline, 'Compilers for difference machines'); // the user's edit
  assert.equal(contact.company, 'Analytical Engines Ltd'); // extracted, untouched
  assert.deepEqual(companion.tagsOf(contact.id), ['London meetup', 'compilers']);
  const notes = companion.query('SELECT body, capture_id FROM notes WHERE contact_id = ?', [contact.id]);
  assert.deepEqual(notes.map((n) => n.body), [NOTE]);
  const captures = companion.query('SELECT id, kind, url, status, contact_id FROM captures');
  assert.equal(captures.length, 1);
  assert.deepEqual([captures[0].kind, captures[0].url, captures[0].contact_id], ['profile', url, contact.id]);
  assert.equal(captures[0].status, 'parsed');
  assert.equal(notes[0].capture_id, captures[0].id);
  // The companion paired this browser's moz-extension:// origin.
  assert.deepEqual(companion.pairedOrigins(), [ext.origin]);

  // Sent means deleted from the queue.
  const st = await ext.status();
  assert.deepEqual([st.waiting, st.failed], [0, 0]);
  await ext.waitBadge('');
});

firefoxTest('a reopened popup shows "already saved" and the last note', async ({ ext, companion, pages }) => {
  await ext.pair(companion);
  const url = pages.url('people/ada-lovelace.html');
  const { tabId } = await ext.openTab(url);
  await (await saveProfileFromPopup(ext, tabId)).close();

  const popup = await ext.openPopup(tabId);
  await waitState(popup, '#status', 'saved');
  await waitText(popup, '#status', 'Already saved', { contains: true });
  await waitVisible(popup, '#saved-panel');
  await waitVisible(popup, '#save-form', false); // no second save
  assert.equal(await text(popup, '#saved-name'), 'Ada Lovelace');
  assert.notEqual(await text(popup, '#saved-first'), 'unknown');
  assert.ok((await text(popup, '#last-note')).includes(NOTE));
  await waitVisible(popup, '#add-note');
  await waitVisible(popup, '#log-interaction');

  // "Add note" instead of a second save: Enter in the textarea sends it, and it becomes the last note.
  await fill(popup, '#add-note-text', 'Sent the paper.');
  await popup.focus('#add-note-text');
  await popup.keyboard.press('Enter');
  await waitState(popup, '#status', 'sent');
  await waitText(popup, '#last-note', 'Sent the paper.', { contains: true });
  const contact = companion.contactForUrl(url);
  const bodies = new Set(companion.query('SELECT body FROM notes WHERE contact_id = ?', [contact.id]).map((r) => r.body));
  assert.deepEqual(bodies, new Set([NOTE, 'Sent the paper.']));
  assert.equal(companion.count('contacts'), 1);
});

const SELECT_POST = () => {
  const p = document.querySelector('#post-bernoulli .body');
  const range = document.createRange();
  range.selectNodeContents(p);
  const sel = getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  return sel.toString();
};

firefoxTest('save a selection (the context-menu path) stores a message', async ({ ext, companion, pages }) => {
  await ext.pair(companion);
  const url = pages.url('people/ada-lovelace.html');
  const { page, tabId } = await ext.openTab(url);
  // The person is saved first (the keyboard-shortcut path), so the message can attach to them.
  const saved = await ext.call('save-page', { tabId });
  assert.equal(saved.state, 'sent', JSON.stringify(saved));
  const contact = companion.contactForUrl(url);
  assert.ok(contact);

  const selected = await page.evaluate(SELECT_POST);
  assert.ok(selected.includes('compose elaborate'));
  // The same function the context-menu handler calls for "Save selection to Kith as message".
  const result = await ext.call('save-selection', { tabId, kind: 'message' });
  assert.equal(result.state, 'sent', JSON.stringify(result));
  assert.equal(result.response.status, 201);

  const rows = companion.query('SELECT m.body, m.contact_id, m.thread_url, m.capture_id, c.kind AS capture_kind,'
    + ' c.url AS capture_url FROM messages m JOIN captures c ON c.id = m.capture_id');
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.ok(row.body.split(/\s+/).join(' ').includes('compose elaborate and scientific pieces of music'), row.body);
  assert.equal(row.capture_kind, 'message');
  assert.equal(row.capture_url, url);
  assert.equal(row.thread_url, url);
  assert.equal(row.contact_id, contact.id, 'the selection should attach to the page\'s contact');
  assert.equal((await ext.status()).waiting, 0);
});

firefoxTest('captures wait while the companion is down and are sent exactly once', async ({ ext, companion, pages }) => {
  await ext.pair(companion);
  const urls = [pages.url('people/ada-lovelace.html'), pages.url('people/grace-hopper.html')];
  const tabs = [];
  for (const u of urls) tabs.push((await ext.openTab(u)).tabId);

  await companion.stop();
  for (const [i, tabId] of tabs.entries()) {
    const popup = await ext.openPopup(tabId);
    await waitState(popup, '#status', 'waiting'); // lookup failed: companion not reachable
    await waitVisible(popup, '#save-form');
    await fill(popup, '#note', `offline note ${i + 1}`);
    await popup.click('#save');
    await waitText(popup, '#save', 'Queued');
    assert.equal(await popup.$eval('#save', (b) => b.disabled), true);
    await waitState(popup, '#status', 'waiting');
    await waitText(popup, '#status', 'waiting in the queue', { contains: true });
    await popup.close();
  }

  await ext.waitBadge('2');
  const st = await ext.status();
  assert.deepEqual([st.waiting, st.failed, st.needsPairing], [2, 0, false]);
  const queuedIds = new Set(st.waitingItems.map((m) => m.id));
  assert.deepEqual(new Set(st.waitingItems.map((m) => m.url)), new Set(urls));
  assert.equal(companion.count('captures'), 0);

  await companion.start();
  const first = await ext.flush();
  assert.ok(first.waiting === 0 && first.failed === 0, JSON.stringify(first));
  const stored = companion.query('SELECT id, kind, url FROM captures');
  assert.deepEqual(new Set(stored.map((r) => r.id)), queuedIds); // exactly the two queued captures
  assert.deepEqual(new Set(stored.map((r) => r.url)), new Set(urls));
  assert.equal(companion.count('contacts'), 2);
  assert.deepEqual(companion.query('SELECT body FROM notes').map((r) => r.body).sort(), ['offline note 1', 'offline note 2']);
  await ext.waitBadge('');

  const second = await ext.flush();
  assert.ok(second.sent === 0 && second.waiting === 0, JSON.stringify(second));
  assert.equal(companion.count('captures'), 2);
  assert.equal(companion.count('notes'), 2);
});

firefoxTest('unpaired: the popup says "pair first" and the capture waits', async ({ ext, companion, pages }) => {
  await ext.setPort(companion.port); // configured, but never paired
  const url = pages.url('people/ada-lovelace.html');
  const { tabId } = await ext.openTab(url);

  const popup = await ext.openPopup(tabId);
  await waitVisible(popup, '#pair-banner');
  assert.ok((await text(popup, '#pair-banner')).includes('Pair first'));
  await waitState(popup, '#status', 'needs_pairing');
  await waitVisible(popup, '#save-form'); // saving is still offered
  await fill(popup, '#note', NOTE);
  await popup.select('#circle', 'professional');
  await popup.click('#save');
  await waitState(popup, '#status', 'needs_pairing');
  await waitText(popup, '#status', 'pair first', { contains: true });
  await waitText(popup, '#save', 'Queued');
  await waitVisible(popup, '#pair-banner');

  // Kept, not dropped: one waiting capture, flagged as needing pairing; nothing reached the companion.
  let st = await ext.status();
  assert.deepEqual([st.waiting, st.failed, st.needsPairing, st.paired], [1, 0, true, false]);
  assert.equal(st.waitingItems[0].url, url);
  await ext.waitBadge('1');
  const queuedId = st.waitingItems[0].id;
  assert.equal(companion.count('captures'), 0);
  // Still there after a flush attempt while unpaired.
  assert.equal((await ext.flush()).waiting, 1);
  assert.equal((await ext.status()).waiting, 1);

  await ext.pair(companion);
  await ext.flush();
  await waitUntil(async () => (await ext.status()).waiting === 0, { what: 'the queue to drain after pairing' });
  const stored = companion.query('SELECT id, kind FROM captures');
  assert.deepEqual(stored.map((r) => [r.id, r.kind]), [[queuedId, 'profile']]);
  assert.equal(companion.contactForUrl(url).circle, 'professional');
  assert.deepEqual(companion.query('SELECT body FROM notes').map((r) => r.body), [NOTE]);
  st = await ext.status();
  assert.deepEqual([st.waiting, st.failed, st.needsPairing, st.paired], [0, 0, false, true]);
  await ext.waitBadge('');
});
