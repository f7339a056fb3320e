// Durable capture queue. A capture is written to storage before its first send and
// deleted only after a 2xx, so a killed service worker or a stopped companion never
// loses one. Replays are safe: the companion deduplicates by capture_id.
//
// Layout: one small index key (order, state, retry metadata) plus one key per capture
// payload, so listing and counting never read megabytes of page HTML.

export const INDEX_KEY = 'kith.queue';
export const ITEM_PREFIX = 'kith.capture.';
const itemKey = (id) => ITEM_PREFIX + id;

export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 60 * 60_000;

export function backoffDelay(attempts) {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);
}

const emptyIndex = () => ({ items: [], needsPairing: false });

export class CaptureQueue {
  /**
   * @param {object} o
   * @param {{get, set, remove}} o.storage  chrome.storage.local or a fake
   * @param {(capture) => Promise<{ok,status,retryable,needsPairing,body,error}>} o.send
   */
  constructor({ storage, send, now = () => Date.now(), uuid = () => crypto.randomUUID(),
    backoff = backoffDelay, onChange = () => {} }) {
    Object.assign(this, { storage, send, now, uuid, backoff, onChange });
    this._mutex = Promise.resolve();   // serialises index read-modify-write
    this._flushTail = Promise.resolve(); // serialises flushes
    this.inFlight = new Set();         // ids being sent right now
    // Payloads enqueued by this worker, kept until their first send so a 2 MB page is
    // not read back from storage right after it was written. Storage stays the truth.
    this._fresh = new Map();
  }

  // Run fn(index) under the lock; fn mutates the index and may return extra keys to write.
  _mutate(fn) {
    const run = this._mutex.then(async () => {
      const index = await this._readIndex();
      const result = await fn(index);
      await this.storage.set({ [INDEX_KEY]: index, ...(result?.write || {}) });
      if (result?.remove?.length) await this.storage.remove(result.remove);
      return { index, value: result?.value };
    });
    this._mutex = run.catch(() => {});
    return run.then(({ index, value }) => {
      try { this.onChange(summarise(index)); } catch { /* a badge error must not fail a write */ }
      return value;
    });
  }

  async _readIndex() {
    const got = await this.storage.get(INDEX_KEY);
    return got?.[INDEX_KEY] || emptyIndex();
  }

  /** Persist a capture (assigning capture_id / captured_at) and return its id. */
  async enqueue(capture) {
    const body = { ...capture };
    body.capture_id ||= this.uuid();
    body.captured_at ||= new Date(this.now()).toISOString();
    const meta = {
      id: body.capture_id, kind: body.kind, url: body.url || null, title: body.title || null,
      enqueuedAt: this.now(), attempts: 0, nextAttemptAt: 0, state: 'waiting',
      lastStatus: null, lastError: null,
    };
    return this._mutate((index) => {
      if (index.items.some((m) => m.id === meta.id)) return { value: meta.id };
      index.items.push(meta);
      // Payload and index go in one set() call: both land or neither does.
      return { write: { [itemKey(meta.id)]: body }, value: meta.id };
    }).then((id) => { this._fresh.set(id, body); return id; });
  }

  async status() {
    return summarise(await this._readIndex(), true);
  }

  /**
   * Send waiting captures in FIFO order. Flushes never overlap: a second call waits
   * for the running one and then looks again, so no capture is sent twice at once.
   * @param {{force?: boolean}} opts force ignores backoff (popup, tests, pairing)
   */
  flush(opts = {}) {
    const run = this._flushTail.then(() => this._flushOnce(opts));
    this._flushTail = run.catch(() => {});
    return run;
  }

  async _flushOnce({ force = false } = {}) {
    const outcome = { sent: [], waiting: [], failed: [], needsPairing: false, results: {} };
    const index = await this._readIndex();
    const due = index.items.filter((m) => m.state === 'waiting' && !this.inFlight.has(m.id) &&
      (force || m.nextAttemptAt <= this.now()));
    for (const meta of due) {
      const stop = await this._sendOne(meta.id, outcome);
      if (stop) break;
    }
    return outcome;
  }

