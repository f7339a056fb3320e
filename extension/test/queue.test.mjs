import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureQueue, INDEX_KEY, ITEM_PREFIX, backoffDelay, BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '../lib/queue.js';
import { FakeStorage, res } from './fakes.mjs';

function setup({ respond = () => res(201), clock = { t: 1_000_000 } } = {}) {
  const storage = new FakeStorage();
  const sent = [];
  const changes = [];
  const queue = new CaptureQueue({
    storage,
    now: () => clock.t,
    send: async (c) => { sent.push(c); return respond(c, storage); },
    onChange: (s) => changes.push(s),
  });
  return { storage, sent, queue, clock, changes };
}

const profile = (n) => ({ kind: 'profile', url: `https://example.com/p${n}`, html: `<html>${n}</html>` });

test('enqueue assigns a UUID and captured_at and persists the payload and index together', async () => {
  const { storage, queue } = setup();
  const id = await queue.enqueue(profile(1));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const payload = storage.data.get(ITEM_PREFIX + id);
  assert.equal(payload.capture_id, id);
  assert.equal(payload.html, '<html>1</html>');
  assert.equal(payload.captured_at, new Date(1_000_000).toISOString());
  assert.deepEqual(storage.log[0], ['set', [INDEX_KEY, ITEM_PREFIX + id]]);
  assert.deepEqual(await queue.status().then((s) => [s.waiting, s.failed]), [1, 0]);
});

test('a capture is persisted before the first send', async () => {
  let seenAtSend = null;
  const { queue } = setup({
    respond: (c, storage) => { seenAtSend = storage.data.get(ITEM_PREFIX + c.capture_id); return res(201); },
  });
  const id = await queue.enqueue(profile(1));
  await queue.flush();
  assert.equal(seenAtSend?.capture_id, id);
});

test('2xx deletes the capture (payload and index entry)', async () => {
  const { storage, queue, sent } = setup({ respond: () => res(200, { duplicate: true }) });
  const id = await queue.enqueue(profile(1));
  const out = await queue.flush();
  assert.deepEqual(out.sent, [id]);
  assert.equal(sent.length, 1);
  assert.equal(storage.data.has(ITEM_PREFIX + id), false);
  assert.equal((await queue.status()).waiting, 0);
});

test('flush sends in FIFO order with the exact stored body', async () => {
  const { queue, sent } = setup();
  const ids = [];
  for (const n of [1, 2, 3]) ids.push(await queue.enqueue(profile(n)));
  await queue.flush();
  assert.deepEqual(sent.map((c) => c.capture_id), ids);
  assert.deepEqual(sent.map((c) => c.url), ['https://example.com/p1', 'https://example.com/p2', 'https://example.com/p3']);
});

for (const status of [500, 503, 429, 0]) {
  test(`status ${status} keeps the capture with backoff`, async () => {
    const { queue, storage } = setup({ respond: () => res(status, status ? { error: { message: 'busy' } } : null) });
    const id = await queue.enqueue(profile(1));
    const out = await queue.flush();
    assert.deepEqual(out.waiting, [id]);
    const st = await queue.status();
    assert.equal(st.waiting, 1);
    assert.equal(st.failed, 0);
    const meta = st.waitingItems[0];
    assert.equal(meta.attempts, 1);
    assert.equal(meta.nextAttemptAt, 1_000_000 + BACKOFF_BASE_MS);
    assert.equal(meta.lastStatus, status);
    assert.ok(storage.data.has(ITEM_PREFIX + id));
  });
}

test('backoff doubles and is capped, and a due-only flush respects it', async () => {
  assert.equal(backoffDelay(1), BACKOFF_BASE_MS);
  assert.equal(backoffDelay(2), 2 * BACKOFF_BASE_MS);
  assert.equal(backoffDelay(3), 4 * BACKOFF_BASE_MS);
  assert.equal(backoffDelay(50), BACKOFF_MAX_MS);

  const { queue, sent, clock } = setup({ respond: () => res(503) });
  await queue.enqueue(profile(1));
  await queue.flush();
  assert.equal(sent.length, 1);
  clock.t += BACKOFF_BASE_MS - 1;
  await queue.flush();
  assert.equal(sent.length, 1, 'not due yet');
  clock.t += 1;
  await queue.flush();
  assert.equal(sent.length, 2, 'due now');
  const meta = (await queue.status()).waitingItems[0];
  assert.equal(meta.attempts, 2);
  assert.equal(meta.nextAttemptAt, clock.t + 2 * BACKOFF_BASE_MS);
  await queue.flush({ force: true });
  assert.equal(sent.length, 3, 'force ignores backoff');
});

