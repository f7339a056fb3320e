// The popup's queue panel: waiting and failed captures, Retry, Export as JSON.
import { $, el, ask, downloadJSON, formatDate } from './lib/ui.js';

function describe(m) {
  const what = m.title || m.url || m.kind;
  const why = m.lastError ? ` — ${m.lastError}` : '';
  return `${m.kind}: ${what}${why}`;
}

function itemRow(m, onChange) {
  const li = el('li', { 'data-testid': 'queue-item', dataset: { id: m.id, state: m.state } },
    el('span', { text: describe(m), title: `${describe(m)}\nqueued ${formatDate(m.enqueuedAt)}` }));
  if (m.state === 'failed') {
    li.append(el('button', { type: 'button', 'data-testid': 'retry-item', text: 'Retry' }));
    li.lastChild.addEventListener('click', async () => { await ask('retry', { id: m.id }); onChange(); });
    // Two clicks to discard: a failed capture may be the only copy of what was saved.
    const drop = el('button', { type: 'button', 'data-testid': 'discard-item', text: 'Discard' });
    drop.addEventListener('click', async () => {
      if (drop.dataset.armed) { await ask('discard', { id: m.id }); onChange(); return; }
      drop.dataset.armed = '1';
      drop.textContent = 'Sure?';
    });
    li.append(drop);
  }
  return li;
}

export async function renderQueue() {
  const st = await ask('status');
  const parts = [`${st.waiting} waiting`, `${st.failed} failed`];
  if (st.needsPairing && st.waiting) parts.push('needs pairing');
  $('queue-summary').textContent = parts.join(', ');
  const list = $('queue-list');
  list.replaceChildren(...[...st.waitingItems, ...st.failedItems].map((m) => itemRow(m, renderQueue)));
  $('retry').disabled = !(st.waiting || st.failed);
  $('export').disabled = !(st.waiting || st.failed);
  if (st.failed) $('queue-panel').open = true;
  return st;
}

export function wireQueue() {
  $('retry').addEventListener('click', async () => {
    $('retry').disabled = true;
    try { await ask('retry'); } finally { await renderQueue(); }
  });
  $('export').addEventListener('click', async () => {
    const { json } = await ask('export');
    downloadJSON(json, `kith-queue-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  });
}
