// Companion settings (port, token) in storage.local, read fresh on every call so
// a change made by the options page is seen by the service worker at once.
export const DEFAULT_PORT = 5151;
export const SETTINGS_KEY = 'kith.settings';

export function validPort(value) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

export async function loadSettings(storage) {
  const got = await storage.get(SETTINGS_KEY);
  const s = got?.[SETTINGS_KEY] || {};
  return { port: validPort(s.port) || DEFAULT_PORT, token: s.token || null, tokenId: s.tokenId ?? null };
}

export async function saveSettings(storage, patch) {
  const current = await loadSettings(storage);
  const next = { ...current, ...patch };
  await storage.set({ [SETTINGS_KEY]: next });
  return next;
}

export function companionBase(port) {
  return `http://127.0.0.1:${port}`;
}
