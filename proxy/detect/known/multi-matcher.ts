// One pass over a string finds every occurrence of any of many patterns, at a cost per character that does
// not grow with the number of patterns: the hash of a WINDOW-character window is looked up in a bit filter,
// and only filter hits are verified against the (few) patterns sharing that window hash.
//
// The filter is sized to the entries it holds (a few percent of its bits set), so a small identifiers file's
// filter stays in the CPU's nearest caches; a big one's cannot, and each lookup is a memory access. Either way
// the text is sampled only every STRIDE characters. A pattern of length ≥ WINDOW + STRIDE - 1 has, whatever
// its position, exactly one sampled position among its first STRIDE, with a whole window of the pattern
// there; each pattern is indexed under its windows at those STRIDE offsets. The shortest pattern sets the
// stride.

/** Patterns shorter than this are not indexed; nothing that short identifies anyone. */
export const WINDOW = 6;
/** Beyond this, fewer lookups save less than the extra filter entries cost. */
const MAX_STRIDE = 8;
const BASE = 257;
/** The filter never outgrows 2^22 bits (512 KiB) */
const MAX_FILTER_BITS = 22;
/** nor shrinks below 2^12 bits (512 bytes). */
const MIN_FILTER_BITS = 12;
/** 16 to 32 filter bits per entry (3–6% set): few lookups of text that matches nothing need a verify. */
const FILTER_BITS_PER_ENTRY_LOG2 = 4;
const MIX = 0x9e3779b1;

function windowHash(s: string, start: number): number {
  let h = 0;
  for (let i = start; i < start + WINDOW; i++) h = (Math.imul(h, BASE) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The (window hash, pattern id, offset) entries, grouped by slot of the hash in flat typed arrays: there are
 * STRIDE per pattern, hundreds of thousands for a big identifiers file, and as objects they would cost every
 * garbage collection a trace through all of them.
 */
class WindowTable {
  private readonly bits: number;
  /** entries of slot s are [first[s], first[s + 1]) */
  private readonly first: Int32Array;
  readonly hashes: Int32Array;
  readonly ids: Int32Array;
  readonly offsets: Int32Array;

  constructor(entries: readonly number[]) {
    const count = entries.length / 3;
    this.bits = Math.max(4, Math.ceil(Math.log2(count + 1)));
    this.first = new Int32Array((1 << this.bits) + 1);
    for (let e = 0; e < entries.length; e += 3) this.first[this.slot(entries[e]) + 1]++;
    for (let s = 1; s < this.first.length; s++) this.first[s] += this.first[s - 1];
    this.hashes = new Int32Array(count);
    this.ids = new Int32Array(count);
    this.offsets = new Int32Array(count);
    const fill = this.first.slice(0, -1);
    for (let e = 0; e < entries.length; e += 3) {
      const at = fill[this.slot(entries[e])]++;
      this.hashes[at] = entries[e];
      this.ids[at] = entries[e + 1];
      this.offsets[at] = entries[e + 2];
    }
  }

  slot(h: number): number {
    return Math.imul(h, MIX) >>> (32 - this.bits);
  }

  from(slot: number): number {
    return this.first[slot];
  }

  to(slot: number): number {
    return this.first[slot + 1];
  }
}

export class MultiMatcher {
  private readonly filter: Uint32Array;
  /** 32 - log2(filter bits): the hash's top bits pick its filter bit */
  private readonly shift: number;
  private readonly table: WindowTable;
  private readonly stride: number;

  /** Patterns shorter than WINDOW are ignored; callers filter them out beforehand. */
  constructor(private readonly patterns: readonly string[]) {
    let shortest = Infinity;
    for (const p of patterns) if (p.length >= WINDOW) shortest = Math.min(shortest, p.length);
    this.stride = Math.max(1, Math.min(MAX_STRIDE, shortest - WINDOW + 1));
    let indexed = 0;
    for (const p of patterns) if (p.length >= WINDOW) indexed++;
    const bits = Math.min(MAX_FILTER_BITS, Math.max(MIN_FILTER_BITS, Math.ceil(Math.log2(indexed * this.stride + 1)) + FILTER_BITS_PER_ENTRY_LOG2));
    this.filter = new Uint32Array(1 << (bits - 5));
    this.shift = 32 - bits;
    const entries: number[] = [];
    patterns.forEach((pattern, id) => {
      if (pattern.length < WINDOW) return;
      for (let offset = 0; offset < this.stride; offset++) {
        const h = windowHash(pattern, offset);
        const slot = Math.imul(h, MIX) >>> this.shift;
        this.filter[slot >>> 5] |= 1 << (slot & 31);
        entries.push(h, id, offset);
      }
    });
    this.table = new WindowTable(entries);
  }

  /**
   * Calls `onMatch(patternId, start)` for every occurrence, overlapping ones included, each once; not in
   * order of `start`.
   */
  forEach(text: string, onMatch: (id: number, start: number) => void): void {
    const n = text.length;
    if (n < WINDOW || this.patterns.length === 0) return;
    const filter = this.filter;
    const stride = this.stride;
    const shift = this.shift;
    for (let i = 0; i + WINDOW <= n; i += stride) {
      const h = windowHash(text, i);
      const slot = Math.imul(h, MIX) >>> shift;
      if ((filter[slot >>> 5] & (1 << (slot & 31))) !== 0) this.verify(text, i, h, onMatch);
    }
  }

  private verify(text: string, at: number, h: number, onMatch: (id: number, start: number) => void): void {
    const table = this.table;
    const slot = table.slot(h);
    for (let e = table.from(slot), end = table.to(slot); e < end; e++) {
      if (table.hashes[e] !== h) continue;
      const start = at - table.offsets[e];
      const id = table.ids[e];
      if (start >= 0 && text.startsWith(this.patterns[id], start)) onMatch(id, start);
    }
  }
}
