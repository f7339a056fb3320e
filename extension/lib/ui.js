// Small DOM and messaging helpers shared by the popup and the options page.
// Text only ever goes in through textContent: extracted data is untrusted page content.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** Ask the background (service worker) to do something; resolves with its value or throws. */
export async function ask(type, payload = {}) {
  const reply = await chrome.runtime.sendMessage({ type, ...payload });
  if (!reply) throw new Error('no answer from the extension background');
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(typeof iso === 'number' ? iso : String(iso));
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

// The companion is always addressed as 127.0.0.1 (lib/settings.js); no other host is asked for.
export const COMPANION_ORIGINS = ['http://127.0.0.1/*'];

/** Firefox before 127 does not grant MV3 host permissions at install: check, and let the user grant. */
export async function hasHostAccess() {
  try {
    return await chrome.permissions.contains({ origins: COMPANION_ORIGINS });
  } catch {
    return true; // an API we cannot ask is not a reason to block the UI
  }
}

export const requestHostAccess = () => chrome.permissions.request({ origins: COMPANION_ORIGINS });

export function downloadJSON(json, name) {
  const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