test('a network error stops the flush (companion down); a 5xx does not', async () => {
  let mode = 0;
  const { queue, sent } = setup({ respond: () => res(mode) });
  for (const n of [1, 2, 3]) await queue.enqueue(profile(n));
  await queue.flush();
  assert.equal(sent.length, 1);
  mode = 500;
  await queue.flush({ force: true });
  assert.equal(sent.length, 4);
});

test('401 keeps the capture and sets needs-pairing; a later 2xx clears it', async () => {
  let status = 401;
  const { queue, sent, storage } = setup({ respond: () => res(status) });
  const a = await queue.enqueue(profile(1));
  await queue.enqueue(profile(2));
  const out = await queue.flush();
  assert.equal(out.needsPairing, true);
  assert.equal(sent.length, 1, 'stops after the first 401');
  let st = await queue.status();
  assert.deepEqual([st.waiting, st.failed, st.needsPairing], [2, 0, true]);
  assert.equal(st.waitingItems[0].attempts, 0, '401 is not a backoff attempt');
  assert.ok(storage.data.has(ITEM_PREFIX + a));
  status = 201;
  await queue.flush();
  st = await queue.status();
  assert.deepEqual([st.waiting, st.needsPairing], [0, false]);
});

for (const status of [400, 409, 412, 413, 415, 422]) {
  test(`status ${status} moves the capture to the failed list`, async () => {
    const { queue, storage } = setup({
      respond: () => res(status, { error: { code: 'VALIDATION_ERROR', message: 'url is bad', retryable: false } }),
    });
    const id = await queue.enqueue(profile(1));
    const out = await queue.flush();
    assert.deepEqual(out.failed, [id]);
    const st = await queue.status();
    assert.deepEqual([st.waiting, st.failed], [0, 1]);
    assert.equal(st.failedItems[0].lastStatus, status);
    assert.equal(st.failedItems[0].lastError, 'url is bad');
    assert.ok(storage.data.has(ITEM_PREFIX + id), 'failed payload is kept for retry/export');
  });
}

test('a failed capture is not retried by flush until retry() moves it back', async () => {
  let status = 422;
  const { queue, sent } = setup({ respond: () => res(status) });
  const id = await queue.enqueue(profile(1));
  await queue.flush();
  await queue.flush({ force: true });
  assert.equal(sent.length, 1);
  status = 201;
  await queue.retry();
  assert.equal((await queue.status()).waiting, 1);
  const out = await queue.flush();
  assert.deepEqual(out.sent, [id]);
  assert.equal(sent[0].capture_id, sent[1].capture_id, 'same capture_id on retry: companion deduplicates');
});

test('concurrent flushes never send the same capture twice', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const { queue, sent } = setup({ respond: async () => { await gate; return res(201); } });
  await queue.enqueue(profile(1));
  await queue.enqueue(profile(2));
  const f1 = queue.flush({ force: true });
  const f2 = queue.flush({ force: true });
  const f3 = queue.flush();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(sent.length, 1, 'only the first flush is sending');
  release();
  const [o1, o2, o3] = await Promise.all([f1, f2, f3]);
  assert.equal(sent.length, 2);
  assert.equal(new Set(sent.map((c) => c.capture_id)).size, 2);
  assert.equal(o1.sent.length, 2);
  assert.equal(o2.sent.length + o3.sent.length, 0);
});

test('enqueue during a flush is kept and sent by the next flush', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const { queue, sent } = setup({ respond: async () => { await gate; return res(201); } });
  await queue.enqueue(profile(1));
  const f1 = queue.flush();
  await new Promise((r) => setTimeout(r, 5));
  const late = await queue.enqueue(profile(2));
  release();
  await f1;
  assert.equal((await queue.status()).waiting, 1);
  const out = await queue.flush();
  assert.deepEqual(out.sent, [late]);
  assert.equal(sent.length, 2);
});

