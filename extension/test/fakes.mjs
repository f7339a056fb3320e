// In-memory stand-ins for chrome.storage.local and fetch.

export class FakeStorage {
  constructor() { this.data = new Map(); this.log = []; }
  async get(keys) {
    const list = keys === null || keys === undefined ? [...this.data.keys()]
      : Array.isArray(keys) ? keys : [keys];
    const out = {};
    for (const k of list) if (this.data.has(k)) out[k] = structuredClone(this.data.get(k));
    return out;
  }
  async set(obj) {
    this.log.push(['set', Object.keys(obj)]);
    for (const [k, v] of Object.entries(obj)) this.data.set(k, structuredClone(v));
  }
  async remove(keys) {
    const list = Array.isArray(keys) ? keys : [keys];
    this.log.push(['remove', list]);
    for (const k of list) this.data.delete(k);
  }
  async getKeys() { return [...this.data.keys()]; }
}

export const res = (status, body = null) => ({
  ok: status >= 200 && status < 300, status, body,
  retryable: status === 0 || status === 429 || status >= 500,
  needsPairing: status === 401,
});

/** fetch fake: handler(url, init) returns {status, body} or throws. Records every call. */
export function fakeFetch(handler) {
  const calls = [];
  const fn = async (url, init = {}) => {
    calls.push({ url, init, body: init.body ? JSON.parse(init.body) : undefined });
    const r = await handler(url, init);
    const text = typeof r.body === 'string' ? r.body : r.body == null ? '' : JSON.stringify(r.body);
    return { status: r.status, ok: r.status >= 200 && r.status < 300, text: async () => text };
  };
  fn.calls = calls;
  return fn;
}

export const tick = () => new Promise((r) => setTimeout(r, 0));
