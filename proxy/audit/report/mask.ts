// Identifier values as the report prints them: every letter and digit hidden but the last few, so a reader can
// match a value against the phone's without the report handing it on.

const ALNUM = /[\p{L}\p{N}]/u;

/** `865123456789012` → `•••••••••••9012`; separators stay, so a phone number keeps its shape. */
export function mask(value: string, keep = 4): string {
  const chars = [...value];
  const total = chars.filter((c) => ALNUM.test(c)).length;
  const shown = Math.min(keep, Math.floor(total / 2));
  let seen = 0;
  return chars
    .map((c) => {
      if (!ALNUM.test(c)) return c;
      seen++;
      return seen > total - shown ? c : '•';
    })
    .join('');
}

/** `text` with each value's plain and URL-encoded occurrences masked (a request line, before it is printed). */
export function maskIn(text: string, values: Iterable<string>): string {
  let out = text;
  const forms = new Map<string, string>();
  for (const v of values) {
    if (v.length < 4) continue;
    forms.set(v, mask(v));
    const encoded = encodeURIComponent(v);
    if (encoded !== v) forms.set(encoded, mask(v));
  }
  // Longest first, so a value inside another is not masked half-way.
  for (const [form, masked] of [...forms].sort((x, y) => y[0].length - x[0].length)) out = out.split(form).join(masked);
  return out;
}
