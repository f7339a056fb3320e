// Turns the companion's /v1/preview "extraction" (docs/EXTRACTION.md) into the popup's form fields.
// The profile lives in `extraction.profile`; the page title is only a fallback for the name.

export const FIELDS = ['name', 'headline', 'company', 'title', 'location', 'avatar_url'];

function text(v) {
  return v == null ? '' : String(v).trim();
}

export function fieldsFromExtraction(extraction) {
  const profile = (extraction && typeof extraction.profile === 'object' && extraction.profile) || {};
  const out = {};
  for (const field of FIELDS) out[field] = text(profile[field]);
  if (!out.name && extraction && extraction.status === 'unparsed') out.name = text(extraction.title);
  if (!/^https?:\/\//i.test(out.avatar_url)) out.avatar_url = '';
  return out;
}