test('a send that throws is treated as a network error, not a loss', async () => {
  const { queue } = setup({ respond: () => { throw new Error('boom'); } });
  const id = await queue.enqueue(profile(1));
  const out = await queue.flush();
  assert.deepEqual(out.waiting, [id]);
  assert.equal((await queue.status()).waitingItems[0].lastError, 'boom');
});

test('enqueue keeps a given capture_id and is idempotent on it', async () => {
  const { queue } = setup();
  const c = { ...profile(1), capture_id: '11111111-1111-4111-8111-111111111111' };
  assert.equal(await queue.enqueue(c), c.capture_id);
  assert.equal(await queue.enqueue(c), c.capture_id);
  assert.equal((await queue.status()).waiting, 1);
});

test('export JSON holds whole captures, filterable by state', async () => {
  const { queue } = setup({ respond: (c) => res(c.url.endsWith('p1') ? 422 : 503) });
  const a = await queue.enqueue(profile(1));
  const b = await queue.enqueue(profile(2));
  await queue.flush();
  const all = JSON.parse(await queue.exportJSON());
  assert.equal(all.app, 'kith-extension');
  assert.deepEqual(all.items.map((i) => [i.id, i.state]), [[a, 'failed'], [b, 'waiting']]);
  assert.equal(all.items[0].capture.html, '<html>1</html>');
  assert.equal(all.items[1].capture.capture_id, b);
  const failed = JSON.parse(await queue.exportJSON({ state: 'failed' }));
  assert.deepEqual(failed.items.map((i) => i.id), [a]);
});

test('discard removes a capture; gc removes orphan payloads only', async () => {
  const { queue, storage } = setup({ respond: () => res(422) });
  const a = await queue.enqueue(profile(1));
  const b = await queue.enqueue(profile(2));
  await queue.discard(a);
  assert.equal(storage.data.has(ITEM_PREFIX + a), false);
  storage.data.set(ITEM_PREFIX + 'orphan', { kind: 'note' });
  storage.data.set('kith.settings', { port: 1 });
  await queue.gc();
  assert.equal(storage.data.has(ITEM_PREFIX + 'orphan'), false);
  assert.ok(storage.data.has(ITEM_PREFIX + b));
  assert.ok(storage.data.has('kith.settings'));
});

test('onChange reports counts after every change (drives the badge)', async () => {
  const { queue, changes } = setup({ respond: () => res(201) });
  await queue.enqueue(profile(1));
  await queue.enqueue(profile(2));
  assert.deepEqual(changes.at(-1), { waiting: 2, failed: 0, needsPairing: false });
  await queue.flush();
  assert.deepEqual(changes.at(-1), { waiting: 0, failed: 0, needsPairing: false });
});

test('the queue survives a restart: a new instance over the same storage sends the capture', async () => {
  const { storage, queue } = setup({ respond: () => res(0) });
  const id = await queue.enqueue(profile(1));
  await queue.flush();
  const sent = [];
  const fresh = new CaptureQueue({ storage, send: async (c) => { sent.push(c); return res(201); } });
  await fresh.flush({ force: true });
  assert.deepEqual(sent.map((c) => c.capture_id), [id]);
});

test('the first send uses the payload just written instead of reading it back; retries read storage', async () => {
  const storage = new FakeStorage();
  const reads = [];
  const get = storage.get.bind(storage);
  storage.get = async (keys) => { reads.push(keys); return get(keys); };
  let status = 503;
  const q = new CaptureQueue({ storage, send: async () => res(status) });
  const id = await q.enqueue({ kind: 'note', text: 'hi', contact_id: 1 });
  await q.flush({ force: true });
  const payloadKey = ITEM_PREFIX + id;
  assert.equal(reads.filter((k) => k === payloadKey).length, 0);
  assert.ok(storage.data.has(payloadKey), 'still persisted while waiting');
  status = 201;
  await q.flush({ force: true });
  assert.equal(reads.filter((k) => k === payloadKey).length, 1);
  assert.ok(!storage.data.has(payloadKey));
});
