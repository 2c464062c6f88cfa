// Locating a finding at its place: JSON/form paths as segments, and substring ranges to mark.

export type Segment = string | number;

/** `$.a.b[0]['c.d']` → ['a','b',0,'c.d']. Plain `a.b` (form / query keys) works too. */
export function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  let cur = '';
  const flush = () => {
    if (cur !== '') out.push(cur);
    cur = '';
  };
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      flush();
      i++;
    } else if (c === '[' && (path[i + 1] === '"' || path[i + 1] === "'")) {
      // A quoted key: `["a.b]c"]` (JSON string escapes) or `['a.b']`.
      flush();
      const q = path[i + 1];
      let j = i + 2;
      while (j < path.length && !(path[j] === q && path[j + 1] === ']')) j += path[j] === '\\' ? 2 : 1;
      const literal = path.slice(i + 1, j + 1);
      let key = literal.slice(1, -1);
      if (q === '"') {
        try {
          key = JSON.parse(literal) as string;
        } catch {
          /* keep it raw */
        }
      }
      out.push(key);
      i = j + 2;
    } else if (c === '[') {
      flush();
      const end = path.indexOf(']', i);
      if (end < 0) {
        cur += path.slice(i);
        break;
      }
      const inner = path.slice(i + 1, end);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else out.push(inner);
      i = end + 1;
    } else {
      cur += c;
      i++;
    }
  }
  flush();
  return out;
}

export function pathKey(segs: Segment[]): string {
  return segs.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
}

/** Every path present in a parsed JSON value (objects, arrays and leaves). */
export function collectPaths(value: unknown, prefix: Segment[] = [], out = new Set<string>()): Set<string> {
  out.add(pathKey(prefix));
  if (Array.isArray(value)) value.forEach((v, i) => collectPaths(v, [...prefix, i], out));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) collectPaths(v, [...prefix, k], out);
  return out;
}

/** The deepest prefix of `path` present in `present` (a finding inside an encoded string lands on that string). */
export function locate(path: string, present: Set<string>): string | undefined {
  const segs = parsePath(path);
  for (let n = segs.length; n >= 1; n--) {
    const key = pathKey(segs.slice(0, n));
    if (present.has(key)) return key;
  }
  return undefined;
}

export interface Range {
  start: number;
  end: number;
  tags: number[];
}

/**
 * Ranges of `text` to mark for the findings `tags` (indices into the flow's findings) with their values.
 * A value that occurs literally is marked where it occurs; one that does not (hashed, encoded) marks the whole text,
 * since the finding's path already says it is in here.
 */
export function markRanges(text: string, items: { tag: number; value: string }[], wholeIfMissing = true): Range[] {
  const ranges: Range[] = [];
  const lower = text.toLowerCase();
  for (const { tag, value } of items) {
    const needle = value.toLowerCase();
    let found = false;
    if (needle.length > 0) {
      let at = lower.indexOf(needle);
      while (at >= 0) {
        found = true;
        ranges.push({ start: at, end: at + needle.length, tags: [tag] });
        at = lower.indexOf(needle, at + needle.length);
      }
    }
    if (!found && wholeIfMissing) ranges.push({ start: 0, end: text.length, tags: [tag] });
  }
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  // Merge overlaps so every character is in at most one <mark>.
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start < last.end) {
      last.end = Math.max(last.end, r.end);
      for (const t of r.tags) if (!last.tags.includes(t)) last.tags.push(t);
    } else merged.push({ ...r, tags: [...r.tags] });
  }
  return merged;
}