  // Returns true when the rest of this flush would fail the same way.
  async _sendOne(id, outcome) {
    // Re-check: it may have been discarded or already sent since the flush began.
    const current = (await this._readIndex()).items.find((m) => m.id === id);
    if (!current || current.state !== 'waiting' || this.inFlight.has(id)) return false;
    let body = this._fresh.get(id);
    this._fresh.delete(id);
    if (!body) body = (await this.storage.get(itemKey(id)))?.[itemKey(id)];
    if (!body) {
      await this._update(id, (m) => { m.state = 'failed'; m.lastError = 'capture payload missing from storage'; });
      outcome.failed.push(id);
      return false;
    }
    this.inFlight.add(id);
    let res;
    try {
      res = await this.send(body);
    } catch (err) {
      res = { ok: false, status: 0, retryable: true, needsPairing: false, error: String(err?.message || err) };
    } finally {
      this.inFlight.delete(id);
    }
    outcome.results[id] = res;
    if (res.ok) {
      await this._mutate((index) => {
        index.items = index.items.filter((m) => m.id !== id);
        index.needsPairing = false;
        return { remove: [itemKey(id)] };
      });
      outcome.sent.push(id);
      return false;
    }
    const why = res.body?.error?.message || res.error || `HTTP ${res.status}`;
    if (res.needsPairing) {
      // Keep it: once paired it goes out. No backoff, a 401 costs nothing.
      await this._mutate((index) => {
        index.needsPairing = true;
        const m = index.items.find((x) => x.id === id);
        if (m) Object.assign(m, { lastStatus: res.status, lastError: why });
      });
      outcome.needsPairing = true;
      outcome.waiting.push(id);
      return true;
    }
    if (res.retryable) {
      await this._update(id, (m) => {
        m.attempts += 1;
        m.nextAttemptAt = this.now() + this.backoff(m.attempts);
        Object.assign(m, { lastStatus: res.status, lastError: why });
      });
      outcome.waiting.push(id);
      // Companion down or asking us to slow down: the others would fare no better.
      return res.status === 0 || res.status === 429;
    }
    await this._update(id, (m) => {
      m.attempts += 1;
      Object.assign(m, { state: 'failed', lastStatus: res.status, lastError: why, failedAt: this.now() });
    });
    outcome.failed.push(id);
    return false;
  }

  _update(id, fn) {
    return this._mutate((index) => {
      const m = index.items.find((x) => x.id === id);
      if (m) fn(m);
    });
  }

  /** Move failed captures (one id, or all) back to waiting, due now. */
  retry(id = null) {
    return this._mutate((index) => {
      for (const m of index.items) {
        // A named id is retried now whatever its state; "all" means all failed ones.
        if (id === null ? m.state === 'failed' : m.id === id) {
          Object.assign(m, { state: 'waiting', nextAttemptAt: 0 });
        }
      }
    });
  }

  /** Drop a capture for good (user's explicit choice from the failed list). */
  discard(id) {
    this._fresh.delete(id);
    return this._mutate((index) => {
      index.items = index.items.filter((m) => m.id !== id);
      return { remove: [itemKey(id)] };
    });
  }

  setNeedsPairing(flag) {
    return this._mutate((index) => { index.needsPairing = !!flag; });
  }

  /** JSON of whole captures, so nothing is lost even if the companion never takes them. */
  async exportJSON({ state = null } = {}) {
    const index = await this._readIndex();
    const metas = index.items.filter((m) => !state || m.state === state);
    const got = metas.length ? await this.storage.get(metas.map((m) => itemKey(m.id))) : {};
    const items = metas.map((m) => ({ ...m, capture: got[itemKey(m.id)] ?? null }));
    return JSON.stringify({ app: 'kith-extension', exported_at: new Date(this.now()).toISOString(), items }, null, 2);
  }

  /** Remove payload keys no index entry points to (left if the worker died mid-delete). */
  async gc() {
    const all = this.storage.getKeys ? await this.storage.getKeys() : Object.keys(await this.storage.get(null));
    return this._mutate((index) => {
      const live = new Set(index.items.map((m) => itemKey(m.id)));
      return { remove: all.filter((k) => k.startsWith(ITEM_PREFIX) && !live.has(k)) };
    });
  }
}

function summarise(index, withItems = false) {
  const waiting = index.items.filter((m) => m.state === 'waiting');
  const failed = index.items.filter((m) => m.state === 'failed');
  const s = { waiting: waiting.length, failed: failed.length, needsPairing: !!index.needsPairing };
  if (withItems) Object.assign(s, { waitingItems: waiting, failedItems: failed });
  return s;
}
