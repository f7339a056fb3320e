// Builders for /v1/captures bodies. capture_id and captured_at are added by the queue.

export const EDIT_FIELDS = ['name', 'headline', 'company', 'title', 'location', 'avatar_url', 'bio'];
export const CIRCLES = ['professional', 'personal', 'both'];

/** "a, b,, A" -> ["a", "b"]: trimmed, empty dropped, first spelling of each tag kept. */
export function parseTags(text) {
  const out = [];
  const seen = new Set();
  for (const t of String(text || '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!seen.has(t.toLowerCase())) { seen.add(t.toLowerCase()); out.push(t); }
  }
  return out;
}

/** Only fields the user changed from what was extracted, so unchanged ones keep their provenance. */
export function diffEdits(values, original = {}) {
  const edits = {};
  for (const k of EDIT_FIELDS) {
    const v = (values[k] ?? '').trim();
    if (v && v !== (original[k] ?? '').trim()) edits[k] = v;
  }
  return edits;
}

/**
 * The page as the companion stores it: zlib (CompressionStream 'deflate'), base64 for JSON.
 * A 2 MB page becomes a few hundred KB, so the runtime message, the queue's storage write
 * and the POST all move that instead; the companion inflates it in its worker and keeps
 * these very bytes as the raw capture (docs/PROTOCOL.md, `html_z`).
 */
export async function deflateBase64(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** `page.htmlZ` (from deflateBase64) is sent instead of `page.html` when present. */
export function profileCapture({ page, values = {}, original = {}, circle, tags, howMet, note }) {
  const c = { kind: 'profile', url: page.url, title: page.title || undefined };
  if (page.htmlZ) c.html_z = page.htmlZ;
  else c.html = page.html;
  const edits = diffEdits(values, original);
  if (Object.keys(edits).length) c.edits = edits;
  if (CIRCLES.includes(circle)) c.circle = circle;
  const tagList = parseTags(tags);
  if (tagList.length) c.tags = tagList;
  if (howMet?.trim()) c.how_met = howMet.trim();
  if (note?.trim()) c.note = note.trim();
  return c;
}

export function messageCapture({ selection, pageHtml, pageUrl }) {
  const c = { kind: 'message', url: pageUrl || selection.url, title: selection.title || undefined, text: selection.text };
  if (selection.html) c.html = selection.html;
  if (pageHtml) c.page_html = pageHtml;
  return c;
}

export function noteCapture({ text, url, contactId, title }) {
  const c = { kind: 'note', text: text.trim() };
  if (contactId != null) c.contact_id = contactId;
  if (url) c.url = url;
  if (title) c.title = title;
  return c;
}

export function interactionCapture({ url, contactId, interactionKind = 'met', summary, happenedAt }) {
  const c = { kind: 'interaction', interaction_kind: interactionKind };
  if (contactId != null) c.contact_id = contactId;
  if (url) c.url = url;
  if (summary?.trim()) c.summary = summary.trim();
  if (happenedAt) c.happened_at = happenedAt;
  return c;
}
