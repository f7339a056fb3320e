// Options: companion address and port, connection check, pairing and unpairing.
import { createClient, errorMessage } from './lib/client.js';
import { loadSettings, saveSettings, companionBase, validPort } from './lib/settings.js';
import { $, show, ask, hasHostAccess, requestHostAccess } from './lib/ui.js';

const storage = chrome.storage.local;
const client = createClient({ fetch: (...a) => fetch(...a), getSettings: () => loadSettings(storage) });

function setText(id, text, state) {
  $(id).textContent = text;
  if (state) $(id).dataset.state = state;
}

function browserName() {
  const ua = navigator.userAgent;
  if (/Firefox\//.test(ua)) return 'Firefox';
  if (/Edg\//.test(ua)) return 'Edge';
  if (/Chromium\//.test(ua) || /HeadlessChrome/.test(ua)) return 'Chromium';
  return 'Chrome';
}

async function render() {
  const s = await loadSettings(storage);
  $('companion-address').textContent = companionBase(s.port);
  if (document.activeElement !== $('port')) $('port').value = s.port;
  setText('pair-state', s.token ? `paired${s.tokenId != null ? ` (token #${s.tokenId})` : ''}` : 'not paired',
    s.token ? 'paired' : 'unpaired');
  show($('unpair'), !!s.token);
  return s;
}

async function checkConnection() {
  setText('connection-status', 'checking…', 'checking');
  const r = await client.ping();
  if (r.ok && r.body?.app === 'kith') {
    setText('connection-status', `connected (companion ${r.body.version || '?'}, API ${r.body.api_version})`, 'connected');
  } else if (r.ok) {
    setText('connection-status', 'something else answers on this port', 'wrong-app');
  } else {
    setText('connection-status', `not reachable: ${errorMessage(r)}`, 'down');
  }
}

async function pair(event) {
  event.preventDefault();
  const code = $('pair-code').value.trim();
  if (!code) { $('pair-code').focus(); return; }
  $('pair').disabled = true;
  setText('pair-status', 'Pairing…', 'working');
  try {
    const r = await client.pair(code, browserName());
    if (r.ok && r.body?.token) {
      await saveSettings(storage, { token: r.body.token, tokenId: r.body.token_id ?? null });
      $('pair-code').value = '';
      setText('pair-status', 'Paired. Sending anything that was waiting…', 'paired');
      const out = await ask('flush').catch(() => null);
      setText('pair-status', out ? `Paired. Sent ${out.sent} waiting capture(s).` : 'Paired.', 'paired');
    } else {
      setText('pair-status', `Pairing failed: ${errorMessage(r)}`, 'failed');
    }
  } finally {
    $('pair').disabled = false;
    await render();
  }
}

async function savePort(event) {
  event.preventDefault();
  const port = validPort($('port').value);
  if (!port) { setText('pair-status', 'Port must be a number from 1 to 65535.', 'failed'); return; }
  await saveSettings(storage, { port });
  await render();
  await checkConnection();
}

async function unpair() {
  $('unpair').disabled = true;
  try {
    // Revoke on the companion first; forget the token locally whatever happens, and say
    // when the companion could not be told (the token then stays valid until `kith token revoke`).
    const r = await client.unpair();
    await saveSettings(storage, { token: null, tokenId: null });
    const told = r.ok || r.status === 401;
    setText('pair-status', told ? 'Unpaired: the token is revoked on the companion.'
      : `Unpaired here, but the companion could not revoke the token (${errorMessage(r)}); run \`kith token revoke\`.`,
    told ? 'unpaired' : 'failed');
  } finally {
    $('unpair').disabled = false;
    await render();
  }
}

async function start() {
  $('pair-form').addEventListener('submit', pair);
  $('port-form').addEventListener('submit', savePort);
  $('unpair').addEventListener('click', unpair);
  $('check').addEventListener('click', checkConnection);
  $('perm-request').addEventListener('click', async () => {
    if (await requestHostAccess()) { show($('perm-banner'), false); checkConnection(); }
  });
  show($('perm-banner'), !(await hasHostAccess()));
  await render();
  await checkConnection();
}

start().catch((err) => setText('connection-status', `error: ${err.message}`, 'down'));
