// Protocol client for the Kith companion (docs/PROTOCOL.md). fetch and the settings
// reader are injected so the client is unit-testable without a browser.
import { companionBase } from './settings.js';

export const API_VERSION = '1';

// Each call resolves (never rejects) to one shape the queue and the UI both understand.
export function classify(status, body, error = null) {
  const ok = status >= 200 && status < 300;
  const code = body?.error?.code;
  // An unpaired extension origin is refused (403 ORIGIN_FORBIDDEN) before the token
  // is even checked, so it means "pair again" just like 401.
  const needsPairing = status === 401 || (status === 403 && code === 'ORIGIN_FORBIDDEN');
  const retryable = !ok && !needsPairing &&
    (status === 0 || status === 408 || status === 429 || status >= 500);
  return { ok, status, retryable, needsPairing, body, error };
}

export function errorMessage(res) {
  if (res.ok) return '';
  if (res.body?.error?.message) return `${res.body.error.code || res.status}: ${res.body.error.message}`;
  if (res.error) return res.error;
  return `HTTP ${res.status}`;
}

export function createClient({ fetch, getSettings, timeouts = {} }) {
  const limits = { short: 5000, long: 30000, ...timeouts };

  async function request(method, path, { body, auth = true, timeout = limits.short } = {}) {
    const { port, token } = await getSettings();
    if (auth && !token) {
      // No network call: without a token every authed route answers 401 anyway.
      return classify(401, { error: { code: 'NOT_PAIRED', message: 'Pair the extension first', retryable: false } });
    }
    const headers = { 'X-Kith-API-Version': API_VERSION };
    if (auth && token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeout);
    try {
      const resp = await fetch(companionBase(port) + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      const text = await resp.text();
      let parsed = null;
      try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { raw: text }; }
      return classify(resp.status, parsed);
    } catch (err) {
      const timedOut = ctrl.signal.aborted;
      return classify(0, null, timedOut ? `timeout after ${timeout} ms` : `companion not reachable (${err?.message || err})`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    ping: () => request('GET', '/v1/ping', { auth: false }),
    pair: (code, name) => request('POST', '/v1/pair', { auth: false, body: { code: String(code).trim(), name } }),
    // Revokes this extension's own token on the companion, so an unpaired browser leaves no live token.
    unpair: () => request('POST', '/v1/unpair', { body: {} }),
    preview: (url, html, title) => request('POST', '/v1/preview', {
      body: title ? { url, html, title } : { url, html }, timeout: limits.long,
    }),
    postCapture: (capture) => request('POST', '/v1/captures', { body: capture, timeout: limits.long }),
    lookup: (url) => request('GET', `/v1/contacts/lookup?url=${encodeURIComponent(url)}`),
  };
}
