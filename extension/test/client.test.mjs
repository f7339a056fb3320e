import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, classify, errorMessage } from '../lib/client.js';
import { loadSettings, saveSettings, DEFAULT_PORT } from '../lib/settings.js';
import { FakeStorage, fakeFetch } from './fakes.mjs';

const settings = (s = {}) => async () => ({ port: 5151, token: 'tok-123', ...s });

test('ping: GET /v1/ping on 127.0.0.1:port with the version header, no token needed', async () => {
  const fetch = fakeFetch(() => ({ status: 200, body: { app: 'kith', api_version: 1 } }));
  const client = createClient({ fetch, getSettings: settings({ port: 6001, token: null }) });
  const r = await client.ping();
  assert.deepEqual([r.ok, r.status, r.body.app], [true, 200, 'kith']);
  const call = fetch.calls[0];
  assert.equal(call.url, 'http://127.0.0.1:6001/v1/ping');
  assert.equal(call.init.method, 'GET');
  assert.equal(call.init.headers['X-Kith-API-Version'], '1');
  assert.equal(call.init.headers.Authorization, undefined);
  assert.equal(call.init.credentials, 'omit');
});

test('postCapture: POST JSON with bearer token, version and content type', async () => {
  const fetch = fakeFetch(() => ({ status: 201, body: { capture_id: 'x', status: 'parsed' } }));
  const client = createClient({ fetch, getSettings: settings() });
  const capture = { capture_id: 'x', kind: 'profile', url: 'https://a.example/', html: '<p>' };
  const r = await client.postCapture(capture);
  assert.equal(r.ok, true);
  const { url, init, body } = fetch.calls[0];
  assert.equal(url, 'http://127.0.0.1:5151/v1/captures');
  assert.equal(init.method, 'POST');
  assert.equal(init.headers.Authorization, 'Bearer tok-123');
  assert.equal(init.headers['Content-Type'], 'application/json');
  assert.equal(init.headers['X-Kith-API-Version'], '1');
  assert.deepEqual(body, capture);
});

test('pair sends the trimmed code without a token and returns the token in body', async () => {
  const fetch = fakeFetch(() => ({ status: 201, body: { token: 'new', token_id: 3 } }));
  const client = createClient({ fetch, getSettings: settings({ token: null }) });
  const r = await client.pair(' K7P-4QX ', 'Chromium');
  assert.equal(r.body.token, 'new');
  assert.deepEqual(fetch.calls[0].body, { code: 'K7P-4QX', name: 'Chromium' });
  assert.equal(fetch.calls[0].url, 'http://127.0.0.1:5151/v1/pair');
  assert.equal(fetch.calls[0].init.headers.Authorization, undefined);
});

test('unpair posts to /v1/unpair with the bearer token so the companion revokes it', async () => {
  const fetch = fakeFetch(() => ({ status: 200, body: { revoked: true, token_id: 3 } }));
  const client = createClient({ fetch, getSettings: settings() });
  const r = await client.unpair();
  assert.equal(r.ok, true);
  assert.equal(fetch.calls[0].url, 'http://127.0.0.1:5151/v1/unpair');
  assert.equal(fetch.calls[0].init.method, 'POST');
  assert.equal(fetch.calls[0].init.headers.Authorization, 'Bearer tok-123');
  assert.equal(fetch.calls[0].init.headers['Content-Type'], 'application/json');
});

test('lookup encodes the url; preview posts url, html and title', async () => {
  const fetch = fakeFetch(() => ({ status: 200, body: { found: false } }));
  const client = createClient({ fetch, getSettings: settings() });
  await client.lookup('https://www.linkedin.com/in/a b/?x=1&y=2');
  assert.equal(fetch.calls[0].url,
    'http://127.0.0.1:5151/v1/contacts/lookup?url=https%3A%2F%2Fwww.linkedin.com%2Fin%2Fa%20b%2F%3Fx%3D1%26y%3D2');
  await client.preview('https://a.example/', '<html></html>', 'A');
  assert.deepEqual(fetch.calls[1].body, { url: 'https://a.example/', html: '<html></html>', title: 'A' });
  assert.equal(fetch.calls[1].init.headers.Authorization, 'Bearer tok-123');
});

test('without a token authed calls answer needsPairing and make no request', async () => {
  const fetch = fakeFetch(() => { throw new Error('must not be called'); });
  const client = createClient({ fetch, getSettings: settings({ token: null }) });
  const r = await client.postCapture({ capture_id: 'x' });
  assert.deepEqual([r.ok, r.needsPairing, r.retryable], [false, true, false]);
  assert.equal(fetch.calls.length, 0);
});

test('status mapping: ok / retryable / needsPairing', () => {
  const m = (s, body) => { const r = classify(s, body); return [r.ok, r.retryable, r.needsPairing]; };
  assert.deepEqual(m(200), [true, false, false]);
  assert.deepEqual(m(201), [true, false, false]);
  assert.deepEqual(m(401), [false, false, true]);
  assert.deepEqual(m(403, { error: { code: 'ORIGIN_FORBIDDEN' } }), [false, false, true]);
  assert.deepEqual(m(403, { error: { code: 'PAIRING_FAILED' } }), [false, false, false]);
  assert.deepEqual(m(429), [false, true, false]);
  assert.deepEqual(m(500), [false, true, false]);
  assert.deepEqual(m(503), [false, true, false]);
  assert.deepEqual(m(0), [false, true, false]);
  for (const s of [400, 409, 412, 413, 415, 422]) assert.deepEqual(m(s), [false, false, false], String(s));
});

test('a network error resolves as status 0, retryable', async () => {
  const fetch = fakeFetch(() => { throw new TypeError('Failed to fetch'); });
  const client = createClient({ fetch, getSettings: settings() });
  const r = await client.postCapture({});
  assert.deepEqual([r.ok, r.status, r.retryable], [false, 0, true]);
  assert.match(r.error, /not reachable.*Failed to fetch/);
});

test('a hung companion times out as a retryable status 0', async () => {
  const fetch = (url, init) => new Promise((_, reject) => {
    init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
  const client = createClient({ fetch, getSettings: settings(), timeouts: { short: 20 } });
  const r = await client.lookup('https://a.example/');
  assert.deepEqual([r.status, r.retryable], [0, true]);
  assert.match(r.error, /timeout/);
});

test('error bodies are parsed and turned into a readable message; non-JSON is kept raw', async () => {
  const fetch = fakeFetch(() => ({ status: 422, body: { error: { code: 'INVALID_URL', message: 'url must be http(s)', retryable: false } } }));
  const client = createClient({ fetch, getSettings: settings() });
  const r = await client.postCapture({});
  assert.equal(errorMessage(r), 'INVALID_URL: url must be http(s)');
  const raw = createClient({ fetch: fakeFetch(() => ({ status: 502, body: 'Bad Gateway' })), getSettings: settings() });
  const r2 = await raw.ping();
  assert.deepEqual([r2.retryable, r2.body.raw, errorMessage(r2)], [true, 'Bad Gateway', 'HTTP 502']);
});

test('settings default to port 5151, reject bad ports, and merge on save', async () => {
  const storage = new FakeStorage();
  assert.deepEqual(await loadSettings(storage), { port: DEFAULT_PORT, token: null, tokenId: null });
  await saveSettings(storage, { token: 't', tokenId: 3 });
  await saveSettings(storage, { port: 6000 });
  assert.deepEqual(await loadSettings(storage), { port: 6000, token: 't', tokenId: 3 });
  await saveSettings(storage, { port: 'nope' });
  assert.equal((await loadSettings(storage)).port, DEFAULT_PORT);
});
