import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { parseTags, diffEdits, profileCapture, messageCapture, noteCapture, interactionCapture, deflateBase64 } from '../lib/captures.js';

const page = { url: 'https://github.com/octo', title: 'octo', html: '<html></html>' };

test('tags: split on commas, trimmed, deduplicated case-insensitively', () => {
  assert.deepEqual(parseTags(' rust, Berlin ,,rust, berlin, conf 2024 '), ['rust', 'Berlin', 'conf 2024']);
  assert.deepEqual(parseTags(''), []);
});

test('edits hold only fields the user changed, never blanks', () => {
  const original = { name: 'Octo Cat', company: 'GitHub', location: '' };
  const values = { name: 'Octo Cat', company: 'Microsoft', location: 'SF', headline: '  ' };
  assert.deepEqual(diffEdits(values, original), { company: 'Microsoft', location: 'SF' });
});

test('profile capture carries html, edits, circle, tags, how_met and note', () => {
  const c = profileCapture({
    page, values: { name: 'Octo' }, original: { name: 'octo' },
    circle: 'both', tags: 'a, b', howMet: ' PyCon ', note: ' hi ',
  });
  assert.deepEqual(c, {
    kind: 'profile', url: page.url, title: 'octo', html: '<html></html>',
    edits: { name: 'Octo' }, circle: 'both', tags: ['a', 'b'], how_met: 'PyCon', note: 'hi',
  });
  const bare = profileCapture({ page, circle: '' });
  assert.deepEqual(Object.keys(bare).filter((k) => bare[k] !== undefined), ['kind', 'url', 'title', 'html']);
});

test('message, note and interaction captures', () => {
  const m = messageCapture({ selection: { text: 'hello', html: '<b>hello</b>', url: 'https://x/f', title: 'T' }, pageHtml: '<p>', pageUrl: 'https://x/' });
  assert.deepEqual(m, { kind: 'message', url: 'https://x/', title: 'T', text: 'hello', html: '<b>hello</b>', page_html: '<p>' });
  assert.deepEqual(noteCapture({ text: ' n ', contactId: 7, url: 'https://x/' }), { kind: 'note', text: 'n', contact_id: 7, url: 'https://x/' });
  assert.deepEqual(interactionCapture({ contactId: 7, summary: '' }), { kind: 'interaction', interaction_kind: 'met', contact_id: 7 });
});

test('deflateBase64 gives zlib bytes the companion inflates back to the page, byte for byte', async () => {
  const html = '<html><body>' + 'Zoë 李 <p>hello</p> '.repeat(50000) + '\u{1F600}</body></html>';
  const b64 = await deflateBase64(html);
  assert.ok(b64.length < html.length / 20, `compressed to ${b64.length} of ${html.length}`);
  assert.equal(inflateSync(Buffer.from(b64, 'base64')).toString('utf8'), html);
  assert.equal(inflateSync(Buffer.from(await deflateBase64(''), 'base64')).toString('utf8'), '');
});

test('a profile capture carries the compressed page instead of the page when it has one', () => {
  const c = profileCapture({ page: { ...page, htmlZ: 'eJwLAQ==' } });
  assert.equal(c.html_z, 'eJwLAQ==');
  assert.equal('html' in c, false);
});
