// One pass over a string finds every occurrence of any of many patterns, at a cost per character that does
// not grow with the number of patterns: a rolling hash of the first WINDOW characters is looked up in a bit
// filter, and only filter hits are verified against the (few) patterns sharing that window hash.

/** Patterns shorter than this are not indexed; nothing that short identifies anyone. */
export const WINDOW = 6;
const BASE = 257;
const FILTER_BITS = 22;
const SHIFT = 32 - FILTER_BITS;
const MIX = 0x9e3779b1;

function power(base: number, exp: number): number {
  let p = 1;
  for (let i = 0; i < exp; i++) p = Math.imul(p, base);
  return p;
}
const BASE_TOP = power(BASE, WINDOW - 1);

function prefixHash(s: string, start: number): number {
  let h = 0;
  for (let i = start; i < start + WINDOW; i++) h = (Math.imul(h, BASE) + s.charCodeAt(i)) | 0;
  return h;
}

export class MultiMatcher {
  private readonly filter = new Uint32Array(1 << (FILTER_BITS - 5));
  private readonly buckets = new Map<number, number[]>();

  /** Patterns shorter than WINDOW are ignored; callers filter them out beforehand. */
  constructor(private readonly patterns: readonly string[]) {
    patterns.forEach((pattern, id) => {
      if (pattern.length < WINDOW) return;
      const h = prefixHash(pattern, 0);
      const slot = Math.imul(h, MIX) >>> SHIFT;
      this.filter[slot >>> 5] |= 1 << (slot & 31);
      const bucket = this.buckets.get(h);
      if (bucket) bucket.push(id);
      else this.buckets.set(h, [id]);
    });
  }

  /** Calls `onMatch(patternId, start)` for every occurrence, overlapping ones included. */
  forEach(text: string, onMatch: (id: number, start: number) => void): void {
    const n = text.length;
    if (n < WINDOW || this.buckets.size === 0) return;
    const filter = this.filter;
    let h = prefixHash(text, 0);
    for (let i = 0; ; i++) {
      const slot = Math.imul(h, MIX) >>> SHIFT;
      if ((filter[slot >>> 5] & (1 << (slot & 31))) !== 0) this.verify(text, i, h, onMatch);
      if (i + WINDOW >= n) return;
      h = (Math.imul(h - Math.imul(text.charCodeAt(i), BASE_TOP), BASE) + text.charCodeAt(i + WINDOW)) | 0;
    }
  }

  private verify(text: string, start: number, h: number, onMatch: (id: number, start: number) => void): void {
    const bucket = this.buckets.get(h);
    if (!bucket) return;
    for (const id of bucket) if (text.startsWith(this.patterns[id], start)) onMatch(id, start);
  }
}
